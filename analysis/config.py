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
import re
import textwrap
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from analysis.errors import AnalysisError

FORMATS = ("png", "svg", "pdf")
LENSES = ("health-claims",)
PRIOR_NAMES = ("symmetric", "asymmetric", "auto")


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def setting(default: Any, help: str, *, group: str, doc: str = "", metavar: str | None = None,
            choices: tuple[str, ...] | None = None, bounds: tuple[float, float] | None = None, cli: bool = True,
            corpus_specific: bool = False):
    """Declare one setting: its default, a one-line ``help`` (the CLI's), longer ``doc``, and its checks.

    The type is the field's annotation. ``group`` names the family of options
    the CLI shows it under (``corpus``, ``run``, ``topics``, ``reading``,
    ``reuse``, ``claims``, ``output``); ``choices`` and ``bounds`` (inclusive)
    are checked by :func:`settings_from_mapping` and by the CLI; ``cli=False``
    keeps a setting out of the command line (it is set in the config file). ``corpus_specific`` settings
    (focus terms, lenses, the output folder ...) belong to the corpus of the file that sets them and are
    not applied to another corpus (see :func:`load_settings`).
    """
    return field(default=default, metadata={"help": help, "doc": doc, "group": group, "metavar": metavar,
                                             "choices": choices, "bounds": bounds, "cli": cli,
                                             "corpus_specific": corpus_specific})


