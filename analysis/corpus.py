"""Read a corpus into documents with ids, metadata and blocks.

Sources: a folder of ``.txt``/``.md`` files (recursive), or one ``.csv``,
``.jsonl``/``.jsonl.gz`` or ``.parquet`` file. The corpus is never written to.

Reading is split three ways, so that worker processes can do the costly part:

- :meth:`Corpus.batches` reads the byte stream into raw batches (file lists,
  JSONL lines, CSV frames, Parquet record batches);
- :class:`Reader` turns a batch into documents (decoding, parsing, ids,
  metadata columns) in any process;
- :class:`CorpusChecks` runs the checks that need the whole corpus: empty
  documents, duplicate ids, the metadata file's matches.

Iterating a :class:`Corpus` chains the three in one process. Documents are
streamed a batch at a time, so memory does not grow with the corpus.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import heapq
import io
import itertools
import json
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.listing import METADATA_FILE, NOT_TEXT_SUFFIX, TEXT_SUFFIXES, Listing, list_folder
from analysis.structure import Block, split_blocks

TABLE_SUFFIXES = (".csv", ".jsonl", ".jsonl.gz", ".parquet")
_BATCH_ROWS = 10_000
_BARE_CR = re.compile(rb"(?<=\r)(?!\n)")  # after a carriage return that no line feed follows
_BATCH_CHARACTERS = 8_000_000  # a batch also ends here, so a few huge documents do not fill memory
_PREVIEW = 5  # ids named in a message


class CorpusWarning(UserWarning):
    """A problem in the corpus that was skipped (empty file, unmatched metadata)."""


@dataclass(frozen=True)
class Document:
    """One document of the corpus.

    Attributes
    ----------
    doc_id : str
        Folder corpora: the path relative to the corpus folder, without suffix,
        with ``/`` separators. Tables: the id column, as a string.
    text : str
        The text, with ``\\n`` line endings.
    source : str
        Where the text came from (file, or file and row), for messages.
    metadata : dict
        Metadata columns as strings (``folder`` for folder corpora, extra
        table columns, and columns of ``metadata.csv``).
    """

    doc_id: str
    text: str
    source: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def blocks(self) -> list[Block]:
        """The document split into blocks with roles (see :mod:`analysis.structure`)."""
        return split_blocks(self.text)


# Line and paragraph separators, next line and form feed break lines as \n does; the other control characters
# (C0 but tab and line breaks, DEL, C1) are not text.
_CONTROL_CODES = "".join(map(chr, [*range(0x09), 0x0B, *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0)]))
_LINE_BREAKS = "\u2028\u2029\u0085\f"
_CLEAN = {**dict.fromkeys(map(ord, _CONTROL_CODES)), **dict.fromkeys(map(ord, _LINE_BREAKS), "\n")}
_CONTROL = re.compile(f"[{re.escape(_CONTROL_CODES)}]")
_SPECIAL = re.compile(f"[\r{re.escape(_LINE_BREAKS + _CONTROL_CODES)}]")


def clean_text(text: str) -> tuple[str, int]:
    """Line breaks made ``\\n`` (``\\r\\n``, ``\\r``, U+2028, U+2029, NEL, form feed) and control characters
    removed (all but tab and line breaks), so that no line collapses and no control character reaches a table;
    and how many control characters were removed.

    >>> clean_text("a\\r\\nb\\u2028c\\x00d\\x1b[0m")
    ('a\\nb\\ncd[0m', 2)
    """
    if not _SPECIAL.search(text):
        return text, 0
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CLEAN), len(_CONTROL.findall(text))


def normalize_newlines(text: str) -> str:
    """The text of :func:`clean_text`, without the count."""
    return clean_text(text)[0]


def _guess_encoding(data: bytes) -> str:
    for candidate in ("cp1252", "latin-1"):
        try:
            data.decode(candidate)
            return candidate
        except UnicodeDecodeError:
            continue
    return "latin-1"  # pragma: no cover - latin-1 decodes any byte string


def text_codec(encoding: str) -> str:
    """The codec used to read ``encoding``: UTF-8 reads through ``utf-8-sig`` so a BOM is dropped
    (``auto`` reads a table file as UTF-8: it detects encodings file by file in folder corpora)."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "auto") else encoding


_CHAOS_TIE = 5.0  # percentage points of charset-normalizer's "chaos" within which cp1252 is preferred
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32 LE's starts like UTF-16 LE's


# Files that are not text, whatever their name says: left out with a warning naming the kind.
_MAGIC = (
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"), (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip file"), (b"BZh", "a bzip2 file"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\xfd7zXZ", "an xz file"),
)


_NUL_SHARE = 8  # a file of which at least one byte in this many is NUL is refused as UTF-16/32 without a BOM


class NotTextError(AnalysisError):
    """A file that is not text (its first bytes are those of a PDF, an image, an archive ...).

    Attributes
    ----------
    kind : str
        What the file is ("a PDF document").
    """

    def __init__(self, source: str, kind: str) -> None:
        super().__init__(f"{source}: {kind}, not text")
        self.kind = kind


