"""Text reuse across documents: shared passages and near-duplicate sentences.

Web articles written from one template or one source repeat each other's
wording. :func:`find_reuse` reads the corpus twice (the first pass counts,
the second collects) and returns a :class:`Reuse` with every table below.

**Words.** The normalised word tokens of the term counts (NFKC, lowercase,
straight quotes, possessive ``'s`` removed; see :mod:`analysis.tokens`), in
the blocks that are counted (the outline is left out by default, as in the
term counts: it repeats the headings). Word positions count every block of
the document, as :func:`analysis.concordance.kwic` does, and ranges are
half-open like Python slices: ``word_start`` is the first word, ``word_end``
the one after the last; ``char_start``/``char_end`` index ``doc.text``.

**Shingles.** Every run of ``n`` consecutive words inside one block (never
across two blocks: a heading is not joined to its paragraph; a block shorter
than ``n`` words has none). A shingle is *shared* when it occurs in at least
``min_documents`` documents. A document counts once however often it repeats
a shingle, so text repeated within a single document only is not reuse.

**Passages (``span_occurrences``).** For a document A and another document B,
a passage of A shared with B is a longest run of words that A and B both hold
in one piece: the shingles starting at consecutive words of A occur at
consecutive words of B (one diagonal of the A x B match; two shingles that
occur in B only at different places are two passages). A passage that A shares with several
documents at exactly the same boundaries is one occurrence, and
``shared_with`` lists those documents. Passages shared with different
documents may overlap: in the seed corpus, article 001 shares "kratom, a
tropical evergreen tree native to Southeast Asia, has garnered attention in"
with 004 and "has garnered attention in the realm of natural pain management
due to its" with 003.

**Spans (``shared_spans``).** Occurrences grouped by their normalised words:
one row per distinct passage, with the documents that hold it or share it;
every one of them holds its words in one piece. The text is usually the same
in all of them. Where B holds A's passage only inside a longer passage whose
boundaries differ, B is among ``documents`` but has no entry in
``positions``.

**Coverage** (``reused_share``, ``reuse_matrix``, ``reused_char_ranges``):
a word is reused when it lies in any shared passage, so passages are merged
(their union), not added.

**Near-duplicate sentences.** Sentences (:func:`analysis.tokens.split_sentences`
within each block) with at least ``min_sentence_words`` words are compared by
the Jaccard similarity of their sets of word ``sentence_n``-grams, across
documents only. The default compares sets of words (``sentence_n = 1``): the
seed articles paraphrase one template ("Kratom, derived from the tropical
plant Mitragyna speciosa, has gained [significant] attention ..."), which
keeps most words but breaks word trigrams (similarity 0.67 by words, 0.33 by
trigrams); ``sentence_n = 3`` finds only near-verbatim copies. Candidate
pairs come from MinHash locality-sensitive hashing and are verified on the
exact sets (see :class:`_SentenceMatcher`): every reported pair reaches the
threshold; on a 3,142-message sample of 20 Newsgroups the matcher finds
31,858 of the 31,865 pairs an all-pairs comparison finds.

**Scale and determinism.** Documents are streamed; the first pass keeps
only 64-bit shingle keys and their word positions, the second the shingles
found in two documents or more and what is reported. On the 20 Newsgroups
corpus (18,847 messages, 34 MB) this takes about 65 s and 1.3 GB at most,
most of it for the MinHash signatures of its sentences and the 1.2 million
pairs of near-duplicate sentences that replies quote from each other (half
the corpus: 27 s, 0.73 GB). The pair table holds each sentence and document
id once (categorical columns), not once per pair. Keys are
built from BLAKE2b hashes of the tokens and MinHash from fixed seeds, never
from Python's ``hash`` (salted per process), so the tables are identical in
every run.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from analysis.corpus import Document
from analysis.errors import AnalysisError
from analysis.memory import release_freed_memory
from analysis.structure import Block
from analysis.tokens import EXCLUDED_ROLES_DEFAULT, split_sentences, token_spans, tokenize

Progress = Callable[[Iterable, str], Iterable]  # wraps an iterable with a bar saying what it is doing


def _silent(iterable: Iterable, description: str) -> Iterable:
    return iterable


def _starts(sizes: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of these ``sizes`` starts."""
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


SPAN_COLUMNS = ["span_id", "text", "n_words", "n_documents", "documents", "occurrences", "positions"]
OCCURRENCE_COLUMNS = ["doc_id", "block", "role", "word_start", "word_end", "char_start", "char_end", "span_id",
                      "shared_with"]
