"""A fitted topic model and a reported result: the objects every topic table reads."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.topics.units import describe_units

MODEL_FORMAT = "corpus-analysis-topic-model/1"

def normalized(a: np.ndarray) -> np.ndarray:
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
    n_documents : int
    named : dict of int to str
        Labels the researcher gave (topic -> label), used instead of the
        automatic ones (:mod:`analysis.topics.labels`).
    trace : list of [int, float]
        The fit's log-likelihood per word after each step of sweeps
        (``[sweep, value]``; empty for the gensim and online engines).
    stopped : str
        Why the fit stopped (for now always its iterations or passes setting).
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
    named: dict = field(default_factory=dict)
    trace: list = field(default_factory=list)
    stopped: str = ""

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
        engine = self.settings["engine"]
        if engine == "online":
            engine = f"online, streamed in chunks of {self.settings['online_chunk_units']:,} units"
        return f"LDA ({engine}), K={self.k}, seed {self.seed}\nfitted on {what}{note}"

    def to_files(self, stem: str) -> dict[str, bytes]:
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
            "trace": self.trace, "stopped": self.stopped,
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
                        str(meta["note"]), int(meta["n_documents"]), trace=list(meta.get("trace", [])),
                        stopped=str(meta.get("stopped", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisError(f"{json_path}: incomplete topic model ({type(exc).__name__}: {exc})") from None
        k, v = model.topic_term.shape if model.topic_term.ndim == 2 else (0, 0)
        if (v != len(model.vocabulary) or model.unit_topic.shape != (len(units), k) or model.term_counts.shape != (v,)
                or sorted(model.native_ids.tolist()) != list(range(k))):
            raise AnalysisError(f"{json_path} and {npz_path.name} do not belong to the same model (shapes differ)")
        return model


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


