"""Settings and their TOML sources (analysis.config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.config import FORMATS, Settings, find_config, load_settings, settings_from_mapping
from analysis.errors import AnalysisError

PYPROJECT = """\
[project]
name = "someone-elses-study"

[tool.analysis]
corpus = "data/texts"
out = "output"
metadata = "data/meta.csv"
dpi = 150
top_n = 12
formats = ["png", "svg"]
extra_stopwords = ["kratom"]
phrase_threshold = 1
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    s = Settings()
    assert s.corpus == Path("corpus") and s.out == Path("figures")
    assert s.formats == FORMATS == ("png", "svg", "pdf")
    assert (s.dpi, s.top_n, s.phrases, s.include_outline, s.lemmatize) == (300, 20, True, False, False)
    assert (s.phrase_min_count, s.phrase_threshold, s.stopwords, s.language) == (5, 0.6, "auto", "en")


def test_load_settings_finds_pyproject_above_start(tmp_path):
    root = tmp_path.resolve()
    config = _write(root / "pyproject.toml", PYPROJECT)
    start = root / "notebooks" / "deep"
    start.mkdir(parents=True)
    assert find_config(start) == config
    s = load_settings(start=start)
    # relative paths resolve against the folder of the config file, not the start folder
    assert s.corpus == root / "data" / "texts"
    assert s.out == root / "output"
    assert s.metadata == root / "data" / "meta.csv"
    assert (s.dpi, s.top_n, s.formats, s.extra_stopwords) == (150, 12, ("png", "svg"), ("kratom",))
    assert s.phrase_threshold == 1.0 and isinstance(s.phrase_threshold, float)
    assert str(config) in s.source
    # keys not in the file keep their defaults
    assert (s.phrases, s.seed, s.encoding) == (True, 0, "utf-8")


def test_pyproject_without_analysis_table_is_skipped(tmp_path):
    root = tmp_path.resolve()
    config = _write(root / "pyproject.toml", PYPROJECT)
    _write(root / "sub" / "pyproject.toml", "[tool.black]\nline-length = 99\n")
    assert find_config(root / "sub") == config
    assert load_settings(start=root / "sub").corpus == root / "data" / "texts"


def test_no_config_gives_defaults_relative_to_start(tmp_path):
    start = tmp_path.resolve()
    if find_config(start) is not None:
        pytest.skip("a pyproject.toml with [tool.analysis] exists above the temporary folder")
    s = load_settings(start=start)
    assert s == Settings(corpus=start / "corpus", out=start / "figures", topic_labels=start / "topic-labels.csv")


def test_working_directory_is_the_default_start(tmp_path, monkeypatch):
    root = tmp_path.resolve()
    _write(root / "pyproject.toml", PYPROJECT)
    (root / "notebooks").mkdir()
    monkeypatch.chdir(root / "notebooks")
    assert load_settings().corpus == root / "data" / "texts"


def test_repository_pyproject_is_valid(repo_root):
    s = load_settings(repo_root / "pyproject.toml")
    assert s.corpus == repo_root / "corpus"
    assert s.out == repo_root / "figures"


@pytest.mark.parametrize(
    "text",
    [
        'corpus = "texts"\ndpi = 100\n',  # top-level keys
        '[analysis]\ncorpus = "texts"\ndpi = 100\n',
        '[tool.analysis]\ncorpus = "texts"\ndpi = 100\n',
    ],
)
def test_explicit_config_file_layouts(tmp_path, text):
    config = _write(tmp_path / "cfg" / "settings.toml", text)
    s = load_settings(config)
    assert s.corpus == config.resolve().parent / "texts"
    assert s.dpi == 100
    assert s.out == config.resolve().parent / "figures"


def test_explicit_config_with_absolute_and_home_paths(tmp_path):
    absolute = (tmp_path / "abs corpus").resolve()
    config = _write(tmp_path / "settings.toml", f'corpus = "{absolute.as_posix()}"\nout = "~/figs"\n')
    s = load_settings(config)
    assert s.corpus == absolute
    assert s.out == Path("~/figs").expanduser()


