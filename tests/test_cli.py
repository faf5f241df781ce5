"""The command line (analysis.cli), run in-process with ``main(argv)``.

Every test works in an empty temporary folder (``no_config_cwd``) so the
repository's own ``pyproject.toml`` is never picked up, and passes the seed
corpus explicitly; output goes to ``tmp_path`` only.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import analysis
import analysis.topics
from analysis.cli import main
from analysis.export import CLAIM_TABLES, MODEL_STEM, REUSE_TABLES, TOPIC_TABLES
from analysis.figures import REGISTRY, TOPIC_FIGURES, figure_names

FAST = ["--formats", "png", "--dpi", "50"]
# "topics" and "select-k" have no --formats/--dpi options: the same through a config file.
FAST_TOML = 'formats = ["png"]\ndpi = 50\nlenses = ["health-claims"]\n'
# Small topic settings for commands that fit topics ("figures" has no option for the K grid).
FAST_TOPICS_TOML = FAST_TOML + 'k = 3\nseeds = 2\nk_grid = "2..3"\npasses = 5\niterations = 50\n'
MODEL_FILES = {f"{MODEL_STEM}.json", f"{MODEL_STEM}.npz"}


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


def _error_line(err: str) -> str:
    """The one error line of ``err`` (other lines, such as progress, may precede it); no traceback."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("corpus-analysis: error: ")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.fixture
def tfast(tmp_path) -> list[str]:
    """``--config FILE`` with PNG only at 50 dpi, for ``topics`` and ``select-k``."""
    config = tmp_path / "fast.toml"
    config.write_text(FAST_TOML, encoding="utf-8")
    return ["--config", str(config)]


@pytest.fixture
def fast_topics(tmp_path) -> list[str]:
    """``--config FILE`` with small topic settings (K=3, 2 seeds, K grid 2..3, few passes)."""
    config = tmp_path / "fast-topics.toml"
    config.write_text(FAST_TOPICS_TOML, encoding="utf-8")
    return ["--config", str(config)]


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
def figures_run(seed_corpus, tmp_path, capsys, fast_topics):
    out = tmp_path / "figs"
    argv = ["figures", "--corpus", str(seed_corpus), "--out", str(out), *FAST, *fast_topics]
    assert run(argv) == 0
    capsys.readouterr()
    return out, argv


def test_figures_writes_png_csv_and_manifest(figures_run):
    out, _ = figures_run
    # The seed corpus is one folder of articles: no groups, so no comparison of groups.
    expected = {f"{name}.{ext}" for name in figure_names(lenses=["health-claims"]) for ext in ("png", "csv")}
    expected |= {"manifest.json"}
    # the topic tables (with unit_topics.csv: the seed corpus is fitted on paragraphs), the model,
    # and the reuse and claims tables (the contradicting sentence pairs only when asked for)
    expected |= set(TOPIC_TABLES) | MODEL_FILES | set(REUSE_TABLES) | set(CLAIM_TABLES) - {"contradiction_pairs.csv"}
    assert {p.name for p in out.iterdir()} == expected
    assert all(p.stat().st_size > 0 for p in out.iterdir())
    assert not [p for p in out.parent.iterdir() if "-staging-" in p.name]


