"""Work that is not needed is not done: unchanged runs, interrupted runs, the inputs digest."""

from __future__ import annotations

import json

import pytest

import analysis.export
import analysis.figures
from analysis.cli import main
from analysis.figures import figure_names

MAKE_FIGURE = analysis.figures.make_figure
# One job, so that the figures are drawn in this process, where the tests count them.
FAST = ["--formats", "png", "--dpi", "40", "--seeds", "1", "--iterations", "30", "--k", "3", "--jobs", "1"]


THEMES = ("kratom leaf tea powder capsule dose", "pain relief chronic ache muscle joint",
          "sleep anxiety mood stress calm rest", "doctor advice risk law market ban")


@pytest.fixture
def corpus(tmp_path):
    """Twelve documents of three paragraphs, each paragraph on one of four themes."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(12):
        paragraphs = [" ".join(THEMES[(i + p) % 4].split()[::-1] if p % 2 else THEMES[(i + p) % 4].split()) + "."
                      for p in range(3)]
        (folder / f"{i:02d}.txt").write_text("\n\n".join(paragraphs * 2), encoding="utf-8")
    (tmp_path / "settings.toml").write_text('k_grid = "2..3"\n', encoding="utf-8")  # a short K selection
    return folder


def _argv(corpus, out, *extra):
    return ["figures", "--config", str(corpus.parent / "settings.toml"), "--corpus", str(corpus), "--out", str(out),
            "--cache-dir", str(out.parent / "cache"), *FAST, *extra]


def _interrupted_at(stop: str):
    """make_figure, but Ctrl-C when it comes to the figure ``stop``."""
    def drawing(name, results):
        if name == stop:
            raise KeyboardInterrupt
        return MAKE_FIGURE(name, results)
    return drawing


def _count_renders(monkeypatch):
    calls = []

    def counting(name, results):
        calls.append(name)
        return MAKE_FIGURE(name, results)

    monkeypatch.setattr(analysis.figures, "make_figure", counting)
    return calls


@pytest.fixture
def done(corpus, tmp_path, capsys):
    out = tmp_path / "figures"
    assert main(_argv(corpus, out)) == 0
    capsys.readouterr()
    return out


def test_an_unchanged_run_does_nothing(corpus, done, monkeypatch, capsys, snapshot):
    before = snapshot(done)
    monkeypatch.setattr("analysis.results.Results.__init__", _fail)  # no analysis may start
    assert main(_argv(corpus, done)) == 0
    assert "up to date" in capsys.readouterr().out
    assert main([*_argv(corpus, done), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert snapshot(done) == before


def _fail(*args, **kwargs):
    raise AssertionError("computed again")


@pytest.mark.parametrize("change", ["setting", "corpus", "output file", "missing file"])
def test_a_change_of_inputs_or_outputs_runs_again(corpus, done, monkeypatch, capsys, change):
    extra = []
    if change == "setting":
        extra = ["--dpi", "41"]
    elif change == "corpus":
        (corpus / "00.txt").write_text("Kratom eases chronic pain. A new sentence.", encoding="utf-8")
    elif change == "output file":
        (done / "top-terms.csv").write_text("edited by hand\n", encoding="utf-8")
    else:
        (done / "top-terms.png").unlink()
    calls = _count_renders(monkeypatch)
    assert main(_argv(corpus, done, *extra)) == 0
    assert "up to date" not in capsys.readouterr().out
    assert calls == figure_names()
    manifest = json.loads((done / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]


def test_an_interrupted_run_resumes(corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "figures"
    names = figure_names()
    monkeypatch.setattr(analysis.figures, "make_figure", _interrupted_at(names[3]))
    assert main(_argv(corpus, out)) == 130
    assert not out.exists()  # the output folder is all or nothing
    calls = _count_renders(monkeypatch)
    assert main(_argv(corpus, out)) == 0
    assert calls == names[3:]  # the first three came from the cache
    # and the result is what an uninterrupted run writes
    fresh = tmp_path / "fresh"
    assert main([*_argv(corpus, fresh), "--no-cache"]) == 0
    for path in fresh.iterdir():
        if path.name != "manifest.json":  # which names the output folder
            assert (out / path.name).read_bytes() == path.read_bytes(), path.name
    assert not any((tmp_path / "cache" / "renders").iterdir())  # kept renders are dropped once written


def test_an_interrupted_parallel_run_keeps_what_its_workers_drew(corpus, tmp_path, monkeypatch):
    out = tmp_path / "figures"
    names = figure_names()
    monkeypatch.setattr(analysis.figures, "make_figure", _interrupted_at(names[3]))
    assert main([*_argv(corpus, out), "--jobs", "2"]) == 130
    kept = {p.stem for store in (tmp_path / "cache" / "renders").iterdir() for p in store.glob("*.json")}
    assert set(names[:3]) <= kept and names[3] not in kept
    monkeypatch.setattr(analysis.figures, "make_figure", MAKE_FIGURE)
    assert main([*_argv(corpus, out), "--jobs", "2"]) == 0
    serial = tmp_path / "serial"
    assert main([*_argv(corpus, serial), "--no-cache"]) == 0
    for path in serial.iterdir():
        if path.name != "manifest.json":
            assert (out / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_partial_run_keeps_the_digest_only_when_inputs_are_unchanged(corpus, done, monkeypatch, capsys):
    assert main([*_argv(corpus, done), "--only", "top-terms"]) == 0
    assert json.loads((done / "manifest.json").read_text(encoding="utf-8"))["inputs"]
    assert main([*_argv(corpus, done, "--dpi", "41"), "--only", "top-terms"]) == 0
    assert json.loads((done / "manifest.json").read_text(encoding="utf-8"))["inputs"] is None
    calls = _count_renders(monkeypatch)
    assert main(_argv(corpus, done, "--dpi", "41")) == 0
    assert calls == figure_names()


@pytest.mark.parametrize("table, counter", [("corpus_summary", "corpus_summary"), ("corpus_terms", "term_frequencies")])
def test_a_later_command_reads_the_tables_kept_beside_the_term_layer(corpus, tmp_path, monkeypatch, table, counter):
    from pathlib import Path

    from analysis import terms
    from analysis.config import Settings
    from analysis.results import Results

    settings = Settings(corpus=corpus, cache_dir=tmp_path / "cache")
    first = getattr(Results(settings), table)
    assert list(Path(tmp_path / "cache").glob(f"*/terms-*/{table}.parquet"))

    def counted_again(*args):
        raise AssertionError("counted again")

    monkeypatch.setattr(terms, counter, counted_again)
    later = getattr(Results(settings), table)
    assert later.equals(first) and list(later.dtypes) == list(first.dtypes)
    with pytest.raises(AssertionError, match="counted again"):  # without the cache it is always counted
        getattr(Results(Settings(corpus=corpus, cache_dir=tmp_path / "cache", cache=False)), table)


def test_a_table_that_cannot_be_kept_is_still_given_and_leaves_nothing_behind(corpus, tmp_path, monkeypatch):
    from pathlib import Path

    import pandas as pd

    from analysis.config import Settings
    from analysis.results import Results

    settings = Settings(corpus=corpus, cache_dir=tmp_path / "cache")
    expected = Results(Settings(corpus=corpus, cache_dir=tmp_path / "other", cache=False)).corpus_summary

    def full_disk(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1")  # a partial file, then the failure
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    assert Results(settings).corpus_summary.equals(expected)
    folder = next((tmp_path / "cache").glob("*/terms-*"))
    assert not [p.name for p in folder.iterdir() if "corpus_summary" in p.name]


def test_info_on_a_prepared_corpus_imports_no_analysis_it_does_not_run(corpus, tmp_path):
    import subprocess
    import sys

    argv = ["info", "--corpus", str(corpus), "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    check = ("import sys; from analysis.cli import main; main(sys.argv[1:]); "
             "print(sorted(m for m in ('scipy', 'gensim', 'matplotlib', 'analysis.reuse', 'analysis.topics.fit', "
             "'analysis.claims.tagger') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", check, *argv], capture_output=True, text=True, check=True).stdout
    assert found.strip().splitlines()[-1] == "[]"
