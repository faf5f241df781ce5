"""Term analytics (analysis.terms) on the seed corpus and on a second real corpus."""

from __future__ import annotations

import math
import os
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from analysis import terms
from analysis.prepared import prepare
from analysis.results import analyze
from analysis.config import Settings
from analysis.corpus import Corpus
from analysis.tokens import Preprocessor, maintained_stopwords

# Counts of the word "kratom" per seed article, made independently of the package:
# `grep -v '^- ' FILE | grep -oiP "\bkratom(['’]s)?\b" | wc -l`, i.e. on the lines that
# are not outline bullets (outline bullets start with "- " and are not counted by
# default), matching kratom as a whole word, any case, optionally followed by a
# possessive 's with a straight or curly apostrophe.
KRATOM_BY_HAND = {
    "000_2b6ec66f88ad0ee6": 20,
    "001_6c888b388283ab30": 35,
    "002_a5a92ea41e8155e8": 21,
    "003_311addac7fdee5fa": 34,
    "004_ae2261013d9df198": 33,
}
KRATOM = re.compile(r"\bkratom(?:['\u2019]s)?\b", re.IGNORECASE)


def _seed_lines(seed_corpus: Path, doc_id: str, *, outline: bool) -> list[str]:
    """Raw lines of a seed file: the outline bullets (``outline=True``) or all others."""
    lines = (seed_corpus / f"{doc_id}.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith("- ") == outline]


def _regex_count(pattern: re.Pattern, lines: list[str]) -> int:
    return sum(len(pattern.findall(line)) for line in lines)


def _kratom_counts(tc) -> dict[str, int]:
    freq = terms.term_frequencies(tc, "document")
    return dict(freq.loc[freq["term"] == "kratom", ["doc_id", "count"]].itertuples(index=False))


# -- kratom counted three ways ------------------------------------------------------------

def test_kratom_counts_match_independent_counts_without_phrases(seed_corpus, seed_tc_nophrases):
    by_regex = {doc_id: _regex_count(KRATOM, _seed_lines(seed_corpus, doc_id, outline=False)) for doc_id in KRATOM_BY_HAND}
    assert by_regex == KRATOM_BY_HAND
    assert _kratom_counts(seed_tc_nophrases) == KRATOM_BY_HAND


def test_kratom_counts_with_phrases(seed_tc):
    """With phrases on, kratom occurrences absorbed by a learned phrase count under the phrase."""
    phrases_with_kratom = [p for p in seed_tc.phrases["phrase"] if "kratom" in p.split(" ")]
    freq = terms.term_frequencies(seed_tc, "document")
    in_phrases = freq[freq["term"].isin(phrases_with_kratom)].groupby("doc_id")["count"].sum()
    counts = _kratom_counts(seed_tc)
    assert {d: counts.get(d, 0) + int(in_phrases.get(d, 0)) for d in KRATOM_BY_HAND} == KRATOM_BY_HAND


def test_include_outline_adds_the_outline_occurrences(seed_corpus):
    tc = analyze(Settings(corpus=seed_corpus, phrases=False, include_outline=True))
    in_outline = {doc_id: _regex_count(KRATOM, _seed_lines(seed_corpus, doc_id, outline=True)) for doc_id in KRATOM_BY_HAND}
    assert sum(in_outline.values()) > 0
    assert _kratom_counts(tc) == {d: KRATOM_BY_HAND[d] + in_outline[d] for d in KRATOM_BY_HAND}
    assert tc.blocks["included"].all()


# -- tokens, counts and rates ----------------------------------------------------------------

WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")


def test_word_tokens_per_document_match_an_independent_count(seed_corpus, seed_tc):
    """Word tokens of the counted blocks = words of the non-outline lines, counted by a plain regex."""
    freq = terms.term_frequencies(seed_tc, "document")
    tokens = freq.groupby("doc_id")["tokens"].first().to_dict()
    expected = {}
    for doc_id in KRATOM_BY_HAND:
        text = unicodedata.normalize("NFKC", "\n".join(_seed_lines(seed_corpus, doc_id, outline=False)))
        text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2011", "-").replace("\u2010", "-")
        expected[doc_id] = len(WORD.findall(text))
    assert tokens == expected


def test_tokens_per_document_are_the_included_blocks(seed_tc):
    freq = terms.term_frequencies(seed_tc, "document")
    included = seed_tc.blocks[seed_tc.blocks["included"]].groupby("doc_id")["n_tokens"].sum()
    assert freq.groupby("doc_id")["tokens"].nunique().eq(1).all()
    assert freq.groupby("doc_id")["tokens"].first().to_dict() == included.to_dict()
    # the outline is excluded, so all blocks together have more tokens
    assert seed_tc.blocks["n_tokens"].sum() > included.sum()
    assert set(seed_tc.blocks.loc[~seed_tc.blocks["included"], "role"]) == {"outline"}


def test_per_1000_tokens(seed_tc):
    for by in ("corpus", "document", "role", "section", "paragraph"):
        freq = terms.term_frequencies(seed_tc, by)
        assert (freq["per_1000_tokens"] == 1000 * freq["count"] / freq["tokens"]).all(), by
    kratom = terms.term_frequencies(seed_tc, "document").set_index(["doc_id", "term"]).loc[("000_2b6ec66f88ad0ee6", "kratom")]
    assert kratom["per_1000_tokens"] == pytest.approx(1000 * 20 / kratom["tokens"])


def test_corpus_counts_are_the_sum_of_document_counts(seed_tc):
    corpus = terms.term_frequencies(seed_tc, "corpus").set_index("term")["count"]
    docs = terms.term_frequencies(seed_tc, "document").groupby("term")["count"].sum()
    pd.testing.assert_series_equal(corpus.sort_index(), docs.sort_index(), check_names=False)
    assert corpus["kratom"] == sum(KRATOM_BY_HAND.values())
    assert int(corpus.sum()) == int(seed_tc.counts["count"].sum())
    tokens = terms.term_frequencies(seed_tc, "corpus")["tokens"]
    assert tokens.nunique() == 1
    assert tokens.iloc[0] == seed_tc.blocks.loc[seed_tc.blocks["included"], "n_tokens"].sum()


@pytest.mark.parametrize("by", ["role", "section", "paragraph"])
def test_other_groupings_add_up(seed_tc, by):
    freq = terms.term_frequencies(seed_tc, by)
    keys = terms.BY_COLUMNS[by]
    assert list(freq.columns) == keys + ["term", "count", "tokens", "per_1000_tokens", "rank"]
    assert freq["count"].sum() == seed_tc.counts["count"].sum()
    groups = freq.groupby(keys)["tokens"].first()
    included = seed_tc.blocks[seed_tc.blocks["included"]]
    assert groups.sum() <= included["n_tokens"].sum()  # groups without terms have no rows
    if by == "role":
        assert "outline" not in set(freq["role"])
        assert groups["body"] == included.loc[included["role"] == "body", "n_tokens"].sum()


def test_ranks_start_at_one_per_group(seed_tc):
    corpus = terms.term_frequencies(seed_tc, "corpus")
    assert corpus["rank"].tolist() == list(range(1, len(corpus) + 1))
    assert corpus["count"].is_monotonic_decreasing
    assert corpus.iloc[0]["term"] == "kratom"
    docs = terms.term_frequencies(seed_tc, "document")
    for _, group in docs.groupby("doc_id"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["count"].is_monotonic_decreasing


def test_term_frequencies_rejects_unknown_grouping(seed_tc):
    with pytest.raises(ValueError, match="by must be one of"):
        terms.term_frequencies(seed_tc, "chapter")


def test_counted_terms_have_no_stopwords_numbers_or_clitics(seed_tc):
    stopwords = maintained_stopwords("gensim")
    all_terms = set(seed_tc.counts["term"])
    assert not all_terms & stopwords
    assert not {t for t in all_terms if t.isdigit() or len(t) < 2 or "'" in t and t.endswith(("'ll", "n't", "'re"))}
    assert {"7-hydroxymitragynine", "kr8tom"} <= all_terms


def test_document_frequency(seed_tc):
    df = terms.document_frequency(seed_tc).set_index("term")
    assert df.loc["kratom", "doc_count"] == 5
    assert df.loc["kratom", "doc_share"] == 1.0
    assert (df["doc_share"] == df["doc_count"] / 5).all()
    per_doc = seed_tc.counts.groupby("term")["doc_id"].nunique()
    assert (df["doc_count"] == per_doc.reindex(df.index)).all()


def test_tfidf(seed_tc):
    table = terms.tfidf(seed_tc)
    n = seed_tc.n_documents
    assert n == 5
    for row in table.itertuples():
        assert row.idf == pytest.approx(math.log(n / row.doc_count))
        assert row.tfidf == pytest.approx(row.tf * row.idf)
    everywhere = table[table["doc_count"] == n]
    assert "kratom" in set(everywhere["term"])
    assert (everywhere["tfidf"] == 0).all() and (everywhere["idf"] == 0).all()
    once = table[table["doc_count"] == 1]
    assert len(once) > 0
    assert once["idf"].tolist() == pytest.approx([math.log(5)] * len(once))
    tokens = terms.term_frequencies(seed_tc, "document").groupby("doc_id")["tokens"].first()
    assert (table["tf"] == table["count"] / table["doc_id"].map(tokens)).all()
    for _, group in table.groupby("doc_id"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["tfidf"].is_monotonic_decreasing
    assert terms.tfidf(seed_tc, min_count=3)["count"].min() >= 3


def test_ngram_frequencies(seed_corpus, seed_tc):
    stopwords = maintained_stopwords("gensim")
    grams = terms.ngram_frequencies(seed_tc)
    assert list(grams.columns) == ["n", "ngram", "count", "doc_count", "per_1000_tokens", "rank"]
    assert set(grams["n"]) == {2, 3}
    trigrams = terms.ngram_frequencies(seed_tc, 3).set_index("ngram")
    # "quality of life" counted independently: the phrase in the non-outline lines
    by_regex = sum(_regex_count(re.compile(r"\bquality of life\b", re.I), _seed_lines(seed_corpus, d, outline=False))
                   for d in KRATOM_BY_HAND)
    assert by_regex > 0
    assert trigrams.loc["quality of life", "count"] == by_regex
    assert "chronic pain management" in trigrams.index
    for gram in grams["ngram"]:
        words = gram.split(" ")
        assert words[0] not in stopwords and words[-1] not in stopwords, gram
        assert not any(w.isdigit() for w in words), gram
    assert (grams["count"] >= 2).all()
    assert (grams["doc_count"] <= grams["count"]).all() and (grams["doc_count"] <= 5).all()
    total = seed_tc.blocks.loc[seed_tc.blocks["included"], "n_tokens"].sum()
    assert (grams["per_1000_tokens"] == 1000 * grams["count"] / total).all()
    for _, group in grams.groupby("n"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
    assert terms.ngram_frequencies(seed_tc, 2, min_count=1)["count"].min() == 1
    assert "of the" not in set(terms.ngram_frequencies(seed_tc, 2, min_count=1)["ngram"])


def test_count_terms_max_n(seed_corpus):
    settings = Settings(corpus=seed_corpus, phrases=False)
    tc = terms.count_terms(prepare(Corpus(seed_corpus), cache=None), Preprocessor(settings), max_n=2)
    assert set(tc.ngrams["n"]) == {2}


def test_rank_frequency(seed_tc, seed_ids):
    table = terms.rank_frequency(seed_tc)
    assert list(table.columns) == ["scope", "doc_id", "term", "count", "rank", "relative_frequency"]
    assert set(table["scope"]) == {"corpus", "document"}
    assert set(table.loc[table["scope"] == "document", "doc_id"]) == set(seed_ids)
    for scope, group in table.groupby(["scope", "doc_id"]):
        assert group["rank"].min() == 1, scope
        assert sorted(group["rank"]) == list(range(1, len(group) + 1)), scope
        assert group["relative_frequency"].sum() == pytest.approx(1.0)
    corpus = table[table["scope"] == "corpus"]
    assert corpus["count"].sum() == seed_tc.counts["count"].sum()


def test_rank_frequency_with_a_document_called_corpus(tmp_path):
    """A document whose id is "corpus" (corpus.txt) must not merge into the corpus-wide curve."""
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "corpus.txt").write_text("kratom leaf tea kratom\n", encoding="utf-8")
    (folder / "other.txt").write_text("pain relief kratom\n", encoding="utf-8")
    tc = analyze(Settings(corpus=folder, phrases=False))
    table = terms.rank_frequency(tc)
    assert len(table) == 5 + 3 + 3  # corpus-wide terms, then each document's
    for scope, group in table.groupby(["scope", "doc_id"]):
        assert sorted(group["rank"]) == list(range(1, len(group) + 1)), scope
        assert group["relative_frequency"].sum() == pytest.approx(1.0), scope


def test_waterfall(seed_tc):
    wf = seed_tc.waterfall
    assert list(wf.columns) == ["step", "order", "tokens", "types", "tokens_removed", "top_affected"]
    assert wf["step"].tolist() == list(Preprocessor(Settings()).steps)
    assert wf["order"].tolist() == list(range(len(wf)))
    tokens = wf["tokens"].tolist()
    # no step adds tokens (lemmas replace one for one; phrases join two into one)
    assert all(a >= b for a, b in zip(tokens, tokens[1:]))
    assert wf["tokens_removed"].tolist() == [0] + [a - b for a, b in zip(tokens, tokens[1:])]
    by_step = wf.set_index("step")
    blocks = seed_tc.blocks
    assert by_step.loc["tokenized", "tokens"] == blocks["n_tokens"].sum()
    assert by_step.loc["outline excluded", "tokens"] == blocks.loc[blocks["included"], "n_tokens"].sum()
    assert wf.iloc[-1]["tokens"] == seed_tc.counts["count"].sum()
    assert wf.iloc[-1]["types"] == seed_tc.counts["term"].nunique()
    # each join turns two tokens into one, and joined terms survive every later step
    counts = terms.term_frequencies(seed_tc, "corpus").set_index("term")["count"]
    assert by_step.loc["phrases joined", "tokens_removed"] == counts[counts.index.str.contains(" ")].sum()
    for item in by_step.loc["phrases joined", "top_affected"].split("; "):
        phrase, count = re.fullmatch(r"(.+) \((\d+)\)", item).groups()
        assert counts[phrase] == int(count)
    assert "and (" in by_step.loc["stopwords removed", "top_affected"]


def test_waterfall_with_lemmas_and_corpus_stopwords(seed_corpus):
    plain = analyze(Settings(corpus=seed_corpus, lemmatize=True))
    tc = analyze(Settings(corpus=seed_corpus, lemmatize=True, extra_stopwords=("Kratom",)))
    wf = tc.waterfall.set_index("step")
    assert list(wf.index) == ["tokenized", "outline excluded", "lemmatised", "phrases joined", "numbers dropped",
                              "stopwords removed", "short tokens dropped", "corpus stopwords removed"]
    assert wf.loc["lemmatised", "tokens_removed"] == 0
    assert wf.loc["lemmatised", "tokens"] == wf.loc["outline excluded", "tokens"]
    kratom = int(plain.counts.loc[plain.counts["term"] == "kratom", "count"].sum())
    assert kratom > 100
    assert wf.loc["corpus stopwords removed", "tokens_removed"] == kratom
    assert wf.loc["corpus stopwords removed", "top_affected"] == f"kratom ({kratom})"
    assert "kratom" not in set(tc.counts["term"])
    assert tc.counts["count"].sum() == plain.counts["count"].sum() - kratom


def test_block_overview(seed_tc):
    table = terms.block_overview(seed_tc)
    assert list(table.columns) == ["doc_id", "block", "role", "section", "included", "n_tokens", "start_token"]
    for _, group in table.groupby("doc_id"):
        assert group["block"].tolist() == list(range(len(group)))
        assert group["start_token"].iloc[0] == 0
        assert (group["start_token"].iloc[1:].to_numpy() == (group["start_token"] + group["n_tokens"]).iloc[:-1].to_numpy()).all()


def test_corpus_summary(seed_tc, seed_ids):
    summary = terms.corpus_summary(seed_tc)
    assert summary["doc_id"].tolist() == [*seed_ids, "(corpus)"]
    roles = ["body", "conclusion", "heading", "intro", "outline", "summary"]
    assert list(summary.columns) == ["doc_id", "blocks", *roles, "tokens", "terms", "types"]
    docs, total = summary.iloc[:-1], summary.iloc[-1]
    assert (docs[roles].sum(axis=1) == docs["blocks"]).all()
    assert (docs[["heading", "outline", "summary", "conclusion"]] == [3, 3, 1, 1]).all().all()
    for column in ["blocks", *roles, "tokens", "terms"]:
        assert total[column] == docs[column].sum(), column
    assert total["blocks"] == len(seed_tc.blocks)
    assert total["tokens"] == seed_tc.blocks.loc[seed_tc.blocks["included"], "n_tokens"].sum()
    assert total["terms"] == seed_tc.counts["count"].sum()
    assert total["types"] == seed_tc.counts["term"].nunique()
    assert total["types"] < docs["types"].sum()  # shared vocabulary is counted once
    per_doc = seed_tc.counts.groupby("doc_id")["term"].nunique()
    assert docs.set_index("doc_id")["types"].to_dict() == per_doc.to_dict()


def test_term_counts_tables(seed_tc, seed_ids):
    assert seed_tc.n_documents == 5
    assert seed_tc.documents["doc_id"].tolist() == list(seed_ids)
    assert list(seed_tc.blocks.columns) == terms.BLOCK_COLUMNS
    assert list(seed_tc.counts.columns) == ["doc_id", "block", "term", "count"]
    assert (seed_tc.counts["count"] > 0).all()
    assert not seed_tc.counts.duplicated(["doc_id", "block", "term"]).any()
    n_terms = seed_tc.counts.groupby(["doc_id", "block"])["count"].sum()
    blocks = seed_tc.blocks.set_index(["doc_id", "block"])
    assert (blocks.loc[n_terms.index, "n_terms"] == n_terms).all()
    assert (blocks.loc[~blocks["included"], "n_terms"] == 0).all()


# -- a second real corpus: gensim's Lee background corpus ----------------------------------

@pytest.fixture(scope="module")
def lee_csv(tmp_path_factory) -> Path:
    gensim = pytest.importorskip("gensim")
    source = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / "lee_background.cor"
    if not source.is_file():
        pytest.skip("gensim's test data is not installed")
    lines = source.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 300
    path = tmp_path_factory.mktemp("lee") / "lee.csv"
    pd.DataFrame({"id": [f"{i:03d}" for i in range(len(lines))], "text": lines}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def lee_tc(lee_csv):
    return analyze(Settings(corpus=lee_csv))


def test_lee_corpus_runs_with_fallback_structure(lee_csv, lee_tc):
    assert lee_tc.n_documents == 300
    assert lee_tc.documents["doc_id"].tolist()[:3] == ["000", "001", "002"]
    assert set(lee_tc.blocks["role"]) == {"paragraph"}
    assert lee_tc.blocks.groupby("doc_id").size().eq(1).all()  # one line, one paragraph
    assert lee_tc.blocks["included"].all()
    wf = lee_tc.waterfall.set_index("step")
    assert wf.loc["outline excluded", "tokens_removed"] == 0


def test_lee_corpus_numbers_are_sensible(lee_csv, lee_tc):
    raw = pd.read_csv(lee_csv, dtype=str)["text"]
    whitespace_words = int(raw.str.split().str.len().sum())
    tokens = int(lee_tc.blocks["n_tokens"].sum())
    assert 0.9 * whitespace_words <= tokens <= 1.1 * whitespace_words
    freq = terms.term_frequencies(lee_tc, "corpus")
    assert freq["tokens"].iloc[0] == tokens
    stopwords = maintained_stopwords("gensim")
    assert not set(freq["term"]) & stopwords
    top = freq.head(20)
    assert {"australia", "government", "people"} <= set(top["term"])
    assert top["per_1000_tokens"].iloc[0] < 20  # no single term dominates a news corpus
    # well-known collocations of the corpus are learned as terms
    assert {"bin laden", "al qaeda", "united states"} <= set(lee_tc.phrases["phrase"])
    trigrams = terms.ngram_frequencies(lee_tc, 3).set_index("ngram")
    assert trigrams.loc["new south wales", "count"] >= 30
    # the Lee corpus has no outline, so counted terms are most of the non-stopword tokens
    wf = lee_tc.waterfall
    assert wf["tokens"].iloc[-1] == freq["count"].sum()
    assert 0.3 * tokens < wf["tokens"].iloc[-1] < 0.7 * tokens
    table = terms.tfidf(lee_tc)
    assert (table["doc_count"] < 300).all()  # no term is in every one of 300 news texts
    assert (table["tfidf"] > 0).all()
    summary = terms.corpus_summary(lee_tc)
    assert list(summary.columns) == ["doc_id", "blocks", "paragraph", "tokens", "terms", "types"]
    assert summary.iloc[-1]["blocks"] == 300
