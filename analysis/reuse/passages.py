"""Shared passages as an exact shingle shuffle.

1. :func:`shingle_parts` (a map over ranges of documents): every shingle key with its document and
   word position, cut into buckets by key.
2. :func:`shared_shingles` (a combine per bucket): the keys found in ``min_documents`` documents or
   more, with all their places, cut by the range of documents each place lies in.
3. :func:`passages_of_range` (a combine per range): the passages of the range's documents, found from
   the places of the shingles they hold, as a :class:`Passages` part.
4. :mod:`analysis.reuse.tables`: the passages merged over the ranges by their words and written as
   parts (:func:`span_table`, :func:`occurrence_table`), and the coverage of every range joined in
   corpus order (:func:`coverage_tables`): the tables of a serial run.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.reuse.reading import NO_KEYS, BlockWords, Options, Reader, cut, documents, starts

MAX_PLACES_PER_DOCUMENT = 4
SPAN_COLUMNS = ["span_id", "text", "n_words", "n_documents", "documents", "occurrences", "positions"]
OCCURRENCE_COLUMNS = ["doc_id", "block", "role", "word_start", "word_end", "char_start", "char_end", "span_id",
                      "shared_with"]
MATRIX_COLUMNS = ["doc_id", "other_doc_id", "shared_words", "words", "share"]
SHARE_COLUMNS = ["doc_id", "words", "reused_words", "share"]
_OCCURRENCE_INTS = ("block", "word_start", "word_end", "char_start", "char_end")
_NO_INTS = np.zeros(0, dtype=np.int64)


def shingle_parts(source, options: Options, buckets: int, bounds: tuple[int, int]) -> list[tuple]:
    """``keys``, ``numbers`` (documents) and ``places`` (word positions) of every shingle of documents
    ``bounds``, in reading order, cut into ``buckets`` parts by key."""
    reader = Reader(options)
    keys, places, numbers = [NO_KEYS], [_NO_INTS], [_NO_INTS]
    for number, doc in enumerate(documents(source, bounds), start=bounds[0]):
        for words in reader.blocks(doc):
            keys.append(words.keys)
            places.append(words.offset + np.arange(len(words.keys), dtype=np.int64))
            numbers.append(np.full(len(words.keys), number, dtype=np.int64))
    keys, places, numbers = np.concatenate(keys), np.concatenate(places), np.concatenate(numbers)
    return cut(keys % np.uint64(buckets), buckets, keys=keys, numbers=numbers, places=places)


@dataclass(frozen=True)
class ShingleDocuments:
    """Shingles found in at least ``min_documents`` documents, and where.

    ``keys`` is sorted; the occurrences of ``keys[i]`` are
    ``documents[offsets[i]:offsets[i + 1]]`` (numbered in corpus order) at the
    word positions ``positions[offsets[i]:offsets[i + 1]]``, ordered by
    document and position (at most :data:`MAX_PLACES_PER_DOCUMENT` places per
    document).
    """

    keys: np.ndarray
    offsets: np.ndarray
    documents: np.ndarray
    positions: np.ndarray

    @classmethod
    def count(cls, keys: np.ndarray, documents: np.ndarray, positions: np.ndarray,
              min_documents: int) -> "ShingleDocuments":
        """Build from every shingle's key, document and word position (in any order)."""
        order = np.lexsort((positions, documents, keys))
        keys, documents, positions = keys[order], documents[order], positions[order]
        first_of_document = np.ones(len(keys), dtype=bool)
        first_of_document[1:] = (keys[1:] != keys[:-1]) | (documents[1:] != documents[:-1])
        # A shingle repeated within a document is matched at its first few places only: repeated
        # lines (encoded binaries, ASCII art) would otherwise pair every place with every other.
        group_start = np.maximum.accumulate(np.where(first_of_document, np.arange(len(keys)), 0))
        kept_places = np.arange(len(keys)) - group_start < MAX_PLACES_PER_DOCUMENT
        keys, documents, positions = keys[kept_places], documents[kept_places], positions[kept_places]
        first_of_document = first_of_document[kept_places]
        unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
        n_documents = np.add.reduceat(first_of_document, first) if len(keys) else _NO_INTS
        kept = n_documents >= min_documents
        rows = np.repeat(kept, counts)
        return cls(unique[kept], np.concatenate([[0], np.cumsum(counts[kept])]), documents[rows], positions[rows])

    @classmethod
    def joined(cls, parts: Iterable["ShingleDocuments"]) -> "ShingleDocuments":
        """One index of parts that hold different keys."""
        parts = list(parts)
        keys = np.concatenate([NO_KEYS, *(p.keys for p in parts)])
        counts = np.concatenate([_NO_INTS, *(np.diff(p.offsets) for p in parts)])
        documents = np.concatenate([_NO_INTS, *(p.documents for p in parts)])
        positions = np.concatenate([_NO_INTS, *(p.positions for p in parts)])
        order = np.argsort(keys, kind="stable")
        rows = _ranges(starts(counts)[order], counts[order])
        return cls(keys[order], np.concatenate([[0], np.cumsum(counts[order])]), documents[rows], positions[rows])

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Index of each key in :attr:`keys`, or -1 where the key is not shared."""
        at = np.searchsorted(self.keys, keys)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == keys[found]
        return np.where(found, at, -1)

    def occurrences(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every occurrence of each shingle ``self.keys[index]``: (position in ``index``, document, word position)."""
        counts = self.offsets[index + 1] - self.offsets[index]
        rows = _ranges(self.offsets[index], counts)
        return np.repeat(np.arange(len(index)), counts), self.documents[rows], self.positions[rows]

    def by_range(self, edges: np.ndarray) -> list["ShingleDocuments"]:
        """For each range of documents ``edges[r]:edges[r + 1]``, the shingles some document of it holds,
        with all their places."""
        counts = np.diff(self.offsets)
        group = np.repeat(np.arange(len(self.keys)), counts)
        in_range = np.searchsorted(edges, self.documents, side="right") - 1
        pairs = np.unique(group * (len(edges) - 1) + in_range)  # (shingle, range), sorted by shingle
        shingles, ranges = pairs // (len(edges) - 1), pairs % (len(edges) - 1)
        found = []
        for part in cut(ranges, len(edges) - 1, index=shingles):
            index = part["index"]
            rows = _ranges(self.offsets[index], counts[index])
            found.append(ShingleDocuments(self.keys[index], np.concatenate([[0], np.cumsum(counts[index])]),
                                          self.documents[rows], self.positions[rows]))
        return found


