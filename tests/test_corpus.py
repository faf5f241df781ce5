"""Reading corpora (analysis.corpus): folders, tables, encodings, metadata."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.results import analyze
from analysis.config import Settings
from analysis.corpus import Corpus, CorpusWarning, blocks_table, decode_bytes, normalize_newlines
from analysis.errors import AnalysisError


def _ids(corpus) -> list[str]:
    return [doc.doc_id for doc in corpus]


# -- the seed corpus ------------------------------------------------------------

def test_seed_corpus_documents(seed_corpus, seed_ids):
    corpus = Corpus(seed_corpus)
    docs = list(corpus)
    assert [d.doc_id for d in docs] == list(seed_ids)
    for doc in docs:
        assert doc.source == str(seed_corpus / f"{doc.doc_id}.txt")
        assert doc.metadata == {"folder": ""}
        assert "\r" not in doc.text and not doc.text.startswith("\ufeff")
        assert doc.text == (seed_corpus / f"{doc.doc_id}.txt").read_text(encoding="utf-8")
    assert _ids(corpus) == list(seed_ids)  # re-iterable


def test_seed_file_hashes(seed_corpus, seed_ids):
    hashes = Corpus(seed_corpus).file_hashes()
    assert sorted(hashes) == [f"{i}.txt" for i in seed_ids]
    for name, digest in hashes.items():
        assert digest == hashlib.sha256((seed_corpus / name).read_bytes()).hexdigest()


def test_from_settings_passes_every_option(tmp_path, write_file):
    write_file(tmp_path / "c.csv", "doc,body\nx,hello there\n")
    corpus = Corpus.from_settings(Settings(corpus=tmp_path / "c.csv", text_column="body", id_column="doc"))
    assert [(d.doc_id, d.text) for d in corpus] == [("x", "hello there")]


def test_blocks_table_of_seed(seed_corpus):
    table = blocks_table(Corpus(seed_corpus))
    assert list(table.columns) == ["doc_id", "block", "role", "section", "section_title", "start", "end", "n_chars", "text"]
    assert (table["n_chars"] == table["text"].str.len()).all()
    assert (table.groupby("doc_id")["role"].first() == "summary").all()
    assert (table.groupby("doc_id")["role"].last() == "conclusion").all()


# -- folders ----------------------------------------------------------------------

def test_folder_is_read_recursively_and_sorted(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "b.txt", "bee")
    write_file(root / "a.txt", "ay")
    write_file(root / "notes.md", "markdown note")
    write_file(root / "interviews" / "site-a" / "004.txt", "interview four")
    write_file(root / "interviews" / "site-a" / "002.TXT", "upper-case suffix")
    write_file(root / "zeta" / "x.txt", "zed")
    corpus = Corpus(root)
    docs = list(corpus)
    assert [d.doc_id for d in docs] == ["a", "b", "interviews/site-a/002", "interviews/site-a/004", "notes", "zeta/x"]
    by_id = {d.doc_id: d for d in docs}
    assert by_id["interviews/site-a/004"].metadata == {"folder": "interviews"}
    assert by_id["zeta/x"].metadata["folder"] == "zeta"
    assert by_id["a"].metadata["folder"] == ""
    assert by_id["notes"].text == "markdown note"
    assert by_id["interviews/site-a/004"].source == str(root / "interviews" / "site-a" / "004.txt")
    assert [p.relative_to(root).as_posix() for p in corpus.files()] == [
        "a.txt", "b.txt", "interviews/site-a/002.TXT", "interviews/site-a/004.txt", "notes.md", "zeta/x.txt",
    ]


def test_hidden_files_and_editor_junk_are_ignored(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "keep.txt", "kept")
    for junk in (".hidden.txt", ".git/HEAD.txt", ".cache/sub/x.txt", "x.txt~", ".#x.txt", "#x.txt#",
                 "sub/.#y.md", "__pycache__/z.txt", "readme.rst", "data.csv", "image.png"):
        write_file(root / junk, "junk")
    corpus = Corpus(root)
    with pytest.warns(CorpusWarning, match="3 file\\(s\\) not read, not .txt/.md: 'data.csv', 'image.png', 'readme.rst'"):
        assert _ids(corpus) == ["keep"]  # other suffixes are named; hidden files and junk are not
    assert [p.name for p in corpus.files()] == ["keep.txt"]


def test_corpus_inside_a_hidden_folder_is_read(tmp_path, write_file):
    root = tmp_path / ".work" / "corpus"
    write_file(root / "a.txt", "inside a hidden parent")
    write_file(root / ".b.txt", "hidden itself")
    assert _ids(Corpus(root)) == ["a"]


def test_bom_is_dropped_and_line_endings_normalised(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "bom.txt", b"\xef\xbb\xbfFirst line\r\nsecond line\r\n")
    write_file(root / "cr.txt", b"old mac\rline two\r")
    write_file(root / "mixed.txt", b"a\r\nb\rc\nd")
    texts = {d.doc_id: d.text for d in Corpus(root)}
    assert texts == {"bom": "First line\nsecond line\n", "cr": "old mac\nline two\n", "mixed": "a\nb\nc\nd"}


def test_crlf_document_has_the_same_blocks_as_lf(tmp_path, write_file, seed_corpus):
    source = (seed_corpus / "000_2b6ec66f88ad0ee6.txt").read_bytes()
    write_file(tmp_path / "lf" / "doc.txt", source)
    write_file(tmp_path / "crlf" / "doc.txt", source.replace(b"\n", b"\r\n"))
    lf, = Corpus(tmp_path / "lf")
    crlf, = Corpus(tmp_path / "crlf")
    assert crlf.text == lf.text
    assert crlf.blocks == lf.blocks
    for b in crlf.blocks:
        assert b.text in crlf.text[b.start : b.end]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a\r\nb", "a\nb"), ("a\rb", "a\nb"), ("a\r\r\nb", "a\n\nb"), ("a\n\rb", "a\n\nb"), ("plain", "plain")],
)
def test_normalize_newlines(text, expected):
    assert normalize_newlines(text) == expected


def test_invalid_utf8_names_file_and_byte_and_suggests_encoding(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "good.txt", "fine")
    bad = write_file(root / "bad.txt", b"Caf\xe9 au lait")  # cp1252/latin-1 e-acute at byte 3
    with pytest.raises(AnalysisError) as info:
        list(Corpus(root))
    message = str(info.value)
    assert str(bad) in message
    assert "byte 3" in message
    assert "--encoding" in message
    assert "\n" not in message
    # with the suggested encoding the file reads
    texts = {d.doc_id: d.text for d in Corpus(root, encoding="cp1252")}
    assert texts["bad"] == "Caf\u00e9 au lait"


def test_invalid_utf8_byte_offset_counts_a_bom(tmp_path):
    """The reported offset is the byte position in the file, BOM included."""
    data = b"\xef\xbb\xbfabc\xffdef"  # the bad byte is at offset 6 of the file
    with pytest.raises(AnalysisError, match=r"at byte 6\b"):
        decode_bytes(data, "utf-8", "f.txt")


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b"\xff", 0), (b"ok \x81 here", 3), ("\u00e9t\u00e9 ".encode() + b"\xe9", 6), (b"abc\xc3", 3)],
    ids=["first byte", "middle", "after multibyte characters", "character cut off at the end"],
)
def test_decode_bytes_reports_byte_offset(data, offset):
    with pytest.raises(AnalysisError, match=rf"f\.txt: not valid utf-8 at byte {offset}\b"):
        decode_bytes(data, "utf-8", "f.txt")


@pytest.mark.parametrize("name", ["big.csv", "big.jsonl", "big.jsonl.gz"])
def test_invalid_utf8_in_a_large_table_reports_the_file_offset(tmp_path, name):
    """Readers decode in buffered chunks; the offset must still be the byte's position in the file."""
    if name.endswith(".csv"):
        rows = b"id,text\n" + b"".join(b"%d,row number %d\n" % (i, i) for i in range(20_000))
        data = rows + b"bad,caf\xe9\n"
    else:
        rows = b"".join(b'{"id": "%d", "text": "row number %d"}\n' % (i, i) for i in range(20_000))
        data = rows + b'{"id": "bad", "text": "caf\xe9"}\n'
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    offset = data.index(b"\xe9")
    with pytest.raises(AnalysisError, match=rf"{re.escape(str(path))}: not valid utf-8 at byte {offset} "):
        list(Corpus(path))


