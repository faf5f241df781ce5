"""Stable topic ids: align the topics of several seeds and report the medoid run."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.executor import executor_for
from analysis.stats import js_similarity
from analysis.topics.fit import TopicInput, engine_for, fit_topics
from analysis.topics.model import TopicModel, TopicResult
from analysis.topics.tables import topic_labels


def align_topics(reference: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Match the topics of ``other`` to those of ``reference`` one to one.

    Uses the Hungarian algorithm on Jensen-Shannon similarity of the
    topic-term distributions (same vocabulary, same order).

    Returns
    -------
    match : ndarray of int
        ``other[match[i]]`` is the topic matched to ``reference[i]``.
    similarity : ndarray of float
        Similarity of each matched pair, in [0, 1].
    """
    from scipy.optimize import linear_sum_assignment

    similarity = js_similarity(reference, other)
    rows, cols = linear_sum_assignment(-similarity)
    match = np.empty(len(reference), dtype=int)
    match[rows] = cols
    return match, similarity[np.arange(len(reference)), match]


def medoid(runs: list[TopicModel]) -> int:
    if len(runs) == 1:
        return 0
    mean = np.zeros(len(runs))
    for i, a in enumerate(runs):
        for j, b in enumerate(runs):
            if i < j:
                s = float(align_topics(a.topic_term, b.topic_term)[1].mean())
                mean[i] += s
                mean[j] += s
    return int(np.argmax(np.round(mean, 9)))


def stabilize(runs: list[TopicModel], settings: Settings) -> TopicResult:
    """Pick the reported run among ``runs`` and map every run's topics onto it."""
    reference = runs[medoid(runs)]
    labels = topic_labels(reference, settings.relevance_lambda)
    id_rows, stability_rows = [], []
    for run in runs:
        match, similarity = align_topics(reference.topic_term, run.topic_term)
        for topic, (j, s) in enumerate(zip(match, similarity), start=1):
            id_rows.append([run.seed, int(run.native_ids[j]), topic, float(s), run is reference])
            if run is not reference:
                stability_rows.append([topic, labels[topic], run.seed, float(s)])
    topic_ids = pd.DataFrame(id_rows, columns=["seed", "native_id", "topic", "similarity", "reference"])
    stability = pd.DataFrame(stability_rows, columns=["topic", "label", "seed", "similarity"])
    return TopicResult(reference, runs, topic_ids.sort_values(["seed", "topic"], ignore_index=True), stability)


def run_agreement(result: TopicResult) -> pd.DataFrame:
    """How much each other run's reading of the units agrees with the reported run's.

    Each unit with vocabulary terms is assigned its main topic in every run; the adjusted mutual
    information (scikit-learn's AMI: 1 = the same partition, 0 = what chance gives) compares each run's
    assignment with the reported run's. Unlike the topic similarities of ``stability``, it asks whether
    the seed changes which units go together, the question a reader of the figures has.

    Returns
    -------
    DataFrame
        ``seed, ami``: one row per run other than the reported one (empty with one seed).
    """
    from sklearn.metrics import adjusted_mutual_info_score

    reference = result.model
    kept = reference.units["n_vocab_terms"].to_numpy() > 0
    main = np.argmax(reference.unit_topic[kept], axis=1)
    rows = [[run.seed, float(adjusted_mutual_info_score(main, np.argmax(run.unit_topic[kept], axis=1)))]
            for run in result.runs if run.seed != reference.seed]
    return pd.DataFrame(rows, columns=["seed", "ami"])


def fit_stable_topics(
    prepared: TopicInput, settings: Settings, *, seeds: Sequence[int] | None = None,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> TopicResult:
    """Fit one model per seed and report the most representative one.

    Parameters
    ----------
    prepared : result of :func:`prepare`
    settings : Settings
        The fits run in ``settings.n_jobs`` processes (or on the Dask cluster
        of ``settings.scheduler``), each with one thread and its own seed: the
        runs are those of a serial fit.
    seeds : sequence of int, optional
        Default ``settings.seed, settings.seed + 1, ...`` (``settings.seeds`` of them).
    progress : callable, optional
        Wraps the iterable of seeds (e.g. ``tqdm``).
    """
    seeds = list(seeds) if seeds is not None else [settings.seed + i for i in range(settings.seeds)]
    executor = executor_for(settings)
    if engine_for(prepared, settings) == "online":  # one seed after the other, each mapping its E-steps
        runs = [fit_topics(prepared, settings, seed=seed, executor=executor)
                for seed in (progress(seeds) if progress else seeds)]
    else:
        runs = list(executor.map(_fit_seed, seeds, progress=progress, common=(prepared, settings)))
    return stabilize(runs, settings)


def _fit_seed(prepared: TopicInput, settings: Settings, seed: int) -> TopicModel:
    return fit_topics(prepared, settings, seed=seed)