def test_figures_twice_changes_no_byte(figures_run, capsys, snapshot):
    out, argv = figures_run
    before = snapshot(out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert run(argv) == 0
    assert "up to date" in capsys.readouterr().out  # nothing changed: nothing is recomputed
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


def test_figures_check_on_a_missing_folder(seed_corpus, tmp_path, capsys, fast_topics):
    out = tmp_path / "never-written"
    assert run(["figures", "--corpus", str(seed_corpus), "--out", str(out), *FAST, *fast_topics, "--check"]) == 1
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
        (["--dpi", "abc"], "--dpi: must be a whole number, got 'abc'"),
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
    line = _error_line(capsys.readouterr().err)
    assert str(missing) in line and "not found" in line
    _assert_nothing_written(out)


def test_empty_corpus_folder(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "figs"
    assert run(["figures", "--corpus", str(empty), "--out", str(out), *FAST]) == 2
    assert "empty" in _error_line(capsys.readouterr().err)
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
    assert "empty" in _error_line(err)
    warnings = [line for line in err.splitlines() if line.startswith("corpus-analysis: warning: ")]
    assert len(warnings) == 1 and "a.txt" in warnings[0]  # the skipped empty file
    _assert_nothing_written(out)


def test_invalid_utf8_file(seed_corpus, tmp_path, capsys):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_bytes((seed_corpus / "000_2b6ec66f88ad0ee6.txt").read_bytes())
    bad = corpus / "bad.txt"
    bad.write_bytes(b"Kratom caf\xe9 text")
    out = tmp_path / "figs"
    assert run(["figures", "--corpus", str(corpus), "--out", str(out), *FAST]) == 2
    line = _error_line(capsys.readouterr().err)
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


def _bad_utf8_corpus(tmp_path: Path, seed_corpus: Path) -> Path:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_bytes((seed_corpus / "000_2b6ec66f88ad0ee6.txt").read_bytes())
    (corpus / "bad.txt").write_bytes(b"Kratom caf\xe9 text")
    return corpus


@pytest.mark.parametrize("command", ["figures", "topics"])
@pytest.mark.parametrize("problem", ["missing", "empty folder", "invalid utf-8"])
def test_corpus_errors_are_the_only_line_on_stderr(seed_corpus, tmp_path, capsys, tfast, command, problem):
    if problem == "missing":
        corpus = tmp_path / "no-such-corpus"
    elif problem == "empty folder":
        corpus = tmp_path / "empty"
        corpus.mkdir()
    else:
        corpus = _bad_utf8_corpus(tmp_path, seed_corpus)
    out = tmp_path / "figs"
    assert run([command, "--corpus", str(corpus), "--out", str(out), *(FAST if command == "figures" else tfast)]) == 2
    _single_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("command", [["topics"], ["select-k", "--k", "2..3"]], ids=["topics", "select-k"])
def test_topic_commands_report_corpus_problems(seed_corpus, tmp_path, capsys, tfast, command):
    missing = tmp_path / "no-such-corpus"
    out = tmp_path / "out"
    assert run([*command, "--corpus", str(missing), "--out", str(out), *tfast]) == 2
    captured = capsys.readouterr()
    line = _error_line(captured.err)
    assert str(missing) in line and "not found" in line
    assert captured.out == ""
    _assert_nothing_written(out)
    # the output folder may not be inside the corpus either
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "doc.txt").write_bytes((seed_corpus / "000_2b6ec66f88ad0ee6.txt").read_bytes())
    assert run([*command, "--corpus", str(corpus), "--out", str(corpus / "figs"), *tfast]) == 2
    assert "must not be inside the corpus" in _single_error_line(capsys.readouterr().err)
    assert [p.name for p in corpus.iterdir()] == ["doc.txt"]


# -- topics ----------------------------------------------------------------------------------

TOPIC_FIGURE_NAMES = [name for name in TOPIC_FIGURES if name != "k-selection"]


@pytest.fixture
def topics_run(seed_corpus, tmp_path, capsys, tfast):
    """``topics --k 3 --seeds 2 --html`` on the seed corpus (auto unit: paragraphs)."""
    out = tmp_path / "topics"
    argv = ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--k", "3", "--seeds", "2", "--html", *tfast]
    status = run(argv)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return out, argv, captured


def test_topics_writes_tables_model_html_and_figures(topics_run):
    out, _, _ = topics_run
    expected = {f"{name}.{ext}" for name in TOPIC_FIGURE_NAMES for ext in ("png", "csv")}
    expected |= set(TOPIC_TABLES) | MODEL_FILES | {"topics.html", "manifest.json"}
    assert {p.name for p in out.iterdir()} == expected
    assert not [p for p in out.parent.iterdir() if "-staging-" in p.name]

    terms = pd.read_csv(out / "topic_terms.csv")
    assert list(terms.columns) == ["topic", "label", "term", "weight", "relevance", "rank"]
    assert sorted(terms["topic"].unique()) == [1, 2, 3]
    assert terms.groupby("topic")["rank"].apply(list).map(lambda r: r == list(range(1, len(r) + 1))).all()
    doc_topics = pd.read_csv(out / "doc_topics.csv", dtype={"doc_id": str})
    assert list(doc_topics.columns) == ["doc_id", "topic", "weight", "n_vocab_terms"]
    assert doc_topics.groupby("doc_id")["weight"].sum().to_numpy() == pytest.approx(1.0)
    ids = pd.read_csv(out / "topic_ids.csv")
    assert list(ids.columns) == ["seed", "native_id", "topic", "label", "similarity", "reference"]
    assert len(ids) == 2 * 3 and ids["reference"].sum() == 3
    page = (out / "topics.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "var ldavis_data = " in page
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["figures"]) == set(TOPIC_FIGURE_NAMES)
    assert set(manifest["files"]) == set(TOPIC_TABLES) | MODEL_FILES | {"topics.html"}
    for name, digest in manifest["files"].items():
        assert digest == hashlib.sha256((out / name).read_bytes()).hexdigest(), name
    assert manifest["settings"]["k"] == 3 and manifest["settings"]["seeds"] == 2


def test_topics_prints_a_summary_on_stdout_and_progress_on_stderr(topics_run):
    out, _, captured = topics_run
    stdout, stderr = captured.out, captured.err
    terms = pd.read_csv(out / "topic_terms.csv")
    labels = terms.drop_duplicates("topic").set_index("topic")["label"]
    lines = stdout.splitlines()
    assert "K=3" in lines[0] and "paragraphs" in lines[0]
    assert lines[1].startswith("reported run: seed ") and "of 2" in lines[1]
    for topic in (1, 2, 3):
        assert any(line.strip().startswith(f"T{topic} ") and line.endswith(labels[topic]) for line in lines), stdout
    assert lines[-1].startswith(f"{out}: ")
    # progress (figure names; tqdm bars for steps longer than 2 s) and the unit warning go to stderr only
    assert "rendering topic-terms" in stderr
    assert "corpus-analysis: warning: 5 documents are too few for K=3" in stderr
    assert "rendering" not in stdout and "it/s" not in stdout and "fit/s" not in stdout
    assert "warning" not in stdout
    assert "Traceback" not in stderr


def test_topics_twice_changes_no_byte(topics_run, capsys, snapshot):
    out, argv, _ = topics_run
    before = snapshot(out)
    assert run(argv) == 0
    assert "0 written" in capsys.readouterr().out
    assert snapshot(out) == before


def test_topics_at_document_level(seed_corpus, tmp_path, capsys, seed_ids, tfast):
    out = tmp_path / "topics"
    # five documents: keep every term (the default pruning needs >= 3 of 5 and <= 50% of units)
    argv = ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--unit", "document", "--k", "3",
            "--seeds", "2", "--no-below", "1", "--no-above", "1.0", *tfast]
    assert run(argv) == 0
    err = capsys.readouterr().err
    assert "corpus-analysis: warning: only 5 documents for K=3" in err
    doc_topics = pd.read_csv(out / "doc_topics.csv", dtype={"doc_id": str})
    assert len(doc_topics) == 5 * 3
    assert sorted(map(tuple, doc_topics[["doc_id", "topic"]].to_numpy())) == [
        (d, t) for d in seed_ids for t in (1, 2, 3)]
    assert doc_topics.groupby("doc_id")["weight"].sum().to_numpy() == pytest.approx(1.0)
    assert not (out / "unit_topics.csv").exists()  # units are the documents