def test_decode_bytes_with_other_encodings():
    assert decode_bytes(b"caf\xe9\r\n", "latin-1", "f") == "caf\u00e9\n"
    assert decode_bytes("\u00e9".encode("utf-16"), "utf-16", "f") == "\u00e9"
    # a BOM is dropped for either spelling of UTF-8
    assert decode_bytes(b"\xef\xbb\xbfx", "UTF_8", "f") == "x"
    assert decode_bytes(b"\xef\xbb\xbfx", "utf8", "f") == "x"


def test_empty_file_warns_and_is_skipped(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "a.txt", "content")
    empty = write_file(root / "empty.txt", "")
    write_file(root / "blank.txt", " \n\t\n")
    with pytest.warns(CorpusWarning) as record:
        ids = _ids(Corpus(root))
    assert ids == ["a"]
    messages = [str(w.message) for w in record]
    assert any(str(empty) in m and "empty" in m for m in messages)
    assert len(messages) == 2


def test_all_empty_corpus_raises(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "a.txt", "")
    with pytest.warns(CorpusWarning, match="empty"):
        with pytest.raises(AnalysisError, match="corpus is empty"):
            list(Corpus(root))


def test_folder_without_documents_raises(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "notes.rst", "not a corpus file")
    with pytest.raises(AnalysisError, match="empty") as info, pytest.warns(CorpusWarning, match="'notes.rst'"):
        list(Corpus(root))
    assert str(root) in str(info.value)


