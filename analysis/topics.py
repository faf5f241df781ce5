"""LDA topics: units, reproducible fits, stable topic ids, tidy views.

The pipeline is

1. :func:`collect_units` turns the corpus into the texts LDA sees (documents,
   sections or paragraphs) with the same preprocessing as the term analytics;
2. :func:`fit_topics` fits one seed; :func:`fit_stable_topics` fits several,
   aligns their topics and reports the run most similar to the others;
3. the table functions (:func:`topic_terms`, :func:`doc_topics`,
   :func:`topic_prevalence`, :func:`intertopic_map`, :func:`topic_evidence`)
   turn a :class:`TopicModel` into tidy DataFrames for figures and export.

Topic ids are ``1..K`` in order of prevalence in the reported run; every
other run's topics are mapped onto them (:func:`align_topics`), and
:attr:`TopicResult.topic_ids` records the engine's native id for each.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.parallel import map_in_processes
from analysis.pipeline import PreparedTerms
from analysis.prepared import PreparedCorpus

UNIT_LEVELS = ("document", "section", "paragraph")
UNIT_COLUMNS = ["unit_id", "doc_id", "position", "role", "section", "first_block", "last_block", "start", "end", "n_terms"]
MODEL_FORMAT = "corpus-analysis-topic-model/1"


class TopicWarning(UserWarning):
    """A topic-model choice a researcher should know about (e.g. the unit)."""


# --------------------------------------------------------------------- units


def describe_units(unit: str, n_units: int, n_documents: int) -> str:
    """``41 paragraphs of 5 documents`` (or ``300 documents``).

    >>> describe_units("section", 30, 5)
    '30 sections of 5 documents'
    """
    if unit == "document":
        return f"{n_units} documents"
    return f"{n_units} {unit}s of {n_documents} documents"


@dataclass(frozen=True)
class TopicUnits:
    """The texts LDA is fitted on.

    Attributes
    ----------
    table : DataFrame
        One row per unit: ``unit_id, doc_id, position, role, section,
        first_block, last_block, start, end, n_terms``; ``start``/``end`` are
        character offsets of the unit in its document's text.
    texts : list of list of str
        The unit's terms in reading order (same preprocessing as the term
        counts; headings are joined to the paragraph they introduce).
    unit : str
        The level fitted on: ``document``, ``section`` or ``paragraph``.
    note : str
        Why this level was chosen when ``unit = "auto"`` picked paragraphs;
        empty otherwise. Shown in figure subtitles.
    n_documents : int
    """

    table: pd.DataFrame
    texts: list[list[str]]
    unit: str
    note: str
    n_documents: int

    def __len__(self) -> int:
        return len(self.texts)

    def describe(self) -> str:
        """One line for subtitles: ``41 paragraphs of 5 documents``."""
        return describe_units(self.unit, len(self), self.n_documents)


def _paragraphs(blocks: pd.DataFrame, layer: PreparedTerms) -> Iterable[dict]:
    """The counted blocks of one document (rows of ``blocks``), headings joined to the block that follows."""
    pending: list = []
    for block in blocks.itertuples():
        if not layer.counted[block.Index]:
            continue
        block = block._replace(terms=layer.block_terms(block.Index))
        if block.role == "heading":
            pending.append(block)
            continue
        group = [*pending, block]
        pending = []
        yield _unit_record(group, block.role)
    if pending:
        yield _unit_record(pending, "heading")


def _unit_record(blocks: list, role: str) -> dict:
    first, last = blocks[0], blocks[-1]
    return {
        "doc_id": first.doc_id, "role": role, "section": last.section, "first_block": first.block,
        "last_block": last.block, "start": first.start, "end": last.end,
        "terms": [t for b in blocks for t in b.terms],
    }


def _merge(records: list[dict], key: Callable[[dict], object]) -> list[dict]:
    merged: dict[object, dict] = {}
    for r in records:
        k = key(r)
        if k not in merged:
            merged[k] = {**r, "terms": list(r["terms"])}
        else:
            m = merged[k]
            m["terms"].extend(r["terms"])
            m["last_block"], m["end"] = r["last_block"], r["end"]
            if m["role"] == "heading":
                m["role"] = r["role"]
    return list(merged.values())


def collect_units(prepared: PreparedCorpus, layer: PreparedTerms, settings: Settings) -> TopicUnits:
    """Group the counted terms of ``prepared`` into LDA units at the level ``settings.unit`` asks for.

    Parameters
    ----------
    prepared : PreparedCorpus
    layer : PreparedTerms
        Its term layer, as for the term counts.
    settings : Settings
        Uses ``unit``, ``k`` and ``min_units_per_topic``.

    Returns
    -------
    TopicUnits

    Warns
    -----
    TopicWarning
        When ``unit = "auto"`` falls back to paragraphs because there are
        fewer than ``min_units_per_topic * k`` documents, or when even the
        chosen level gives fewer units than that.
    """
    blocks = prepared.blocks.assign(terms=None)
    offsets = prepared.document_offsets
    by_doc: list[list[dict]] = [list(_paragraphs(blocks.iloc[offsets[d]:offsets[d + 1]], layer))
                                for d in range(prepared.n_documents)]
    n_documents = len(by_doc)
    needed = settings.min_units_per_topic * settings.k
    note = ""
    unit = settings.unit
    if unit == "auto":
        unit = "document" if n_documents >= needed else "paragraph"
        if unit == "paragraph":
            note = f"{n_documents} documents are too few for K={settings.k}"
    records: list[dict] = []
    for paragraphs in by_doc:
        if unit == "paragraph":
            records.extend(paragraphs)
        elif unit == "section":
            records.extend(_merge(paragraphs, lambda r: r["section"]))
        else:
            records.extend(_merge(paragraphs, lambda r: r["doc_id"]))
    records = [r for r in records if r["terms"]]
    if not records:
        raise AnalysisError(f"{settings.corpus}: no terms left to fit topics on (is the corpus empty?)")
    rows = []
    for r in records:
        if unit == "document":
            unit_id, role = r["doc_id"], "document"
            r["section"] = ""
        elif unit == "section":
            unit_id, role = f"{r['doc_id']}#{r['section']}", r["role"]
        else:
            unit_id, role = f"{r['doc_id']}#{r['first_block']}", r["role"]
        rows.append([unit_id, r["doc_id"], 0, role, r["section"], r["first_block"], r["last_block"], r["start"], r["end"], len(r["terms"])])
    table = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    table["position"] = table.groupby("doc_id", sort=False).cumcount()
    result = TopicUnits(table, [r["terms"] for r in records], unit, note, n_documents)
    if note:
        warnings.warn(
            f"{note} (LDA needs at least {settings.min_units_per_topic} units per topic): fitting on "
            f"{result.describe()}; results are also rolled up to documents",
            TopicWarning, stacklevel=2,
        )
    elif len(result) < needed:
        warnings.warn(
            f"only {result.describe()} for K={settings.k}; LDA topics will be unreliable below "
            f"{needed} units (set unit = \"paragraph\" or a smaller k)",
            TopicWarning, stacklevel=2,
        )
    return result


# ------------------------------------------------------------------- fitting


def build_vocabulary(texts: Sequence[list[str]], settings: Settings):
    """gensim ``Dictionary`` of ``texts`` pruned by ``no_below``, ``no_above`` and ``keep_n``.

    Raises
    ------
    AnalysisError
        When pruning leaves fewer terms than topics.
    """
    from gensim.corpora import Dictionary

    dictionary = Dictionary(texts)
    dictionary.filter_extremes(no_below=settings.no_below, no_above=settings.no_above, keep_n=settings.keep_n)
    n_top = int(settings.remove_top_share * len(dictionary))
    if n_top:
        ranked = sorted(dictionary.cfs, key=lambda i: (-dictionary.cfs[i], dictionary[i]))
        dictionary.filter_tokens(bad_ids=ranked[:n_top])
    if len(dictionary) < settings.k:
        raise AnalysisError(
            f"{settings.corpus}: only {len(dictionary)} terms are left after pruning (no_below={settings.no_below}, "
            f"no_above={settings.no_above}, remove_top_share={settings.remove_top_share}) for K={settings.k} topics; "
            "lower no_below or remove_top_share, or raise no_above"
        )
    return dictionary


def _gensim_prior(value: str):
    """A gensim prior: a name gensim knows, or a float."""
    return value if value in ("symmetric", "asymmetric", "auto") else float(value)


@dataclass
class _Fit:
    """What an engine returns: arrays in the engine's native topic order."""

    topic_term: np.ndarray
    unit_topic: np.ndarray
    infer: Callable[[list[list[tuple[int, int]]]], np.ndarray]


