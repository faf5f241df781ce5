"""The long reuse tables, written as Parquet parts by the tasks that hold their rows.

Both tables are sorted over the whole corpus, so each is range-partitioned (:mod:`analysis.parts`):
the tasks send back only how many rows fall on each sort code, and each partition sorts and writes its
own rows. The client never holds a passage's text or a sentence.

**Passages.** Each range of documents has found its passages, numbered within the range
(:class:`~analysis.reuse.passages.Passages`).

1. :func:`span_pieces` (in the range's task): its distinct passages cut into buckets by a digest of
   their words.
2. :func:`merged_spans` (a combine per bucket): each passage's occurrences from every range, in corpus
   order, so its text is that of its first occurrence, as in a serial run; rows counted by sort code
   (words x documents, largest first, then the first two bytes of the words).
3. :func:`span_part` (a combine per partition): the partition's passages sorted exactly, numbered
   (``span_id``) after the rows of the partitions before, written as a part of ``shared_spans``; each
   range is told the ``span_id`` of its passages.
4. :func:`occurrence_part` (a combine per range, beside its passages): the range's occurrences with
   their ``span_id``, written as a part of ``span_occurrences``; the range's rows of the reuse matrix,
   its documents' shares and reused character ranges go back to the client (a row per document or
   pair of documents).

**Near-duplicate sentences.** The verified pairs lie in the parts of the sentence shuffles.

1. :func:`pair_counts`: pairs counted by similarity and by their first sentence (its range and its
   place there).
2. :func:`cut_pairs`, then :func:`sorted_pairs` (a combine per partition): the partition's pairs
   sorted (most similar first, then in corpus order), and the ids of their sentences cut by range.
3. :func:`pair_sentences` (a combine per range, beside what the table says of its sentences): the
   rows of the sentences each partition asked for.
4. :func:`pair_part` (a combine per partition): the partition's rows of ``near_duplicate_sentences``,
   written as a part.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

from analysis.parts import code_counts, partition_of, write_part
from analysis.reuse.passages import Passages, occurrence_table, span_table
from analysis.reuse.reading import cut
from analysis.reuse.sentences import SentenceInfo, sentence_table

_NO_INTS = np.zeros(0, dtype=np.int64)
_PREFIX = 65_536  # codes of the first two bytes of a passage's words


def part_path(folder: str | Path, name: str, number: int) -> Path:
    """``folder/<name>-00012.parquet``: part ``number`` of table ``name``."""
    return Path(folder) / f"{name}-{number:05d}.parquet"


def _digest_buckets(keys: list[str], buckets: int) -> np.ndarray:
    digests = b"".join(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest() for key in keys)
    return (np.frombuffer(digests, dtype=np.uint64) % np.uint64(buckets)).astype(np.int64)


def span_pieces(found: Passages, buckets: int) -> list[list[tuple]]:
    """Move the distinct passages out of one range's ``found``, cut into ``buckets`` by a digest of their
    words: ``(words, number, text, n_words, documents, positions)`` each, in order of first finding."""
    spans, found.spans = found.spans, {}
    pieces: list[list[tuple]] = [[] for _ in range(buckets)]
    for (key, span), bucket in zip(spans.items(), _digest_buckets(list(spans), buckets).tolist()):
        pieces[bucket].append((key, span.number, span.text, span.n_words, span.documents, span.positions))
    return pieces


def _prefix(keys: list[str]) -> np.ndarray:
    """The first two UTF-8 bytes of each key as a number: byte order is code point order, so this never
    decreases along the keys' string order."""
    heads = [key.encode("utf-8")[:2].ljust(2, b"\0") for key in keys]
    return np.frombuffer(b"".join(heads), dtype=">u2").astype(np.int64) if heads else _NO_INTS


def merged_spans(bucket: int, pieces: list[list[tuple]]) -> tuple[dict, tuple]:
    """One bucket's passages merged over the ranges (``pieces`` in corpus order), and their rows counted
    by sort code (:func:`analysis.parts.code_counts`)."""
    merged: dict[str, list] = {}
    for part, piece in enumerate(pieces):
        for key, number, text, n_words, documents, positions in piece:
            row = merged.get(key)
            if row is None:
                row = merged[key] = [text, n_words, set(), [], []]
            row[2] |= documents
            row[3].extend(positions)
            row[4].append((part, number))
    keys = list(merged)
    score = np.asarray([row[1] * len(row[2]) for row in merged.values()], dtype=np.int64)
    codes = -score * _PREFIX + _prefix(keys)
    return {"keys": keys, "rows": list(merged.values()), "codes": codes}, code_counts(codes)


def cut_spans(bounds: np.ndarray, partitions: int, merged: dict) -> list[dict]:
    """A bucket's merged passages cut by partition."""
    where = partition_of(merged["codes"], bounds)
    pieces = [{"keys": [], "rows": [], "codes": []} for _ in range(partitions)]
    for key, row, code, partition in zip(merged["keys"], merged["rows"], merged["codes"].tolist(), where.tolist()):
        piece = pieces[partition]
        piece["keys"].append(key)
        piece["rows"].append(row)
        piece["codes"].append(code)
    return pieces