def test_topics_default_pruning_at_document_level_is_a_clear_error(seed_corpus, tmp_path, capsys, tfast):
    out = tmp_path / "topics"
    argv = ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--unit", "document", "--k", "3", *tfast]
    assert run(argv) == 2
    line = _error_line(capsys.readouterr().err)
    assert "terms are left after pruning" in line and "no_below" in line
    _assert_nothing_written(out)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--seed", "7", "--seeds", "2"], "not allowed with argument"),
        (["--unit", "sentence"], "invalid choice: 'sentence'"),
        (["--k", "1"], "--k must be between 2 and 1000, got 1"),
        (["--k", "x"], "--k: must be a whole number"),
        (["--no-above", "0"], "--no-above must lie in (0, 1]"),
        (["--no-above", "1.5"], "--no-above"),
        (["--seeds", "0"], "--seeds must be between 1 and 100"),
        (["--engine", "mallet"], "invalid choice: 'mallet'"),
        (["--alpha", "-1"], "--alpha must be a positive number"),
        (["--passes", "0"], "--passes"),
    ],
)
def test_topics_option_errors(seed_corpus, tmp_path, capsys, extra, fragment, tfast):
    out = tmp_path / "topics"
    status = run(["topics", "--corpus", str(seed_corpus), "--out", str(out), *tfast, *extra])
    captured = capsys.readouterr()
    assert status == 2
    assert fragment in _single_error_line(captured.err)
    assert captured.out == ""
    _assert_nothing_written(out)


