"""The same run on a Dask cluster: the executor setting, the scheduler forms, the version check, and
byte-identical output between this machine's processes and a ``LocalCluster`` (skipped without the
``dask`` extra)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from analysis.cli import main
from analysis.config import Settings
from analysis.corpus import Corpus
from analysis.errors import AnalysisError
from analysis.executor import DaskExecutor, LocalExecutor, executor_for, parse_scheduler, version_mismatches
from analysis.prepared import prepare

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value, parsed", [
    ("local:2", {"local": 2}), ("tcp://10.0.0.5:8786", {"address": "tcp://10.0.0.5:8786"}),
    ("slurm:4", {"kind": "slurm", "jobs": 4}), ("pbs:1", {"kind": "pbs", "jobs": 1}),
])
def test_scheduler_forms(value, parsed):
    assert parse_scheduler(value) == parsed


@pytest.mark.parametrize("value", ["local:0", "local", "8786", "http://host:8786", "slurm", "kubernetes:3"])
def test_a_scheduler_of_another_form_is_one_line_before_any_work(value, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(REPO / "corpus"), "--scheduler", value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scheduler" in err[0] and "local:N, tcp://host:port" in err[0], err


def test_the_executor_follows_the_settings():
    assert isinstance(executor_for(Settings(jobs=3)), LocalExecutor) and executor_for(Settings(jobs=3)).jobs == 3
    assert executor_for(Settings(executor="dask", jobs=2)).scheduler == "local:2"
    assert executor_for(Settings(scheduler="tcp://h:8786")).scheduler == "tcp://h:8786"  # a scheduler implies dask


def test_a_remote_cluster_without_the_cache_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """Its workers could not open a prepared corpus kept in this machine's temporary folder."""
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(REPO / "corpus"), "--no-cache", "--scheduler", "tcp://10.0.0.5:8786"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--no-cache replaces with a temporary folder" in err[0], err
    assert isinstance(executor_for(Settings(scheduler="local:2", cache=False)), DaskExecutor)  # same machine


def test_workers_with_other_versions_are_named_in_one_line():
    here = {"packages": {"python": "3.11.7", "corpus-analysis": "0.1.0", "gensim": "4.3.3", "dask": "2026.8.0"}}
    other = {"packages": {**here["packages"], "gensim": "4.4.0"}}
    versions = {"client": here, "scheduler": here, "workers": {"tcp://a:1": here, "tcp://b:2": other}}
    assert version_mismatches(versions) == ["gensim: here 4.3.3, cluster 4.3.3, 4.4.0"]
    versions["workers"] = {"tcp://a:1": here}
    assert version_mismatches(versions) == []


def test_without_the_dask_extra_the_error_says_what_to_install(monkeypatch, tmp_path, capsys):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name.split(".")[0] == "distributed":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(REPO / "corpus"), "--no-cache", "--scheduler", "local:7"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        ("corpus-analysis: error: --scheduler local:7: running on Dask needs the dask extra "
         "(pip install 'corpus-analysis[dask]')")]