def _fit_gensim(bows, dictionary, k: int, seed: int, settings: Settings) -> _Fit:
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

    return _Fit(model.get_topics().astype(np.float64), infer(bows), infer)


def import_tomotopy():
    """tomotopy, its AVX2 build (unless ``TOMOTOPY_ISA`` is set).

    Its results can differ between its SSE2 and AVX builds; the AVX2 build is
    chosen so that machines with AVX2 or AVX-512 agree.
    """
    os.environ.setdefault("TOMOTOPY_ISA", "avx2")
    import tomotopy

    return tomotopy


def _fit_tomotopy(bows, dictionary, k: int, seed: int, settings: Settings) -> _Fit:
    """Collapsed Gibbs sampling (tomotopy); a seed reproduces a run only with one worker."""
    tp = import_tomotopy()

    alpha = 0.1 if settings.alpha in ("symmetric", "asymmetric", "auto") else float(settings.alpha)
    eta = 0.01 if settings.eta in ("symmetric", "asymmetric", "auto") else float(settings.eta)
    model = tp.LDAModel(k=k, alpha=alpha, eta=eta, seed=seed)
    if settings.alpha != "auto":
        model.optim_interval = 0
    words_of = [[dictionary[i] for i, c in bow for _ in range(c)] for bow in bows]
    kept = [d for d, words in enumerate(words_of) if words]
    for d in kept:
        model.add_doc(words_of[d])
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
    return _Fit(topic_term, unit_topic, infer)