def test_topics_single_seed(seed_corpus, tmp_path, capsys, tfast):
    out = tmp_path / "topics"
    argv = ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--k", "3", "--seed", "7", *tfast]
    assert run(argv) == 0
    stdout = capsys.readouterr().out
    assert "seed 7 of 1" in stdout and "stability" not in stdout
    ids = pd.read_csv(out / "topic_ids.csv")
    assert ids["seed"].tolist() == [7, 7, 7] and ids["reference"].all()
    assert json.loads((out / "manifest.json").read_text())["settings"]["seed"] == 7


def test_topics_rerun_leaves_no_files_of_the_previous_model(topics_run, seed_corpus, capsys, tfast):
    out, _, _ = topics_run
    assert (out / "unit_topics.csv").exists() and (out / "topics.html").exists()
    argv = ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--unit", "document", "--k", "3",
            "--seeds", "2", "--no-below", "1", "--no-above", "1.0", *tfast]
    assert run(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["unit"] == "document"
    assert "unit_topics.csv" not in manifest["files"] and not (out / "unit_topics.csv").exists()
    assert "topics.html" not in manifest["files"] and not (out / "topics.html").exists()


def test_topics_with_the_tomotopy_engine(seed_corpus, tmp_path, capsys, tfast):
    out = tmp_path / "topics"
    argv = ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--engine", "tomotopy", "--k", "3",
            "--seeds", "2", "--iterations", "100", *tfast]
    assert run(argv) == 0
    assert capsys.readouterr().out.startswith("LDA (tomotopy), K=3")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["engine"] == "tomotopy" and manifest["settings"]["iterations"] == 100
    doc_topics = pd.read_csv(out / "doc_topics.csv", dtype={"doc_id": str})
    assert doc_topics.groupby("doc_id")["weight"].sum().to_numpy() == pytest.approx(1.0)


# -- select-k --------------------------------------------------------------------------------