def test_missing_path_raises(tmp_path):
    with pytest.raises(AnalysisError, match="not found") as info:
        Corpus(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)


def test_unsupported_corpus_file_raises(tmp_path, write_file):
    path = write_file(tmp_path / "corpus.docx", b"PK")
    with pytest.raises(AnalysisError, match="unsupported"):
        Corpus(path)


def test_duplicate_ids_raise(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "a.txt", "text one")
    write_file(root / "a.md", "text two")
    with pytest.raises(AnalysisError, match="duplicate document id 'a'") as info:
        list(Corpus(root))
    assert "a.txt" in str(info.value) and "a.md" in str(info.value)


def test_reading_does_not_modify_the_folder(tmp_path, write_file, snapshot):
    root = tmp_path / "c"
    write_file(root / "001.txt", "Summary.\nIntro.\n- A\n- B\nA\nText a.\nB\nText b.\nMore b.\nEnd.")
    write_file(root / "sub" / "002.md", b"\xef\xbb\xbfcrlf\r\ntext\r\n")
    write_file(root / "metadata.csv", "id,year\n001,2020\nsub/002,2021\n")
    before = snapshot(root)
    corpus = Corpus(root)
    list(corpus)
    corpus.file_hashes()
    blocks_table(corpus)
    analyze(Settings(corpus=root, phrase_min_count=1))
    assert snapshot(root) == before


# -- tables ---------------------------------------------------------------------------

TABLE = pd.DataFrame({
    "doc": ["001", "002", "010"],
    "body": ["First text about kratom.", "Second text\r\nwith two lines.", "Third text."],
    "year": ["2020", "2021", "2022"],
})


