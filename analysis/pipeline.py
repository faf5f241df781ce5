"""The preprocessing pipeline run on a prepared corpus's token arrays.

Every step of :data:`analysis.tokens.STEPS` is an operation on integer arrays
and per-type lookups (a word's stopword status, lemma or digit test is
decided once per type, not once per token):

1. counted blocks (the outline left out unless ``include_outline``), then
   reused passages masked (their words dropped, the gap ending a sentence);
2. lemmas (optional), as a map from word forms to lemmas;
3. multiword terms learned from adjacent-pair counts with gensim's
   normalised PMI (:func:`learn_phrases`) and joined, the stronger of two
   overlapping pairs first;
4. numbers, stopwords, short tokens and corpus stopwords dropped.

The steps run as a map over chunks of whole documents, in worker processes
(:func:`derive_terms`), with merges of counts between them: word counts, then
candidate phrase pairs, then each chunk's terms, waterfall and n-grams. The
result does not depend on the number of jobs or the chunk size.

The result, :class:`PreparedTerms`, holds the counted terms in order, the
block x term count matrix, the waterfall, the phrase table and the n-gram
counts; it is cached beside the prepared corpus, keyed by the settings that
change it (:func:`terms_key`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.executor import Executor, LocalExecutor
from analysis.memory import release_freed_memory
from analysis.parallel import map_in_processes
from analysis.prepared import PreparedCorpus
from analysis.tokens import Preprocessor, word_flags

if TYPE_CHECKING:  # imported where used: a command that reads only a cached summary (info) skips it
    import scipy.sparse as sp

TERM_SETTINGS = ("include_outline", "language", "stopwords", "extra_stopwords", "keep_words", "min_token_length",
                 "drop_numbers", "lemmatize", "phrases", "phrase_min_count", "phrase_threshold", "mask_reuse")
MASK_SETTINGS = ("reuse_ngram", "reuse_min_documents")
MAX_N = 3
WATERFALL_COLUMNS = ["step", "order", "tokens", "types", "tokens_removed", "top_affected"]


LAYER_FORMAT = 2  # how the layer is stored (2: the block x term matrix as memory-mapped arrays)


def terms_key(preprocessor: Preprocessor, versions: Mapping[str, str]) -> str:
    """Key of the term layer: the preprocessing settings and the versions of the lists and lemmatiser."""
    settings = preprocessor.settings
    names = TERM_SETTINGS + (MASK_SETTINGS if settings.mask_reuse else ())
    values = {name: getattr(settings, name) for name in names}
    payload = json.dumps({"settings": values, "versions": dict(versions), "format": LAYER_FORMAT}, sort_keys=True,
                         default=list)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PreparedTerms:
    """The counted terms of a prepared corpus.

    Attributes
    ----------
    terms : list of str
        The term vocabulary, sorted.
    sequence : ndarray of int32
        The counted terms of every block in order (ids into ``terms``).
    offsets : ndarray of int64
        Where each block's terms start in ``sequence`` (one more than blocks).
    block_term : scipy.sparse.csr_matrix
        Blocks x terms counts.
    n_tokens : ndarray
        Word tokens per block: before filtering (after masking) for counted
        blocks, all tokens for the others.
    counted : ndarray of bool
        Per block: counted (not an excluded role such as the outline).
    words : list of str
        The words n-grams are made of (word forms, or lemmas).
    ngrams : dict of int to (ndarray, ndarray, ndarray)
        For n = 2..3: the n-grams as rows of word ids, their counts and
        document counts.
    waterfall, phrases : DataFrame
        Tokens and types after each step; learned multiword terms with NPMI.
    """

    terms: list[str]
    sequence: np.ndarray
    offsets: np.ndarray
    block_term: sp.csr_matrix
    n_tokens: np.ndarray
    counted: np.ndarray
    words: list[str]
    ngrams: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    waterfall: pd.DataFrame
    phrases: pd.DataFrame
    folder: Path | None = dataclasses.field(default=None, compare=False)

    def __reduce__(self):
        """Pickled as its folder once stored: a worker process (a cluster's, on a shared file system)
        reopens it with its arrays memory-mapped, instead of receiving them."""
        if self.folder is not None:
            return PreparedTerms.load, (self.folder,)
        return PreparedTerms, tuple(getattr(self, f.name) for f in dataclasses.fields(self))

    @property
    def n_terms(self) -> np.ndarray:
        """Counted terms per block."""
        return np.diff(self.offsets)

    def block_terms(self, block: int) -> list[str]:
        """The counted terms of one block, in order."""
        return [self.terms[i] for i in self.sequence[self.offsets[block]:self.offsets[block + 1]]]

    # -- storage
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        matrix = self.block_term
        arrays = {"sequence": self.sequence, "offsets": self.offsets, "n_tokens": self.n_tokens,
                  "counted": self.counted, "block_term_data": matrix.data, "block_term_indices": matrix.indices,
                  "block_term_indptr": matrix.indptr}
        for n, (rows, counts, docs) in self.ngrams.items():
            arrays.update({f"ngram{n}": rows, f"ngram{n}_count": counts, f"ngram{n}_docs": docs})
        for name, values in arrays.items():
            np.save(folder / f"{name}.npy", values, allow_pickle=False)
        meta = {"block_term_shape": list(matrix.shape), "terms": self.terms, "words": self.words, "ngrams": sorted(self.ngrams),
                "waterfall": self.waterfall.to_dict("list"), "phrases": self.phrases.to_dict("list")}
        (folder / "terms.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "PreparedTerms":
        import scipy.sparse as sp

        meta = json.loads((folder / "terms.json").read_text(encoding="utf-8"))

        def array(name):  # memory-mapped: a command reads only the pages it uses
            return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)

        return cls(
            terms=meta["terms"], sequence=array("sequence"), offsets=array("offsets"),
            block_term=sp.csr_matrix((array("block_term_data"), array("block_term_indices"), array("block_term_indptr")),
                                     shape=tuple(meta["block_term_shape"]), copy=False),
            n_tokens=array("n_tokens"), counted=array("counted"), words=meta["words"],
            ngrams={n: (array(f"ngram{n}"), array(f"ngram{n}_count"), array(f"ngram{n}_docs")) for n in meta["ngrams"]},
            waterfall=pd.DataFrame(meta["waterfall"], columns=WATERFALL_COLUMNS),
            phrases=pd.DataFrame(meta["phrases"], columns=["phrase", "score"]).astype({"phrase": str, "score": float}),
            folder=folder,
        )


@dataclass(frozen=True)
class _Tally:
    """One waterfall step on one chunk: tokens left, the items still present, and the items the
    step affected with how often (ids into the step's names)."""

    tokens: int
    present: np.ndarray
    affected: np.ndarray
    affected_counts: np.ndarray

    @classmethod
    def of(cls, kept: np.ndarray, size: int, affected: np.ndarray | None = None) -> "_Tally":
        counts = np.bincount(affected, minlength=size) if affected is not None else np.zeros(0, dtype=np.int64)
        ids = np.flatnonzero(counts)
        return cls(len(kept), np.flatnonzero(np.bincount(kept, minlength=size)), ids, counts[ids])


class _Waterfall:
    """Tokens, types and the most affected terms after each step, summed over chunks as they come.

    Parameters
    ----------
    steps : list of (str, list of str)
        Each step's name and the names its tallies' ids index.
    """

    def __init__(self, steps: Sequence[tuple[str, Sequence[str]]], top: int = 5) -> None:
        self.steps = steps
        self.top = top
        self.tokens = [0] * len(steps)
        self.present = [np.zeros(len(names), dtype=bool) for _, names in steps]
        self.affected = [np.zeros(len(names), dtype=np.int64) for _, names in steps]

    def add(self, tallies: Sequence[_Tally]) -> None:
        """Add one chunk's tallies, one per step."""
        for number, tally in enumerate(tallies):
            self.tokens[number] += tally.tokens
            self.present[number][tally.present] = True
            self.affected[number][tally.affected] += tally.affected_counts  # ids are distinct within a tally

    def frame(self) -> pd.DataFrame:
        rows = []
        for number, (step, names) in enumerate(self.steps):
            counts = self.affected[number]
            ids = np.flatnonzero(counts)
            if len(ids) > self.top:  # only words as frequent as the top-th can be among the top
                ids = ids[counts[ids] >= np.partition(counts[ids], len(ids) - self.top)[len(ids) - self.top]]
            best = sorted(zip(-counts[ids], (names[i] for i in ids)))[:self.top]
            tokens = self.tokens[number]
            rows.append({"step": step, "order": number, "tokens": tokens,
                         "types": int(np.count_nonzero(self.present[number])),
                         "tokens_removed": self.tokens[number - 1] - tokens if number else 0,
                         "top_affected": "; ".join(f"{name} ({-count})" for count, name in best)})
        return pd.DataFrame(rows, columns=WATERFALL_COLUMNS)


DERIVE_STEPS = ("phrases", "terms and n-grams", "merge")
_CHUNK_TOKENS = 500_000  # tokens per chunk of the term layer (whole documents): a worker's memory


def npmi(count_a: int, count_b: int, count_ab: int, total: int) -> float:
    """gensim's ``npmi_scorer``, operation for operation, so scores match it to the last bit.

    >>> round(npmi(10, 10, 10, 1000), 6)
    1.0
    """
    total = float(total)
    pa, pb, pab = count_a / total, count_b / total, count_ab / total
    return math.log(pab / (pa * pb)) / -math.log(pab)


def _pair_keys(words: np.ndarray, starts: np.ndarray, n_words: int) -> np.ndarray:
    return words[starts].astype(np.int64) * n_words + words[starts + 1]


def pair_counts(words: np.ndarray, pair_ok: np.ndarray, possible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adjacent pairs of ``possible`` words within a sentence: sorted pair keys
    (``first * len(possible) + second``) and their counts. Counts of chunks add up."""
    first = np.flatnonzero(pair_ok & possible[words[:-1]] & possible[words[1:]])
    codes, keys = pd.factorize(_pair_keys(words, first, len(possible)), sort=True)
    return keys, np.bincount(codes, minlength=len(keys))


def learn_phrases(keys: np.ndarray, counts: np.ndarray, word_counts: np.ndarray, *, min_count: int,
                  threshold: float) -> dict[tuple[int, int], float]:
    """Adjacent word pairs that become multiword terms.

    As gensim ``Phrases(scoring="npmi", connector_words=())``: a pair seen at
    least ``min_count`` times whose normalised PMI exceeds ``threshold``.

    Parameters
    ----------
    keys, counts : ndarray
        The candidate pairs (see :func:`pair_counts`) over the whole corpus:
        those whose words are no stopword, number or clitic and are each seen
        at least ``min_count`` times (a pair is seen no more often than its
        rarer word).
    word_counts : ndarray
        Per word id, its count among the counted tokens.
    """
    n_words = len(word_counts)
    keys, counts = keys[counts >= min_count], counts[counts >= min_count]
    # A vectorised score picks the candidates; the exact score (gensim's arithmetic) decides.
    total = int(word_counts.sum())
    p_ab = counts / float(total)
    p_a, p_b = word_counts[keys // n_words] / float(total), word_counts[keys % n_words] / float(total)
    rough = np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)
    found = {}
    for key, count in zip(keys[rough > threshold - 1e-6].tolist(), counts[rough > threshold - 1e-6].tolist()):
        a, b = divmod(key, n_words)
        score = npmi(int(word_counts[a]), int(word_counts[b]), count, total)
        if score > threshold:
            found[(a, b)] = score
    return found


def _strongest_first(candidates: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The phrase starts kept where candidate pairs overlap: in order of score (then position),
    a pair is kept unless a word of it is taken.

    Computed in rounds, as the greedy choice it equals: every undecided
    candidate that outranks its undecided neighbours is kept, and its
    neighbours are dropped. Rounds are few: overlapping chains are short.

    Parameters
    ----------
    candidates : ndarray
        Sorted positions of the candidate pairs' first words.
    scores : ndarray
        Their scores.
    """
    undecided = np.ones(len(candidates), dtype=bool)
    kept = np.zeros(len(candidates), dtype=bool)
    while undecided.any():
        index = np.flatnonzero(undecided)
        position, score = candidates[index], scores[index]
        left = np.zeros(len(index), dtype=bool)
        left[1:] = np.diff(position) == 1  # shares its first word with the pair before it
        right = np.zeros(len(index), dtype=bool)
        right[:-1] = left[1:]
        # Ties go to the earlier pair.
        wins = ~left | (score > np.roll(score, 1))
        wins &= ~right | (score >= np.roll(score, -1))
        kept[index[wins]] = True
        undecided[index[wins]] = False
        undecided[index[np.flatnonzero(wins & left) - 1]] = False
        undecided[index[np.flatnonzero(wins & right) + 1]] = False
    return candidates[kept]


@dataclass(frozen=True)
class PhraseTable:
    """Learned phrases as arrays, to join them in word sequences (:func:`join_phrases`).

    Attributes
    ----------
    n_words : int
        Word ids are below it; a pair's key is ``first * n_words + second``.
    keys, scores, ids : ndarray
        The phrases' pair keys (sorted), scores and term-name ids.
    starts : ndarray of bool
        Per word: the first word of some phrase.
    """

    n_words: int
    keys: np.ndarray
    scores: np.ndarray
    ids: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, phrases: Mapping[tuple[int, int], float], phrase_ids: Mapping[tuple[int, int], int],
           n_words: int) -> PhraseTable:
        pairs = sorted(phrases)  # sorted pairs have sorted keys
        starts = np.zeros(n_words, dtype=bool)
        starts[[a for a, _ in pairs]] = True
        return cls(n_words, np.asarray([a * n_words + b for a, b in pairs], dtype=np.int64),
                   np.asarray([phrases[p] for p in pairs], dtype=float),
                   np.asarray([phrase_ids[p] for p in pairs], dtype=np.int64), starts)


def join_phrases(words: np.ndarray, pair_ok: np.ndarray, phrases: PhraseTable) -> tuple[np.ndarray, np.ndarray]:
    """Join phrase pairs; where two overlap (``plant mitragyna speciosa``), the higher score wins.

    Returns
    -------
    (ndarray, ndarray)
        The joined sequence (a pair becomes its phrase id, at the first
        word's place) and a mask of ``words`` that is True at the first word of each of its items.
    """
    if not len(phrases.keys):
        return words, np.ones(len(words), dtype=bool)
    first = np.flatnonzero(pair_ok & phrases.starts[words[:-1]])
    keys = _pair_keys(words, first, phrases.n_words)
    at = np.minimum(np.searchsorted(phrases.keys, keys), len(phrases.keys) - 1)
    hit = phrases.keys[at] == keys
    starts = _strongest_first(first[hit], phrases.scores[at[hit]])
    if not len(starts):
        return words, np.ones(len(words), dtype=bool)
    joined = words.astype(np.int32)
    joined[starts] = phrases.ids[at[hit][np.isin(first[hit], starts, assume_unique=True)]]
    keep = np.ones(len(words), dtype=bool)
    keep[starts + 1] = False
    return joined[keep], keep


def _ngram_codes(columns: Sequence[np.ndarray], n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """A code for each n-gram (its words given as columns of word ids) and where each code first occurs.

    Codes are numbered in order of first occurrence; when a key of ``n``
    words could overflow 64 bits, in sorted order of the rows instead.
    """
    if n_words ** len(columns) < 2**62:
        keys = columns[0].astype(np.int64)
        for column in columns[1:]:
            keys = keys * n_words + column
        codes, _ = pd.factorize(keys)
        running = np.maximum.accumulate(codes) if len(codes) else codes
        return codes, np.flatnonzero(np.concatenate([[True], running[1:] > running[:-1]])[:len(codes)])
    _, first_row, codes = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
    return codes.ravel(), first_row


def _count_ngrams(words: np.ndarray, sentence_start: np.ndarray, doc: np.ndarray, n: int, n_words: int,
                  is_edge: np.ndarray, is_digit: np.ndarray):
    """N-grams within sentences that start and end with content words and hold no number."""
    m = len(words) - n + 1
    if m <= 0:
        return np.zeros((0, n), dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
    ok = ~is_edge[words[:m]] & ~is_edge[words[n - 1:]]
    for k in range(n):
        ok &= ~is_digit[words[k:k + m]]
        if k:
            ok &= ~sentence_start[k:k + m]
    starts = np.flatnonzero(ok)
    codes, first_row = _ngram_codes([words[starts + k] for k in range(n)], n_words)
    counts = np.bincount(codes, minlength=len(first_row))
    # Distinct (n-gram, document) pairs give the document counts.
    pairs = pd.unique(codes.astype(np.int64) * (int(doc.max(initial=0)) + 1) + doc[starts])
    doc_counts = np.bincount(pairs // (int(doc.max(initial=0)) + 1), minlength=len(first_row))
    first = starts[first_row]
    rows = np.stack([words[first + k] for k in range(n)], axis=1).astype(np.int32)
    return rows, counts.astype(np.int32), doc_counts.astype(np.int32)  # a chunk's counts (merge_ngrams sums them)


def merge_ngrams(parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], n_words: int):
    """The n-gram counts of consecutive chunks of whole documents (:func:`_count_ngrams` of each), as
    one count over them all gives them: the same order, counts and document counts (int64)."""
    rows = np.concatenate([p[0] for p in parts])
    # Rows come in order of first occurrence within each chunk, the chunks in order (sorted, when keys could
    # overflow): so the codes over them all are those of one count.
    codes, first_row = _ngram_codes([rows[:, k] for k in range(rows.shape[1])], n_words)
    counts = np.bincount(codes, weights=np.concatenate([p[1] for p in parts]), minlength=len(first_row))
    docs = np.bincount(codes, weights=np.concatenate([p[2] for p in parts]), minlength=len(first_row))
    return rows[first_row], counts.astype(np.int64), docs.astype(np.int64)


def preprocessing_versions(preprocessor: Preprocessor) -> dict[str, str]:
    """Versions of the packages whose data change the terms: the stopword list's and the lemmatiser's."""
    from importlib.metadata import version

    settings = preprocessor.settings
    iso = settings.stopwords == "iso" or (settings.stopwords == "auto" and settings.language != "en")
    return {"gensim": version("gensim"), "simplemma": version("simplemma") if settings.lemmatize else "",
            **({"stopwordsiso": version("stopwordsiso")} if iso else {})}


def form_lemmas(prepared: PreparedCorpus, preprocessor: Preprocessor) -> list[str]:
    """The lemma of every word form of ``prepared`` (stored beside it, per language), computed in the
    settings' ``jobs`` worker processes."""
    from importlib.metadata import version

    path = prepared.folder / f"lemmas-{preprocessor.settings.language}-{version('simplemma')}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    forms = prepared.forms
    size = max(1, -(-len(forms) // preprocessor.settings.n_jobs))

    def lemmas_of(start: int) -> list[str]:
        return [preprocessor.lemma(f) for f in forms[start:start + size]]

    parts = map_in_processes(lemmas_of, range(0, len(forms), size), jobs=preprocessor.settings.n_jobs)
    lemmas = list(itertools.chain.from_iterable(parts))
    handle, temporary = tempfile.mkstemp(dir=prepared.folder, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(lemmas, out, ensure_ascii=False)
    os.replace(temporary, path)
    return lemmas


def reuse_mask(prepared: PreparedCorpus, ranges: Mapping[str, Sequence[tuple[int, int]]]) -> np.ndarray:
    """True for the tokens that overlap one of the character ``ranges`` of their document."""
    masked = np.zeros(len(prepared.form), dtype=bool)
    numbers = {doc_id: i for i, doc_id in enumerate(prepared.doc_ids) if ranges.get(doc_id)}
    texts = prepared.texts(numbers.values())
    blocks, offsets = prepared.document_offsets, prepared.block_offsets
    for doc_id, number in numbers.items():
        for block in range(blocks[number], blocks[number + 1]):
            starts, ends = prepared.spans(block, texts[number])
            inside = np.zeros(len(starts), dtype=bool)
            for s, e in ranges[doc_id]:
                inside |= (starts < e) & (ends > s)
            masked[offsets[block]:offsets[block + 1]] = inside
    return masked


@dataclass(frozen=True)
class _Rules:
    """What every chunk of the term layer needs to know about the whole corpus.

    Attributes
    ----------
    counted_block : ndarray of bool
        Per block: its role is counted.
    reused : ndarray of bool or None
        Per token: inside a masked reused passage.
    word_of_form, lemma_changed : ndarray or None
        Per word form: its word (lemma) id, and whether the lemma differs from it.
    n_forms : int
    is_edge, is_digit : ndarray of bool
        Per word: never the edge of a phrase or n-gram; a number.
    """

    counted_block: np.ndarray
    reused: np.ndarray | None
    word_of_form: np.ndarray | None
    lemma_changed: np.ndarray | None
    n_forms: int
    is_edge: np.ndarray
    is_digit: np.ndarray

    @property
    def n_words(self) -> int:
        return len(self.is_edge)


@dataclass(frozen=True)
class _ChunkWords:
    """The tokens of a chunk of blocks and the words they count as (see :func:`_chunk_words`)."""

    form: np.ndarray
    counted: np.ndarray
    kept: np.ndarray
    words: np.ndarray
    sentence_start: np.ndarray
    block: np.ndarray
    block_sizes: np.ndarray

    @property
    def pair_ok(self) -> np.ndarray:
        """``pair_ok[j]``: words ``j`` and ``j + 1`` are in the same sentence."""
        return ~self.sentence_start[1:] if len(self.words) else np.zeros(0, dtype=bool)


def _chunk_words(prepared: PreparedCorpus, rules: _Rules, blocks: tuple[int, int]) -> _ChunkWords:
    """The counted words of the blocks ``[start, end)`` (whole documents), with their sentence
    starts and blocks (numbered from the chunk's first)."""
    start, end = blocks
    offsets = np.asarray(prepared.block_offsets[start:end + 1])
    first, last = int(offsets[0]), int(offsets[-1])
    sizes = np.diff(offsets)
    form = np.asarray(prepared.form[first:last], dtype=np.int32)
    counted = np.repeat(rules.counted_block[start:end], sizes)
    kept = counted if rules.reused is None else counted & ~rules.reused[first:last]
    kept_before = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    local = offsets - first
    block = np.repeat(np.arange(end - start, dtype=np.int32), kept_before[local[1:]] - kept_before[local[:-1]])
    # A sentence starts at a sentence break, at a block's start, or after left-out words.
    starts_sentence = np.array(prepared.sentence_start[first:last], dtype=bool)
    starts_sentence[local[:-1][sizes > 0]] = True
    starts_sentence[1:] |= ~kept[:-1]
    words = form[kept] if rules.word_of_form is None else rules.word_of_form[form[kept]]
    return _ChunkWords(form, counted, kept, words, starts_sentence[kept], block, sizes)


@dataclass(frozen=True)
class _ChunkTerms:
    """A chunk's share of the term layer: its waterfall, its terms (ids into the names of words and
    phrases) with their number per block, words per block and n-gram counts."""

    tallies: list[_Tally]
    items: np.ndarray
    items_per_block: np.ndarray
    n_tokens: np.ndarray
    ngrams: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]


def _chunk_terms(prepared: PreparedCorpus, rules: _Rules, phrases: PhraseTable, drops: Sequence[np.ndarray],
                 record_phrases: bool, blocks: tuple[int, int]) -> _ChunkTerms:
    """Steps 1-4 of the pipeline, the counts and the n-grams, on the blocks ``[start, end)``."""
    chunk = _chunk_words(prepared, rules, blocks)
    form, counted, n_words = chunk.form, chunk.counted, rules.n_words
    tallies = [_Tally.of(form, rules.n_forms), _Tally.of(form[counted], rules.n_forms, form[~counted])]
    if rules.reused is not None:
        reused = counted & ~chunk.kept
        tallies.append(_Tally.of(form[chunk.kept], rules.n_forms, form[reused]))
    if rules.lemma_changed is not None:
        tallies.append(_Tally.of(chunk.words, n_words, chunk.words[rules.lemma_changed[form[chunk.kept]]]))
    n_names = n_words + len(phrases.keys)
    joined, item_start = join_phrases(chunk.words, chunk.pair_ok, phrases)
    if record_phrases:
        tallies.append(_Tally.of(joined, n_names, joined[joined >= n_words]))
    joined_block = chunk.block[item_start]
    for drop in drops:
        dropped = drop[joined]
        affected = joined[dropped]
        joined, joined_block = joined[~dropped], joined_block[~dropped]
        tallies.append(_Tally.of(joined, n_names, affected))
    n_blocks = len(chunk.block_sizes)
    n_tokens = np.where(rules.counted_block[blocks[0]:blocks[1]], np.bincount(chunk.block, minlength=n_blocks),
                        chunk.block_sizes).astype(np.int64)
    block_document = prepared.block_document[blocks[0]:blocks[1]]
    doc = (block_document - block_document[0]).astype(np.int32)[chunk.block] if n_blocks else chunk.block
    ngrams = {n: _count_ngrams(chunk.words, chunk.sentence_start, doc, n, n_words, rules.is_edge, rules.is_digit)
              for n in range(2, MAX_N + 1)}
    return _ChunkTerms(tallies, joined.astype(np.int32), np.bincount(joined_block, minlength=n_blocks), n_tokens,
                       ngrams)


def document_chunks(prepared: PreparedCorpus, tokens: int) -> list[tuple[int, int]]:
    """Ranges of whole documents holding about ``tokens`` tokens each (at least one range)."""
    document_blocks = np.asarray(prepared.document_offsets)
    before = np.asarray(prepared.block_offsets)[document_blocks]  # tokens before each document
    cuts = np.searchsorted(before, np.arange(tokens, int(before[-1]), tokens))
    documents = np.unique(np.concatenate([[0], cuts, [len(document_blocks) - 1]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(documents)] or [(0, 0)]


def block_chunks(prepared: PreparedCorpus, tokens: int) -> list[tuple[int, int]]:
    """Block ranges of whole documents holding about ``tokens`` tokens each (at least one range)."""
    document_blocks = np.asarray(prepared.document_offsets)
    return [(int(document_blocks[a]), int(document_blocks[b])) for a, b in document_chunks(prepared, tokens)]


def _word_counts(prepared: PreparedCorpus, rules: _Rules, blocks: tuple[int, int]) -> np.ndarray:
    """How often each word occurs, counted, in the blocks ``[start, end)``."""
    return np.bincount(_chunk_words(prepared, rules, blocks).words, minlength=rules.n_words)


def _candidate_pairs(prepared: PreparedCorpus, rules: _Rules, possible: np.ndarray,
                     blocks: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The adjacent pairs of ``possible`` words in the blocks ``[start, end)`` and their counts."""
    chunk = _chunk_words(prepared, rules, blocks)
    return pair_counts(chunk.words, chunk.pair_ok, possible)


def _chunked_phrases(prepared: PreparedCorpus, rules: _Rules, chunks: Sequence[tuple[int, int]], executor: Executor,
                     *, min_count: int, threshold: float) -> dict[tuple[int, int], float]:
    """:func:`learn_phrases` over the chunks: their word counts summed, then their candidate pairs (of
    words frequent enough) summed."""
    word_counts = np.zeros(rules.n_words, dtype=np.int64)
    for counts in executor.map(_word_counts, chunks, common=(prepared, rules)):
        word_counts += counts
    possible = (word_counts >= min_count) & ~rules.is_edge
    pairs = list(executor.map(_candidate_pairs, chunks, common=(prepared, rules, possible)))
    codes, keys = pd.factorize(np.concatenate([keys for keys, _ in pairs]), sort=True)
    counts = np.bincount(codes, weights=np.concatenate([counts for _, counts in pairs]), minlength=len(keys))
    return learn_phrases(keys, counts.astype(np.int64), word_counts, min_count=min_count, threshold=threshold)


def _term_matrix(items: np.ndarray, items_per_block: np.ndarray, names: Sequence[str]):
    """The sorted term vocabulary of ``items`` (ids into ``names``), the items as term ids, their
    offsets per block and the block x term count matrix."""
    import scipy.sparse as sp

    present = np.flatnonzero(np.bincount(items, minlength=len(names)))
    present_names = [names[i] for i in present.tolist()]  # distinct: words have no space, phrases one
    order = sorted(range(len(present_names)), key=present_names.__getitem__)
    term_names = [present_names[i] for i in order]
    term_of = np.full(len(names), -1, dtype=np.int32)
    term_of[present[order]] = np.arange(len(order), dtype=np.int32)
    term_sequence = term_of[items]
    offsets = np.concatenate([[0], np.cumsum(items_per_block)]).astype(np.int64)
    # The terms are in block order already: the offsets are the matrix's row pointers. The matrix gets a copy
    # of the term ids, since summing its duplicates sorts them in place; counts are summed as int32 (a count
    # within a block fits) and stored as int64.
    block_term = sp.csr_matrix((np.ones(len(term_sequence), dtype=np.int32), term_sequence.copy(), offsets),
                               shape=(len(offsets) - 1, len(term_names)))
    block_term.sum_duplicates()
    block_term.data = block_term.data.astype(np.int64)
    return term_names, term_sequence, offsets, block_term.tocsr()


def derive_terms(prepared: PreparedCorpus, preprocessor: Preprocessor,
                 masks: Mapping[str, Sequence[tuple[int, int]]] | None = None, *, jobs: int = 1,
                 chunk_tokens: int = _CHUNK_TOKENS,
                 progress: Callable[[Iterable], Iterable] | None = None,
                 executor: Executor | None = None) -> PreparedTerms:
    """Run the preprocessing pipeline on ``prepared`` (see the module notes).

    A map over chunks of whole documents, in ``jobs`` worker processes (or on
    ``executor``: a cluster's workers open the prepared corpus from its folder,
    which they must see), and merges here of their counts: word counts, then
    candidate phrase pairs, then the terms, waterfall and n-grams of each
    chunk. The result does not depend on ``jobs``, the executor or
    ``chunk_tokens``. ``progress`` (e.g. a tqdm bar) wraps the list of
    :data:`DERIVE_STEPS` and is advanced as each ends.
    """
    executor = executor or LocalExecutor(jobs)
    stage = iter((progress or iter)(DERIVE_STEPS))
    settings = preprocessor.settings
    forms = prepared.forms
    counted_block = prepared.block_mask(preprocessor.excluded_roles)
    if settings.lemmatize:
        lemmas = form_lemmas(prepared, preprocessor)
        words = list(dict.fromkeys(lemmas))
        position = {w: i for i, w in enumerate(words)}
        word_of_form = np.asarray([position[w] for w in lemmas], dtype=np.int32)
        lemma_changed = np.asarray([w != f for w, f in zip(lemmas, forms)], dtype=bool)
    else:
        words, word_of_form, lemma_changed = forms, None, None
    n_words = len(words)
    rules = _Rules(counted_block=counted_block, reused=reuse_mask(prepared, masks) if masks is not None else None,
                   word_of_form=word_of_form, lemma_changed=lemma_changed, n_forms=len(forms),
                   is_edge=preprocessor.function_word_mask(words),
                   is_digit=np.fromiter(map(str.isdigit, words), dtype=bool, count=n_words))
    chunks = block_chunks(prepared, chunk_tokens)

    phrases = (_chunked_phrases(prepared, rules, chunks, executor, min_count=settings.phrase_min_count,
                                threshold=settings.phrase_threshold) if settings.phrases else {})
    next(stage, None)
    phrase_list = sorted(phrases, key=lambda p: (-phrases[p], words[p[0]], words[p[1]]))
    names = list(words) + [f"{words[a]} {words[b]}" for a, b in phrase_list]
    phrase_ids = {pair: n_words + i for i, pair in enumerate(phrase_list)}
    flags = word_flags(names, preprocessor.stopwords)
    filters = [
        ("numbers dropped", flags["digit"] & settings.drop_numbers),
        ("stopwords removed", flags["stopword"] | flags["clitic"]),
        ("short tokens dropped", flags["length"] < settings.min_token_length),
    ]
    if preprocessor.extra_stopwords:
        filters.append(("corpus stopwords removed", np.fromiter(map(preprocessor.extra_stopwords.__contains__, names),
                                                                dtype=bool, count=len(names))))
    steps = [("tokenized", forms), ("outline excluded", forms)]
    steps += [("reused text masked", forms)] * (masks is not None)
    steps += [("lemmatised", words)] * settings.lemmatize
    steps += [("phrases joined", names)] * settings.phrases
    steps += [(step, names) for step, _ in filters]
    waterfall = _Waterfall(steps)
    table = PhraseTable.of(phrases, phrase_ids, n_words)
    parts = []
    drops = [drop for _, drop in filters]
    for part in executor.map(_chunk_terms, chunks, common=(prepared, rules, table, drops, settings.phrases)):
        waterfall.add(part.tallies)
        parts.append(dataclasses.replace(part, tallies=[]))  # the tallies are summed: let them go
    next(stage, None)
    release_freed_memory()  # the chunks' pickles, before the merges
    # The merges one after another, each chunk's share let go as soon as it is merged: the memory peak.
    ngrams = {n: merge_ngrams([part.ngrams.pop(n) for part in parts], n_words) for n in range(2, MAX_N + 1)}
    items = np.concatenate([part.items for part in parts])
    items_per_block = np.concatenate([part.items_per_block for part in parts])
    n_tokens = np.concatenate([part.n_tokens for part in parts])
    del parts
    term_names, term_sequence, term_offsets, block_term = _term_matrix(items, items_per_block, names)
    for _ in stage:  # the last stage is done
        pass
    phrase_table = pd.DataFrame(
        sorted(((f"{words[a]} {words[b]}", phrases[(a, b)]) for a, b in phrase_list), key=lambda kv: (-kv[1], kv[0])),
        columns=["phrase", "score"]).astype({"phrase": str, "score": float})
    return PreparedTerms(
        terms=term_names, sequence=term_sequence, offsets=term_offsets, block_term=block_term,
        n_tokens=n_tokens, counted=counted_block, words=list(words),
        ngrams=ngrams, waterfall=waterfall.frame(), phrases=phrase_table,
    )


def terms_folder(prepared: PreparedCorpus, preprocessor: Preprocessor, versions: Mapping[str, str]) -> Path:
    """Where the term layer of ``prepared`` under these rules is cached (and results derived from it alone)."""
    return prepared.folder / f"terms-{terms_key(preprocessor, versions)}"


def prepared_terms(prepared: PreparedCorpus, preprocessor: Preprocessor, *, versions: Mapping[str, str],
                   masks: Mapping[str, Sequence[tuple[int, int]]] | None = None, cache: bool = True, jobs: int = 1,
                   progress: Callable[[Iterable], Iterable] | None = None,
                   executor: Executor | None = None) -> PreparedTerms:
    """The term layer of ``prepared``: loaded from its folder when cached, else derived (in ``jobs``
    processes, or on ``executor``) and stored."""
    folder = terms_folder(prepared, preprocessor, versions)
    if cache and (folder / "terms.json").is_file():
        return PreparedTerms.load(folder)
    result = derive_terms(prepared, preprocessor, masks, jobs=jobs, progress=progress, executor=executor)
    if cache:
        staging = Path(tempfile.mkdtemp(dir=prepared.folder, prefix=".terms-"))
        try:
            result.save(staging / "terms")
            os.replace(staging / "terms", folder)
        except OSError:
            if not (folder / "terms.json").is_file():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return PreparedTerms.load(folder)  # memory-mapped, and pickled as its folder
    return result