# -- on a LocalCluster ---------------------------------------------------------------------------------

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module", autouse=True)
def _clusters_end_with_the_module():
    from analysis.executor import close_clients

    yield
    close_clients()  # the rest of the suite runs without idle workers


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _prepared_files(corpus: Corpus, cache: Path, **how) -> dict[str, bytes]:
    prepared = prepare(corpus, cache=cache, **how)
    return _files(prepared.folder)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A JSONL corpus of 60 short documents in three desks, half their sentences with a phrase."""
    rng = np.random.default_rng(12)
    words = "river bank water stone field market price trade road bridge light tower garden winter".split()
    path = tmp_path_factory.mktemp("dask") / "docs.jsonl"

    def sentence() -> str:
        chosen = list(rng.choice(words, size=9))
        if rng.random() < 0.5:
            chosen[2:2] = ["chronic", "pain"]
        return " ".join(chosen).capitalize() + "."

    with path.open("w", encoding="utf-8") as out:
        for i in range(60):
            text = " ".join(sentence() for _ in range(rng.integers(2, 6)))
            out.write(json.dumps({"id": f"d{i:03d}", "text": text, "desk": f"desk-{i % 3}"}) + "\n")
    return path


@pytest.mark.parametrize("scheduler", ["local:1", "local:2"])
def test_the_prepared_corpus_is_byte_identical_on_a_cluster(scheduler, generated, seed_corpus, tmp_path):
    """Partitioned alike, the files are the same bytes; partitioned otherwise, the same tables."""
    for corpus in (Corpus(generated), Corpus(seed_corpus)):
        whole = prepare(corpus, cache=tmp_path / "whole", jobs=1)
        for chunk_size in (1, 7, 25):
            local = _prepared_files(corpus, tmp_path / f"local-{chunk_size}", jobs=1, chunk_size=chunk_size)
            on_dask = prepare(corpus, cache=tmp_path / f"dask-{chunk_size}", chunk_size=chunk_size,
                              executor=DaskExecutor(scheduler))
            assert _files(on_dask.folder) == local, (corpus.path, chunk_size)
            assert on_dask.blocks.equals(whole.blocks) and on_dask.documents.equals(whole.documents)
            assert [d.text for d in on_dask] == [d.text for d in whole]


def test_a_worker_side_error_is_the_same_one_line(tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Rivers carry water.\n", encoding="utf-8")
    (corpus / "b.txt").write_bytes(b"caf\xe9 au lait\n")
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--corpus", str(corpus), "--no-cache", "--scheduler", "local:2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{corpus / 'b.txt'}: not valid utf-8 at byte 3" in err[0], err


def test_workers_killed_by_a_task_are_one_line_saying_what_to_change():
    """A task that kills every worker it runs on (most often by outgrowing the memory limit) is not dask's
    multi-line KilledWorker but one line naming the scheduler and the remedy."""
    import os

    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        executor = DaskExecutor("tcp://cluster:8786")
        executor.__dict__["client"] = client
        for run in (lambda: list(executor.map(os._exit, [1])), lambda: executor.gather(executor.launch(os._exit, [1]))):
            with pytest.raises(AnalysisError) as caught:
                run()
            message = str(caught.value)
            assert "\n" not in message and message.startswith("--scheduler tcp://cluster:8786: the workers died "
                                                              "running exit (1 tried it), most likely out of memory")


def test_figures_on_a_cluster_are_the_committed_figures_byte_for_byte(tmp_path, monkeypatch):
    import shutil

    project = tmp_path / "project"  # the project's settings and corpus, so the manifest's paths match
    shutil.copytree(REPO / "corpus", project / "corpus")
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    monkeypatch.chdir(project)
    assert main(["figures", "--no-cache", "--scheduler", "local:2"]) == 0
    committed = _files(REPO / "figures")
    produced = _files(project / "figures")
    assert sorted(produced) == sorted(committed)
    assert [name for name in committed if produced[name] != committed[name]] == []


@pytest.fixture(scope="module")
def awkward_jsonl(tmp_path_factory) -> Path:
    """JSON Lines without ids (ids are row numbers), with a BOM, blank lines, CRLF and a bare CR line end,
    Unicode text and a U+2028 inside a string: where partitions start must not shift a row."""
    rng = np.random.default_rng(4)
    words = "río bank wáter stone field market price trade road bridge light tower garden winter".split()
    lines = []
    for i in range(70):
        text = " ".join(" ".join(rng.choice(words, size=8)).capitalize() + "." for _ in range(rng.integers(1, 4)))
        if i == 33:
            text += "\u2028a line separator inside a JSON string"
        lines.append(json.dumps({"text": text, "n": i}, ensure_ascii=False))
    body = ""
    for i, line in enumerate(lines):
        body += line + ("\r\n" if i % 5 == 0 else "\r" if i == 40 else "\n") + ("\n  \n" if i % 9 == 0 else "")
    path = tmp_path_factory.mktemp("awkward") / "rows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    return path


def _tables(prepared) -> tuple:
    return prepared.documents, prepared.blocks, [(d.doc_id, d.source, d.text) for d in prepared]


@pytest.mark.parametrize("chunk_size", [1, 6, 50])
def test_workers_read_their_own_jsonl_and_parquet_partitions(awkward_jsonl, chunk_size, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([json.loads(line) for line in
                                  awkward_jsonl.read_text(encoding="utf-8-sig").replace("\r", "\n").split("\n")
                                  if line.strip()])
    parquet = tmp_path / "rows.parquet"
    pq.write_table(table, parquet, row_group_size=17)
    for path in (awkward_jsonl, parquet):
        corpus = Corpus(path)
        assert all(type(b.records).__name__ in ("JsonlRange", "ParquetSlice")
                   for b in corpus.batches(chunk_size, by_reference=True))
        local = prepare(corpus, cache=tmp_path / f"local-{path.suffix}", jobs=1)
        on_dask = prepare(corpus, cache=tmp_path / f"dask-{path.suffix}", chunk_size=chunk_size,
                          executor=DaskExecutor("local:2"))
        for a, b in zip(_tables(local), _tables(on_dask)):
            assert (a.equals(b) if hasattr(a, "equals") else a == b), path
        assert local.n_documents == 70 and on_dask.documents["doc_id"].tolist() == [str(i) for i in range(1, 71)]


def test_a_bad_line_in_a_later_partition_is_named_as_in_process(tmp_path):
    path = tmp_path / "rows.jsonl"
    good = [json.dumps({"id": f"r{i}", "text": f"Rivers and lakes number {i}."}) for i in range(30)]
    path.write_bytes(("\n".join(good[:20]) + "\n\n{not json\n" + "\n".join(good[20:]) + "\n").encode("utf-8"))

    def error(**how) -> str:
        with pytest.raises(AnalysisError) as caught:
            prepare(Corpus(path), cache=None, chunk_size=5, **how)
        return str(caught.value)

    assert error(jobs=1) == error(executor=DaskExecutor("local:2")) == \
        f"{path}: line 22 is not valid JSON (Expecting property name enclosed in double quotes)"
    path.write_bytes(path.read_bytes().replace(b"{not json\n", b"").replace(b"number 25", b"n\xe9mber 25"))
    assert error(jobs=1) == error(executor=DaskExecutor("local:2"))
    assert "not valid utf-8 at byte 1347 " in error(jobs=1)  # the offset of the e-acute


def test_a_line_past_the_limit_is_the_same_error_when_partitioned(tmp_path):
    path = tmp_path / "one-line.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "short"}) + "\n" + json.dumps({"id": "2", "text": "w " * 600_000}),
                    encoding="utf-8")
    corpus = Corpus(path, max_file_mb=1)
    messages = set()
    for by_reference in (False, True):
        with pytest.raises(AnalysisError) as caught:
            list(corpus.batches(by_reference=by_reference))
        messages.add(str(caught.value))
    assert messages == {f"{path}: line 2 is longer than 1 MB (max_file_mb); is this JSON Lines, one record per line?"}


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".jsonl.gz"])
def test_convert_writes_a_corpus_that_reads_back_the_same(suffix, tmp_path, capsys, monkeypatch):
    source = tmp_path / "letters"
    (source / "north").mkdir(parents=True)
    (source / "south").mkdir()
    (source / "north" / "a.txt").write_text("Rivers run north.\n\nA second paragraph.\n", encoding="utf-8")
    (source / "south" / "b.md").write_text("# Heading\n\nRivers run south, café.\n", encoding="utf-8")
    (source / "metadata.csv").write_text("id,year\nnorth/a,1901\nsouth/b,1902\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    target = tmp_path / f"letters{suffix}"
    assert main(["convert", str(target), "--corpus", str(source), "--no-cache"]) == 0
    assert capsys.readouterr().out.strip() == f"{target}: 2 documents (id, text and 2 metadata column(s))"
    original = [(d.doc_id, d.text, d.metadata) for d in Corpus(source)]
    assert [(d.doc_id, d.text, d.metadata) for d in Corpus(target)] == original


def test_a_corpus_that_cannot_be_split_is_read_here_with_advice(tmp_path):
    from analysis.corpus import CorpusWarning

    path = tmp_path / "rows.csv"
    path.write_text("id,text\n1,\"Rivers run,\nnorth.\"\n2,Lakes are still.\n", encoding="utf-8")
    with pytest.warns(CorpusWarning, match=r"rows.csv: read by this process .* corpus-analysis convert "
                                           r"rows.parquet --corpus"):
        prepared = prepare(Corpus(path), cache=None, executor=DaskExecutor("local:2"))
    assert prepared.n_documents == 2


@pytest.mark.parametrize("lemmatize", [False, True])
def test_the_term_layer_on_a_cluster_is_the_in_process_one(generated, tmp_path, lemmatize):
    """Workers open the prepared corpus from its folder (it pickles as its path) and count their chunks;
    the merges here give the layer of one process, masks, phrases, lemmas and n-grams included."""
    from analysis.pipeline import derive_terms
    from analysis.results import Results

    results = Results(Settings(corpus=generated, out=tmp_path / "out", cache_dir=tmp_path / "cache",
                               phrase_min_count=3, lemmatize=lemmatize))
    masks = {"d001": [(0, 40)], "d007": [(10, 200)]}
    one = derive_terms(results.prepared, results.preprocessor, masks, chunk_tokens=10**9)
    on_dask = derive_terms(results.prepared, results.preprocessor, masks, chunk_tokens=60,
                           executor=DaskExecutor("local:2"))
    for name in ("sequence", "offsets", "n_tokens", "counted"):
        assert np.array_equal(getattr(one, name), getattr(on_dask, name)), name
    assert (one.terms, one.words) == (on_dask.terms, on_dask.words)
    assert (one.block_term != on_dask.block_term).nnz == 0
    assert one.waterfall.equals(on_dask.waterfall) and one.phrases.equals(on_dask.phrases)
    assert len(one.phrases) > 0
    for n, arrays in one.ngrams.items():
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(arrays, on_dask.ngrams[n])), n


@pytest.fixture(scope="module")
def reused(tmp_path_factory) -> Path:
    """3,000 documents of five sentences, most drawn from 300 shared ones (a word edited now and then),
    so that passages and near-duplicate sentences recur across documents."""
    rng = np.random.default_rng(5)
    vocabulary = np.array([f"w{i}" for i in range(3_000)])
    shared = [list(rng.choice(vocabulary, size=14)) for _ in range(300)]
    path = tmp_path_factory.mktemp("reused") / "docs.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(3_000):
            sentences = []
            for _ in range(5):
                words = list(shared[rng.integers(300)]) if rng.random() < 0.7 else list(rng.choice(vocabulary, 12))
                if rng.random() < 0.3:
                    words[rng.integers(len(words))] = str(rng.choice(vocabulary))
                sentences.append(" ".join(words).capitalize() + ".")
            out.write(json.dumps({"id": f"r{i:04d}", "text": " ".join(sentences)}) + "\n")
    return path


def _reuse_bytes(found) -> dict[str, bytes]:
    tables = {name: getattr(found, name).to_csv(index=False).encode() for name in
              ("shared_spans", "span_occurrences", "near_duplicate_sentences", "reuse_matrix", "reused_share")}
    return tables | {"char_ranges": json.dumps(found.reused_char_ranges, sort_keys=True).encode()}


def test_reuse_tables_are_byte_identical_for_any_workers_and_ranges(reused, seed_corpus, tmp_path, monkeypatch):
    """Passages (an exact shingle shuffle) and near-duplicate sentences (MinHash band keys as shuffle keys)
    give the same bytes in this process and on LocalClusters of one and two workers, however the documents
    are cut into ranges (one range, a few, dozens)."""
    from analysis.reuse import find_reuse

    for corpus in (Corpus(reused), Corpus(seed_corpus)):
        prepared = prepare(corpus, cache=tmp_path / corpus.path.name, jobs=1)
        reference = _reuse_bytes(find_reuse(prepared, n=6))
        assert len(reference["near_duplicate_sentences"]) > 1_000 and len(reference["shared_spans"]) > 500
        for scheduler, tokens_per_task, rows_per_part in (("local:1", 4_000, 10**6), ("local:2", 10**9, 10**6),
                                                          ("local:2", 2_500, 2_000)):
            monkeypatch.setattr("analysis.reuse.reading._TOKENS_PER_TASK", tokens_per_task)
            monkeypatch.setattr("analysis.parts.ROWS_PER_PART", rows_per_part)
            result = find_reuse(prepared, n=6, executor=DaskExecutor(scheduler))
            found = _reuse_bytes(result)
            assert [name for name in reference if found[name] != reference[name]] == [], (corpus.path, scheduler)
            if rows_per_part < 10**6:  # the sorted tables were written by as many partitions as they fill
                assert len(result.spans.parts) > result.n_spans // 4_000
                assert len(result.sentence_pairs.parts) > result.n_pairs // 4_000


def test_collocates_and_dispersion_are_exact_reductions_over_chunks(generated, seed_corpus, tmp_path, monkeypatch):
    """Chunks of whole documents are counted on the workers and summed (collocates) or joined in order
    (positions): the tables of one pass over the corpus, for any chunking."""
    from analysis import concordance
    from analysis.results import Results

    for corpus, node, terms in ((generated, "chronic pain", ["river", "chronic pain", "absent"]),
                                (seed_corpus, "kratom", ["kratom", "pain relief"])):
        results = Results(Settings(corpus=corpus, out=tmp_path / "out", cache_dir=tmp_path / "cache"))
        whole = concordance.collocates(results.prepared, node, results.preprocessor, min_count=1)
        positions = concordance.term_positions(results.prepared, terms, results.preprocessor)
        assert whole.attrs["node_count"] > 10 and positions["position"].notna().sum() > 10
        monkeypatch.setattr("analysis.concordance._TOKENS_PER_TASK", 97)
        for executor in (LocalExecutor(2), DaskExecutor("local:2")):
            chunked = concordance.collocates(results.prepared, node, results.preprocessor, min_count=1,
                                             executor=executor)
            assert chunked.equals(whole) and chunked.attrs == whole.attrs
            assert concordance.term_positions(results.prepared, terms, results.preprocessor,
                                              executor=executor).equals(positions)
        monkeypatch.undo()


def _term_statistics(tc, grouping) -> dict:
    from analysis import document_terms, groups, keyness, terms

    counts = groups.GroupCounts(tc, grouping)
    cosine = document_terms.group_cosines(tc.prepared, tc.layer, tc.executor, grouping.of_document,
                                          len(grouping.names))
    shown = [tc.prepared.doc_ids[i] for i in groups.typical_documents(cosine, grouping, tc.document_tokens, 7)]
    return {"summary": terms.corpus_summary(tc), "frequency": terms.document_frequency(tc), "shown": shown,
            "tfidf": terms.tfidf(tc, documents=shown), "keyness": keyness.keyness(tc, documents=shown),
            "by_document": terms.term_frequencies(tc, "document"), "group_terms": groups.group_terms(counts),
            "group_keyness": groups.group_keyness(counts),
            "trends": groups.term_trends(counts, ["river", "chronic pain", "absent"], seed=3, n_resamples=99)}


def test_keyness_tfidf_and_group_counts_are_exact_reductions_over_chunks(generated, tmp_path, monkeypatch):
    """Term totals, document frequencies, group sums, typical documents and the rows of the documents a
    table shows are maps over chunks of documents, summed or joined in chunk order: the same tables as
    one chunk in this process, in two processes and on a cluster."""
    from analysis import document_terms
    from analysis.results import Results
    from analysis.terms import TermCounts

    results = Results(Settings(corpus=generated, out=tmp_path / "out", cache_dir=tmp_path / "cache", group_by="desk"))
    prepared, layer, grouping = results.prepared, results.term_layer, results.grouping
    shipped = pickle.dumps(layer)  # to the workers as its folder, reopened memory-mapped there
    assert len(shipped) < 1000 and (pickle.loads(shipped).block_term != layer.block_term).nnz == 0
    assert len(document_terms.chunks_of(prepared)) == 1
    whole = _term_statistics(TermCounts(prepared, layer), grouping)
    assert len(whole["shown"]) == 7 and len(whole["group_keyness"]) > 10 and whole["trends"]["count"].sum() > 10
    monkeypatch.setattr(document_terms, "CHUNK_TOKENS", 97)
    assert len(document_terms.chunks_of(prepared)) > 10
    for executor in (LocalExecutor(1), LocalExecutor(2), DaskExecutor("local:2")):
        chunked = _term_statistics(TermCounts(prepared, layer, executor=executor), grouping)
        differ = [name for name, table in whole.items()
                  if not (table == chunked[name] if isinstance(table, list) else table.equals(chunked[name]))]
        assert differ == [], (executor, differ)


def test_claims_are_tagged_in_parts_on_a_cluster(seed_corpus, tmp_path, monkeypatch):
    """The workers write the parts and send back counts only: the same parts and counts as here."""
    import pandas as pd

    from analysis import claims
    from analysis.claims import parts

    monkeypatch.setattr(parts, "TAG_CHUNK", 2)
    prepared = prepare(Corpus(seed_corpus), cache=tmp_path / "cache", jobs=1)
    here = claims.tag_claim_parts(prepared, tmp_path / "here")
    there = claims.tag_claim_parts(prepared, tmp_path / "there", executor=DaskExecutor("local:2"))
    assert len(there.parts) == 3
    assert [p.read_bytes() for p in there.parts] == [p.read_bytes() for p in here.parts]
    for name in ("counts", "statements", "words", "quantities"):
        assert getattr(there, name).equals(getattr(here, name)), name
    pd.testing.assert_frame_equal(there.table(), claims.tag_claims(prepared))
