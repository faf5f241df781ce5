"""Choosing K: coherence, held-out perplexity and stability over a K x seed grid."""

from __future__ import annotations

import math
import warnings
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.executor import executor_for
from analysis.topics.fit import ENGINES, Fit, TopicInput, engine_for, model_from_fit
from analysis.topics.model import TopicModel, normalized
from analysis.topics.stability import align_topics, medoid
from analysis.topics.tables import topic_terms
from analysis.topics.units import TopicUnits


def _split(n: int, seed: int, held_out: float) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * held_out))) if n >= 5 else 0
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def heldout_perplexity(fit: Fit, topic_term: np.ndarray, bows: list[list[tuple[int, int]]]) -> float:
    """Per-word perplexity of held-out units by document completion.

    Each held-out unit's tokens are split alternately into two halves; the
    topic mixture is inferred from the first half and the second half is
    scored: ``exp(-sum log P(w) / N)`` with ``P(w) = sum_k theta_k phi_kw``.
    Lower is better. Units with fewer than two tokens are skipped.
    """
    observed, scored = [], []
    for bow in bows:
        tokens = [i for i, c in bow for _ in range(c)]
        if len(tokens) < 2:
            continue
        first = np.bincount(tokens[0::2], minlength=topic_term.shape[1])
        observed.append([(int(i), int(c)) for i, c in enumerate(first) if c])
        scored.append(tokens[1::2])
    if not scored:
        return float("nan")
    theta = fit.infer(observed)
    log_likelihood = sum(float(np.log(theta[d] @ topic_term[:, words]).sum()) for d, words in enumerate(scored))
    return math.exp(-log_likelihood / sum(len(w) for w in scored))


METRICS = {
    "c_v": "coherence c_v of each topic's top terms by weight (higher is better)",
    "c_npmi": "coherence NPMI of each topic's top terms by weight (higher is better)",
    "c_npmi_shown": "coherence NPMI of the top terms the figures show: by relevance at relevance_lambda (higher "
                    "is better)",
    "u_mass": "coherence u_mass of each topic's top terms by weight (higher is better)",
    "perplexity": "held-out per-word perplexity (lower is better)",
    "stability": "mean matched topic similarity to the medoid run of the same K (higher is better)",
}


def coherence(model_terms: list[list[str]], prepared: TopicInput, measure: str) -> float:
    """Mean coherence of topics given as top-term lists (gensim ``CoherenceModel``)."""
    return grid_coherence([model_terms], prepared, measure)[0]


def grid_coherence(runs: list[list[list[str]]], prepared: TopicInput, measure: str) -> list[float]:
    """Mean coherence of each run's topics (top-term lists of one length), from one count of the
    co-occurrences of every run's top terms over the units: gensim's ``CoherenceModel`` keeps its counts
    while the topics asked about are among those counted, so the runs share one pass over the texts
    (the counts of a word or pair do not depend on which others are counted)."""
    from gensim.models.coherencemodel import CoherenceModel

    counted = [topic for run in runs for topic in run]
    means = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = CoherenceModel(topics=counted, texts=prepared.units.texts, dictionary=prepared.dictionary,
                               coherence=measure, topn=len(counted[0]), processes=1)
        model.estimate_probabilities()
        for run in runs:
            model.topics = run
            values = np.array(model.get_coherence_per_topic(), dtype=np.float64)
            means.append(float(np.nanmean(values)) if np.isfinite(values).any() else float("nan"))
    return means


def _subset(prepared: TopicInput, rows: np.ndarray) -> TopicInput:
    """The units ``rows`` of ``prepared`` (same vocabulary and dictionary)."""
    units = prepared.units
    return TopicInput(
        TopicUnits(units.table.iloc[rows].reset_index(drop=True), units.texts.subset(rows), units.unit,
                   units.note, units.n_documents),
        prepared.vocabulary, prepared.bows.subset(rows), prepared.dictionary,
    )


def selection_sample(n_units: int, settings: Settings) -> np.ndarray | None:
    """The units the K x seed grid is fitted on when there are more than
    ``settings.k_selection_units``: a sorted random sample seeded with ``settings.seed``; None for all."""
    limit = settings.k_selection_units
    if not limit or n_units <= limit:
        return None
    return np.sort(np.random.default_rng(settings.seed).choice(n_units, limit, replace=False))


