"""Fitting one LDA model: vocabulary, bag-of-words, the gensim and tomotopy engines."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.executor import Executor, LocalExecutor
from analysis.provenance import import_tomotopy
from analysis.topics.model import TopicModel, normalized
from analysis.topics.units import TopicUnits, UnitTexts

if TYPE_CHECKING:
    import scipy.sparse as sp


UNITS_PER_PASS = 20_000  # units counted at a time while the vocabulary and the bags of words are made


def _unit_slices(texts: UnitTexts) -> Iterator[tuple[int, UnitTexts]]:
    """The units :data:`UNITS_PER_PASS` at a time: where each slice starts, and its texts (a few integers
    per unit, and the term layer, which a worker opens itself)."""
    for start in range(0, len(texts), UNITS_PER_PASS):
        yield start, texts.subset(range(start, min(start + UNITS_PER_PASS, len(texts))))


def _present(indices: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``indices`` and how often each occurs (or the sum of its ``weights``)."""
    values, inverse = np.unique(indices, return_inverse=True)
    return values, np.bincount(inverse, weights=weights, minlength=len(values)).astype(np.int64)


def _vocabulary_counts(texts: UnitTexts) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The layer's terms in some units: their ids, in how many units and how often each occurs, and the
    first unit (from 0) that has it."""
    import scipy.sparse as sp

    unit, term = texts.term_ids(0, len(texts))
    counts = sp.csr_matrix((np.ones(len(term), dtype=np.int64), (unit, term)),
                           shape=(len(texts), len(texts.layer.terms)))
    terms, first, inverse = np.unique(counts.indices, return_index=True, return_inverse=True)
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    dfs = np.bincount(inverse, minlength=len(terms)).astype(np.int64)
    cfs = np.bincount(inverse, weights=counts.data, minlength=len(terms)).astype(np.int64)
    return terms, dfs, cfs, rows[first]


def build_vocabulary(texts: UnitTexts, settings: Settings, executor: Executor | None = None):
    """gensim ``Dictionary`` of the units' texts pruned by ``no_below``, ``no_above``, ``keep_n`` and
    ``remove_top_share``, from counts over the term layer's arrays: a map over slices of
    :data:`UNITS_PER_PASS` units (on ``executor``, default this process) and sums in slice order.

    It is the dictionary ``Dictionary(texts).filter_extremes(...)`` gives, ids included: gensim numbers
    terms by the first unit that has them (a unit's new terms in sorted order), ``filter_extremes`` keeps
    terms with ``no_below <= df <= int(no_above * units)``, the ``keep_n`` in the most units (ties in id
    order), and ids are then renumbered in their old order.

    Raises
    ------
    AnalysisError
        When pruning leaves fewer terms than topics.
    """
    from gensim.corpora import Dictionary

    n_terms = len(texts.layer.terms)
    dfs, cfs = np.zeros(n_terms, dtype=np.int64), np.zeros(n_terms, dtype=np.int64)
    first_unit = np.full(n_terms, len(texts), dtype=np.int64)
    slices = list(_unit_slices(texts))
    found = (executor or LocalExecutor(1)).map(_vocabulary_counts, [piece for _, piece in slices])
    for (start, _), (terms, slice_dfs, slice_cfs, first) in zip(slices, found):
        dfs[terms] += slice_dfs
        cfs[terms] += slice_cfs
        first_unit[terms] = np.minimum(first_unit[terms], start + first)
    present = np.flatnonzero(dfs)
    by_id = present[np.lexsort((present, first_unit[present]))]  # the layer's term ids are in sorted order
    good = by_id[(dfs[by_id] >= settings.no_below) & (dfs[by_id] <= int(settings.no_above * len(texts)))]
    good = good[np.argsort(-dfs[good], kind="stable")][:settings.keep_n]
    kept = by_id[np.isin(by_id, good)]
    n_top = int(settings.remove_top_share * len(kept))
    if n_top:
        kept = kept[~np.isin(kept, kept[np.lexsort((kept, -cfs[kept]))][:n_top])]
    if len(kept) < settings.k:
        raise AnalysisError(
            f"{settings.corpus}: only {len(kept)} terms are left after pruning (no_below={settings.no_below}, "
            f"no_above={settings.no_above}, remove_top_share={settings.remove_top_share}) for K={settings.k} topics; "
            "lower no_below or remove_top_share, or raise no_above"
        )
    dictionary = Dictionary()
    dictionary.token2id = {texts.layer.terms[i]: new for new, i in enumerate(kept.tolist())}
    dictionary.dfs = dict(enumerate(dfs[kept].tolist()))
    dictionary.cfs = dict(enumerate(cfs[kept].tolist()))
    dictionary.num_docs, dictionary.num_pos, dictionary.num_nnz = len(texts), int(cfs.sum()), int(dfs.sum())
    return dictionary


def _gensim_prior(value: str):
    """A gensim prior: a name gensim knows, or a float."""
    return value if value in ("symmetric", "asymmetric", "auto") else float(value)


TRACE_EVERY = 10
"""Gibbs sweeps between two readings of a tomotopy fit's log-likelihood (training in steps gives the same
model, bit for bit, as one call)."""


@dataclass
class Fit:
    """What an engine returns: arrays in the engine's native topic order, the log-likelihood trace
    (``(sweep, log-likelihood per word)`` pairs; empty for an engine that records none) and why the fit
    stopped."""

    topic_term: np.ndarray
    unit_topic: np.ndarray
    infer: Callable[[list[list[tuple[int, int]]]], np.ndarray]
    trace: list[tuple[int, float]] = field(default_factory=list)
    stopped: str = ""


def _fit_gensim(bows, dictionary, k: int, seed: int, settings: Settings, executor=None) -> Fit:
    from gensim.models import LdaModel

    model = LdaModel(
        corpus=bows, id2word=dictionary, num_topics=k, random_state=seed,
        passes=settings.passes, iterations=settings.iterations, chunksize=max(len(bows), 1),
        alpha=_gensim_prior(settings.alpha), eta=_gensim_prior(settings.eta),
        eval_every=None, update_every=1,
    )

    def infer(new_bows):
        if not new_bows:
            return np.zeros((0, k))
        gamma, _ = model.inference(new_bows)
        return gamma / gamma.sum(axis=1, keepdims=True)

    return Fit(model.get_topics().astype(np.float64), infer(bows), infer,
               stopped=f"the passes setting ({settings.passes} passes)")


def start_seed(seed: int, index: int) -> int:
    """The seed of start ``index`` of a fit seeded ``seed``: the seed itself for the first start, and
    values no other run of a ``seeds`` series (``seed + 1``, ``seed + 2`` ...) uses for the others."""
    return seed + index * 1_000_003


def _fit_tomotopy(bows, dictionary, k: int, seed: int, settings: Settings, executor=None) -> Fit:
    """Collapsed Gibbs sampling (tomotopy); a seed reproduces a run only with one worker.

    ``settings.starts`` chains (seeds :func:`start_seed`) are trained ``settings.start_sweeps`` sweeps
    each, and the one with the highest log-likelihood per word is trained on to ``settings.iterations``
    sweeps: on 20 Newsgroups, the chains that end in an optimum merging two classes are the least likely
    early on (see the README's seed benchmark)."""
    tp = import_tomotopy()

    if settings.alpha == "asymmetric":  # gensim's: 1 / (i + sqrt(K)), normalised, so both engines mean the same
        alpha = 1.0 / (np.arange(k) + np.sqrt(k))
        alpha = (alpha / alpha.sum()).tolist()
    else:
        alpha = 0.1 if settings.alpha in ("symmetric", "auto") else float(settings.alpha)
    eta = 0.01 if settings.eta in ("symmetric", "auto") else float(settings.eta)
    kept = [d for d, bow in enumerate(bows) if bow]
    scheme = tp.ParallelScheme.NONE if settings.workers == 1 else tp.ParallelScheme.DEFAULT

    def train(model, trace: list[tuple[int, float]], sweeps: int) -> None:
        while (done := trace[-1][0] if trace else 0) < sweeps:
            model.train(min(TRACE_EVERY, sweeps - done), workers=settings.workers, parallel=scheme)
            trace.append((model.global_step, float(model.ll_per_word)))

    def start(index: int):
        model = tp.LDAModel(k=k, alpha=alpha, eta=eta, seed=start_seed(seed, index))
        if settings.alpha != "auto":
            model.optim_interval = 0
        for d in kept:  # one unit's words at a time: tomotopy keeps its own copy
            model.add_doc([dictionary[i] for i, c in bows[d] for _ in range(c)])
        return model

    # Several starts, each trained start_sweeps; the most likely goes on (others are freed as they lose).
    start_sweeps = min(settings.start_sweeps, settings.iterations) if settings.starts > 1 else 0
    best, scores = None, []
    for index in range(settings.starts):
        model, model_trace = start(index), []
        train(model, model_trace, start_sweeps)
        scores.append(model_trace[-1][1] if model_trace else 0.0)
        if best is None or scores[-1] > scores[best[2]]:
            best = (model, model_trace, index)
        del model
    model, trace, chosen = best
    del best
    train(model, trace, settings.iterations)
    stopped = f"the iterations setting ({settings.iterations} sweeps)"
    if settings.starts > 1:
        others = ", ".join(f"{score:.3f}" for i, score in enumerate(scores) if i != chosen)
        stopped += (f"; start {chosen + 1} of {settings.starts}, the most likely after {start_sweeps} sweeps "
                    f"({scores[chosen]:.3f} per word; others {others})")
    columns = np.array([dictionary.token2id[w] for w in model.used_vocabs])
    topic_term = np.full((k, len(dictionary)), 1e-12)
    for t in range(k):
        topic_term[t, columns] = model.get_topic_word_dist(t)

    known = set(model.used_vocabs)

    def infer(new_bows):
        theta = np.full((len(new_bows), k), 1.0 / k)
        docs, rows = [], []
        for row, bow in enumerate(new_bows):
            words = [dictionary[i] for i, c in bow for _ in range(c) if dictionary[i] in known]
            if words:
                docs.append(model.make_doc(words))
                rows.append(row)
        if docs:
            inferred, _ = model.infer(docs, iterations=100, workers=1, parallel=tp.ParallelScheme.NONE, together=False)
            theta[rows] = np.array(inferred, dtype=np.float64)
        return theta

    unit_topic = np.full((len(bows), k), 1.0 / k)
    unit_topic[kept] = np.array([doc.get_topic_dist() for doc in model.docs], dtype=np.float64)
    return Fit(topic_term, unit_topic, infer, trace, stopped)


def _fit_online(bows, dictionary, k: int, seed: int, settings: Settings, executor=None) -> Fit:
    """gensim's online LDA streamed in chunks of ``online_chunk_units`` units, its E-steps on ``executor``
    (:mod:`analysis.topics.streamed`). Each chunk's bags are counted where it is read, from the term layer
    (:meth:`BagsOfWords.chunks`); the vocabulary map and the mixtures each chunk's inference writes go to
    a folder the workers can read (in the cache folder, else a temporary folder of this machine), removed
    after the fit."""
    from analysis.topics.streamed import fit_streamed

    parent = settings.cache_folder.resolve() if settings.cache else None  # workers may run elsewhere
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="online-lda-", dir=parent) as folder:
        chunks = bows.chunks(settings.online_chunk_units, Path(folder))
        fit = fit_streamed(chunks, len(dictionary), k, seed=seed, passes=settings.passes,
                           alpha=_gensim_prior(settings.alpha), eta=_gensim_prior(settings.eta),
                           iterations=settings.iterations, executor=executor)
        fit.infer(chunks, Path(folder) / "doc_topics", executor=executor)
        unit_topic = np.empty((len(bows), k), order="F")  # the layout (so the sums' rounding) of earlier runs
        for path in sorted((Path(folder) / "doc_topics").glob("*.parquet")):  # one chunk's table at a time
            table = pd.read_parquet(path)
            unit_topic[table["unit"].to_numpy()] = table.filter(like="topic_").to_numpy(dtype=np.float64)
    return Fit(fit.lambda_, unit_topic, lambda new_bows: fit.mixtures(list(new_bows)),
               stopped=f"the passes setting ({settings.passes} passes)")