def decode_file(data: bytes, encoding: str, source: str) -> tuple[str, str]:
    """The text of one file and the encoding it was read with.

    A byte order mark decides (UTF-8, UTF-16, UTF-32) whatever ``encoding``
    says; otherwise the file is decoded strictly with ``encoding``, or with
    ``auto`` as UTF-8 when it is valid UTF-8, else as charset-normalizer's
    best guess for this file alone (Windows-1252 where it is nearly as
    good). The text is not yet cleaned (:func:`clean_text`).

    Raises
    ------
    NotTextError
        For a file whose first bytes are those of a PDF, an image, an archive ...
    AnalysisError
        Naming ``source``, the byte offset and a likely encoding; or the first NUL byte of a file
        without a byte order mark (UTF-16 without one, most likely).
    """
    kind = next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
    if kind is not None:
        raise NotTextError(source, kind)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec.removesuffix("-sig")
            except UnicodeDecodeError:
                raise encoding_error(source, [data], codec, advise=False) from None
    nul = data.find(b"\x00")
    # Latin-script UTF-16 without a BOM is about half NUL bytes (UTF-32 three quarters); a few stray NULs
    # in text are control characters, removed and counted with the others.
    if nul >= 0 and data.count(b"\x00") * _NUL_SHARE >= len(data):
        raise AnalysisError(f"{source}: NUL bytes (the first at byte {nul:,}): UTF-16 without a BOM? Save it as UTF-8")
    if encoding != "auto":
        try:
            return data.decode(text_codec(encoding)), encoding
        except UnicodeDecodeError:
            raise encoding_error(source, [data], encoding, advise=False) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        raise encoding_error(source, [data], "utf-8", advise=False)
    # Near-ties go to Windows-1252, the web's default legacy encoding (WHATWG): charset-normalizer alone
    # reads French or English cp1252 text as Baltic cp1257 when a few of its letters look likelier there.
    western = next((m for m in matches if m.encoding == "cp1252"), None)
    if western is not None and western.percent_chaos <= best.percent_chaos + _CHAOS_TIE:
        best = western
    return str(best), best.encoding


def encoding_error(source: str, chunks: Iterable[bytes], encoding: str, *, advise: bool = True,
                   first_byte: int = 0) -> AnalysisError:
    """The error for the first byte of ``chunks`` that ``encoding`` cannot decode.

    The offset counts from the start of the file (a BOM included), however the
    bytes were buffered when decoding failed (``first_byte``: where in the file ``chunks`` begin); the
    suggested encoding is guessed from the chunk that holds the bad byte.
    """
    # Plain utf-8 rather than utf-8-sig: a BOM is valid UTF-8, and offsets stay file offsets.
    decoder = codecs.getincrementaldecoder("utf-8" if text_codec(encoding) == "utf-8-sig" else encoding)("strict")
    offset, position, sample = 0, 0, b""
    for chunk in itertools.chain(chunks, [b""]):  # the empty last chunk flushes a character cut off at the end
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            position, sample = offset - pending + exc.start, chunk or sample
            break
        offset, sample = offset + len(chunk), chunk
    guess = _guess_encoding(sample)
    advice = f"; pass --encoding {guess} or re-save the file as UTF-8" if advise else ""
    return AnalysisError(f"{source}: not valid {encoding} at byte {first_byte + position} (looks like {guess}){advice}")


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        yield from iter(lambda: handle.read(size), b"")


def decode_bytes(data: bytes, encoding: str, source: str) -> str:
    """Decode strictly; a UTF-8 BOM is dropped; line endings are normalised.

    Raises
    ------
    AnalysisError
        Naming ``source``, the byte offset and a likely encoding.
    """
    try:
        text = data.decode(text_codec(encoding))
    except UnicodeDecodeError:
        raise encoding_error(source, [data], encoding) from None
    return normalize_newlines(text)


def _table_suffix(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in TABLE_SUFFIXES if name.endswith(s)), None)


def _bounded(pieces: Iterable[list], size: int, weigh: Callable[[Any], int]) -> Iterator[list]:
    """The items of ``pieces`` (lists read one after another) regrouped in lists of ``size``, or fewer
    when their weights (characters, bytes) reach :data:`_BATCH_CHARACTERS`, so that a few huge documents
    do not fill a worker's memory."""
    pieces = iter(pieces)
    pending: list = []
    at_end = False
    while True:
        while not at_end and len(pending) < size:
            piece = next(pieces, None)
            at_end = piece is None
            pending.extend(piece or ())
        if not pending:
            return
        ends = np.cumsum(np.fromiter(map(weigh, pending[:size]), dtype=np.int64))  # weight up to each item
        take = min(int(np.searchsorted(ends, _BATCH_CHARACTERS)) + 1, len(ends))
        yield pending[:take]
        del pending[:take]


