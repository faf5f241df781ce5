"""Documents grouped by a metadata column: term rates per group, and keyness between groups.

A grouping is any metadata column (quanteda's document variables): the
``folder`` of a folder corpus, any column of a CSV, JSONL or Parquet corpus,
or of ``metadata.csv``. Documents whose value is empty belong to no group;
they are counted as ungrouped and left out of the comparisons.

Every table is a reduction of the document x term matrix: a group x term
matrix is one sparse product, so a corpus of any size is compared in one
pass. Rates are per 1,000 word tokens of the group's counted blocks, as in
:mod:`analysis.terms`; keyness statistics are those of
:mod:`analysis.keyness` (Dunning's G2, Hardie's log ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.corpus import Corpus
from analysis.errors import AnalysisError
from analysis.stats import keyness_statistics

if TYPE_CHECKING:  # analysis.terms imports scipy: info decides whether documents are grouped without it
    import scipy.sparse as sp

    from analysis.terms import TermCounts

GROUP_TERM_COLUMNS = ["group", "term", "count", "tokens", "per_1000_tokens", "doc_count", "doc_share", "rank"]
GROUP_KEYNESS_COLUMNS = ["group", "reference", "term", "count", "count_reference", "per_1000_tokens",
                         "per_1000_tokens_reference", "log_likelihood", "p_value", "log_ratio", "direction",
                         "significant", "rank"]
GROUP_TOPIC_COLUMNS = ["group", "documents", "topic", "label", "prevalence", "low", "high", "corpus_prevalence"]
MAX_GROUPS = 500  # a column with more distinct values is an id, not a grouping
MAX_PERIODS = 40  # an ordered column with more distinct values is binned
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
_BUILT_IN = ("doc_id",)


@dataclass(frozen=True)
class Grouping:
    """Which group each document belongs to.

    Attributes
    ----------
    column : str
        The metadata column.
    names : list of str
        The groups, in natural order (numeric when every value is a number).
    of_document : ndarray of int
        Per document (corpus order): its group's index in ``names``, or -1
        when its value is empty.
    doc_ids : list of str
        The documents, in corpus order.
    bins : str
        For periods of an ordered column (:func:`periods`): what a period is
        when values were binned (``year``, ``month``, ``equal ranges``); else "".
    """

    column: str
    names: list[str]
    of_document: np.ndarray
    doc_ids: list[str]
    bins: str = ""

    @property
    def sizes(self) -> np.ndarray:
        """Documents per group."""
        grouped = self.of_document[self.of_document >= 0]
        return np.bincount(grouped, minlength=len(self.names))

    @property
    def n_ungrouped(self) -> int:
        return int((self.of_document < 0).sum())

    def summary(self) -> pd.DataFrame:
        """``group, documents``, one row per group."""
        return pd.DataFrame({"group": self.names, "documents": self.sizes})

    def groups_of(self, doc_ids) -> np.ndarray:
        """The group index (-1: none) of each of ``doc_ids``."""
        position = pd.Index(self.doc_ids).get_indexer(list(doc_ids))
        return np.where(position >= 0, self.of_document[position], -1)


def _natural_order(values: list[str]) -> list[str]:
    try:
        return sorted(values, key=lambda v: (float(v), v))
    except ValueError:
        return sorted(values)


def grouping_column(settings: Settings, corpus: Corpus) -> str | None:
    """The column that groups the documents: ``settings.group_by``, else ``folder`` for a folder
    corpus whose documents sit in two or more sub-folders, else None (no grouping).

    Decided from the file list alone, before the corpus is read.
    """
    if settings.group_by:
        return settings.group_by
    if corpus.path.is_dir():
        inside = [path.relative_to(corpus.path).parts for path in corpus.files() if corpus.path in path.parents]
        folders = {parts[0] for parts in inside if len(parts) > 1}
        if len(folders) >= 2:
            return "folder"
    return None


def _column_values(documents: pd.DataFrame, column: str, option: str) -> np.ndarray:
    """The stripped values of metadata column ``column`` ("" where empty); a clear error, naming
    ``option``, when there is no such column or it is empty everywhere."""
    available = [c for c in documents.columns if c not in _BUILT_IN]
    if column not in available:
        raise AnalysisError(f"{option} {column}: no metadata column of that name "
                            f"(the corpus has: {', '.join(available) or 'no metadata columns'})")
    values = documents[column].fillna("").astype(str).str.strip().to_numpy()
    if not (values != "").any():
        raise AnalysisError(f"{option} {column}: the column is empty in every document")
    return values


def grouping(documents: pd.DataFrame, column: str) -> Grouping:
    """The grouping of ``documents`` (``doc_id`` and metadata columns, corpus order) by ``column``.

    Raises
    ------
    AnalysisError
        When the column does not exist, has no value, or has so many
        distinct values (more than :data:`MAX_GROUPS`) that it identifies
        documents rather than groups them.
    """
    values = _column_values(documents, column, "--by")
    names = _natural_order(sorted(set(values[values != ""].tolist())))
    if len(names) > MAX_GROUPS:
        raise AnalysisError(f"--by {column}: {len(names):,} distinct values; a grouping has at most {MAX_GROUPS} "
                            "(is it an id column?)")
    index = {name: i for i, name in enumerate(names)}
    of_document = np.fromiter((index.get(v, -1) for v in values), dtype=np.int64, count=len(values))
    return Grouping(column, names, of_document, documents["doc_id"].tolist())


def _period_labels(values: np.ndarray, column: str) -> tuple[np.ndarray, list[str], str]:
    """Each value's period, the periods in order, and what a period is when values were binned.

    Numbers are their own periods when there are at most :data:`MAX_PERIODS`
    distinct ones, else 20 equal ranges; ISO dates are days, months or years,
    the finest with at most :data:`MAX_PERIODS` periods (years beyond that).
    """
    try:
        numbers = values.astype(float)
    except ValueError:
        numbers = None
    if numbers is not None:
        distinct, index = np.unique(numbers, return_inverse=True)
        if len(distinct) <= MAX_PERIODS:
            labels = [values[np.argmax(index == i)] for i in range(len(distinct))]  # as written: 2001, not 2001.0
            return index, labels, ""
        edges = np.linspace(distinct[0], distinct[-1], 21)
        index = np.minimum(np.searchsorted(edges, numbers, side="right") - 1, 19)
        return index, [f"{edges[i]:g}\u2013{edges[i + 1]:g}" for i in range(20)], "equal ranges"
    try:
        dates = pd.to_datetime(pd.Series(values), format="ISO8601")
    except (ValueError, TypeError):
        raise AnalysisError(f"--over {column}: its values are neither numbers nor ISO dates "
                            f"(e.g. {values[0]!r}); to compare categories use --by {column}") from None
    for unit, code in (("day", "D"), ("month", "M"), ("year", "Y")):
        period = dates.dt.to_period(code)
        if period.nunique() <= MAX_PERIODS:
            break
    names = sorted(period.unique())
    index = period.map({p: i for i, p in enumerate(names)}).to_numpy(dtype=np.int64)
    return index, [str(p) for p in names], unit if len(names) < len(set(values.tolist())) else ""


def periods(documents: pd.DataFrame, column: str) -> Grouping:
    """The documents grouped into periods of the ordered column ``column`` (numbers or ISO dates),
    in order: a :class:`Grouping` whose ``names`` are the periods.

    Raises
    ------
    AnalysisError
        When the column does not exist or its values are neither numbers nor dates.
    """
    values = _column_values(documents, column, "--over")
    present = values != ""
    of_document = np.full(len(values), -1, dtype=np.int64)
    index, labels, unit = _period_labels(values[present], column)
    of_document[present] = index
    return Grouping(column, labels, of_document, documents["doc_id"].tolist(), unit)


class GroupCounts:
    """Term counts of each group of a grouping, made on first use.

    Parameters
    ----------
    tc : TermCounts
    groups : Grouping
    """

    def __init__(self, tc: TermCounts, groups: Grouping) -> None:
        self.tc = tc
        self.groups = groups

    @cached_property
    def _sums(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        from analysis.document_terms import group_sums

        return group_sums(self.tc.prepared, self.tc.layer, self.tc.executor, self.groups.of_document,
                          len(self.groups.names))

    @property
    def counts(self) -> sp.csr_matrix:
        """Groups x terms counts (an exact reduction over chunks of documents)."""
        return self._sums[0]

    @property
    def doc_counts(self) -> sp.csr_matrix:
        """Groups x terms: documents of the group that use the term."""
        return self._sums[1]

    @cached_property
    def tokens(self) -> np.ndarray:
        """Word tokens of each group's counted blocks (the denominator of the rates)."""
        member = self.groups.of_document >= 0
        return np.bincount(self.groups.of_document[member], weights=self.tc.document_tokens[member],
                           minlength=len(self.groups.names)).astype(float)


