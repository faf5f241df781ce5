"""Tidy views of a fitted model: topic terms, mixtures, prevalence, the intertopic map, evidence."""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.executor import Executor, LocalExecutor
from analysis.parts import TableParts, write_part
from analysis.prepared import PreparedCorpus
from analysis.stats import js_similarity
from analysis.topics.model import TopicModel, TopicResult


def _relevance_arrays(model: TopicModel, lam: float) -> dict[str, np.ndarray]:
    """Topics x terms arrays: ``weight, lift, relevance, topic_count`` (see :func:`term_relevance`)."""
    p_w = model.term_counts / model.term_counts.sum()
    phi = model.topic_term
    # In place where the arithmetic allows (the same operations in the same order): K x V arrays are large.
    with np.errstate(divide="ignore"):
        lift = phi / p_w
        relevance = np.log(lift)
        relevance *= 1 - lam
        scaled_log_phi = np.log(phi)
        scaled_log_phi *= lam
        relevance += scaled_log_phi
        del scaled_log_phi
    # Tokens of each term given to each topic: P(k|w) * count(w), P(k|w) by Bayes.
    topic_count = phi * model.prevalence[:, None]
    topic_count /= topic_count.sum(axis=0, keepdims=True)
    topic_count *= model.term_counts
    return {"weight": phi, "lift": lift, "relevance": relevance, "topic_count": topic_count}


def _table(model: TopicModel, arrays: dict[str, np.ndarray], topic: np.ndarray, term: np.ndarray) -> pd.DataFrame:
    """The ``term_relevance`` rows of the (topic index, term index) pairs given."""
    return pd.DataFrame({
        "topic": topic + 1, "term": np.asarray(model.vocabulary, dtype=object)[term],
        "weight": arrays["weight"][topic, term], "lift": arrays["lift"][topic, term],
        "relevance": arrays["relevance"][topic, term], "term_count": model.term_counts[term],
        "topic_count": arrays["topic_count"][topic, term],
    })


def term_relevance(model: TopicModel, lam: float = 0.6) -> pd.DataFrame:
    """Every topic-term pair with its weight, lift and relevance.

    Relevance (Sievert & Shirley 2014) is
    ``lam * log P(w|k) + (1 - lam) * log(P(w|k) / P(w))``.

    Returns
    -------
    DataFrame
        ``topic, term, weight, lift, relevance, term_count, topic_count``;
        ``topic_count`` is the estimated number of the term's tokens assigned
        to the topic.
    """
    k, v = model.topic_term.shape
    return _table(model, _relevance_arrays(model, lam), np.repeat(np.arange(k), v), np.tile(np.arange(v), k))


