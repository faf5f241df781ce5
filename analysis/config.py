"""Settings: one TOML table read the same way by the CLI and the notebooks.

Settings live in a ``[tool.analysis]`` table of ``pyproject.toml`` (found by
walking up from the working directory) or in a file given explicitly; a file
given explicitly may hold the keys at top level, under ``[analysis]`` or under
``[tool.analysis]``. Relative paths are resolved against the folder of the file
that set them. Command-line options override the file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from analysis.errors import AnalysisError

FORMATS = ("png", "svg", "pdf")
STOPWORD_LISTS = ("gensim", "none")
UNITS = ("auto", "document", "section", "paragraph")
ENGINES = ("gensim", "tomotopy")
PRIOR_NAMES = ("symmetric", "asymmetric", "auto")


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    """Every setting of an analysis run, with its default.

    Parameters
    ----------
    corpus : Path
        A folder of ``.txt``/``.md`` files, or a ``.csv``, ``.jsonl`` (optionally
        ``.gz``) or ``.parquet`` file.
    out : Path
        Folder the ``figures`` command writes to.
    text_column, id_column : str
        Columns (or JSON fields) holding the text and the document id in table
        formats. When ``id_column`` is missing, ids are row numbers.
    encoding : str
        Encoding of text files; strict decoding, a UTF-8 BOM is dropped.
    metadata : Path or None
        A CSV joined on the document id. ``None`` uses ``<corpus>/metadata.csv``
        when the corpus is a folder that has one.
    include_outline : bool
        Whether outline bullets (which repeat the section headings verbatim)
        count in term analytics. Off by default so headings are counted once.
    language : str
        ISO 639-1 code used by the lemmatiser.
    stopwords : {"gensim", "none"}
        The maintained stopword list removed from term counts.
    extra_stopwords : list of str
        Corpus-specific stopwords, removed after the maintained list.
    keep_words : list of str
        Words taken out of the stopword list (kept in counts).
    min_token_length : int
        Tokens shorter than this many characters are dropped.
    drop_numbers : bool
        Drop tokens made only of digits (``12``, ``2``); ``kr8tom`` stays.
    lemmatize : bool
        Replace words by their dictionary lemma (simplemma).
    phrases : bool
        Join frequent collocations into multiword terms (gensim ``Phrases``).
    phrase_min_count : int
        Minimum corpus count of a pair to become a phrase.
    phrase_threshold : float
        Normalised PMI threshold (-1..1) of gensim's ``npmi`` scorer.
    top_n : int
        Number of terms shown in ranked figures.
    formats : tuple of str
        Figure formats written by ``figures``.
    dpi : int
        Resolution of PNG output.
    seed : int
        Recorded in every manifest; used by every randomised step. With
        ``seeds`` > 1, topic runs use seeds ``seed, seed + 1, ...``.
    unit : {"auto", "document", "section", "paragraph"}
        What LDA treats as a document. ``auto`` fits on documents when there
        are at least ``min_units_per_topic`` of them per topic, and on
        paragraphs otherwise (the five seed articles are far too few for LDA).
        Results are always also rolled up to documents.
    min_units_per_topic : int
        The smallest number of units per topic ``auto`` accepts without
        falling back to paragraphs.
    k : int
        Number of topics.
    seeds : int
        Runs with different seeds fitted by ``topics`` and per K by
        ``select-k``; the run most similar to the others is reported and
        topic stability is measured across all of them.
    k_grid : str
        The K values ``select-k`` compares: ``"2..12"`` or ``"4,6,8"``.
    engine : {"tomotopy", "gensim"}
        ``tomotopy`` (default): collapsed Gibbs sampling; on 20 Newsgroups it
        recovers the newsgroups far better than gensim (see the README's
        benchmark). ``gensim``: online variational Bayes (``LdaModel``, one
        process). Both reproduce a run from its seed; gensim's
        ``LdaMulticore`` is not used because it does not.
    workers : int
        tomotopy threads. tomotopy reproduces a run from its seed only with
        one worker (the default); more are faster but not reproducible.
        gensim always uses one process.
    passes, iterations : int
        tomotopy: ``iterations`` Gibbs sweeps over the corpus (``passes`` is
        not used). gensim: ``passes`` over the corpus and at most
        ``iterations`` inference iterations per unit.
    alpha, eta : str
        Dirichlet priors on topics per unit and terms per topic: a number, or
        for gensim one of ``symmetric``, ``asymmetric``, ``auto``
        (learned). ``auto`` for tomotopy means its default with
        hyperparameter optimisation.
    no_below, no_above, keep_n : int, float, int
        Vocabulary pruning before LDA: drop terms in fewer than ``no_below``
        units or in more than the share ``no_above`` of units, then keep the
        ``keep_n`` most frequent.
    remove_top_share : float
        Then also drop the most frequent remaining terms (by token count, as
        tomotopy's and MALLET's ``rm_top``), this share of the vocabulary:
        0.0005 drops 18 of the 36,537 terms of 20 Newsgroups (``writes``,
        ``article``, ``people`` ...) and none of the seed corpus's 243.
    relevance_lambda : float
        The lambda of Sievert and Shirley's (2014) relevance used to rank and
        label topic terms: 1 ranks by probability in the topic, 0 by lift.
    focus_terms : list of str
        Words or phrases the close-reading figures follow: collocates of the
        first three, dispersion of all. Empty: the corpus's six most
        frequent terms.
    window : int
        Words on each side counted as context by collocates and KWIC.
    reuse_ngram : int
        Text reuse: the shortest shared passage, in words (word n-gram
        shingles of this length shared by documents are merged into passages).
    reuse_min_documents : int
        Documents a passage must occur in to count as reused; raise it to
        keep only boilerplate common to many documents.
    mask_reuse : bool
        Leave reused passages out of the term counts, phrases and topics (the
        waterfall reports how many words that removed). Concordances and
        the reuse and claims analyses always read the full text.
    contradiction_pairs : bool
        Also write every pair of contradicting sentences (``contradiction_pairs.csv``);
        ``contradictions.csv`` counts them per term and pair of documents.
    jobs : int
        Worker processes that prepare the corpus and fit topic runs; 0 (the
        default) uses every core. Results do not depend on it.
    cache : bool
        Keep the prepared corpus and analysis results in ``cache_dir`` and
        reuse them while the corpus bytes and the settings that made them
        are unchanged (``--no-cache`` turns it off for one run).
    cache_dir : Path or None
        Where the cache lives; ``None``: ``.corpus-analysis-cache`` beside
        the output folder (it holds a ``.gitignore``, so git ignores it).
    lexicons : Path or None
        A folder of claim lexicon files (``hedges.txt``, ``risk.txt`` ...)
        that replace the shipped ones of the same name; ``None`` uses the
        shipped lexicons (``analysis/data/lexicons``).
    """

    corpus: Path = Path("corpus")
    out: Path = Path("figures")
    text_column: str = "text"
    id_column: str = "id"
    encoding: str = "utf-8"
    metadata: Path | None = None
    include_outline: bool = False
    language: str = "en"
    stopwords: str = "gensim"
    extra_stopwords: tuple[str, ...] = ()
    keep_words: tuple[str, ...] = ()
    min_token_length: int = 2
    drop_numbers: bool = True
    lemmatize: bool = False
    phrases: bool = True
    phrase_min_count: int = 5
    phrase_threshold: float = 0.6
    top_n: int = 20
    formats: tuple[str, ...] = FORMATS
    dpi: int = 300
    seed: int = 0
    unit: str = "auto"
    min_units_per_topic: int = 10
    k: int = 6
    seeds: int = 5
    k_grid: str = "2..10"
    engine: str = "tomotopy"
    workers: int = 1
    passes: int = 20
    iterations: int = 500
    alpha: str = "auto"
    eta: str = "auto"
    no_below: int = 3
    no_above: float = 0.5
    keep_n: int = 100_000
    remove_top_share: float = 0.0005
    relevance_lambda: float = 0.6
    focus_terms: tuple[str, ...] = ()
    window: int = 5
    reuse_ngram: int = 8
    reuse_min_documents: int = 2
    mask_reuse: bool = False
    lexicons: Path | None = None
    contradiction_pairs: bool = False
    jobs: int = 0
    cache: bool = True
    cache_dir: Path | None = None
    source: str = field(default="defaults", compare=False)

    def replace(self, **changes: Any) -> "Settings":
        """Return a copy with ``changes`` validated and applied."""
        return _validated(dataclasses.replace(self, **changes), self.source)

    @property
    def n_jobs(self) -> int:
        """``jobs``, with 0 meaning every core this process may use."""
        return self.jobs or default_jobs()

    @property
    def cache_folder(self) -> Path | None:
        """The cache folder, or None when caching is off."""
        if not self.cache:
            return None
        return self.cache_dir if self.cache_dir is not None else self.out.parent / CACHE_FOLDER

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain JSON-compatible values (paths as POSIX strings)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "source":
                continue
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = value.as_posix()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


CACHE_FOLDER = ".corpus-analysis-cache"
# How a run is carried out, not what it computes: left out of manifests.
RUN_SETTINGS = ("jobs", "cache", "cache_dir")
_PATH_KEYS = {"corpus", "out", "metadata", "lexicons", "cache_dir"}
_LIST_KEYS = {"extra_stopwords", "keep_words", "formats", "focus_terms"}
_CHOICES = {"stopwords": STOPWORD_LISTS, "unit": UNITS, "engine": ENGINES}
_PRIOR_KEYS = {"alpha", "eta"}


def parse_k_grid(text: str) -> tuple[int, ...]:
    """The K values of a grid written ``"2..12"`` or ``"4,6,8"``.

    >>> parse_k_grid("2..5")
    (2, 3, 4, 5)
    >>> parse_k_grid("8, 4,6")
    (4, 6, 8)
    """
    text = str(text).strip()
    try:
        if ".." in text:
            low, high = (int(v) for v in text.split(".."))
            values = range(low, high + 1)
        else:
            values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"K grid must look like 2..12 or 4,6,8, got {text!r}") from None
    grid = tuple(sorted(set(values)))
    if not grid:
        raise ValueError(f"K grid {text!r} is empty (write the smaller value first: 2..12)")
    if grid[0] < 2:
        raise ValueError(f"K grid needs values of at least 2, got {text!r}")
    return grid


def _label(name: str, where: str) -> str:
    """How a setting is named in messages: ``--dpi`` on the command line."""
    return f"--{name.replace('_', '-')}" if where == "command line" else f"setting '{name}'"


def _coerce(name: str, value: Any, base: Path, where: str) -> Any:
    """Convert one raw TOML/CLI value to the type of setting ``name``."""
    default = Settings.__dataclass_fields__[name].default
    if name in _PATH_KEYS:
        if value is None or value == "":
            return None if name in ("metadata", "lexicons", "cache_dir") else default
        if not isinstance(value, (str, os.PathLike)):
            raise AnalysisError(f"{where}: {_label(name, where)} must be a path (a string), got {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path
    if name in _PRIOR_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(float(value))
    if name == "k_grid" and isinstance(value, list):
        value = ",".join(str(v) for v in value)
    if name in _LIST_KEYS:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise AnalysisError(f"{where}: {_label(name, where)} must be a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise AnalysisError(f"{where}: {_label(name, where)} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnalysisError(f"{where}: {_label(name, where)} must be a whole number, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AnalysisError(f"{where}: {_label(name, where)} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise AnalysisError(f"{where}: {_label(name, where)} must be a string, got {value!r}")
    return value


def _validated(settings: Settings, where: str) -> Settings:
    """Check ranges and choices; raise one clear error for the first problem."""
    for name, choices in _CHOICES.items():
        if getattr(settings, name) not in choices:
            raise AnalysisError(
                f"{where}: {_label(name, where)} must be one of {', '.join(choices)}, "
                f"got {getattr(settings, name)!r}"
            )
    bad = [f for f in settings.formats if f not in FORMATS]
    if bad or not settings.formats:
        raise AnalysisError(
            f"{where}: {_label('formats', where)} takes a non-empty list of {', '.join(FORMATS)}, got {list(settings.formats)!r}"
        )
    limits = {
        "dpi": (30, 2400), "top_n": (1, 500), "min_token_length": (1, 100), "phrase_min_count": (1, 10**9),
        "k": (2, 1000), "seeds": (1, 100), "workers": (1, 256), "passes": (1, 10_000), "iterations": (1, 100_000),
        "no_below": (1, 10**9), "keep_n": (1, 10**9), "min_units_per_topic": (1, 10**6), "window": (1, 50),
        "reuse_ngram": (2, 100), "reuse_min_documents": (2, 10**9), "jobs": (0, 1024),
    }
    for name, (low, high) in limits.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            raise AnalysisError(f"{where}: {_label(name, where)} must be between {low} and {high}, got {value}")
    if not -1.0 <= settings.phrase_threshold <= 1.0:
        raise AnalysisError(
            f"{where}: {_label('phrase_threshold', where)} is a normalised PMI and must lie in -1..1, "
            f"got {settings.phrase_threshold}"
        )
    if not 0.0 <= settings.remove_top_share < 0.5:
        raise AnalysisError(f"{where}: {_label('remove_top_share', where)} must lie in [0, 0.5), got {settings.remove_top_share}")
    for name, low in (("no_above", 0.0), ("relevance_lambda", 0.0)):
        value = getattr(settings, name)
        if not (low < value <= 1.0 if name == "no_above" else low <= value <= 1.0):
            raise AnalysisError(f"{where}: {_label(name, where)} must lie in {'(0, 1]' if name == 'no_above' else '[0, 1]'}, got {value}")
    for name in _PRIOR_KEYS:
        value = getattr(settings, name)
        if value not in PRIOR_NAMES:
            try:
                if float(value) <= 0:
                    raise ValueError
            except ValueError:
                raise AnalysisError(
                    f"{where}: {_label(name, where)} must be a positive number or one of {', '.join(PRIOR_NAMES)}, got {value!r}"
                ) from None
    try:
        parse_k_grid(settings.k_grid)
    except ValueError as exc:
        raise AnalysisError(f"{where}: {_label('k_grid', where)}: {exc}") from None
    try:
        "".encode(settings.encoding)
    except LookupError:
        raise AnalysisError(f"{where}: {_label('encoding', where)}: unknown encoding {settings.encoding!r}") from None
    return settings


def settings_from_mapping(raw: Mapping[str, Any], *, base: Path, where: str, start: Settings | None = None) -> Settings:
    """Build settings from a mapping of raw values.

    Parameters
    ----------
    raw : mapping
        Setting names to raw values (TOML values or CLI strings).
    base : Path
        Folder that relative paths are resolved against.
    where : str
        Named in error messages (a file and table, or "command line").
    start : Settings, optional
        Values not in ``raw`` come from here (defaults when omitted).
    """
    known = {f.name for f in fields(Settings)} - {"source"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise AnalysisError(
            f"{where}: unknown setting '{unknown[0]}' (known: {', '.join(sorted(known))})"
        )
    start = start or Settings(corpus=base / "corpus", out=base / "figures")
    changes = {name: _coerce(name, value, base, where) for name, value in raw.items()}
    return _validated(dataclasses.replace(start, source=where, **changes), where)


def find_config(start: Path | None = None) -> Path | None:
    """Return the nearest ``pyproject.toml`` with a ``[tool.analysis]`` table.

    Searches ``start`` (default: the working directory) and its parents.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "analysis" in _read_toml(candidate).get("tool", {}):
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot read config ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise AnalysisError(f"{path}: not valid TOML ({exc})") from None


