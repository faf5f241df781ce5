"""The only module that writes files: figures in every format, the data
behind them as CSV, and a provenance manifest.

Output is reproducible byte for byte: PNG carries no software tag, PDF no
creator/producer/date, SVG a fixed hash salt and no date. Every file is
written to a temporary name and renamed into place; :func:`write_figures`
stages a whole run in a temporary folder first, so a failure leaves the
output folder as it was.
"""

from __future__ import annotations

import contextlib
import filecmp
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator
from xml.sax.saxutils import escape as xml_escape

import pandas as pd

from analysis import __version__
from analysis.errors import AnalysisError
from analysis.interrupt import check_stop
from analysis.parallel import map_in_processes
from analysis.parts import TableParts, write_part
from analysis.provenance import MANIFEST, installed_versions, portable_settings, relative, tomotopy_build
from analysis.results import Results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analysis.config import Settings

SVG_HASH_SALT = "corpus-analysis"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._-]+")
# Every output file name is spelled here: the tables of each command (the analyses name the tables, this
# module their files), the topic model, the HTML view and the manifest (MANIFEST, from provenance).


def _figures():
    """The figure registry, imported on first use: commands that write only tables start without matplotlib."""
    from analysis import figures

    return figures


def table_file(name: str) -> str:
    """The file a table is written to: ``topic_terms`` -> ``topic_terms.csv``."""
    return f"{name}.csv"


TOPIC_TABLES = tuple(map(table_file, ("topic_terms", "doc_topics", "topic_ids", "topic_passages", "topic_kwic",
                                      "unit_topics")))
REUSE_TABLES = tuple(map(table_file, ("reuse_spans", "reuse_occurrences", "near_duplicate_sentences")))
CLAIM_TABLES = tuple(map(table_file, ("claims", "contradictions", "contradiction_pairs", "quantities")))
MODEL_STEM = "topic-model"
MODEL_FILES = (f"{MODEL_STEM}.json", f"{MODEL_STEM}.npz")
HTML_VIEW = "topics.html"
EXPLORER_PAGE = "explorer.html"
_SAVE_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "svg": {"Creator": None, "Date": None},
}


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write, renamed to ``path`` when the block ends and removed if
    it fails: ``path`` is never left half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with _replacing(path) as temporary:
        temporary.write_bytes(data)


_KEPT_ON_DISK = 8 << 20  # bytes above which a cached output file is passed on as its path, not read


def _put(path: Path, data: bytes | Path) -> None:
    """Write ``data`` (bytes, or a file's content) to ``path``."""
    if isinstance(data, Path):
        shutil.copyfile(data, path)
    else:
        path.write_bytes(data)


def _holds(path: Path, data: bytes | Path) -> bool:
    """Whether the file ``path`` holds exactly ``data``."""
    if not path.is_file():
        return False
    if isinstance(data, Path):
        return filecmp.cmp(path, data, shallow=False)
    return path.stat().st_size == len(data) and path.read_bytes() == data


def _read_or_keep(path: Path) -> bytes | Path:
    """A file's bytes, or, above :data:`_KEPT_ON_DISK`, its path (a large table stays on disk)."""
    return path if path.stat().st_size > _KEPT_ON_DISK else path.read_bytes()


def digest(data: bytes | Path) -> str:
    """The SHA-256 of ``data`` (bytes, or a file's content read in blocks)."""
    if isinstance(data, Path):
        with data.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    return hashlib.sha256(data).hexdigest()


CORPUS_FORMATS = (".parquet", ".jsonl", ".jsonl.gz")