def _ranges(firsts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices ``firsts[i] .. firsts[i] + counts[i] - 1`` of every range, one range after the other."""
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(firsts, counts) + within


def shared_shingles(min_documents: int, edges: np.ndarray, bucket: int, parts: list[tuple]) -> list[ShingleDocuments]:
    """The shared shingles of one bucket (its ``parts`` from every range of documents), cut by the range
    of documents (``edges``) that holds them."""
    keys = np.concatenate([NO_KEYS, *(part["keys"] for part in parts)])
    numbers = np.concatenate([_NO_INTS, *(part["numbers"] for part in parts)])
    places = np.concatenate([_NO_INTS, *(part["places"] for part in parts)])
    return ShingleDocuments.count(keys, numbers, places, min_documents).by_range(edges)


def pair_runs(words: BlockWords, shared: ShingleDocuments, document: int,
              n: int) -> list[tuple[int, int, tuple[int, ...]]]:
    """Maximal passages of one block shared with each other document.

    Returns ``(start, end, documents)`` in block word positions, sorted. Each
    of ``documents`` (never ``document`` itself) holds the words
    ``start:end`` in one piece: the shingles at ``start, start + 1, ...`` occur
    there at consecutive positions too (the same diagonal), and the run can
    be extended neither way.
    """
    index = shared.find(words.keys)
    starts = np.flatnonzero(index >= 0)
    which, partners, places = shared.occurrences(index[starts])
    starts = starts[which]
    other = partners != document
    starts, partners, places = starts[other], partners[other], places[other]
    if not len(starts):
        return []
    diagonals = places - (words.offset + starts)
    order = np.lexsort((starts, diagonals, partners))
    starts, partners, diagonals = starts[order], partners[order], diagonals[order]
    # a new passage where the partner or the diagonal changes, or a shingle start is skipped
    new = np.ones(len(starts), dtype=bool)
    new[1:] = (partners[1:] != partners[:-1]) | (diagonals[1:] != diagonals[:-1]) | (starts[1:] - starts[:-1] > 1)
    firsts = np.flatnonzero(new)
    lasts = np.concatenate([firsts[1:], [len(starts)]]) - 1
    by_bounds: dict[tuple[int, int], set[int]] = defaultdict(set)
    for first, last in zip(firsts, lasts):
        by_bounds[int(starts[first]), int(starts[last]) + n].add(int(partners[first]))
    return [(start, end, tuple(sorted(docs))) for (start, end), docs in sorted(by_bounds.items())]


def union(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge half-open ranges that overlap or touch.

    >>> union([(5, 9), (0, 3), (3, 4), (8, 12)])
    [(0, 4), (5, 12)]
    """
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass
class Span:
    """The occurrences of one distinct passage (its normalised words)."""

    number: int  # in order of first finding
    text: str
    n_words: int
    documents: set[str]
    positions: list[str]


class Columns:
    """A table built row by row and kept as columns: whole numbers in arrays, the rest in lists."""

    def __init__(self, columns: list[str], *, ints: tuple[str, ...]) -> None:
        self.columns = {name: array("q") if name in ints else [] for name in columns}

    def append(self, **row) -> None:
        for name, value in row.items():
            self.columns[name].append(value)

    def extend(self, other: "Columns") -> None:
        for name, values in other.columns.items():
            self.columns[name].extend(values)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: np.frombuffer(values, dtype=np.int64) if isinstance(values, array) else values
                             for name, values in self.columns.items()})


