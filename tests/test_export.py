"""Reproducible output (analysis.export): bytes, manifest, atomic and staged writes, checks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from analysis import export, topics
from analysis.config import PATH_SETTINGS, RUN_SETTINGS, Settings
from analysis.export import (MANIFEST, MODEL_STEM, model_files, table_file, TOPIC_TABLES, atomic_write_bytes,
                             check_figures, csv_bytes, figure_bytes, package_versions, render_figures, topic_tables,
                             table_files, write_figures)
from analysis.figures import REGISTRY, figure_names, make_figure
from analysis.topics import TopicModel

FORMATS = ("png", "svg", "pdf")
MODEL_FILES = (f"{MODEL_STEM}.json", f"{MODEL_STEM}.npz")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _extras(results):
    """What ``corpus-analysis figures`` hands to render_figures: topic tables and the model."""
    return lambda: {**topic_tables(results), **model_files(results)}


@pytest.fixture(scope="module")
def run(seed_results):
    """Settings, results and two independent renderings of every figure with the topic extras."""
    seen = []
    first = _in_memory(render_figures(figure_names(), seed_results, progress=seen.append, extras=_extras(seed_results)))
    second = _in_memory(render_figures(figure_names(), seed_results, extras=_extras(seed_results)))
    return seed_results.settings, seed_results, first, second, seen


def _in_memory(files: dict) -> dict[str, bytes]:
    """Rendered files with those passed on as paths (tables written part by part) read into bytes."""
    return {name: data.read_bytes() if isinstance(data, Path) else data for name, data in files.items()}


@pytest.fixture
def files(run):
    return dict(run[2])


def _other_out(settings: Settings, tmp_path: Path) -> Path:
    """An output folder with the same name as the rendered one, so the manifest matches."""
    return tmp_path / settings.out.name


def _figure_files() -> set[str]:
    return {f"{name}.{ext}" for name in figure_names() for ext in (*FORMATS, "csv")}


# -- rendering ------------------------------------------------------------------------

def test_render_produces_every_file(run):
    settings, results, first, _, seen = run
    assert settings.formats == FORMATS
    # the seed corpus is fitted on paragraphs, so the unit-level table is written too
    assert results.topics.model.unit == "paragraph"
    expected = _figure_files() | set(TOPIC_TABLES) | set(MODEL_FILES) | {MANIFEST}
    assert set(first) == expected
    assert seen == figure_names()
    assert all(len(data) > 0 for data in first.values())
    assert not plt.get_fignums()  # every rendered figure was closed


def test_render_without_extras_writes_only_figures(run):
    _, results, _, _, _ = run
    only = render_figures(["top-terms"], results)
    assert set(only) == {f"top-terms.{ext}" for ext in (*FORMATS, "csv")} | {MANIFEST}
    assert json.loads(only[MANIFEST])["files"] == {}


def test_render_twice_gives_identical_bytes(run):
    _, _, first, second, _ = run
    assert set(first) == set(second)
    different = sorted(name for name in first if first[name] != second[name])
    assert different == []


def test_file_formats_and_reproducible_metadata(files):
    for name in figure_names():
        png, pdf, svg = files[f"{name}.png"], files[f"{name}.pdf"], files[f"{name}.svg"]
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert b"Software" not in png  # no software tag in the PNG text chunks
        assert pdf.startswith(b"%PDF-")
        assert b"/CreationDate" not in pdf and b"/Producer" not in pdf and b"/Creator" not in pdf
        text = svg.decode("utf-8")
        assert "<svg" in text and "<dc:date>" not in text
        csv = files[f"{name}.csv"].decode("utf-8")
        assert "\r" not in csv and csv.endswith("\n")
    for name in TOPIC_TABLES:
        csv = files[name].decode("utf-8")
        assert "\r" not in csv and csv.endswith("\n") and csv.count("\n") > 1, name


def test_csv_files_are_the_data_drawn(run):
    _, results, first, _, _ = run
    for name in figure_names():
        fig, data = make_figure(name, results)
        plt.close(fig)
        assert first[f"{name}.csv"] == csv_bytes(data)
        header = first[f"{name}.csv"].decode().split("\n", 1)[0]
        assert header == ",".join(data.columns)


def test_topic_tables_and_model_are_those_of_the_results(run, tmp_path):
    _, results, first, _, _ = run
    model = results.topics.model
    whole = {"doc_topics": topics.doc_topics(model), "unit_topics": topics.unit_topics(model)}
    for name, table in results.tables().items():  # the tables in parts are the whole tables
        assert first[table_file(name)] == csv_bytes(whole[name] if hasattr(table, "parts") else table), name
    # the model files load back into the reported model
    for name in MODEL_FILES:
        (tmp_path / name).write_bytes(first[name])
    loaded = TopicModel.load(tmp_path / MODEL_FILES[0])
    model = results.topics.model
    assert (loaded.topic_term == model.topic_term).all()
    assert (loaded.unit_topic == model.unit_topic).all()
    assert loaded.vocabulary == model.vocabulary and loaded.seed == model.seed


def test_manifest(run, seed_corpus, seed_ids):
    settings, _, first, _, _ = run
    manifest = json.loads(first[MANIFEST])
    assert set(manifest) == {"generator", "inputs", "settings", "corpus", "packages", "figures", "files"}
    assert manifest["generator"].startswith("corpus-analysis ")
    # corpus file hashes, computed here from the files
    assert manifest["corpus"]["files"] == {
        f"{i}.txt": _sha((seed_corpus / f"{i}.txt").read_bytes()) for i in seed_ids
    }
    # settings, with paths relative to the folder above the output folder
    recorded = manifest["settings"]
    assert recorded["dpi"] == settings.dpi and recorded["formats"] == list(FORMATS)
    assert recorded["out"] == settings.out.name
    root = settings.out.resolve().parent
    assert (root / recorded["corpus"]).resolve() == seed_corpus.resolve()
    assert manifest["corpus"]["path"] == recorded["corpus"]
    assert not Path(recorded["corpus"]).is_absolute()
    # everything that shapes the results; not how the run was carried out (jobs, cache)
    assert set(recorded) == set(settings.to_dict()) - set(RUN_SETTINGS)
    unchanged = {k: v for k, v in settings.to_dict().items() if k not in (*PATH_SETTINGS, *RUN_SETTINGS)}
    assert {k: recorded[k] for k in unchanged} == unchanged  # topic settings included (k, seeds, unit ...)
    # package versions
    assert manifest["packages"] == package_versions()
    assert {"python", "corpus-analysis", "gensim", "matplotlib", "numpy", "pandas", "scipy", "simplemma",
            "tomotopy"} <= set(manifest["packages"])
    # output hashes match the bytes: figures ...
    assert set(manifest["figures"]) == set(figure_names())
    listed = {}
    for name, entry in manifest["figures"].items():
        assert entry["description"] == REGISTRY[name].description
        assert set(entry["files"]) == {f"{name}.{ext}" for ext in (*FORMATS, "csv")}
        listed.update(entry["files"])
    # ... and the extra files (topic tables, model)
    assert set(manifest["files"]) == set(TOPIC_TABLES) | set(MODEL_FILES)
    assert not set(manifest["files"]) & set(listed)
    listed.update(manifest["files"])
    assert set(listed) == set(first) - {MANIFEST}
    for file_name, digest in listed.items():
        assert digest == _sha(first[file_name]), file_name
    assert first[MANIFEST].endswith(b"\n")


def test_figure_bytes_is_deterministic_for_one_figure(run):
    results = run[1]
    fig, _ = make_figure("top-terms", results)
    try:
        for fmt in FORMATS:
            assert figure_bytes(fig, fmt, 72) == figure_bytes(fig, fmt, 72)
        assert figure_bytes(fig, "png", 50) != figure_bytes(fig, "png", 72)
    finally:
        plt.close(fig)


def test_render_with_previous_manifest_keeps_other_entries(run, tmp_path):
    settings, results, first, _, _ = run
    previous = tmp_path / MANIFEST
    previous.write_bytes(first[MANIFEST])
    partial = render_figures(["top-terms"], results, previous=previous)
    assert set(partial) == {MANIFEST, *(f"top-terms.{e}" for e in (*FORMATS, "csv"))}
    earlier = json.loads(first[MANIFEST])
    assert json.loads(partial[MANIFEST])["figures"] == earlier["figures"]
    assert json.loads(partial[MANIFEST])["files"] == earlier["files"]  # extra files carried over too
    # extras of this run replace the carried-over entry of the same name
    partial = render_figures(["top-terms"], results, previous=previous, extras=lambda: {"doc_topics.csv": b"new\n"})
    files_entry = json.loads(partial[MANIFEST])["files"]
    assert files_entry["doc_topics.csv"] == _sha(b"new\n")
    assert {k: v for k, v in files_entry.items() if k != "doc_topics.csv"} == {
        k: v for k, v in earlier["files"].items() if k != "doc_topics.csv"}
    # an unreadable previous manifest is ignored
    previous.write_text("{not json", encoding="utf-8")
    partial = render_figures(["top-terms"], results, previous=previous)
    assert set(json.loads(partial[MANIFEST])["figures"]) == {"top-terms"}
    assert json.loads(partial[MANIFEST])["files"] == {}


# -- atomic writes ------------------------------------------------------------------------

def test_atomic_write_bytes_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "deep" / "folder" / "data.bin"
    atomic_write_bytes(target, b"first")
    assert target.read_bytes() == b"first"
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.bin"]


def test_atomic_write_bytes_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(export.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


# -- staged writes ----------------------------------------------------------------------

def _no_staging_left(out: Path) -> bool:
    return not [p for p in out.parent.iterdir() if "-staging-" in p.name]


def test_write_figures_writes_everything_then_nothing(files, run, tmp_path, snapshot):
    out = _other_out(run[0], tmp_path)
    written = write_figures(files, out)
    assert sorted(p.name for p in written) == sorted(files)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files
    before = snapshot(out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert write_figures(files, out) == []
    assert snapshot(out) == before
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes
    assert _no_staging_left(out)


def test_write_figures_rewrites_only_changed_files(files, run, tmp_path):
    out = _other_out(run[0], tmp_path)
    write_figures(files, out)
    (out / "top-terms.png").write_bytes(b"tampered")
    assert write_figures(files, out) == [out / "top-terms.png"]
    assert (out / "top-terms.png").read_bytes() == files["top-terms.png"]


def test_write_figures_prune(files, run, tmp_path):
    out = _other_out(run[0], tmp_path)
    write_figures(files, out)
    (out / "top-terms.gif").write_bytes(b"stale format")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    write_figures(files, out)
    assert (out / "top-terms.gif").exists()  # no pruning unless asked
    removed = write_figures(files, out, prune=True)
    assert removed == [out / "top-terms.gif"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"  # not ours: kept
    assert {p.name for p in out.iterdir()} == set(files) | {"notes.txt"}
    # a later run fitted on documents writes no unit-level table: pruning removes the stale one
    document_run = {name: data for name, data in files.items() if name != "unit_topics.csv"}
    assert write_figures(document_run, out, prune=True) == [out / "unit_topics.csv"]
    assert {p.name for p in out.iterdir()} == set(document_run) | {"notes.txt"}


def _old_output(files: dict[str, bytes], out: Path) -> None:
    write_figures({name: b"old " + data for name, data in files.items()}, out)


@pytest.mark.parametrize(
    ("patched", "attribute", "failing_call"),
    [(Path, "write_bytes", 5), (export.os, "replace", 3)],
    ids=["while staging", "while renaming into place"],
)
def test_write_figures_failure_leaves_out_unchanged(
    files, run, tmp_path, monkeypatch, snapshot, patched, attribute, failing_call
):
    """The docstring promises that a failed run leaves ``out`` as it was, whether
    writing the staged files or moving them into place fails part-way."""
    out = _other_out(run[0], tmp_path)
    _old_output(files, out)
    before = snapshot(out)
    real = getattr(patched, attribute)
    calls = []

    def flaky(*args):
        calls.append(args)
        if len(calls) == failing_call:
            raise OSError("injected failure")
        return real(*args)

    monkeypatch.setattr(patched, attribute, flaky)
    with pytest.raises(OSError, match="injected failure"):
        write_figures(files, out)
    monkeypatch.undo()
    assert len(calls) >= failing_call  # a rollback may move files back after the failure
    assert snapshot(out) == before
    assert _no_staging_left(out)


def test_write_figures_into_a_new_folder_failure_leaves_it_empty(files, run, tmp_path, monkeypatch):
    out = _other_out(run[0], tmp_path)

    def failing_write_bytes(self, data):
        raise OSError("read-only")

    monkeypatch.setattr(Path, "write_bytes", failing_write_bytes)
    with pytest.raises(OSError):
        write_figures(files, out)
    monkeypatch.undo()
    assert not out.exists() or list(out.iterdir()) == []
    assert _no_staging_left(out)


# -- checks --------------------------------------------------------------------------------

def test_check_passes_on_a_fresh_write(files, run, tmp_path):
    out = _other_out(run[0], tmp_path)
    write_figures(files, out)
    result = check_figures(files, out)
    assert result.ok and result.stale == [] and result.uncompared == []


def test_check_reports_missing_and_differing_files(files, run, tmp_path):
    out = _other_out(run[0], tmp_path)
    write_figures(files, out)
    (out / "top-terms.png").write_bytes(b"changed")
    (out / "rank-frequency.csv").unlink()
    (out / "document-structure.csv").write_text("doc_id\n", encoding="utf-8")
    (out / "distinctive-terms.gif").write_bytes(b"extra")
    (out / "doc_topics.csv").write_text("doc_id,topic,weight\n", encoding="utf-8")
    (out / "topic-model.npz").unlink()
    result = check_figures(files, out)
    assert not result.ok
    assert sorted(result.stale) == sorted([
        "top-terms.png (differs)",
        "rank-frequency.csv (missing)",
        "document-structure.csv (differs)",
        "distinctive-terms.gif (not produced by this run)",
        "doc_topics.csv (differs)",
        "topic-model.npz (missing)",
    ])
    # a partial run does not flag files it did not produce
    partial = check_figures(files, out, complete=False)
    assert "distinctive-terms.gif (not produced by this run)" not in partial.stale


def test_check_without_manifest(files, run, tmp_path):
    out = _other_out(run[0], tmp_path)
    out.mkdir()
    assert check_figures(files, out).stale == ["manifest.json (missing)"]
    (out / MANIFEST).write_text("{broken", encoding="utf-8")
    assert check_figures(files, out).stale == ["manifest.json (unreadable)"]


def test_check_reports_changed_settings_and_corpus(files, run, tmp_path):
    out = _other_out(run[0], tmp_path)
    write_figures(files, out)
    manifest = json.loads(files[MANIFEST])
    manifest["settings"]["dpi"] = run[0].dpi + 1
    manifest["corpus"]["files"]["extra.txt"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    stale = check_figures(files, out).stale
    assert "manifest.json (settings changed)" in stale
    assert "manifest.json (corpus changed)" in stale


def test_check_with_other_package_versions_compares_only_data(files, run, tmp_path):
    out = _other_out(run[0], tmp_path)
    write_figures(files, out)
    manifest = json.loads(files[MANIFEST])
    manifest["packages"]["matplotlib"] = "0.0.1"
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    (out / "top-terms.png").write_bytes(b"rendered elsewhere")
    result = check_figures(files, out)
    assert result.ok
    assert "top-terms.png" in result.uncompared
    assert not any(name.endswith(".csv") for name in result.uncompared)
    (out / "top-terms.csv").write_text("different data\n", encoding="utf-8")
    assert check_figures(files, out).stale == ["top-terms.csv (differs)"]


def test_large_tables_are_written_in_pieces_with_the_same_bytes(tmp_path, monkeypatch):
    """With a spool folder, a table longer than ROWS_PER_PIECE is written as CSV a piece at a time (the
    bytes of the whole), or, as Parquet, cut into parts that read back as the table; a small table and a
    table not among the large ones stay in memory as CSV."""
    import pandas as pd

    monkeypatch.setattr(export, "ROWS_PER_PIECE", 2)
    table = pd.DataFrame({"doc_a": pd.Categorical(["b", "a", "b", "c", "a"]), "sentence": ["=1+1", "x", "y", "z", "w"],
                          "similarity": [1.0, 0.75, 2 / 3, 0.5, 0.5], "block": [3, 1, 4, 1, 5]})
    tables = {"near_duplicate_sentences": table, "reuse_spans": table.head(2), "quantities": table}
    for safe in (False, True):
        files = table_files(tables, formula_safe=safe, spool=tmp_path)
        assert isinstance(files["near_duplicate_sentences.csv"], Path)
        assert files["near_duplicate_sentences.csv"].read_bytes() == csv_bytes(table, formula_safe=safe)
        assert files["reuse_spans.csv"] == csv_bytes(table.head(2), formula_safe=safe)
    files = table_files(tables, table_format="parquet", spool=tmp_path)
    parts = sorted(name for name in files if name.startswith("near_duplicate_sentences"))
    assert parts == [f"near_duplicate_sentences-{n:05d}.parquet" for n in range(3)]
    back = pd.concat([pd.read_parquet(files[p]) for p in parts], ignore_index=True)
    assert not isinstance(back["doc_a"].dtype, pd.CategoricalDtype)  # a part does not carry every category
    pd.testing.assert_frame_equal(back, table.astype({"doc_a": str}))
    assert sorted(files)[-1] == "reuse_spans-00000.parquet" and isinstance(files["quantities.csv"], Path)
