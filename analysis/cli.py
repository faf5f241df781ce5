"""Command line: ``corpus-analysis`` and ``python -m analysis``.

Each command parses its options, loads settings (config file, then options)
and calls the same public functions the notebooks use. Problems a user can
fix print one line ``corpus-analysis: error: ...`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from analysis import __version__, interrupt
from analysis.config import SETTINGS, Settings, load_settings
from analysis.errors import AnalysisError
from analysis.pages import MAX_PAGE_CHARACTERS

if TYPE_CHECKING:
    import pandas as pd

    from analysis.results import Results

PROG = "corpus-analysis"
EXIT_OK, EXIT_STALE, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
TERMS_BY = ("corpus", "doc", "role", "section", "paragraph")
INFO_DOCUMENTS = 30  # info prints a row per document up to this many


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix(PROG).strip()
        raise AnalysisError(f"{command + ': ' if command else ''}{message} (see --help)")


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _number(kind: type, what: str) -> Callable[[str], object]:
    """An argparse type that says what it wanted: ``--k: must be a whole number, got 'x'``."""
    def convert(value: str):
        try:
            return kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {value!r}") from None
    return convert


def _shown(default: object) -> str:
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, tuple):
        return ",".join(default) if default else "none"
    return str(default)


def _add_setting(group, name: str, flag: str | None = None, **changes) -> None:
    """Add the option of setting ``name`` to ``group``, from its declaration (:func:`analysis.config.setting`)."""
    declared = SETTINGS[name]
    meta, default = declared.metadata, declared.default
    shown = "" if default in (None, "") else f" (default {_shown(default)})"
    options = {"dest": name, "help": meta["help"] + shown, "default": None}
    if isinstance(default, bool):
        options["action"] = argparse.BooleanOptionalAction
    else:
        options["metavar"] = meta["metavar"]
        if isinstance(default, tuple):
            options["type"] = _csv_list
        elif isinstance(default, int):
            options["type"] = _number(int, "a whole number")
        elif isinstance(default, float):
            options["type"] = _number(float, "a number")
        elif meta["choices"]:
            options.update(choices=meta["choices"], metavar=None)
    options.update(changes)
    group.add_argument(flag or f"--{name.replace('_', '-')}", **options)


def _setting_options(title: str, family: str, *, skip: Sequence[str] = (),
                     flags: dict[str, str] | None = None) -> tuple[argparse.ArgumentParser, argparse._ArgumentGroup]:
    """A parent parser with one option per setting of ``family`` (``corpus``, ``topics`` ...)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group(title)
    for name, declared in SETTINGS.items():
        if declared.metadata["group"] == family and declared.metadata["cli"] and name not in skip:
            _add_setting(group, name, (flags or {}).get(name))
    return common, group


def _corpus_options() -> argparse.ArgumentParser:
    common, group = _setting_options("corpus and preprocessing (override the config file)", "corpus")
    group.add_argument("--config", metavar="FILE", help="TOML settings file (default: nearest pyproject.toml with [tool.analysis])")
    for name in (*(n for n, f in SETTINGS.items() if f.metadata["group"] == "run"), "excel_safe"):
        _add_setting(group, name)
    return common