def test_select_k_writes_figures_and_prints_a_table(seed_corpus, tmp_path, capsys, tfast):
    out = tmp_path / "select"
    argv = ["select-k", "--corpus", str(seed_corpus), "--out", str(out), "--k", "2..4", "--seeds", "2",
            "--chosen-k", "3", *tfast]
    assert run(argv) == 0
    captured = capsys.readouterr()
    assert {p.name for p in out.iterdir()} == {
        "k-selection.png", "k-selection.csv", "topic-stability.png", "topic-stability.csv", "manifest.json"}
    table = pd.read_csv(out / "k-selection.csv")
    assert list(table.columns) == ["k", "seed", "metric", "value"]
    assert sorted(table["k"].unique()) == [2, 3, 4] and sorted(table["seed"].unique()) == [0, 1]
    stability = pd.read_csv(out / "topic-stability.csv")
    assert sorted(stability["topic"].unique()) == [1, 2, 3]  # --chosen-k
    lines = captured.out.splitlines()
    assert lines[0] == "median over 2 seeds, K in 2..4 (3 values):"
    header = lines[1].split()
    assert set(header) >= {"metric", "c_v", "c_npmi", "u_mass", "perplexity", "stability"}
    rows = [line.split() for line in lines[2:] if line.split() and line.split()[0].isdigit()]
    assert [row[0] for row in rows] == ["2", "3", "4"]
    assert "rendering k-selection" in captured.err and "rendering" not in captured.out
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("grid", "fragment"),
    [("5..2", "K grid '5..2' is empty"), ("x", "K grid must look like 2..12 or 4,6,8, got 'x'"), ("1..3", "at least 2")],
)
def test_select_k_bad_grid(seed_corpus, tmp_path, capsys, grid, fragment, tfast):
    out = tmp_path / "select"
    assert run(["select-k", "--corpus", str(seed_corpus), "--out", str(out), "--k", grid, *tfast]) == 2
    captured = capsys.readouterr()
    assert fragment in _single_error_line(captured.err)
    assert captured.out == ""
    _assert_nothing_written(out)


@pytest.mark.parametrize(("extra", "option"), [(["--k", "x"], "--k"), (["--k", "2..3", "--chosen-k", "1"], "--chosen-k")])
def test_select_k_errors_name_the_option_typed(seed_corpus, tmp_path, capsys, extra, option, tfast):
    out = tmp_path / "select"
    assert run(["select-k", "--corpus", str(seed_corpus), "--out", str(out), *extra, *tfast]) == 2
    line = _single_error_line(capsys.readouterr().err)
    assert option in line and "--k-grid" not in line
    if option == "--chosen-k":
        assert "--k must" not in line  # in select-k, --k is the grid


def test_select_k_reversed_grid_message(seed_corpus, tmp_path, capsys, tfast):
    out = tmp_path / "select"
    assert run(["select-k", "--corpus", str(seed_corpus), "--out", str(out), "--k", "5..2", *tfast]) == 2
    line = _single_error_line(capsys.readouterr().err)
    assert "at least 2" not in line


# -- interrupted runs leave the output folder as it was -----------------------------------------

def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("command", "patched"),
    [
        (["topics", "--k", "3", "--seeds", "2", "--html"], "analysis.topics.stability.fit_topics"),
        (["select-k", "--k", "2..3", "--seeds", "2"], "analysis.topics.select_k"),
        (["figures"], "analysis.topics.stability.fit_topics"),
    ],
    ids=["topics", "select-k", "figures"],
)
def test_interrupted_run_exits_130_and_changes_nothing(
    seed_corpus, tmp_path, capsys, monkeypatch, snapshot, fast_topics, command, patched
):
    out = tmp_path / "out"
    common = ["--corpus", str(seed_corpus), "--out", str(out), *fast_topics]
    # an earlier run with another seed left files that this run would replace
    assert run([command[0], *common, "--seed", "3"]) == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(out)
    capsys.readouterr()

    monkeypatch.setattr(patched, _interrupt)
    assert run([*command, *common]) == 130
    captured = capsys.readouterr()
    assert captured.err.count("corpus-analysis: interrupted; nothing partial was written") == 1
    assert "Traceback" not in captured.err
    assert snapshot(out) == before
    assert not [p for p in out.parent.iterdir() if "-staging-" in p.name]


