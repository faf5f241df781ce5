"""Files that silently enter or leave a corpus: links, special files, names, sizes, compressed bombs.

Every file a folder holds is either read, ignored as junk (hidden, lock files), or left out with a
warning naming it and a line in the manifest; a run never opens a FIFO or follows a link forever.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import threading

import pytest

from analysis.cli import main
from analysis.corpus import Corpus, CorpusWarning
from analysis.errors import AnalysisError
from analysis.listing import list_folder

pytestmark = pytest.mark.filterwarnings("default::analysis.corpus.CorpusWarning")

TEXT = "Rivers carry water to the sea. The delta grows with every flood.\n"


def _folder(root):
    root.mkdir(parents=True)
    (root / "a.txt").write_text(TEXT, encoding="utf-8")
    (root / "b.txt").write_text(TEXT.replace("Rivers", "Streams"), encoding="utf-8")
    return root


def _ids(corpus: Corpus) -> list[str]:
    return [doc.doc_id for doc in corpus]


def _figures(corpus, out, tmp_path, *extra) -> int:
    return main(["figures", "--corpus", str(corpus), "--only", "top-terms", "--out", str(out), "--formats", "png",
                 "--dpi", "40", "--cache-dir", str(tmp_path / "cache"), *extra])


def test_broken_and_looping_links_and_special_files_are_left_out_unopened(tmp_path, capsys, monkeypatch):
    root = _folder(tmp_path / "c")
    (root / "gone.txt").symlink_to(root / "missing.txt")
    (root / "loop.txt").symlink_to(root / "loop2.txt")
    (root / "loop2.txt").symlink_to(root / "loop.txt")
    os.mkfifo(root / "pipe.txt")  # opening it would block the run for ever
    (root / "folder.txt").mkdir()
    (root / "folder.txt" / "inside.txt").write_text("A folder named like a file is a folder.\n", encoding="utf-8")
    (root / "up").symlink_to(root)  # a folder that holds itself
    monkeypatch.chdir(tmp_path)



    def feed_the_pipe():  # blocks until a reader opens the FIFO, which a correct run never does
        with open(root / "pipe.txt", "w", encoding="utf-8") as pipe:
            pipe.write("Text that only a run that opened the FIFO would read.\n")

    threading.Thread(target=feed_the_pipe, daemon=True).start()
    assert _figures(root, tmp_path / "out", tmp_path) == 0
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "file(s) not read:" in line)
    assert line.startswith(f"corpus-analysis: warning: {root}: 5 file(s) not read: ")
    for name, why in (("gone.txt", "a broken symbolic link"), ("loop.txt", "a symbolic link that loops"),
                      ("pipe.txt", "a FIFO (named pipe), not opened"), ("up", "a symbolic link to a folder already read")):
        assert f"'{name}' ({why})" in line
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["corpus"]["left_out"] == {
        "gone.txt": "a broken symbolic link", "loop.txt": "a symbolic link that loops",
        "loop2.txt": "a symbolic link that loops", "pipe.txt": "a FIFO (named pipe), not opened",
        "up": "a symbolic link to a folder already read"}
    assert sorted(manifest["corpus"]["files"]) == ["a.txt", "b.txt", "folder.txt/inside.txt"]


def test_links_out_of_the_corpus_are_read_and_recorded_with_their_real_path(tmp_path, capsys, monkeypatch):
    root = _folder(tmp_path / "c")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "shelf").mkdir(parents=True)
    (elsewhere / "far.txt").write_text("Lakes hold water far from the sea.\n", encoding="utf-8")
    (elsewhere / "shelf" / "book.txt").write_text("A book about glaciers and ice.\n", encoding="utf-8")
    (root / "far.txt").symlink_to(elsewhere / "far.txt")
    (root / "shelf").symlink_to(elsewhere / "shelf")
    (root / "near.txt").symlink_to(root / "a.txt")  # inside: read, not reported
    monkeypatch.chdir(tmp_path)
    assert _figures(root, tmp_path / "out", tmp_path) == 0
    err = capsys.readouterr().err
    assert (f"{root}: 2 symbolic link(s) lead out of the corpus folder (read; the manifest records where): "
            f"'far.txt' -> '{elsewhere / 'far.txt'}', 'shelf' -> '{elsewhere / 'shelf'}'") in err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["corpus"]["links_outside"] == {"far.txt": str(elsewhere / "far.txt"),
                                                    "shelf": str(elsewhere / "shelf")}
    assert sorted(manifest["corpus"]["files"]) == ["a.txt", "b.txt", "far.txt", "near.txt", "shelf/book.txt"]


def test_ids_that_differ_only_in_case_are_warned_about(tmp_path):
    root = _folder(tmp_path / "c")
    (root / "A.txt").write_text("Upper case name.\n", encoding="utf-8")
    (root / "Notes").mkdir()
    (root / "notes").mkdir()
    (root / "Notes" / "x.md").write_text("One.\n", encoding="utf-8")
    (root / "notes" / "X.txt").write_text("Two.\n", encoding="utf-8")
    with pytest.warns(CorpusWarning, match=r"2 document id\(s\) differ from another only in case \('A' / 'a', "
                                           r"'Notes/x' / 'notes/X'\): distinct documents here, one file on Windows"):
        assert _ids(Corpus(root)) == ["A", "Notes/x", "a", "b", "notes/X"]


def test_a_file_above_the_size_limit_is_left_out_unread(tmp_path, capsys, monkeypatch):
    root = _folder(tmp_path / "c")
    (root / "dump.txt").write_bytes(b"x" * 3_000_000)
    listing = list_folder(root, max_file_bytes=2**20)
    assert listing.left_out == {"dump.txt": "3 MB, above the size limit of 1 MB (max_file_mb)"}
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(root), "--no-cache", "--max-file-mb", "1"]) == 0
    captured = capsys.readouterr()
    assert "documents: 2" in captured.out
    assert "'dump.txt' (3 MB, above the size limit of 1 MB (max_file_mb))" in captured.err
    assert main(["info", "--corpus", str(root), "--no-cache"]) == 0  # the default reads it
    assert "documents: 3" in capsys.readouterr().out


def test_a_jsonl_gz_that_decompresses_past_the_cap_is_refused_naming_the_cap(tmp_path, capsys, monkeypatch):
    bomb = tmp_path / "bomb.jsonl.gz"
    record = json.dumps({"id": "1", "text": TEXT}) + "\n"
    with gzip.open(bomb, "wt", encoding="utf-8") as handle:
        handle.write(record * 40_000)  # 3 MB of text from a few kilobytes
    assert bomb.stat().st_size < 100_000
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(bomb), "--no-cache", "--max-decompressed-gb", "0.001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [(f"corpus-analysis: error: {bomb}: decompresses to more than 0.001 GB (max_decompressed_gb); "
                    "raise the limit or split the file")]


def test_a_jsonl_line_longer_than_the_limit_is_refused_before_it_fills_memory(tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "one-line.jsonl"
    corpus.write_text(json.dumps({"id": "1", "text": TEXT}) + "\n" + json.dumps({"id": "2", "text": "w " * 600_000}),
                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(corpus), "--no-cache", "--max-file-mb", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"corpus-analysis: error: {corpus}: line 2 is longer than 1 MB (max_file_mb); is this JSON Lines, one record per line?"]
    assert main(["info", "--corpus", str(corpus), "--no-cache"]) == 0


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    root = _folder(tmp_path / "c")
    name = b"caf\xe9.txt"  # latin-1 bytes on a UTF-8 system
    with open(os.path.join(os.fsencode(root), name), "wb") as handle:
        handle.write(TEXT.encode("utf-8"))
    monkeypatch.chdir(tmp_path)
    for command in (["terms"], ["figures", "--only", "top-terms", "--formats", "png", "--out", str(tmp_path / "o")]):
        assert main([*command, "--corpus", str(root), "--no-cache"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"corpus-analysis: error: {root}/caf\\xe9.txt: the file name is not valid UTF-8; rename the file"]
    assert not (tmp_path / "o").exists()
    with pytest.raises(AnalysisError, match="not valid UTF-8"):
        list(Corpus(root))


def test_not_text_files_are_recorded_in_the_manifest_and_warned_about_again_from_the_cache(tmp_path, capsys,
                                                                                          monkeypatch):
    root = _folder(tmp_path / "c")
    (root / "scan.txt").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    (root / "slides.pptx").write_bytes(b"PK\x03\x04")
    monkeypatch.chdir(tmp_path)
    for run in ("build", "cache"):
        assert _figures(root, tmp_path / f"out-{run}", tmp_path) == 0
        err = capsys.readouterr().err
        assert "scan.txt" in err and "a PDF document, not text" in err, run
        assert f"{root}: 1 file(s) not read, not .txt/.md: 'slides.pptx'" in err, run
        manifest = json.loads((tmp_path / f"out-{run}" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["corpus"]["left_out"] == {"scan.txt": "a PDF document, not text",
                                                  "slides.pptx": "not .txt/.md"}, run


def _formula_cells(folder) -> list[str]:
    """Text cells of every CSV in ``folder`` that a spreadsheet would run as a formula (numbers excepted)."""
    import csv

    found = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    try:
                        float(cell)
                        continue
                    except ValueError:
                        pass
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        found.append(f"{path.name}: {cell}")
    return found


def test_excel_safe_prefixes_every_cell_a_spreadsheet_would_run(tmp_path, capsys, monkeypatch):
    root = tmp_path / "c"
    root.mkdir()
    for name, word in zip(("=HYPERLINK(1)", "+cmd", "@SUM(A1)", "-rm", "plain"),
                          ("glacier", "canyon", "marsh", "estuary", "lagoon")):
        (root / f"{name}.txt").write_text(f"{TEXT}Water rises near the {word} {word} {word}.\n-Rivers flood the "
                                          f"delta.\n=1+1 rivers -2 @cmd\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    figures = ["--only", "top-terms,term-document-heatmap,keyness,document-structure,reuse-matrix"]
    assert _figures(root, tmp_path / "raw", tmp_path, *figures) == 0
    raw = _formula_cells(tmp_path / "raw")
    assert "term-document-heatmap.csv: =HYPERLINK(1)" in raw and "term-document-heatmap.csv: -rm" in raw
    assert _figures(root, tmp_path / "safe", tmp_path, *figures, "--excel-safe") == 0
    assert _formula_cells(tmp_path / "safe") == []
    heatmap = (tmp_path / "safe" / "term-document-heatmap.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in heatmap and "'@SUM(A1)" in heatmap and "\nplain," in heatmap
    keyness = (tmp_path / "safe" / "keyness.csv").read_text(encoding="utf-8")
    assert ",-" in keyness  # negative G2 and log ratios stay numbers
    assert main(["kwic", "rivers", "--corpus", str(root), "--out", str(tmp_path / "kwic.csv"), "--excel-safe",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    assert _formula_cells(tmp_path) == [] and "'-2 @cmd" in (tmp_path / "kwic.csv").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "safe" / "manifest.json").read_text(encoding="utf-8"))["settings"]["excel_safe"]
