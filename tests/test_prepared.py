"""The prepared corpus: jobs and chunk sizes, the cache and its keys, the content snapshot."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from analysis import pipeline as pipeline_module
from analysis import prepared as prepared_module
from analysis.cli import main
from analysis.config import Settings
from analysis.corpus import Corpus
from analysis.errors import AnalysisError
from analysis.export import csv_bytes
from analysis.pipeline import TERM_SETTINGS, derive_terms, form_lemmas
from analysis.prepared import prepare
from analysis.results import Results

WORDS = ("kratom pain relief chronic withdrawal symptoms dose opioid receptors study patients risk sleep "
         "anxiety tea leaves powder capsule market law doctor").split()


@pytest.fixture(scope="module")
def many_documents(tmp_path_factory) -> Path:
    """A JSONL corpus of 240 generated documents with paragraphs, sentences, repeated phrases and metadata."""
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("many") / "docs.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(240):
            paragraphs = []
            for _ in range(rng.integers(1, 5)):
                sentences = []
                for _ in range(rng.integers(1, 4)):
                    words = list(rng.choice(WORDS, size=rng.integers(3, 12)))
                    if rng.random() < 0.5:
                        words[1:1] = ["chronic", "pain"]
                    sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", ";"]))
                paragraphs.append(" ".join(sentences))
            record = {"id": f"d{i:03d}", "text": "\n\n".join(paragraphs), "group": "ab"[i % 2]}
            out.write(json.dumps(record) + "\n")
    return path


def _tables(results: Results) -> dict[str, bytes]:
    tc = results.terms
    return {name: csv_bytes(getattr(tc, name)) for name in
            ("documents", "blocks", "counts", "ngrams", "waterfall", "phrases")}


def _arrays(prepared) -> dict[str, np.ndarray]:
    return {name: np.asarray(getattr(prepared, name)) for name in
            ("form", "sentence_start", "block_offsets", "document_offsets")}


@pytest.mark.parametrize(("jobs", "chunk_size"), [(1, 7), (2, 7), (2, 1000)])
def test_results_do_not_depend_on_jobs_or_chunk_size(many_documents, tmp_path, jobs, chunk_size):
    reference = Results(Settings(corpus=many_documents, out=tmp_path / "ref" / "out", jobs=1,
                                 phrase_min_count=3))
    settings = Settings(corpus=many_documents, out=tmp_path / "run" / "out", jobs=jobs, phrase_min_count=3)
    corpus = Corpus.from_settings(settings)
    built = prepare(corpus, cache=tmp_path / "cache", jobs=jobs, chunk_size=chunk_size)
    assert built.forms == reference.prepared.forms
    for name, values in _arrays(built).items():
        assert np.array_equal(values, _arrays(reference.prepared)[name]), name
    results = Results(settings.replace(cache_dir=tmp_path / "cache"))
    assert results.prepared.folder == built.folder  # loaded, not built again
    assert _tables(results) == _tables(reference)
    assert len(results.terms.phrases) > 0 and results.terms.n_documents == 240


@pytest.mark.parametrize(("jobs", "chunk_tokens"), [(1, 40), (2, 40), (2, 100_000)])
@pytest.mark.parametrize("lemmatize", [False, True])
def test_term_layer_does_not_depend_on_jobs_or_chunk_size(many_documents, tmp_path, jobs, chunk_tokens, lemmatize):
    """The term layer is a map over chunks of documents and merges of their counts: the same
    layer whatever the chunks (here down to a document or two each) and the worker processes."""
    results = Results(Settings(corpus=many_documents, out=tmp_path / "out", phrase_min_count=3,
                               lemmatize=lemmatize, include_outline=lemmatize))
    masks = {"d001": [(0, 40)], "d007": [(10, 200)], "d100": [(5, 9), (30, 90)]}
    one = derive_terms(results.prepared, results.preprocessor, masks, chunk_tokens=10**9)
    chunked = derive_terms(results.prepared, results.preprocessor, masks, jobs=jobs, chunk_tokens=chunk_tokens)
    for name in ("sequence", "offsets", "n_tokens", "counted"):
        assert np.array_equal(getattr(one, name), getattr(chunked, name)), name
    assert (one.terms, one.words) == (chunked.terms, chunked.words)
    assert (one.block_term != chunked.block_term).nnz == 0
    assert one.waterfall.equals(chunked.waterfall) and one.phrases.equals(chunked.phrases)
    assert len(one.phrases) > 0 and "reused text masked" in one.waterfall["step"].tolist()
    for n, arrays in one.ngrams.items():
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(arrays, chunked.ngrams[n])), n


@pytest.mark.parametrize("n_words", [50, 2**21])  # int64 keys, and sorted rows where keys could overflow
def test_ngram_counts_of_chunks_merge_to_one_count(n_words):
    rng = np.random.default_rng(3)
    words = rng.integers(0, 40, 5000).astype(np.int32)
    sentence_start = rng.random(5000) < 0.1
    sentence_start[::1000] = True  # chunks start sentences, as blocks do
    doc = np.repeat(np.arange(50), 100).astype(np.int32)
    is_edge, is_digit = np.zeros(n_words, dtype=bool), np.zeros(n_words, dtype=bool)
    is_edge[:3], is_digit[5] = True, True
    for n in (2, 3):
        whole = pipeline_module._count_ngrams(words, sentence_start, doc, n, n_words, is_edge, is_digit)
        parts = [pipeline_module._count_ngrams(words[a:a + 1000], sentence_start[a:a + 1000], doc[a:a + 1000], n,
                                               n_words, is_edge, is_digit) for a in range(0, 5000, 1000)]
        merged = pipeline_module.merge_ngrams(parts, n_words)
        assert len(whole[0]) > 1000
        assert all(np.array_equal(a, b) for a, b in zip(whole, merged)), n


def test_the_lemma_table_is_the_same_in_worker_processes(many_documents, tmp_path):
    results = Results(Settings(corpus=many_documents, out=tmp_path / "out", jobs=2))
    lemmas = form_lemmas(results.prepared, results.preprocessor)
    assert lemmas == [results.preprocessor.lemma(f) for f in results.prepared.forms]
    assert form_lemmas(results.prepared, results.preprocessor) == lemmas  # stored, read back


def test_a_bad_record_read_in_a_worker_is_a_one_line_error(tmp_path):
    """Workers parse their own batches: a bad line far into the file still names the file and line,
    and the cache keeps no partial build."""
    path = tmp_path / "c.jsonl"
    lines = [json.dumps({"id": str(i), "text": f"document number {i}"}) for i in range(50)]
    lines[37] = '{"id": "37", "text": oops}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(AnalysisError, match=rf"^{re.escape(str(path))}: line 38 is not valid JSON"):
        prepare(Corpus(path), cache=tmp_path / "cache", jobs=2, chunk_size=5)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".gitignore"]


def test_a_duplicate_id_found_after_the_map_names_both_rows(tmp_path):
    path = tmp_path / "c.jsonl"
    lines = [json.dumps({"id": str(i % 40), "text": f"document {i}" if i != 3 else ""}) for i in range(45)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="row 4: empty document"), \
            pytest.raises(AnalysisError, match=r"row 41: duplicate document id '0' \(also .*row 1\)"):
        prepare(Corpus(path), cache=tmp_path / "cache", jobs=2, chunk_size=4)


def test_the_build_progress_counts_every_document(many_documents, tmp_path):
    seen = []

    def progress(iterable):
        for item in iterable:
            seen.append(item)
            yield item

    built = prepare(Corpus(many_documents), cache=tmp_path / "cache", jobs=2, chunk_size=7, progress=progress)
    assert len(seen) == built.n_documents == 240


def test_a_second_run_loads_the_prepared_corpus(many_documents, tmp_path, monkeypatch):
    settings = Settings(corpus=many_documents, out=tmp_path / "out", cache_dir=tmp_path / "cache")
    first = Results(settings).terms
    monkeypatch.setattr(prepared_module, "prepare_chunk", _fail)
    monkeypatch.setattr("analysis.pipeline.derive_terms", _fail)
    again = Results(settings)
    assert _tables(again) == {name: csv_bytes(getattr(first, name)) for name in _tables(again)}
    # with the cache off, the corpus is prepared again
    with pytest.raises(AssertionError, match="tokenized again"):
        Results(settings.replace(cache=False)).prepared


def _fail(*args, **kwargs):
    raise AssertionError("tokenized again")


def test_default_cache_is_beside_the_output_and_ignored_by_git(tmp_path, seed_corpus, monkeypatch):
    import analysis.config

    monkeypatch.setattr(analysis.config, "CACHE_FOLDER", ".corpus-analysis-cache")
    settings = Settings(corpus=seed_corpus, out=tmp_path / "figures")
    Results(settings).terms
    cache = tmp_path / ".corpus-analysis-cache"
    assert settings.cache_folder == cache and cache.is_dir()
    assert (cache / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert not (tmp_path / "figures").exists()  # nothing written to the output folder


def test_changed_corpus_bytes_make_a_new_prepared_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Kratom eases pain.", encoding="utf-8")
    (corpus / "b.txt").write_text("Withdrawal is hard.", encoding="utf-8")
    settings = Settings(corpus=corpus, out=tmp_path / "out", cache_dir=tmp_path / "cache", phrases=False)
    first = Results(settings)
    assert set(first.terms.counts["term"]) >= {"kratom", "pain"}
    (corpus / "a.txt").write_text("Kratom eases aches.", encoding="utf-8")
    second = Results(settings)
    assert second.prepared.folder != first.prepared.folder
    assert "aches" in set(second.terms.counts["term"]) and "pain" not in set(second.terms.counts["term"])


# A changed value for each setting that changes the term layer.
TERM_CHANGES = {
    "include_outline": True, "language": "de", "stopwords": "none", "extra_stopwords": ("kratom",),
    "keep_words": ("not",), "min_token_length": 3, "drop_numbers": False, "lemmatize": True, "phrases": False,
    "phrase_min_count": 2, "phrase_threshold": 0.3, "mask_reuse": True,
}


def test_every_preprocessing_setting_is_in_the_cache_key():
    assert set(TERM_CHANGES) == set(TERM_SETTINGS)
    assert {"reuse_ngram", "reuse_min_documents"} <= {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.parametrize("name", sorted(TERM_CHANGES))
def test_each_preprocessing_setting_makes_new_terms(seed_corpus, tmp_path, name):
    base = Settings(corpus=seed_corpus, out=tmp_path / "out", cache_dir=tmp_path / "cache")
    changed = base.replace(**{name: TERM_CHANGES[name]})
    plain, other = Results(base), Results(changed)
    plain.terms.waterfall, other.terms.waterfall
    assert plain.prepared.folder == other.prepared.folder  # the tokens are shared ...
    layers = sorted(p.name for p in plain.prepared.folder.glob("terms-*"))
    assert len(layers) == 2  # ... the term layers are not
    fresh = Results(changed.replace(cache=False))
    assert _tables(other) == _tables(fresh)  # and the cached layer is what a fresh run computes


@pytest.mark.parametrize(("name", "value"), [("encoding", "latin-1"), ("text_column", "body"), ("id_column", "key")])
def test_reading_settings_are_in_the_cache_key(tmp_path, name, value):
    table = tmp_path / "docs.csv"
    table.write_text("id,key,text,body\n1,x,Kratom eases pain.,Other words here.\n", encoding="utf-8")
    settings = Settings(corpus=table, out=tmp_path / "out", cache_dir=tmp_path / "cache")
    first = Results(settings).prepared
    second = Results(settings.replace(**{name: value})).prepared
    assert first.folder != second.folder


def test_a_file_changed_while_it_is_prepared_stops_the_run(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in "abc":
        (corpus / f"{name}.txt").write_text(f"Document {name} about kratom.", encoding="utf-8")
    original = prepared_module.prepare_chunk

    def edit_then_prepare(documents):
        (corpus / "b.txt").write_text("Edited while the run read the corpus.", encoding="utf-8")
        return original(documents)

    monkeypatch.setattr(prepared_module, "prepare_chunk", edit_then_prepare)
    with pytest.raises(AnalysisError, match=r"b\.txt: changed during the run"):
        prepare(Corpus(corpus), cache=tmp_path / "cache", jobs=1)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".gitignore"]  # nothing half-built kept


def test_a_file_changed_during_figures_writes_nothing(tmp_path, monkeypatch, capsys):
    import analysis.figures

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in "abc":
        (corpus / f"{name}.txt").write_text(f"Document {name} about kratom and pain.", encoding="utf-8")
    out = tmp_path / "figures"
    original = analysis.figures.make_figure

    def edit_then_draw(name, results):
        (corpus / "c.txt").write_text("Edited after the corpus was prepared.", encoding="utf-8")
        return original(name, results)

    monkeypatch.setattr(analysis.figures, "make_figure", edit_then_draw)
    code = main(["figures", "--corpus", str(corpus), "--out", str(out), "--only", "top-terms", "--formats", "png",
                 "--dpi", "50"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{corpus / 'c.txt'}: changed during the run; nothing was written" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_kwic_reads_only_the_documents_it_shows(many_documents, tmp_path, monkeypatch):
    from analysis.concordance import kwic

    results = Results(Settings(corpus=many_documents, out=tmp_path / "out", cache_dir=tmp_path / "cache"))
    asked = []
    original = results.prepared.texts
    monkeypatch.setattr(results.prepared, "texts", lambda docs: asked.append(sorted(set(docs))) or original(docs))
    table = kwic(results.prepared, "withdrawal", results.preprocessor)
    assert len(asked) == 1 and len(asked[0]) == table["doc_id"].nunique() < 240


def test_cache_command_reports_and_clears(seed_corpus, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(["terms", "--corpus", str(seed_corpus), "--cache-dir", str(cache), "--top", "1"]) == 0
    assert main(["cache", "info", "--cache-dir", str(cache)]) == 0
    assert "1 prepared corpora" in capsys.readouterr().out
    assert main(["cache", "clear", "--cache-dir", str(cache)]) == 0
    assert "removed" in capsys.readouterr().out and not cache.exists()
    # a folder that is not a cache is never removed
    other = tmp_path / "other"
    other.mkdir()
    assert main(["cache", "clear", "--cache-dir", str(other)]) == 2
    assert other.is_dir()


def test_no_cache_leaves_no_cache_folder(seed_corpus, tmp_path):
    cache = tmp_path / "cache"
    assert main(["terms", "--corpus", str(seed_corpus), "--cache-dir", str(cache), "--no-cache", "--top", "1"]) == 0
    assert not cache.exists()


def test_a_figures_run_hashes_the_corpus_once(tmp_path, monkeypatch):
    from analysis.corpus import Corpus as CorpusClass

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Kratom eases pain.", encoding="utf-8")
    calls = []
    original = CorpusClass.file_hashes
    monkeypatch.setattr(CorpusClass, "file_hashes", lambda self: calls.append(1) or original(self))
    assert main(["figures", "--corpus", str(corpus), "--out", str(tmp_path / "out"), "--only", "top-terms",
                 "--formats", "png", "--dpi", "40", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert len(calls) == 1  # later checks compare sizes and modification times