def _topic_options(*, select_k: bool) -> argparse.ArgumentParser:
    flags = {"k_grid": "--k", "k": "--chosen-k"} if select_k else {}
    common, group = _setting_options("topic model (override the config file)", "topics", skip=("seed", "seeds"),
                                     flags=flags)
    seeds = group.add_mutually_exclusive_group()
    _add_setting(seeds, "seeds")
    _add_setting(seeds, "seed")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``corpus-analysis``."""
    parser = _Parser(prog=PROG, description="Corpus analytics and topic modelling: figures, tables and summaries of a corpus.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = _corpus_options()

    topic = _topic_options(select_k=False)
    output = _setting_options("output", "output", skip=("excel_safe",))[0]  # every command has it
    reading = _setting_options("close reading (override the config file)", "reading")[0]
    reuse = _setting_options("text reuse (override the config file)", "reuse")[0]
    claims = _setting_options("health claims (override the config file)", "claims")[0]
    grouped = _setting_options("groups (override the config file)", "groups", flags={"group_by": "--by"})[0]
    by_group = _setting_options("groups (override the config file)", "groups", skip=("over",),
                                flags={"group_by": "--by"})[0]
    figures = commands.add_parser("figures", parents=[common, topic, grouped, reading, reuse, claims, output], help="regenerate every figure, its data (CSV) and the manifest",
                                  description="Write each registered figure as PNG/SVG/PDF with its data as CSV and one manifest.json.")
    figures.add_argument("--only", type=_csv_list, metavar="NAME[,NAME]", help="only these figures (see 'list')")
    figures.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 if the output folder is stale (differs from a fresh run)")

    topics = commands.add_parser(
        "topics", parents=[common, topic, output], help="fit LDA topics; write tables, figures and the model",
        description="Fit LDA with several seeds, report the most representative run with stable topic ids and "
                    "write topic_terms.csv, doc_topics.csv, topic_ids.csv, evidence tables, the topic figures "
                    "and the model (JSON + NPZ).")
    topics.add_argument("--html", action="store_true", help="also write topics.html (pyLDAvis, works offline)")
    commands.add_parser(
        "explore", parents=[common, topic, by_group, output], help="write explorer.html: topics, passages, "
                                                                   "concordance and reader in one offline page",
        description="Write explorer.html: one self-contained page (no network, no Jupyter) with the topic map and "
                    "terms at a relevance slider, each topic's label, passages and prevalence by group, a "
                    "concordance search and a document reader. It fits the topics as 'topics' does, with the "
                    "same options. The concordance and the reader embed the corpus's text up to "
                    f"{MAX_PAGE_CHARACTERS:,} characters; above that the page says so and holds the topics only.")
    commands.add_parser(
        "select-k", parents=[common, _topic_options(select_k=True), output], help="compare K values: coherence, perplexity, stability",
        description="Fit every K of the grid with every seed; write the k-selection figure (c_v, NPMI, u_mass, "
                    "held-out perplexity, stability) and the stability figure of the configured K.")

    commands.add_parser(
        "reuse", parents=[common, reuse, output], help="passages and sentences shared between documents",
        description="Find passages shared between documents (word n-gram shingles merged into maximal spans) and "
                    "near-duplicate sentences; write reuse_spans.csv, reuse_occurrences.csv, "
                    "near_duplicate_sentences.csv and the reuse figures.")
    commands.add_parser(
        "claims", parents=[common, claims, output], help="health claims: risks, benefits, hedging, doses, contradictions",
        description="Tag each sentence's risk, benefit and advice claims with their polarity (asserted, negated, "
                    "hedged), hedges and boosters from editable lexicons; extract doses and durations; list "
                    "contradictions (per term and document pair; --contradiction-pairs lists the sentence pairs); write "
                    "claims.csv, contradictions.csv, quantities.csv and the claims figures.")

    kwic = commands.add_parser("kwic", parents=[common], help="keyword in context: every occurrence of a word or phrase",
                               description="Concordance of TERM (a word or a phrase) in the counted blocks, matched on "
                                           "normalised tokens and, by default, lemmas; context from the original text.")
    kwic.add_argument("term", metavar="TERM", help="a word or a phrase, e.g. 'chronic pain'")
    _add_setting(kwic, "window")
    kwic.add_argument("--sort", choices=("doc", "left", "right"), default="doc",
                      help="order: by document, or by the words left or right of the match (default doc)")
    kwic.add_argument("--no-lemmas", dest="lemmas", action="store_false", help="match the word form only")
    kwic.add_argument("--out", metavar="FILE", help="write CSV (doc_id,block,role,position,left,match,right) to FILE")

    colloc = commands.add_parser(
        "collocates", parents=[common], help="words found near a word or phrase more often than chance",
        description="Collocates of TERM within a window: co-occurrence count, PMI, t-score and log-likelihood (G2), "
                    "strongest G2 first.")
    colloc.add_argument("term", metavar="TERM", help="a word or a phrase, e.g. 'withdrawal'")
    _add_setting(colloc, "window")
    colloc.add_argument("--min-count", type=int, default=3, metavar="N",
                        help="leave out collocates seen fewer than N times near TERM (default 3)")
    colloc.add_argument("--top", type=int, default=20, metavar="N", help="rows printed (default 20; --out writes all)")
    colloc.add_argument("--out", metavar="FILE", help="write the whole table as CSV to FILE")

    init = commands.add_parser(
        "init", help="start an analysis project for a corpus: its own settings file and output folder",
        description="Write DIR/pyproject.toml with a [tool.analysis] table for the corpus: run the other commands "
                    "from DIR and they use it, with outputs in DIR/figures. Settings that belong to a corpus "
                    "(focus terms, groups, K, lenses ...) are listed there, commented out, to set once you know "
                    "the corpus. A settings file is never applied to another corpus's figures.")
    init.add_argument("folder", metavar="DIR", help="the project folder (created if needed)")
    init.add_argument("--corpus", required=True, metavar="PATH",
                      help="the corpus: a folder of .txt/.md files or a .csv/.jsonl(.gz)/.parquet file")
    commands.add_parser("list", help="list the figures with a one-line description")
    cache = commands.add_parser("cache", parents=[common], help="show or clear the cache of prepared corpora",
                                description="Show the cache folder and its size, or remove it (it is rebuilt on demand).")
    cache.add_argument("action", choices=("info", "clear"), help="info: where and how big; clear: remove it")
    info = commands.add_parser("info", parents=[common, by_group],
                               help="corpus summary: documents, blocks by role, tokens, types, groups",
                               description=f"Corpus totals, and a row per document for corpora of up to "
                                           f"{INFO_DOCUMENTS} documents (--out writes the table for any corpus).")
    info.add_argument("--out", metavar="FILE", help="write the per-document table as CSV to FILE")

    convert = commands.add_parser(
        "convert", parents=[common], help="write the corpus as one Parquet or JSONL file (for a cluster)",
        description="Write the corpus (any source: a folder, CSV, JSONL, Parquet) as one Parquet or JSON Lines "
                    "file with columns id, text and the metadata columns. A cluster's workers read it in "
                    "partitions, which a CSV (quoted line breaks) or a compressed JSONL does not allow.")
    convert.add_argument("target", metavar="FILE", help="the file to write: .parquet, .jsonl or .jsonl.gz")

    terms = commands.add_parser("terms", parents=[common], help="tidy term table as CSV",
                                description="Term frequencies as CSV. --by doc gives columns doc_id,term,count; "
                                            "--by COLUMN (a metadata column) gives counts and rates per group.")
    terms.add_argument("--by", default="corpus", metavar="GROUPING",
                       help=f"{', '.join(TERMS_BY)}, or a metadata column (column:NAME for one named like "
                            "these; default: corpus)")
    terms.add_argument("--top", type=int, metavar="N", help="only the N most frequent terms (per group)")
    terms.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")

    keyness = commands.add_parser(
        "keyness", parents=[common, by_group], help="terms that distinguish groups of documents (G2, log ratio)",
        description="Each group of --by COLUMN against the rest of the corpus, or --compare A B one group against "
                    "another: Dunning's log-likelihood (G2) with its p-value and Bonferroni significance, and "
                    "Hardie's log ratio as the effect size (+1: twice as frequent in the group).")
    keyness.add_argument("--compare", nargs=2, metavar=("A", "B"), help="group A against group B only")
    keyness.add_argument("--min-count", type=_number(int, "a whole number"), default=5, metavar="N",
                         help="test only terms seen at least N times in the groups compared (default 5)")
    keyness.add_argument("--top", type=_number(int, "a whole number"), default=10, metavar="N",
                         help="keywords printed per group and direction (default 10; --out writes every row)")
    keyness.add_argument("--out", metavar="FILE", help="write the whole table as CSV to FILE")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {name: getattr(args, name, None) for name in SETTINGS if name != "out"}
    if getattr(args, "seed", None) is not None:
        overrides["seeds"] = 1
    if args.command == "terms" and args.by not in TERMS_BY:
        overrides["group_by"] = args.by.removeprefix("column:")
    if args.command in ("figures", "topics", "explore", "select-k", "reuse", "claims"):
        overrides["out"] = args.out  # the other commands' --out is a file, not the output folder
    return load_settings(args.config, **overrides)


def _check_writable(path: Path, option: str) -> None:
    """Fail before any work when ``path`` cannot be created or written (nothing is created here)."""
    existing = next(p for p in (path, *path.parents) if p.exists())
    if existing != path and not existing.is_dir():
        raise AnalysisError(f"{option} {path}: {existing} is not a folder")
    folder = existing if existing.is_dir() else existing.parent
    if not os.access(folder, os.W_OK):
        raise AnalysisError(f"{option} {path}: {folder} is not writable")


_PROJECT = """# corpus-analysis project: the settings of one corpus ('corpus-analysis COMMAND --help' lists them all).
# Run the commands from this folder; paths are relative to it.
[tool.analysis]
corpus = {corpus}
out = "figures"
# Settings that belong to this corpus: set them once you know it.
# focus_terms = ["term", "two words"]   # followed by collocates, dispersion and trends (default: distinctive terms)
# group_by = "folder"                   # a metadata column whose groups are compared (default: sub-folders)
# over = "year"                         # an ordered column (year, date, number) for trends
# k = 6                                 # topics; 'corpus-analysis select-k' compares K values
# extra_stopwords = []                  # corpus-specific stopwords
# lenses = ["health-claims"]            # opt-in analyses for one kind of corpus
"""


def _cmd_init(args: argparse.Namespace) -> int:
    import json

    folder = Path(args.folder)
    corpus = Path(args.corpus).expanduser()
    if not corpus.exists():
        raise AnalysisError(f"--corpus {corpus}: no such file or folder")
    target = folder / "pyproject.toml"
    if target.exists():
        raise AnalysisError(f"{target}: exists already; not overwritten")
    _check_writable(target, "init")
    folder.mkdir(parents=True, exist_ok=True)
    where = corpus if corpus.is_absolute() else Path(os.path.relpath(corpus.resolve(), folder.resolve()))
    target.write_text(_PROJECT.format(corpus=json.dumps(where.as_posix())), encoding="utf-8")
    print(f"wrote {target}: corpus {corpus}, figures in {folder / 'figures'}")
    print(f"next: cd {folder} && {PROG} info && {PROG} figures")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from analysis.figures import REGISTRY

    width = max(len(name) for name in REGISTRY)
    for spec in REGISTRY.values():
        print(f"{spec.name:<{width}}  {spec.description}")
    return EXIT_OK


def _cmd_cache(args: argparse.Namespace) -> int:
    from analysis.prepared import cache_summary, clear_cache

    settings = _settings(args)
    folder = settings.cache_dir if settings.cache_dir is not None else settings.replace(cache=True).cache_folder
    if args.action == "clear":
        freed = clear_cache(folder)
        print(f"{folder}: removed ({freed / 1e6:,.1f} MB)" if freed else f"{folder}: no cache")
        return EXIT_OK
    entries, size = cache_summary(folder)
    print(f"{folder}: {entries} prepared corpora, {size / 1e6:,.1f} MB")
    return EXIT_OK


def _cmd_convert(args: argparse.Namespace) -> int:
    from analysis.export import write_corpus
    from analysis.results import Results

    settings = _settings(args)
    target = Path(args.target)
    corpus = settings.corpus.resolve()
    if target.resolve() == corpus or corpus in target.resolve().parents:
        raise AnalysisError(f"{target}: not inside or over the corpus (corpus/ is read-only)")
    _check_writable(target, "FILE")
    results = Results(settings, progress=_progress)
    written = write_corpus(results.prepared, target)
    columns = len(results.prepared.documents.columns) - 1
    print(f"{target}: {written:,} documents (id, text and {columns} metadata column(s))")
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    from analysis.export import atomic_write_bytes, csv_bytes
    from analysis.results import Results

    settings = _settings(args)
    if args.out:
        _check_writable(Path(args.out), "--out")
    results = Results(settings, progress=_progress)
    summary = results.corpus_summary
    total = summary.iloc[-1]
    print(f"corpus: {settings.corpus}")
    print(f"documents: {results.prepared.n_documents}")
    print(f"blocks: {int(total['blocks'])} ({', '.join(f'{r} {int(total[r])}' for r in summary.columns[2:-3])})")
    print(f"word tokens (counted blocks): {int(total['tokens']):,}")
    print(f"terms after preprocessing: {int(total['terms']):,} tokens, {int(total['types']):,} types")
    print(f"outline bullets counted: {'yes' if settings.include_outline else 'no'}")
    documents = summary.iloc[:-1]
    if args.out:
        atomic_write_bytes(Path(args.out), csv_bytes(summary, formula_safe=settings.excel_safe))
        print(f"wrote the table of {len(documents):,} documents to {args.out}", file=sys.stderr)
    elif len(documents) <= INFO_DOCUMENTS:
        print()
        print(summary.to_string(index=False))
    else:
        tokens = documents["tokens"]
        print(f"word tokens per document: median {tokens.median():,.0f}, min {tokens.min():,}, max {tokens.max():,} "
              f"(the table of all {len(documents):,} documents: --out FILE)")
        ordered = documents.sort_values(["tokens", "doc_id"], ascending=[False, True], kind="stable")
        print("largest: " + ", ".join(f"{d} ({t:,})" for d, t in zip(ordered["doc_id"][:3], ordered["tokens"][:3])))
        print("smallest: " + ", ".join(f"{d} ({t:,})" for d, t in zip(ordered["doc_id"][::-1][:3],
                                                                     ordered["tokens"][::-1][:3])))
    if results.group_column is not None:
        found = results.grouping
        sizes = ", ".join(f"{name} {size:,}" for name, size in zip(found.names[:20], found.sizes[:20].tolist()))
        more = f" ... ({len(found.names)} groups)" if len(found.names) > 20 else ""
        ungrouped = f"; {found.n_ungrouped:,} with no value" if found.n_ungrouped else ""
        print(f"documents by {found.column}: {sizes}{more}{ungrouped}")
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _cmd_terms(args: argparse.Namespace) -> int:
    from analysis.export import atomic_write_bytes, csv_bytes
    from analysis.results import Results

    if args.top is not None and args.top < 1:
        raise AnalysisError(f"--top must be a positive whole number, got {args.top}")
    settings = _settings(args)
    if args.out:
        _check_writable(Path(args.out), "--out")
    results = Results(settings, progress=_progress)
    # The corpus table is kept beside the cached term layer: the terms need not be loaded (nor scipy imported).
    if args.by == "corpus":
        table = results.corpus_terms
    elif args.by in TERMS_BY:
        table = _grouped_terms(results, args.by)
    else:
        from analysis import groups

        table = groups.group_terms(results.group_counts)
    if args.top is not None:
        table = table[table["rank"] <= args.top]
    table = table.drop(columns="rank") if args.by == "doc" else table
    data = csv_bytes(table, formula_safe=settings.excel_safe)
    if args.out:
        atomic_write_bytes(Path(args.out), data)
        print(f"wrote {len(table):,} rows to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _cmd_keyness(args: argparse.Namespace) -> int:
    from analysis import groups
    from analysis.export import atomic_write_bytes, csv_bytes
    from analysis.results import Results

    if args.top < 1 or args.min_count < 1:
        raise AnalysisError("--top and --min-count must be positive whole numbers")
    settings = _settings(args)
    if args.out:
        _check_writable(Path(args.out), "--out")
    results = Results(settings, progress=_progress)
    found = results.grouping
    table = groups.group_keyness(results.group_counts, compare=tuple(args.compare) if args.compare else None,
                                 min_count=args.min_count)
    ungrouped = f"; {found.n_ungrouped:,} documents with no value left out" if found.n_ungrouped else ""
    sizes = ", ".join(f"{name} {size:,}" for name, size in zip(found.names[:12], found.sizes[:12].tolist()))
    more = " ..." if len(found.names) > 12 else ""
    print(f"groups by {found.column}: {len(found.names)} ({sizes}{more}){ungrouped}")
    if args.out:
        atomic_write_bytes(Path(args.out), csv_bytes(table, formula_safe=settings.excel_safe))
        print(f"wrote {len(table):,} rows to {args.out}", file=sys.stderr)
    else:
        shown = ["term", "count", "count_reference", "per_1000_tokens", "per_1000_tokens_reference", "log_ratio",
                 "log_likelihood", "significant"]
        for (group, reference), rows in table.groupby(["group", "reference"], sort=False):
            for direction, verb in (("positive", "more"), ("negative", "less")):
                top = rows[rows["direction"] == direction].head(args.top)
                if len(top):
                    print(f"\n{group} against {reference}: used {verb} (strongest G2 first)")
                    print(top[shown].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _grouped_terms(results: Results, by: str) -> pd.DataFrame:
    """The term counts of ``terms --by`` a grouping finer than the corpus."""
    from analysis import terms

    columns = {"doc": ("document", ["doc_id", "term", "count", "rank"]),
               "role": ("role", ["role", "term", "count", "per_1000_tokens", "rank"]),
               "section": ("section", ["doc_id", "section", "term", "count", "rank"]),
               "paragraph": ("paragraph", ["doc_id", "block", "role", "term", "count", "rank"])}
    grouping, kept = columns[by]
    return terms.term_frequencies(results.terms, grouping)[kept]


def _progress(iterable, description: str):
    from tqdm import tqdm

    units = {"prepare": "doc", "reuse: shingles": "doc", "reuse: passages": "doc", "reuse: similar": "band",
             "claims": "chunk", "topics": "fit", "select": "fit"}
    unit = next((u for start, u in units.items() if description.startswith(start)), "step")
    return tqdm(iterable, desc=description, file=sys.stderr, unit=unit, dynamic_ncols=True, delay=2)


def _check_out(settings: Settings, *, writing: bool = True) -> None:
    out, corpus = settings.out.resolve(), Path(settings.corpus).resolve()
    if out == corpus or corpus in out.parents:
        raise AnalysisError(f"--out {settings.out}: the output folder must not be inside the corpus (corpus/ is read-only)")
    if writing:
        _check_writable(settings.out, "--out")


def _render_progress(name: str) -> None:
    interrupt.check_stop()  # a SIGTERM a finaliser swallowed stops the run at the next figure
    print(f"rendering {name}", file=sys.stderr)


def _cmd_figures(args: argparse.Namespace) -> int:
    from analysis.corpus import Corpus
    from analysis.provenance import outputs_current, run_inputs

    settings = _settings(args)
    _check_out(settings, writing=not args.check)
    corpus = Corpus.from_settings(settings)
    every = _figure_names(settings, corpus)
    names = args.only or every
    inputs = run_inputs(settings, corpus.snapshot[0], every)
    if not args.only and outputs_current(settings.out, inputs):
        print(f"{settings.out}: up to date (the corpus, settings, code and package versions are those of its "
              "manifest, and every file is as recorded); nothing to do")
        return EXIT_OK
    return _render_all(args, settings, names, inputs, corpus)


def _figure_names(settings: Settings, corpus) -> list[str]:
    from analysis.figures import figures_for

    return figures_for(settings, corpus)


def _render_all(args: argparse.Namespace, settings: Settings, names: list[str], inputs: str, corpus) -> int:
    from analysis.export import (MANIFEST, check_figures, model_files, render_figures, table_files, topic_tables,
                                 write_figures)
    from analysis.figures import CLAIM_FIGURES, REUSE_FIGURES, USES_TOPICS, get_spec
    from analysis.results import Results

    for name in names:
        get_spec(name)
    results = Results(settings, progress=_progress, corpus=corpus)
    results.terms  # read the corpus now: its errors come before any progress output

    def extras() -> dict[str, bytes | Path]:
        found: dict[str, bytes | Path] = {}
        how = {"formula_safe": settings.excel_safe, "table_format": settings.table_format, "spool": results.spool}
        if any(name in USES_TOPICS for name in names):
            found.update({**topic_tables(results), **model_files(results)})
        if any(name in REUSE_FIGURES for name in names):
            found.update(table_files(results.reuse_tables(), **how))
        if any(name in CLAIM_FIGURES for name in names):
            found.update(table_files(results.claim_tables(), **how))
        return found

    store = _render_store(settings, inputs)
    files = render_figures(names, results, progress=_render_progress,
                           previous=settings.out / MANIFEST if args.only else None, extras=extras,
                           inputs=inputs, store=store)
    if args.check:
        result = check_figures(files, settings.out, complete=not args.only)
        for line in result.stale:
            print(f"stale: {settings.out / line}")
        if result.uncompared:
            print(f"note: {len(result.uncompared)} image files were made with other package versions and were not "
                  "compared byte for byte (their data CSVs were)")
        print(f"{settings.out}: {'stale' if result.stale else 'up to date'}")
        print(results.timer.summary(), file=sys.stderr)
        return EXIT_STALE if result.stale else EXIT_OK
    changed = write_figures(files, settings.out, prune=not args.only)
    if store is not None:
        _prune_render_stores(store)
    print(f"{settings.out}: {len(files)} files for {len(names)} figures; {len(changed)} written or removed, "
          f"the rest unchanged")
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _render_store(settings: Settings, inputs: str) -> Path | None:
    """Where this run's rendered figures are kept until it completes (None: not kept)."""
    cache = settings.cache_folder
    if cache is None:
        return None
    from analysis.prepared import cache_folder

    return cache_folder(cache) / "renders" / inputs[:24]


