"""Fitting one LDA model: vocabulary, bag-of-words, the gensim and tomotopy engines."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.provenance import import_tomotopy
from analysis.topics.model import TopicModel, normalized
from analysis.topics.units import TopicUnits, UnitTexts

if TYPE_CHECKING:
    import scipy.sparse as sp


UNITS_PER_PASS = 20_000  # units counted at a time while the vocabulary and the bags of words are made


def _unit_term_counts(texts: UnitTexts) -> Iterator[sp.csr_matrix]:
    """Units x layer terms counts (int64), :data:`UNITS_PER_PASS` units at a time."""
    import scipy.sparse as sp

    n_terms = len(texts.layer.terms)
    for start in range(0, len(texts), UNITS_PER_PASS):
        stop = min(start + UNITS_PER_PASS, len(texts))
        unit, term = texts.term_ids(start, stop)
        yield sp.csr_matrix((np.ones(len(term), dtype=np.int64), (unit, term)), shape=(stop - start, n_terms))


def build_vocabulary(texts: UnitTexts, settings: Settings):
    """gensim ``Dictionary`` of the units' texts pruned by ``no_below``, ``no_above``, ``keep_n`` and
    ``remove_top_share``, made from counts over the term layer's arrays.

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
    start = 0
    for counts in _unit_term_counts(texts):
        dfs += np.bincount(counts.indices, minlength=n_terms)
        cfs += np.bincount(counts.indices, weights=counts.data, minlength=n_terms).astype(np.int64)
        terms, first = np.unique(counts.indices, return_index=True)
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        first_unit[terms] = np.minimum(first_unit[terms], start + rows[first])
        start += counts.shape[0]
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


@dataclass
class Fit:
    """What an engine returns: arrays in the engine's native topic order."""

    topic_term: np.ndarray
    unit_topic: np.ndarray
    infer: Callable[[list[list[tuple[int, int]]]], np.ndarray]


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

    return Fit(model.get_topics().astype(np.float64), infer(bows), infer)


def _fit_tomotopy(bows, dictionary, k: int, seed: int, settings: Settings, executor=None) -> Fit:
    """Collapsed Gibbs sampling (tomotopy); a seed reproduces a run only with one worker."""
    tp = import_tomotopy()

    if settings.alpha == "asymmetric":  # gensim's: 1 / (i + sqrt(K)), normalised, so both engines mean the same
        alpha = 1.0 / (np.arange(k) + np.sqrt(k))
        alpha = (alpha / alpha.sum()).tolist()
    else:
        alpha = 0.1 if settings.alpha in ("symmetric", "auto") else float(settings.alpha)
    eta = 0.01 if settings.eta in ("symmetric", "auto") else float(settings.eta)
    model = tp.LDAModel(k=k, alpha=alpha, eta=eta, seed=seed)
    if settings.alpha != "auto":
        model.optim_interval = 0
    kept = []
    for d, bow in enumerate(bows):  # one unit's words at a time: tomotopy keeps its own copy
        words = [dictionary[i] for i, c in bow for _ in range(c)]
        if words:
            model.add_doc(words)
            kept.append(d)
    scheme = tp.ParallelScheme.NONE if settings.workers == 1 else tp.ParallelScheme.DEFAULT
    model.train(settings.iterations, workers=settings.workers, parallel=scheme)
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
    return Fit(topic_term, unit_topic, infer)


def _fit_online(bows, dictionary, k: int, seed: int, settings: Settings, executor=None) -> Fit:
    """gensim's online LDA streamed in chunks of ``online_chunk_units`` units, its E-steps on ``executor``
    (:mod:`analysis.topics.streamed`); the chunks are written where the workers can read them (the cache
    folder, else a temporary folder of this machine) and removed after the fit."""
    from analysis.topics.streamed import fit_streamed, write_chunks

    parent = settings.cache_folder.resolve() if settings.cache else None  # workers may run elsewhere
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="online-lda-", dir=parent) as folder:
        chunks = write_chunks([bows.matrix], Path(folder) / "counts", units_per_chunk=settings.online_chunk_units)
        fit = fit_streamed(chunks, len(dictionary), k, seed=seed, passes=settings.passes,
                           alpha=_gensim_prior(settings.alpha), eta=_gensim_prior(settings.eta),
                           iterations=settings.iterations, executor=executor)
        fit.infer(chunks, Path(folder) / "doc_topics", executor=executor)
        unit_topic = pd.concat([pd.read_parquet(path) for path in sorted((Path(folder) / "doc_topics").glob("*.parquet"))])
    return Fit(fit.lambda_, unit_topic.filter(like="topic_").to_numpy(dtype=np.float64),
               lambda new_bows: fit.mixtures(list(new_bows)))


