"""A settings file's corpus-specific settings stay with its corpus; `init` starts a project of its own."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.config import CORPUS_SPECIFIC, SettingsWarning, load_settings

PROJECT = """[tool.analysis]
corpus = "articles"
out = "report"
k = 4
focus_terms = ["kratom", "relief"]
lenses = ["health-claims"]
extra_stopwords = ["kratom"]
dpi = 72
"""


@pytest.fixture()
def project(tmp_path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_text("Kratom and relief.", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
    return tmp_path


def test_the_files_corpus_gets_every_setting(project, monkeypatch):
    monkeypatch.chdir(project)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = load_settings(corpus="articles")
    assert (settings.k, settings.focus_terms, settings.lenses) == (4, ("kratom", "relief"), ("health-claims",))
    assert settings.out == project / "report"


def test_another_corpus_does_not_get_the_corpus_specific_settings(project, tmp_path, monkeypatch):
    other = tmp_path / "news.jsonl"
    other.write_text('{"id": "1", "text": "Markets fell."}\n', encoding="utf-8")
    monkeypatch.chdir(project)
    with pytest.warns(SettingsWarning, match=r"news.jsonl is not the corpus of .*pyproject.toml.*\(extra_stopwords, k, "
                                             r"lenses\) are not applied; output goes to .*news-figures.*init DIR"):
        settings = load_settings(corpus=str(other), focus_terms=["markets"])
    assert settings.k == 6 and settings.lenses == () and settings.extra_stopwords == ()
    assert settings.focus_terms == ("markets",)  # given on the command line: applied
    assert settings.dpi == 72  # not corpus-specific: the file's value stands
    assert settings.out == project / "news-figures"  # never the project's own output folder
    assert {"focus_terms", "lenses", "out", "k", "group_by"} <= set(CORPUS_SPECIFIC)


def test_a_file_that_names_no_corpus_applies_to_any(tmp_path, monkeypatch):
    config = tmp_path / "fast.toml"
    config.write_text("k = 3\nfocus_terms = ['x']\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = load_settings(config, corpus=str(tmp_path / "elsewhere"))
    assert settings.k == 3 and settings.focus_terms == ("x",)


def test_init_writes_a_project_that_the_commands_use(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "data" / "news.jsonl"
    corpus.parent.mkdir()
    corpus.write_text('{"id": "1", "text": "Markets fell sharply."}\n{"id": "2", "text": "Rates rose."}\n',
                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["init", "study", "--corpus", "data/news.jsonl"]) == 0
    text = (tmp_path / "study" / "pyproject.toml").read_text(encoding="utf-8")
    assert 'corpus = "../data/news.jsonl"' in text and 'out = "figures"' in text
    assert main(["init", "study", "--corpus", "data/news.jsonl"]) == 2  # never overwritten
    assert "exists already" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path / "study")
    settings = load_settings()
    assert settings.corpus.resolve() == corpus.resolve() and settings.out == tmp_path / "study" / "figures"
    assert main(["info"]) == 0
    assert "documents: 2" in capsys.readouterr().out


def test_init_needs_an_existing_corpus(tmp_path, capsys):
    assert main(["init", str(tmp_path / "p"), "--corpus", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