@dataclass(frozen=True)
class Settings:
    """Every setting of an analysis run, with its default (see :data:`SETTINGS` and the generated list below)."""

    # -- the corpus and how it is read
    corpus: Path = setting(Path("corpus"), "folder of .txt/.md files, or a .csv/.jsonl(.gz)/.parquet file",
                           group="corpus", metavar="PATH")
    text_column: str = setting("text", "text column of a CSV/JSONL/Parquet corpus", group="corpus", metavar="NAME")
    id_column: str = setting("id", "id column of a CSV/JSONL/Parquet corpus", group="corpus", metavar="NAME",
                             doc="When the column is missing, ids are row numbers.")
    encoding: str = setting("utf-8", "text encoding of the corpus files, or auto to detect it file by file",
                            group="corpus",
                            doc="Strict decoding; a byte order mark decides between UTF-8, UTF-16 and UTF-32. "
                                "``auto`` reads each file of a folder corpus as UTF-8 when it is valid UTF-8, "
                                "else with charset-normalizer's guess for that file; the manifest records every "
                                "file read otherwise than as UTF-8.")
    skip_undecodable: bool = setting(False, "leave out, with a warning, files that cannot be decoded",
                                     group="corpus", doc="Otherwise one error names every such file.")
    max_file_mb: float = setting(256.0, "text files of a folder corpus above this size (MB) are left out, "
                                        "with a warning, unread", group="corpus", metavar="MB", bounds=(0.001, 10**6),
                                 doc="A single text file this large is rarely one document (a log, a dump, a whole "
                                     "archive saved as text). A JSONL line longer than this is an error: memory "
                                     "never holds more than one such line.")
    max_decompressed_gb: float = setting(50.0, "a .jsonl.gz corpus that decompresses to more than this (GB) is "
                                               "refused", group="corpus", metavar="GB", bounds=(0.001, 10**6),
                                         doc="A guard against decompression bombs; split a larger corpus into "
                                             "several files, or raise the limit.")
    metadata: Path | None = setting(None, "metadata table (CSV) joined on the document id", group="corpus",
                                    metavar="CSV", doc="None uses ``<corpus>/metadata.csv`` when the corpus is a "
                                    "folder that has one.", corpus_specific=True)
    # -- preprocessing
    include_outline: bool = setting(False, "count outline bullets", group="corpus",
                                    doc="Outline bullets repeat the section headings verbatim; off by default so "
                                        "headings are counted once.")
    language: str = setting("en", "ISO 639-1 code of the corpus language: its stopwords, lemmas and keyness "
                                  "reference", group="corpus",
                            metavar="CODE")
    stopwords: str = setting("auto", "the maintained stopword list removed from term counts", group="corpus",
                             choices=("auto", "gensim", "iso", "none"),
                             doc="``auto``: gensim's English list for ``language`` en, stopwords-iso's list for "
                                 "any other language (58 languages, shipped in a package); ``iso``: "
                                 "stopwords-iso's list for any language.")
    extra_stopwords: tuple[str, ...] = setting((), "corpus-specific stopwords, removed after the maintained list",
                                               group="corpus", metavar="W1,W2", corpus_specific=True)
    keep_words: tuple[str, ...] = setting((), "words taken out of the stopword list (kept in counts)",
                                          group="corpus", metavar="W1,W2", corpus_specific=True)
    min_token_length: int = setting(2, "tokens shorter than this many characters are dropped", group="corpus",
                                    metavar="N", bounds=(1, 100))
    drop_numbers: bool = setting(True, "drop tokens made only of digits", group="corpus",
                                 doc="``12`` and ``2`` are dropped; ``kr8tom`` stays.")
    lemmatize: bool = setting(False, "count dictionary lemmas (simplemma) instead of word forms", group="corpus")
    phrases: bool = setting(True, "join frequent collocations into multiword terms such as 'chronic pain'",
                            group="corpus", doc="Learned with gensim ``Phrases``' npmi scorer.")
    phrase_min_count: int = setting(5, "minimum corpus count of a pair to become a phrase", group="corpus",
                                    metavar="N", bounds=(1, 10**9))
    phrase_threshold: float = setting(0.6, "normalised PMI threshold (-1..1) of a phrase", group="corpus",
                                      metavar="F")
    mask_reuse: bool = setting(False, "leave passages reused across documents out of term counts and topics",
                               group="corpus", doc="The waterfall reports how many words that removed. "
                               "Concordances and the reuse and claims analyses always read the full text.")
    # -- how a run is carried out (left out of manifests)
    jobs: int = setting(0, "worker processes (0: every core); results do not depend on it", group="run",
                        metavar="N", bounds=(0, 1024),
                        doc="They prepare the corpus, tag claims, fit topic runs and draw figures.")
    cache: bool = setting(True, "reuse the prepared corpus while the corpus and settings are unchanged", group="run",
                          doc="Kept in ``cache_dir``; any change of corpus bytes or of a setting that made it "
                              "makes a new one.")
    cache_dir: Path | None = setting(None, "cache folder", group="run", metavar="DIR",
                                     doc="None: ``.corpus-analysis-cache`` beside the output folder (it holds a "
                                         "``.gitignore``, so git ignores it).")
    executor: str = setting("local", "where the map steps run: this machine's cores, or a Dask cluster", group="run",
                            choices=("local", "dask"),
                            doc="Results do not depend on it. ``dask`` needs the ``dask`` extra "
                                "(``pip install 'corpus-analysis[dask]'``) and, without a ``scheduler``, starts a "
                                "``LocalCluster`` of ``jobs`` workers.")
    scheduler: str = setting("", "the Dask scheduler: local:N, tcp://host:8786, or slurm:N/pbs:N/sge:N/lsf:N; "
                                 "implies --executor dask", group="run", metavar="ADDRESS",
                             doc="``local:N`` starts a ``LocalCluster`` of N single-threaded worker processes; "
                                 "``tcp://...`` connects to a running scheduler; ``slurm:N`` (``pbs``, ``sge``, "
                                 "``lsf``) submits N jobs of a ``dask-jobqueue`` cluster configured in dask's "
                                 "``jobqueue.yaml``. Workers must see the corpus at the same path and run the same "
                                 "package versions (checked on connecting).")
    # -- topic model
    seed: int = setting(0, "seed of every randomised step; --seed S alone fits one topic run with seed S", group="topics",
                        metavar="S", bounds=(0, 2**32 - 1),
                        doc="Recorded in every manifest. With ``seeds`` > 1, topic runs use seeds ``seed, seed + 1, "
                            "...``.")
    unit: str = setting("auto", "what LDA treats as a document", group="topics",
                        choices=("auto", "document", "section", "paragraph"),
                        doc="``auto`` fits on documents when there are at least ``min_units_per_topic`` of them per "
                            "topic, and on paragraphs otherwise (the five seed articles are far too few for LDA). "
                            "Results are always also rolled up to documents.")
    min_units_per_topic: int = setting(10, "the fewest units per topic 'auto' accepts before falling back to "
                                           "paragraphs", group="topics", metavar="N", bounds=(1, 10**6))
    k: int = setting(6, "number of topics", group="topics", metavar="K", bounds=(2, 1000), corpus_specific=True)
    seeds: int = setting(5, "topic runs with seeds seed..seed+N-1; the medoid run is reported", group="topics",
                         metavar="N", bounds=(1, 100),
                         doc="Fitted by ``topics`` and per K by ``select-k``; topic stability is measured across "
                             "all of them.")
    k_selection_units: int = setting(2000, "units (a seeded random sample) the K x seed grid of select-k fits on; "
                                           "0: all", group="topics", metavar="N", bounds=(0, 10**9),
                                     doc="The grid is K values x seeds fits: on 20 Newsgroups (18,846 documents) it "
                                         "would take about 40 fits of a minute each. Smaller corpora use every unit.")
    k_grid: str = setting("2..10", "the K values select-k compares: 2..12 or 4,6,8", group="topics", metavar="GRID")
    engine: str = setting("tomotopy", "LDA engine", group="topics", choices=("tomotopy", "gensim", "online"),
                          doc="``tomotopy``: collapsed Gibbs sampling; on 20 Newsgroups it recovers the newsgroups "
                              "far better than gensim (see the README's benchmark). ``gensim``: online variational "
                              "Bayes (``LdaModel``, one process). ``online``: the same model streamed in chunks of "
                              "``online_chunk_units`` units, its E-steps on the run's workers or cluster (memory "
                              "does not grow with the units). All reproduce a run from its seed.")
    tomotopy_max_tokens: int = setting(50_000_000, "above this many tokens in the topic model's units, tomotopy "
                                                   "gives way to the online engine; 0: never", group="topics",
                                       metavar="N", bounds=(0, 10**12),
                                       doc="tomotopy keeps its own copy of every token; the README gives the "
                                           "memory measured per token.")
    online_chunk_units: int = setting(2_000, "units per chunk of the online engine (four chunks make one update)",
                                      group="topics", metavar="N", bounds=(1, 10**7))
    workers: int = setting(1, "tomotopy threads (only 1 reproduces a run exactly)", group="topics", metavar="N",
                           bounds=(1, 256))
    passes: int = setting(20, "gensim passes over the corpus", group="topics", metavar="N", bounds=(1, 10_000),
                          doc="Not used by tomotopy.")
    iterations: int = setting(1000, "tomotopy Gibbs sweeps / gensim inference iterations per unit", group="topics",
                              metavar="N", bounds=(1, 100_000),
                              doc="Chosen from the traces of 20 Newsgroups fits (README, \"How much the seed "
                                  "matters\"): at 500 sweeps some chains were still leaving an optimum that merges "
                                  "two classes, at 1,000 all but one of 12 had.")
    starts: int = setting(3, "tomotopy chains started per fit; the most likely after start_sweeps goes on",
                          group="topics", metavar="N", bounds=(1, 100),
                          doc="A chain can settle early in an optimum that merges two topics and not leave it: on "
                              "20 Newsgroups such chains were among the least likely after 50 sweeps (README, "
                              "\"How much the seed matters\"). 1: one chain, seeded ``seed``. Not used by the "
                              "gensim and online engines.")
    start_sweeps: int = setting(50, "sweeps each start is trained before the most likely is kept",
                                group="topics", metavar="N", bounds=(1, 100_000))
    alpha: str = setting("auto", "topic prior: a number, symmetric, asymmetric or auto", group="topics",
                         metavar="A", doc="``auto`` is learned (gensim) or tomotopy's default with hyperparameter "
                                          "optimisation.")
    eta: str = setting("auto", "term prior: a number, symmetric or auto", group="topics", metavar="E")
    no_below: int = setting(3, "drop terms in fewer than N units", group="topics", metavar="N", bounds=(1, 10**9))
    no_above: float = setting(0.5, "drop terms in more than this share of units", group="topics", metavar="F")
    keep_n: int = setting(100_000, "then keep at most N most frequent terms", group="topics", metavar="N",
                          bounds=(1, 10**9))
    remove_top_share: float = setting(0.0005, "then drop this share of the vocabulary, most frequent first",
                                      group="topics", metavar="F",
                                      doc="As tomotopy's and MALLET's ``rm_top``: 0.0005 drops 18 of the 36,537 terms "
                                          "of 20 Newsgroups (``writes``, ``article``, ``people`` ...) and none of the "
                                          "seed corpus's 243.")
    relevance_lambda: float = setting(0.6, "lambda of the relevance that ranks and labels topic terms",
                                      group="topics", metavar="F",
                                      doc="Sievert and Shirley (2014): 1 ranks by probability in the topic, 0 by "
                                          "lift.")
    topic_labels: Path = setting(Path("topic-labels.csv"), "CSV of topic labels (topic, label, automatic) that "
                                                           "replace the automatic ones where given",
                                 group="topics", metavar="CSV", corpus_specific=True,
                                 doc="Used when the file exists; the topic browser (:func:`analysis.explore."
                                     "topic_browser`) writes it. A row applies only while its topic still has the "
                                     "automatic label it was written for.")
    # -- groups
    group_by: str | None = setting(None, "metadata column whose values group the documents for comparisons",
                                   group="groups", metavar="COLUMN",
                                   doc="Any column of a CSV/JSONL/Parquet corpus or of ``metadata.csv``, or "
                                       "``folder`` (the sub-folder of a folder corpus). None: ``folder`` when "
                                       "the documents of a folder corpus sit in two or more sub-folders, else no "
                                       "grouping.", corpus_specific=True)
    over: str | None = setting(None, "ordered metadata column (a year, a date, a number) for trends of terms and "
                                     "topics", group="groups", metavar="COLUMN",
                               doc="Numbers are their own periods up to 40 distinct values, else 20 equal ranges; "
                                   "ISO dates are days, months or years, whichever gives at most 40 periods.", corpus_specific=True)
    # -- close reading
    top_n: int = setting(20, "terms shown in ranked figures", group="reading", metavar="N", bounds=(1, 500))
    focus_terms: tuple[str, ...] = setting((), "words or phrases the close-reading figures follow", group="reading",
                                           metavar="T1,T2", doc="Collocates of the first three, dispersion of all. "
                                           "Empty: the corpus's six most frequent terms.", corpus_specific=True)
    window: int = setting(5, "words on each side counted as context by collocates and KWIC", group="reading",
                          metavar="N", bounds=(1, 50))
    # -- text reuse
    reuse_ngram: int = setting(8, "shortest shared passage, in words", group="reuse", metavar="N", bounds=(2, 100),
                               doc="Word n-gram shingles of this length shared by documents are merged into "
                                   "passages.")
    reuse_min_documents: int = setting(2, "documents a passage must occur in to count as reused", group="reuse",
                                       metavar="N", bounds=(2, 10**9),
                                       doc="Raise it to keep only boilerplate common to many documents.")
    # -- health claims
    lenses: tuple[str, ...] = setting((), "opt-in analyses for one kind of corpus: health-claims", group="claims",
                                      metavar="L1,L2", choices=LENSES, corpus_specific=True,
                                      doc="``health-claims`` tags risk, benefit and advice claims, hedges and doses "
                                          "(the claim figures and tables); it is made for health web articles and "
                                          "reads other text as if it were one.")
    lexicons: Path | None = setting(None, "folder of lexicon files (hedges.txt, risk.txt ...) replacing the shipped "
                                          "ones", group="claims", metavar="DIR",
                                    doc="None uses the shipped lexicons (``analysis/data/lexicons``).", corpus_specific=True)
    contradiction_pairs: bool = setting(False, "also write every pair of contradicting sentences "
                                               "(contradiction_pairs.csv)", group="claims",
                                        doc="``contradictions.csv`` counts them per term and pair of documents.")
    # -- output
    out: Path = setting(Path("figures"), "output folder", group="output", metavar="DIR", corpus_specific=True)
    formats: tuple[str, ...] = setting(FORMATS, "figure formats", group="output", metavar="png,svg,pdf",
                                       choices=FORMATS)
    dpi: int = setting(300, "PNG resolution", group="output", metavar="N", bounds=(30, 2400))
    excel_safe: bool = setting(False, "prefix CSV cells that start with = + - @ with ' so that spreadsheets do not "
                                      "run them as formulas", group="output",
                               doc="Corpus text, terms and ids become CSV cells; opened in Excel, LibreOffice or "
                                   "Google Sheets, a cell such as ``=HYPERLINK(...)`` or ``@SUM(...)`` runs as a "
                                   "formula (CSV injection). Text cells only; numbers stay numbers. Off by default, "
                                   "because the prefix changes the text that other programs read.")
    table_format: str = setting("csv", "format of the tables that grow with the corpus (claims, doc_topics, "
                                       "unit_topics, reuse_spans, reuse_occurrences, near_duplicate_sentences)",
                                group="output", choices=("csv", "parquet"),
                                doc="``csv``: one file each, written a part or 100,000 rows at a time. ``parquet``: "
                                    "Parquet parts, ``claims-00000.parquet`` ... in order (claims and topic tables: "
                                    "the parts the workers wrote, a chunk of documents each; reuse tables: 100,000 "
                                    "rows each), for corpora whose tables outgrow a spreadsheet; read them with "
                                    "``dask.dataframe.read_parquet('claims-*.parquet')`` or ``pyarrow.dataset``.")
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
SETTINGS = {f.name: f for f in fields(Settings) if f.name != "source"}
"""Every setting's declaration (a dataclass field; see :func:`setting`), by name."""
# How a run is carried out, not what it computes: left out of manifests.
RUN_SETTINGS = tuple(name for name, f in SETTINGS.items() if f.metadata["group"] == "run")
_TYPES = typing.get_type_hints(Settings)
PATH_SETTINGS = tuple(name for name in SETTINGS if "Path" in str(_TYPES[name]))
"""The settings that are paths (resolved against the config file's folder)."""
_OPTIONAL_KEYS = {name for name in SETTINGS if SETTINGS[name].default is None}
_LIST_KEYS = {name for name in SETTINGS if typing.get_origin(_TYPES[name]) is tuple}
_BOUNDS = {name: f.metadata["bounds"] for name, f in SETTINGS.items() if f.metadata["bounds"]}


