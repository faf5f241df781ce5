"""Command line: ``corpus-analysis`` and ``python -m analysis``.

Each command parses its options, loads settings (config file, then options)
and calls the same public functions the notebooks use. Problems a user can
fix print one line ``corpus-analysis: error: ...`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Sequence

from analysis import __version__
from analysis.config import FORMATS, Settings, load_settings
from analysis.errors import AnalysisError

PROG = "corpus-analysis"
EXIT_OK, EXIT_STALE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
TERMS_BY = ("corpus", "doc", "role", "section", "paragraph")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix(PROG).strip()
        raise AnalysisError(f"{command + ': ' if command else ''}{message} (see --help)")


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _corpus_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("corpus and preprocessing (override the config file)")
    group.add_argument("--config", metavar="FILE", help="TOML settings file (default: nearest pyproject.toml with [tool.analysis])")
    group.add_argument("--corpus", metavar="PATH", help="folder of .txt/.md files, or a .csv/.jsonl/.parquet file")
    group.add_argument("--encoding", help="text encoding of the corpus files (default utf-8, strict)")
    group.add_argument("--text-column", metavar="NAME", help="text column of a CSV/JSONL/Parquet corpus")
    group.add_argument("--id-column", metavar="NAME", help="id column of a CSV/JSONL/Parquet corpus")
    group.add_argument("--metadata", metavar="CSV", help="metadata table joined on the document id")
    group.add_argument("--include-outline", action=argparse.BooleanOptionalAction, default=None,
                       help="count outline bullets (they repeat the headings; default: not counted)")
    group.add_argument("--phrases", action=argparse.BooleanOptionalAction, default=None,
                       help="join multiword terms such as 'chronic pain' (default: on)")
    group.add_argument("--lemmatize", action=argparse.BooleanOptionalAction, default=None,
                       help="count dictionary lemmas instead of word forms (default: off)")
    group.add_argument("--extra-stopwords", type=_csv_list, metavar="W1,W2", help="corpus-specific stopwords")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``corpus-analysis``."""
    parser = _Parser(prog=PROG, description="Corpus analytics and topic modelling: figures, tables and summaries of a corpus.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = _corpus_options()

    figures = commands.add_parser("figures", parents=[common], help="regenerate every figure, its data (CSV) and the manifest",
                                  description="Write each registered figure as PNG/SVG/PDF with its data as CSV and one manifest.json.")
    figures.add_argument("--out", metavar="DIR", help="output folder (default: figures/)")
    figures.add_argument("--formats", type=_csv_list, metavar="png,svg,pdf", help=f"formats among {', '.join(FORMATS)}")
    figures.add_argument("--only", type=_csv_list, metavar="NAME[,NAME]", help="only these figures (see 'list')")
    figures.add_argument("--dpi", type=int, metavar="N", help="PNG resolution (default 300)")
    figures.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 if the output folder is stale (differs from a fresh run)")

    commands.add_parser("list", help="list the figures with a one-line description")
    commands.add_parser("info", parents=[common], help="corpus summary: documents, blocks by role, tokens, types")

    terms = commands.add_parser("terms", parents=[common], help="tidy term table as CSV",
                                description="Term frequencies as CSV. --by doc gives columns doc_id,term,count.")
    terms.add_argument("--by", choices=TERMS_BY, default="corpus", help="grouping (default: corpus)")
    terms.add_argument("--top", type=int, metavar="N", help="only the N most frequent terms (per group)")
    terms.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(args, name, None)
        for name in ("corpus", "encoding", "text_column", "id_column", "metadata", "include_outline", "phrases",
                     "lemmatize", "extra_stopwords", "formats", "dpi")
    }
    if args.command == "figures":
        overrides["out"] = args.out
    return load_settings(args.config, **overrides)


def _check_writable(path: Path, option: str) -> None:
    """Fail before any work when ``path`` cannot be created or written (nothing is created here)."""
    existing = next(p for p in (path, *path.parents) if p.exists())
    if existing != path and not existing.is_dir():
        raise AnalysisError(f"{option} {path}: {existing} is not a folder")
    folder = existing if existing.is_dir() else existing.parent
    if not os.access(folder, os.W_OK):
        raise AnalysisError(f"{option} {path}: {folder} is not writable")


