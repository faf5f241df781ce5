"""Keyness: which terms one document uses more (or less) than the rest of the corpus.

For each document and term, with ``a`` occurrences in the document of ``c``
word tokens and ``b`` in the rest of ``d`` word tokens:

- ``log_likelihood`` is Dunning's G2 (Rayson & Garside 2000),
  ``2 * (a ln(a / E1) + b ln(b / E2))`` with ``E1 = c (a + b) / (c + d)`` and
  ``E2 = d (a + b) / (c + d)``; ``p_value`` from the chi-square distribution
  with 1 degree of freedom;
- ``log_ratio`` is Hardie's (2014) effect size, ``log2`` of the ratio of the
  two relative frequencies, a zero count replaced by 0.5: +1 means twice as
  frequent in the document, -1 half as frequent (reported as 0 where that
  replacement would reverse the observed direction).

Significance alone says little in small corpora; keyness is reported with
both, and a keyword must pass the threshold *and* be sorted by effect size to
mean much.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.stats import chi2_p_value, g2_expected, keyness_statistics
from analysis.terms import TermCounts

KEYNESS_COLUMNS = ["doc_id", "term", "count", "count_rest", "per_1000_tokens", "per_1000_tokens_rest",
                   "log_likelihood", "p_value", "log_ratio", "direction", "significant"]


def keyness(tc: TermCounts, *, documents: Sequence[str] | None = None, alpha: float = 0.05,
            min_count: int = 3) -> pd.DataFrame:
    """Each document against the rest of the corpus: positive and negative keywords.

    The corpus totals are an exact reduction over chunks of documents
    (:mod:`analysis.document_terms`); only the rows of the documents asked
    for are read, so the cost grows with them, not with the corpus squared.

    Parameters
    ----------
    tc : TermCounts
    documents : sequence of str, optional
        The documents (ids) to test, each against all the others; default:
        every document with a counted term.
    alpha : float, default 0.05
        Significance threshold; ``significant`` applies a Bonferroni correction
        for the number of terms tested per document.
    min_count : int, default 3
        Terms with fewer occurrences in the whole corpus are not tested.

    Returns
    -------
    DataFrame
        ``KEYNESS_COLUMNS``, per document strongest G2 first; ``direction`` is
        ``positive`` (overused in the document) or ``negative``.
    """
    tokens = tc.document_tokens
    has_terms = tc.totals.types > 0
    totals = tc.totals.count
    tested = np.flatnonzero(totals >= min_count)  # the terms are sorted: so are these
    terms = np.asarray(tc.layer.terms, dtype=object)[tested]
    corpus_tokens = float(tokens[has_terms].sum())
    doc_ids = np.asarray(tc.prepared.doc_ids, dtype=object)
    rows = np.flatnonzero(has_terms)
    if documents is not None:
        wanted = set(documents)
        rows = np.asarray([r for r in rows.tolist() if doc_ids[r] in wanted], dtype=np.int64)
    rows = rows[np.argsort(doc_ids[rows].astype(str), kind="stable")] if len(rows) else rows
    matrix = tc.document_rows(rows)
    frames = []
    for i, row in enumerate(rows.tolist()):
        a = matrix[i].toarray().ravel()[tested].astype(float)
        b = totals[tested].astype(float) - a
        c, d = float(tokens[row]), corpus_tokens - float(tokens[row])
        if d <= 0:
            continue
        frames.append(pd.DataFrame({"doc_id": doc_ids[row], "term": terms, "count": a.astype(int),
                                    "count_rest": b.astype(int), **keyness_statistics(a, b, c, d, alpha=alpha)}))
    if not frames:
        return pd.DataFrame(columns=KEYNESS_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["doc_id", "log_likelihood", "term"], ascending=[True, False, True], ignore_index=True)


REFERENCE_COLUMNS = ["term", "count", "per_1000_tokens", "reference_per_1000", "reference", "log_likelihood",
                     "p_value", "log_ratio", "direction", "significant"]


def _word_list(language: str, wordlist: str) -> dict[str, float]:
    """wordfreq's frequency list, most frequent first."""
    import wordfreq

    try:
        return wordfreq.get_frequency_dict(language, wordlist=wordlist)
    except (LookupError, ValueError):
        raise AnalysisError(f"setting 'language' {language!r}: wordfreq has no {wordlist!r} word list for it "
                            "(keyness against general language needs one)") from None


def _reference_frequencies(words: list[str], listed: dict[str, float], language: str,
                           wordlist: str) -> tuple[np.ndarray, list[str]]:
    """wordfreq frequencies of ``words`` and how each was found (see :func:`reference_keyness`)."""
    import wordfreq

    floor = min(listed.values()) / 2
    frequencies, sources = [], []
    for word in words:
        if word in listed:
            frequencies.append(listed[word])
            sources.append("listed")
            continue
        estimate = wordfreq.word_frequency(word, language, wordlist=wordlist)
        frequencies.append(estimate if estimate > 0 else floor)
        sources.append("estimated from parts" if estimate > 0 else "unlisted")
    return np.array(frequencies, dtype=float), sources