@dataclass(frozen=True)
class JsonlRange:
    """The lines of a JSON Lines file from byte ``start`` (a line start) to byte ``end``: a partition that
    the process preparing it reads itself (:meth:`Corpus.batches` with ``by_reference``)."""

    path: Path
    start: int
    end: int

    def lines(self, encoding: str) -> list[str]:
        """The lines, decoded strictly.

        Raises
        ------
        AnalysisError
            Naming the file and the byte offset (from the start of the file) of the first bad byte.
        """
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            data = handle.read(self.end - self.start)
        try:
            text = data.decode(text_codec(encoding) if self.start == 0 else _no_bom(encoding))
        except UnicodeDecodeError:
            raise encoding_error(str(self.path), [data], encoding, first_byte=self.start) from None
        # Lines as a text file reads them (universal newlines: \r\n and \r end a line too, nothing else).
        parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


@dataclass(frozen=True)
class ParquetSlice:
    """Rows ``start:stop`` of row group ``group`` of a Parquet file: a partition that the process preparing
    it reads itself."""

    path: Path
    group: int
    start: int
    stop: int

    def read(self):
        """The rows, as a pyarrow Table."""
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path).read_row_group(self.group).slice(self.start, self.stop - self.start)


def _lines_end_with_newline_bytes(encoding: str) -> bool:
    """Whether lines of ``encoding`` end with the byte ``\\n`` (UTF-8, single-byte code pages; not UTF-16)."""
    try:
        return "a\n".encode(_no_bom(encoding)) == b"a\n"
    except (LookupError, UnicodeEncodeError):
        return False


def _no_bom(encoding: str) -> str:
    """The codec of ``encoding`` for bytes after the start of a file (no byte order mark to drop)."""
    codec = text_codec(encoding)
    return "utf-8" if codec == "utf-8-sig" else codec


@dataclass(frozen=True)
class RawBatch:
    """Consecutive records of a corpus as read, not yet parsed (see :meth:`Corpus.batches`).

    Attributes
    ----------
    records : list, DataFrame, pyarrow.RecordBatch, JsonlRange or ParquetSlice
        Folder corpora: file paths; JSONL: lines; CSV: a frame of rows;
        Parquet: a record batch; or, read by reference, where the lines or rows are.
    first_line : int
        The line number of the first record (JSONL; elsewhere as ``first_row``).
    first_row : int
        The 1-based number of the first record among the corpus's records
        (JSONL: among its non-blank lines).
    """

    records: Any
    first_line: int
    first_row: int


