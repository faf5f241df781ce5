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

import math

import numpy as np
import pandas as pd

from analysis.terms import TermCounts, term_frequencies

KEYNESS_COLUMNS = ["doc_id", "term", "count", "count_rest", "per_1000_tokens", "per_1000_tokens_rest",
                   "log_likelihood", "p_value", "log_ratio", "direction", "significant"]


def g2(a: np.ndarray, b: np.ndarray, c: float, d: np.ndarray | float) -> np.ndarray:
    """Dunning's log-likelihood G2 for counts ``a`` of ``c`` tokens against ``b`` of ``d``.

    >>> round(float(g2(np.array([10.0]), np.array([5.0]), 1000.0, 4000.0)[0]), 4)
    15.3248
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(a > 0, a * np.log(a / e1), 0.0)
        t2 = np.where(b > 0, b * np.log(b / e2), 0.0)
    return 2 * (t1 + t2)


def keyness(tc: TermCounts, *, alpha: float = 0.05, min_count: int = 3) -> pd.DataFrame:
    """Each document against the rest of the corpus: positive and negative keywords.

    Parameters
    ----------
    tc : TermCounts
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
    by_doc = term_frequencies(tc, "document")
    totals = by_doc.groupby("term")["count"].sum()
    tested = totals[totals >= min_count].index
    tokens = by_doc.drop_duplicates("doc_id").set_index("doc_id")["tokens"]
    corpus_tokens = float(tokens.sum())
    frames = []
    for doc_id, size in tokens.items():
        mine = by_doc[by_doc["doc_id"] == doc_id].set_index("term")["count"]
        a = mine.reindex(tested, fill_value=0).to_numpy(dtype=float)
        b = totals.reindex(tested).to_numpy(dtype=float) - a
        c, d = float(size), corpus_tokens - float(size)
        if d <= 0:
            continue
        ll = g2(a, b, c, d)
        p = np.array([math.erfc(math.sqrt(max(v, 0.0) / 2)) for v in ll])
        ratio = np.log2((np.maximum(a, 0.5) / c) / (np.maximum(b, 0.5) / d))
        overused = a / c >= b / d
        # A zero replaced by 0.5 can reverse the sign for rare terms: the data cannot tell, report 0.
        ratio = np.where(overused, np.maximum(ratio, 0.0), np.minimum(ratio, 0.0))
        frames.append(pd.DataFrame({
            "doc_id": doc_id, "term": np.asarray(tested), "count": a.astype(int), "count_rest": b.astype(int),
            "per_1000_tokens": 1000 * a / c, "per_1000_tokens_rest": 1000 * b / d, "log_likelihood": ll,
            "p_value": p, "log_ratio": ratio, "direction": np.where(overused, "positive", "negative"),
            "significant": p < alpha / max(len(tested), 1),
        }))
    if not frames:
        return pd.DataFrame(columns=KEYNESS_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["doc_id", "log_likelihood", "term"], ascending=[True, False, True], ignore_index=True)
