"""Normalisation, tokenisation and the preprocessing pipeline (analysis.tokens)."""

from __future__ import annotations

import pytest

from analysis.config import Settings
from analysis.corpus import Document
from analysis.tokens import (
    STEPS,
    Preprocessor,
    Waterfall,
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


# -- Preprocessor -------------------------------------------------------------

def test_clitics_are_removed_by_the_stopword_step():
    pre = Preprocessor(Settings(phrases=False))
    assert pre.terms("We'll see whether kratom works; don't guess, you're told.") == [
        "kratom", "works", "guess", "told",
    ]
    assert pre.terms("We\u2019ll check it. They\u2019re sure, I\u2019m not, it\u2019s fine.") == ["check", "sure", "fine"]


def test_preprocessor_drops_numbers_short_tokens_and_keeps_alphanumerics():
    pre = Preprocessor(Settings(phrases=False))
    # 12 and 2 are numbers; "x" is shorter than min_token_length=2; kr8tom stays
    assert pre.terms("Take 12 doses of kr8tom in 2 weeks, x marks it.") == ["doses", "kr8tom", "weeks", "marks"]


def test_keep_numbers_and_extra_stopwords_and_keep_words():
    pre = Preprocessor(Settings(phrases=False, drop_numbers=False, extra_stopwords=("Kratom",), keep_words=("not",)))
    # extra stopwords are normalised (case); keep_words are taken out of the stopword list
    assert pre.terms("Kratom is not 12 leaves") == ["not", "12", "leaves"]
    assert "corpus stopwords removed" in pre.steps


def test_min_token_length():
    pre = Preprocessor(Settings(phrases=False, min_token_length=5))
    assert pre.terms("pain relief kratom leaf") == ["relief", "kratom"]


def test_stopwords_none_keeps_function_words():
    pre = Preprocessor(Settings(phrases=False, stopwords="none"))
    assert pre.terms("the kratom and the pain") == ["the", "kratom", "and", "the", "pain"]


def test_lemmatize_setting():
    plain = Preprocessor(Settings(phrases=False))
    lemmas = Preprocessor(Settings(phrases=False, lemmatize=True))
    assert plain.terms("receptors studies") == ["receptors", "studies"]
    assert lemmas.terms("receptors studies") == ["receptor", "study"]
    assert "lemmatised" in lemmas.steps and "lemmatised" not in plain.steps


def test_steps_follow_settings():
    assert Preprocessor(Settings()).steps == (
        "tokenized", "outline excluded", "phrases joined", "numbers dropped", "stopwords removed",
        "short tokens dropped",
    )
    everything = Preprocessor(Settings(lemmatize=True, extra_stopwords=("kratom",)), masks={}).steps
    assert everything == STEPS


def test_outline_blocks_are_excluded_unless_include_outline():
    text = "Summary here.\nIntro here.\n- Alpha heading\n- Beta heading\nAlpha heading\nAlpha body.\nBeta heading\nBeta body.\nEnd."
    doc = Document("d", text, "d")
    excluded = list(Preprocessor(Settings(phrases=False)).process(doc))
    included = list(Preprocessor(Settings(phrases=False, include_outline=True)).process(doc))
    outline = [pb for pb in excluded if pb.block.role == "outline"]
    assert len(outline) == 2
    assert all(not pb.included and pb.terms == [] for pb in outline)
    assert outline[0].sentences == [["alpha", "heading"]]  # tokens are kept for n_tokens
    assert [pb.terms for pb in included if pb.block.role == "outline"] == [["alpha", "heading"], ["beta", "heading"]]
    assert all(pb.included for pb in included)


@pytest.mark.parametrize(
    ("token", "expected"),
    [("the", True), ("and", True), ("12", True), ("we'll", True), ("don't", True), ("x", True),
     ("kratom", False), ("pain", False), ("kr8tom", False), ("7-hydroxymitragynine", False)],
)
def test_is_function_word(token, expected):
    assert Preprocessor(Settings()).is_function_word(token) is expected


# -- phrases ------------------------------------------------------------------

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
    pre = Preprocessor(Settings())
    pre.phrases_ = dict(scores)
    assert pre.join_phrases(["plant", "mitragyna", "speciosa"]) == expected


def test_join_phrases_non_overlapping_pairs_and_repeats():
    pre = Preprocessor(Settings())
    pre.phrases_ = {("chronic", "pain"): 0.7, ("opioid", "receptors"): 0.8}
    sentence = "chronic pain and opioid receptors chronic pain".split()
    assert pre.join_phrases(sentence) == ["chronic pain", "and", "opioid receptors", "chronic pain"]
    # a chain of three overlapping pairs: the best pair wins, the rest stay single
    pre.phrases_ = {("a", "b"): 0.6, ("b", "c"): 0.9, ("c", "d"): 0.7}
    assert pre.join_phrases(["a", "b", "c", "d"]) == ["a", "b c", "d"]


def test_phrase_terms_pass_through_the_filters():
    pre = Preprocessor(Settings())
    pre.phrases_ = {("chronic", "pain"): 0.8}
    assert pre.terms("The chronic pain of the patient.") == ["chronic pain", "patient"]
    assert list(pre.phrase_table()["phrase"]) == ["chronic pain"]


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


def test_phrases_are_learned_from_counted_blocks_only(seed_corpus):
    from analysis.tokens import fitted_preprocessor

    pre = fitted_preprocessor(Settings(corpus=seed_corpus))
    assert pre.phrases_ and all(isinstance(s, float) for s in pre.phrases_.values())
    off = fitted_preprocessor(Settings(corpus=seed_corpus, phrases=False))
    assert off.phrases_ == {}


# -- waterfall ----------------------------------------------------------------

def test_waterfall_records_tokens_types_and_affected():
    wf = Waterfall()
    wf.record("tokenized", ["a", "b", "a"])
    wf.record("stopwords removed", ["b"], ["a", "a"])
    frame = wf.to_frame(["tokenized", "stopwords removed"])
    assert list(frame.columns) == ["step", "order", "tokens", "types", "tokens_removed", "top_affected"]
    assert frame["tokens"].tolist() == [3, 1]
    assert frame["types"].tolist() == [2, 1]
    assert frame["tokens_removed"].tolist() == [0, 2]
    assert frame["top_affected"].tolist() == ["", "a (2)"]


def test_keep_words_are_normalised_like_the_text():
    # "system" is in gensim's stopword list; a capitalised keep word still keeps it
    preprocessor = Preprocessor(Settings(phrases=False, keep_words=("System",)))
    assert preprocessor.terms("The nervous System responds.") == ["nervous", "system", "responds"]