def span_part(folder: str, before: np.ndarray, ranges: int, partition: int, pieces: list[dict]) -> tuple:
    """Sort, number and write the passages of one partition; returns the part and, for each range, the
    ``(number, span_id)`` of its passages found here."""
    keys = [key for piece in pieces for key in piece["keys"]]
    rows = [row for piece in pieces for row in piece["rows"]]
    codes = [code for piece in pieces for code in piece["codes"]]
    order = sorted(range(len(keys)), key=lambda i: (codes[i], keys[i]))  # words x documents, then words
    first_id = int(before[partition]) + 1
    target = write_part(span_table([rows[i] for i in order], first_id), part_path(folder, "reuse_spans", partition))
    origins = [(part, number, span_id) for span_id, i in enumerate(order, start=first_id) for part, number in rows[i][4]]
    found = np.asarray(origins, dtype=np.int64).reshape(-1, 3)
    numbered = cut(found[:, 0], ranges, numbers=found[:, 1], span_ids=found[:, 2])
    return str(target), numbered


def occurrence_part(folder: str, doc_ids: Sequence[str], part: int, found: Passages, pieces: list[dict]) -> tuple:
    """Write the occurrences of one range with their ``span_id`` (``pieces``: from every partition);
    returns the part, the range's reuse matrix rows (document numbers), shares and character ranges."""
    numbers = np.concatenate([_NO_INTS, *(piece["numbers"] for piece in pieces)])
    span_ids = np.zeros(len(numbers), dtype=np.int64)
    span_ids[numbers] = np.concatenate([_NO_INTS, *(piece["span_ids"] for piece in pieces)])
    target = write_part(occurrence_table(found, span_ids, doc_ids), part_path(folder, "reuse_occurrences", part))
    return str(target), found.matrix.frame(), found.shares, found.char_ranges


_SLOT_BITS = 20  # a sort code tells apart the first 2**20 sentences of a range (the rest share the last code)


def _slots(first: np.ndarray) -> np.ndarray:
    """Each pair's place in corpus order: the range of its first sentence, then the sentence's place in the
    range (:func:`~analysis.reuse.sentences.sentence_id`), so that the pairs of one range are split."""
    within = np.minimum(first & np.int64(0xFFFFFFFF), np.int64((1 << _SLOT_BITS) - 1))
    return ((first >> np.int64(32)) << np.int64(_SLOT_BITS)) | within


def pair_counts(ranges: int, pairs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs counted by similarity and slot (:func:`_slots`): the three columns."""
    levels, level = np.unique(pairs["similarity"], return_inverse=True)
    width = np.int64(ranges) << np.int64(_SLOT_BITS)
    codes, counts = np.unique(level.ravel() * width + _slots(pairs["first"]), return_counts=True)
    return levels[codes // width], codes % width, counts


def pair_codes(levels: np.ndarray, ranges: int, similarity: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Sort codes of pairs: the rank of their similarity among ``levels`` (every similarity found,
    ascending), most similar first, then their slot."""
    rank = len(levels) - 1 - np.searchsorted(levels, similarity)
    return rank * (np.int64(ranges) << np.int64(_SLOT_BITS)) + slots


def cut_pairs(levels: np.ndarray, ranges: int, bounds: np.ndarray, partitions: int, pairs: dict) -> list[dict]:
    """One part's pairs cut by partition."""
    codes = pair_codes(levels, ranges, pairs["similarity"], _slots(pairs["first"]))
    return cut(partition_of(codes, bounds), partitions, **pairs)


def sorted_pairs(ranges: int, partition: int, pieces: list[dict]) -> tuple[dict, list[dict]]:
    """The pairs of one partition, most similar first, then in corpus order; and the ids of their
    sentences cut by range."""
    columns = {name: np.concatenate([np.zeros(0, dtype=dtype), *(piece[name] for piece in pieces)])
               for name, dtype in (("first", np.int64), ("second", np.int64), ("similarity", float))}
    order = np.lexsort((columns["second"], columns["first"], -columns["similarity"]))
    wanted = np.unique(np.concatenate([columns["first"], columns["second"]]))
    return {name: values[order] for name, values in columns.items()}, cut(wanted >> np.int64(32), ranges, ids=wanted)


def pair_sentences(part: int, info: SentenceInfo, pieces: list[dict]) -> list[tuple]:
    """The rows (:meth:`SentenceInfo.rows`) of the sentences of one range that each partition asked for."""
    return [info.rows(piece["ids"]) for piece in pieces]


def pair_part(folder: str, doc_ids: Sequence[str], partition: int, pairs: dict, pieces: list[tuple]) -> str:
    """Write the rows of one partition of ``near_duplicate_sentences`` (``pieces``: its sentences' rows
    from every range)."""
    table = sentence_table(pairs["first"], pairs["second"], pairs["similarity"], pieces, doc_ids)
    return str(write_part(table, part_path(folder, "near_duplicate_sentences", partition)))
