"""Normalisation, tokenisation and the preprocessing pipeline (analysis.tokens, analysis.pipeline)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.config import Settings
from analysis.corpus import Document
from analysis.pipeline import PhraseTable, derive_terms, join_phrases
from analysis.prepared import prepare_documents
from analysis.tokens import (
    STEPS,
    Preprocessor,
    is_clitic,
    maintained_stopwords,
    normalize,
    split_sentences,
    strip_possessive,
    tokenize,
    tokenize_sentences,
)


# -- tokenize -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # hyphenated and alphanumeric words stay single tokens
        ("7-hydroxymitragynine", ["7-hydroxymitragynine"]),
        ("cognitive-behavioral therapy", ["cognitive-behavioral", "therapy"]),
        ("Often referred to as kr8tom.", ["often", "referred", "to", "as", "kr8tom"]),
        ("anti-inflammatory effects", ["anti-inflammatory", "effects"]),
        # non-breaking hyphen (U+2011) and hyphen (U+2010) are straightened first
        ("anti\u2011inflammatory", ["anti-inflammatory"]),
        ("anti\u2010inflammatory", ["anti-inflammatory"]),
        # possessives with every apostrophe become the bare word
        ("kratom\u2019s role", ["kratom", "role"]),
        ("kratom\u2018s role", ["kratom", "role"]),
        ("kratom's role", ["kratom", "role"]),
        ("KRATOM'S ROLE", ["kratom", "role"]),
        # lowercase
        ("Kratom KRATOM kratom", ["kratom", "kratom", "kratom"]),
        # an em dash and an en dash split words
        ("crucial\u2014typically", ["crucial", "typically"]),
        ("pain\u2013relief", ["pain", "relief"]),
        # NFKC: full-width letters and the fi ligature
        ("\uff2b\uff52\uff41\uff54\uff4f\uff4d", ["kratom"]),
        ("\ufb01bromyalgia", ["fibromyalgia"]),
        # punctuation, underscores and leading/trailing hyphens are not part of tokens
        ("(pain), relief; -edge- snake_case", ["pain", "relief", "edge", "snake", "case"]),
        ("", []),
        ("... \u2014 !!", []),
        # contractions stay whole at this stage (the stopword step removes them)
        ("We\u2019ll see; don't stop", ["we'll", "see", "don't", "stop"]),
        # numbers are tokens here (dropped later by the pipeline)
        ("for 12 weeks", ["for", "12", "weeks"]),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


def test_normalize_straightens_curly_quotes_and_lowercases():
    assert normalize("\u201cKratom\u201d \u2018Leaf\u2019") == '"kratom" \'leaf\''
    assert normalize("Kratom\u2019s") == "kratom's"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\ufb01", "fi"),  # ligature
        ("\uff21\uff22\uff23", "abc"),  # full-width
        ("\u00bd", "1\u20442"),  # vulgar fraction, compatibility decomposition
        ("caf\u0065\u0301", "caf\u00e9"),  # combining accent is composed
    ],
)
def test_normalize_is_nfkc(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [("kratom's", "kratom"), ("s", "s"), ("'s", "'s"), ("its", "its"), ("kratoms", "kratoms")],
)
def test_strip_possessive(token, expected):
    assert strip_possessive(token) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("we'll", True), ("you're", True), ("they've", True), ("i'd", True), ("i'm", True),
        ("don't", True), ("can't", True), ("isn't", True),
        ("kratom", False), ("7-hydroxymitragynine", False), ("o'neill", False),
    ],
)
def test_is_clitic(token, expected):
    assert is_clitic(token) is expected


def test_split_sentences_on_punctuation_and_newlines():
    text = "First one. Second one! Third? Fourth; fifth: sixth\nseventh"
    assert split_sentences(text) == ["First one.", "Second one!", "Third?", "Fourth;", "fifth:", "sixth", "seventh"]
    assert tokenize_sentences("One. ... Two") == [["one"], ["two"]]


def test_maintained_stopwords():
    gensim_list = maintained_stopwords("gensim")
    assert len(gensim_list) == 337
    assert {"the", "and", "of"} <= gensim_list
    assert "kratom" not in gensim_list
    assert maintained_stopwords("none") == frozenset()


def test_gensim_stopwords_are_read_without_importing_gensim(monkeypatch):
    import importlib.util
    import subprocess
    import sys

    from gensim.parsing.preprocessing import STOPWORDS

    from analysis import tokens

    check = "import sys; from analysis.tokens import maintained_stopwords as m; m('gensim'); print('gensim' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout == "False\n"
    tokens._gensim_stopwords.cache_clear()
    assert maintained_stopwords("gensim") == STOPWORDS
    # A gensim whose source cannot be read: the list comes from importing it.
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    tokens._gensim_stopwords.cache_clear()
    try:
        assert maintained_stopwords("gensim") == STOPWORDS
    finally:
        tokens._gensim_stopwords.cache_clear()


# -- Preprocessor -------------------------------------------------------------

def _terms(pre: Preprocessor, text: str) -> list[str]:
    """The counted terms of one text, in order, through the whole pipeline."""
    layer = derive_terms(prepare_documents([Document("t", text, "t")]), pre)
    return [layer.terms[i] for i in layer.sequence]


def test_clitics_are_removed_by_the_stopword_step():
    pre = Preprocessor(Settings(phrases=False))
    assert _terms(pre, "We'll see whether kratom works; don't guess, you're told.") == [
        "kratom", "works", "guess", "told",
    ]
    assert _terms(pre, "We\u2019ll check it. They\u2019re sure, I\u2019m not, it\u2019s fine.") == ["check", "sure", "fine"]


def test_preprocessor_drops_numbers_short_tokens_and_keeps_alphanumerics():
    pre = Preprocessor(Settings(phrases=False))
    # 12 and 2 are numbers; "x" is shorter than min_token_length=2; kr8tom stays
    assert _terms(pre, "Take 12 doses of kr8tom in 2 weeks, x marks it.") == ["doses", "kr8tom", "weeks", "marks"]


def test_keep_numbers_and_extra_stopwords_and_keep_words():
    pre = Preprocessor(Settings(phrases=False, drop_numbers=False, extra_stopwords=("Kratom",), keep_words=("not",)))
    # extra stopwords are normalised (case); keep_words are taken out of the stopword list
    assert _terms(pre, "Kratom is not 12 leaves") == ["not", "12", "leaves"]
    assert "corpus stopwords removed" in pre.steps


def test_min_token_length():
    pre = Preprocessor(Settings(phrases=False, min_token_length=5))
    assert _terms(pre, "pain relief kratom leaf") == ["relief", "kratom"]


def test_stopwords_none_keeps_function_words():
    pre = Preprocessor(Settings(phrases=False, stopwords="none"))
    assert _terms(pre, "the kratom and the pain") == ["the", "kratom", "and", "the", "pain"]


def test_lemmatize_setting():
    plain = Preprocessor(Settings(phrases=False))
    lemmas = Preprocessor(Settings(phrases=False, lemmatize=True))
    assert _terms(plain, "receptors studies") == ["receptors", "studies"]
    assert _terms(lemmas, "receptors studies") == ["receptor", "study"]
    assert "lemmatised" in lemmas.steps and "lemmatised" not in plain.steps


def test_steps_follow_settings():
    assert Preprocessor(Settings()).steps == (
        "tokenized", "outline excluded", "phrases joined", "numbers dropped", "stopwords removed",
        "short tokens dropped",
    )
    everything = Preprocessor(Settings(lemmatize=True, extra_stopwords=("kratom",), mask_reuse=True)).steps
    assert everything == STEPS


def test_outline_blocks_are_excluded_unless_include_outline():
    text = "Summary here.\nIntro here.\n- Alpha heading\n- Beta heading\nAlpha heading\nAlpha body.\nBeta heading\nBeta body.\nEnd."
    prepared = prepare_documents([Document("d", text, "d")])
    outline = np.flatnonzero(prepared.blocks["role"].to_numpy() == "outline")
    excluded = derive_terms(prepared, Preprocessor(Settings(phrases=False)))
    included = derive_terms(prepared, Preprocessor(Settings(phrases=False, include_outline=True)))
    assert len(outline) == 2
    assert not excluded.counted[outline].any() and all(excluded.block_terms(b) == [] for b in outline)
    assert excluded.n_tokens[outline].tolist() == [2, 2]  # tokens are kept for n_tokens
    assert [included.block_terms(b) for b in outline] == [["alpha", "heading"], ["beta", "heading"]]
    assert included.counted.all()


@pytest.mark.parametrize(
    ("token", "expected"),
    [("the", True), ("and", True), ("12", True), ("we'll", True), ("don't", True), ("x", True),
     ("kratom", False), ("pain", False), ("kr8tom", False), ("7-hydroxymitragynine", False)],
)
def test_is_function_word(token, expected):
    assert Preprocessor(Settings()).is_function_word(token) is expected


# -- phrases ------------------------------------------------------------------

def _join(words: list[str], scores: dict[tuple[str, str], float]) -> list[str]:
    """join_phrases on one sentence of words given as strings."""
    vocabulary = sorted(set(words))
    ids = np.asarray([vocabulary.index(w) for w in words])
    phrases = {(vocabulary.index(a), vocabulary.index(b)): s for (a, b), s in scores.items()}
    phrase_ids = {pair: len(vocabulary) + i for i, pair in enumerate(phrases)}
    names = vocabulary + [f"{vocabulary[a]} {vocabulary[b]}" for a, b in phrases]
    joined, _ = join_phrases(ids, np.ones(len(ids) - 1, dtype=bool), PhraseTable.of(phrases, phrase_ids, len(vocabulary)))
    return [names[i] for i in joined]


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({("plant", "mitragyna"): 0.5, ("mitragyna", "speciosa"): 0.9}, ["plant", "mitragyna speciosa"]),
        ({("plant", "mitragyna"): 0.9, ("mitragyna", "speciosa"): 0.5}, ["plant mitragyna", "speciosa"]),
        ({("mitragyna", "speciosa"): 0.9}, ["plant", "mitragyna speciosa"]),
        ({}, ["plant", "mitragyna", "speciosa"]),
    ],
)
def test_join_phrases_overlap_higher_score_wins(scores, expected):
    assert _join(["plant", "mitragyna", "speciosa"], scores) == expected


def test_join_phrases_non_overlapping_pairs_and_repeats():
    sentence = "chronic pain and opioid receptors chronic pain".split()
    assert _join(sentence, {("chronic", "pain"): 0.7, ("opioid", "receptors"): 0.8}) == [
        "chronic pain", "and", "opioid receptors", "chronic pain"]
    # a chain of three overlapping pairs: the best pair wins, the rest stay single
    assert _join(["a", "b", "c", "d"], {("a", "b"): 0.6, ("b", "c"): 0.9, ("c", "d"): 0.7}) == ["a", "b c", "d"]


def test_phrases_never_join_across_a_sentence_break():
    pre = Preprocessor(Settings(phrase_min_count=2, phrase_threshold=0.1))
    # "pain chronic" is adjacent twice, but only across sentence ends: never a phrase
    assert _terms(pre, "Chronic pain. Chronic pain. Chronic pain.") == ["chronic pain"] * 3
    assert _terms(pre, "Chronic pain\n\nchronic pain\n\nchronic pain") == ["chronic pain"] * 3


def test_phrases_match_gensim_on_the_seed_corpus(seed_corpus, seed_tc):
    """The array-based phrase learner gives gensim Phrases' pairs and scores, bit for bit."""
    from gensim.models.phrases import Phrases

    from analysis.corpus import Corpus
    from analysis.tokens import tokenize_sentences

    sentences = [s for doc in Corpus(seed_corpus) for b in doc.blocks if b.role != "outline"
                 for s in tokenize_sentences(b.text)]
    model = Phrases(sentences, min_count=5, threshold=0.6, scoring="npmi", delimiter=" ", connector_words=frozenset())
    pre = Preprocessor(Settings())
    expected = {p: s for p, s in model.export_phrases().items()
                if not any(pre.is_function_word(w) for w in p.split(" "))}
    assert dict(zip(seed_tc.phrases["phrase"], seed_tc.phrases["score"])) == expected
    assert len(expected) == 21


