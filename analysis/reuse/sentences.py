"""Near-duplicate sentences: MinHash LSH with band keys as shuffle keys, every candidate verified exactly.

Each sentence is a set of shingle keys (:class:`analysis.reuse.reading.Sentence`) with an id that
orders it in the corpus (:func:`sentence_id`). The steps, each a combine per bucket:

1. :func:`distinct_sets`, sentences cut by a digest of their set: sentences with the same set are
   matched once (their copies are paired here, similarity 1). Each distinct set gets a MinHash
   signature of :data:`MINHASH_PERMUTATIONS` values, cut into bands of :func:`lsh_rows` rows (4 for
   the default threshold 0.5), and stays in its bucket, its *home*.
2. In rounds of :data:`BANDS_PER_ROUND` bands (:func:`band_rounds`), each home sends its sets' band
   keys to buckets by value (:func:`band_parts`), and :func:`band_candidates` pairs the sets that agree
   on all values of some band. Each key travels with a sketch of its set's signature (its lowest bits),
   and pairs whose sketches disagree are dropped where they are found (:func:`_sketches_agree`): most
   band collisions of short sentences are chance. Workers that share this machine's memory also read
   the homes there and drop pairs whose whole signatures disagree. Each pair goes
   to the *block* of its two homes: homes fall into ``g`` groups (:func:`home_groups`, about the square
   root of twice the buckets), and a block checks the pairs of one pair of groups, so each home is
   read by ``g`` blocks while a candidate travels as four numbers (a replicated join: candidates
   outnumber sets many times over).
3. :func:`verify`: each pair once; a pair whose signatures agree on fewer than ``threshold - 0.15`` of
   the values is dropped; the rest are kept only when the exact Jaccard similarity of their sets
   reaches the threshold, and their sentences are paired across documents.

No pair below the threshold is ever reported, and a pair above it is missed only when its signatures
disagree by chance (the README gives the recall measured on planted near-duplicates). Work grows with
the number of sentences and of candidates, not with the number of pairs of sentences. Every step
depends only on the sets, never on where they were processed, so the pairs are the same for any
number of buckets, ranges or workers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np
import pandas as pd

from analysis.reuse.reading import NO_KEYS, Sentence, cut, starts

MINHASH_PERMUTATIONS = 192
LSH_RECALL = 0.95  # the least chance that a pair at the threshold becomes a candidate
_ESTIMATE_MARGIN = 0.15  # candidates whose estimated similarity is this far below the threshold are dropped
_MINHASH_SEED = 20260101
_MINHASH_BATCH = 512  # sets hashed at once: each costs about 200 x its keys x 8 bytes
_PAIRS_AT_ONCE = 50_000  # each pair costs two signatures of memory while it is checked
_NO_INTS = np.zeros(0, dtype=np.int64)
SENTENCE_COLUMNS = ["doc_a", "block_a", "role_a", "sentence_a", "doc_b", "block_b", "role_b", "sentence_b",
                    "similarity"]


def sentence_id(part: int, index: np.ndarray) -> np.ndarray:
    """Ids in corpus order: the range's number in the high bits, the sentence's place in it below."""
    return (np.int64(part) << np.int64(32)) + index.astype(np.int64)


@dataclass(frozen=True)
class Ragged:
    """Rows of different lengths: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""

    values: np.ndarray
    sizes: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        return starts(self.sizes)

    def take(self, rows: np.ndarray) -> "Ragged":
        sizes = self.sizes[rows]
        within = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return Ragged(self.values[np.repeat(self.offsets[rows], sizes) + within], sizes)

    @classmethod
    def joined(cls, parts: Sequence["Ragged"], dtype) -> "Ragged":
        return cls(np.concatenate([np.zeros(0, dtype=dtype), *(p.values for p in parts)]),
                   np.concatenate([_NO_INTS, *(p.sizes for p in parts)]))