def test_interrupt_message_starts_its_own_line(seed_corpus, tmp_path, capsys, monkeypatch, fast_topics):
    monkeypatch.setattr("analysis.topics.stability.fit_topics", _interrupt)
    out = tmp_path / "out"
    assert run(["topics", "--corpus", str(seed_corpus), "--out", str(out), *fast_topics]) == 130
    err = capsys.readouterr().err
    segments = [part for line in err.split("\n") for part in line.split("\r")]
    assert "corpus-analysis: interrupted; nothing partial was written" in segments


def test_interrupt_while_moving_files_into_place_rolls_back(seed_corpus, tmp_path, capsys, monkeypatch, snapshot, tfast):
    import analysis.export

    out = tmp_path / "out"
    base = ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--k", "3", *tfast]
    assert run([*base, "--seed", "3"]) == 0
    before = snapshot(out)
    capsys.readouterr()
    real = analysis.export.os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(analysis.export.os, "replace", flaky)
    assert run([*base, "--seeds", "2"]) == 130
    monkeypatch.undo()
    assert len(calls) > 4  # the rollback moved files back
    assert "Traceback" not in capsys.readouterr().err
    assert snapshot(out) == before
    assert not [p for p in out.parent.iterdir() if "-staging-" in p.name]


def test_info_prints_a_row_per_document_only_for_small_corpora(tmp_path, capsys):
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(40):
        (corpus / f"{i:02d}.txt").write_text("Kratom eases pain. " * (i + 1), encoding="utf-8")
    assert run(["info", "--corpus", str(corpus), "--cache-dir", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr().out
    assert "documents: 40" in out and "word tokens per document: median 62, min 3, max 120" in out
    assert "largest: 39 (120), 38 (117), 37 (114)" in out and "smallest: 00 (3), 01 (6), 02 (9)" in out
    assert len(out.splitlines()) < 15  # no line per document
    grouped = tmp_path / "grouped"
    for i in range(40):
        (grouped / "ab"[i % 2]).mkdir(parents=True, exist_ok=True)
        (grouped / "ab"[i % 2] / f"{i:02d}.txt").write_text("Kratom eases pain. " * (i + 1), encoding="utf-8")
    assert run(["info", "--corpus", str(grouped), "--cache-dir", str(tmp_path / "cache")]) == 0
    assert "documents by folder: a 20, b 20" in capsys.readouterr().out
    table = tmp_path / "info.csv"
    assert run(["info", "--corpus", str(corpus), "--cache-dir", str(tmp_path / "cache"), "--out", str(table)]) == 0
    written = pd.read_csv(table, dtype={"doc_id": str})
    assert len(written) == 41 and written["doc_id"].iloc[-1] == "(corpus)" and written["tokens"].iloc[0] == 3


def test_every_setting_has_an_option_generated_from_its_declaration(seed_corpus):
    from analysis.cli import _settings, build_parser
    from analysis.config import SETTINGS

    parser = build_parser()
    figures = parser._subparsers._group_actions[0].choices["figures"]
    options = {action.dest: action for action in figures._actions}
    for name, declared in SETTINGS.items():
        assert name in options, name
        action = options[name]
        assert action.help.startswith(declared.metadata["help"]), name
        if declared.metadata["choices"] and not isinstance(declared.default, tuple):
            assert tuple(action.choices) == declared.metadata["choices"], name
    args = parser.parse_args(["figures", "--corpus", str(seed_corpus), "--min-token-length", "3", "--no-phrases",
                              "--focus-terms", "kratom,pain", "--stopwords", "none", "--top-n", "7"])
    settings = _settings(args)
    assert (settings.min_token_length, settings.phrases, settings.focus_terms, settings.stopwords, settings.top_n) == (
        3, False, ("kratom", "pain"), "none", 7)


def test_a_setting_out_of_its_declared_bounds_is_named(capsys):
    assert run(["terms", "--min-token-length", "0"]) == 2
    assert "--min-token-length must be between 1 and 100, got 0" in _single_error_line(capsys.readouterr().err)