ENGINES = {"gensim": _fit_gensim, "tomotopy": _fit_tomotopy, "online": _fit_online}


def engine_for(prepared: "TopicInput", settings: Settings) -> str:
    """The engine that fits ``prepared``: the ``engine`` setting, except that tomotopy (which holds every
    token in memory) gives way to the streamed online engine above ``tomotopy_max_tokens`` tokens."""
    if settings.engine == "tomotopy" and settings.tomotopy_max_tokens and \
            prepared.bows.matrix.sum() > settings.tomotopy_max_tokens:
        return "online"
    return settings.engine


def topic_settings(settings: Settings) -> dict:
    keys = ("engine", "unit", "k", "workers", "passes", "iterations", "alpha", "eta", "no_below", "no_above", "keep_n", "remove_top_share",
            "phrases", "lemmatize", "relevance_lambda", "min_units_per_topic")
    return {key: getattr(settings, key) for key in keys}


class BagsOfWords(Sequence):
    """Bags of words as gensim takes them (each a list of ``(term id, count)`` sorted by id), held as
    a units x terms sparse matrix and made one at a time on access.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Counts, with sorted indices.
    """

    def __init__(self, matrix) -> None:
        self.matrix = matrix

    @classmethod
    def from_texts(cls, texts: UnitTexts, dictionary) -> "BagsOfWords":
        """The counts of each unit's terms in ``dictionary`` (what ``dictionary.doc2bow`` gives), from the
        term layer's arrays."""
        import scipy.sparse as sp

        vocabulary_id = np.full(len(texts.layer.terms), -1, dtype=np.int64)
        vocabulary_id[pd.Index(texts.layer.terms).get_indexer(list(dictionary.token2id))] = \
            np.fromiter(dictionary.token2id.values(), dtype=np.int64, count=len(dictionary.token2id))
        parts = []
        for counts in _unit_term_counts(texts):
            counts = counts.tocoo()
            keep = vocabulary_id[counts.col] >= 0
            parts.append(sp.csr_matrix((counts.data[keep], (counts.row[keep], vocabulary_id[counts.col[keep]])),
                                       shape=(counts.shape[0], len(dictionary))))
        matrix = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, len(dictionary)), dtype=np.int64)
        matrix.sort_indices()
        return cls(matrix)

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def __getitem__(self, unit: int) -> list[tuple[int, int]]:
        if not -len(self) <= unit < len(self):
            raise IndexError(unit)
        start, end = self.matrix.indptr[unit % len(self)], self.matrix.indptr[unit % len(self) + 1]
        return list(zip(self.matrix.indices[start:end].tolist(), self.matrix.data[start:end].tolist()))

    def subset(self, units: Sequence[int]) -> "BagsOfWords":
        """The bags of the given units, in that order."""
        return BagsOfWords(self.matrix[np.asarray(units, dtype=np.int64)])


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
        table["n_vocab_terms"] = np.asarray(self.bows.matrix.sum(axis=1)).ravel()
        return table

    @cached_property
    def term_counts(self) -> np.ndarray:
        """Tokens of each vocabulary term over all units."""
        return np.asarray(self.bows.matrix.sum(axis=0), dtype=np.float64).ravel()


def prepare(units: TopicUnits, settings: Settings) -> TopicInput:
    """Vocabulary and bag-of-words of ``units`` (shared by every seed and K)."""
    dictionary = build_vocabulary(units.texts, settings)
    vocabulary = [dictionary[i] for i in range(len(dictionary))]
    return TopicInput(units, vocabulary, BagsOfWords.from_texts(units.texts, dictionary), dictionary)


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