def _joined(parts: list[dict], name: str, empty: np.ndarray) -> np.ndarray:
    return np.concatenate([empty, *(part[name] for part in parts)])


@dataclass(frozen=True)
class SentenceInfo:
    """What the table says of the sentences of one range of documents: by id (sorted)."""

    ids: np.ndarray
    documents: np.ndarray
    blocks: np.ndarray
    roles: list[str]
    texts: list[str]

    def rows(self, wanted: np.ndarray) -> tuple:
        at = np.searchsorted(self.ids, wanted).tolist()
        return (wanted, self.documents[at], self.blocks[at], [self.roles[i] for i in at],
                [self.texts[i] for i in at])


def cut_sentences(part: int, sentences: list[tuple[int, list[Sentence]]], buckets: int) -> tuple:
    """The sentences of the ``part``-th range (``(document, sentences)`` each): what the table needs of
    them, and their sets cut into ``buckets`` parts by digest."""
    flat = [(document, s) for document, found in sentences for s in found]
    ids = sentence_id(part, np.arange(len(flat)))
    documents = np.asarray([d for d, _ in flat], dtype=np.int64)
    sets = Ragged(np.concatenate([NO_KEYS, *(s.keys for _, s in flat)]),
                  np.asarray([len(s.keys) for _, s in flat], dtype=np.int64))
    info = SentenceInfo(ids, documents, np.asarray([s.block for _, s in flat], dtype=np.int64),
                        [s.role for _, s in flat], [s.text for _, s in flat])
    digests = np.frombuffer(b"".join(hashlib.blake2b(s.keys.tobytes(), digest_size=16).digest() for _, s in flat),
                            dtype=np.uint64).reshape(-1, 2)
    return info, cut(digests[:, 0] % np.uint64(buckets), buckets, ids=ids, documents=documents,
                      digests=digests, sets=sets)