def typical_documents(cosine: np.ndarray, groups: Grouping, tokens: np.ndarray, n: int) -> np.ndarray:
    """``n`` documents that stand for their groups: the most typical of each group in turn.

    A document's typicality is the cosine between its term profile and its group's mean profile
    (profiles are documents' term counts scaled to unit length; :func:`analysis.document_terms.group_cosines`),
    so a group's typical documents use its common vocabulary, not a stray one such as an encoded
    attachment. Documents of at least their group's median length come first, so that a typical document
    has text to show. The groups take turns, largest first: every group is represented before any has two.

    Parameters
    ----------
    cosine : ndarray of float
        Each document's cosine to its group's mean profile.
    groups : Grouping
    tokens : ndarray of int
        Word tokens of each document.
    n : int
        How many documents.

    Returns
    -------
    ndarray of int
        Document positions in the order chosen: at most ``n``, fewer when fewer documents are grouped.
    """
    member = np.flatnonzero(groups.of_document >= 0)
    of = groups.of_document[member]
    cosine = cosine[member]
    medians = pd.Series(tokens[member]).groupby(of).transform("median").to_numpy()
    order = np.lexsort((member, -cosine, tokens[member] < medians, of))  # by group; long first; most typical first
    rank_in_group = np.empty(len(member), dtype=np.int64)
    starts = np.searchsorted(of[order], np.arange(len(groups.names)))
    rank_in_group[order] = np.arange(len(member)) - starts[of[order]]
    size_rank = np.empty(len(groups.names), dtype=np.int64)
    size_rank[np.lexsort((np.arange(len(groups.names)), -groups.sizes))] = np.arange(len(groups.names))
    turns = np.lexsort((size_rank[of], rank_in_group))  # round by round, largest group first in each round
    return member[turns[:n]]