_ENGINES = {"gensim": _fit_gensim, "tomotopy": _fit_tomotopy}


def _normalized(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a / a.sum(axis=1, keepdims=True)


@dataclass
class TopicModel:
    """One fitted LDA model with its topics in canonical order (id ``1..K``).

    Attributes
    ----------
    topic_term : ndarray, shape (K, V)
        P(term | topic); row ``i`` is topic ``i + 1``.
    unit_topic : ndarray, shape (U, K)
        P(topic | unit).
    vocabulary : list of str
    term_counts : ndarray, shape (V,)
        Corpus frequency of each vocabulary term in the units.
    units : DataFrame
        :attr:`TopicUnits.table`.
    native_ids : ndarray of int, shape (K,)
        The engine's topic index of each canonical topic.
    seed : int
    settings : dict
        The settings the model was fitted with (JSON-compatible).
    unit : str
    note : str
        Why the unit was chosen, when it was a fallback.
    """

    topic_term: np.ndarray
    unit_topic: np.ndarray
    vocabulary: list[str]
    term_counts: np.ndarray
    units: pd.DataFrame
    native_ids: np.ndarray
    seed: int
    settings: dict
    unit: str
    note: str = ""
    n_documents: int = 0

    @property
    def k(self) -> int:
        return self.topic_term.shape[0]

    @property
    def topic_ids(self) -> list[int]:
        return list(range(1, self.k + 1))

    @property
    def prevalence(self) -> np.ndarray:
        """Share of all vocabulary tokens assigned to each topic."""
        lengths = self._unit_lengths()
        weights = lengths @ self.unit_topic
        return weights / weights.sum()

    def _unit_lengths(self) -> np.ndarray:
        return self.units["n_vocab_terms"].to_numpy(dtype=np.float64)

    def subtitle(self) -> str:
        """Fitted on what, with which K and seed: for figure subtitles."""
        what = describe_units(self.unit, len(self.units), self.n_documents)
        note = f"\n({self.note})" if self.note else ""
        return f"LDA ({self.settings['engine']}), K={self.k}, seed {self.seed}\nfitted on {what}{note}"

    def to_files(self, stem: str = "topic-model") -> dict[str, bytes]:
        """The model as ``{stem}.json`` (text) and ``{stem}.npz`` (arrays): no pickle.

        The archive's entries carry a fixed timestamp so the same model gives
        the same bytes; :meth:`load` reads it with ``allow_pickle=False``.
        """
        arrays = {"topic_term": self.topic_term, "unit_topic": self.unit_topic, "term_counts": self.term_counts,
                  "native_ids": self.native_ids.astype(np.int64)}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                entry = io.BytesIO()
                np.save(entry, np.ascontiguousarray(array), allow_pickle=False)
                archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), entry.getvalue())
        meta = {
            "format": MODEL_FORMAT, "seed": self.seed, "unit": self.unit, "note": self.note,
            "n_documents": self.n_documents, "settings": self.settings, "vocabulary": self.vocabulary,
            "units": json.loads(self.units.to_json(orient="split", index=False)),
        }
        text = json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        return {f"{stem}.json": text.encode("utf-8"), f"{stem}.npz": buffer.getvalue()}

    @classmethod
    def load(cls, path: str | Path) -> "TopicModel":
        """Read a model written by :meth:`to_files` (``path`` is the ``.json``
        or the ``.npz``); arrays are loaded with ``allow_pickle=False``."""
        path = Path(path)
        json_path, npz_path = path.with_suffix(".json"), path.with_suffix(".npz")
        try:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AnalysisError(f"{json_path}: not a readable topic model ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
            raise AnalysisError(f"{json_path}: not a topic model written by corpus-analysis ({MODEL_FORMAT})")
        try:
            with np.load(npz_path, allow_pickle=False) as arrays:
                data = {name: arrays[name] for name in ("topic_term", "unit_topic", "term_counts", "native_ids")}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise AnalysisError(f"{npz_path}: not a readable topic-model archive ({exc})") from None
        try:
            units = pd.DataFrame(meta["units"]["data"], columns=meta["units"]["columns"])
            model = cls(data["topic_term"], data["unit_topic"], list(meta["vocabulary"]), data["term_counts"], units,
                        data["native_ids"], int(meta["seed"]), dict(meta["settings"]), str(meta["unit"]),
                        str(meta["note"]), int(meta["n_documents"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisError(f"{json_path}: incomplete topic model ({type(exc).__name__}: {exc})") from None
        k, v = model.topic_term.shape if model.topic_term.ndim == 2 else (0, 0)
        if (v != len(model.vocabulary) or model.unit_topic.shape != (len(units), k) or model.term_counts.shape != (v,)
                or sorted(model.native_ids.tolist()) != list(range(k))):
            raise AnalysisError(f"{json_path} and {npz_path.name} do not belong to the same model (shapes differ)")
        return model


def _topic_settings(settings: Settings) -> dict:
    keys = ("engine", "unit", "k", "workers", "passes", "iterations", "alpha", "eta", "no_below", "no_above", "keep_n", "remove_top_share",
            "phrases", "lemmatize", "relevance_lambda", "min_units_per_topic")
    return {key: getattr(settings, key) for key in keys}


@dataclass
class _Prepared:
    units: TopicUnits
    vocabulary: list[str]
    bows: list[list[tuple[int, int]]]
    dictionary: object

    @cached_property
    def unit_table(self) -> pd.DataFrame:
        """The units with ``n_vocab_terms``, their tokens left after pruning."""
        table = self.units.table.copy()
        table["n_vocab_terms"] = [sum(c for _, c in bow) for bow in self.bows]
        return table

    @cached_property
    def term_counts(self) -> np.ndarray:
        """Tokens of each vocabulary term over all units."""
        counts = np.zeros(len(self.vocabulary))
        for bow in self.bows:
            for i, c in bow:
                counts[i] += c
        return counts


def prepare(units: TopicUnits, settings: Settings) -> _Prepared:
    """Vocabulary and bag-of-words of ``units`` (shared by every seed and K)."""
    dictionary = build_vocabulary(units.texts, settings)
    bows = [dictionary.doc2bow(text) for text in units.texts]
    vocabulary = [dictionary[i] for i in range(len(dictionary))]
    return _Prepared(units, vocabulary, bows, dictionary)


def _model_from_fit(fit: _Fit, prepared: _Prepared, seed: int, settings: Settings, k: int) -> TopicModel:
    units = prepared.unit_table
    topic_term, unit_topic = _normalized(fit.topic_term), _normalized(fit.unit_topic)
    weights = units["n_vocab_terms"].to_numpy(dtype=np.float64) @ unit_topic
    order = np.array(sorted(range(k), key=lambda i: (-round(float(weights[i]), 9), i)))
    return TopicModel(
        topic_term=topic_term[order], unit_topic=unit_topic[:, order], vocabulary=prepared.vocabulary,
        term_counts=prepared.term_counts, units=units, native_ids=order, seed=seed, settings={**_topic_settings(settings), "k": k},
        unit=prepared.units.unit, note=prepared.units.note, n_documents=prepared.units.n_documents,
    )


def fit_topics(prepared: _Prepared, settings: Settings, *, seed: int | None = None, k: int | None = None) -> TopicModel:
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
    """
    seed = settings.seed if seed is None else seed
    k = settings.k if k is None else k
    fit = _ENGINES[settings.engine](prepared.bows, prepared.dictionary, k, seed, settings)
    return _model_from_fit(fit, prepared, seed, settings, k)


# ----------------------------------------------------------------- alignment


def js_similarity(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Pairwise ``1 - Jensen-Shannon distance`` (base 2, so in [0, 1]) between rows.

    >>> float(js_similarity(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]))[0, 0])
    1.0
    >>> float(js_similarity(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))[0, 0])
    0.0
    """
    p = np.asarray(p, dtype=np.float64)[:, None, :]
    q = np.asarray(q, dtype=np.float64)[None, :, :]
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=2)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=2)
    divergence = np.clip((kl_p + kl_q) / 2, 0.0, 1.0)
    return 1.0 - np.sqrt(divergence)


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


@dataclass
class TopicResult:
    """A reported model with its stability across seeds.

    Attributes
    ----------
    model : TopicModel
        The run whose topics agree best with all other runs (the medoid);
        with one seed, that run.
    runs : list of TopicModel
        Every run, in seed order.
    topic_ids : DataFrame
        ``seed, native_id, topic, similarity, reference``: for every run, the
        canonical topic each native topic was mapped to and how similar it is
        to the reported topic. Use it to translate ids from the engine.
    stability : DataFrame
        ``topic, label, seed, similarity``: per topic, the best-match
        similarity in each other run.
    """

    model: TopicModel
    runs: list[TopicModel]
    topic_ids: pd.DataFrame
    stability: pd.DataFrame


def _medoid(runs: list[TopicModel]) -> int:
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
    reference = runs[_medoid(runs)]
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


def fit_stable_topics(
    prepared: _Prepared, settings: Settings, *, seeds: Sequence[int] | None = None,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> TopicResult:
    """Fit one model per seed and report the most representative one.

    Parameters
    ----------
    prepared : result of :func:`prepare`
    settings : Settings
        The fits run in ``settings.n_jobs`` processes, each with one thread
        and its own seed: the runs are those of a serial fit.
    seeds : sequence of int, optional
        Default ``settings.seed, settings.seed + 1, ...`` (``settings.seeds`` of them).
    progress : callable, optional
        Wraps the iterable of seeds (e.g. ``tqdm``).
    """
    seeds = list(seeds) if seeds is not None else [settings.seed + i for i in range(settings.seeds)]
    runs = list(map_in_processes(lambda seed: fit_topics(prepared, settings, seed=seed), seeds,
                                 jobs=settings.n_jobs, progress=progress))
    return stabilize(runs, settings)


# -------------------------------------------------------------------- tables


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
    p_w = model.term_counts / model.term_counts.sum()
    phi = model.topic_term
    with np.errstate(divide="ignore"):
        log_phi = np.log(phi)
        lift = phi / p_w
        relevance = lam * log_phi + (1 - lam) * np.log(lift)
    # Tokens of each term given to each topic: P(k|w) * count(w), P(k|w) by Bayes.
    joint = phi * model.prevalence[:, None]
    topic_count = joint / joint.sum(axis=0, keepdims=True) * model.term_counts
    k, v = phi.shape
    return pd.DataFrame({
        "topic": np.repeat(np.arange(1, k + 1), v),
        "term": np.tile(np.array(model.vocabulary, dtype=object), k),
        "weight": phi.ravel(), "lift": lift.ravel(), "relevance": relevance.ravel(),
        "term_count": np.tile(model.term_counts, k), "topic_count": topic_count.ravel(),
    })


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
    table = term_relevance(model, lam)
    table = table.sort_values(["topic", by, "term"], ascending=[True, False, True], kind="mergesort")
    table["rank"] = table.groupby("topic").cumcount() + 1
    table = table[table["rank"] <= n].reset_index(drop=True)
    table.insert(1, "label", table["topic"].map(topic_labels(model, lam)))
    return table[["topic", "label", "term", "weight", "relevance", "lift", "term_count", "topic_count", "rank"]]


def topic_labels(model: TopicModel, lam: float = 0.6, n_terms: int = 3) -> dict[int, str]:
    """Short automatic labels: the topic's top terms by relevance at ``lam``."""
    table = term_relevance(model, lam)
    table = table.sort_values(["topic", "relevance", "term"], ascending=[True, False, True], kind="mergesort")
    top = table.groupby("topic").head(n_terms).groupby("topic")["term"].apply(list)
    return {int(topic): " \u00b7 ".join(terms) for topic, terms in top.items()}


def unit_topics(model: TopicModel) -> pd.DataFrame:
    """P(topic | unit) in long form: ``unit_id, doc_id, position, role, topic, weight``."""
    k = model.k
    units = model.units
    return pd.DataFrame({
        "unit_id": np.repeat(units["unit_id"].to_numpy(), k),
        "doc_id": np.repeat(units["doc_id"].to_numpy(), k),
        "position": np.repeat(units["position"].to_numpy(), k),
        "role": np.repeat(units["role"].to_numpy(), k),
        "topic": np.tile(np.arange(1, k + 1), len(units)),
        "weight": model.unit_topic.ravel(),
    })


def _rolled_up(model: TopicModel, key: str) -> pd.DataFrame:
    """Topic shares of the tokens of each group of units (weights sum to 1 per group).

    A group without vocabulary tokens (every term pruned) gets the plain mean
    of its units' mixtures instead.
    """
    table = unit_topics(model)
    table["tokens"] = np.repeat(model.units["n_vocab_terms"].to_numpy(dtype=np.float64), model.k) * table["weight"]
    grouped = table.groupby([key, "topic"], sort=False).agg(tokens=("tokens", "sum"), mean=("weight", "mean")).reset_index()
    totals = grouped.groupby(key, sort=False)["tokens"].transform("sum")
    grouped["weight"] = np.where(totals > 0, grouped["tokens"] / totals.where(totals > 0, 1), grouped["mean"])
    return grouped.drop(columns="mean")


def doc_topics(model: TopicModel) -> pd.DataFrame:
    """Topic mixture of each document: ``doc_id, topic, weight``.

    At unit ``document`` the weights are P(topic | document); at finer units
    they are the share of the document's (vocabulary) tokens expected in each
    topic, i.e. the token-weighted mean of its units' mixtures.
    """
    grouped = _rolled_up(model, "doc_id")
    return grouped[["doc_id", "topic", "weight"]].sort_values(["doc_id", "topic"], ignore_index=True)


ROLE_ORDER = ("summary", "intro", "body", "conclusion", "paragraph", "heading")


def topic_prevalence(model: TopicModel, by: str = "document") -> pd.DataFrame:
    """Topic prevalence per document or per block role.

    Parameters
    ----------
    model : TopicModel
    by : {"document", "role"}
        ``role`` needs units finer than documents.

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
    grouped = _rolled_up(model, key).rename(columns={key: "group"})
    if by == "role":
        rank = {r: i for i, r in enumerate(ROLE_ORDER)}
        grouped = grouped.sort_values(["group", "topic"], key=lambda s: s.map(rank) if s.name == "group" else s)
    else:
        grouped = grouped.sort_values(["group", "topic"])
    grouped.insert(0, "group_by", by)
    grouped["label"] = grouped["topic"].map(topic_labels(model, model.settings["relevance_lambda"]))
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
    labels = topic_labels(model, model.settings["relevance_lambda"])
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
    labels = topic_labels(model, model.settings["relevance_lambda"])
    stats = result.stability.groupby("topic")["similarity"].agg(["median", "min"])
    return pd.DataFrame({
        "topic": model.topic_ids,
        "label": [labels[t] for t in model.topic_ids],
        "prevalence": model.prevalence,
        "stability_median": [float(stats["median"].get(t, np.nan)) for t in model.topic_ids],
        "stability_min": [float(stats["min"].get(t, np.nan)) for t in model.topic_ids],
        "native_id": model.native_ids.astype(int),
    })


def topic_ids_table(result: TopicResult) -> pd.DataFrame:
    """The mapping from each run's native topic ids to the canonical ids, with labels."""
    labels = topic_labels(result.model, result.model.settings["relevance_lambda"])
    table = result.topic_ids.copy()
    table.insert(3, "label", table["topic"].map(labels))
    return table


# ------------------------------------------------------------------ select K


def _split(n: int, seed: int, held_out: float) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * held_out))) if n >= 5 else 0
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def heldout_perplexity(fit: _Fit, topic_term: np.ndarray, bows: list[list[tuple[int, int]]]) -> float:
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
    "c_v": "coherence c_v (higher is better)",
    "c_npmi": "coherence NPMI (higher is better)",
    "u_mass": "coherence u_mass (higher is better)",
    "perplexity": "held-out per-word perplexity (lower is better)",
    "stability": "mean matched topic similarity to the medoid run of the same K (higher is better)",
}