ENGINES = {"gensim": _fit_gensim, "tomotopy": _fit_tomotopy, "online": _fit_online}


def engine_for(prepared: "TopicInput", settings: Settings) -> str:
    """The engine that fits ``prepared``: the ``engine`` setting, except that tomotopy (which holds every
    token in memory) gives way to the streamed online engine above ``tomotopy_max_tokens`` tokens."""
    if settings.engine == "tomotopy" and settings.tomotopy_max_tokens and \
            prepared.bows.term_totals.sum() > settings.tomotopy_max_tokens:
        return "online"
    return settings.engine


def topic_settings(settings: Settings) -> dict:
    keys = ("engine", "unit", "k", "workers", "passes", "iterations", "starts", "start_sweeps", "alpha", "eta", "no_below", "no_above", "keep_n", "remove_top_share",
            "phrases", "lemmatize", "relevance_lambda", "min_units_per_topic")
    return {key: getattr(settings, key) for key in keys}


class BagsOfWords(Sequence):
    """Bags of words as gensim takes them (each a list of ``(term id, count)`` sorted by id), made from
    the units' ranges of the term layer and a map from the layer's terms to vocabulary ids.

    The engines that hold every unit read :attr:`matrix` (units x terms, made on first use); the online
    engine reads :meth:`chunks`, whose workers count their own units from the term layer, so this
    process never holds its units' bags. :attr:`unit_lengths` and :attr:`term_totals` are counted
    :data:`UNITS_PER_PASS` units at a time.

    Parameters
    ----------
    texts : UnitTexts
    vocabulary_id : ndarray of int64
        Per term of the layer, its vocabulary id, or -1 for a term pruned away.
    n_terms : int
        Vocabulary size.
    """

    def __init__(self, texts: UnitTexts, vocabulary_id: np.ndarray, n_terms: int) -> None:
        self.texts, self.vocabulary_id, self.n_terms = texts, vocabulary_id, n_terms

    @classmethod
    def from_dictionary(cls, texts: UnitTexts, dictionary, executor: Executor | None = None) -> "BagsOfWords":
        """The bags of ``texts`` in ``dictionary`` (what ``dictionary.doc2bow`` gives each text), their
        lengths and term totals counted on ``executor`` (default: this process, on first use)."""
        vocabulary_id = np.full(len(texts.layer.terms), -1, dtype=np.int64)
        vocabulary_id[pd.Index(texts.layer.terms).get_indexer(list(dictionary.token2id))] = \
            np.fromiter(dictionary.token2id.values(), dtype=np.int64, count=len(dictionary.token2id))
        bags = cls(texts, vocabulary_id, len(dictionary))
        if executor is not None:
            bags._totals = bags.count_totals(executor)
        return bags

    def counts(self, start: int, stop: int) -> sp.csr_matrix:
        """Units ``[start, stop)`` x terms counts, int64, with sorted indices."""
        import scipy.sparse as sp

        unit, term = self.texts.term_ids(start, stop)
        term = self.vocabulary_id[term]
        keep = term >= 0
        matrix = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int64), (unit[keep], term[keep])),
                               shape=(stop - start, self.n_terms))
        matrix.sort_indices()
        return matrix

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """Units x terms counts, int64, with sorted indices."""
        import scipy.sparse as sp

        parts = [self.counts(start, min(start + UNITS_PER_PASS, len(self)))
                 for start in range(0, len(self), UNITS_PER_PASS)]
        return sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, self.n_terms), dtype=np.int64)

    def count_totals(self, executor: Executor) -> tuple[np.ndarray, np.ndarray]:
        """:attr:`unit_lengths` and :attr:`term_totals`, a map over slices of :data:`UNITS_PER_PASS` units on
        ``executor``, joined and summed in slice order."""
        lengths, totals = [np.zeros(0, dtype=np.int64)], np.zeros(self.n_terms, dtype=np.int64)
        for slice_lengths, terms, counts in executor.map(_bag_totals, [piece for _, piece in _unit_slices(self.texts)],
                                                         common=(self.vocabulary_id, self.n_terms)):
            lengths.append(slice_lengths)
            totals[terms] += counts
        return np.concatenate(lengths), totals

    @cached_property
    def _totals(self) -> tuple[np.ndarray, np.ndarray]:
        return self.count_totals(LocalExecutor(1))

    @property
    def unit_lengths(self) -> np.ndarray:
        """Tokens of each unit left after pruning, int64."""
        return self._totals[0]

    @property
    def term_totals(self) -> np.ndarray:
        """Tokens of each vocabulary term over all units, int64."""
        return self._totals[1]

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, unit: int) -> list[tuple[int, int]]:
        if not -len(self) <= unit < len(self):
            raise IndexError(unit)
        start, end = self.matrix.indptr[unit % len(self)], self.matrix.indptr[unit % len(self) + 1]
        return list(zip(self.matrix.indices[start:end].tolist(), self.matrix.data[start:end].tolist()))

    def subset(self, units: Sequence[int]) -> "BagsOfWords":
        """The bags of the given units, in that order."""
        return BagsOfWords(self.texts.subset(units), self.vocabulary_id, self.n_terms)

    def chunks(self, units_per_chunk: int, folder: Path) -> list["BagsChunk"]:
        """The units in chunks of ``units_per_chunk``, each counted where it is read; the vocabulary map
        is written once to ``folder`` (a folder the workers can read), for them to open."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "vocabulary_id.npy"
        np.save(path, self.vocabulary_id, allow_pickle=False)
        return [BagsChunk(self.texts.subset(range(start, min(start + units_per_chunk, len(self)))), str(path),
                          self.n_terms, start, min(start + units_per_chunk, len(self)))
                for start in range(0, len(self), units_per_chunk)]


def _bag_totals(vocabulary_id: np.ndarray, n_terms: int, texts: UnitTexts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's length in the vocabulary, and the vocabulary terms present with their counts."""
    matrix = BagsOfWords(texts, vocabulary_id, n_terms).counts(0, len(texts))
    return (np.asarray(matrix.sum(axis=1), dtype=np.int64).ravel(), *_present(matrix.indices, matrix.data))