SENTENCE_COLUMNS = ["doc_a", "block_a", "role_a", "sentence_a", "doc_b", "block_b", "role_b", "sentence_b",
                    "similarity"]
MATRIX_COLUMNS = ["doc_id", "other_doc_id", "shared_words", "words", "share"]
SHARE_COLUMNS = ["doc_id", "words", "reused_words", "share"]

MAX_PLACES_PER_DOCUMENT = 4
_MULTIPLIER = np.uint64(0x100000001B3)  # odd, so every shingle position stirs all 64 bits of the key
_NO_KEYS = np.empty(0, dtype=np.uint64)


@dataclass(frozen=True)
class Reuse:
    """Text shared between the documents of a corpus (see the module notes).

    Attributes
    ----------
    n : int
        Shingle length in words.
    min_documents : int
        Documents a shingle must occur in to count as shared.
    shared_spans : DataFrame
        One row per distinct passage: ``span_id, text, n_words, n_documents,
        documents, occurrences, positions``. ``text`` is the first
        occurrence's original text (white space collapsed); ``documents`` the
        sorted ids of the documents that hold or share it, ``;``-joined;
        ``positions`` each occurrence as ``doc_id:word_start-word_end``.
        Sorted by ``n_words * n_documents`` (largest first), then by the
        normalised words;
        ``span_id`` numbers the rows from 1.
    span_occurrences : DataFrame
        One row per occurrence: ``doc_id, block, role, word_start, word_end,
        char_start, char_end, span_id, shared_with`` (the ids of the other
        documents it is shared with, ``;``-joined), in reading order.
    near_duplicate_sentences : DataFrame
        ``doc_a, block_a, role_a, sentence_a, doc_b, block_b, role_b,
        sentence_b, similarity``: pairs of sentences of different documents
        (``doc_a`` first in the corpus) whose Jaccard similarity reaches the
        threshold; identical sentences have similarity 1.0. Most similar
        first.
    reuse_matrix : DataFrame
        ``doc_id, other_doc_id, shared_words, words, share``: of the ``words``
        word tokens of ``doc_id``, ``shared_words`` lie in a shingle that
        also occurs in ``other_doc_id``; ``share = shared_words / words``.
        Not symmetric (the documents differ in length). Only pairs of
        different documents that share words are listed: a missing pair,
        and the diagonal, share nothing by definition.
    reused_share : DataFrame
        One row per document: ``doc_id, words, reused_words, share``, the
        word tokens inside a passage shared with any other document
        (``share`` is 0 for a document without words).
    reused_char_ranges : dict of str to list of (int, int)
        For every document, the sorted, non-overlapping ``(start, end)``
        character ranges of ``doc.text`` covered by shared passages (from the
        first character of a passage's first word to the last of its last
        word), for masking reused text out of other analyses.

    The passage tables carry ``n`` in their ``attrs`` too (for figure titles).
    """

    n: int
    min_documents: int
    shared_spans: pd.DataFrame
    span_occurrences: pd.DataFrame
    near_duplicate_sentences: pd.DataFrame
    reuse_matrix: pd.DataFrame
    reused_share: pd.DataFrame
    reused_char_ranges: dict[str, list[tuple[int, int]]]


class _ShingleHasher:
    """Stable 64-bit keys of word n-grams, the same in every process.

    Each distinct token is hashed once with BLAKE2b; the key of the n-gram
    ``t_0 .. t_(n-1)`` is ``sum(h(t_j) * M ** (n - 1 - j)) mod 2**64``,
    computed for all n-grams of a token list at once.
    """

    def __init__(self) -> None:
        self._token_keys: dict[str, int] = {}

    def _token_key(self, token: str) -> int:
        key = self._token_keys.get(token)
        if key is None:
            key = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
            self._token_keys[token] = key
        return key

    def keys(self, tokens: list[str], n: int) -> np.ndarray:
        """The key of the n-gram starting at each token (``len(tokens) - n + 1`` keys, or none)."""
        count = len(tokens) - n + 1
        if count <= 0:
            return _NO_KEYS
        hashed = np.fromiter((self._token_key(t) for t in tokens), dtype=np.uint64, count=len(tokens))
        keys = np.zeros(count, dtype=np.uint64)
        for j in range(n):
            keys = keys * _MULTIPLIER + hashed[j:j + count]  # wraps around modulo 2**64
        return keys