def _type_name(name: str) -> str:
    choices = SETTINGS[name].metadata["choices"]
    if name in _LIST_KEYS:
        return "list of str" + (f" among {', '.join(choices)}" if choices else "")
    if choices:
        return "{" + ", ".join(repr(c) for c in choices) + "}"
    if name in PATH_SETTINGS:
        return "path or None" if name in _OPTIONAL_KEYS else "path"
    return "str or None" if name in _OPTIONAL_KEYS else _TYPES[name].__name__


def _settings_doc() -> str:
    """The numpydoc of :class:`Settings`, written from the declarations."""
    lines = ["Every setting of an analysis run, with its default (declared once, with :func:`setting`).", "",
             "Parameters", "----------"]
    for name, declared in SETTINGS.items():
        default = declared.default
        shown = str(default) if isinstance(default, Path) else list(default) if isinstance(default, tuple) else default
        lines.append(f"{name} : {_type_name(name)}, default {shown!r}")
        text = declared.metadata["help"][0].upper() + declared.metadata["help"][1:] + "."
        lines.extend(textwrap.wrap(" ".join(filter(None, (text, declared.metadata["doc"]))), 76,
                                   initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines) + "\n"


Settings.__doc__ = _settings_doc()
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
    if name in PATH_SETTINGS:
        if value is None or value == "":
            return None if name in _OPTIONAL_KEYS else default
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
    return None if name in _OPTIONAL_KEYS and not value.strip() else value


SCHEDULER_FORMS = "local:N, tcp://host:port, or slurm:N / pbs:N / sge:N / lsf:N"
_SCHEDULER = re.compile(r"^(?:local:(?P<local>\d+)|(?P<kind>slurm|pbs|sge|lsf):(?P<jobs>\d+)"
                        r"|(?P<address>(?:tcp|tls|ucx|inproc)://\S+))$")


def parse_scheduler(value: str) -> dict[str, str | int]:
    """The ``scheduler`` setting read: ``{"local": N}``, ``{"kind": "slurm", "jobs": N}`` or
    ``{"address": "tcp://..."}`` (see :mod:`analysis.executor`).

    Raises
    ------
    ValueError
        For any other form.
    """
    found = _SCHEDULER.match(value.strip())
    if not found or (found["local"] is not None and int(found["local"]) < 1) or \
            (found["jobs"] is not None and int(found["jobs"]) < 1):
        raise ValueError(f"expected {SCHEDULER_FORMS}, got {value!r}")
    if found["local"] is not None:
        return {"local": int(found["local"])}
    if found["kind"] is not None:
        return {"kind": found["kind"], "jobs": int(found["jobs"])}
    return {"address": found["address"]}


def _validated(settings: Settings, where: str) -> Settings:
    """Check ranges and choices; raise one clear error for the first problem."""
    for name, declared in SETTINGS.items():
        choices = declared.metadata["choices"]
        if choices and name not in _LIST_KEYS and getattr(settings, name) not in choices:
            raise AnalysisError(
                f"{where}: {_label(name, where)} must be one of {', '.join(choices)}, "
                f"got {getattr(settings, name)!r}"
            )
    for name in _LIST_KEYS:
        choices = SETTINGS[name].metadata["choices"]
        unknown = [v for v in getattr(settings, name) if choices and v not in choices]
        if unknown and name != "formats":
            raise AnalysisError(f"{where}: {_label(name, where)}: unknown value {unknown[0]!r} "
                                f"(known: {', '.join(choices)})")
    bad = [f for f in settings.formats if f not in FORMATS]
    if bad or not settings.formats:
        raise AnalysisError(
            f"{where}: {_label('formats', where)} takes a non-empty list of {', '.join(FORMATS)}, got {list(settings.formats)!r}"
        )
    for name, (low, high) in _BOUNDS.items():
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
    if settings.eta == "asymmetric":  # gensim refuses it for eta, tomotopy has no term prior per topic
        raise AnalysisError(f"{where}: {_label('eta', where)}: 'asymmetric' is a topic prior (alpha); the term prior "
                            "takes a positive number, symmetric or auto")
    if settings.scheduler:
        try:
            parse_scheduler(settings.scheduler)
        except ValueError as exc:
            raise AnalysisError(f"{where}: {_label('scheduler', where)}: {exc}") from None
    try:
        parse_k_grid(settings.k_grid)
    except ValueError as exc:
        raise AnalysisError(f"{where}: {_label('k_grid', where)}: {exc}") from None
    try:
        "".encode("utf-8" if settings.encoding == "auto" else settings.encoding)
    except LookupError:
        raise AnalysisError(f"{where}: {_label('encoding', where)}: unknown encoding {settings.encoding!r}") from None
    return settings


def project_defaults(base: Path) -> Settings:
    """The default settings of a project in ``base``: its corpus, output and labels file in that folder."""
    return Settings(corpus=base / "corpus", out=base / "figures", topic_labels=base / "topic-labels.csv")


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
    start = start or project_defaults(base)
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
        names_corpus = "corpus" in table
    else:
        path = find_config(start)
        if path is None:
            base = (start or Path.cwd()).resolve()
            settings = project_defaults(base)
        else:
            table = _read_toml(path)["tool"]["analysis"]
            settings = settings_from_mapping(table, base=path.parent, where=f"{path} [tool.analysis]")
        names_corpus = path is not None and "corpus" in table
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    if names_corpus and "corpus" in given:
        settings = _for_another_corpus(settings, Path(given["corpus"]), given)
    return settings_from_mapping(given, base=Path.cwd(), where="command line", start=settings)


CORPUS_SPECIFIC = tuple(name for name, f in SETTINGS.items() if f.metadata["corpus_specific"])
"""Settings that belong to the corpus of the file that sets them (:func:`load_settings`)."""


class SettingsWarning(UserWarning):
    """A setting of the config file was not applied."""


def _for_another_corpus(settings: Settings, corpus: Path, given: Mapping[str, Any]) -> Settings:
    """``settings`` read from a file, for ``corpus``: when that is not the file's corpus, the
    file's corpus-specific settings (:data:`CORPUS_SPECIFIC`) not given on the command line go
    back to their defaults, the output folder to ``<corpus name>-figures`` and the topic labels to
    ``<corpus name>-topic-labels.csv`` in the working directory, and a warning says so."""
    import warnings

    if corpus.expanduser().resolve() == settings.corpus.resolve():
        return settings
    defaults = Settings()
    name = corpus.name.split(".")[0] or "corpus"
    reset = {key: defaults.__getattribute__(key) for key in CORPUS_SPECIFIC
             if key not in given and getattr(settings, key) != getattr(defaults, key)}
    if "out" not in given:
        reset["out"] = Path.cwd() / f"{name}-figures"
    if "topic_labels" not in given:  # the project's labels name its own topics
        reset["topic_labels"] = Path.cwd() / f"{name}-topic-labels.csv"
    if reset:
        dropped = [key for key in reset if key not in ("out", "topic_labels")]
        warnings.warn(f"{corpus} is not the corpus of {settings.source}: "
                      + (f"its settings for that corpus ({', '.join(dropped)}) are not applied; " if dropped else "")
                      + (f"output goes to {reset['out']}; " if "out" in reset else "")
                      + "'corpus-analysis init DIR' starts a project with settings of its own", SettingsWarning,
                      stacklevel=3)
    return dataclasses.replace(settings, **reset)
