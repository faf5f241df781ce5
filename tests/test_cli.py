"""The command line (analysis.cli), run in-process with ``main(argv)``.

Every test works in an empty temporary folder (``no_config_cwd``) so the
repository's own ``pyproject.toml`` is never picked up, and passes the seed
corpus explicitly; output goes to ``tmp_path`` only.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import analysis
from analysis.cli import main
from analysis.figures import REGISTRY

FAST = ["--formats", "png", "--dpi", "50"]


@pytest.fixture(autouse=True)
def _isolated(no_config_cwd):
    return no_config_cwd


def run(argv: list[str]) -> int:
    """``main(argv)`` as the shell sees it: the exit status, also for argparse's own exits."""
    try:
        return main(argv)
    except SystemExit as exc:  # --version and --help exit through argparse
        return exc.code if isinstance(exc.code, int) else 1


def _single_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("corpus-analysis: error: ")
    return lines[0]


# -- simple commands ------------------------------------------------------------------------

def test_version(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"corpus-analysis {analysis.__version__}"


def test_python_m_analysis_version(repo_root):
    result = subprocess.run([sys.executable, "-m", "analysis", "--version"], cwd=repo_root,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"corpus-analysis {analysis.__version__}"


def test_no_command_prints_help_and_fails(capsys):
    assert run([]) == 2
    assert "usage: corpus-analysis" in capsys.readouterr().out


def test_list_prints_every_registered_figure(capsys):
    assert run(["list"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == len(REGISTRY)
    assert [line.split()[0] for line in lines] == list(REGISTRY)
    for line, spec in zip(lines, REGISTRY.values()):
        assert line.endswith(spec.description)


def test_info(capsys, seed_corpus):
    assert run(["info", "--corpus", str(seed_corpus)]) == 0
    out = capsys.readouterr().out
    assert "documents: 5" in out.splitlines()
    assert f"corpus: {seed_corpus}" in out
    assert "outline bullets counted: no" in out
    assert "(corpus)" in out
    assert run(["info", "--corpus", str(seed_corpus), "--include-outline", "--no-phrases"]) == 0
    assert "outline bullets counted: yes" in capsys.readouterr().out


# -- terms -------------------------------------------------------------------------------

def test_terms_by_doc_header(capsys, seed_corpus):
    assert run(["terms", "--corpus", str(seed_corpus), "--by", "doc"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "doc_id,term,count"
    table = pd.read_csv(io.StringIO(out), dtype={"doc_id": str})
    kratom = table[table["term"] == "kratom"].set_index("doc_id")["count"]
    assert kratom["001_6c888b388283ab30"] == 35


@pytest.mark.parametrize(
    ("by", "header"),
    [
        ("corpus", "term,count,per_1000_tokens,doc_count,rank"),
        ("role", "role,term,count,per_1000_tokens,rank"),
        ("section", "doc_id,section,term,count,rank"),
        ("paragraph", "doc_id,block,role,term,count,rank"),
    ],
)
def test_terms_headers(capsys, seed_corpus, by, header):
    assert run(["terms", "--corpus", str(seed_corpus), "--by", by, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == header
    table = pd.read_csv(io.StringIO(out))
    assert table["rank"].max() <= 3


def test_terms_top_limits_rows_per_group(capsys, seed_corpus):
    assert run(["terms", "--corpus", str(seed_corpus), "--by", "doc", "--top", "2"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(table) == 10
    assert table.groupby("doc_id").size().eq(2).all()


def test_terms_out_file(capsys, seed_corpus, tmp_path):
    target = tmp_path / "tables" / "terms.csv"
    assert run(["terms", "--corpus", str(seed_corpus), "--out", str(target)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"to {target}" in captured.err
    table = pd.read_csv(target)
    assert list(table.columns) == ["term", "count", "per_1000_tokens", "doc_count", "rank"]
    assert table.iloc[0]["term"] == "kratom" and table.iloc[0]["count"] == 143  # 20+35+21+34+33, counted by hand (see test_terms.py)
    assert sorted(p.name for p in target.parent.iterdir()) == ["terms.csv"]


def test_terms_extra_stopwords(capsys, seed_corpus):
    assert run(["terms", "--corpus", str(seed_corpus), "--extra-stopwords", "kratom,pain", "--top", "50"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert not {"kratom", "pain"} & set(table["term"])


def test_terms_bad_top(capsys, seed_corpus):
    assert run(["terms", "--corpus", str(seed_corpus), "--top", "0"]) == 2
    assert "--top" in _single_error_line(capsys.readouterr().err)


# -- figures -------------------------------------------------------------------------------

@pytest.fixture
def figures_run(seed_corpus, tmp_path, capsys):
    out = tmp_path / "figs"
    argv = ["figures", "--corpus", str(seed_corpus), "--out", str(out), *FAST]
    assert run(argv) == 0
    capsys.readouterr()
    return out, argv


def test_figures_writes_png_csv_and_manifest(figures_run):
    out, _ = figures_run
    expected = {f"{name}.{ext}" for name in REGISTRY for ext in ("png", "csv")} | {"manifest.json"}
    assert {p.name for p in out.iterdir()} == expected
    assert all(p.stat().st_size > 0 for p in out.iterdir())
    assert not [p for p in out.parent.iterdir() if "-staging-" in p.name]


def test_figures_twice_changes_no_byte(figures_run, capsys, snapshot):
    out, argv = figures_run
    before = snapshot(out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert run(argv) == 0
    assert "0 written or removed" in capsys.readouterr().out
    assert snapshot(out) == before
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes


def test_figures_check(figures_run, capsys, snapshot):
    out, argv = figures_run
    before = snapshot(out)
    assert run([*argv, "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert snapshot(out) == before  # --check writes nothing

    png = out / "top-terms.png"
    original = png.read_bytes()
    png.write_bytes(original + b"\0")
    assert run([*argv, "--check"]) == 1
    result = capsys.readouterr().out
    assert "top-terms.png (differs)" in result and "stale" in result

    png.write_bytes(original)
    (out / "rank-frequency.csv").unlink()
    assert run([*argv, "--check"]) == 1
    assert "rank-frequency.csv (missing)" in capsys.readouterr().out


def test_figures_check_on_a_missing_folder(seed_corpus, tmp_path, capsys):
    out = tmp_path / "never-written"
    assert run(["figures", "--corpus", str(seed_corpus), "--out", str(out), *FAST, "--check"]) == 1
    assert "manifest.json (missing)" in capsys.readouterr().out
    assert not out.exists()


def test_figures_only_keeps_the_rest(figures_run, capsys, snapshot):
    out, argv = figures_run
    before = snapshot(out)
    assert run([*argv, "--only", "top-terms"]) == 0
    assert snapshot(out) == before
    assert run([*argv, "--only", "top-terms", "--check"]) == 0


# -- errors: one line on stderr, exit 2, nothing written -------------------------------------

def _assert_nothing_written(out: Path) -> None:
    assert not out.exists() or list(out.iterdir()) == []
    assert not [p for p in out.parent.iterdir() if "-staging-" in p.name]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--dpi", "0"], "--dpi must be between 30 and 2400, got 0"),
        (["--dpi", "abc"], "invalid int value: 'abc'"),
        (["--dpi", "-5"], "--dpi"),
        (["--only", "nope"], "unknown figure 'nope'"),
        (["--only", "top-terms,nope"], "unknown figure 'nope'"),
        (["--formats", "gif"], "--formats"),
        (["--formats", "png,jpeg"], "'jpeg'"),
        (["--bogus-option"], "unrecognized arguments: --bogus-option"),
        (["--encoding", "klingon"], "unknown encoding 'klingon'"),
    ],
)
def test_figures_option_errors(seed_corpus, tmp_path, capsys, extra, fragment):
    out = tmp_path / "figs"
    status = run(["figures", "--corpus", str(seed_corpus), "--out", str(out), *FAST, *extra])
    assert status == 2
    captured = capsys.readouterr()
    assert fragment in _single_error_line(captured.err)
    assert captured.out == ""
    _assert_nothing_written(out)


def test_missing_corpus(tmp_path, capsys):
    out = tmp_path / "figs"
    missing = tmp_path / "no-such-corpus"
    assert run(["figures", "--corpus", str(missing), "--out", str(out), *FAST]) == 2
    line = _single_error_line(capsys.readouterr().err)
    assert str(missing) in line and "not found" in line
    _assert_nothing_written(out)


def test_empty_corpus_folder(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "figs"
    assert run(["figures", "--corpus", str(empty), "--out", str(out), *FAST]) == 2
    assert "empty" in _single_error_line(capsys.readouterr().err)
    _assert_nothing_written(out)


@pytest.mark.filterwarnings("default::analysis.corpus.CorpusWarning")
def test_corpus_of_empty_files(tmp_path, capsys):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("", encoding="utf-8")
    out = tmp_path / "figs"
    assert run(["figures", "--corpus", str(corpus), "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("corpus-analysis: error: ")]
    assert len(errors) == 1 and "empty" in errors[0]
    assert all(line.startswith("corpus-analysis: ") for line in err.splitlines() if line.strip())
    _assert_nothing_written(out)


def test_invalid_utf8_file(seed_corpus, tmp_path, capsys):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_bytes((seed_corpus / "000_2b6ec66f88ad0ee6.txt").read_bytes())
    bad = corpus / "bad.txt"
    bad.write_bytes(b"Kratom caf\xe9 text")
    out = tmp_path / "figs"
    assert run(["figures", "--corpus", str(corpus), "--out", str(out), *FAST]) == 2
    line = _single_error_line(capsys.readouterr().err)
    assert str(bad) in line and "byte 10" in line and "--encoding" in line
    _assert_nothing_written(out)
    # the suggested option reads it
    assert run(["info", "--corpus", str(corpus), "--encoding", "cp1252"]) == 0
    assert "documents: 2" in capsys.readouterr().out


def test_out_inside_the_corpus_is_refused(seed_corpus, tmp_path, capsys):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "doc.txt").write_bytes((seed_corpus / "000_2b6ec66f88ad0ee6.txt").read_bytes())
    assert run(["figures", "--corpus", str(corpus), "--out", str(corpus / "figs"), *FAST]) == 2
    assert "must not be inside the corpus" in _single_error_line(capsys.readouterr().err)
    assert [p.name for p in corpus.iterdir()] == ["doc.txt"]


def test_bad_config_file(tmp_path, capsys, seed_corpus):
    config = tmp_path / "settings.toml"
    config.write_text("dpi = 'high'\n", encoding="utf-8")
    out = tmp_path / "figs"
    assert run(["figures", "--config", str(config), "--corpus", str(seed_corpus), "--out", str(out)]) == 2
    line = _single_error_line(capsys.readouterr().err)
    assert str(config) in line and "'dpi'" in line
    _assert_nothing_written(out)


def test_unknown_command(capsys):
    assert run(["plot"]) == 2
    assert "invalid choice: 'plot'" in _single_error_line(capsys.readouterr().err)


def test_config_file_and_relative_paths(tmp_path, capsys, seed_corpus, no_config_cwd):
    config = no_config_cwd / "pyproject.toml"
    config.write_text(
        f'[tool.analysis]\ncorpus = "{seed_corpus.as_posix()}"\nout = "made"\nformats = ["png"]\ndpi = 40\n',
        encoding="utf-8",
    )
    assert run(["figures", "--only", "top-terms"]) == 0
    assert sorted(p.name for p in (no_config_cwd / "made").iterdir()) == [
        "manifest.json", "top-terms.csv", "top-terms.png",
    ]


@pytest.mark.parametrize("command", [["figures", *FAST, "--out"], ["terms", "--out"]])
def test_unwritable_output_is_one_line_naming_the_path(seed_corpus, tmp_path, capsys, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    target = blocker / "out"
    assert run([*command[:-1], "--corpus", str(seed_corpus), command[-1], str(target)]) == 2
    line = _single_error_line(capsys.readouterr().err)
    assert str(blocker) in line
    assert blocker.read_text(encoding="utf-8") == "not a folder"
