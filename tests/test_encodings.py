"""Encoding policies on a folder mixing UTF-8, cp1252 and UTF-16 files: a guess is never applied to
the whole corpus."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.corpus import Corpus
from analysis.errors import AnalysisError
from analysis.prepared import prepare

UTF8_TEXT = "The price rose to £5 at the café; naïve buyers paid more.\n"
CP1252_TEXT = ("Prices in the café were quoted in £ and € alike; the naïve reader saw “quotes” and "
               "a résumé of the crème brûlée menu, déjà vu for the señor.\n") * 3
UTF16_TEXT = "Ein Straßenfest in München, größer als je zuvor.\n"


@pytest.fixture()
def mixed(tmp_path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.txt").write_bytes(UTF8_TEXT.encode("utf-8"))
    (folder / "b.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    (folder / "c.txt").write_bytes(codecs.BOM_UTF16_LE + UTF16_TEXT.encode("utf-16-le"))
    return folder


def _texts(prepared) -> dict[str, str]:
    return {doc.doc_id: doc.text for doc in prepared}


def test_strict_names_every_undecodable_file_and_advises_auto(mixed, tmp_path):
    (mixed / "d.txt").write_bytes(("Second file: " + CP1252_TEXT).encode("cp1252"))
    with pytest.raises(AnalysisError) as caught:
        prepare(Corpus(mixed), cache=tmp_path / "cache")
    message = str(caught.value)
    assert message.startswith("2 file(s) could not be read as utf-8")
    assert "b.txt: not valid utf-8 at byte " in message and "d.txt: not valid utf-8 at byte " in message
    assert "--encoding auto" in message and "--encoding cp1252" not in message
    assert "\n" not in message


def test_a_byte_order_mark_decides_utf16(mixed, tmp_path):
    corpus = Corpus(mixed, skip_undecodable=True)
    with pytest.warns(UserWarning, match="1 file.* left out.*b.txt"):
        prepared = prepare(corpus, cache=tmp_path / "cache")
    assert _texts(prepared) == {"a": UTF8_TEXT, "c": UTF16_TEXT}
    assert prepared.encodings == {str(mixed / "c.txt"): "utf-16"}


def test_auto_detects_each_file_and_leaves_utf8_alone(mixed, tmp_path):
    prepared = prepare(Corpus(mixed, encoding="auto"), cache=tmp_path / "cache")
    texts = _texts(prepared)
    assert texts["a"] == UTF8_TEXT  # not garbled into "Â£"
    assert texts["b"] == CP1252_TEXT and texts["c"] == UTF16_TEXT
    assert set(prepared.encodings) == {str(mixed / "b.txt"), str(mixed / "c.txt")}
    assert prepared.encodings[str(mixed / "c.txt")] == "utf-16"


def test_the_manifest_records_the_encodings_read(mixed, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main(["figures", "--corpus", str(mixed), "--encoding", "auto", "--only", "top-terms", "--out", str(out),
                 "--formats", "png", "--dpi", "50", "--cache-dir", str(tmp_path / "cache")]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(Path(f).name for f in manifest["corpus"]["encodings"]) == ["b.txt", "c.txt"]


def test_strict_on_the_command_line_is_one_line_and_exit_2(mixed, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(mixed), "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "b.txt" in err[0] and "--skip-undecodable" in err[0]


def test_auto_keeps_a_cyrillic_file_cyrillic(tmp_path):
    folder = tmp_path / "ru"
    folder.mkdir()
    text = "Пример текста на русском языке, записанный в старой кодировке Windows. " * 4
    (folder / "r.txt").write_bytes(text.encode("cp1251"))
    prepared = prepare(Corpus(folder, encoding="auto"), cache=tmp_path / "cache")
    assert _texts(prepared)["r"] == text
