"""The statistics every analysis shares: log-likelihood G2, p-values, log ratio, Jensen-Shannon.

Two forms of G2 are in use, and they answer different questions:

- :func:`log_likelihood` is the corpus-comparison form of Rayson & Garside
  (2000), summed over the two *frequency* cells only (the term in corpus 1
  and in corpus 2). It is what keyness tools (Wmatrix, AntConc, the Lancaster
  log-likelihood wizard) report, so keyness uses it;
- :func:`g2_contingency` is Dunning's (1993) G2 over the full 2 x 2 table,
  the form collocation tools report for a node and a collocate.

:func:`g2_expected` compares observed counts with expected counts from a
reference list (a Poisson deviance). p-values come from the chi-square
distribution with one degree of freedom (:func:`chi2_p_value`).
"""

from __future__ import annotations

import numpy as np


def log_likelihood(a: np.ndarray, b: np.ndarray, c: float, d: np.ndarray | float) -> np.ndarray:
    """Rayson & Garside's G2 for counts ``a`` of ``c`` tokens against ``b`` of ``d``.

    >>> round(float(log_likelihood(np.array([10.0]), np.array([5.0]), 1000.0, 4000.0)[0]), 4)
    15.3248
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * (np.where(a > 0, a * np.log(a / e1), 0.0) + np.where(b > 0, b * np.log(b / e2), 0.0))


def g2_contingency(o11: np.ndarray, row: np.ndarray, column: np.ndarray, n: float) -> np.ndarray:
    """Dunning's G2 of 2 x 2 tables given the top-left cell, its row and column totals and ``n``.

    >>> round(float(g2_contingency(10, 100, 100, 10000)), 3)
    29.748
    """
    o11, row, column = (np.asarray(x, dtype=float) for x in (o11, row, column))
    observed = np.stack([o11, row - o11, column - o11, n - row - column + o11])
    expected = np.stack([row * column, row * (n - column), (n - row) * column, (n - row) * (n - column)]) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        from scipy import special  # imported where used: kwic and info need no scipy

        return 2 * special.xlogy(observed, observed / expected).sum(axis=0)


def g2_expected(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """G2 of observed counts against expected ones (``2 (a ln(a / E) - (a - E))``).

    >>> float(g2_expected(np.array([5.0]), np.array([5.0]))[0])
    0.0
    """
    observed, expected = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * (np.where(observed > 0, observed * np.log(observed / expected), 0.0) - (observed - expected))


def chi2_p_value(g2: np.ndarray) -> np.ndarray:
    """p-value of G2 under the chi-square distribution with one degree of freedom.

    >>> round(float(chi2_p_value(3.841458820694124)), 6)
    0.05
    """
    from scipy import special

    return special.chdtrc(1, np.maximum(np.asarray(g2, dtype=float), 0.0))  # scipy.stats.chi2.sf, without its import


def log_ratio(a: np.ndarray, c: float, b: np.ndarray, d: np.ndarray | float) -> np.ndarray:
    """Hardie's log ratio, ``log2((a / c) / (b / d))``, a zero count replaced by 0.5.

    Where the replacement would reverse the observed direction (a rare term
    seen in neither corpus often enough to tell), the ratio is reported as 0.

    >>> log_ratio(np.array([20.0, 0.0]), 1000.0, np.array([10.0, 1.0]), np.array([1000.0, 10000.0])).tolist()
    [1.0, 0.0]
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ratio = np.log2((np.maximum(a, 0.5) / c) / (np.maximum(b, 0.5) / d))
    return np.where(a / c >= b / d, np.maximum(ratio, 0.0), np.minimum(ratio, 0.0))


def js_similarity(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Pairwise ``1 - Jensen-Shannon distance`` (base 2, so in [0, 1]) between the rows of ``p`` and ``q``.

    >>> float(js_similarity(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]))[0, 0])
    1.0
    >>> float(js_similarity(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))[0, 0])
    0.0
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    divergence = np.empty((len(p), len(q)))
    for i, row in enumerate(p):  # a row at a time: rows x rows x terms at once is GBs for a large vocabulary
        m = (row[None, :] + q) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_p = np.where(row[None, :] > 0, row[None, :] * np.log2(row[None, :] / m), 0.0).sum(axis=1)
            kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
        divergence[i] = (kl_p + kl_q) / 2
    return 1.0 - np.sqrt(np.clip(divergence, 0.0, 1.0))


def keyness_statistics(a: np.ndarray, b: np.ndarray, c: float, d: float, *, alpha: float) -> dict[str, np.ndarray]:
    """The keyness of terms seen ``a`` times in ``c`` word tokens against ``b`` times in ``d``
    (:mod:`analysis.keyness`): ``per_1000_tokens``, ``per_1000_tokens_rest``, ``log_likelihood``,
    ``p_value``, ``log_ratio``, ``direction`` and ``significant`` (Bonferroni over the terms given)."""
    ll = log_likelihood(a, b, c, d)
    p = chi2_p_value(ll)
    return {"per_1000_tokens": 1000 * a / c, "per_1000_tokens_rest": 1000 * b / d, "log_likelihood": ll,
            "p_value": p, "log_ratio": log_ratio(a, c, b, d),
            "direction": np.where(a / c >= b / d, "positive", "negative"),
            "significant": p < alpha / max(len(a), 1)}