@dataclass(frozen=True)
class BagsChunk:
    """Units ``start:stop`` of a :class:`BagsOfWords`: their ranges of the term layer (which a worker
    opens itself, see :meth:`analysis.pipeline.PreparedTerms.__reduce__`) and the path of the vocabulary
    map; their bags are made where :meth:`bows` runs."""

    texts: UnitTexts
    vocabulary_path: str
    n_terms: int
    start: int
    stop: int

    def bows(self) -> list[list[tuple[int, int]]]:
        vocabulary_id = np.load(self.vocabulary_path, mmap_mode="r", allow_pickle=False)
        return list(BagsOfWords(self.texts, vocabulary_id, self.n_terms))


@dataclass
class TopicInput:
    units: TopicUnits
    vocabulary: list[str]
    bows: BagsOfWords
    dictionary: object

    @cached_property
    def unit_table(self) -> pd.DataFrame:
        """The units with ``n_vocab_terms``, their tokens left after pruning."""
        table = self.units.table.copy()
        table["n_vocab_terms"] = self.bows.unit_lengths
        return table

    @cached_property
    def term_counts(self) -> np.ndarray:
        """Tokens of each vocabulary term over all units."""
        return self.bows.term_totals.astype(np.float64)


def prepare(units: TopicUnits, settings: Settings, executor: Executor | None = None) -> TopicInput:
    """Vocabulary and bag-of-words of ``units`` (shared by every seed and K), counted on ``executor``
    (default: this process)."""
    dictionary = build_vocabulary(units.texts, settings, executor)
    vocabulary = [dictionary[i] for i in range(len(dictionary))]
    return TopicInput(units, vocabulary, BagsOfWords.from_dictionary(units.texts, dictionary, executor), dictionary)