@dataclass
class Passages:
    """The shared passages of a range of documents (or, merged, of the corpus), with their coverage."""

    spans: dict[str, Span] = field(default_factory=dict)  # by normalised words, in order of first finding
    occurrences: Columns = field(default_factory=lambda: Columns(
        OCCURRENCE_COLUMNS, ints=(*_OCCURRENCE_INTS, "doc_id", "span_id")))  # document and span numbers
    matrix: Columns = field(default_factory=lambda: Columns(MATRIX_COLUMNS[:4], ints=tuple(MATRIX_COLUMNS[:4])))
    shares: list[list] = field(default_factory=list)
    char_ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, shared: ShingleDocuments, doc_ids: Sequence[str], n: int, document: int,
            blocks: list[BlockWords], text: str) -> None:
        """Collect the passages of the ``document``-th document (its counted blocks and text)."""
        doc_id = doc_ids[document]
        shared_words: dict[int, int] = defaultdict(int)
        reused = 0
        char_ranges = []
        for words in blocks:
            runs = pair_runs(words, shared, document, n)
            by_partner = defaultdict(list)
            for start, end, partners in runs:
                for partner in partners:
                    by_partner[partner].append((start, end))
                self._add_occurrence(doc_ids, document, words, start, end, partners, text)
            for partner, ranges in by_partner.items():
                shared_words[partner] += sum(end - start for start, end in union(ranges))
            for start, end in union((start, end) for start, end, _ in runs):
                reused += end - start
                char_ranges.append((words.spans[start][1], words.spans[end - 1][2]))
        self.char_ranges[doc_id] = union(char_ranges)
        total = sum(len(words.spans) for words in blocks)
        self.shares.append([doc_id, total, reused, reused / total if total else 0.0])
        for partner, count in sorted(shared_words.items()):
            self.matrix.append(doc_id=document, other_doc_id=partner, shared_words=count, words=total)

    def _add_occurrence(self, doc_ids: Sequence[str], document: int, words: BlockWords, start: int, end: int,
                        partners: tuple[int, ...], text: str) -> None:
        doc_id = doc_ids[document]
        char_start, char_end = words.spans[start][1], words.spans[end - 1][2]
        key = " ".join(t for t, _, _ in words.spans[start:end])
        span = self.spans.get(key)
        if span is None:
            span = self.spans[key] = Span(len(self.spans), " ".join(text[char_start:char_end].split()), end - start,
                                          set(), [])
        span.documents.update([doc_id, *(doc_ids[p] for p in partners)])
        span.positions.append(f"{doc_id}:{words.offset + start}-{words.offset + end}")
        self.occurrences.append(doc_id=document, block=words.block.index, role=words.block.role,
                                word_start=words.offset + start, word_end=words.offset + end, char_start=char_start,
                                char_end=char_end, span_id=span.number,
                                shared_with=";".join(sorted(doc_ids[p] for p in partners)))