@dataclass(frozen=True)
class _ShingleDocuments:
    """The shingles found in at least ``min_documents`` documents, and where.

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
    def count(cls, keys_by_document: list[np.ndarray], positions_by_document: list[np.ndarray],
              min_documents: int) -> "_ShingleDocuments":
        """Build from each document's shingle keys and their word positions (document ``i`` at index ``i``)."""
        keys = np.concatenate([_NO_KEYS, *keys_by_document])
        positions = np.concatenate([np.zeros(0, dtype=np.int64), *positions_by_document])
        documents = np.repeat(np.arange(len(keys_by_document)), [len(k) for k in keys_by_document])
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
        unique, starts, counts = np.unique(keys, return_index=True, return_counts=True)
        n_documents = np.add.reduceat(first_of_document, starts) if len(keys) else np.zeros(0, dtype=np.int64)
        kept = n_documents >= min_documents
        offsets = np.concatenate([[0], np.cumsum(counts[kept])])
        rows = np.repeat(kept, counts)
        return cls(unique[kept], offsets, documents[rows], positions[rows])

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Index of each key in :attr:`keys`, or -1 where the key is not shared."""
        at = np.searchsorted(self.keys, keys)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == keys[found]
        return np.where(found, at, -1)

    def occurrences(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every occurrence of each shingle ``self.keys[index]``: (position in ``index``, document, word position)."""
        counts = self.offsets[index + 1] - self.offsets[index]
        which = np.repeat(np.arange(len(index)), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = self.offsets[index][which] + within
        return which, self.documents[rows], self.positions[rows]


@dataclass(frozen=True)
class _BlockWords:
    """A counted block: its words with spans in ``doc.text`` and the keys of its shingles."""

    block: Block
    offset: int  # word position of the block's first word in the document
    spans: list[tuple[str, int, int]]
    keys: np.ndarray  # keys[i]: the shingle starting at word i of the block


@dataclass(frozen=True, slots=True)
class _Sentence:
    block: int  # the block's index in its document
    role: str
    text: str
    keys: np.ndarray  # the distinct keys of its shingles, sorted


@dataclass(frozen=True)
class _Options:
    n: int
    min_documents: int
    sentence_n: int
    sentence_threshold: float
    min_sentence_words: int
    excluded_roles: tuple[str, ...]


class _Reader:
    """Words, shingles and sentences of a document, the same in both passes."""

    def __init__(self, options: _Options) -> None:
        self.options = options
        self.hasher = _ShingleHasher()

    def blocks(self, doc: Document) -> list[_BlockWords]:
        """The counted blocks of ``doc``.

        Words are read from ``doc.text`` between the block's offsets (the same
        words as ``block.text``, which drops list markers and joins lines), so
        their spans index ``doc.text`` exactly.
        """
        counted, offset = [], 0
        for block in doc.blocks:
            spans = [(t, block.start + s, block.start + e)
                     for t, s, e in token_spans(doc.text[block.start:block.end])]
            if block.role not in self.options.excluded_roles:
                keys = self.hasher.keys([t for t, _, _ in spans], self.options.n)
                counted.append(_BlockWords(block, offset, spans, keys))
            offset += len(spans)
        return counted

    def sentences(self, blocks: list[_BlockWords]) -> list[_Sentence]:
        """The sentences of the counted blocks long enough to compare."""
        shortest = max(self.options.min_sentence_words, self.options.sentence_n)
        found = []
        for words in blocks:
            for sentence in split_sentences(words.block.text):
                tokens = tokenize(sentence)
                if len(tokens) >= shortest:
                    keys = np.unique(self.hasher.keys(tokens, self.options.sentence_n))
                    found.append(_Sentence(words.block.index, words.block.role, " ".join(sentence.split()), keys))
        return found


def _pair_runs(words: _BlockWords, shared: _ShingleDocuments, document: int,
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


def _union(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge half-open ranges that overlap or touch.

    >>> _union([(5, 9), (0, 3), (3, 4), (8, 12)])
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
class _Span:
    """The occurrences of one distinct passage (its normalised words)."""

    number: int  # in order of first finding
    text: str
    n_words: int
    documents: set[str]
    positions: list[str]


class _PassageCollector:
    """Shared passages of each document, and the coverage tables built from them."""

    def __init__(self, shared: _ShingleDocuments, doc_ids: list[str], n: int) -> None:
        self.shared = shared
        self.doc_ids = doc_ids
        self.n = n
        self.spans: dict[str, _Span] = {}
        # Tables kept as columns (integers in arrays): hundreds of thousands of rows on a large corpus.
        self.occurrences = _Columns(OCCURRENCE_COLUMNS, ints=(*_OCCURRENCE_INTS, "doc_id", "span_id"))  # span numbers
        self.matrix = _Columns(MATRIX_COLUMNS[:4], ints=tuple(MATRIX_COLUMNS[:4]))  # and share, computed at the end
        self.shares: list[list] = []
        self.char_ranges: dict[str, list[tuple[int, int]]] = {}

    def add(self, document: int, blocks: list[_BlockWords], text: str) -> None:
        """Collect the passages of the ``document``-th document (its counted blocks and text)."""
        doc_id = self.doc_ids[document]
        shared_words: dict[int, int] = defaultdict(int)
        reused = 0
        char_ranges = []
        for words in blocks:
            runs = _pair_runs(words, self.shared, document, self.n)
            by_partner = defaultdict(list)
            for start, end, partners in runs:
                for partner in partners:
                    by_partner[partner].append((start, end))
                self._add_occurrence(document, words, start, end, partners, text)
            for partner, ranges in by_partner.items():
                shared_words[partner] += sum(end - start for start, end in _union(ranges))
            for start, end in _union((start, end) for start, end, _ in runs):
                reused += end - start
                char_ranges.append((words.spans[start][1], words.spans[end - 1][2]))
        self.char_ranges[doc_id] = _union(char_ranges)
        total = sum(len(words.spans) for words in blocks)
        self.shares.append([doc_id, total, reused, reused / total if total else 0.0])
        for partner, count in sorted(shared_words.items()):
            self.matrix.append(doc_id=document, other_doc_id=partner, shared_words=count, words=total)

    def _add_occurrence(self, document: int, words: _BlockWords, start: int, end: int, partners: tuple[int, ...],
                        text: str) -> None:
        doc_id = self.doc_ids[document]
        char_start, char_end = words.spans[start][1], words.spans[end - 1][2]
        key = " ".join(t for t, _, _ in words.spans[start:end])
        span = self.spans.get(key)
        if span is None:
            span = self.spans[key] = _Span(len(self.spans), " ".join(text[char_start:char_end].split()), end - start,
                                           set(), [])
        span.documents.update([doc_id, *(self.doc_ids[p] for p in partners)])
        span.positions.append(f"{doc_id}:{words.offset + start}-{words.offset + end}")
        self.occurrences.append(doc_id=document, block=words.block.index, role=words.block.role,
                                word_start=words.offset + start, word_end=words.offset + end, char_start=char_start,
                                char_end=char_end, span_id=span.number,
                                shared_with=";".join(sorted(self.doc_ids[p] for p in partners)))

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """``shared_spans``, ``span_occurrences``, ``reuse_matrix`` and ``reused_share``."""
        order = sorted(self.spans, key=lambda key: (-self.spans[key].n_words * len(self.spans[key].documents), key))
        ranked = [self.spans[key] for key in order]  # span_id is the place in this order, from 1
        spans = _table(
            [[span_id, span.text, span.n_words, len(span.documents), ";".join(sorted(span.documents)),
              len(span.positions), ";".join(sorted(span.positions, key=_position_order))]
             for span_id, span in enumerate(ranked, start=1)],
            SPAN_COLUMNS, ints=("span_id", "n_words", "n_documents", "occurrences"),
        )
        doc_ids = np.asarray(self.doc_ids, dtype=object)
        span_id_of_number = np.zeros(len(ranked), dtype=np.int64)
        span_id_of_number[[span.number for span in ranked]] = np.arange(1, len(ranked) + 1)
        occurrences = self.occurrences.frame()
        occurrences["doc_id"] = doc_ids[occurrences["doc_id"].to_numpy()] if len(occurrences) else ""
        occurrences["span_id"] = span_id_of_number[occurrences["span_id"].to_numpy()]
        occurrences = _table(occurrences, OCCURRENCE_COLUMNS, ints=(*_OCCURRENCE_INTS, "span_id"))
        matrix = self.matrix.frame()
        for column in ("doc_id", "other_doc_id"):
            matrix[column] = doc_ids[matrix[column].to_numpy()] if len(matrix) else ""
        matrix["share"] = matrix["shared_words"] / matrix["words"]
        matrix = _table(matrix, MATRIX_COLUMNS, ints=("shared_words", "words"), floats=("share",))
        shares = _table(self.shares, SHARE_COLUMNS, ints=("words", "reused_words"), floats=("share",))
        for table in (spans, occurrences, matrix, shares):
            table.attrs["n"] = self.n  # the plots name the shingle length
        return spans, occurrences, matrix, shares


_OCCURRENCE_INTS = ("block", "word_start", "word_end", "char_start", "char_end")


class _Columns:
    """A table built row by row and kept as columns: whole numbers in arrays, the rest in lists."""

    def __init__(self, columns: list[str], *, ints: tuple[str, ...]) -> None:
        self.columns = {name: array("q") if name in ints else [] for name in columns}

    def append(self, **row) -> None:
        for name, value in row.items():
            self.columns[name].append(value)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: np.frombuffer(values, dtype=np.int64) if isinstance(values, array) else values
                             for name, values in self.columns.items()})


def _table(rows: list[list] | pd.DataFrame, columns: list[str], *, ints: tuple[str, ...] = (),
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


MINHASH_PERMUTATIONS = 192
LSH_RECALL = 0.95  # the least chance that a pair at the threshold becomes a candidate
_ESTIMATE_MARGIN = 0.15  # candidates whose estimated similarity is this far below the threshold are dropped
_MINHASH_SEED = 20260101
_MINHASH_BATCH = 512  # sets hashed at once: each costs about 200 x its keys x 8 bytes


def _minhash_signatures(keys: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """MinHash signatures (sets x permutations) of sets of 64-bit keys, given one set after the
    other (``keys``) with their ``sizes``.

    Each permutation is a multiply-shift hash ``(a x + b) mod 2**64 >> 32``
    with fixed random odd ``a``, so signatures are the same in every run.
    Every set must hold at least one key.
    """
    rng = np.random.default_rng(_MINHASH_SEED)
    a = rng.integers(1, 2**63, size=MINHASH_PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=MINHASH_PERMUTATIONS, dtype=np.uint64)
    starts = _starts(sizes)
    signatures = np.empty((len(sizes), MINHASH_PERMUTATIONS), dtype=np.uint32)
    for first in range(0, len(sizes), _MINHASH_BATCH):  # a batch at a time, to bound memory
        last = min(len(sizes), first + _MINHASH_BATCH)
        lo, hi = starts[first], starts[last - 1] + sizes[last - 1]
        hashed = ((keys[lo:hi, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
        signatures[first:last] = np.minimum.reduceat(hashed, starts[first:last] - lo, axis=0)
    return signatures


def lsh_rows(threshold: float) -> int:
    """Rows per band: the most (the fewest false candidates) that still make a pair at ``threshold`` a
    candidate with probability :data:`LSH_RECALL` or more, ``1 - (1 - t**r)**(192 // r)``.

    >>> [lsh_rows(t) for t in (0.3, 0.5, 0.8)]
    [2, 4, 9]
    """
    fitting = [r for r in range(1, 17)
               if 1 - (1 - threshold ** r) ** (MINHASH_PERMUTATIONS // r) >= LSH_RECALL]
    return max(fitting, default=1)


_PAIRS_AT_ONCE = 50_000  # each pair costs two signatures of memory while it is checked


def _bucket_pairs(members: np.ndarray, sizes: np.ndarray):
    """All pairs within buckets, about :data:`_PAIRS_AT_ONCE` at a time.

    ``members`` lists the buckets one after the other, ``sizes`` their sizes
    (2 or more). Buckets of one size are paired at once; a huge bucket a few
    rows at a time.
    """
    starts = _starts(sizes)
    for size in np.unique(sizes).tolist():
        i, j = np.triu_indices(size, k=1)
        if len(i) <= _PAIRS_AT_ONCE:
            table = members[starts[sizes == size][:, None] + np.arange(size)[None, :]]
            step = max(1, _PAIRS_AT_ONCE // len(i))
            for first in range(0, len(table), step):
                block = table[first:first + step]
                yield block[:, i].ravel(), block[:, j].ravel()
            continue
        for start in starts[sizes == size].tolist():
            bucket = members[start:start + size]
            rows = max(1, _PAIRS_AT_ONCE // size)
            for first in range(0, size - 1, rows):
                a, b = np.nonzero(np.arange(first, min(size, first + rows))[:, None] < np.arange(size)[None, :])
                yield bucket[a + first], bucket[b]


def _band_keys(rows: np.ndarray) -> np.ndarray:
    """A 64-bit key for each row of a band's values (SplitMix64 steps): equal rows get equal keys, and two
    different rows the same key with chance 2**-64, which would only add a candidate to be checked."""
    key = np.zeros(len(rows), dtype=np.uint64)
    for column in rows.T:
        key += column.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        key ^= key >> np.uint64(30)
        key *= np.uint64(0xBF58476D1CE4E5B9)
        key ^= key >> np.uint64(27)
        key *= np.uint64(0x94D049BB133111EB)
        key ^= key >> np.uint64(31)
    return key


def _lsh_candidates(signatures: np.ndarray, threshold: float, progress: Progress = _silent) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of sets that agree on all rows of some band and on at least
    ``threshold - 0.15`` of all their values, band by band so that memory stays bounded."""
    n, rows_per_band = len(signatures), lsh_rows(threshold)
    # The low byte of each value agrees wherever the whole value does: comparing those first rules
    # out most candidates at a quarter of the memory traffic, and never one that would pass.
    low_bytes = signatures.astype(np.uint8)
    # Agreeing on at least threshold - 0.15 of the values, as a count (the fraction compared exactly as a float).
    needed = next(c for c in range(MINHASH_PERMUTATIONS + 1)
                  if c / MINHASH_PERMUTATIONS >= threshold - _ESTIMATE_MARGIN)
    found = []
    for band in progress(range(MINHASH_PERMUTATIONS // rows_per_band), "reuse: similar sentences (LSH bands)"):
        codes, _ = pd.factorize(_band_keys(signatures[:, band * rows_per_band:(band + 1) * rows_per_band]))
        sizes = np.bincount(codes)
        members = np.flatnonzero(sizes[codes] > 1)
        members = members[np.argsort(codes[members], kind="stable")]
        for a, b in _bucket_pairs(members, sizes[sizes > 1]):
            maybe = np.count_nonzero(low_bytes[a] == low_bytes[b], axis=1) >= needed
            a, b = a[maybe], b[maybe]
            keep = np.count_nonzero(signatures[a] == signatures[b], axis=1) >= needed
            found.append(np.minimum(a[keep], b[keep]).astype(np.int64) * n + np.maximum(a[keep], b[keep]))
        # A pair similar enough is found again in most bands: keep each once (in order of first finding).
        found = [pd.unique(np.concatenate([np.zeros(0, dtype=np.int64), *found]))]
    keys = found[0] if found else np.zeros(0, dtype=np.int64)
    return np.stack([keys // n, keys % n], axis=1)


class _SentenceMatcher:
    """Near-duplicate sentences across documents: MinHash LSH, every candidate verified exactly.

    Sentences with the same set of shingles are matched once. Each distinct
    set gets a MinHash signature of :data:`MINHASH_PERMUTATIONS` values cut
    into bands of :func:`lsh_rows` rows (4 for the default threshold 0.5);
    sets that agree on all values of some band are candidates. Candidates
    whose signatures agree on fewer than ``threshold - 0.15`` of the values
    are dropped, and the rest are reported only when the exact Jaccard
    similarity of their sets reaches the threshold: no pair below it is ever
    reported, and a pair above it is missed only when its signatures
    disagree by chance (the README gives the recall measured on planted
    near-duplicates). Work grows with the number of sentences and of
    candidates, not with the number of pairs of sentences.
    """

    def __init__(self, doc_ids: list[str], threshold: float) -> None:
        self.doc_ids = doc_ids
        self.threshold = threshold
        # One entry per sentence; the keys of all sentences one after the other (one array per document).
        self.documents: list[int] = []
        self.blocks: list[int] = []
        self.roles: list[str] = []
        self.texts: list[str] = []
        self.sizes: list[int] = []
        self.keys: list[np.ndarray] = []

    def add(self, document: int, sentences: list[_Sentence]) -> None:
        """Collect the sentences of the ``document``-th document."""
        self.documents.extend([document] * len(sentences))
        self.blocks.extend(s.block for s in sentences)
        self.roles.extend(s.role for s in sentences)
        self.texts.extend(s.text for s in sentences)
        self.sizes.extend(len(s.keys) for s in sentences)
        if sentences:
            self.keys.append(np.concatenate([s.keys for s in sentences]))

    def _pairs(self, documents: np.ndarray, progress: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sentence numbers ``first < second`` and the similarity of each pair found, in report order."""
        if len(self.sizes) < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        keys = np.concatenate(self.keys)
        sizes = np.asarray(self.sizes, dtype=np.int64)
        starts = _starts(sizes)
        # Sentences with the same set are matched once; their copies are paired afterwards.
        digests = [hashlib.blake2b(keys[a:a + n].tobytes(), digest_size=16).digest()
                   for a, n in zip(starts.tolist(), sizes.tolist())]
        group, _ = pd.factorize(pd.Series(digests, dtype=object))
        del digests
        _, first = np.unique(group, return_index=True)
        unique_sizes = sizes[first]
        unique_starts = _starts(unique_sizes)
        unique_keys = keys[np.repeat(starts[first] - unique_starts, unique_sizes) + np.arange(unique_sizes.sum())]
        del keys
        release_freed_memory()
        candidates = _lsh_candidates(_minhash_signatures(unique_keys, unique_sizes), self.threshold, progress)
        verified = []
        set_start, set_end = unique_starts.tolist(), (unique_starts + unique_sizes).tolist()
        for u, v in candidates.tolist():
            set_u, set_v = unique_keys[set_start[u]:set_end[u]], unique_keys[set_start[v]:set_end[v]]
            common = len(np.intersect1d(set_u, set_v, assume_unique=True))
            similarity = common / (len(set_u) + len(set_v) - common)
            if similarity >= self.threshold - 1e-9:
                verified.append((u, v, similarity))
        # Every sentence of a set stands for it: pair the copies within each set (similarity 1), and the
        # copies of two similar sets with each other, across documents only.
        members = np.argsort(group, kind="stable")  # sentences grouped by set, in corpus order within a set
        size = np.bincount(group)
        start = _starts(size)
        firsts, seconds, similarities = [], [], []
        for a, b in _bucket_pairs(members[size[group[members]] > 1], size[size > 1]):
            firsts.append(a)
            seconds.append(b)
            similarities.append(np.ones(len(a)))
        if verified:
            u, v, s = (np.asarray(x) for x in zip(*verified))
            per_pair = size[u] * size[v]
            pair = np.repeat(np.arange(len(u)), per_pair)
            within = np.arange(per_pair.sum()) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
            i = members[start[u[pair]] + within // size[v[pair]]]
            j = members[start[v[pair]] + within % size[v[pair]]]
            firsts.append(np.minimum(i, j))
            seconds.append(np.maximum(i, j))
            similarities.append(s[pair])
        first, second, similarity = (np.concatenate([np.zeros(0, dtype=dtype), *parts]) for parts, dtype in
                                     ((firsts, np.int64), (seconds, np.int64), (similarities, float)))
        across = documents[first] != documents[second]
        first, second, similarity = first[across], second[across], similarity[across]
        order = np.lexsort((second, first, -similarity))
        return first[order], second[order], similarity[order]

    def table(self, progress: Progress = _silent) -> pd.DataFrame:
        """The pairs found, most similar first (then in corpus order)."""
        documents = np.asarray(self.documents, dtype=np.int64)
        first, second, similarity = self._pairs(documents, progress)
        # Categorical text columns: a sentence quoted in many pairs is held once, not once per pair.
        blocks = np.asarray(self.blocks, dtype=np.int64)
        roles, role_names = pd.factorize(np.asarray(self.roles, dtype=object))
        texts, text_values = pd.factorize(np.asarray(self.texts, dtype=object))
        columns = {}
        for side, index in (("a", first), ("b", second)):
            columns.update({
                f"doc_{side}": pd.Categorical.from_codes(documents[index], categories=self.doc_ids),
                f"block_{side}": blocks[index],
                f"role_{side}": pd.Categorical.from_codes(roles[index], categories=role_names),
                f"sentence_{side}": pd.Categorical.from_codes(texts[index], categories=text_values),
            })
        return pd.DataFrame(columns).assign(similarity=similarity)[SENTENCE_COLUMNS]


def _check_options(options: _Options) -> None:
    problems = [
        f"{name} must be {expected}, got {value!r}"
        for name, value, ok, expected in (
            ("n", options.n, options.n >= 1, "1 or more"),
            ("min_documents", options.min_documents, options.min_documents >= 2, "2 or more"),
            ("sentence_n", options.sentence_n, options.sentence_n >= 1, "1 or more"),
            ("sentence_threshold", options.sentence_threshold, 0 < options.sentence_threshold <= 1,
             "in (0, 1]"),
        )
        if not ok
    ]
    if problems:
        raise AnalysisError("find_reuse: " + "; ".join(problems))


def find_reuse(
    corpus: Iterable[Document], *, n: int = 8, min_documents: int = 2, sentence_n: int = 1,
    sentence_threshold: float = 0.5, min_sentence_words: int = 5,
    excluded_roles: Iterable[str] = EXCLUDED_ROLES_DEFAULT, progress: Progress | None = None,
) -> Reuse:
    """Passages and sentences that documents of ``corpus`` share.

    Parameters
    ----------
    corpus : iterable of Document
        Read twice, so it must be re-iterable (a :class:`~analysis.corpus.Corpus`
        or a list, not a generator).
    n : int, default 8
        Shingle length in words: the shortest passage that can be found.
    min_documents : int, default 2
        Documents a shingle must occur in to count as shared (raise it to
        keep only boilerplate common to many documents).
    sentence_n : int, default 1
        Words per shingle when comparing sentences (1: sets of words).
    sentence_threshold : float, default 0.5
        Lowest Jaccard similarity reported for a pair of sentences, in (0, 1].
    min_sentence_words : int, default 5
        Shorter sentences (and those shorter than ``sentence_n``) are not
        compared.
    excluded_roles : iterable of str, default ``("outline",)``
        Block roles left out, as in the term counts
        (:attr:`analysis.tokens.Preprocessor.excluded_roles`).
    progress : callable, optional
        ``progress(iterable, description)`` wraps each pass (e.g. a tqdm bar).

    Returns
    -------
    Reuse
        The tables described there and in the module notes.

    Raises
    ------
    AnalysisError
        For an option out of range, or a corpus that yields other documents
        the second time it is read.

    Examples
    --------
    >>> docs = [Document("a", "Kratom is a tropical tree from Southeast Asia. It is legal here.", "a"),
    ...         Document("b", "We know kratom is a tropical tree from Southeast Asia.", "b")]
    >>> reuse = find_reuse(docs, n=4)
    >>> reuse.shared_spans[["text", "documents", "positions"]].to_dict("records")
    [{'text': 'Kratom is a tropical tree from Southeast Asia', 'documents': 'a;b', 'positions': 'a:0-8;b:2-10'}]
    >>> reuse.reused_share["share"].round(3).tolist()
    [0.667, 0.8]
    >>> reuse.near_duplicate_sentences["similarity"].tolist()
    [0.8]
    """
    roles = (excluded_roles,) if isinstance(excluded_roles, str) else tuple(excluded_roles)
    options = _Options(n, min_documents, sentence_n, sentence_threshold, min_sentence_words, roles)
    _check_options(options)
    reader = _Reader(options)
    doc_ids: list[str] = []
    span_keys: list[np.ndarray] = []
    span_positions: list[np.ndarray] = []
    progress = progress or _silent
    for doc in progress(corpus, "reuse: shingles"):
        blocks = reader.blocks(doc)
        doc_ids.append(doc.doc_id)
        span_keys.append(np.concatenate([_NO_KEYS, *(words.keys for words in blocks)]))
        span_positions.append(np.concatenate([np.zeros(0, dtype=np.int64),
                                              *(words.offset + np.arange(len(words.keys)) for words in blocks)]))
    passages = _PassageCollector(_ShingleDocuments.count(span_keys, span_positions, min_documents), doc_ids, n)
    sentences = _SentenceMatcher(doc_ids, sentence_threshold)
    del span_keys, span_positions
    release_freed_memory()
    second = []
    for document, doc in enumerate(progress(corpus, "reuse: passages and sentences")):
        second.append(doc.doc_id)
        if document >= len(doc_ids) or doc.doc_id != doc_ids[document]:
            break
        blocks = reader.blocks(doc)
        passages.add(document, blocks, doc.text)
        sentences.add(document, reader.sentences(blocks))
    if second != doc_ids:
        raise AnalysisError("find_reuse: the corpus gave other documents when read a second time; "
                            "pass a Corpus or a list, not a generator")
    passages.shared = None  # the shingle index: not needed while the sentences are matched
    release_freed_memory()
    near_duplicates = sentences.table(progress)
    del sentences
    release_freed_memory()
    spans, occurrences, matrix, shares = passages.tables()
    return Reuse(n, min_documents, spans, occurrences, near_duplicates, matrix, shares, passages.char_ranges)
