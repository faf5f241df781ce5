"""KWIC: matching on normalised tokens, phrases and lemmas; context; sorting; CLI."""

from __future__ import annotations

import re

import pytest

from analysis.cli import main
from analysis.concordance import KWIC_COLUMNS, format_kwic, kwic, token_spans
from analysis.config import Settings
from analysis.corpus import Corpus, Document
from analysis.errors import AnalysisError
from analysis.tokens import Preprocessor


@pytest.fixture(scope="module")
def seed(seed_corpus):
    settings = Settings(corpus=seed_corpus)
    return Corpus.from_settings(settings), Preprocessor(settings)


def _outline_free_lines(path):
    return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("- ")]


def test_kratom_matches_an_independent_regex_count(seed, seed_corpus, seed_ids):
    corpus, pre = seed
    table = kwic(corpus, "kratom", pre)
    expected = {
        doc_id: sum(len(re.findall(r"(?<![\w-])kratom(?![\w-])", line, re.IGNORECASE))
                    for line in _outline_free_lines(seed_corpus / f"{doc_id}.txt"))
        for doc_id in seed_ids
    }
    assert table.groupby("doc_id").size().to_dict() == expected
    assert list(table.columns) == KWIC_COLUMNS
    # possessives ("Kratom's", with any apostrophe) are the same token, shown as written
    assert set(table["match"].str.lower().str.replace(r"['\u2018\u2019]s$", "", regex=True)) == {"kratom"}
    assert "outline" not in set(table["role"])


def test_phrase_query_matches_across_case_and_spacing():
    doc = Document("d", "Chronic  pain is hard.\n\nLiving with chronic\npain daily. Chronic illness.", "d")
    table = kwic([doc], "chronic pain", Preprocessor(Settings()))
    assert table["match"].tolist() == ["Chronic pain", "chronic pain"]
    assert table["right"].tolist()[0].startswith("is hard")


def test_lemmas_match_other_forms_unless_turned_off():
    doc = Document("d", "Kratom reduces pain. It reduced swelling and keeps reducing it.", "d")
    pre = Preprocessor(Settings())
    assert kwic([doc], "reduce", pre)["match"].tolist() == ["reduces", "reduced", "reducing"]
    assert kwic([doc], "reduce", pre, lemmas=False).empty
    assert kwic([doc], "reduced", pre, lemmas=False)["match"].tolist() == ["reduced"]


def test_window_counts_words_and_stays_in_the_block():
    doc = Document("d", "one two three four KEY five six seven eight\n\nnine ten KEY", "d")
    table = kwic([doc], "key", Preprocessor(Settings()), window=2)
    assert table[["left", "match", "right"]].values.tolist() == [
        ["three four", "KEY", "five six"], ["nine ten", "KEY", ""],
    ]
    assert table["position"].tolist() == [4, 11]
    assert kwic([doc], "key", Preprocessor(Settings()), window=0)["left"].tolist() == ["", ""]


def test_sort_left_right_and_doc():
    doc = Document("d", "zeta KEY alpha. beta KEY gamma. alpha KEY zeta.", "d")
    pre = Preprocessor(Settings())
    assert kwic([doc], "key", pre, sort="left", window=1)["left"].str.rstrip(".").tolist() == ["alpha", "beta", "zeta"]
    assert kwic([doc], "key", pre, sort="right", window=1)["right"].str.rstrip(".").tolist() == ["alpha", "gamma", "zeta"]
    assert kwic([doc], "key", pre, sort="doc")["position"].tolist() == [1, 4, 7]


def test_bad_arguments_are_clear_errors():
    pre = Preprocessor(Settings())
    with pytest.raises(AnalysisError, match="--sort must be one of"):
        kwic([], "x", pre, sort="middle")
    with pytest.raises(AnalysisError, match="--window must be 0 or more"):
        kwic([], "x", pre, window=-1)
    with pytest.raises(AnalysisError, match="no words to match"):
        kwic([], "?!", pre)


def test_token_spans_point_into_the_original_text():
    text = "Kratom\u2019s \u201cROLE\u201d in pain-relief"
    assert [text[s:e] for _, s, e in token_spans(text)] == ["Kratom\u2019s", "ROLE", "in", "pain-relief"]
    assert [t for t, _, _ in token_spans(text)] == ["kratom", "role", "in", "pain-relief"]


def test_format_kwic_aligns_the_match():
    doc = Document("doc-1", "short KEY end. a much longer left context KEY here.", "d")
    lines = format_kwic(kwic([doc], "key", Preprocessor(Settings()))).splitlines()
    assert len(lines) == 2 and len({line.index("[KEY]") for line in lines}) == 1


def test_cli_kwic(seed_corpus, tmp_path, capsys):
    assert main(["kwic", "withdrawal symptoms", "--corpus", str(seed_corpus), "--sort", "left"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("[withdrawal symptoms]") + captured.out.count("[Withdrawal Symptoms]") == 14
    assert "14 matches of 'withdrawal symptoms' in 2 documents" in captured.err
    out = tmp_path / "kwic.csv"
    assert main(["kwic", "kratom", "--corpus", str(seed_corpus), "--out", str(out), "--window", "3"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(KWIC_COLUMNS) and len(lines) == 144
    capsys.readouterr()
    assert main(["kwic", "pain", "--corpus", str(seed_corpus), "--window", "-2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--window must be 0 or more" in err and "Traceback" not in err