def _top(model: TopicModel, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(topic, term) indexes of each topic's ``n`` highest ``values``, ties by term, topic by topic.

    Only these rows are ever built as a table: the whole topics x terms table of a large vocabulary
    costs hundreds of MB to sort.
    """
    term_rank = np.argsort(np.argsort(np.asarray(model.vocabulary, dtype=object), kind="stable"), kind="stable")
    tops = [np.lexsort((term_rank, -row))[:n] for row in values]
    return (np.repeat(np.arange(len(values)), [len(t) for t in tops]),
            np.concatenate([np.zeros(0, dtype=np.int64), *tops]))


def topic_terms(model: TopicModel, n: int = 30, lam: float = 0.6, by: str = "weight") -> pd.DataFrame:
    """Top ``n`` terms of each topic.

    Parameters
    ----------
    model : TopicModel
    n : int, default 30
    lam : float, default 0.6
        Lambda of the relevance column.
    by : {"weight", "relevance"}
        What ``rank`` orders by.

    Returns
    -------
    DataFrame
        ``topic, label, term, weight, relevance, lift, term_count, topic_count, rank``.
    """
    arrays = _relevance_arrays(model, lam)
    table = _table(model, arrays, *_top(model, arrays[by], n))
    table["rank"] = table.groupby("topic").cumcount() + 1
    table.insert(1, "label", table["topic"].map({**_labels(model, arrays["relevance"]), **model.named}))
    return table[["topic", "label", "term", "weight", "relevance", "lift", "term_count", "topic_count", "rank"]]


def topic_labels(model: TopicModel, lam: float | None = None) -> dict[int, str]:
    """The label of each topic: the researcher's (:attr:`TopicModel.named`, from the labels file), else
    the automatic one (:func:`automatic_labels`)."""
    return {**automatic_labels(model, lam), **model.named}


def automatic_labels(model: TopicModel, lam: float | None = None, n_terms: int = 3) -> dict[int, str]:
    """Short automatic labels: the topic's top ``n_terms`` terms by relevance at ``lam`` (default: the
    ``relevance_lambda`` the model was fitted with)."""
    lam = model.settings["relevance_lambda"] if lam is None else lam
    return _labels(model, _relevance_arrays(model, lam)["relevance"], n_terms)


def _labels(model: TopicModel, relevance: np.ndarray, n_terms: int = 3) -> dict[int, str]:
    topic, term = _top(model, relevance, n_terms)
    vocabulary = np.asarray(model.vocabulary, dtype=object)
    return {k + 1: " \u00b7 ".join(vocabulary[term[topic == k]].tolist()) for k in range(len(model.topic_term))}


def unit_topics(model: TopicModel) -> pd.DataFrame:
    """P(topic | unit) in long form: ``unit_id, doc_id, position, role, topic, weight, n_vocab_terms``.

    A unit with no vocabulary term (every word pruned) has no mixture: its weights are NaN, not the
    prior the sampler would return for it.
    """
    return _unit_topics(model.units, model.unit_topic)


def _unit_topics(units: pd.DataFrame, unit_topic: np.ndarray) -> pd.DataFrame:
    """:func:`unit_topics` of some ``units`` (rows of a model's units) and their rows of ``unit_topic``."""
    k = unit_topic.shape[1]
    terms = units["n_vocab_terms"].to_numpy()
    return pd.DataFrame({
        "unit_id": np.repeat(units["unit_id"].to_numpy(), k),
        "doc_id": np.repeat(units["doc_id"].to_numpy(), k),
        "position": np.repeat(units["position"].to_numpy(), k),
        "role": np.repeat(units["role"].to_numpy(), k),
        "topic": np.tile(np.arange(1, k + 1), len(units)),
        "weight": np.where(np.repeat(terms, k) > 0, np.asarray(unit_topic).ravel(), np.nan),
        "n_vocab_terms": np.repeat(terms, k),
    })


def _rolled_up(units: pd.DataFrame, unit_topic: np.ndarray, key: str) -> pd.DataFrame:
    """Topic shares of the tokens of each group of units (weights sum to 1 per group), with the group's
    vocabulary tokens (``n_vocab_terms``).

    A group without vocabulary tokens (every term pruned) has no mixture: its weights are NaN.
    """
    # Grouped on integer codes of the key (in order of first appearance, as the key itself would be), a
    # column per topic: each group's sum of a topic adds the same values in the same order as a long
    # table of (unit, topic) rows would, in a units x K array instead of four columns of units x K rows.
    k = unit_topic.shape[1]
    codes, groups = pd.factorize(units[key].to_numpy())
    tokens = np.asarray(unit_topic) * units["n_vocab_terms"].to_numpy(dtype=np.float64)[:, None]
    wide = pd.DataFrame(tokens, columns=np.arange(1, k + 1)).groupby(codes, sort=False).sum()
    del tokens
    grouped = pd.DataFrame({"group": np.repeat(wide.index.to_numpy(), k), "topic": np.tile(np.arange(1, k + 1), len(wide)),
                            "tokens": wide.to_numpy().ravel()})
    totals = grouped.groupby("group", sort=False)["tokens"].transform("sum")
    grouped["weight"] = np.where(totals > 0, grouped["tokens"] / totals.where(totals > 0, 1), np.nan)
    terms = np.bincount(codes, weights=units["n_vocab_terms"].to_numpy(dtype=np.float64), minlength=len(groups))
    grouped["n_vocab_terms"] = terms[grouped["group"].to_numpy()].astype(np.int64)
    grouped.insert(0, key, np.asarray(groups, dtype=object)[grouped["group"].to_numpy()])
    return grouped.drop(columns=["group"])


def doc_topics(model: TopicModel, documents: Collection[str] | None = None) -> pd.DataFrame:
    """Topic mixture of each document (of ``documents`` only, when given): ``doc_id, topic, weight,
    n_vocab_terms``.

    At unit ``document`` the weights are P(topic | document); at finer units
    they are the share of the document's (vocabulary) tokens expected in each
    topic, i.e. the token-weighted mean of its units' mixtures. A document with no
    vocabulary term has NaN weights.
    """
    return _doc_topics(*_units_of(model, documents))


def _units_of(model: TopicModel, documents: Collection[str] | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The units of ``documents`` (all when None) and their rows of the mixtures."""
    if documents is None:
        return model.units, model.unit_topic
    rows = np.flatnonzero(model.units["doc_id"].isin(documents).to_numpy())
    return model.units.iloc[rows], np.asarray(model.unit_topic)[rows]


def _doc_topics(units: pd.DataFrame, unit_topic: np.ndarray) -> pd.DataFrame:
    """:func:`doc_topics` of the documents of ``units`` (all their units) and their rows of ``unit_topic``."""
    grouped = _rolled_up(units, unit_topic, "doc_id")
    return grouped[["doc_id", "topic", "weight", "n_vocab_terms"]].sort_values(["doc_id", "topic"], ignore_index=True)


UNITS_PER_PART = 100_000  # units per part of the document and unit topic tables


def _document_chunks(units: pd.DataFrame, units_per_part: int) -> list[np.ndarray]:
    """Rows of ``units`` cut into chunks of whole documents, in document id order (units in order within
    a document), each ending at the first document that takes it to ``units_per_part`` units."""
    doc_ids = units["doc_id"].to_numpy(dtype=object)
    by_document = np.lexsort((np.arange(len(doc_ids)), doc_ids.astype(str)))
    ordered = doc_ids[by_document]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(ordered) else np.zeros(0, np.int64)
    cuts = [0]
    for start in starts[1:]:
        if start - cuts[-1] >= units_per_part:
            cuts.append(int(start))
    cuts.append(len(ordered))
    return [by_document[first:stop] for first, stop in zip(cuts[:-1], cuts[1:])]


def doc_mixtures(model: TopicModel, *, units_per_part: int = UNITS_PER_PART) -> pd.DataFrame:
    """Each document's topic mixture as a documents x K table: :func:`doc_topics` pivoted (index
    ``doc_id`` in id order, a column per topic; NaN for a document without vocabulary terms), the same
    values, rolled up a chunk of whole documents at a time, so that no long table of every document and
    topic is made."""
    unit_topic = np.asarray(model.unit_topic)
    wide = [_doc_topics(model.units.iloc[rows], unit_topic[rows]).pivot(index="doc_id", columns="topic",
                                                                        values="weight")
            for rows in _document_chunks(model.units, units_per_part)]
    return pd.concat(wide).sort_index()  # one chunk at least (without units: an empty one)


def _topic_part(unit_topic_file: str, folder: str, item: tuple[str, int, np.ndarray, pd.DataFrame]) -> Path:
    """One part of ``doc_topics`` or ``unit_topics``, from its units and their rows of the memory-mapped
    mixtures."""
    name, number, rows, units = item
    unit_topic = np.load(unit_topic_file, mmap_mode="r")[rows]
    table = _doc_topics(units, unit_topic) if name == "doc_topics" else _unit_topics(units, unit_topic)
    return write_part(table, Path(folder) / f"{name}-{number:05d}.parquet")


def topic_table_parts(model: TopicModel, folder: Path, *, executor: Executor | None = None,
                      units_per_part: int = UNITS_PER_PART) -> dict[str, TableParts]:
    """:func:`doc_topics` (and, for units finer than documents, :func:`unit_topics`) written in parts by a
    map on ``executor``, each part from about ``units_per_part`` units: the long tables (a row per unit
    and topic) are never made whole. Parts of ``doc_topics`` hold whole documents, in the table's order
    (by document id); the workers read the mixtures from a memory-mapped copy in ``folder``.

    Returns
    -------
    dict of str to TableParts
        ``doc_topics`` and, below the document, ``unit_topics``: the same rows as the functions give.
    """
    folder.mkdir(parents=True, exist_ok=True)
    mixtures = folder / "unit_topic.npy"
    np.save(mixtures, np.ascontiguousarray(model.unit_topic), allow_pickle=False)
    units = model.units
    pieces = [("doc_topics", rows) for rows in _document_chunks(units, units_per_part)]
    if model.unit != "document":
        pieces += [("unit_topics", np.arange(first, min(first + units_per_part, len(units))))
                   for first in range(0, max(len(units), 1), units_per_part)]
    numbers = {name: itertools.count() for name, _ in pieces}
    items = ((name, next(numbers[name]), rows, units.iloc[rows]) for name, rows in pieces)  # units cut as sent
    written = list((executor or LocalExecutor(1)).map(_topic_part, items, common=(str(mixtures), str(folder))))
    return {name: TableParts(tuple(path for path, (of, _) in zip(written, pieces) if of == name))
            for name in dict.fromkeys(name for name, _ in pieces)}


ROLE_ORDER = ("summary", "intro", "body", "conclusion", "paragraph", "heading")


def topic_prevalence(model: TopicModel, by: str = "document", documents: Collection[str] | None = None) -> pd.DataFrame:
    """Topic prevalence per document or per block role.

    Parameters
    ----------
    model : TopicModel
    by : {"document", "role"}
        ``role`` needs units finer than documents.
    documents : collection of str, optional
        With ``by="document"``, the documents whose rows are wanted (a figure's): only their units are
        read. Default: every document.

    Returns
    -------
    DataFrame
        ``group_by, group, topic, label, tokens, weight`` (weights sum to 1 per group).
    """
    if by not in ("document", "role"):
        raise ValueError(f"by must be 'document' or 'role', got {by!r}")
    if by == "role" and model.unit == "document":
        raise AnalysisError("topic prevalence by role needs units finer than documents (unit = section or paragraph)")
    key = "doc_id" if by == "document" else "role"
    grouped = _rolled_up(*_units_of(model, documents if by == "document" else None), key).rename(
        columns={key: "group"})
    if by == "role":
        rank = {r: i for i, r in enumerate(ROLE_ORDER)}
        grouped = grouped.sort_values(["group", "topic"], key=lambda s: s.map(rank) if s.name == "group" else s)
    else:
        grouped = grouped.sort_values(["group", "topic"])
    grouped.insert(0, "group_by", by)
    grouped["label"] = grouped["topic"].map(topic_labels(model))
    return grouped[["group_by", "group", "topic", "label", "tokens", "weight"]].reset_index(drop=True)


def intertopic_coordinates(topic_term) -> np.ndarray:
    """2-D coordinates of topics: classical scaling (PCoA) of their
    Jensen-Shannon distances, axis signs fixed so the map is reproducible.

    pyLDAvis's default scales the JS *divergence*; the distance (its square
    root) is a metric, so the map is a faithful embedding. The HTML view is
    given these coordinates too, so both maps are the same.
    """
    topic_term = np.asarray(topic_term, dtype=np.float64)
    distance = 1.0 - js_similarity(topic_term, topic_term)
    np.fill_diagonal(distance, 0.0)
    k = len(topic_term)
    centering = np.eye(k) - np.ones((k, k)) / k
    b = -0.5 * centering @ (distance**2) @ centering
    values, vectors = np.linalg.eigh(b)
    order = np.argsort(values)[::-1][:2]
    coords = np.zeros((k, 2))
    coords[:, :len(order)] = vectors[:, order] * np.sqrt(np.clip(values[order], 0, None))
    for j in range(2):
        if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
            coords[:, j] *= -1
    return coords


def intertopic_map(model: TopicModel) -> pd.DataFrame:
    """Topics on the intertopic distance map (:func:`intertopic_coordinates`).

    Returns
    -------
    DataFrame
        ``topic, label, x, y, prevalence``.
    """
    coords = intertopic_coordinates(model.topic_term)
    labels = topic_labels(model)
    return pd.DataFrame({
        "topic": model.topic_ids, "label": [labels[t] for t in model.topic_ids],
        "x": coords[:, 0], "y": coords[:, 1], "prevalence": model.prevalence,
    })


def _term_pattern(term: str) -> re.Pattern:
    words = [re.escape(w) for w in re.split(r"\s+", term.strip())]
    return re.compile(r"(?<![\w-])" + r"[\s\u2010-\u2015-]+".join(words) + r"(?:'s|s)?(?![\w-])", re.IGNORECASE)


def topic_evidence(
    model: TopicModel, prepared: PreparedCorpus, *, n_passages: int = 3, n_terms: int = 5,
    excerpt_chars: int = 240, window: int = 40, min_terms: int = 5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The passages that carry each topic, and its top terms in context.

    Parameters
    ----------
    model : TopicModel
    prepared : PreparedCorpus
        The corpus the model was fitted on (only the passages' documents are read).
    n_passages : int, default 3
        Passages (units) per topic, by descending P(topic | unit), among
        units with at least ``min_terms`` vocabulary terms.
    n_terms : int, default 5
        Top terms by relevance whose occurrences are shown in context.
    excerpt_chars : int, default 240
    window : int, default 40
        Characters of context either side of a keyword.
    min_terms : int, default 5

    Returns
    -------
    passages : DataFrame
        ``topic, label, rank, doc_id, unit_id, role, weight, excerpt``.
    kwic : DataFrame
        ``topic, term, doc_id, unit_id, left, match, right`` (the raw text;
        a lemmatised term matches only its own word form).
    """
    lam = model.settings["relevance_lambda"]
    labels = topic_labels(model, lam)
    eligible = model.units["n_vocab_terms"].to_numpy() >= min(min_terms, int(model.units["n_vocab_terms"].max()))
    picks: dict[int, list[int]] = {}
    for t in range(model.k):
        weights = np.where(eligible, model.unit_topic[:, t], -1.0)
        order = sorted(range(len(weights)), key=lambda u: (-round(float(weights[u]), 9), u))
        picks[t + 1] = [u for u in order[:n_passages] if weights[u] >= 0]
    wanted = {int(u) for us in picks.values() for u in us}
    needed_docs = set(model.units.iloc[sorted(wanted)]["doc_id"])
    numbers = {doc_id: i for i, doc_id in enumerate(prepared.doc_ids) if doc_id in needed_docs}
    found = prepared.texts(numbers.values())
    texts = {doc_id: found[number] for doc_id, number in numbers.items()}
    top_terms = topic_terms(model, n_terms, lam, by="relevance")
    passage_rows, kwic_rows = [], []
    for topic, units in picks.items():
        terms = top_terms.loc[top_terms["topic"] == topic, "term"].tolist()
        for rank, u in enumerate(units, start=1):
            row = model.units.iloc[u]
            text = texts.get(row["doc_id"], "")[int(row["start"]):int(row["end"])]
            flat = " ".join(text.split())
            excerpt = flat if len(flat) <= excerpt_chars else flat[: excerpt_chars - 1].rsplit(" ", 1)[0] + "\u2026"
            passage_rows.append([topic, labels[topic], rank, row["doc_id"], row["unit_id"], row["role"],
                                 float(model.unit_topic[u, topic - 1]), excerpt])
            for term in terms:
                for m in _term_pattern(term).finditer(flat):
                    kwic_rows.append([topic, term, row["doc_id"], row["unit_id"],
                                      flat[max(0, m.start() - window):m.start()], m.group(0),
                                      flat[m.end():m.end() + window]])
    passages = pd.DataFrame(passage_rows, columns=["topic", "label", "rank", "doc_id", "unit_id", "role", "weight", "excerpt"])
    kwic = pd.DataFrame(kwic_rows, columns=["topic", "term", "doc_id", "unit_id", "left", "match", "right"])
    return passages, kwic


def topic_summary(result: TopicResult) -> pd.DataFrame:
    """One row per topic of the reported model.

    Returns
    -------
    DataFrame
        ``topic, label, prevalence, stability_median, stability_min,
        native_id`` (stability columns are NaN with a single seed).
    """
    model = result.model
    labels = topic_labels(model)
    stats = result.stability.groupby("topic")["similarity"].agg(["median", "min"])
    return pd.DataFrame({
        "topic": model.topic_ids,
        "label": [labels[t] for t in model.topic_ids],
        "prevalence": model.prevalence,
        "stability_median": [float(stats["median"].get(t, np.nan)) for t in model.topic_ids],
        "stability_min": [float(stats["min"].get(t, np.nan)) for t in model.topic_ids],
        "native_id": model.native_ids.astype(int),
    })


def convergence_table(result: TopicResult) -> pd.DataFrame:
    """Every run's log-likelihood trace, one row per reading.

    Returns
    -------
    DataFrame
        ``seed, sweep, log_likelihood, reported, stopped``: the log-likelihood
        per word after ``sweep`` Gibbs sweeps; ``reported`` marks the run the
        tables and figures report (the medoid); ``stopped`` says why each run
        stopped. Empty for an engine that records no trace.
    """
    rows = [[run.seed, int(sweep), float(ll), run.seed == result.model.seed, run.stopped]
            for run in result.runs for sweep, ll in run.trace]
    return pd.DataFrame(rows, columns=["seed", "sweep", "log_likelihood", "reported", "stopped"])


def late_change(table: pd.DataFrame) -> tuple[int, float]:
    """How much the reported run still moved: the mean log-likelihood per word over its last fifth of
    sweeps minus the mean over the fifth before (``convergence_table`` rows); returns (sweeps in a
    fifth, change). Means, not end points, because a Gibbs trace is noisy."""
    run = table[table["reported"]].sort_values("sweep")
    fifth = max(len(run) // 5, 1)
    values = run["log_likelihood"].to_numpy()
    if len(values) < 2 * fifth:
        return 0, float("nan")
    step = int(run["sweep"].iat[-1] - run["sweep"].iat[-1 - fifth]) if len(run) > fifth else int(run["sweep"].iat[-1])
    return step, float(values[-fifth:].mean() - values[-2 * fifth:-fifth].mean())


def topic_ids_table(result: TopicResult) -> pd.DataFrame:
    """The mapping from each run's native topic ids to the canonical ids, with labels."""
    labels = topic_labels(result.model)
    table = result.topic_ids.copy()
    table.insert(3, "label", table["topic"].map(labels))
    return table


