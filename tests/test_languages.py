"""The language setting drives stopwords, lemmas and the keyness reference; an unsupported one is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.results import Results
from analysis.tokens import maintained_stopwords

GERMAN = [
    "Die Häuser der Stadt sind alt, und die Straßen sind eng. Der Markt ist groß.",
    "In den Häusern wohnen viele Familien, und die Kinder spielen auf den Straßen.",
    "Der Bürgermeister sagt, dass die Stadt neue Häuser und breitere Straßen braucht.",
]


@pytest.fixture()
def german(tmp_path) -> Path:
    path = tmp_path / "de.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(GERMAN)),
                    encoding="utf-8")
    return path


def test_german_stopwords_come_from_stopwords_iso(german, tmp_path):
    results = Results(Settings(corpus=german, out=tmp_path / "out", language="de", phrases=False))
    counted = set(results.terms.counts["term"])
    assert not counted & {"die", "der", "und", "sind", "den", "dass"}
    assert {"stadt", "häuser", "straßen"} <= counted
    assert results.preprocessor.stopwords == maintained_stopwords("iso", "de")
    # English keeps gensim's list (this project's counts do not move).
    assert maintained_stopwords("auto", "en") == maintained_stopwords("gensim")


def test_german_lemmas(german, tmp_path):
    results = Results(Settings(corpus=german, out=tmp_path / "out", language="de", phrases=False, lemmatize=True))
    counted = results.terms.counts.groupby("term")["count"].sum()
    assert counted["haus"] == 3 and counted["straße"] == 3  # Häuser, Häusern -> Haus; Straßen -> Straße


def test_an_unsupported_language_is_one_clear_error(german, tmp_path):
    results = Results(Settings(corpus=german, out=tmp_path / "out", language="xx"))
    with pytest.raises(AnalysisError, match=r"setting 'language' 'xx': no stopword list for it in stopwords-iso "
                                            r"\(it has af, ar, .*\); set stopwords = \"none\""):
        results.terms
    lemmas = Results(Settings(corpus=german, out=tmp_path / "out2", language="xx", stopwords="none", lemmatize=True))
    with pytest.raises(AnalysisError, match="simplemma has no lemmas for it"):
        lemmas.terms
