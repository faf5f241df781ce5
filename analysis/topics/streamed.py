"""Topics past one machine's memory: gensim's online LDA, streamed in chunks of units, its E-step mapped over
workers and its statistics summed in a fixed order.

Online LDA (Hoffman, Blei and Bach 2010, as gensim's ``LdaModel`` implements it) needs only the topics
(a K x V array) between chunks of units, so memory does not grow with the corpus:

- The units are read in chunks that each worker makes itself: a :class:`CountChunk` is a slice of a
  count matrix stored on disk (see :func:`write_chunks`), a :class:`analysis.topics.fit.BagsChunk` a
  range of topic units counted from the term layer. This process holds the topics and the list of
  chunks.
- A *round* is ``chunks_per_round`` consecutive chunks. Each of its chunks goes to a worker, which runs
  gensim's E-step (``LdaModel.inference``) with the round's topics and a random state seeded from
  ``(seed, pass, chunk)``, and returns the chunk's sufficient statistics (K x V) and its number of
  units. They are summed here in chunk order, and gensim's M-step (``LdaModel.do_mstep``) blends them
  into the topics with gensim's learning rate ``(offset + pass + updates / round_units) ** -decay``.
- Rounds are fixed by the chunks and ``chunks_per_round``, never by the number of workers, so a seed and
  a partitioning give the same topics, and the same model file byte for byte, on one core, many, or a
  cluster (the executor only decides where the E-steps run).

Document-topic inference is a map too: :meth:`StreamedLda.infer` writes one Parquet file per chunk and
returns only the topic prevalence.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis.executor import Executor, LocalExecutor
from analysis.parts import write_part

STREAMED_FORMAT = 1


@dataclass(frozen=True)
class CountChunk:
    """Units ``start:stop`` (numbered over the whole corpus): a units x terms count matrix saved at ``path``
    with ``scipy.sparse.save_npz``."""

    path: str
    start: int
    stop: int

    def matrix(self) -> sp.csr_matrix:
        return sp.load_npz(self.path).tocsr()

    def bows(self) -> list[list[tuple[int, int]]]:
        """The rows as gensim's bags of words."""
        matrix = self.matrix()
        matrix.sort_indices()
        ids, counts, bounds = matrix.indices.tolist(), matrix.data.tolist(), matrix.indptr.tolist()
        return [list(zip(ids[a:b], counts[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]


def write_chunks(matrices: Iterable[sp.spmatrix], folder: Path, *, units_per_chunk: int) -> list[CountChunk]:
    """Save count matrices (units x terms, all with the same terms, read one at a time) in ``folder`` as
    chunks of ``units_per_chunk`` units, one file each."""
    folder.mkdir(parents=True, exist_ok=True)
    chunks, units = [], 0
    for matrix in matrices:
        matrix = sp.csr_matrix(matrix)
        for start in range(0, matrix.shape[0], units_per_chunk):
            rows = matrix[start:start + units_per_chunk]
            path = folder / f"counts-{len(chunks):05d}.npz"
            sp.save_npz(path, rows, compressed=False)
            chunks.append(CountChunk(str(path), units, units + rows.shape[0]))
            units += rows.shape[0]
    return chunks


_INFERENCE = 2**32 - 1  # the "pass" of the seeds of inference


def _chunk_seed(seed: int, pass_: int, chunk: int) -> int:
    """The seed of a chunk's E-step in a pass: independent streams for every (seed, pass, chunk)."""
    return int(np.random.SeedSequence([seed, pass_, chunk]).generate_state(1)[0])


def _estimator(exp_elog_beta: np.ndarray, alpha: np.ndarray, options: tuple[int, float], seed: int):
    """What gensim's ``LdaModel.inference`` reads of a model, with a random state of its own."""
    iterations, gamma_threshold = options
    return SimpleNamespace(random_state=np.random.RandomState(seed), num_topics=len(alpha), dtype=np.float64,
                           alpha=alpha, expElogbeta=exp_elog_beta, iterations=iterations,
                           gamma_threshold=gamma_threshold)


def _estep(exp_elog_beta: np.ndarray, alpha: np.ndarray, options: tuple[int, float],
           item: tuple[CountChunk, int]) -> tuple[np.ndarray, int, np.ndarray]:
    """gensim's E-step on one chunk: its sufficient statistics (K x V), its number of units and the sum of
    their expected log topic weights (what learning ``alpha`` needs)."""
    from gensim.matutils import dirichlet_expectation
    from gensim.models import LdaModel

    chunk, seed = item
    bows = chunk.bows()
    gamma, sstats = LdaModel.inference(_estimator(exp_elog_beta, alpha, options, seed), bows, collect_sstats=True)
    return sstats, len(bows), dirichlet_expectation(gamma).sum(axis=0)


def _mixtures(exp_elog_beta: np.ndarray, alpha: np.ndarray, options: tuple[int, float], seed: int,
              bows: list) -> np.ndarray:
    """Each bag's topic mixture (normalised gamma of gensim's inference)."""
    from gensim.models import LdaModel

    if not bows:
        return np.zeros((0, len(alpha)))
    gamma, _ = LdaModel.inference(_estimator(exp_elog_beta, alpha, options, seed), bows)
    return gamma / gamma.sum(axis=1, keepdims=True)


def _theta(exp_elog_beta: np.ndarray, alpha: np.ndarray, options: tuple[int, float], folder: str,
           item: tuple[int, CountChunk, int]) -> np.ndarray:
    """The topic mixture of each unit of one chunk, written as ``doc_topics-<chunk>.parquet`` in ``folder``;
    returns the chunk's tokens by topic (each unit's mixture weighted by its tokens)."""
    number, chunk, seed = item
    bows = chunk.bows()
    theta = _mixtures(exp_elog_beta, alpha, options, seed, bows)
    table = pd.DataFrame(theta, columns=[f"topic_{t + 1}" for t in range(len(alpha))])
    table.insert(0, "unit", np.arange(chunk.start, chunk.stop, dtype=np.int64))
    table.insert(1, "chunk", np.full(len(table), number, dtype=np.int64))
    write_part(table, Path(folder) / f"doc_topics-{number:05d}.parquet")
    tokens = np.asarray([sum(c for _, c in bow) for bow in bows], dtype=np.float64)
    return tokens @ theta


@dataclass
class StreamedLda:
    """A fitted online LDA: ``lambda_`` (K x V variational topic parameters), the priors, the settings and
    the trace of rounds (learning rate and mean change of the topics)."""

    lambda_: np.ndarray
    alpha: np.ndarray
    eta: np.ndarray
    settings: dict
    trace: list[dict] = field(default_factory=list)

    @property
    def topic_term(self) -> np.ndarray:
        """Each topic's distribution over the terms (rows sum to 1)."""
        return self.lambda_ / self.lambda_.sum(axis=1, keepdims=True)

    def _exp_elog_beta(self) -> np.ndarray:
        from gensim.matutils import dirichlet_expectation

        return np.exp(dirichlet_expectation(self.lambda_))

    @property
    def _options(self) -> tuple[int, float]:
        return self.settings["iterations"], self.settings["gamma_threshold"]

    def mixtures(self, bows: list, seed: int = 0) -> np.ndarray:
        """The topic mixture of each bag of words, here (the random start of each bag from ``seed``)."""
        return _mixtures(self._exp_elog_beta(), self.alpha, self._options,
                         _chunk_seed(self.settings["seed"], _INFERENCE, seed), bows)

    def save(self, path: Path) -> None:
        """Write ``path`` (``.npz``: the arrays, fixed timestamps) and ``path.with_suffix('.json')`` (settings
        and trace): the same fit gives the same bytes."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in ("lambda_", "alpha", "eta"):
                entry = io.BytesIO()
                np.save(entry, np.ascontiguousarray(getattr(self, name)), allow_pickle=False)
                archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), entry.getvalue())
        Path(path).write_bytes(buffer.getvalue())
        meta = {"format": STREAMED_FORMAT, "settings": self.settings, "trace": self.trace}
        Path(path).with_suffix(".json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")

    def infer(self, chunks: Sequence[CountChunk], folder: Path, *, executor: Executor | None = None,
              progress: Callable[[Iterable], Iterable] | None = None) -> pd.DataFrame:
        """Each unit's topic mixture, a map over ``chunks`` written as Parquet in ``folder`` (one file per
        chunk: ``unit``, ``chunk``, ``topic_1`` ...); returns the prevalence (``topic``, ``tokens``,
        ``share``), reduced from the chunks' token totals."""
        folder.mkdir(parents=True, exist_ok=True)
        executor = executor or LocalExecutor(1)
        seed = self.settings["seed"]
        items = [(number, chunk, _chunk_seed(seed, _INFERENCE, number)) for number, chunk in enumerate(chunks)]
        tokens = np.zeros(len(self.alpha))
        for part in executor.map(_theta, items, progress=progress,
                                 common=(self._exp_elog_beta(), self.alpha, self._options, str(folder))):
            tokens += part  # in chunk order: the same sums wherever the chunks ran
        return pd.DataFrame({"topic": np.arange(1, len(tokens) + 1), "tokens": tokens,
                             "share": tokens / tokens.sum() if tokens.sum() else tokens})


def fit_streamed(chunks: Sequence[CountChunk], n_terms: int, k: int, *, seed: int, passes: int = 1,
                 chunks_per_round: int = 4, alpha: str | float = "symmetric", eta: str | float | None = None,
                 decay: float = 0.5, offset: float = 1.0, iterations: int = 50, gamma_threshold: float = 0.001,
                 executor: Executor | None = None,
                 progress: Callable[[Iterable], Iterable] | None = None) -> StreamedLda:
    """Fit online LDA on ``chunks`` of a units x ``n_terms`` count matrix (see the module notes).

    Parameters
    ----------
    chunks : sequence of CountChunk or BagsChunk
        Anything with ``start``, ``stop`` and ``bows()``: the units, in the order they are streamed
        (every pass reads them in this order).
    n_terms, k : int
        Vocabulary size; topics.
    seed : int
        Seeds the initial topics and, with the pass and chunk number, each chunk's E-step.
    passes : int, default 1
        Times the chunks are read.
    chunks_per_round : int, default 4
        Chunks whose statistics make one M-step (a round); the fit depends on it, not on the workers.
    alpha, eta, decay, offset, iterations, gamma_threshold
        As gensim's ``LdaModel``. A learned ``alpha`` (``"auto"``) is updated once per round from the
        expected log topic weights its chunks sum (gensim updates it after every chunk), before the
        M-step; a learned ``eta`` in gensim's M-step.
    executor : Executor, optional
        Where the E-steps run (default: this process).
    progress : callable, optional
        Wraps each round's chunks as they come back.

    Returns
    -------
    StreamedLda
    """
    from gensim.models import LdaModel
    from gensim.models.ldamodel import LdaState

    from gensim.models.ldamodel import update_dir_prior

    executor = executor or LocalExecutor(1)
    model = LdaModel(id2word={i: str(i) for i in range(n_terms)}, num_topics=k, random_state=seed, alpha=alpha,
                     eta=eta, decay=decay, offset=offset, iterations=iterations, gamma_threshold=gamma_threshold,
                     dtype=np.float64, eval_every=None, passes=passes)
    units_per_round = max(1, sum(c.stop - c.start for c in chunks[:chunks_per_round]))
    model.state.numdocs += sum(c.stop - c.start for c in chunks)  # as gensim's update(): statistics scale to the corpus
    trace = []
    for pass_ in range(passes):
        for first in range(0, len(chunks), chunks_per_round):
            items = [(chunks[c], _chunk_seed(seed, pass_, c))
                     for c in range(first, min(first + chunks_per_round, len(chunks)))]
            statistics = LdaState(model.eta, (k, n_terms), dtype=np.float64)
            elog_theta = np.zeros(k)
            for sstats, n_units, elog_theta_sum in executor.map(
                    _estep, items, progress=progress,
                    common=(model.expElogbeta, model.alpha, (iterations, gamma_threshold))):
                statistics.sstats += sstats  # in chunk order, so the sums do not depend on the workers
                statistics.numdocs += n_units
                elog_theta += elog_theta_sum
            rho = pow(offset + pass_ + model.num_updates / units_per_round, -decay)
            if model.optimize_alpha and statistics.numdocs:
                model.alpha = update_dir_prior(model.alpha, statistics.numdocs, elog_theta / statistics.numdocs, rho)
            before = model.expElogbeta.copy()
            model.do_mstep(rho, statistics, pass_ > 0)
            trace.append({"pass": pass_, "first_chunk": first, "rho": rho,
                          "topic_change": float(np.mean(np.abs(np.log(model.expElogbeta) - np.log(before))))})
    settings = {"k": k, "n_terms": n_terms, "seed": seed, "passes": passes, "chunks_per_round": chunks_per_round,
                "alpha": alpha, "eta": eta, "decay": decay, "offset": offset, "iterations": iterations,
                "gamma_threshold": gamma_threshold, "chunks": len(chunks),
                "units": int(sum(c.stop - c.start for c in chunks))}
    return StreamedLda(model.state.get_lambda().copy(), np.asarray(model.alpha, dtype=np.float64),
                       np.asarray(model.eta, dtype=np.float64), settings, trace)