def reference_keyness(
    tc: TermCounts, *, language: str = "en", wordlist: str = "best", alpha: float = 0.05, min_count: int = 3,
    is_function_word: Callable[[str], bool] | None = None,
) -> pd.DataFrame:
    """The corpus against general usage: words used far more (or less) than in wordfreq's list.

    The reference is `wordfreq <https://github.com/rspeer/wordfreq>`_ (Speer
    2022), word frequencies pooled from Wikipedia, subtitles, news, books,
    web text, Twitter and Reddit: a share ``p`` of all word tokens per word.
    Its source corpora are billions of tokens, so it is treated as a known
    rate: with ``a`` occurrences in ``c`` corpus word tokens and ``E = c p``,
    ``log_likelihood`` is G2 = ``2 (a ln(a / E) - (a - E))`` (the limit of
    Dunning's G2 as the reference grows) and ``log_ratio`` is
    ``log2((a / c) / p)``.

    Words are the counted terms with multiword terms split back into words,
    so the comparison is word against word; stopwords stay out as in every
    term count, while ``c`` counts every word token, as wordfreq's shares do.
Tested are the corpus's words seen ``min_count`` times or more and, for
    negative keywords, the list's words expected ``min_count`` times or more
    (``E >= min_count``) that are not function words, even if the corpus never
    uses them (a zero count is replaced by 0.5 in the log ratio).
    How the reference frequency was found is in ``reference``:

    - ``listed``: the word is in the list;
    - ``estimated from parts``: wordfreq splits it (``anti-inflammatory``)
      and combines the parts' frequencies, an upper bound of the word's own
      frequency, so its positive keyness is understated, never overstated;
    - ``unlisted``: not in the list at all (below about one in 100 million
      words, or spelled unusually: ``kr8tom``); half the list's smallest
      frequency is used, as a zero count is replaced by 0.5 elsewhere.

    Lemmatised terms (setting ``lemmatize``) are compared with the frequency
    of the lemma's own spelling, which undercounts the reference for words
    with many forms.

    Parameters
    ----------
    tc : TermCounts
    language : str, default "en"
    wordlist : {"best", "large", "small"}, default "best"
        wordfreq's list: ``best`` is ``large`` where the language has one
        (English: words down to about 1e-8), else ``small``.
    alpha : float, default 0.05
        Significance threshold, Bonferroni-corrected for the words tested.
    min_count : int, default 3
        Words seen fewer times in the corpus, and expected fewer times from
        the reference, are not tested.
    is_function_word : callable, optional
        Words of the reference list to leave out (the stopwords the term
        counts dropped); default: none.

    Returns
    -------
    DataFrame
        ``REFERENCE_COLUMNS``, strongest G2 first; ``direction`` is
        ``positive`` (used more than in general English) or ``negative``.
    """
    included = tc.blocks[tc.blocks["included"]]
    tokens = float(included["n_tokens"].sum())
    words: Counter = Counter()
    totals = tc.totals.count
    for term_id in np.flatnonzero(totals).tolist():
        for word in tc.layer.terms[term_id].split(" "):
            words[word] += int(totals[term_id])
    if tokens == 0:
        return pd.DataFrame(columns=REFERENCE_COLUMNS)
    listed = _word_list(language, wordlist)
    skip = is_function_word or (lambda word: False)
    underused = (w for w, f in listed.items() if tokens * f >= min_count and w.isalpha() and not skip(w))
    tested = sorted({w for w, n in words.items() if n >= min_count}.union(underused))
    if not tested:
        return pd.DataFrame(columns=REFERENCE_COLUMNS)
    reference, sources = _reference_frequencies(tested, listed, language, wordlist)
    a = np.array([words[w] for w in tested], dtype=float)
    expected = tokens * reference
    ll = g2_expected(a, expected)
    p = chi2_p_value(ll)
    ratio = np.log2((np.maximum(a, 0.5) / tokens) / reference)
    table = pd.DataFrame({
        "term": tested, "count": a.astype(int), "per_1000_tokens": 1000 * a / tokens,
        "reference_per_1000": 1000 * reference, "reference": sources, "log_likelihood": ll, "p_value": p,
        "log_ratio": ratio, "direction": np.where(ratio >= 0, "positive", "negative"),
        "significant": p < alpha / len(tested),
    })
    return table.sort_values(["log_likelihood", "term"], ascending=[False, True], ignore_index=True)