def write_corpus(prepared, target: Path, *, rows_per_group: int = 10_000) -> int:
    """Write a prepared corpus as one Parquet or JSON Lines (``.jsonl``, ``.jsonl.gz``) file, atomically:
    columns ``id``, ``text`` and every metadata column (text; ``""`` where a document has none). Read
    back with the default ``text_column`` and ``id_column``, it gives the same documents. Returns how many
    were written.

    A cluster's workers read such a file in partitions (Parquet row groups, JSONL byte ranges); a CSV,
    whose quoted line breaks keep it from being split, or a compressed JSONL cannot be.

    Raises
    ------
    AnalysisError
        For another suffix, or a metadata column named ``id`` or ``text``.
    """
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    suffix = next((s for s in CORPUS_FORMATS if target.name.lower().endswith(s)), None)
    if suffix is None:
        raise AnalysisError(f"{target}: the converted corpus must end in {', '.join(CORPUS_FORMATS)}")
    metadata = prepared.documents.drop(columns="doc_id").astype(str)
    clash = [c for c in metadata.columns if c in ("id", "text")]
    if clash:
        raise AnalysisError(f"{target}: a metadata column is named {clash[0]!r}, like the id or text column")
    ids = prepared.documents["doc_id"].astype(str)
    schema = pa.schema([("id", pa.string()), ("text", pa.string()), *((c, pa.string()) for c in metadata.columns)])
    with _replacing(target) as temporary:
        writer = pq.ParquetWriter(temporary, schema) if suffix == ".parquet" else None
        lines = None if writer else (gzip.open if suffix == ".jsonl.gz" else open)(temporary, "wt", encoding="utf-8")
        with writer or lines:
            documents = prepared.iter_documents()
            for start in range(0, len(ids), rows_per_group):
                stop = min(start + rows_per_group, len(ids))
                texts = [next(documents).text for _ in range(start, stop)]
                columns = {"id": ids.iloc[start:stop].tolist(), "text": texts,
                           **{c: metadata[c].iloc[start:stop].tolist() for c in metadata.columns}}
                if writer:
                    writer.write_table(pa.table(columns, schema=schema))
                else:
                    for row in zip(*columns.values()):
                        lines.write(json.dumps(dict(zip(columns, row)), ensure_ascii=False) + "\n")
    return len(ids)