def minhash_signatures(sets: Ragged) -> np.ndarray:
    """MinHash signatures (sets x permutations) of sets of 64-bit keys.

    Each permutation is a multiply-shift hash ``(a x + b) mod 2**64 >> 32``
    with fixed random odd ``a``, so signatures are the same in every run.
    Every set must hold at least one key.
    """
    rng = np.random.default_rng(_MINHASH_SEED)
    a = rng.integers(1, 2**63, size=MINHASH_PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=MINHASH_PERMUTATIONS, dtype=np.uint64)
    keys, sizes, first = sets.values, sets.sizes, sets.offsets
    signatures = np.empty((len(sizes), MINHASH_PERMUTATIONS), dtype=np.uint32)
    for lo_set in range(0, len(sizes), _MINHASH_BATCH):  # a batch at a time, to bound memory
        hi_set = min(len(sizes), lo_set + _MINHASH_BATCH)
        lo, hi = first[lo_set], first[hi_set - 1] + sizes[hi_set - 1]
        hashed = ((keys[lo:hi, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
        signatures[lo_set:hi_set] = np.minimum.reduceat(hashed, first[lo_set:hi_set] - lo, axis=0)
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


def bucket_pairs(members: np.ndarray, sizes: np.ndarray):
    """All pairs within buckets, about :data:`_PAIRS_AT_ONCE` at a time, each as (earlier, later) member.

    ``members`` lists the buckets one after the other, ``sizes`` their sizes
    (2 or more). Buckets of one size are paired at once; a huge bucket a few
    rows at a time.
    """
    first = starts(sizes)
    for size in np.unique(sizes).tolist():
        i, j = np.triu_indices(size, k=1)
        if len(i) <= _PAIRS_AT_ONCE:
            table = members[first[sizes == size][:, None] + np.arange(size)[None, :]]
            step = max(1, _PAIRS_AT_ONCE // len(i))
            for at in range(0, len(table), step):
                block = table[at:at + step]
                yield block[:, i].ravel(), block[:, j].ravel()
            continue
        for start in first[sizes == size].tolist():
            bucket = members[start:start + size]
            rows = max(1, _PAIRS_AT_ONCE // size)
            for at in range(0, size - 1, rows):
                a, b = np.nonzero(np.arange(at, min(size, at + rows))[:, None] < np.arange(size)[None, :])
                yield bucket[a + at], bucket[b]


def band_keys(rows: np.ndarray, salt: int = 0) -> np.ndarray:
    """A 64-bit key for each row of a band's values (SplitMix64 steps, from ``salt``): equal rows get
    equal keys, and two different rows the same key with chance 2**-64, which would only add a
    candidate to be checked."""
    key = np.full(len(rows), salt, dtype=np.uint64)
    for column in rows.T:
        key += column.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        key ^= key >> np.uint64(30)
        key *= np.uint64(0xBF58476D1CE4E5B9)
        key ^= key >> np.uint64(27)
        key *= np.uint64(0x94D049BB133111EB)
        key ^= key >> np.uint64(31)
    return key


@dataclass(frozen=True)
class Home:
    """The distinct sets whose digests fall in one bucket: by representative id (the set's first
    sentence), with their signatures and all their sentences."""

    ids: np.ndarray
    sets: Ragged
    signatures: np.ndarray
    members: Ragged  # sentence ids, in corpus order
    member_documents: Ragged

    def find(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, ids)

    @cached_property
    def sketches(self) -> np.ndarray:
        """The lowest bit of every signature value, packed (:data:`MINHASH_PERMUTATIONS` / 8 bytes a set):
        what travels with each band key so that a bucket can drop chance collisions on its own."""
        return np.packbits((self.signatures & 1).astype(np.uint8), axis=1)


def _gather(homes: dict[int, Home], ids: np.ndarray, in_home: np.ndarray, column: str) -> Ragged:
    """A ragged column (sets, members ...) of each set ``ids[i]``, looked up in its home ``in_home[i]``."""
    order = np.argsort(in_home, kind="stable")
    pieces = [getattr(homes[number], column).take(homes[number].find(ids[order][in_home[order] == number]))
              for number in np.unique(in_home).tolist()]
    dtype = getattr(next(iter(homes.values())), column).values.dtype
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return Ragged.joined(pieces, dtype).take(back)


def _distinct(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Rows holding each ``(first, second)`` pair once, sorted by pair."""
    order = np.lexsort((second, first))
    new = np.ones(len(order), dtype=bool)
    new[1:] = (first[order][1:] != first[order][:-1]) | (second[order][1:] != second[order][:-1])
    return order[new]


def _across(first_ids, first_docs, second_ids, second_docs, similarity) -> dict:
    keep = first_docs != second_docs
    return {"first": first_ids[keep], "second": second_ids[keep], "similarity": similarity[keep]}


def distinct_sets(bucket: int, parts: list[dict]) -> tuple:
    """Shuffle 1 (see the module notes): this bucket's :class:`Home` and the pairs of copies of one set
    (similarity 1, across documents)."""
    ids = _joined(parts, "ids", _NO_INTS)
    documents = _joined(parts, "documents", _NO_INTS)
    digests = np.concatenate([np.zeros((0, 2), dtype=np.uint64), *(part["digests"] for part in parts)])
    sets = Ragged.joined([part["sets"] for part in parts], np.uint64)
    # Ranges arrive in corpus order, so each set's first row is its earliest sentence.
    _, first, group = np.unique(digests, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    by_id = np.argsort(ids[first], kind="stable")
    rank = np.empty_like(by_id)
    rank[by_id] = np.arange(len(by_id))
    group, first = rank[group], first[by_id]  # sets numbered in the order of their first sentence
    rows = np.lexsort((ids, group))
    size = np.bincount(group, minlength=len(first))
    home = Home(ids[first], sets.take(first), minhash_signatures(sets.take(first)),
                Ragged(ids[rows], size), Ragged(documents[rows], size))
    copies_a, copies_b = [], []
    for a, b in bucket_pairs(rows[size[group[rows]] > 1], size[size > 1]):
        copies_a.append(a)
        copies_b.append(b)
    a, b = np.concatenate([_NO_INTS, *copies_a]), np.concatenate([_NO_INTS, *copies_b])
    copies = _across(ids[a], documents[a], ids[b], documents[b], np.ones(len(a)))
    return home, copies


BANDS_PER_ROUND = 4  # bands shuffled at once: each costs 48 bytes per distinct set (key, id, home, sketch)


def band_rounds(threshold: float) -> list[range]:
    """The bands of the signature (:func:`lsh_rows` values each), :data:`BANDS_PER_ROUND` per round."""
    bands = MINHASH_PERMUTATIONS // lsh_rows(threshold)
    return [range(first, min(bands, first + BANDS_PER_ROUND)) for first in range(0, bands, BANDS_PER_ROUND)]


def band_parts(threshold: float, buckets: int, bands: range, number: int, home: Home, parts: list) -> list[dict]:
    """The keys of the sets of one home (its ``number``) in some ``bands``, cut into ``buckets`` by value."""
    rows_per_band = lsh_rows(threshold)
    keys = np.concatenate([np.zeros(0, dtype=np.uint64)] + [
        band_keys(home.signatures[:, band * rows_per_band:(band + 1) * rows_per_band], salt=band) for band in bands])
    return cut(keys % np.uint64(buckets), buckets, keys=keys, ids=np.tile(home.ids, len(bands)),
                homes=np.full(len(keys), number, dtype=np.int64), sketches=np.tile(home.sketches, (len(bands), 1)))


_SKETCH_MARGIN = 0.3  # pairs whose sketches estimate a similarity this far below the threshold are dropped
_BITS_SET = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1)


def _sketches_agree(threshold: float, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Which pairs of sketches (rows of packed lowest bits) may belong to sets similar enough to keep.

    Two sets of Jaccard similarity J agree on a signature value with chance J and otherwise on its lowest
    bit with chance 1/2 (b-bit MinHash, Li and Koenig 2010): on a share ``(1 + J) / 2`` of the bits. Pairs
    agreeing on fewer bits than ``J = threshold - 0.3`` would give are dropped. At the default threshold
    0.5, a pair at the threshold falls that low with a chance of 3 in a million (its whole signature
    fails :func:`verify`'s check with a chance of 2 in 100,000), while the chance collisions of a band
    (J near 0) are dropped 399 times in 400. Verification still decides on the whole signatures and the
    exact sets.
    """
    bits = MINHASH_PERMUTATIONS
    agreeing = bits - _BITS_SET[first ^ second].sum(axis=1, dtype=np.int64)
    least = max(0.0, threshold - _SKETCH_MARGIN)
    return agreeing >= int(np.ceil(bits * (1 + least) / 2))


def _needed(threshold: float) -> int:
    """Signature values two sets must agree on: ``threshold - 0.15`` of them, as a count (the fraction
    compared exactly as a float)."""
    return next(c for c in range(MINHASH_PERMUTATIONS + 1)
                if c / MINHASH_PERMUTATIONS >= threshold - _ESTIMATE_MARGIN)


def _close(threshold: float, homes: dict[int, Home], first: np.ndarray, first_home: np.ndarray,
           second: np.ndarray, second_home: np.ndarray) -> np.ndarray:
    """Which pairs of sets agree on enough signature values, looked up in their homes (pairs that reach
    here have passed the sketches, so most agree)."""
    def rows(ids, in_home):
        found = np.empty((len(ids), MINHASH_PERMUTATIONS), dtype=np.uint32)
        for number, home in homes.items():
            mine = in_home == number
            found[mine] = home.signatures[home.find(ids[mine])]
        return found

    needed = _needed(threshold)
    close = np.zeros(len(first), dtype=bool)
    for lo in range(0, len(first), _PAIRS_AT_ONCE):
        part = slice(lo, lo + _PAIRS_AT_ONCE)
        close[part] = np.count_nonzero(rows(first[part], first_home[part]) == rows(second[part], second_home[part]),
                                       axis=1) >= needed
    return close


def home_groups(buckets: int) -> int:
    """Groups of homes: the fewest whose pairs (``g (g + 1) / 2`` blocks) give every bucket a block.

    >>> [home_groups(b) for b in (1, 2, 3, 4, 64)]
    [1, 2, 2, 3, 11]
    """
    return next(g for g in range(1, buckets + 2) if g * (g + 1) // 2 >= buckets)


def block_of(home_a: np.ndarray, home_b: np.ndarray, groups: int) -> np.ndarray:
    """The block of each pair of homes: its pair of groups ``lo <= hi``, numbered row by row."""
    lo, hi = np.minimum(home_a % groups, home_b % groups), np.maximum(home_a % groups, home_b % groups)
    return lo * groups - lo * (lo - 1) // 2 + (hi - lo)


def homes_of_block(block: int, groups: int, buckets: int) -> list[int]:
    """The homes a block checks pairs of (every home of its one or two groups)."""
    pairs = [(lo, hi) for lo in range(groups) for hi in range(lo, groups)]
    return [home for home in range(buckets) if home % groups in pairs[block]]


def band_candidates(groups: int, threshold: float, bucket: int, homes: dict[int, Home],
                    parts: list[dict]) -> list[dict]:
    """Shuffle 2: pairs of sets that agree on all values of some band (the earlier set first), each once,
    sent to the block of their two homes. Pairs whose sketches disagree are dropped as they are found (a
    band's chance collisions of short sentences outnumber the pairs kept a hundredfold), and where the
    ``homes`` are at hand (workers that share this machine's memory), pairs whose signatures disagree
    too, as :func:`verify` would drop them."""
    keys = _joined(parts, "keys", np.zeros(0, dtype=np.uint64))
    ids, in_home = _joined(parts, "ids", _NO_INTS), _joined(parts, "homes", _NO_INTS)
    sketches = _joined(parts, "sketches", np.zeros((0, MINHASH_PERMUTATIONS // 8), dtype=np.uint8))
    order = np.argsort(keys, kind="stable")
    keys, ids, in_home, sketches = keys[order], ids[order], in_home[order], sketches[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    sizes = np.diff(np.append(np.flatnonzero(new), len(keys)))
    members = np.flatnonzero(np.repeat(sizes > 1, sizes))
    # Pairs as one number each (sets numbered densely), so that a pair found in several bands is kept once
    # as the pairs come, by hashing.
    distinct_ids, dense = np.unique(ids, return_inverse=True)
    home_of = np.zeros(len(distinct_ids), dtype=np.int64)
    home_of[dense] = in_home
    sketch_of = np.zeros((len(distinct_ids), sketches.shape[1]), dtype=np.uint8)
    sketch_of[dense] = sketches
    n = np.int64(max(1, len(distinct_ids)))
    codes, held, distinct = [_NO_INTS], 0, 0
    for a, b in bucket_pairs(members, sizes[sizes > 1]):
        a, b = np.minimum(dense[a], dense[b]), np.maximum(dense[a], dense[b])
        keep = _sketches_agree(threshold, sketch_of[a], sketch_of[b])
        a, b = a[keep], b[keep]
        if homes:
            keep = _close(threshold, homes, distinct_ids[a], home_of[a], distinct_ids[b], home_of[b])
            a, b = a[keep], b[keep]
        codes.append(a * n + b)
        held += len(a)
        if held > 2 * distinct + 4 * _PAIRS_AT_ONCE:  # kept once when the copies double: linear work overall
            codes = [pd.unique(np.concatenate(codes))]
            held = distinct = len(codes[0])
    codes = pd.unique(np.concatenate(codes))
    a, b = codes // n, codes % n
    pairs = {"first": distinct_ids[a], "second": distinct_ids[b], "home": home_of[a], "second_home": home_of[b]}
    return cut(block_of(pairs["home"], pairs["second_home"], groups), groups * (groups + 1) // 2, **pairs)


def verify(threshold: float, block: int, homes: dict[int, Home], parts: list[dict]) -> dict:
    """Shuffle 3: the candidate pairs of one block, each once, checked (see the module notes) with their
    sets' signatures and keys from their ``homes``, and the sentences of the pairs kept paired across
    documents."""
    columns = {name: _joined(parts, name, _NO_INTS) for name in ("first", "second", "home", "second_home")}
    kept = _distinct(columns["first"], columns["second"])
    first, second, home_a, home_b = (columns[name][kept] for name in ("first", "second", "home", "second_home"))

    close = _close(threshold, homes, first, home_a, second, home_b)
    first, second, home_a, home_b = first[close], second[close], home_a[close], home_b[close]
    sets_a, sets_b = _gather(homes, first, home_a, "sets"), _gather(homes, second, home_b, "sets")
    kept, similarities = [], []
    offsets_a, offsets_b = sets_a.offsets, sets_b.offsets
    for row in range(len(first)):
        set_u = sets_a.values[offsets_a[row]:offsets_a[row] + sets_a.sizes[row]]
        set_v = sets_b.values[offsets_b[row]:offsets_b[row] + sets_b.sizes[row]]
        common = len(np.intersect1d(set_u, set_v, assume_unique=True))
        similarity = common / (len(set_u) + len(set_v) - common)
        if similarity >= threshold - 1e-9:
            kept.append(row)
            similarities.append(similarity)
    kept = np.asarray(kept, dtype=np.int64)
    members_a, documents_a = (_gather(homes, first[kept], home_a[kept], c) for c in ("members", "member_documents"))
    members_b, documents_b = (_gather(homes, second[kept], home_b[kept], c) for c in ("members", "member_documents"))
    # Every sentence of one set with every sentence of the other.
    mine_u, docs_u, mine_v, docs_v = members_a, documents_a, members_b, documents_b
    per_pair = mine_u.sizes * mine_v.sizes
    pair = np.repeat(np.arange(len(kept)), per_pair)
    within = np.arange(per_pair.sum()) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    u = mine_u.offsets[pair] + within // mine_v.sizes[pair]
    v = mine_v.offsets[pair] + within % mine_v.sizes[pair]
    i, j = mine_u.values[u], mine_v.values[v]
    return _across(np.minimum(i, j), np.where(i < j, docs_u.values[u], docs_v.values[v]),
                   np.maximum(i, j), np.where(i < j, docs_v.values[v], docs_u.values[u]),
                   np.asarray(similarities, dtype=float)[pair])


def sentence_table(first: np.ndarray, second: np.ndarray, similarity: np.ndarray, rows: list[tuple],
                   doc_ids: Sequence[str]) -> pd.DataFrame:
    """Rows of the pair table, from the :meth:`SentenceInfo.rows` of every sentence in a pair."""
    ids = np.concatenate([_NO_INTS, *(r[0] for r in rows)])
    order = np.argsort(ids)
    documents = np.concatenate([_NO_INTS, *(r[1] for r in rows)])[order]
    blocks = np.concatenate([_NO_INTS, *(r[2] for r in rows)])[order]
    roles = np.asarray([x for r in rows for x in r[3]], dtype=object)[order]
    texts = np.asarray([x for r in rows for x in r[4]], dtype=object)[order]
    ids = ids[order]
    names = np.asarray(doc_ids, dtype=object)
    columns = {}
    for side, wanted in (("a", first), ("b", second)):
        at = np.searchsorted(ids, wanted)
        columns.update({f"doc_{side}": names[documents[at]], f"block_{side}": blocks[at],
                        f"role_{side}": roles[at], f"sentence_{side}": texts[at]})
    return pd.DataFrame(columns).assign(similarity=np.asarray(similarity, dtype=float))[SENTENCE_COLUMNS]
