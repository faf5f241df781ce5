"""Streamed online LDA (gensim's E-step mapped over chunks, statistics summed in chunk order): it recovers
planted topics, a seed and a partitioning give the same model file wherever the E-steps run, inference is
written as Parquet, and memory does not grow with the number of documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis.executor import LocalExecutor
from analysis.topics.streamed import fit_streamed, write_chunks

N_TERMS, K = 1_500, 5


def planted(n_units: int, seed: int = 0, per: int = 1_000):
    """Count matrices of ``n_units`` units of 40 tokens drawn from five planted topics (one matrix per
    ``per`` units), and the topics."""
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.full(N_TERMS, 0.05), size=K)

    def matrices():
        for first in range(0, n_units, per):
            theta = rng.dirichlet(np.full(K, 0.3), size=min(per, n_units - first))
            yield sp.csr_matrix(np.stack([rng.multinomial(40, p) for p in theta @ topics]))

    return matrices(), topics


@pytest.fixture(scope="module")
def chunks(tmp_path_factory):
    matrices, topics = planted(6_000)
    return write_chunks(matrices, tmp_path_factory.mktemp("streamed"), units_per_chunk=500), topics


def _best_cosines(topic_term: np.ndarray, topics: np.ndarray) -> np.ndarray:
    def unit(rows):
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return (unit(topic_term) @ unit(topics).T).max(axis=0)


def test_planted_topics_are_recovered_and_prevalence_is_written_as_parquet(chunks, tmp_path):
    chunks, topics = chunks
    fit = fit_streamed(chunks, N_TERMS, K, seed=1, passes=3, iterations=20)
    cosines = _best_cosines(fit.topic_term, topics)
    assert cosines.min() > 0.8 and np.median(cosines) > 0.95, cosines
    assert len(fit.trace) == 3 * 3 and fit.trace[-1]["topic_change"] < fit.trace[0]["topic_change"]
    prevalence = fit.infer(chunks, tmp_path / "doc_topics")
    files = sorted((tmp_path / "doc_topics").glob("*.parquet"))
    assert len(files) == len(chunks)
    theta = pd.concat(pd.read_parquet(f) for f in files)
    assert theta["unit"].tolist() == list(range(6_000))
    assert np.allclose(theta.filter(like="topic_").sum(axis=1), 1.0)
    assert np.isclose(prevalence["tokens"].sum(), 6_000 * 40) and np.isclose(prevalence["share"].sum(), 1.0)


def _model_bytes(fit, folder: Path) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    fit.save(folder / "model.npz")
    return (folder / "model.npz").read_bytes() + (folder / "model.json").read_bytes()


@pytest.mark.parametrize("where", ["two processes", "a LocalCluster of two"])
def test_a_seed_and_a_partitioning_give_the_same_model_file_wherever_the_steps_run(where, chunks, tmp_path):
    chunks, _ = chunks
    if where == "a LocalCluster of two":
        pytest.importorskip("distributed")
        from analysis.executor import DaskExecutor, close_clients
        executor = DaskExecutor("local:2")
    else:
        from analysis.executor import close_clients
        executor = LocalExecutor(2)
    one = _model_bytes(fit_streamed(chunks, N_TERMS, K, seed=7, iterations=10), tmp_path / "one")
    try:
        assert _model_bytes(fit_streamed(chunks, N_TERMS, K, seed=7, iterations=10, executor=executor), tmp_path / "there") == one
    finally:
        close_clients()
    assert _model_bytes(fit_streamed(chunks, N_TERMS, K, seed=7, iterations=10), tmp_path / "again") == one
    assert _model_bytes(fit_streamed(chunks, N_TERMS, K, seed=8, iterations=10), tmp_path / "other") != one


MEASURE = """
import json, sys, tracemalloc
from analysis.topics.streamed import CountChunk, fit_streamed
from gensim.models import LdaModel  # imported before tracing, which slows imports tenfold
chunks = [CountChunk(*c) for c in json.loads(open(sys.argv[1]).read())]
tracemalloc.start()
fit = fit_streamed(chunks, int(sys.argv[2]), int(sys.argv[3]), seed=1, iterations=10)
print(tracemalloc.get_traced_memory()[1])
"""


def test_memory_does_not_grow_with_the_documents(tmp_path):
    """Peak traced memory of a fit (numpy's arrays included) at 10x the documents: within 1.2x."""
    peaks = {}
    for n_units in (400, 4_000):
        matrices, _ = planted(n_units, seed=3)
        listed = tmp_path / f"chunks-{n_units}.json"
        listed.write_text(json.dumps([[c.path, c.start, c.stop] for c in
                                      write_chunks(matrices, tmp_path / str(n_units), units_per_chunk=200)]))
        done = subprocess.run([sys.executable, "-c", MEASURE, str(listed), str(N_TERMS), str(K)],
                              capture_output=True, text=True, check=True)
        peaks[n_units] = int(done.stdout.split()[-1])
    assert peaks[4_000] <= 1.2 * peaks[400], peaks


def _topic_tables(settings) -> dict[str, bytes]:
    from analysis.results import Results

    results = Results(settings)
    return {name: (table.table() if hasattr(table, "parts") else table).to_csv(index=False).encode()
            for name, table in results.tables().items() if name.startswith(("topic", "doc_topics", "unit_topics"))}


def test_the_online_engine_gives_the_same_topic_tables_in_process_and_on_a_cluster(seed_corpus, tmp_path):
    """Each seed's E-steps are mapped over the run's workers; the tables are the in-process ones."""
    from analysis.config import Settings

    pytest.importorskip("distributed")
    from analysis.executor import close_clients

    def settings(**how):
        return Settings(corpus=seed_corpus, out=tmp_path / "out", cache_dir=tmp_path / "cache", engine="online",
                        seeds=2, passes=3, online_chunk_units=10, **how)
    here = _topic_tables(settings(jobs=1))
    try:
        there = _topic_tables(settings(scheduler="local:2"))
    finally:
        close_clients()
    assert here and [name for name in here if here[name] != there[name]] == []


def test_tomotopy_gives_way_to_the_online_engine_above_its_token_limit(seed_corpus, tmp_path):
    from analysis.config import Settings
    from analysis.results import Results
    from analysis.topics import TopicWarning

    results = Results(Settings(corpus=seed_corpus, out=tmp_path / "out", cache_dir=tmp_path / "cache", seeds=1,
                               passes=2, tomotopy_max_tokens=100))
    with pytest.warns(TopicWarning, match=r"exceed tomotopy_max_tokens \(100\).*online engine"):
        model = results.topics.model
    assert model.settings["engine"] == "online" and "streamed in chunks of 2,000 units" in model.subtitle()