def group_terms(counts: GroupCounts) -> pd.DataFrame:
    """Term counts and rates per group.

    Returns
    -------
    DataFrame
        ``GROUP_TERM_COLUMNS``: per group, each term it uses with its count,
        the group's word tokens, the rate per 1,000 of them, the documents of
        the group that use it (and their share); ``rank`` 1 is the group's most
        frequent term (ties by term).
    """
    matrix = counts.counts.tocoo()
    doc_counts = counts.doc_counts
    names = np.asarray(counts.groups.names, dtype=object)
    terms = np.asarray(counts.tc.layer.terms, dtype=object)
    sizes = counts.groups.sizes
    table = pd.DataFrame({
        "group": names[matrix.row], "term": terms[matrix.col], "count": matrix.data.astype(np.int64),
        "tokens": counts.tokens[matrix.row].astype(np.int64),
        "doc_count": np.asarray(doc_counts[matrix.row, matrix.col]).ravel().astype(np.int64),
    })
    table["per_1000_tokens"] = 1000 * table["count"] / table["tokens"]
    table["doc_share"] = table["doc_count"] / sizes[matrix.row]
    order = np.lexsort((table["term"].to_numpy(), -table["count"].to_numpy(), matrix.row))
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = table.groupby("group", sort=False).cumcount() + 1
    return table[GROUP_TERM_COLUMNS]