def _score(prepared: TopicInput, train_prepared: TopicInput, test_bows, settings: Settings,
           run: tuple[int, int]) -> tuple[TopicModel, float]:
    """One fit of the K x seed grid on the training units and its held-out perplexity."""
    k, seed = run
    engine = engine_for(train_prepared, settings)
    fit = ENGINES[engine](train_prepared.bows, prepared.dictionary, k, seed, settings)
    model = model_from_fit(fit, train_prepared, seed, settings, k, engine)
    return model, heldout_perplexity(fit, normalized(fit.topic_term), test_bows)


def select_k(
    prepared: TopicInput, settings: Settings, k_grid: Sequence[int], *, seeds: Sequence[int] | None = None,
    held_out: float = 0.2, top_n: int = 10, progress: Callable[[Iterable], Iterable] | None = None,
) -> pd.DataFrame:
    """Fit every K of ``k_grid`` with every seed and score each run.

    On a corpus of more than ``settings.k_selection_units`` units, the grid
    works on a seeded random sample of that many (:func:`selection_sample`):
    the grid's fits are K x seeds times the cost of one. Models are fitted on
    the units not held out (one split, from ``settings.seed``, shared by all
    runs). Coherence (c_v, c_npmi, u_mass) is computed from each topic's top
    ``top_n`` terms over all the (sampled) units;
    perplexity on the held-out units (:func:`heldout_perplexity`);
    stability as the mean matched similarity of a run's topics to those of
    the medoid run of the same K. NPMI is computed twice: on each topic's top
    ``top_n`` terms by weight (``c_npmi``, as c_v and u_mass) and on the
    ``top_n`` the figures and labels show, by relevance at
    ``relevance_lambda`` (``c_npmi_shown``).

    Returns
    -------
    DataFrame
        ``k, seed, metric, value`` (metrics as in :data:`METRICS`).
    """
    seeds = list(seeds) if seeds is not None else [settings.seed + i for i in range(settings.seeds)]
    sample = selection_sample(len(prepared.bows), settings)
    if sample is not None:
        prepared = _subset(prepared, sample)
    train, test = _split(len(prepared.bows), settings.seed, held_out)
    train_prepared = _subset(prepared, train)
    test_bows = prepared.bows.subset(test)
    for k in k_grid:
        if k > len(prepared.vocabulary):
            raise AnalysisError(f"K={k} exceeds the vocabulary of {len(prepared.vocabulary)} terms")

    grid = [(k, seed) for k in k_grid for seed in seeds]
    rows: list[list] = []
    runs: dict[int, list[TopicModel]] = {}
    fitted = list(executor_for(settings).map(_score, grid, progress=progress,
                                             common=(prepared, train_prepared, test_bows, settings)))
    tops = [[[prepared.vocabulary[i] for i in np.argsort(-row, kind="stable")[:top_n]] for row in model.topic_term]
            for model, _ in fitted]
    shown = [topic_terms(model, top_n, settings.relevance_lambda, by="relevance").groupby("topic", sort=True)["term"]
             .agg(list).tolist() for model, _ in fitted]
    coherences = {measure: grid_coherence(tops, prepared, measure) for measure in ("c_v", "u_mass")}
    both = grid_coherence(tops + shown, prepared, "c_npmi")  # one count of co-occurrences for both term lists
    coherences["c_npmi"], coherences["c_npmi_shown"] = both[:len(tops)], both[len(tops):]
    measures = ("c_v", "c_npmi", "c_npmi_shown", "u_mass")
    for number, ((k, seed), (model, perplexity)) in enumerate(zip(grid, fitted)):
        runs.setdefault(model.k, []).append(model)
        rows.extend([k, seed, measure, coherences[measure][number]] for measure in measures)
        rows.append([k, seed, "perplexity", perplexity])
    for k, models in runs.items():
        reference = models[medoid(models)]
        for model in models:
            if model is reference:
                continue
            rows.append([k, model.seed, "stability", float(align_topics(reference.topic_term, model.topic_term)[1].mean())])
    table = pd.DataFrame(rows, columns=["k", "seed", "metric", "value"])
    order = {m: i for i, m in enumerate(METRICS)}
    return table.sort_values(["metric", "k", "seed"], key=lambda s: s.map(order) if s.name == "metric" else s,
                             ignore_index=True)
