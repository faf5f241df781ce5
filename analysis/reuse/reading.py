"""What the reuse tasks read: the documents of a range, their counted blocks' words and shingle keys,
and their sentences, the same in every task and every process."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from analysis.corpus import Document
from analysis.prepared import PreparedCorpus
from analysis.structure import Block
from analysis.tokens import split_sentences, token_spans, tokenize

_MULTIPLIER = np.uint64(0x100000001B3)  # odd, so every shingle position stirs all 64 bits of the key
NO_KEYS = np.empty(0, dtype=np.uint64)
_TOKENS_PER_TASK = 200_000  # a task's documents: about a second of tokenizing


@dataclass(frozen=True)
class Options:
    n: int
    min_documents: int
    sentence_n: int
    sentence_threshold: float
    min_sentence_words: int
    excluded_roles: tuple[str, ...]


def starts(sizes: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of these ``sizes`` starts."""
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def cut(destination: np.ndarray, parts: int, **columns) -> list[dict]:
    """Rows cut into ``parts`` by ``destination``, in their order within each part: each column an array
    (2-d arrays by row) or anything with ``take(rows)`` (a ragged column)."""
    order = np.argsort(destination, kind="stable")
    edges = np.concatenate([[0], np.cumsum(np.bincount(destination.astype(np.int64), minlength=parts))])
    return [{name: column.take(order[a:b]) if hasattr(column, "sizes") else column[order[a:b]]
             for name, column in columns.items()} for a, b in zip(edges[:-1], edges[1:])]


def documents(source: PreparedCorpus | Sequence[Document], bounds: tuple[int, int]) -> list[Document]:
    """Documents ``start:stop`` of a prepared corpus (whose text the worker reads itself) or of a list."""
    start, stop = bounds
    if isinstance(source, PreparedCorpus):
        texts = source.texts(range(start, stop))
        return [Document(source.doc_ids[d], texts[d], "") for d in range(start, stop)]
    return list(source[start:stop])


def document_ranges(source: PreparedCorpus | Sequence[Document]) -> list[tuple[int, int]]:
    """Ranges of whole documents of about :data:`_TOKENS_PER_TASK` tokens each (at least one range);
    by character length for a list of documents."""
    if isinstance(source, PreparedCorpus):
        sizes = np.diff(np.asarray(source.block_offsets)[np.asarray(source.document_offsets)])
    else:
        sizes = np.fromiter((len(doc.text) // 6 for doc in source), dtype=np.int64, count=len(source))
    before = np.concatenate([[0], np.cumsum(sizes)])
    cuts = np.searchsorted(before, np.arange(_TOKENS_PER_TASK, int(before[-1]), _TOKENS_PER_TASK))
    edges = np.unique(np.concatenate([[0], cuts, [len(sizes)]])).tolist()
    return list(zip(edges[:-1], edges[1:])) or [(0, 0)]


class ShingleHasher:
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
            return NO_KEYS
        hashed = np.fromiter((self._token_key(t) for t in tokens), dtype=np.uint64, count=len(tokens))
        keys = np.zeros(count, dtype=np.uint64)
        for j in range(n):
            keys = keys * _MULTIPLIER + hashed[j:j + count]  # wraps around modulo 2**64
        return keys


@dataclass(frozen=True)
class BlockWords:
    """A counted block: its words with spans in ``doc.text`` and the keys of its shingles."""

    block: Block
    offset: int  # word position of the block's first word in the document
    spans: list[tuple[str, int, int]]
    keys: np.ndarray  # keys[i]: the shingle starting at word i of the block


@dataclass(frozen=True, slots=True)
class Sentence:
    block: int  # the block's index in its document
    role: str
    text: str
    keys: np.ndarray  # the distinct keys of its shingles, sorted


class Reader:
    """Words, shingles and sentences of a document, the same in every task."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.hasher = ShingleHasher()

    def blocks(self, doc: Document) -> list[BlockWords]:
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
                counted.append(BlockWords(block, offset, spans, keys))
            offset += len(spans)
        return counted

    def sentences(self, blocks: list[BlockWords]) -> list[Sentence]:
        """The sentences of the counted blocks long enough to compare."""
        shortest = max(self.options.min_sentence_words, self.options.sentence_n)
        found = []
        for words in blocks:
            for sentence in split_sentences(words.block.text):
                tokens = tokenize(sentence)
                if len(tokens) >= shortest:
                    keys = np.unique(self.hasher.keys(tokens, self.options.sentence_n))
                    found.append(Sentence(words.block.index, words.block.role, " ".join(sentence.split()), keys))
        return found
