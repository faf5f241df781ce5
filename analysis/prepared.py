"""The prepared corpus: read, split and tokenized once, stored, shared by every analysis.

Building is a map over batches of raw records (:func:`prepare_batch`, pure:
a worker reads and parses its batch, splits and tokenizes its documents, and
the same batch gives the same arrays in any process) followed by an ordered
merge that runs the corpus-wide checks (:class:`analysis.corpus.CorpusChecks`)
and appends each batch to files on disk, so memory does not grow with the
corpus and the result does not depend on the number of jobs or the chunk
size. What is stored, in safe formats only (Parquet, ``.npy`` read with
``allow_pickle=False``, JSON):

- ``documents.parquet``: ``doc_id, source, text, metadata`` (JSON), in row
  groups of 1,000 documents: the content snapshot every analysis of a run reads;
- ``blocks.parquet``: ``doc, block, role, section, section_title, start, end,
  n_chars`` per block (see :mod:`analysis.structure`);
- the tokens of every block in corpus order as arrays: ``form`` (id of the
  normalised word form) and ``sentence_start``; ``block_offsets`` and
  ``document_offsets`` index them (character spans are recomputed for the
  few blocks that need them, see :meth:`PreparedCorpus.spans`);
- ``forms.json``: the word forms, in order of first occurrence.

The folder is named by a key over the corpus files' content hashes and the
settings that change reading (:data:`READ_SETTINGS`); term-level results
(:mod:`analysis.pipeline`) live in subfolders keyed by the preprocessing
settings, so changing a stopword list does not tokenize again.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.corpus import (
    Corpus,
    CorpusChecks,
    CorpusWarning,
    Document,
    RawBatch,
    ReadBatch,
    Reader,
    preview,
    warn_about_listing,
)
from analysis.errors import AnalysisError
from analysis.memory import release_freed_memory
from analysis.executor import Executor, LocalExecutor
from analysis.structure import split_blocks
from analysis.tokens import TOKEN_PATTERN, normalize_tokens, straighten, token_offsets

FORMAT = "corpus-analysis-prepared/3"  # 3: what reading left out and the control characters removed
READ_SETTINGS = ("text_column", "id_column", "encoding", "skip_undecodable", "metadata")
CHUNK_DOCUMENTS = 4000
_DOCUMENTS_PER_ROW_GROUP = 1000  # a query (kwic, evidence) reads only the row groups of the documents it shows
_ROW_GROUPS_PER_READ = 16  # read together: far faster than one by one, and memory stays bounded
# Sentences end at sentence punctuation followed by white space; a line break
# inside a block does not end one (blocks join their lines with spaces).
# A word token (the group; the pattern of analysis.tokens) or a sentence break (no group: findall gives "").
_TOKEN_OR_BREAK = re.compile(r"(" + TOKEN_PATTERN + r")|(?<=[.!?;:])\s+")
_METADATA_FILE = "prepared.json"
_TOKEN_ARRAYS = {"form": np.int32, "sentence_start": np.bool_}
_BLOCK_SCHEMA = pa.schema([
    ("doc", pa.int32()), ("block", pa.int32()), ("role", pa.string()), ("section", pa.string()),
    ("section_title", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("n_chars", pa.int64()),
])
_DOCUMENT_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source", pa.string()), ("text", pa.string()), ("metadata", pa.string()),
])


# ----------------------------------------------------------------- the map


@dataclass(frozen=True)
class Chunk:
    """The prepared form of consecutive documents, with chunk-local form ids.

    Attributes
    ----------
    blocks : pyarrow.Table
        Block rows; ``doc`` numbers the documents from 0 within the chunk.
    forms : list of str
        The chunk's word forms in order of first occurrence; ``tokens["form"]``
        indexes it.
    tokens : dict of str to ndarray
        ``form, sentence_start``, one entry per token.
    block_sizes, document_sizes : ndarray
        Tokens per block, blocks per document.
    """

    blocks: pa.Table
    forms: list[str]
    tokens: dict[str, np.ndarray]
    block_sizes: np.ndarray
    document_sizes: np.ndarray


def prepare_chunk(texts: Sequence[str]) -> Chunk:
    """Split and tokenize the documents ``texts``: the map step of the build.

    Pure and picklable both ways, so it runs unchanged in a worker process
    (or on a cluster scheduler's partition). Each block is scanned once by a
    pattern that finds its word tokens and its sentence breaks (``.!?;:``
    followed by white space, as :func:`analysis.tokens.split_sentences` ends
    them); normalisation is done once per distinct token.
    """
    items: list[str] = []  # the tokens as written, "" at each sentence break and block start
    block_columns: dict[str, list] = {name: [] for name in _BLOCK_SCHEMA.names}
    block_sizes, document_sizes = [], []
    for number, text in enumerate(texts):
        straight = straighten(text)
        blocks = split_blocks(text)
        document_sizes.append(len(blocks))
        for block in blocks:
            found = _TOKEN_OR_BREAK.findall(straight, block.start, block.end)
            items.append("")
            items.extend(found)
            block_sizes.append(len(found) - found.count(""))
            block_columns["doc"].append(number)
            block_columns["block"].append(block.index)
            block_columns["role"].append(block.role)
            block_columns["section"].append(block.section)
            block_columns["section_title"].append(block.section_title)
            block_columns["start"].append(block.start)
            block_columns["end"].append(block.end)
            block_columns["n_chars"].append(len(block.text))
    # Ids in order of first occurrence (pandas' hash table, not a Python loop per token). Every block
    # starts with the marker "", so it is written form 0; it maps to no form.
    item_ids, written = pd.factorize(np.asarray(items, dtype=object))
    is_token = item_ids > 0
    sentence = np.cumsum(~is_token)[is_token]  # a sentence number per token (a new block starts one too)
    sentence_start = np.ones(len(sentence), dtype=bool)
    sentence_start[1:] = sentence[1:] != sentence[:-1]
    form_of_written, forms = pd.factorize(np.asarray(normalize_tokens(list(written[1:])), dtype=object))
    return Chunk(
        blocks=pa.table(block_columns, schema=_BLOCK_SCHEMA),
        forms=list(forms),
        tokens={"form": form_of_written[item_ids[is_token] - 1].astype(np.int32), "sentence_start": sentence_start},
        block_sizes=np.asarray(block_sizes, dtype=np.int64),
        document_sizes=np.asarray(document_sizes, dtype=np.int64),
    )


@dataclass(frozen=True)
class PreparedBatch:
    """A batch of records read, parsed and prepared (:func:`prepare_batch`): what the merge takes.

    Attributes
    ----------
    ids, empty, undecodable, encodings, not_text, controls
        As :class:`analysis.corpus.ReadBatch`: every record's id, the empty and undecodable files
        (left out), the files read with another encoding, the files that are not text (left out), and
        the documents control characters were removed from.
    documents : pyarrow.Table
        ``doc_id, source, text, metadata`` (JSON) of the documents with text.
    chunk : Chunk
    """

    ids: list[str]
    empty: list[tuple[int, str]]
    documents: pa.Table
    chunk: Chunk
    undecodable: list[tuple[str, str]]
    encodings: dict[str, str]
    not_text: list[tuple[str, str]]
    controls: list[tuple[str, int]]


def prepare_batch(reader: Reader, batch: RawBatch) -> PreparedBatch:
    """Read, parse, split and tokenize one batch of records: the map step of the build.

    Pure and picklable both ways, so worker processes (or a cluster's) read
    their own batches and only the results travel.
    """
    prepared = _prepared(reader.read(batch))
    release_freed_memory()  # a worker's batches would otherwise keep its peak
    return prepared


def _prepared(read: ReadBatch) -> PreparedBatch:
    documents = read.documents
    memo: dict[tuple, str] = {}  # corpora repeat a few labels (a folder, a category) many times
    table = pa.table({
        "doc_id": [d.doc_id for d in documents], "source": [d.source for d in documents],
        "text": [d.text for d in documents], "metadata": [_metadata_json(d.metadata, memo) for d in documents],
    }, schema=_DOCUMENT_SCHEMA)
    return PreparedBatch(read.ids, read.empty, table, prepare_chunk([d.text for d in documents]), read.undecodable,
                         read.encodings, read.not_text, read.controls)


def _metadata_json(metadata: dict, memo: dict[tuple, str]) -> str:
    """``metadata`` as JSON, memoised in ``memo``."""
    try:
        key = tuple(metadata.items())
        cached = memo.get(key)
    except TypeError:  # a list or dict value: not hashable
        return json.dumps(metadata, ensure_ascii=False)
    if cached is None:
        cached = memo[key] = json.dumps(metadata, ensure_ascii=False)
    return cached


def _with_metadata(documents: pa.Table, metadata: Mapping[str, dict]) -> pa.Table:
    """``documents`` with each matched document's metadata file columns added to its metadata."""
    if not metadata:
        return documents
    ids, records = documents["doc_id"].to_pylist(), documents["metadata"].to_pylist()
    joined = [json.dumps({**json.loads(record), **metadata[doc_id]}, ensure_ascii=False) if doc_id in metadata
              else record for doc_id, record in zip(ids, records)]
    return documents.set_column(3, "metadata", pa.array(joined, pa.string()))


# ----------------------------------------------------------------- the merge


class _Writer:
    """Appends chunks to the files of a prepared corpus (the merge step)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.forms: dict[str, int] = {}
        # Dictionary encoding only where values repeat (the texts and sources are unique).
        self.documents = pq.ParquetWriter(folder / "documents.parquet", _DOCUMENT_SCHEMA, use_dictionary=["metadata"])
        self.blocks = pq.ParquetWriter(folder / "blocks.parquet", _BLOCK_SCHEMA)
        self.raw = {name: (folder / f"{name}.raw").open("wb") for name in _TOKEN_ARRAYS}
        self.block_sizes: list[np.ndarray] = []
        self.document_sizes: list[np.ndarray] = []
        self.n_documents = 0

    def add(self, documents: pa.Table, chunk: Chunk) -> None:
        # The chunk's forms are distinct: look them all up at C speed, then number the new ones in order.
        mapping = np.fromiter(map(self.forms.get, chunk.forms, itertools.repeat(-1)), dtype=np.int32,
                              count=len(chunk.forms))
        new = np.flatnonzero(mapping < 0)
        mapping[new] = np.arange(len(self.forms), len(self.forms) + len(new), dtype=np.int32)
        self.forms.update(zip(map(chunk.forms.__getitem__, new.tolist()), mapping[new].tolist()))
        tokens = dict(chunk.tokens, form=mapping[chunk.tokens["form"]] if len(mapping) else chunk.tokens["form"])
        for name, handle in self.raw.items():
            handle.write(np.ascontiguousarray(tokens[name], dtype=_TOKEN_ARRAYS[name]).tobytes())
        blocks = chunk.blocks.set_column(0, "doc", pc.add(chunk.blocks["doc"], pa.scalar(self.n_documents, pa.int32())))
        self.documents.write_table(documents, row_group_size=_DOCUMENTS_PER_ROW_GROUP)
        self.blocks.write_table(blocks)
        self.block_sizes.append(chunk.block_sizes)
        self.document_sizes.append(chunk.document_sizes)
        self.n_documents += documents.num_rows

    def close(self, metadata: dict) -> None:
        self.documents.close()
        self.blocks.close()
        for name, handle in self.raw.items():
            handle.close()
            raw = self.folder / f"{name}.raw"
            values = np.fromfile(raw, dtype=_TOKEN_ARRAYS[name])
            np.save(self.folder / f"{name}.npy", values, allow_pickle=False)
            del values
            raw.unlink()
        for name, sizes in (("block_offsets", self.block_sizes), ("document_offsets", self.document_sizes)):
            counts = np.concatenate(sizes) if sizes else np.zeros(0, dtype=np.int64)
            np.save(self.folder / f"{name}.npy", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                    allow_pickle=False)
        (self.folder / "forms.json").write_text(json.dumps(list(self.forms), ensure_ascii=False), encoding="utf-8")
        (self.folder / _METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True), encoding="utf-8")


# ----------------------------------------------------------------- cache key


def read_key(file_hashes: dict[str, str], options: dict) -> str:
    """The cache key of a prepared corpus: content hashes, reading settings, format."""
    payload = json.dumps({"format": FORMAT, "files": file_hashes, "settings": options}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def _read_options(corpus: Corpus) -> dict:
    return {"text_column": corpus.text_column, "id_column": corpus.id_column, "encoding": corpus.encoding,
            "metadata": corpus.metadata.name if corpus.metadata is not None else None}


def verify_snapshot(corpus: Corpus) -> None:
    """Raise if a corpus file changed since the corpus's snapshot was taken.

    Sizes and modification times are compared (the files are not read
    again): an edit, even one that restores the bytes, counts as a change.

    Raises
    ------
    AnalysisError
        Naming the first file that changed, appeared or disappeared.
    """
    before, now = corpus.snapshot[1], corpus.file_stats(fresh=True)
    for name in sorted(set(now) | set(before)):
        if now.get(name) != before.get(name):
            what = "appeared" if name not in before else "disappeared" if name not in now else "changed"
            where = corpus.path / name if corpus.path.is_dir() else corpus.path.parent / name
            raise AnalysisError(f"{where}: {what} during the run; nothing was written (run again)")


# ----------------------------------------------------------------- the prepared corpus


class PreparedCorpus:
    """A prepared corpus on disk: its tables are loaded on first use, its arrays memory-mapped.

    Use :func:`prepare` to build or load one.

    Attributes
    ----------
    folder : Path
    file_hashes : dict
        SHA-256 of every corpus file read (the content snapshot).
    encodings : dict
        The files read with another encoding than the corpus's (a byte order mark, or ``auto``).
    left_out : dict
        The files reading left out, by path relative to the corpus, with why (not text, not decodable).
    control_characters : dict
        ``removed`` control characters from how many ``documents`` (empty when none were).
    source : Corpus or None
        The corpus it was read from (None for one built from documents).
    """

    def __init__(self, folder: Path, *, source: Corpus | None = None) -> None:
        self.folder = folder
        self.source = source
        meta = json.loads((folder / _METADATA_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise AnalysisError(f"{folder}: not a prepared corpus of this version ({FORMAT})")
        self.file_hashes: dict[str, str] = meta["files"]
        self.name: str = meta["name"]
        self.encodings: dict[str, str] = meta.get("encodings", {})
        self.left_out: dict[str, str] = meta.get("left_out", {})
        self.control_characters: dict[str, int] = meta.get("control_characters", {})

    def reading_record(self) -> dict[str, Any]:
        """What the corpus folder holds but the run did not read (``left_out``: relative path -> why), the
        links that lead out of it (``links_outside``: relative path -> real path), the ids that differ only
        in case, and how many control characters were removed: for the manifest. Keys with nothing to say
        are left out."""
        listing = self.source.listing if self.source is not None else None
        record: dict[str, Any] = {
            "left_out": dict(sorted({**(listing.left_out if listing else {}), **self.left_out}.items())),
            "links_outside": listing.outside if listing else {},
            "ids_differing_only_in_case": [list(ids) for ids in listing.case_collisions] if listing else [],
            "control_characters": self.control_characters,
        }
        return {key: value for key, value in record.items() if value}

    def warn_about_reading(self) -> None:
        """Warn again about what reading left out or changed (a run that loads the corpus from the cache)."""
        if self.source is not None:
            warn_about_listing(self.source)
        if self.left_out:
            shown = [f"{name!r} ({why})" for name, why in self.left_out.items()]
            warnings.warn(f"{len(shown)} file(s) left out when the corpus was read: {preview(shown, quote=False)}",
                          CorpusWarning, stacklevel=3)
        if self.control_characters:
            warnings.warn(f"{self.control_characters['removed']:,} control character(s) were removed from "
                          f"{self.control_characters['documents']:,} document(s) when the corpus was read",
                          CorpusWarning, stacklevel=3)

    def __reduce__(self):
        """Pickled as its folder: a worker process (a cluster's, on a shared file system) reopens it, with
        its arrays memory-mapped; the source corpus stays with the run that verifies it."""
        return PreparedCorpus, (self.folder,)

    def _array(self, name: str) -> np.ndarray:
        return np.load(self.folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)

    # -- documents and blocks
    @cached_property
    def documents(self) -> pd.DataFrame:
        """``doc_id`` and the metadata columns, one row per document, in corpus order."""
        table = pq.read_table(self.folder / "documents.parquet", columns=["doc_id", "metadata"])
        ids = table["doc_id"].to_pylist()
        rows = [{"doc_id": d, **json.loads(m)} for d, m in zip(ids, table["metadata"].to_pylist())]
        return pd.DataFrame(rows).fillna("") if rows else pd.DataFrame(columns=["doc_id"])

    @cached_property
    def doc_ids(self) -> list[str]:
        """Document ids in corpus order (read without the metadata)."""
        return pq.read_table(self.folder / "documents.parquet", columns=["doc_id"])["doc_id"].to_pylist()

    @property
    def n_documents(self) -> int:
        return len(self.document_offsets) - 1

    @cached_property
    def blocks(self) -> pd.DataFrame:
        """One row per block: ``doc`` (document number), ``doc_id, block, role, section,
        section_title, start, end, n_chars, n_raw_tokens``, in corpus order."""
        table = pq.read_table(self.folder / "blocks.parquet").to_pandas()
        table.insert(1, "doc_id", np.asarray(self.doc_ids, dtype=object)[table["doc"].to_numpy()]
                     if len(table) else pd.Series(dtype=object))
        table["n_raw_tokens"] = np.diff(self.block_offsets)
        return table

    # -- tokens
    @cached_property
    def forms(self) -> list[str]:
        """Normalised word forms; the ``form`` array indexes this list."""
        return json.loads((self.folder / "forms.json").read_text(encoding="utf-8"))

    @cached_property
    def form(self) -> np.ndarray:
        return self._array("form")

    @cached_property
    def sentence_start(self) -> np.ndarray:
        return self._array("sentence_start")

    @cached_property
    def block_offsets(self) -> np.ndarray:
        """Token index where each block starts (one more entry than blocks)."""
        return self._array("block_offsets")

    @cached_property
    def document_offsets(self) -> np.ndarray:
        """Block index where each document starts (one more entry than documents)."""
        return self._array("document_offsets")

    @cached_property
    def block_document(self) -> np.ndarray:
        """The document (number) of every block."""
        return np.repeat(np.arange(len(self.document_offsets) - 1, dtype=np.int64), np.diff(self.document_offsets))

    @cached_property
    def token_block(self) -> np.ndarray:
        """The block (row of :attr:`blocks`) of every token."""
        return np.repeat(np.arange(len(self.block_offsets) - 1, dtype=np.int64), np.diff(self.block_offsets))

    @cached_property
    def block_bounds(self) -> np.ndarray:
        """Start and end character offset of every block in its document (blocks x 2)."""
        return self.blocks[["start", "end"]].to_numpy()

    def spans(self, block: int, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Start and end offsets, in the document ``text``, of the tokens of ``block`` (a row of :attr:`blocks`).

        Not stored: tokenizing one block again is cheaper than keeping two
        offsets per token of the corpus.
        """
        start, end = (int(v) for v in self.block_bounds[block])
        offsets = token_offsets(text[start:end]) + start
        if len(offsets) != self.block_offsets[block + 1] - self.block_offsets[block]:
            raise AnalysisError(f"{self.folder}: the prepared corpus does not match its text; clear the cache")
        return offsets[:, 0], offsets[:, 1]

    def block_mask(self, excluded_roles: Iterable[str]) -> np.ndarray:
        """True for the blocks whose role is not in ``excluded_roles`` (the counted blocks).

        Decided on the Parquet column (no Python string per block).
        """
        roles = pq.read_table(self.folder / "blocks.parquet", columns=["role"])["role"]
        excluded = pc.is_in(roles, value_set=pa.array(list(excluded_roles), type=pa.string()))
        return ~excluded.to_numpy(zero_copy_only=False).astype(bool)

    # -- text
    def texts(self, documents: Iterable[int]) -> dict[int, str]:
        """The text of the given documents (numbers), reading only the row groups that hold them."""
        wanted = np.unique(np.fromiter(documents, dtype=np.int64))
        if not len(wanted):
            return {}
        parquet = pq.ParquetFile(self.folder / "documents.parquet")
        first = np.cumsum([0] + [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)])
        groups = np.unique(np.searchsorted(first, wanted, side="right") - 1).tolist()
        found = {}
        for at in range(0, len(groups), _ROW_GROUPS_PER_READ):
            batch = groups[at:at + _ROW_GROUPS_PER_READ]
            column = parquet.read_row_groups(batch, columns=["text"])["text"]
            # Where each group of the batch starts in the column read.
            starts = dict(zip(batch, np.cumsum([0] + [first[g + 1] - first[g] for g in batch[:-1]]).tolist()))
            inside = wanted[(wanted >= first[batch[0]]) & (wanted < first[batch[-1] + 1])]
            for d, group in zip(inside.tolist(), (np.searchsorted(first, inside, side="right") - 1).tolist()):
                found[d] = column[starts[group] + d - int(first[group])].as_py()
        return found

    def iter_documents(self) -> Iterator[Document]:
        """The documents of the snapshot, in corpus order (the files are not read again)."""
        parquet = pq.ParquetFile(self.folder / "documents.parquet")
        for batch in parquet.iter_batches(columns=["doc_id", "source", "text", "metadata"]):
            for doc_id, source, text, metadata in zip(*(batch.column(i).to_pylist() for i in range(4))):
                yield Document(doc_id, text, source, json.loads(metadata))

    def __iter__(self) -> Iterator[Document]:
        return self.iter_documents()

    def __len__(self) -> int:
        return self.n_documents

    def verify(self) -> None:
        """Raise :class:`AnalysisError` if a corpus file changed since it was read."""
        if self.source is not None:
            verify_snapshot(self.source)


def _build(batches: Iterable[PreparedBatch], folder: Path, metadata: dict, *, checks: CorpusChecks | None = None,
           progress: Callable[[Iterable], Iterable] | None = None) -> None:
    """Merge prepared batches into ``folder``: the corpus-wide ``checks`` first, then the files."""
    writer = _Writer(folder)
    for _ in (progress or iter)(_merged(batches, writer, checks)):
        pass
    if checks is not None:
        checks.finish()
        metadata = {**metadata, **checks.record()}
    writer.close(metadata)
    release_freed_memory()  # the batches' memory, before the term layer is derived


def _merged(batches: Iterable[PreparedBatch], writer: _Writer, checks: CorpusChecks | None) -> Iterator[None]:
    """Check and write each batch; yields once per document written (for a progress bar)."""
    for batch in batches:
        documents = batch.documents
        if checks is not None:
            checks.accept(batch, documents.num_rows)
            documents = _with_metadata(documents, checks.metadata)
        writer.add(documents, batch.chunk)
        yield from itertools.repeat(None, documents.num_rows)


def _install(built: Path, target: Path) -> None:
    """Move a finished build into place; a concurrent run that finished first wins."""
    try:
        os.replace(built, target)
    except OSError:
        if not (target / _METADATA_FILE).is_file():
            raise
        shutil.rmtree(built, ignore_errors=True)


def cache_folder(cache: Path) -> Path:
    """Create ``cache`` with a ``.gitignore`` so that git never picks it up."""
    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# corpus-analysis cache: safe to delete\n*\n", encoding="utf-8")
    return cache


def prepare(
    corpus: Corpus, *, cache: Path | None, jobs: int = 1, chunk_size: int = CHUNK_DOCUMENTS,
    progress: Callable[[Iterable], Iterable] | None = None, executor: Executor | None = None,
) -> PreparedCorpus:
    """Load the prepared form of ``corpus`` from ``cache``, or build it there.

    Parameters
    ----------
    corpus : Corpus
    cache : Path or None
        The cache folder; ``None`` builds into a temporary folder that is
        removed when the process exits.
    jobs : int, default 1
        Worker processes for the build (unless ``executor`` is given).
    chunk_size : int
        Documents per chunk. The result does not depend on it or on ``jobs``.
    progress : callable, optional
        Wraps the build, an iterable with one item per document prepared (e.g. a tqdm bar).
    executor : Executor, optional
        Where the batches are read and prepared (:mod:`analysis.executor`; a Dask cluster's workers read
        their own files); the merge runs here, in corpus order, so the result is the same.

    Raises
    ------
    AnalysisError
        For a corpus file that cannot be read, or that changed while it was read.
    """
    hashes = corpus.snapshot[0]
    key = read_key(hashes, _read_options(corpus))
    name = str(corpus.path.name)
    if cache is not None:
        target = cache_folder(cache) / key
        if (target / _METADATA_FILE).is_file():
            loaded = PreparedCorpus(target, source=corpus)
            loaded.warn_about_reading()
            return loaded
        parent = cache
    else:
        parent = Path(_session_folder())
    checks = CorpusChecks(corpus)  # reads the metadata file: its errors come before any work
    built = Path(tempfile.mkdtemp(dir=parent, prefix=f".{key}-building-"))
    built.chmod(0o755)
    executor = executor or LocalExecutor(jobs)
    if executor.opens_files and not corpus.splits:
        warnings.warn(f"{corpus.path}: read by this process and sent to the workers, since it cannot be split "
                      f"into partitions they read themselves; for a cluster, convert it once: corpus-analysis "
                      f"convert {corpus.path.name.split('.')[0]}.parquet --corpus {corpus.path}",
                      CorpusWarning, stacklevel=2)
    batches = executor.map(functools.partial(prepare_batch, corpus.reader),
                           corpus.batches(chunk_size, by_reference=executor.opens_files))
    try:
        _build(batches, built, {"format": FORMAT, "files": hashes, "name": name, "settings": _read_options(corpus)},
               checks=checks, progress=progress)
        verify_snapshot(corpus)
        if cache is None:
            return PreparedCorpus(built, source=corpus)
        _install(built, target)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    finally:
        batches.close()  # its worker processes end here, not when the generator is collected
    return PreparedCorpus(target, source=corpus)


def prepare_documents(documents: Iterable[Document], name: str = "documents") -> PreparedCorpus:
    """A prepared corpus of in-memory documents (tests, notebooks, one text), in a temporary folder."""
    folder = Path(tempfile.mkdtemp(dir=_session_folder(), prefix="documents-"))
    documents = list(documents)
    batches = (_prepared(ReadBatch(part, [d.doc_id for d in part], []))
               for part in (documents[i:i + CHUNK_DOCUMENTS] for i in range(0, len(documents), CHUNK_DOCUMENTS)))
    _build(batches, folder, {"format": FORMAT, "files": {}, "name": name, "settings": {}})
    return PreparedCorpus(folder)


_SESSION: list[str] = []


def _session_folder() -> str:
    """A temporary folder for uncached prepared corpora, removed when the process exits."""
    if not _SESSION:
        import atexit

        folder = tempfile.mkdtemp(prefix="corpus-analysis-")
        atexit.register(shutil.rmtree, folder, True)
        _SESSION.append(folder)
    return _SESSION[0]


def cache_summary(cache: Path) -> tuple[int, int]:
    """How many prepared corpora ``cache`` holds, and its size in bytes."""
    if not cache.is_dir():
        return 0, 0
    return (sum(1 for _ in cache.glob(f"*/{_METADATA_FILE}")),
            sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()))


def clear_cache(cache: Path) -> int:
    """Remove every prepared corpus in ``cache``; return the bytes freed."""
    if not cache.is_dir():
        return 0
    if not (cache / ".gitignore").is_file() or "corpus-analysis cache" not in (cache / ".gitignore").read_text(
            encoding="utf-8", errors="replace"):
        raise AnalysisError(f"{cache}: not a corpus-analysis cache folder; not removed")
    freed = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    shutil.rmtree(cache)
    return freed
