"""Shared fixtures for the test suite.

Everything is derived from this file's location (the repository root) or
from pytest's ``tmp_path``; the seed corpus is only ever read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis import terms  # noqa: E402
from analysis.config import Settings  # noqa: E402
from analysis.results import Results, analyze  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SEED_CORPUS = REPO / "corpus"
SEED_IDS = (
    "000_2b6ec66f88ad0ee6",
    "001_6c888b388283ab30",
    "002_a5a92ea41e8155e8",
    "003_311addac7fdee5fa",
    "004_ae2261013d9df198",
)


def tree_snapshot(root: Path) -> dict[str, str]:
    """Relative POSIX path -> SHA-256 of every file below ``root`` (directories as ``<dir>``)."""
    snapshot = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        snapshot[key] = "<dir>" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return snapshot


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def seed_corpus() -> Path:
    assert SEED_CORPUS.is_dir(), f"seed corpus missing at {SEED_CORPUS}"
    return SEED_CORPUS


@pytest.fixture(scope="session")
def seed_settings(seed_corpus: Path) -> Settings:
    """Default settings pointed at the seed corpus (phrases on, outline excluded)."""
    return Settings(corpus=seed_corpus)


@pytest.fixture(scope="session")
def seed_tc(seed_settings: Settings) -> terms.TermCounts:
    """TermCounts of the seed corpus with default settings."""
    return analyze(seed_settings)


@pytest.fixture(scope="session")
def seed_tc_nophrases(seed_corpus: Path) -> terms.TermCounts:
    """TermCounts of the seed corpus with phrases off."""
    return analyze(Settings(corpus=seed_corpus, phrases=False))


@pytest.fixture(scope="session")
def seed_results(seed_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Results:
    """Every analysis of the seed corpus with default settings, shared by the session.

    Computed lazily on first use and then cached: the topic model (K=6, 5 seeds,
    paragraphs because five documents are too few) and the K selection
    (K 2..10 x 5 seeds) together take several seconds. ``out`` is an absolute
    folder that is never written, so manifests do not depend on the working
    directory. Treat it as read-only.
    """
    out = tmp_path_factory.mktemp("seed-results") / "figures"
    return Results(Settings(corpus=seed_corpus, out=out))


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory):
    """Settings whose cache folder is the default one put it in a temporary folder, not beside the
    repository's figures/ (a test that checks the default location sets ``cache_dir`` itself)."""
    import analysis.config

    original = analysis.config.CACHE_FOLDER
    analysis.config.CACHE_FOLDER = str(tmp_path_factory.mktemp("cache") / "shared")
    yield
    analysis.config.CACHE_FOLDER = original


@pytest.fixture(scope="session", autouse=True)
def seed_corpus_untouched(seed_corpus: Path):
    """The whole session must leave the read-only seed corpus exactly as it was."""
    before = tree_snapshot(seed_corpus)
    yield
    assert tree_snapshot(seed_corpus) == before, "the test session modified corpus/"


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test left open."""
    yield
    plt.close("all")


def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path``, creating parent folders; bytes are written as is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_bytes(data.encode(encoding))
    return path


@pytest.fixture
def no_config_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in an empty temporary folder so the repository's pyproject.toml is not picked up."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


# Test modules are imported with --import-mode=importlib (see pyproject), so they
# cannot import this file; the helpers are handed out as fixtures instead.
@pytest.fixture(scope="session")
def snapshot():
    """``snapshot(root)``: relative path -> SHA-256 of every file below ``root``."""
    return tree_snapshot


@pytest.fixture(scope="session")
def write_file():
    """``write_file(path, str_or_bytes)``: write a file, creating parent folders."""
    return write


@pytest.fixture(scope="session")
def seed_ids() -> tuple[str, ...]:
    return SEED_IDS


@pytest.fixture(scope="session")
def seed_k4(seed_corpus) -> Results:
    """The seed corpus at K=4 with three seeds (paragraph units), few passes (topic and browser tests)."""
    import warnings

    from analysis.topics import TopicWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TopicWarning)
        results = Results(Settings(corpus=seed_corpus, k=4, seeds=3, passes=10, iterations=100))
        results.topics  # noqa: B018 - fit once, inside the warning filter
    return results