def _write_table(path: Path, fmt: str, frame: pd.DataFrame = TABLE) -> Path:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")), encoding="utf-8")
    elif fmt == "jsonl.gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")))
    elif fmt == "parquet":
        frame.to_parquet(path, index=False, engine="pyarrow")
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "jsonl.gz", "parquet"])
def test_table_formats_with_text_and_id_columns(tmp_path, fmt):
    path = _write_table(tmp_path / f"corpus.{fmt}", fmt)
    docs = list(Corpus(path, text_column="body", id_column="doc"))
    assert [d.doc_id for d in docs] == ["001", "002", "010"]  # strings, zeros kept
    assert all(isinstance(d.doc_id, str) for d in docs)
    assert docs[1].text == "Second text\nwith two lines."
    assert docs[0].metadata == {"year": "2020"}
    assert docs[0].source == f"{path}: row 1"
    assert Corpus(path).file_hashes() == {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_table_without_id_column_uses_row_numbers(tmp_path, fmt):
    path = _write_table(tmp_path / f"corpus.{fmt}", fmt, TABLE[["body"]].rename(columns={"body": "text"}))
    assert _ids(Corpus(path)) == ["1", "2", "3"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_table_missing_text_column_names_file_and_column(tmp_path, fmt):
    path = _write_table(tmp_path / f"corpus.{fmt}", fmt)
    with pytest.raises(AnalysisError) as info:
        list(Corpus(path, text_column="content", id_column="doc"))
    message = str(info.value)
    assert str(path) in message and "'content'" in message
    assert "body" in message  # lists what was found
    assert "\n" not in message


def test_table_missing_custom_id_column_raises(tmp_path):
    path = _write_table(tmp_path / "corpus.csv", "csv")
    with pytest.raises(AnalysisError, match="missing id in column 'ident'"):
        list(Corpus(path, text_column="body", id_column="ident"))


def test_jsonl_numeric_ids_become_strings(tmp_path, write_file):
    path = write_file(tmp_path / "c.jsonl", '{"id": 7, "text": "seven"}\n{"id": "007", "text": "zero zero seven"}\n')
    assert _ids(Corpus(path)) == ["7", "007"]


def test_jsonl_bad_line_names_line_number(tmp_path, write_file):
    path = write_file(tmp_path / "c.jsonl", '{"id": "a", "text": "one"}\n\n{"id": "b", "text": oops}\n')
    with pytest.raises(AnalysisError, match=r"line 3 is not valid JSON") as info:
        list(Corpus(path))
    assert str(path) in str(info.value)


def test_jsonl_line_that_is_not_an_object(tmp_path, write_file):
    path = write_file(tmp_path / "c.jsonl", '{"id": "a", "text": "one"}\n["b", "two"]\n')
    with pytest.raises(AnalysisError, match="line 2 is not a JSON object"):
        list(Corpus(path))


def test_corrupt_gzip_raises_analysis_error(tmp_path, write_file):
    path = write_file(tmp_path / "c.jsonl.gz", b"this is not gzip")
    with pytest.raises(AnalysisError, match="cannot read"):
        list(Corpus(path))


def test_corrupt_parquet_raises_analysis_error(tmp_path, write_file):
    path = write_file(tmp_path / "c.parquet", b"not parquet at all")
    with pytest.raises(AnalysisError, match="not a readable Parquet"):
        list(Corpus(path))


def test_duplicate_ids_in_a_table_raise(tmp_path, write_file):
    path = write_file(tmp_path / "c.csv", "id,text\n1,a\n1,b\n")
    with pytest.raises(AnalysisError, match="duplicate document id '1'"):
        list(Corpus(path))


def test_empty_cell_in_a_table_warns(tmp_path, write_file):
    path = write_file(tmp_path / "c.csv", 'id,text\n1,a\n2,""\n')
    with pytest.warns(CorpusWarning, match="row 2: empty document"):
        assert _ids(Corpus(path)) == ["1"]


def test_csv_with_other_encoding(tmp_path, write_file):
    path = write_file(tmp_path / "c.csv", "id,text\n1,caf\u00e9\n", encoding="cp1252")
    with pytest.raises(AnalysisError, match="--encoding"):
        list(Corpus(path))
    assert [d.text for d in Corpus(path, encoding="cp1252")] == ["caf\u00e9"]


# -- metadata --------------------------------------------------------------------------

def _folder_with_metadata(root: Path, write_file, metadata: str) -> Path:
    write_file(root / "001.txt", "first document")
    write_file(root / "002.txt", "second document")
    write_file(root / "metadata.csv", metadata)
    return root


def test_metadata_csv_joins_on_string_ids(tmp_path, write_file):
    root = _folder_with_metadata(tmp_path / "c", write_file, "id,year,site\n001,2020,a\n002,2021,b\n")
    corpus = Corpus(root)
    docs = {d.doc_id: d for d in corpus}
    assert sorted(docs) == ["001", "002"]  # metadata.csv is not a document
    assert docs["001"].metadata == {"folder": "", "year": "2020", "site": "a"}
    assert docs["002"].metadata["year"] == "2021"
    assert corpus.files()[-1] == root / "metadata.csv"
    assert "metadata.csv" in corpus.file_hashes()


def test_metadata_id_column_can_be_doc_id(tmp_path, write_file):
    root = _folder_with_metadata(tmp_path / "c", write_file, "doc_id,year\n001,2020\n002,2021\n")
    assert {d.doc_id: d.metadata["year"] for d in Corpus(root)} == {"001": "2020", "002": "2021"}


def test_metadata_duplicate_ids_warn_and_first_row_wins(tmp_path, write_file):
    root = _folder_with_metadata(tmp_path / "c", write_file, "id,year\n001,2020\n001,1999\n002,2021\n")
    with pytest.warns(CorpusWarning, match="duplicate ids '001'"):
        docs = {d.doc_id: d for d in Corpus(root)}
    assert docs["001"].metadata["year"] == "2020"


def test_metadata_unmatched_ids_warn_both_ways(tmp_path, write_file):
    root = _folder_with_metadata(tmp_path / "c", write_file, "id,year\n001,2020\n999,2021\n")
    with pytest.warns(CorpusWarning) as record:
        docs = {d.doc_id: d for d in Corpus(root)}
    messages = [str(w.message) for w in record]
    assert any("match no document" in m and "'999'" in m for m in messages)
    assert any("no metadata row" in m and "'002'" in m for m in messages)
    assert docs["002"].metadata == {"folder": ""}


def test_metadata_without_id_column_raises(tmp_path, write_file):
    root = _folder_with_metadata(tmp_path / "c", write_file, "name,year\n001,2020\n")
    with pytest.raises(AnalysisError, match="no id column"):
        list(Corpus(root))


def test_explicit_metadata_file(tmp_path, write_file):
    root = tmp_path / "c"
    write_file(root / "001.txt", "first document")
    meta = write_file(tmp_path / "elsewhere.csv", "id,year\n001,2020\n")
    assert next(iter(Corpus(root, metadata=meta))).metadata["year"] == "2020"
    with pytest.raises(AnalysisError, match="metadata file not found"):
        Corpus(root, metadata=tmp_path / "missing.csv")


def test_metadata_joins_table_corpora(tmp_path, write_file):
    path = _write_table(tmp_path / "c.csv", "csv")
    meta = write_file(tmp_path / "meta.csv", "doc,group\n001,x\n002,y\n010,z\n")
    docs = list(Corpus(path, text_column="body", id_column="doc", metadata=meta))
    assert [d.metadata["group"] for d in docs] == ["x", "y", "z"]


def test_seed_ids_look_like_the_file_names(seed_corpus):
    for doc in Corpus(seed_corpus):
        assert re.fullmatch(r"\d{3}_[0-9a-f]{16}", doc.doc_id)