@dataclass(frozen=True)
class ReadBatch:
    """A batch read (:meth:`Reader.read`).

    Attributes
    ----------
    documents : list of Document
        The documents with text, in order.
    ids : list of str
        The id of every record, in order, empty documents included.
    empty : list of (int, str)
        The position in ``ids`` and the source of each empty document (left out).
    undecodable : list of (str, str)
        Each file that could not be decoded, and why (one line).
    encodings : dict of str to str
        The files read with another encoding than the corpus's (a byte order
        mark, or ``auto``), by path.
    not_text : list of (str, str)
        Each file left out because it is not text, and what it is (a PDF document, a PNG image ...).
    controls : list of (str, int)
        The source of each document that held control characters, and how many were removed.
    """

    documents: list[Document]
    ids: list[str]
    empty: list[tuple[int, str]]
    undecodable: list[tuple[str, str]] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)
    not_text: list[tuple[str, str]] = field(default_factory=list)
    controls: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Reader:
    """How a corpus's records become documents; small and picklable, so that worker processes read
    and parse their own batches. The checks that need the whole corpus are :class:`CorpusChecks`."""

    path: Path
    text_column: str
    id_column: str
    encoding: str

    def read(self, batch: RawBatch) -> ReadBatch:
        """The documents of ``batch``.

        Raises
        ------
        AnalysisError
            For a file that cannot be decoded, a line that is not a JSON
            object, a missing text or id column, a text that is not text.
        """
        where = str(self.path)
        undecodable: list[tuple[str, str]] = []
        not_text: list[tuple[str, str]] = []
        encodings: dict[str, str] = {}
        controls: list[tuple[str, int]] = []
        records = batch.records
        if isinstance(records, JsonlRange):
            records = records.lines(self.encoding)
        elif isinstance(records, ParquetSlice):
            records = records.read()
        if self.path.is_dir():
            documents = []
            for path in records:
                try:
                    document, used = self._file_document(path, controls)
                except NotTextError as exc:
                    not_text.append((str(path), exc.kind))
                    continue
                except AnalysisError as exc:  # every such file is named at the end of the corpus
                    undecodable.append((str(path), str(exc)))
                    continue
                documents.append(document)
                if used != (self.encoding if self.encoding != "auto" else "utf-8"):
                    encodings[str(path)] = used
        elif isinstance(records, list):  # JSONL lines
            documents = [self._row_document(row, number, where, controls)
                         for number, row in self._json_rows(records, batch)]
        else:
            rows = records.to_dict("records") if isinstance(records, pd.DataFrame) else records.to_pylist()
            documents = [self._row_document(row, batch.first_row + i, where, controls) for i, row in enumerate(rows)]
        blank = [not doc.text.strip() for doc in documents]
        return ReadBatch([doc for doc, b in zip(documents, blank) if not b], [doc.doc_id for doc in documents],
                         [(i, doc.source) for i, (doc, b) in enumerate(zip(documents, blank)) if b],
                         undecodable, encodings, not_text, controls)

    @staticmethod
    def _cleaned(text: str, source: str, controls: list[tuple[str, int]]) -> str:
        text, removed = clean_text(text)
        if removed:
            controls.append((source, removed))
        return text

    def _file_document(self, path: Path, controls: list[tuple[str, int]]) -> tuple[Document, str]:
        relative = path.relative_to(self.path)
        folder = relative.parts[0] if len(relative.parts) > 1 else ""
        text, used = decode_file(path.read_bytes(), self.encoding, str(path))
        return Document(relative.with_suffix("").as_posix(), self._cleaned(text, str(path), controls), str(path),
                        {"folder": folder}), used

    def _json_rows(self, lines: list[str], batch: RawBatch) -> Iterator[tuple[int, dict[str, Any]]]:
        row = batch.first_row
        for offset, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AnalysisError(f"{self.path}: line {batch.first_line + offset} is not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise AnalysisError(f"{self.path}: line {batch.first_line + offset} is not a JSON object")
            yield row, record
            row += 1

    def _row_document(self, row: dict[str, Any], number: int, where: str,
                      controls: list[tuple[str, int]]) -> Document:
        source = f"{where}: row {number}"
        if self.text_column not in row:
            raise AnalysisError(
                f"{self.path}: no text column '{self.text_column}' (found: {', '.join(map(str, row)) or 'none'}); "
                "set text_column or pass --text-column"
            )
        text = row[self.text_column]
        if text is None or (isinstance(text, float) and pd.isna(text)):
            text = ""
        if not isinstance(text, str):
            raise AnalysisError(f"{source}: text column '{self.text_column}' holds {type(text).__name__}, expected text")
        if self.id_column in row and row[self.id_column] not in (None, ""):
            doc_id = str(row[self.id_column])
        elif self.id_column == "id" and "id" not in row:
            doc_id = str(number)  # no id column: ids are 1-based row numbers
        else:
            raise AnalysisError(f"{source}: missing id in column '{self.id_column}'")
        metadata = {
            str(k): "" if v is None else str(v)
            for k, v in row.items()
            if k not in (self.text_column, self.id_column)
        }
        return Document(doc_id, self._cleaned(text, source, controls), source, metadata)


class _CappedStream(io.RawIOBase):
    """A binary stream that stops with an error past ``total`` bytes read, or inside a line longer than
    ``line`` bytes: a decompression bomb, or a file without line breaks, never fills memory."""

    def __init__(self, stream: BinaryIO, path: Path, *, total: int | None, line: int) -> None:
        self._stream, self._path, self._total, self._line = stream, path, total, line
        self._read = self._lines = self._open_line = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._stream.readinto(buffer)
        if not count:
            return count
        data = bytes(memoryview(buffer)[:count])
        self._read += count
        if self._total is not None and self._read > self._total:
            raise AnalysisError(f"{self._path}: decompresses to more than {self._total / 2**30:.3g} GB "
                                "(max_decompressed_gb); raise the limit or split the file")
        last = data.rfind(b"\n")
        self._lines += data.count(b"\n")
        self._open_line = self._open_line + count if last < 0 else count - last - 1
        if self._open_line > self._line:
            raise AnalysisError(f"{self._path}: line {self._lines + 1:,} is longer than {self._line / 2**20:.3g} MB "
                                "(max_file_mb); is this JSON Lines, one record per line?")
        return count

    def close(self) -> None:
        self._stream.close()
        super().close()


class Corpus:
    """A re-iterable stream of :class:`Document` objects.

    Parameters
    ----------
    path : path
        A folder of text files, or a CSV/JSONL/Parquet file.
    text_column, id_column : str
        Table columns with the text and the id.
    encoding : str
        Text encoding (strict), or ``auto`` to detect it file by file (folder corpora).
    skip_undecodable : bool
        Leave out, with a warning, the files that cannot be decoded (else one
        error names them all).
    metadata : path, optional
        CSV joined on the document id; ``<folder>/metadata.csv`` by default.
    max_file_mb : float, default 256
        A folder corpus's text files larger than this are left out, with a warning, before they are read;
        a JSONL line longer than this is an error.
    max_decompressed_gb : float, default 50
        A ``.jsonl.gz`` corpus that decompresses to more than this is an error (a decompression bomb,
        or a file to split).

    Notes
    -----
    Iterating twice reads the source twice; nothing is cached. Duplicate
    ids raise :class:`AnalysisError`; empty documents and unmatched metadata
    give a :class:`CorpusWarning`.

    Examples
    --------
    >>> corpus = Corpus.from_settings(load_settings())  # doctest: +SKIP
    >>> [doc.doc_id for doc in corpus]  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | Path,
        *,
        text_column: str = "text",
        id_column: str = "id",
        encoding: str = "utf-8",
        metadata: str | Path | None = None,
        skip_undecodable: bool = False,
        max_file_mb: float = 256,
        max_decompressed_gb: float = 50,
    ) -> None:
        self.path = Path(path)
        self.max_file_mb = max_file_mb
        self.max_decompressed_gb = max_decompressed_gb
        self.text_column = text_column
        self.id_column = id_column
        self.encoding = encoding
        self.skip_undecodable = skip_undecodable
        self.metadata = Path(metadata) if metadata is not None else None
        if not self.path.exists():
            raise AnalysisError(f"{self.path}: corpus not found (expected a folder of .txt/.md files or a CSV/JSONL/Parquet file)")
        if self.path.is_file() and _table_suffix(self.path) is None:
            raise AnalysisError(
                f"{self.path}: unsupported corpus file (expected a folder, {', '.join(TABLE_SUFFIXES)})"
            )
        if self.metadata is None and self.path.is_dir() and (self.path / METADATA_FILE).is_file():
            self.metadata = self.path / METADATA_FILE
        if self.metadata is not None and not self.metadata.is_file():
            raise AnalysisError(f"{self.metadata}: metadata file not found")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Corpus":
        """Build the corpus described by ``settings``."""
        return cls(
            settings.corpus,
            text_column=settings.text_column,
            id_column=settings.id_column,
            encoding=settings.encoding,
            metadata=settings.metadata,
            skip_undecodable=settings.skip_undecodable,
            max_file_mb=settings.max_file_mb,
            max_decompressed_gb=settings.max_decompressed_gb,
        )

    # -- files ---------------------------------------------------------------
    def files(self, *, fresh: bool = False) -> list[Path]:
        """The files the corpus is read from, sorted (metadata last): those of :attr:`listing` (one walk of
        the folder per run, so that the files hashed are the files read), or with ``fresh`` as the
        folder holds them now."""
        found = [self.path] if self.path.is_file() else list((self._list() if fresh else self.listing).text)
        if self.metadata is not None:
            found.append(self.metadata)
        return found

    def _list(self) -> Listing:
        return list_folder(self.path, max_file_bytes=int(self.max_file_mb * 2**20), metadata=self.metadata)

    @cached_property
    def listing(self) -> Listing:
        """What the folder held when first asked (an empty listing for a table corpus): the files left out
        and why, the links that lead out of it, the ids that differ only in case."""
        return self._list() if self.path.is_dir() else Listing([self.path])

    def _key(self, path: Path) -> str:
        root = self.path if self.path.is_dir() else self.path.parent
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()

    def file_hashes(self) -> dict[str, str]:
        """SHA-256 of every corpus file, keyed by path relative to the corpus."""
        hashes = {}
        for path in self.files():
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            hashes[self._key(path)] = digest.hexdigest()
        return hashes

    def file_stats(self, *, fresh: bool = False) -> dict[str, tuple[int, int]]:
        """Size and modification time (ns) of every corpus file (of the folder as it is now with ``fresh``),
        keyed like :meth:`file_hashes`."""
        return {self._key(path): (path.stat().st_size, path.stat().st_mtime_ns) for path in self.files(fresh=fresh)}

    @cached_property
    def snapshot(self) -> tuple[dict[str, str], dict[str, tuple[int, int]]]:
        """``(hashes, stats)`` of the files, taken once per Corpus object: the run's content snapshot.

        The stats are taken first, so a file changed while it is hashed no longer matches them
        (:func:`analysis.prepared.verify_snapshot`).
        """
        stats = self.file_stats()
        return self.file_hashes(), stats

    # -- reading -------------------------------------------------------------
    @property
    def reader(self) -> Reader:
        """What turns this corpus's raw batches into documents, in any process."""
        return Reader(self.path, self.text_column, self.id_column, self.encoding)

    def __iter__(self) -> Iterator[Document]:
        checks = CorpusChecks(self)
        for batch in self.batches():
            read = self.reader.read(batch)
            checks.accept(read, len(read.documents))
            for doc in read.documents:
                extra = checks.metadata.get(doc.doc_id)
                yield Document(doc.doc_id, doc.text, doc.source, {**doc.metadata, **extra}) if extra else doc
        checks.finish()

    def batches(self, size: int = _BATCH_ROWS, *, by_reference: bool = False) -> Iterator[RawBatch]:
        """The corpus's records, unparsed, in batches of ``size`` (fewer when they are long).

        Reading a batch's files and parsing its records is left to :meth:`Reader.read`, so that
        worker processes can do it; only the byte stream is read here. With ``by_reference``, an
        uncompressed JSONL or a Parquet corpus is cut into :class:`JsonlRange` or :class:`ParquetSlice`
        partitions that the workers read themselves (a cluster's workers, which see the same files):
        this process only finds where the partitions start (JSONL: one pass counting lines, no
        decoding or parsing).
        """
        if self.path.is_dir():
            files = self.files()[:-1] if self.metadata is not None else self.files()
            first = 1
            for paths in _bounded([files], size, lambda p: p.stat().st_size):
                yield RawBatch(paths, first, first)
                first += len(paths)
            return
        suffix = _table_suffix(self.path)
        if by_reference and self.splits:
            yield from (self._jsonl_ranges if suffix == ".jsonl" else self._parquet_slices)(size)
            return
        yield from {".csv": self._csv_batches, ".jsonl": self._jsonl_batches, ".jsonl.gz": self._jsonl_batches,
                    ".parquet": self._parquet_batches}[suffix](size)

    @property
    def splits(self) -> bool:
        """Whether workers can read the corpus in partitions of their own: a folder (lists of files),
        Parquet (row groups), uncompressed JSONL in an encoding whose lines end in the byte ``\\n``. Not a
        CSV (quoted line breaks) or a ``.jsonl.gz`` (a stream): this process reads those and sends the
        records."""
        suffix = _table_suffix(self.path)
        return self.path.is_dir() or suffix == ".parquet" or (
            suffix == ".jsonl" and _lines_end_with_newline_bytes(self.encoding))

    def records_at(self, positions: set[int]) -> dict[int, tuple[str, str]]:
        """``(id, source)`` of the records at the given positions (0-based, in reading order, empty
        documents included), read again: for naming the rows of a rare error."""
        found, position = {}, 0
        for batch in self.batches():
            read = self.reader.read(batch)
            sources = dict(read.empty)
            documents = iter(read.documents)
            for offset, doc_id in enumerate(read.ids):
                source = sources[offset] if offset in sources else next(documents).source
                if position + offset in positions:
                    found[position + offset] = (doc_id, source)
            position += len(read.ids)
            if len(found) == len(positions):
                break
        return found

    def _csv_batches(self, size: int) -> Iterator[RawBatch]:
        first = 1
        try:
            with self.path.open("r", encoding=text_codec(self.encoding), newline="") as handle:
                for chunk in pd.read_csv(handle, dtype=str, keep_default_na=False, chunksize=size):
                    yield RawBatch(chunk, first, first)
                    first += len(chunk)
        except UnicodeDecodeError:
            raise encoding_error(str(self.path), _file_chunks(self.path), self.encoding) from None
        except pd.errors.ParserError as exc:
            raise AnalysisError(f"{self.path}: not a readable CSV ({str(exc).strip().splitlines()[0]})") from None
        except pd.errors.EmptyDataError:
            return

    def _jsonl_batches(self, size: int) -> Iterator[RawBatch]:
        compressed = self.path.name.lower().endswith(".gz")
        line, row = 1, 1
        try:
            capped = _CappedStream((gzip.open if compressed else open)(self.path, "rb"), self.path,
                                   total=int(self.max_decompressed_gb * 2**30) if compressed else None,
                                   line=int(self.max_file_mb * 2**20))
            with io.TextIOWrapper(io.BufferedReader(capped, 1 << 20), encoding=text_codec(self.encoding)) as handle:
                # Lines are read a few megabytes at a time, at C speed.
                for lines in _bounded(iter(lambda: handle.readlines(_BATCH_CHARACTERS), []), size, len):
                    yield RawBatch(lines, line, row)
                    line += len(lines)
                    row += len(lines) - sum(map(str.isspace, lines))
        except UnicodeDecodeError:
            raise encoding_error(str(self.path), _file_chunks(self.path), self.encoding) from None
        except (OSError, EOFError) as exc:
            raise AnalysisError(f"{self.path}: cannot read ({exc})") from None

    def _jsonl_ranges(self, size: int) -> Iterator[RawBatch]:
        line, row, start = 1, 1, 0
        capped = _CappedStream(self.path.open("rb"), self.path, total=None, line=int(self.max_file_mb * 2**20))
        with io.BufferedReader(capped, 1 << 20) as handle:
            for lines in _bounded(iter(lambda: handle.readlines(_BATCH_CHARACTERS), []), size, len):
                end = start + sum(map(len, lines))
                yield RawBatch(JsonlRange(self.path, start, end), line, row)
                for text_line in lines:
                    # As the text reader counts: a bare \r ends a line too; blank lines are not records.
                    pieces = [p for p in _BARE_CR.split(text_line) if p] if b"\r" in text_line else (text_line,)
                    line += len(pieces)
                    row += sum(not self._blank(piece) for piece in pieces)
                start = end

    def _blank(self, line: bytes) -> bool:
        """Whether a JSONL line is blank as :meth:`Reader.read` sees it once decoded (Unicode spaces too)."""
        stripped = line.strip()
        return not stripped or (len(stripped) <= 16 and not stripped.decode(_no_bom(self.encoding), "replace").strip())

    def _parquet_slices(self, size: int) -> Iterator[RawBatch]:
        import pyarrow.parquet as pq

        try:
            metadata = pq.ParquetFile(self.path).metadata
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise AnalysisError(f"{self.path}: not a readable Parquet file ({exc})") from None
        first = 1
        for group in range(metadata.num_row_groups):
            rows = metadata.row_group(group).num_rows
            for start in range(0, rows, size):
                stop = min(start + size, rows)
                yield RawBatch(ParquetSlice(self.path, group, start, stop), first, first)
                first += stop - start

    def _parquet_batches(self, size: int) -> Iterator[RawBatch]:
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - pyarrow is a dependency
            raise AnalysisError(f"{self.path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
        try:
            parquet = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise AnalysisError(f"{self.path}: not a readable Parquet file ({exc})") from None
        first = 1
        for batch in parquet.iter_batches(batch_size=size):
            yield RawBatch(batch, first, first)
            first += batch.num_rows

    # -- metadata ------------------------------------------------------------
    def _read_metadata(self) -> dict[str, dict[str, str]]:
        if self.metadata is None:
            return {}
        try:
            table = pd.read_csv(self.metadata, dtype=str, keep_default_na=False, encoding=text_codec(self.encoding))
        except UnicodeDecodeError:
            raise encoding_error(str(self.metadata), _file_chunks(self.metadata), self.encoding) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise AnalysisError(f"{self.metadata}: not a readable CSV ({str(exc).splitlines()[0]})") from None
        key = next((c for c in (self.id_column, "doc_id", "id") if c in table.columns), None)
        if key is None:
            raise AnalysisError(
                f"{self.metadata}: no id column (expected '{self.id_column}', 'doc_id' or 'id'; "
                f"found: {', '.join(table.columns)})"
            )
        duplicated = table.loc[table[key].duplicated(), key].unique().tolist()
        if duplicated:
            warnings.warn(
                f"{self.metadata}: duplicate ids {preview(duplicated)}; the first row of each is used",
                CorpusWarning, stacklevel=3,
            )
            table = table.drop_duplicates(subset=key, keep="first")
        return {row[key]: {c: row[c] for c in table.columns if c != key} for row in table.to_dict("records")}


class CorpusChecks:
    """The checks that need the whole corpus, fed batch by batch: empty documents (warned and left
    out), duplicate ids, at least one document, and the metadata file's matches both ways; and the
    record of what reading left out or changed.

    Ids are kept as 64-bit hashes (8 bytes per document); a duplicate is confirmed, and its two
    rows named, by reading the corpus again.

    Attributes
    ----------
    metadata : dict of str to dict
        The metadata file's rows by id (empty without one).
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.metadata = corpus._read_metadata()
        self.count = 0
        self._hashes: list[np.ndarray] = []
        self._matched: set[str] = set()
        self._unmatched = 0
        self._first_unmatched: list[str] = []
        self.undecodable: list[tuple[str, str]] = []
        self.not_text: list[tuple[str, str]] = []
        self.encodings: dict[str, str] = {}
        self.controls: list[tuple[str, int]] = []

    def accept(self, batch: ReadBatch, documents: int) -> None:
        """Take one batch (its ids in order, empty and undecodable files, encodings) and how many
        documents it kept."""
        ids, empty = batch.ids, batch.empty
        self.undecodable += batch.undecodable
        self.not_text += batch.not_text
        self.encodings.update(batch.encodings)
        self.controls += batch.controls
        for _, source in empty:
            warnings.warn(f"{source}: empty document, skipped", CorpusWarning, stacklevel=3)
        for source, kind in batch.not_text:
            warnings.warn(f"{source}: {kind}, not text, skipped", CorpusWarning, stacklevel=3)
        self._hashes.append(pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False) if ids
                            else np.zeros(0, np.uint64))
        self.count += documents
        if self.metadata:
            unmatched = [doc_id for doc_id in ids if doc_id not in self.metadata]
            self._matched.update(doc_id for doc_id in ids if doc_id in self.metadata)
            self._unmatched += len(unmatched)
            self._first_unmatched = heapq.nsmallest(_PREVIEW, [*self._first_unmatched, *unmatched])

    def finish(self) -> None:
        """Raise for a duplicate id or an empty corpus; warn about what was left out or cleaned, and about
        unmatched metadata.

        Raises
        ------
        AnalysisError
        """
        self._raise_on_duplicates()
        if self.undecodable:
            messages = [message for _, message in self.undecodable]
            listed = "; ".join(messages[:_PREVIEW]) + (f"; and {len(messages) - _PREVIEW} more"
                                                       if len(messages) > _PREVIEW else "")
            if not self.corpus.skip_undecodable:
                raise AnalysisError(f"{len(messages)} file(s) could not be read as {self.corpus.encoding}: "
                                    f"{listed}. Pass --encoding auto to detect each file's encoding, or "
                                    "--skip-undecodable to leave them out (a guess is never applied to the whole "
                                    "corpus)")
            warnings.warn(f"{len(messages)} file(s) left out, not readable as {self.corpus.encoding}: "
                          f"{listed}", CorpusWarning, stacklevel=3)
        warn_about_listing(self.corpus)
        if self.controls:
            warnings.warn(controls_message(self.controls), CorpusWarning, stacklevel=3)
        if self.count == 0:
            raise AnalysisError(f"{self.corpus.path}: corpus is empty (no non-empty {'/'.join(TEXT_SUFFIXES)} documents)")
        if self.corpus.metadata is None:
            return
        no_document = sorted(set(self.metadata) - self._matched)
        if no_document:
            warnings.warn(f"{self.corpus.metadata}: {len(no_document)} id(s) match no document: {preview(no_document)}",
                          CorpusWarning, stacklevel=3)
        if self._unmatched:
            shown = preview(self._first_unmatched, total=self._unmatched)
            warnings.warn(f"{self.corpus.metadata}: {self._unmatched} document(s) have no metadata row: {shown}",
                          CorpusWarning, stacklevel=3)

    def record(self) -> dict[str, Any]:
        """What reading left out or changed, for the prepared corpus's record (and from it the manifest):
        ``encodings`` (files read otherwise than as the corpus's encoding), ``left_out`` (files not text,
        or not decodable, by relative path, with why) and ``control_characters`` (how many were removed
        from how many documents). Keys with nothing to say are left out."""
        left_out = {self.corpus._key(Path(source)): f"{kind}, not text" for source, kind in self.not_text}
        left_out.update({self.corpus._key(Path(source)): f"not readable as {self.corpus.encoding}"
                         for source, _ in self.undecodable})
        record: dict[str, Any] = {}
        if self.encodings:
            record["encodings"] = dict(sorted(self.encodings.items()))
        if left_out:
            record["left_out"] = dict(sorted(left_out.items()))
        if self.controls:
            record["control_characters"] = {"removed": sum(n for _, n in self.controls), "documents": len(self.controls)}
        return record

    def _raise_on_duplicates(self) -> None:
        hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, np.uint64)
        order = np.argsort(hashes, kind="stable")
        repeated = np.flatnonzero(hashes[order][1:] == hashes[order][:-1])
        # In reading order, each record whose id hash was seen before, with the first record of that hash.
        for later in np.sort(order[repeated + 1]).tolist():
            first = int(np.flatnonzero(hashes == hashes[later])[0])
            rows = self.corpus.records_at({first, later})
            if rows[first][0] == rows[later][0]:  # not a chance collision of two hashes
                raise AnalysisError(f"{rows[later][1]}: duplicate document id '{rows[later][0]}' (also {rows[first][1]})")


def warn_about_listing(corpus: Corpus) -> None:
    """Warn, once per corpus object, about the files its folder holds but the corpus does not read, the
    links that lead out of it and the ids that differ only in case (see :class:`analysis.listing.Listing`)."""
    if corpus.__dict__.get("_listing_warned"):
        return
    corpus.__dict__["_listing_warned"] = True
    listing, root = corpus.listing, corpus.path
    by_suffix = [name for name, why in listing.left_out.items() if why == NOT_TEXT_SUFFIX]
    if by_suffix:
        warnings.warn(f"{root}: {len(by_suffix)} file(s) not read, {NOT_TEXT_SUFFIX}: {preview(by_suffix)}",
                      CorpusWarning, stacklevel=3)
    others = [f"{name!r} ({why})" for name, why in listing.left_out.items() if why != NOT_TEXT_SUFFIX]
    if others:
        warnings.warn(f"{root}: {len(others)} file(s) not read: {preview(others, quote=False)}", CorpusWarning,
                      stacklevel=3)
    if listing.outside:
        links = [f"{name!r} -> {real!r}" for name, real in listing.outside.items()]
        warnings.warn(f"{root}: {len(links)} symbolic link(s) lead out of the corpus folder (read; the manifest "
                      f"records where): {preview(links, quote=False)}", CorpusWarning, stacklevel=3)
    if listing.case_collisions:
        groups = [" / ".join(map(repr, ids)) for ids in listing.case_collisions]
        warnings.warn(f"{root}: {len(groups)} document id(s) differ from another only in case "
                      f"({preview(groups, quote=False)}): distinct documents here, one file on Windows and macOS",
                      CorpusWarning, stacklevel=3)


def controls_message(controls: list[tuple[str, int]]) -> str:
    """One line: how many control characters were removed from which documents."""
    shown = [f"{source!r} ({count:,})" for source, count in controls]
    return (f"{sum(n for _, n in controls):,} control character(s) (NUL, ESC and the other C0/C1 codes but tab "
            f"and line breaks) removed from {len(controls):,} document(s): {preview(shown, quote=False)}")


def preview(items: list[str], limit: int = _PREVIEW, total: int | None = None, *, quote: bool = True) -> str:
    """The first ``limit`` items (quoted with ``repr``), and how many more of ``total`` (by default ``len(items)``)."""
    total = len(items) if total is None else total
    shown = ", ".join(repr(i) if quote else i for i in items[:limit])
    return shown + (f" and {total - limit} more" if total > limit else "")


def blocks_table(corpus: Corpus) -> pd.DataFrame:
    """One row per block: ``doc_id, block, role, section, section_title, start, end, n_chars, text``."""
    rows = [
        {"doc_id": doc.doc_id, "block": b.index, "role": b.role, "section": b.section,
         "section_title": b.section_title, "start": b.start, "end": b.end, "n_chars": len(b.text), "text": b.text}
        for doc in corpus
        for b in doc.blocks
    ]
    return pd.DataFrame(rows, columns=["doc_id", "block", "role", "section", "section_title", "start", "end", "n_chars", "text"])