def test_seed_phrases_are_learned_and_counted(seed_tc):
    phrases = set(seed_tc.phrases["phrase"])
    assert {"chronic pain", "opioid receptors", "mitragyna speciosa"} <= phrases
    corpus_terms = set(seed_tc.counts["term"])
    assert {"chronic pain", "opioid receptors", "mitragyna speciosa"} <= corpus_terms
    scores = seed_tc.phrases["score"]
    assert ((scores >= 0.6) & (scores <= 1.0)).all()  # npmi threshold of the defaults
    assert list(scores) == sorted(scores, reverse=True)


def test_no_learned_phrase_starts_or_ends_with_a_stopword(seed_tc):
    stopwords = maintained_stopwords("gensim")
    assert len(seed_tc.phrases) > 0
    for phrase in seed_tc.phrases["phrase"]:
        words = phrase.split(" ")
        assert len(words) == 2
        assert words[0] not in stopwords and words[-1] not in stopwords, phrase
        assert not any(w.isdigit() or is_clitic(w) for w in words), phrase


def test_waterfall_records_tokens_types_and_affected():
    layer = derive_terms(prepare_documents([Document("d", "kratom leaf kratom the the x", "d")]),
                         Preprocessor(Settings(phrases=False)))
    frame = layer.waterfall
    assert list(frame.columns) == ["step", "order", "tokens", "types", "tokens_removed", "top_affected"]
    assert frame["step"].tolist() == ["tokenized", "outline excluded", "numbers dropped", "stopwords removed",
                                      "short tokens dropped"]
    assert frame["tokens"].tolist() == [6, 6, 6, 4, 3]
    assert frame["types"].tolist() == [4, 4, 4, 3, 2]
    assert frame["tokens_removed"].tolist() == [0, 0, 0, 2, 1]
    assert frame["top_affected"].tolist() == ["", "", "", "the (2)", "x (1)"]


def test_keep_words_are_normalised_like_the_text():
    # "system" is in gensim's stopword list; a capitalised keep word still keeps it
    preprocessor = Preprocessor(Settings(phrases=False, keep_words=("System",)))
    assert _terms(preprocessor, "The nervous System responds.") == ["nervous", "system", "responds"]