def passages_of_range(source, options: Options, edges: np.ndarray, doc_ids: Sequence[str], part: int,
                      shards: list[ShingleDocuments]):
    """The passages of the ``part``-th range of documents (``edges``), from its shared shingles found in
    every bucket (``shards``), and the sentences of each of those documents, as ``(document, sentences)``."""
    shared = ShingleDocuments.joined(shards)
    reader = Reader(options)
    bounds = (int(edges[part]), int(edges[part + 1]))
    found, sentences = Passages(), []
    for number, doc in enumerate(documents(source, bounds), start=bounds[0]):
        blocks = reader.blocks(doc)
        found.add(shared, doc_ids, options.n, number, blocks, doc.text)
        sentences.append((number, reader.sentences(blocks)))
    return found, sentences


def table(rows: list[list] | pd.DataFrame, columns: list[str], *, ints: tuple[str, ...] = (),
          floats: tuple[str, ...] = ()) -> pd.DataFrame:
    """A DataFrame whose columns are ``int``, ``float`` or else ``str``, also when it has no rows."""
    return pd.DataFrame(rows, columns=columns).astype(
        {c: int if c in ints else float if c in floats else str for c in columns})


def _position_order(position: str) -> tuple[str, int]:
    """``doc_id:start-end`` sorts by document, then by start word.

    >>> sorted(["b:3-20", "a:40-50", "a:7-15"], key=_position_order)
    ['a:7-15', 'a:40-50', 'b:3-20']
    """
    doc_id, words = position.rsplit(":", 1)
    return doc_id, int(words.split("-")[0])


def span_table(rows: list[list], first_id: int) -> pd.DataFrame:
    """Rows of ``shared_spans`` numbered from ``first_id``, from passages merged over the corpus
    (``[text, n_words, documents, positions, ...]`` each, in their final order)."""
    return table(
        [[span_id, text, n_words, len(documents), ";".join(sorted(documents)), len(positions),
          ";".join(sorted(positions, key=_position_order))]
         for span_id, (text, n_words, documents, positions, *_) in enumerate(rows, start=first_id)],
        SPAN_COLUMNS, ints=("span_id", "n_words", "n_documents", "occurrences"),
    )


def occurrence_table(found: Passages, span_ids: np.ndarray, doc_ids: Sequence[str]) -> pd.DataFrame:
    """Rows of ``span_occurrences`` of the range of ``found``, its passage numbers replaced by their
    ``span_ids``."""
    occurrences = found.occurrences.frame()
    if len(occurrences):
        occurrences["doc_id"] = np.asarray(doc_ids, dtype=object)[occurrences["doc_id"].to_numpy()]
    else:
        occurrences["doc_id"] = ""
    occurrences["span_id"] = span_ids[occurrences["span_id"].to_numpy()]
    return table(occurrences, OCCURRENCE_COLUMNS, ints=(*_OCCURRENCE_INTS, "span_id"))


def coverage_tables(matrices: list[pd.DataFrame], shares: list[list], doc_ids: Sequence[str],
                    n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``reuse_matrix`` and ``reused_share`` of the whole corpus, from the rows of every range in order."""
    matrix = pd.concat(matrices, ignore_index=True)
    ids = np.asarray(doc_ids, dtype=object)
    for column in ("doc_id", "other_doc_id"):
        matrix[column] = ids[matrix[column].to_numpy()] if len(matrix) else ""
    matrix["share"] = matrix["shared_words"] / matrix["words"]
    matrix = table(matrix, MATRIX_COLUMNS, ints=("shared_words", "words"), floats=("share",))
    shares = table(shares, SHARE_COLUMNS, ints=("words", "reused_words"), floats=("share",))
    for frame in (matrix, shares):
        frame.attrs["n"] = n  # the plots name the shingle length
    return matrix, shares