def load_settings(config: str | Path | None = None, *, start: Path | None = None, **overrides: Any) -> Settings:
    """Load settings the way both the CLI and the notebooks do.

    Parameters
    ----------
    config : path, optional
        A TOML file. When omitted, the nearest ``pyproject.toml`` with a
        ``[tool.analysis]`` table above ``start`` is used; with none found,
        the defaults apply relative to ``start``.
    start : Path, optional
        Where the search for ``pyproject.toml`` begins (default: working directory).
    **overrides
        Settings that win over the file (as the CLI options do). ``None``
        values are ignored.

    Returns
    -------
    Settings
    """
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise AnalysisError(f"{path}: config file not found")
        data = _read_toml(path)
        table = data.get("tool", {}).get("analysis", data.get("analysis", data))
        where = f"{path} [tool.analysis]" if "tool" in data else str(path)
        settings = settings_from_mapping(table, base=path.resolve().parent, where=where)
    else:
        path = find_config(start)
        if path is None:
            base = (start or Path.cwd()).resolve()
            settings = Settings(corpus=base / "corpus", out=base / "figures")
        else:
            table = _read_toml(path)["tool"]["analysis"]
            settings = settings_from_mapping(table, base=path.parent, where=f"{path} [tool.analysis]")
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    return settings_from_mapping(given, base=Path.cwd(), where="command line", start=settings)