def test_missing_config_file(tmp_path):
    with pytest.raises(AnalysisError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("dpi = = 3\n", "not valid TOML"),
        ('colour = "blue"\ndpi = 100\n', "unknown setting 'colour'"),
    ],
)
def test_bad_config_file_gives_one_line_naming_it(tmp_path, content, message):
    config = _write(tmp_path / "settings.toml", content)
    with pytest.raises(AnalysisError, match=message) as info:
        load_settings(config)
    assert str(config) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dpi", '"300"'),
        ("dpi", "true"),
        ("dpi", "72.5"),
        ("top_n", '"ten"'),
        ("phrases", '"yes"'),
        ("phrases", "1"),
        ("include_outline", '"false"'),
        ("phrase_threshold", '"high"'),
        ("phrase_threshold", "false"),
        ("formats", "5"),
        ("extra_stopwords", "[1, 2]"),
        ("keep_words", "{ a = 1 }"),
        ("language", "5"),
        ("encoding", "[]"),
        ("corpus", "5"),
        ("out", "true"),
        ("metadata", '["a.csv"]'),
    ],
)
def test_wrong_types_raise_one_line_errors(tmp_path, key, value):
    config = _write(tmp_path / "settings.toml", f"{key} = {value}\n")
    with pytest.raises(AnalysisError) as info:
        load_settings(config)
    message = str(info.value)
    assert f"'{key}'" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("dpi", "10", "between 30 and 2400"),
        ("dpi", "5000", "between 30 and 2400"),
        ("top_n", "0", "between 1 and 500"),
        ("min_token_length", "0", "between 1 and 100"),
        ("phrase_min_count", "0", "between 1 and"),
        ("phrase_threshold", "1.5", "-1..1"),
        ("phrase_threshold", "-2", "-1..1"),
        ("stopwords", '"nltk"', "must be one of auto, gensim, iso, none"),
        ("formats", '["png", "gif"]', "non-empty list of png, svg, pdf"),
        ("formats", "[]", "non-empty list"),
        ("encoding", '"klingon-8"', "unknown encoding"),
    ],
)
def test_out_of_range_values_raise_one_line_errors(tmp_path, key, value, fragment):
    config = _write(tmp_path / "settings.toml", f"{key} = {value}\n")
    with pytest.raises(AnalysisError) as info:
        load_settings(config)
    message = str(info.value)
    assert fragment in message
    assert f"'{key}'" in message
    assert str(config) in message
    assert "\n" not in message


@pytest.mark.parametrize(("key", "value"), [("dpi", 30), ("dpi", 2400), ("top_n", 500), ("phrase_threshold", -1.0)])
def test_range_limits_are_inclusive(key, value):
    assert getattr(settings_from_mapping({key: value}, base=Path("."), where="x"), key) == value


def test_overrides_win_and_none_is_ignored(tmp_path, monkeypatch):
    root = tmp_path.resolve()
    config = _write(root / "cfg" / "settings.toml", 'corpus = "texts"\ndpi = 100\nphrases = true\n')
    monkeypatch.chdir(root)
    s = load_settings(config, dpi=200, phrases=False, formats=["png"], extra_stopwords="a, b ,", corpus="here")
    assert (s.dpi, s.phrases, s.formats, s.extra_stopwords) == (200, False, ("png",), ("a", "b"))
    assert s.corpus == root / "here"  # command-line paths are relative to the working directory
    assert s.source == "command line"
    unchanged = load_settings(config, dpi=None, phrases=None, corpus=None, formats=None)
    assert unchanged == load_settings(config)
    assert (unchanged.dpi, unchanged.corpus) == (100, root / "cfg" / "texts")
    assert unchanged.source != "command line"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [({"dpi": 0}, "--dpi must be between 30 and 2400, got 0"),
     ({"formats": ["gif"]}, "--formats takes a non-empty list"),
     ({"colour": "red"}, "unknown setting 'colour'")],
)
def test_bad_overrides_are_named_like_options(tmp_path, overrides, fragment):
    config = _write(tmp_path / "settings.toml", "dpi = 100\n")
    with pytest.raises(AnalysisError, match="command line") as info:
        load_settings(config, **overrides)
    assert fragment in str(info.value)


def test_replace_validates():
    s = Settings()
    assert s.replace(dpi=72).dpi == 72
    with pytest.raises(AnalysisError, match="dpi"):
        s.replace(dpi=1)
    with pytest.raises(AnalysisError, match="stopwords"):
        s.replace(stopwords="nltk")


def test_to_dict_is_json_compatible(tmp_path):
    s = Settings(corpus=tmp_path / "c", metadata=None, extra_stopwords=("kratom",))
    d = s.to_dict()
    assert "source" not in d
    assert d["corpus"] == (tmp_path / "c").as_posix()
    assert d["metadata"] is None
    assert d["formats"] == ["png", "svg", "pdf"] and d["extra_stopwords"] == ["kratom"]
    import json

    assert json.loads(json.dumps(d)) == d


def test_source_is_not_part_of_equality():
    assert Settings(source="a") == Settings(source="b")


def test_empty_metadata_means_none(tmp_path):
    s = settings_from_mapping({"metadata": ""}, base=tmp_path, where="x")
    assert s.metadata is None