def _prune_render_stores(keep: Path) -> None:
    """A finished run's renders are in the output folder now: drop every kept render."""
    import shutil

    for folder in keep.parent.iterdir():
        shutil.rmtree(folder, ignore_errors=True)


def _print_topics(results) -> None:
    import math

    from analysis import topics

    result = results.topics
    summary = topics.topic_summary(result)
    print(result.model.subtitle().replace("\n", " "))
    print(f"reported run: seed {result.model.seed} of {len(result.runs)} (the run most similar to the others)")
    agreement = topics.run_agreement(result)["ami"]
    if len(agreement):
        print(f"the other runs' units agree with it: AMI median {agreement.median():.2f} "
              f"(min {agreement.min():.2f}, max {agreement.max():.2f})")
    for row in summary.itertuples():
        stable = "" if math.isnan(row.stability_median) else f"  stability {row.stability_median:.2f}"
        print(f"  T{row.topic:<2} {row.prevalence:6.1%}{stable}  {row.label}")


def _cmd_explore(args: argparse.Namespace) -> int:
    from analysis.export import EXPLORER_PAGE, MANIFEST, explorer_owned, render_figures, write_figures
    from analysis.pages.explorer import explorer_html
    from analysis.results import Results

    settings = _settings(args)
    _check_out(settings)
    results = Results(settings, progress=_progress)
    results.units  # read the corpus now: its errors come before any progress output

    def page() -> dict[str, bytes]:
        return {EXPLORER_PAGE: explorer_html(results).encode("utf-8")}

    files = render_figures([], results, progress=_render_progress, previous=settings.out / MANIFEST, extras=page,
                           replaces=explorer_owned)
    changed = write_figures(files, settings.out, prune=explorer_owned)
    size = (settings.out / EXPLORER_PAGE).stat().st_size
    print(f"{settings.out / EXPLORER_PAGE}: {size / 1e6:.1f} MB, {'written' if changed else 'unchanged'}; "
          "open it in a browser (it needs no network)")
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _cmd_topics(args: argparse.Namespace) -> int:
    from analysis.export import (HTML_VIEW, MANIFEST, model_files, render_figures, topic_owned, topic_tables,
                                 write_figures)
    from analysis.figures import TOPIC_FIGURES
    from analysis.pages.ldavis import ldavis_html
    from analysis.results import Results

    settings = _settings(args)
    _check_out(settings)
    results = Results(settings, progress=_progress)
    results.units  # read the corpus now: its errors come before any progress output

    def extras() -> dict[str, bytes | Path]:
        found = {**topic_tables(results), **model_files(results)}
        if args.html:
            found[HTML_VIEW] = ldavis_html(results.topics.model, passages=results.evidence[0]).encode("utf-8")
        return found

    names = [name for name in TOPIC_FIGURES if name != "k-selection"]
    files = render_figures(names, results, progress=_render_progress, previous=settings.out / MANIFEST, extras=extras,
                           replaces=topic_owned)
    changed = write_figures(files, settings.out, prune=topic_owned)
    _print_topics(results)
    print(f"{settings.out}: {len(files)} files; {len(changed)} written, the rest unchanged")
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _cmd_select_k(args: argparse.Namespace) -> int:
    from analysis.config import parse_k_grid
    from analysis.export import MANIFEST, render_figures, write_figures
    from analysis.results import Results

    if args.k_grid is not None:
        try:
            parse_k_grid(args.k_grid)
        except ValueError as exc:
            raise AnalysisError(f"select-k --k: {exc}") from None
    if args.k is not None and not 2 <= args.k <= 1000:
        raise AnalysisError(f"select-k --chosen-k must be between 2 and 1000, got {args.k}")
    settings = _settings(args)
    _check_out(settings)
    results = Results(settings, progress=_progress)
    results.units  # read the corpus now: its errors come before any progress output
    files = render_figures(["k-selection", "topic-stability"], results, progress=_render_progress,
                           previous=settings.out / MANIFEST)
    changed = write_figures(files, settings.out)
    table = results.k_selection.groupby(["k", "metric"])["value"].median().unstack("metric")
    print(f"median over {settings.seeds} seeds, K in {settings.k_grid} ({len(parse_k_grid(settings.k_grid))} values):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"{settings.out}: {len(files)} files; {len(changed)} written, the rest unchanged")
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _write_group(settings: Settings, results, names: Sequence[str], tables: Callable[[], dict],
                 owned: Callable[[Path], bool]) -> tuple[int, int]:
    """Render ``names`` with ``tables()`` into ``settings.out``, replacing only the files this command
    owns; return how many files changed and how many the run has."""
    from analysis.export import MANIFEST, render_figures, table_files, write_figures

    files = render_figures(names, results, progress=_render_progress, previous=settings.out / MANIFEST,
                           extras=lambda: table_files(tables(), formula_safe=settings.excel_safe,
                                                      table_format=settings.table_format, spool=results.spool),
                           replaces=owned)
    return len(write_figures(files, settings.out, prune=owned)), len(files)


def _cmd_reuse(args: argparse.Namespace) -> int:
    from analysis.export import reuse_owned
    from analysis.figures import REUSE_FIGURES
    from analysis.results import Results

    settings = _settings(args)
    _check_out(settings)
    results = Results(settings, progress=_progress)
    found = results.reuse  # read the corpus now: its errors come before any progress output
    changed, written = _write_group(settings, results, REUSE_FIGURES, results.reuse_tables, reuse_owned)
    print(f"{found.n_spans:,} passages of {settings.reuse_ngram}+ words shared by "
          f"{settings.reuse_min_documents}+ documents; {found.n_pairs:,} near-duplicate "
          "sentence pairs")
    shares = found.reused_share
    if len(shares) <= INFO_DOCUMENTS:
        for row in shares.itertuples():
            print(f"  {row.doc_id}: {row.share:6.1%} of {row.words:,} words reused")
    else:
        reusing = int((shares["share"] > 0).sum())
        print(f"  {reusing:,} of {len(shares):,} documents reuse words; share of words reused per document: "
              f"median {shares['share'].median():.1%}, max {shares['share'].max():.1%} (every document: "
              f"reused-share.csv)")
    for row in found.spans.head(5).itertuples():
        print(f"  [{row.n_documents} docs, {row.n_words} words] {textwrap.shorten(row.text, 100, placeholder=' ...')}")
    print(f"{settings.out}: {written} files; {changed} written, the rest unchanged")
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _cmd_claims(args: argparse.Namespace) -> int:
    from analysis.export import claims_owned
    from analysis.figures import CLAIM_FIGURES
    from analysis.results import Results

    settings = _settings(args)
    _check_out(settings)
    results = Results(settings, progress=_progress)
    tables = results.claim_tables()  # reads the corpus and lexicons: their errors come first
    changed, written = _write_group(settings, results, CLAIM_FIGURES, lambda: tables, claims_owned)
    counts, contradictions, quantities = (tables["claims"].counts, tables["contradictions"], tables["quantities"])
    print("health-claims lens: risk, benefit and advice claims about a health intervention, with hedges and "
          "doses, from lexicons made for health web articles" + ("" if "health-claims" in settings.lenses else
                                                               " (not among this project's lenses: run on request)"))
    mentions = tables["claims"].n_claims
    print(f"{mentions:,} tagged mentions in {counts['doc_id'].nunique():,} of "
          f"{len(tables['claims'].words):,} documents" + (":" if mentions else ""))
    if mentions:
        print(counts.groupby(["category", "polarity"])["count"].sum().unstack(fill_value=0).to_string())
    print(f"{contradictions['pairs'].sum():,} contradicting statement pairs in {len(contradictions):,} term and "
          f"document pairs; {len(quantities):,} dose and quantity mentions")
    print(f"{settings.out}: {written} files; {changed} written, the rest unchanged")
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _write_or_print(table, out: str | None, printed: str, settings: Settings) -> None:
    from analysis.export import atomic_write_bytes, csv_bytes

    if out:
        atomic_write_bytes(Path(out), csv_bytes(table, formula_safe=settings.excel_safe))
    else:
        print(printed)


def _cmd_kwic(args: argparse.Namespace) -> int:
    from analysis.concordance import format_kwic, kwic
    from analysis.results import Results

    settings = _settings(args)
    if args.out:
        _check_writable(Path(args.out), "--out")
    results = Results(settings, progress=_progress)
    with results.timer.stage("kwic"):
        table = kwic(results.prepared, args.term, results.preprocessor, window=settings.window, sort=args.sort, lemmas=args.lemmas)
    _write_or_print(table, args.out, format_kwic(table), settings)
    print(f"{len(table):,} matches of {args.term!r} in {table['doc_id'].nunique():,} documents", file=sys.stderr)
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


def _cmd_collocates(args: argparse.Namespace) -> int:
    from analysis.concordance import collocates
    from analysis.results import Results

    settings = _settings(args)
    if args.min_count < 1 or args.top < 1:
        raise AnalysisError("--min-count and --top must be 1 or more")
    if args.out:
        _check_writable(Path(args.out), "--out")
    results = Results(settings, progress=_progress)
    with results.timer.stage("collocates"):
        table = collocates(results.prepared, args.term, results.preprocessor, window=settings.window, min_count=args.min_count)
    _write_or_print(table, args.out, table.head(args.top).to_string(
        index=False, float_format=lambda v: f"{v:.2f}") if len(table) else "", settings)
    print(f"{args.term!r}: {table.attrs['node_count']:,} occurrences; {len(table):,} collocates seen at least "
          f"{args.min_count} times within \u00b1{settings.window} words", file=sys.stderr)
    print(results.timer.summary(), file=sys.stderr)
    return EXIT_OK


COMMANDS = {"figures": _cmd_figures, "reuse": _cmd_reuse, "claims": _cmd_claims, "kwic": _cmd_kwic,
            "collocates": _cmd_collocates, "topics": _cmd_topics, "explore": _cmd_explore, "select-k": _cmd_select_k, "list": _cmd_list,
            "info": _cmd_info, "convert": _cmd_convert, "terms": _cmd_terms, "keyness": _cmd_keyness, "cache": _cmd_cache, "init": _cmd_init}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    in_main_thread = threading.current_thread() is threading.main_thread()
    interrupt.reset()
    previous = signal.signal(signal.SIGTERM, interrupt.request_stop) if in_main_thread else None
    unraisable, sys.unraisablehook = sys.unraisablehook, interrupt.quiet_unraisable(sys.unraisablehook)
    try:
        with warnings.catch_warnings():  # restores showwarning; each run reports its warnings afresh
            warnings.showwarning = _show_warning
            return _run(parser, argv)
    finally:
        sys.unraisablehook = unraisable
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except AnalysisError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except interrupt.Terminated:
        print(f"\n{PROG}: terminated; nothing partial was written", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted; nothing partial was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # unreadable corpus file, unwritable output folder, disk full ...
        where = exc.filename if exc.filename is not None else "file system"
        print(f"{PROG}: error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