def figure_bytes(fig: Figure, fmt: str, dpi: int, *, title: str = "", description: str = "") -> bytes:
    """Render ``fig`` to ``fmt`` (png, svg, pdf) with reproducible metadata.

    ``title`` and ``description`` (alt text) go where readers of each format look for them: the SVG's
    ``<title>`` and ``<desc>``, the PNG's ``Title`` and ``Description`` text, the PDF's title and subject.
    """
    import matplotlib.pyplot as plt

    from analysis.plots import STYLE

    metadata = dict(_SAVE_METADATA[fmt])
    if fmt == "png" and description:
        metadata.update(Title=title, Description=description)
    elif fmt == "pdf" and description:
        metadata.update(Title=title, Subject=description)
    buffer = io.BytesIO()
    with plt.rc_context({**STYLE, "svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "path", "pdf.fonttype": 42}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    data = buffer.getvalue()
    if fmt == "svg" and description:
        data = _svg_with_description(data, title, description)
    return data


def _svg_with_description(svg: bytes, title: str, description: str) -> bytes:
    """``svg`` with ``<title>`` and ``<desc>`` as the root element's first children, where assistive
    technology reads an SVG's accessible name and description."""
    root = svg.index(b"<svg")
    end = svg.index(b">", root) + 1
    inserted = (f"\n <title>{xml_escape(title)}</title>\n <desc>{xml_escape(description)}</desc>").encode("utf-8")
    return svg[:end] + inserted + svg[end:]


_FORMULA_START = re.compile(r"^[=+\-@\t\r]")  # what a spreadsheet may read as the start of a formula (OWASP)


def excel_safe(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with every text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return) prefixed with ``'``; numbers are left as they are.

    >>> excel_safe(pd.DataFrame({"term": ["=HYPERLINK(1)", "pain"], "count": [-1, 2]}))["term"].tolist()
    ["'=HYPERLINK(1)", 'pain']
    """
    safe = data
    for column in data.columns:
        dtype = data[column].dtype
        if not (pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)):
            continue
        text = data[column].astype(str) if isinstance(dtype, pd.CategoricalDtype) else data[column]
        try:
            risky = text.str.match(_FORMULA_START, na=False).to_numpy(dtype=bool)
        except AttributeError:  # an object column that holds no text
            continue
        if risky.any():
            if safe is data:
                safe = data.copy()
            safe[column] = text.where(~risky, "'" + text.astype(str))
    return safe


def csv_bytes(data: pd.DataFrame, *, formula_safe: bool = False) -> bytes:
    """A DataFrame as UTF-8 CSV with ``\\n`` line endings and full float precision; with ``formula_safe``,
    through :func:`excel_safe`."""
    buffer = io.BytesIO()  # written as bytes: no second copy of a large table as one str
    _write_csv(data, buffer, header=True, formula_safe=formula_safe)
    return buffer.getvalue()


def _write_csv(data: pd.DataFrame, out, *, header: bool, formula_safe: bool) -> None:
    """``data`` as CSV rows (and the header) on the binary stream ``out``: the one CSV format."""
    if formula_safe:
        data = excel_safe(data)
    data.to_csv(out, index=False, header=header, lineterminator="\n", float_format="%.10g", encoding="utf-8")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the output, and the Python version."""
    found = installed_versions()
    build = tomotopy_build()  # its SIMD build can change results; record the one fits use
    if build != "not installed":
        found["tomotopy"] += f" ({build})"
    return found


class _RenderStore:
    """Rendered figures of one run's inputs kept in the cache, so an interrupted run resumes.

    Each entry is a set of files and, for a figure, its alt text and the characters it could not draw.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def load(self, name: str) -> tuple[dict[str, bytes | Path], str, str] | None:
        if self.folder is None:
            return None
        try:
            listed = json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
            hashes, description, missing = listed["files"], listed["alt_text"], listed["missing_glyphs"]
            found = {fname: _read_or_keep(self.folder / fname) for fname in hashes}
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (found, description, missing) if all(digest(data) == hashes[f] for f, data in found.items()) else None

    def save(self, name: str, files: dict[str, bytes | Path], description: str = "", missing: str = "") -> None:
        if self.folder is None:
            return
        for fname, data in files.items():
            with _replacing(self.folder / fname) as temporary:
                _put(temporary, data)
        listing = {"files": {fname: digest(data) for fname, data in files.items()}, "alt_text": description,
                   "missing_glyphs": missing}
        atomic_write_bytes(self.folder / f"{name}.json", json.dumps(listing).encode("utf-8"))


def _render(name: str, results: Results) -> tuple[dict[str, bytes], str, str]:
    """One figure's files (its data as CSV and the figure in every format), its alt text, and the
    characters no installed font could draw (matplotlib's warnings about them are collected, not shown)."""
    import matplotlib.pyplot as plt

    from analysis.alt_text import alt_text
    from analysis.plots.fonts import missing_glyphs

    with warnings.catch_warnings(record=True) as caught:
        fig, data = _figures().make_figure(name, results)
        description = alt_text(name, data, results)
        title = _figures().get_spec(name).description
        try:
            produced = {table_file(name): csv_bytes(data, formula_safe=results.settings.excel_safe)}
            for fmt in results.settings.formats:
                produced[f"{name}.{fmt}"] = figure_bytes(fig, fmt, results.settings.dpi, title=title,
                                                         description=description)
        finally:
            plt.close(fig)
    missing, others = missing_glyphs(caught)
    for warning in others:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return produced, description, missing


def render_figures(
    names: Iterable[str],
    results: Results,
    progress: Callable[[str], None] | None = None,
    previous: Path | None = None,
    extras: Callable[[], dict[str, bytes | Path]] | None = None,
    replaces: Callable[[Path], bool] | None = None,
    inputs: str | None = None,
    store: Path | None = None,
) -> dict[str, bytes | Path]:
    """Every output file of a run, in memory: ``{file name: bytes}``, manifest included.

    Parameters
    ----------
    names : iterable of str
        Registered figures to render.
    results : Results
        The analyses of the corpus and settings to draw.
    progress : callable, optional
        Called with each figure name before it is rendered.
    previous : Path, optional
        An existing manifest whose entries for figures and files not rendered
        now are carried over (a partial run with ``--only`` keeps one manifest).
    extras : callable, optional
        Returns further files of the run (topic tables, the model, the HTML
        view), hashed into the manifest's ``files``.
    replaces : callable, optional
        With ``previous``: earlier manifest entries of files for which this
        returns True are dropped unless produced again (this run owns them).
    inputs : str, optional
        The digest of a complete run's inputs (:func:`analysis.provenance.run_inputs`),
        recorded in the manifest so that an unchanged run can be skipped; with
        ``previous``, kept only if the earlier manifest has the same digest.
    store : Path, optional
        A cache folder for this run's inputs: figures rendered there by an
        interrupted run are taken from it instead of being made again.
    """
    settings = results.settings
    root = settings.out.resolve().parent
    cached = _RenderStore(store)
    files: dict[str, bytes | Path] = {}
    manifest_figures = {}
    names = list(names)
    rendered = {name: cached.load(name) for name in names}
    pending = [name for name in names if rendered[name] is None]
    with results.timer.stage("figures"):
        if settings.n_jobs > 1 and len(pending) > 1:
            for name in pending:  # the analyses run here once, before the drawing workers fork
                _figures().get_spec(name).data(results)

        def ticks(items):
            for name in items:
                if progress:
                    progress(name)
                yield name

        for name, produced in zip(pending, map_in_processes(lambda name: _render(name, results), pending,
                                                            jobs=settings.n_jobs, progress=ticks)):
            cached.save(name, *produced)
            rendered[name] = produced
    from analysis.plots.fonts import GlyphWarning, by_script, glyphs_message

    missing = {name: rendered[name][2] for name in names if rendered[name][2]}
    if missing:
        warnings.warn(glyphs_message(by_script("".join(missing.values())), list(missing)), GlyphWarning,
                      stacklevel=2)
    for name in names:
        produced, description, _ = rendered[name]
        files.update(produced)
        manifest_figures[name] = {
            "alt_text": description,
            "description": _figures().get_spec(name).description,
            "files": {fname: digest(data) for fname, data in sorted(produced.items())},
        }
    extra_files: dict[str, bytes | Path] = {}
    if extras:
        stored = cached.load("tables")
        if stored is None:
            extra_files = extras()
            cached.save("tables", extra_files)
        else:
            extra_files = stored[0]
    files.update(extra_files)
    manifest_extra = {name: digest(data) for name, data in extra_files.items()}
    if previous is not None and previous.is_file():
        try:
            earlier = json.loads(previous.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            earlier = {}
        owned = replaces or (lambda path: False)
        manifest_figures = {**{k: v for k, v in earlier.get("figures", {}).items()
                               if k in _figures().REGISTRY and not owned(Path(table_file(k)))}, **manifest_figures}
        manifest_extra = {**{k: v for k, v in earlier.get("files", {}).items()
                             if _is_ours(Path(k)) and not owned(Path(k))}, **manifest_extra}
        if earlier.get("inputs") != inputs:  # the folder no longer holds one run of these inputs
            inputs = None
    results.prepared.verify()  # a corpus file changed during the run: stop before anything is written
    manifest = {
        "generator": f"corpus-analysis {__version__}",
        "inputs": inputs,
        "settings": portable_settings(settings, root),
        "corpus": {"path": relative(settings.corpus, root), "files": results.prepared.file_hashes,
                   **({"encodings": {relative(Path(f), root): e for f, e in results.prepared.encodings.items()}}
                      if results.prepared.encodings else {}),
                   **results.prepared.reading_record()},
        "packages": package_versions(),
        **({"topic_labels": {"path": relative(settings.topic_labels, root), "sha256": digest(labels)}}
           if (labels := _labels_file(settings)) is not None else {}),
        "figures": dict(sorted(manifest_figures.items())),
        **({"missing_glyphs": by_script("".join(missing.values()))} if missing else {}),
        "files": dict(sorted(manifest_extra.items())),
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return files


def _labels_file(settings: Settings) -> bytes | None:
    """The bytes of the topic labels file, when there is one (the manifest records its digest)."""
    path = settings.topic_labels
    return path.read_bytes() if path is not None and path.is_file() else None


# The tables that grow with the corpus: with ``table_format="parquet"`` each is written as Parquet parts.
LARGE_TABLES = ("claims", "doc_topics", "unit_topics", "reuse_spans", "reuse_occurrences", "near_duplicate_sentences")
ROWS_PER_PIECE = 100_000  # rows of an in-memory table written at a time (a CSV slice or a Parquet part)


def table_files(tables: dict, *, formula_safe: bool = False, table_format: str = "csv",
                spool: Path | None = None) -> dict[str, bytes | Path]:
    """Tidy tables (by name) as CSV (see :func:`csv_bytes`), by file name.

    A table in parts (anything with ``parts``: Parquet files whose rows, in order, are the table, such as
    :class:`analysis.claims.ClaimParts`) never comes into memory whole: as CSV it is written part by part
    to a file beside its parts. With ``spool`` (a folder of the run), a DataFrame of more than
    :data:`ROWS_PER_PIECE` rows is written there :data:`ROWS_PER_PIECE` rows at a time, never held as
    one CSV in memory. With ``table_format="parquet"``, each of :data:`LARGE_TABLES` is written as
    Parquet parts, ``<name>-00000.parquet`` ... (a DataFrame cut into parts of :data:`ROWS_PER_PIECE`
    rows in ``spool``).
    """
    files: dict[str, bytes | Path] = {}
    for name, table in tables.items():
        in_parts = hasattr(table, "parts")
        if table_format == "parquet" and name in LARGE_TABLES and (in_parts or spool is not None):
            if not in_parts:
                table = TableParts(tuple(write_part(_plain(table.iloc[start:start + ROWS_PER_PIECE]),
                                                    spool / part_file(name, number))
                                         for number, start in enumerate(range(0, max(len(table), 1), ROWS_PER_PIECE))))
            files.update({part_file(name, number): Path(part) for number, part in enumerate(table.parts)})
        elif in_parts:
            pieces = (pd.read_parquet(part) for part in table.parts)
            files[table_file(name)] = csv_file(pieces, Path(table.parts[0]).parent / table_file(name),
                                               formula_safe=formula_safe)
        elif spool is not None and len(table) > ROWS_PER_PIECE:
            pieces = (table.iloc[start:start + ROWS_PER_PIECE] for start in range(0, len(table), ROWS_PER_PIECE))
            files[table_file(name)] = csv_file(pieces, spool / table_file(name), formula_safe=formula_safe)
        else:
            files[table_file(name)] = csv_bytes(table, formula_safe=formula_safe)
    return files


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with categorical columns as their values: a part would otherwise carry every category of
    the whole table (every document id of the corpus); Parquet encodes repeated values by itself."""
    kinds = {column: table[column].cat.categories.dtype for column in table.columns
             if isinstance(table[column].dtype, pd.CategoricalDtype)}
    return table.astype(kinds) if kinds else table


def part_file(name: str, number: int) -> str:
    """The file of part ``number`` of a table in parts: ``claims`` -> ``claims-00000.parquet``."""
    return f"{name}-{number:05d}.parquet"


_PART_FILE = re.compile(r"(?P<name>[A-Za-z_]+)-\d{5}\.parquet")


def csv_file(pieces: Iterable[pd.DataFrame], target: Path, *, formula_safe: bool = False) -> Path:
    """Consecutive ``pieces`` of a table as one CSV file ``target``, written one piece at a time: the
    bytes :func:`csv_bytes` gives their concatenation, if the pieces share their column types."""
    with _replacing(target) as temporary, temporary.open("wb") as out:
        for number, data in enumerate(pieces):
            _write_csv(data, out, header=number == 0, formula_safe=formula_safe)
    return target


def topic_tables(results: Results) -> dict[str, bytes | Path]:
    """The tidy topic exports (``topic_terms.csv``, ``doc_topics.csv`` ...), see :func:`table_files`."""
    return table_files(results.tables(), formula_safe=results.settings.excel_safe,
                       table_format=results.settings.table_format, spool=results.spool)


def model_files(results: Results) -> dict[str, bytes]:
    """The reported topic model as ``topic-model.json`` and ``topic-model.npz``."""
    return results.topics.model.to_files(MODEL_STEM)


def owned_by(family: str | None, files: Iterable[str], *, but: Iterable[str] = ()) -> Callable[[Path], bool]:
    """A predicate for the files one command owns: the figures of ``family`` (every format; None: no
    figures) and ``files``."""
    names, left_out = frozenset(files), frozenset(but)

    def owned(path: Path) -> bool:
        stem, part = path.name.split(".")[0], _PART_FILE.fullmatch(path.name)
        return (path.name in names or (family is not None and stem in getattr(_figures(), family) and stem not in left_out)
                or (part is not None and table_file(part["name"]) in names))

    return owned


# What the topics, reuse and claims commands replace: their figures and tables (topics: not k-selection).
topic_owned = owned_by("TOPIC_FIGURES", (HTML_VIEW, *TOPIC_TABLES, *MODEL_FILES), but=("k-selection",))
reuse_owned = owned_by("REUSE_FIGURES", REUSE_TABLES)
explorer_owned = owned_by(None, (EXPLORER_PAGE,))
claims_owned = owned_by("CLAIM_FIGURES", CLAIM_TABLES)


def _is_ours(path: Path) -> bool:
    """Files a run writes: registered figure stems, tables (in parts too), model, HTML pages, manifest."""
    part = _PART_FILE.fullmatch(path.name)
    return (path.name in (MANIFEST, HTML_VIEW, EXPLORER_PAGE, *TOPIC_TABLES, *REUSE_TABLES, *CLAIM_TABLES, *MODEL_FILES)
            or path.name.split(".")[0] in _figures().REGISTRY
            or (part is not None and table_file(part["name"]) in (*TOPIC_TABLES, *REUSE_TABLES, *CLAIM_TABLES)))


def write_figures(files: dict[str, bytes | Path], out: Path, *,
                  prune: bool | Callable[[Path], bool] = False) -> list[Path]:
    """Write rendered files into ``out`` as one transaction.

    Every file is first written to a staging folder beside ``out``; then each
    is renamed into place, the file it replaces kept aside until all are in.
    If anything fails, the replaced files are put back and new ones removed,
    so ``out`` is either fully updated or as it was. Files whose bytes are
    unchanged are not rewritten.

    Parameters
    ----------
    files : dict
        From :func:`render_figures`.
    out : Path
    prune : bool or callable, default False
        Also remove files of registered figures (and formats), topic tables,
        model and HTML view that this run did not produce, so ``out`` holds
        exactly one run; a callable limits the removal to the files it
        returns True for (e.g. :func:`topic_owned`).

    Returns
    -------
    list of Path
        The files written, replaced or removed.
    """
    check_stop()  # a SIGTERM whose exception a finaliser swallowed still stops the run before it writes
    for name in files:  # a name from anywhere (a figure, a table, a topic label) never leaves the folder
        if not _PLAIN_NAME.fullmatch(name) or name in {".", ".."}:
            raise AnalysisError(f"{out}: refusing to write {name!r}: output names are plain file names "
                                "(letters, digits, '.', '_', '-')")
    out.mkdir(parents=True, exist_ok=True)
    for name in files:
        if (out / name).exists() and not (out / name).is_file():
            raise AnalysisError(f"{out / name}: exists and is not a file; move it away to write this figure")
    _remove_stale_staging(out)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-staging-{os.getpid()}-"))
    new, old = staging / "new", staging / "old"
    new.mkdir()
    old.mkdir()
    moves: list[tuple[Path, Path | None]] = []  # (path in out, its previous version kept aside)
    try:
        for name, data in files.items():
            target = out / name
            if not _holds(target, data):
                _put(new / name, data)
        check_stop()
        owned = prune if callable(prune) else (lambda path: bool(prune))
        stale = [p for p in sorted(out.iterdir()) if p.is_file() and _is_ours(p) and owned(p) and p.name not in files]
        for path in [*(out / p.name for p in sorted(new.iterdir())), *stale]:
            backup = old / path.name if path.exists() else None
            moves.append((path, backup))
            if backup is not None:
                os.replace(path, backup)
            if (new / path.name).exists():
                os.replace(new / path.name, path)
    except BaseException:
        for path, backup in reversed(moves):
            if backup is not None and backup.exists():
                os.replace(backup, path)
            elif backup is None:
                path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [path for path, _ in moves]


def _remove_stale_staging(out: Path) -> None:
    """Remove the staging folders of ``out`` left by runs that were killed (their process is gone)."""
    for folder in out.parent.glob(f".{out.name}-staging-*"):
        try:
            pid = int(folder.name.removeprefix(f".{out.name}-staging-").split("-")[0])
        except ValueError:
            continue  # not named by a process: not ours to judge
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's live process
            continue


@dataclass(frozen=True)
class Staleness:
    """Result of :func:`check_figures`.

    Attributes
    ----------
    stale : list of str
        Files missing, extra or different from a fresh run.
    uncompared : list of str
        Image files not compared byte for byte because they were made with
        other package versions (their data CSVs still are).
    """

    stale: list[str]
    uncompared: list[str]

    @property
    def ok(self) -> bool:
        return not self.stale


def check_figures(files: dict[str, bytes | Path], out: Path, *, complete: bool = True) -> Staleness:
    """Compare a fresh run (``files``) with what is in ``out``.

    CSV data, the manifest's settings, corpus hashes and figure list are
    always compared. Images are compared byte for byte when the committed
    manifest records the same package versions as this environment;
    otherwise rendering may legitimately differ and they are listed as
    uncompared. With ``complete`` (a run of every figure), figure files in
    ``out`` that the run did not produce are stale too.
    """
    stale, uncompared = [], []
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        return Staleness([MANIFEST + " (missing)"], [])
    try:
        committed = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Staleness([MANIFEST + " (unreadable)"], [])
    fresh = json.loads(files[MANIFEST])
    # "inputs" is not compared: a changed digest (of the code, say) with identical files is not stale.
    same_packages = committed.get("packages") == fresh["packages"]
    for key in ("settings", "corpus", "generator"):
        if committed.get(key) != fresh[key]:
            stale.append(f"{MANIFEST} ({key} changed)")
    if complete and set(committed.get("figures", {})) != set(fresh["figures"]):
        stale.append(f"{MANIFEST} (list of figures changed)")
    for name, data in sorted(files.items()):
        if name == MANIFEST:
            continue
        target = out / name
        if not target.is_file():
            stale.append(f"{name} (missing)")
        elif name.endswith(".csv") or same_packages:
            if not _holds(target, data):
                stale.append(f"{name} (differs)")
        else:
            uncompared.append(name)
    for extra in sorted(out.iterdir()) if complete else ():
        if extra.is_file() and _is_ours(extra) and extra.name not in files:
            stale.append(f"{extra.name} (not produced by this run)")
    return Staleness(stale, uncompared)