def _cmd_list(args: argparse.Namespace) -> int:
    from analysis.figures import REGISTRY

    width = max(len(name) for name in REGISTRY)
    for spec in REGISTRY.values():
        print(f"{spec.name:<{width}}  {spec.description}")
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    from analysis import terms

    settings = _settings(args)
    tc = terms.analyze(settings)
    summary = terms.corpus_summary(tc)
    total = summary.iloc[-1]
    print(f"corpus: {settings.corpus}")
    print(f"documents: {tc.n_documents}")
    print(f"blocks: {int(total['blocks'])} ({', '.join(f'{r} {int(total[r])}' for r in summary.columns[2:-3])})")
    print(f"word tokens (counted blocks): {int(total['tokens']):,}")
    print(f"terms after preprocessing: {int(total['terms']):,} tokens, {int(total['types']):,} types")
    print(f"outline bullets counted: {'yes' if settings.include_outline else 'no'}")
    print()
    print(summary.to_string(index=False))
    return EXIT_OK


def _cmd_terms(args: argparse.Namespace) -> int:
    from analysis import terms
    from analysis.export import atomic_write_bytes, csv_bytes

    if args.top is not None and args.top < 1:
        raise AnalysisError(f"--top must be a positive whole number, got {args.top}")
    settings = _settings(args)
    if args.out:
        _check_writable(Path(args.out), "--out")
    tc = terms.analyze(settings)
    if args.by == "corpus":
        table = terms.term_frequencies(tc, "corpus").merge(terms.document_frequency(tc)[["term", "doc_count"]], on="term")
        table = table[["term", "count", "per_1000_tokens", "doc_count", "rank"]]
    elif args.by == "doc":
        table = terms.term_frequencies(tc, "document")[["doc_id", "term", "count", "rank"]]
    elif args.by == "role":
        table = terms.term_frequencies(tc, "role")[["role", "term", "count", "per_1000_tokens", "rank"]]
    elif args.by == "section":
        table = terms.term_frequencies(tc, "section")[["doc_id", "section", "term", "count", "rank"]]
    else:
        table = terms.term_frequencies(tc, "paragraph")[["doc_id", "block", "role", "term", "count", "rank"]]
    if args.top is not None:
        table = table[table["rank"] <= args.top]
    table = table.drop(columns="rank") if args.by == "doc" else table
    data = csv_bytes(table)
    if args.out:
        atomic_write_bytes(Path(args.out), data)
        print(f"wrote {len(table):,} rows to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def _cmd_figures(args: argparse.Namespace) -> int:
    from analysis import terms
    from analysis.corpus import Corpus
    from analysis.export import MANIFEST, check_figures, render_figures, write_figures
    from analysis.figures import figure_names, get_spec

    settings = _settings(args)
    names = args.only or figure_names()
    for name in names:
        get_spec(name)
    if settings.out.resolve() == Path(settings.corpus).resolve() or Path(settings.corpus).resolve() in settings.out.resolve().parents:
        raise AnalysisError(f"--out {settings.out}: the output folder must not be inside the corpus (corpus/ is read-only)")
    if not args.check:
        _check_writable(settings.out, "--out")
    corpus = Corpus.from_settings(settings)
    tc = terms.analyze(settings)
    files = render_figures(
        names, tc, settings, corpus,
        progress=lambda name: print(f"rendering {name}", file=sys.stderr),
        previous=settings.out / MANIFEST if args.only else None,
    )
    if args.check:
        result = check_figures(files, settings.out, complete=not args.only)
        for line in result.stale:
            print(f"stale: {settings.out / line}")
        if result.uncompared:
            print(f"note: {len(result.uncompared)} image files were made with other package versions and were not "
                  "compared byte for byte (their data CSVs were)")
        print(f"{settings.out}: {'stale' if result.stale else 'up to date'}")
        return EXIT_STALE if result.stale else EXIT_OK
    changed = write_figures(files, settings.out, prune=not args.only)
    print(f"{settings.out}: {len(files)} files for {len(names)} figures; {len(changed)} written or removed, "
          f"the rest unchanged")
    return EXIT_OK


COMMANDS = {"figures": _cmd_figures, "list": _cmd_list, "info": _cmd_info, "terms": _cmd_terms}


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
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except AnalysisError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing partial was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # unreadable corpus file, unwritable output folder, disk full ...
        where = exc.filename if exc.filename is not None else "file system"
        print(f"{PROG}: error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        warnings.showwarning = previous