def coherence(model_terms: list[list[str]], prepared: _Prepared, measure: str) -> float:
    """Mean coherence of topics given as top-term lists (gensim ``CoherenceModel``)."""
    from gensim.models.coherencemodel import CoherenceModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cm = CoherenceModel(topics=model_terms, texts=prepared.units.texts, dictionary=prepared.dictionary,
                            coherence=measure, topn=len(model_terms[0]), processes=1)
        values = np.array(cm.get_coherence_per_topic(), dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def select_k(
    prepared: _Prepared, settings: Settings, k_grid: Sequence[int], *, seeds: Sequence[int] | None = None,
    held_out: float = 0.2, top_n: int = 10, progress: Callable[[Iterable], Iterable] | None = None,
) -> pd.DataFrame:
    """Fit every K of ``k_grid`` with every seed and score each run.

    Models are fitted on the units not held out (one split, from
    ``settings.seed``, shared by all runs). Coherence (c_v, c_npmi, u_mass)
    is computed from each topic's top ``top_n`` terms over all units;
    perplexity on the held-out units (:func:`heldout_perplexity`);
    stability as the mean matched similarity of a run's topics to those of
    the medoid run of the same K.

    Returns
    -------
    DataFrame
        ``k, seed, metric, value`` (metrics as in :data:`METRICS`).
    """
    seeds = list(seeds) if seeds is not None else [settings.seed + i for i in range(settings.seeds)]
    train, test = _split(len(prepared.bows), settings.seed, held_out)
    train_prepared = _Prepared(
        TopicUnits(prepared.units.table.iloc[train].reset_index(drop=True), [prepared.units.texts[i] for i in train],
                   prepared.units.unit, prepared.units.note, prepared.units.n_documents),
        prepared.vocabulary, [prepared.bows[i] for i in train], prepared.dictionary,
    )
    test_bows = [prepared.bows[i] for i in test]
    for k in k_grid:
        if k > len(prepared.vocabulary):
            raise AnalysisError(f"K={k} exceeds the vocabulary of {len(prepared.vocabulary)} terms")

    def score(run: tuple[int, int]) -> tuple[TopicModel, list[list]]:
        k, seed = run
        fit = _ENGINES[settings.engine](train_prepared.bows, prepared.dictionary, k, seed, settings)
        model = _model_from_fit(fit, train_prepared, seed, settings, k)
        top = [[prepared.vocabulary[i] for i in np.argsort(-row, kind="stable")[:top_n]] for row in model.topic_term]
        scores = [[k, seed, measure, coherence(top, prepared, measure)] for measure in ("c_v", "c_npmi", "u_mass")]
        scores.append([k, seed, "perplexity", heldout_perplexity(fit, _normalized(fit.topic_term), test_bows)])
        return model, scores

    grid = [(k, seed) for k in k_grid for seed in seeds]
    rows: list[list] = []
    runs: dict[int, list[TopicModel]] = {}
    for model, scores in map_in_processes(score, grid, jobs=settings.n_jobs, progress=progress):
        runs.setdefault(model.k, []).append(model)
        rows.extend(scores)
    for k, models in runs.items():
        reference = models[_medoid(models)]
        for model in models:
            if model is reference:
                continue
            rows.append([k, model.seed, "stability", float(align_topics(reference.topic_term, model.topic_term)[1].mean())])
    table = pd.DataFrame(rows, columns=["k", "seed", "metric", "value"])
    order = {m: i for i, m in enumerate(METRICS)}
    return table.sort_values(["metric", "k", "seed"], key=lambda s: s.map(order) if s.name == "metric" else s,
                             ignore_index=True)