def _keyness_frame(group: str, reference: str, terms: np.ndarray, a: np.ndarray, b: np.ndarray, c: float,
                   d: float, alpha: float) -> pd.DataFrame:
    statistics = keyness_statistics(a, b, c, d, alpha=alpha)
    statistics["per_1000_tokens_reference"] = statistics.pop("per_1000_tokens_rest")
    table = pd.DataFrame({"group": group, "reference": reference, "term": terms, "count": a.astype(np.int64),
                          "count_reference": b.astype(np.int64), **statistics})
    order = np.lexsort((table["term"].to_numpy(), -table["log_likelihood"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def group_keyness(counts: GroupCounts, *, compare: tuple[str, str] | None = None, alpha: float = 0.05,
                  min_count: int = 5) -> pd.DataFrame:
    """Keyness of each group against the rest of the corpus, or of one group against another.

    Parameters
    ----------
    counts : GroupCounts
    compare : (str, str), optional
        Two groups: the first against the second only (``--compare A B``).
        Default: every group against all the other grouped documents.
    alpha : float, default 0.05
        Significance threshold; ``significant`` applies a Bonferroni
        correction for the terms tested in each comparison.
    min_count : int, default 5
        Terms with fewer occurrences in the two sides together are not tested.

    Returns
    -------
    DataFrame
        ``GROUP_KEYNESS_COLUMNS``: per comparison (``group`` against
        ``reference``, which is ``(rest)`` or the second group), strongest G2
        first (``rank``), the tested terms: against the rest, those the group
        uses and those it significantly underuses; between two groups, all. ``direction`` is ``positive``
        where the group uses the term more than the reference. ``log_ratio``
        is the effect size: +1 is twice as frequent in the group.

    Raises
    ------
    AnalysisError
        For a group of ``compare`` that does not exist, or a grouping of one group.
    """
    names = counts.groups.names
    matrix = counts.counts
    terms = np.asarray(counts.tc.layer.terms, dtype=object)
    tokens = counts.tokens
    if compare is not None:
        missing = [g for g in compare if g not in names]
        if missing:
            raise AnalysisError(f"--compare: no group {missing[0]!r} in column '{counts.groups.column}' "
                                f"(groups: {', '.join(names[:20])}{' ...' if len(names) > 20 else ''})")
        if compare[0] == compare[1]:
            raise AnalysisError("--compare: give two different groups")
        first, second = (names.index(g) for g in compare)
        a = matrix[first].toarray().ravel().astype(float)
        b = matrix[second].toarray().ravel().astype(float)
        tested = (a + b) >= min_count
        return _keyness_frame(compare[0], compare[1], terms[tested], a[tested], b[tested], tokens[first],
                              tokens[second], alpha)[GROUP_KEYNESS_COLUMNS]
    if len(names) < 2:
        raise AnalysisError(f"--by {counts.groups.column}: a single group ({names[0]}); nothing to compare")
    totals = np.asarray(matrix.sum(axis=0)).ravel().astype(float)
    tested = totals >= min_count
    frames = []
    for g, name in enumerate(names):
        a = matrix[g].toarray().ravel().astype(float)[tested]
        c, d = tokens[g], tokens.sum() - tokens[g]
        if c <= 0 or d <= 0:
            continue
        table = _keyness_frame(name, "(rest)", terms[tested], a, totals[tested] - a, c, d, alpha)
        frames.append(table[(table["count"] > 0) | table["significant"]])
    table = pd.concat(frames, ignore_index=True)
    table["rank"] = table.groupby("group", sort=False).cumcount() + 1
    return table[GROUP_KEYNESS_COLUMNS]


def group_topic_prevalence(mixtures: pd.DataFrame, groups: Grouping, labels: dict[int, str], *, seed: int,
                           n_resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Topic prevalence per group, with bootstrap confidence intervals.

    A group's prevalence of a topic is the mean of its documents' topic
    proportions (each document counts once), which is what stm's
    ``estimateEffect`` estimates for a categorical covariate. The interval is
    a percentile bootstrap over the group's documents
    (:func:`scipy.stats.bootstrap`, ``n_resamples`` resamples, seeded with
    ``seed``): it shows how much the estimate depends on which documents the
    group happens to hold, not the uncertainty of the topic model itself.

    Parameters
    ----------
    mixtures : DataFrame
        Documents x topics, indexed by ``doc_id`` (:func:`analysis.topics.doc_mixtures`, or
        :func:`analysis.topics.doc_topics` pivoted); documents absent from it or without a mixture (no
        vocabulary terms: NaN) are left out.
    groups : Grouping
    labels : dict of int to str
        Topic labels.
    seed : int
    n_resamples : int, default 1000
    confidence : float, default 0.95

    Returns
    -------
    DataFrame
        ``GROUP_TOPIC_COLUMNS``: per group and topic, the prevalence, the
        interval ``low``..``high`` and the mean over every grouped document
        (``corpus_prevalence``); ``documents`` counts the group's documents with a
        topic mixture.
    """
    from scipy.stats import bootstrap

    # A document with no vocabulary term has no mixture (NaN weights): it is in no group's mean.
    mixture = mixtures.dropna(how="all").fillna(0.0)
    topics = mixture.columns.to_numpy()
    theta = mixture.to_numpy(dtype=float)
    group = groups.groups_of(mixture.index)
    grouped = group >= 0
    overall = theta[grouped].mean(axis=0) if grouped.any() else np.full(len(topics), np.nan)
    rng = np.random.default_rng(seed)
    frames = []
    for g, name in enumerate(groups.names):
        members = theta[group == g]
        if not len(members):
            continue
        mean = members.mean(axis=0)
        if len(members) > 1:
            # Batches bound the memory: resamples x documents x topics values at a time.
            batch = max(1, int(2e7 // (len(members) * len(topics))))
            interval = bootstrap((members,), np.mean, axis=0, n_resamples=n_resamples, confidence_level=confidence,
                                 method="percentile", rng=rng, batch=batch).confidence_interval
            low, high = interval.low, interval.high
        else:  # one document: no spread to resample
            low, high = np.full(len(topics), np.nan), np.full(len(topics), np.nan)
        frames.append(pd.DataFrame({"group": name, "documents": len(members), "topic": topics, "prevalence": mean,
                                    "low": low, "high": high, "corpus_prevalence": overall}))
    if not frames:
        return pd.DataFrame(columns=GROUP_TOPIC_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    table["label"] = table["topic"].map(labels)
    return table[GROUP_TOPIC_COLUMNS]


TERM_TREND_COLUMNS = ["period", "term", "documents", "count", "tokens", "per_1000_tokens", "low", "high"]


def term_trends(counts: GroupCounts, terms: Sequence[str], *, seed: int, n_resamples: int = BOOTSTRAP_RESAMPLES,
                confidence: float = CONFIDENCE) -> pd.DataFrame:
    """The rate of each of ``terms`` per period (the groups of ``counts`` in order), with bootstrap
    confidence intervals over the period's documents.

    The rate is the period's count per 1,000 of its word tokens; the
    interval resamples whole documents (a percentile bootstrap of the ratio
    of sums), so a term that one document repeats gets the wide interval it
    deserves.

    Returns
    -------
    DataFrame
        ``TERM_TREND_COLUMNS``, one row per period and term (terms not in
        the vocabulary are left out).
    """
    from scipy.stats import bootstrap

    from analysis.document_terms import columns_of

    tc = counts.tc
    index = {term: i for i, term in enumerate(tc.layer.terms)}
    known = [t for t in terms if t in index]
    matrix = columns_of(tc.prepared, tc.layer, tc.executor, np.asarray([index[t] for t in known], dtype=np.int64))
    tokens = tc.document_tokens
    rng = np.random.default_rng(seed)
    rows = []
    for g, name in enumerate(counts.groups.names):
        members = (counts.groups.of_document == g) & (tokens > 0)
        n_tokens = tokens[members]
        for j, term in enumerate(known):
            found = matrix[members, j].astype(float)
            rate = 1000 * found.sum() / n_tokens.sum() if len(n_tokens) else np.nan
            low = high = np.nan
            if len(n_tokens) > 1:
                interval = bootstrap((found, n_tokens), lambda c, t, axis: 1000 * c.sum(axis) / t.sum(axis),
                                     paired=True, vectorized=True, n_resamples=n_resamples,
                                     confidence_level=confidence, method="percentile", rng=rng).confidence_interval
                low, high = float(interval.low), float(interval.high)
            rows.append((name, term, int(members.sum()), int(found.sum()), int(n_tokens.sum()), rate, low, high))
    return pd.DataFrame(rows, columns=TERM_TREND_COLUMNS)
