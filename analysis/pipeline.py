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

The result, :class:`PreparedTerms`, holds the counted terms in order, the
block x term count matrix, the waterfall, the phrase table and the n-gram
counts; it is cached beside the prepared corpus, keyed by the settings that
change it (:func:`terms_key`).
"""

from __future__ import annotations

import hashlib
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

from analysis.prepared import PreparedCorpus
from analysis.tokens import Preprocessor, word_flags

if TYPE_CHECKING:  # imported where used: a command that reads only a cached summary (info) skips it
    import scipy.sparse as sp

TERM_SETTINGS = ("include_outline", "language", "stopwords", "extra_stopwords", "keep_words", "min_token_length",
                 "drop_numbers", "lemmatize", "phrases", "phrase_min_count", "phrase_threshold", "mask_reuse")
MASK_SETTINGS = ("reuse_ngram", "reuse_min_documents")
MAX_N = 3
WATERFALL_COLUMNS = ["step", "order", "tokens", "types", "tokens_removed", "top_affected"]


def terms_key(preprocessor: Preprocessor, versions: Mapping[str, str]) -> str:
    """Key of the term layer: the preprocessing settings and the versions of the lists and lemmatiser."""
    settings = preprocessor.settings
    names = TERM_SETTINGS + (MASK_SETTINGS if settings.mask_reuse else ())
    values = {name: getattr(settings, name) for name in names}
    payload = json.dumps({"settings": values, "versions": dict(versions)}, sort_keys=True, default=list)
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

    @property
    def n_terms(self) -> np.ndarray:
        """Counted terms per block."""
        return np.diff(self.offsets)

    def block_terms(self, block: int) -> list[str]:
        """The counted terms of one block, in order."""
        return [self.terms[i] for i in self.sequence[self.offsets[block]:self.offsets[block + 1]]]

    # -- storage
    def save(self, folder: Path) -> None:
        import scipy.sparse as sp

        folder.mkdir(parents=True)
        arrays = {"sequence": self.sequence, "offsets": self.offsets, "n_tokens": self.n_tokens,
                  "counted": self.counted}
        for n, (rows, counts, docs) in self.ngrams.items():
            arrays.update({f"ngram{n}": rows, f"ngram{n}_count": counts, f"ngram{n}_docs": docs})
        for name, values in arrays.items():
            np.save(folder / f"{name}.npy", values, allow_pickle=False)
        sp.save_npz(folder / "block_term.npz", self.block_term, compressed=False)
        meta = {"terms": self.terms, "words": self.words, "ngrams": sorted(self.ngrams),
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
            block_term=sp.load_npz(folder / "block_term.npz").tocsr(), n_tokens=array("n_tokens"), counted=array("counted"), words=meta["words"],
            ngrams={n: (array(f"ngram{n}"), array(f"ngram{n}_count"), array(f"ngram{n}_docs")) for n in meta["ngrams"]},
            waterfall=pd.DataFrame(meta["waterfall"], columns=WATERFALL_COLUMNS),
            phrases=pd.DataFrame(meta["phrases"], columns=["phrase", "score"]).astype({"phrase": str, "score": float}),
        )


class _Waterfall:
    """Tokens, types and the most affected terms after each step."""

    def __init__(self, top: int = 5) -> None:
        self.rows: list[dict] = []
        self.top = top

    def record(self, step: str, kept: np.ndarray, names: Sequence[str], affected: np.ndarray | None = None) -> None:
        size = len(names)
        types = int(np.count_nonzero(np.bincount(kept, minlength=size))) if len(kept) else 0
        top = ""
        if affected is not None and len(affected):
            counts = np.bincount(affected, minlength=size)
            ids = np.flatnonzero(counts)
            if len(ids) > self.top:  # only words as frequent as the top-th can be among the top
                ids = ids[counts[ids] >= np.partition(counts[ids], len(ids) - self.top)[len(ids) - self.top]]
            best = sorted(zip(-counts[ids], (names[i] for i in ids)))[:self.top]
            top = "; ".join(f"{name} ({-count})" for count, name in best)
        previous = self.rows[-1]["tokens"] if self.rows else None
        self.rows.append({"step": step, "order": len(self.rows), "tokens": int(len(kept)), "types": types,
                          "tokens_removed": 0 if previous is None else previous - int(len(kept)),
                          "top_affected": top})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=WATERFALL_COLUMNS)


DERIVE_STEPS = ("outline, masks and lemmas", "phrases", "filters", "counts", "n-grams")


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


def learn_phrases(words: np.ndarray, pair_ok: np.ndarray, n_words: int, *, min_count: int, threshold: float,
                  is_edge: np.ndarray) -> dict[tuple[int, int], float]:
    """Adjacent word pairs that become multiword terms.

    As gensim ``Phrases(scoring="npmi", connector_words=())``: a pair seen at
    least ``min_count`` times whose normalised PMI exceeds ``threshold``;
    here also neither word a stopword, number or clitic (``is_edge``).

    Parameters
    ----------
    words : ndarray
        Word ids of the counted tokens in order.
    pair_ok : ndarray of bool
        ``pair_ok[j]``: words ``j`` and ``j + 1`` are in the same sentence.
    """
    counts = np.bincount(words, minlength=n_words)
    # Pairs with an edge word can never be phrases, and a pair is seen no more often than its rarer word.
    possible = (counts >= min_count) & ~is_edge
    first = np.flatnonzero(pair_ok & possible[words[:-1]] & possible[words[1:]])
    codes, pairs = pd.factorize(_pair_keys(words, first, n_words), sort=True)
    pair_counts = np.bincount(codes, minlength=len(pairs))
    pairs, pair_counts = pairs[pair_counts >= min_count], pair_counts[pair_counts >= min_count]
    # A vectorised score picks the candidates; the exact score (gensim's arithmetic) decides.
    total = float(len(words))
    p_ab = pair_counts / total
    rough = np.log(p_ab / ((counts[pairs // n_words] / total) * (counts[pairs % n_words] / total))) / -np.log(p_ab)
    found = {}
    for key, count in zip(pairs[rough > threshold - 1e-6].tolist(), pair_counts[rough > threshold - 1e-6].tolist()):
        a, b = divmod(key, n_words)
        score = npmi(int(counts[a]), int(counts[b]), count, len(words))
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


def join_phrases(words: np.ndarray, pair_ok: np.ndarray, phrases: dict[tuple[int, int], float],
                 phrase_ids: dict[tuple[int, int], int]) -> tuple[np.ndarray, np.ndarray]:
    """Join phrase pairs; where two overlap (``plant mitragyna speciosa``), the higher score wins.

    Returns
    -------
    (ndarray, ndarray)
        The joined sequence (a pair becomes its phrase id, at the first
        word's place) and a mask of ``words`` that is True at the first word of each of its items.
    """
    if not phrases:
        return words, np.ones(len(words), dtype=bool)
    n = max(int(words.max(initial=0)) + 1, max(max(p) for p in phrases) + 1)
    phrase_keys = np.asarray(sorted(a * n + b for a, b in phrases), dtype=np.int64)
    phrase_scores = np.asarray([phrases[divmod(int(k), n)] for k in phrase_keys])
    phrase_id = np.asarray([phrase_ids[divmod(int(k), n)] for k in phrase_keys], dtype=np.int64)
    starts_a_phrase = np.zeros(n, dtype=bool)
    starts_a_phrase[[a for a, _ in phrases]] = True
    first = np.flatnonzero(pair_ok & starts_a_phrase[words[:-1]])
    keys = _pair_keys(words, first, n)
    at = np.minimum(np.searchsorted(phrase_keys, keys), len(phrase_keys) - 1)
    hit = phrase_keys[at] == keys
    candidates, scores = first[hit], phrase_scores[at[hit]]
    starts = _strongest_first(candidates, scores)
    if not len(starts):
        return words, np.ones(len(words), dtype=bool)
    joined = words.astype(np.int32)
    joined[starts] = phrase_id[np.searchsorted(phrase_keys, _pair_keys(words, starts, n))]
    keep = np.ones(len(words), dtype=bool)
    keep[starts + 1] = False
    return joined[keep], keep


def _count_ngrams(words: np.ndarray, sentence_start: np.ndarray, doc: np.ndarray, n: int, n_words: int,
                  is_edge: np.ndarray, is_digit: np.ndarray):
    """N-grams within sentences that start and end with content words and hold no number."""
    m = len(words) - n + 1
    if m <= 0:
        return np.zeros((0, n), dtype=np.int32), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ok = ~is_edge[words[:m]] & ~is_edge[words[n - 1:]]
    for k in range(n):
        ok &= ~is_digit[words[k:k + m]]
        if k:
            ok &= ~sentence_start[k:k + m]
    starts = np.flatnonzero(ok)
    if n_words ** n < 2**62:
        keys = words[starts].astype(np.int64)
        for k in range(1, n):
            keys = keys * n_words + words[starts + k]
        codes, uniques = pd.factorize(keys)  # codes numbered in order of first occurrence
        running = np.maximum.accumulate(codes) if len(codes) else codes
        first_row = np.flatnonzero(np.concatenate([[True], running[1:] > running[:-1]])[:len(codes)])
    else:
        rows = np.stack([words[starts + k] for k in range(n)], axis=1)
        _, first_row, codes = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        codes, uniques = codes.ravel(), first_row
    counts = np.bincount(codes, minlength=len(uniques))
    # Distinct (n-gram, document) pairs give the document counts.
    pairs = pd.unique(codes.astype(np.int64) * (int(doc.max(initial=0)) + 1) + doc[starts])
    doc_counts = np.bincount(pairs // (int(doc.max(initial=0)) + 1), minlength=len(uniques))
    first = starts[first_row]
    rows = np.stack([words[first + k] for k in range(n)], axis=1).astype(np.int32)
    return rows, counts.astype(np.int64), doc_counts.astype(np.int64)


def preprocessing_versions(preprocessor: Preprocessor) -> dict[str, str]:
    """Versions of the packages whose data change the terms: the stopword list's and the lemmatiser's."""
    from importlib.metadata import version

    return {"gensim": version("gensim"), "simplemma": version("simplemma") if preprocessor.settings.lemmatize else ""}


def form_lemmas(prepared: PreparedCorpus, preprocessor: Preprocessor) -> list[str]:
    """The lemma of every word form of ``prepared`` (stored beside it, per language)."""
    from importlib.metadata import version

    path = prepared.folder / f"lemmas-{preprocessor.settings.language}-{version('simplemma')}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    lemmas = [preprocessor.lemma(f) for f in prepared.forms]
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


def derive_terms(prepared: PreparedCorpus, preprocessor: Preprocessor,
                 masks: Mapping[str, Sequence[tuple[int, int]]] | None = None, *,
                 progress: Callable[[Iterable], Iterable] | None = None) -> PreparedTerms:
    """Run the preprocessing pipeline on ``prepared`` (see the module notes).

    ``progress`` (e.g. a tqdm bar) wraps the list of :data:`DERIVE_STEPS` and is advanced as each ends.
    """
    import scipy.sparse as sp

    stage = iter((progress or iter)(DERIVE_STEPS))
    next(stage, None)
    settings = preprocessor.settings
    forms = prepared.forms
    form = np.asarray(prepared.form, dtype=np.int32)
    block_offsets = np.asarray(prepared.block_offsets)
    block_sizes = np.diff(block_offsets)
    n_blocks = len(block_sizes)
    waterfall = _Waterfall()
    waterfall.record("tokenized", form, forms)
    counted_block = prepared.block_mask(preprocessor.excluded_roles)
    counted = np.repeat(counted_block, block_sizes)
    waterfall.record("outline excluded", form[counted], forms, form[~counted])
    kept = counted
    if masks is not None:
        masked = reuse_mask(prepared, masks) & counted
        kept = counted & ~masked
        waterfall.record("reused text masked", form[kept], forms, form[masked])
        del masked
    # Token-length arrays are int32 or bool: they are the memory peak of a cold run.
    kept_before = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    block = np.repeat(np.arange(n_blocks, dtype=np.int32), kept_before[block_offsets[1:]] - kept_before[block_offsets[:-1]])
    del kept_before
    # A sentence starts at a sentence break, at a block's start, or after left-out words.
    starts_sentence = np.array(prepared.sentence_start, dtype=bool)
    starts_sentence[block_offsets[:-1][block_sizes > 0]] = True
    starts_sentence[1:] |= ~kept[:-1]
    sentence_start = starts_sentence[kept]
    del starts_sentence, counted

    if settings.lemmatize:
        lemmas = form_lemmas(prepared, preprocessor)
        words = list(dict.fromkeys(lemmas))
        position = {w: i for i, w in enumerate(words)}
        word_of_form = np.asarray([position[w] for w in lemmas], dtype=np.int32)
        kept_forms = form[kept]
        sequence = word_of_form[kept_forms]
        changed = np.asarray([w != f for w, f in zip(lemmas, forms)], dtype=bool)
        waterfall.record("lemmatised", sequence, words, sequence[changed[kept_forms]])
        del kept_forms
    else:
        words = forms
        sequence = form[kept]
    del kept
    n_words = len(words)
    is_edge = preprocessor.function_word_mask(words)
    is_digit = np.fromiter(map(str.isdigit, words), dtype=bool, count=n_words)
    pair_ok = ~sentence_start[1:] if len(sequence) else np.zeros(0, dtype=bool)

    next(stage, None)
    phrase_list: list[tuple[int, int]] = []
    phrases: dict[tuple[int, int], float] = {}
    if settings.phrases and len(sequence):
        phrases = learn_phrases(sequence, pair_ok, n_words, min_count=settings.phrase_min_count,
                                threshold=settings.phrase_threshold, is_edge=is_edge)
        phrase_list = sorted(phrases, key=lambda p: (-phrases[p], words[p[0]], words[p[1]]))
    names = list(words) + [f"{words[a]} {words[b]}" for a, b in phrase_list]
    phrase_ids = {pair: n_words + i for i, pair in enumerate(phrase_list)}
    joined, item_start = join_phrases(sequence, pair_ok, phrases, phrase_ids)
    if settings.phrases:
        waterfall.record("phrases joined", joined, names, joined[joined >= n_words])
    joined_block = block[item_start]
    del item_start, pair_ok

    next(stage, None)
    flags = word_flags(names, preprocessor.stopwords)
    steps = [
        ("numbers dropped", flags["digit"] & settings.drop_numbers),
        ("stopwords removed", flags["stopword"] | flags["clitic"]),
        ("short tokens dropped", flags["length"] < settings.min_token_length),
    ]
    if preprocessor.extra_stopwords:
        steps.append(("corpus stopwords removed", np.fromiter(map(preprocessor.extra_stopwords.__contains__, names),
                                                              dtype=bool, count=len(names))))
    for step, drop in steps:
        dropped = drop[joined]
        affected = joined[dropped]
        joined, joined_block = joined[~dropped], joined_block[~dropped]
        waterfall.record(step, joined, names, affected)

    next(stage, None)
    present = np.flatnonzero(np.bincount(joined, minlength=len(names)))
    term_names = sorted(names[i] for i in present.tolist())
    term_of = np.full(len(names), -1, dtype=np.int32)
    rank = {t: i for i, t in enumerate(term_names)}
    term_of[present] = [rank[names[i]] for i in present.tolist()]
    term_sequence = term_of[joined]
    del joined
    term_offsets = np.concatenate([[0], np.cumsum(np.bincount(joined_block, minlength=n_blocks))]).astype(np.int64)
    del joined_block
    # The terms are in block order already: the offsets are the matrix's row pointers. The matrix gets a copy
    # of the term ids, since summing its duplicates sorts them in place.
    block_term = sp.csr_matrix((np.ones(len(term_sequence), dtype=np.int64), term_sequence.copy(), term_offsets),
                               shape=(n_blocks, len(term_names)))
    block_term.sum_duplicates()

    n_tokens = np.where(counted_block, np.bincount(block, minlength=n_blocks), block_sizes).astype(np.int64)
    doc_of_block = prepared.block_document
    doc = doc_of_block.astype(np.int32)[block] if len(block) else np.zeros(0, dtype=np.int32)
    next(stage, None)
    ngrams = {n: _count_ngrams(sequence, sentence_start, doc, n, n_words, is_edge, is_digit)
              for n in range(2, MAX_N + 1)}
    for _ in stage:  # the last stage is done
        pass
    phrase_table = pd.DataFrame(
        sorted(((f"{words[a]} {words[b]}", phrases[(a, b)]) for a, b in phrase_list), key=lambda kv: (-kv[1], kv[0])),
        columns=["phrase", "score"]).astype({"phrase": str, "score": float})
    return PreparedTerms(
        terms=term_names, sequence=term_sequence, offsets=term_offsets, block_term=block_term.tocsr(),
        n_tokens=n_tokens, counted=counted_block, words=list(words), ngrams=ngrams, waterfall=waterfall.frame(), phrases=phrase_table,
    )


def terms_folder(prepared: PreparedCorpus, preprocessor: Preprocessor, versions: Mapping[str, str]) -> Path:
    """Where the term layer of ``prepared`` under these rules is cached (and results derived from it alone)."""
    return prepared.folder / f"terms-{terms_key(preprocessor, versions)}"


def prepared_terms(prepared: PreparedCorpus, preprocessor: Preprocessor, *, versions: Mapping[str, str],
                   masks: Mapping[str, Sequence[tuple[int, int]]] | None = None, cache: bool = True,
                   progress: Callable[[Iterable], Iterable] | None = None) -> PreparedTerms:
    """The term layer of ``prepared``: loaded from its folder when cached, else derived (and stored)."""
    folder = terms_folder(prepared, preprocessor, versions)
    if cache and (folder / "terms.json").is_file():
        return PreparedTerms.load(folder)
    result = derive_terms(prepared, preprocessor, masks, progress=progress)
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
    return result