def model_from_fit(fit: Fit, prepared: TopicInput, seed: int, settings: Settings, k: int, engine: str) -> TopicModel:
    units = prepared.unit_table
    topic_term, unit_topic = normalized(fit.topic_term), normalized(fit.unit_topic)
    weights = units["n_vocab_terms"].to_numpy(dtype=np.float64) @ unit_topic
    order = np.array(sorted(range(k), key=lambda i: (-round(float(weights[i]), 9), i)))
    return TopicModel(
        topic_term=topic_term[order], unit_topic=unit_topic[:, order], vocabulary=prepared.vocabulary,
        term_counts=prepared.term_counts, units=units, native_ids=order, seed=seed, settings={**topic_settings(settings), "k": k, "engine": engine,
                                                       **({"online_chunk_units": settings.online_chunk_units}
                                                          if engine == "online" else {})},
        unit=prepared.units.unit, note=prepared.units.note, n_documents=prepared.units.n_documents,
        trace=[[int(sweep), float(ll)] for sweep, ll in fit.trace], stopped=fit.stopped,
    )


def fit_topics(prepared: TopicInput, settings: Settings, *, seed: int | None = None, k: int | None = None,
               executor=None) -> TopicModel:
    """Fit one LDA model; topics ordered by prevalence (id 1 = most prevalent).

    Parameters
    ----------
    prepared : result of :func:`prepare`
    settings : Settings
        Engine, priors, passes, iterations.
    seed : int, optional
        Default ``settings.seed``.
    k : int, optional
        Default ``settings.k``.
    executor : Executor, optional
        Where the online engine runs its E-steps (default: this process).
    """
    seed = settings.seed if seed is None else seed
    k = settings.k if k is None else k
    engine = engine_for(prepared, settings)
    fit = ENGINES[engine](prepared.bows, prepared.dictionary, k, seed, settings, executor=executor)
    return model_from_fit(fit, prepared, seed, settings, k, engine)


