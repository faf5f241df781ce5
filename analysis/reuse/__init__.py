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

**Near-duplicate sentences** (:mod:`analysis.reuse.sentences`). Sentences (:func:`analysis.tokens.split_sentences`
within each block) with at least ``min_sentence_words`` words are compared by
the Jaccard similarity of their sets of word ``sentence_n``-grams, across
documents only. The default compares sets of words (``sentence_n = 1``): the
seed articles paraphrase one template ("Kratom, derived from the tropical
plant Mitragyna speciosa, has gained [significant] attention ..."), which
keeps most words but breaks word trigrams (similarity 0.67 by words, 0.33 by
trigrams); ``sentence_n = 3`` finds only near-verbatim copies. Candidate
pairs come from MinHash locality-sensitive hashing and are verified on the
exact sets: every reported pair reaches the threshold; on a 3,142-message
sample of 20 Newsgroups the matcher finds 31,858 of the 31,865 pairs an
all-pairs comparison finds.

**Scale and determinism.** The work is a map over ranges of documents and
shuffles (:mod:`analysis.executor`), so it runs in this process, in worker
processes or on a Dask cluster alike: passages are an exact shingle shuffle
(shingle key -> documents, :mod:`analysis.reuse.passages`), near-duplicates
a shuffle on MinHash band keys with candidates verified on the exact sets
(:mod:`analysis.reuse.sentences`). Ranges are merged in corpus order, and
keys are built from BLAKE2b hashes of the tokens and MinHash from fixed
seeds, never from Python's ``hash`` (salted per process), so the tables are
identical whatever ran them. Each range reads its documents twice (its
shingles, then its passages and sentences). The three long tables are
written as Parquet parts by the tasks that hold their rows, the two sorted
ones range-partitioned (:mod:`analysis.reuse.tables`): only the coverage
(a row per document or pair of documents) comes back to this process.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.corpus import Document
from analysis.errors import AnalysisError
from analysis.executor import Executor, LocalExecutor
from analysis.memory import release_freed_memory
from analysis.parts import TableParts, partition_bounds
from analysis.prepared import PreparedCorpus
from analysis.reuse import tables
from analysis.reuse.passages import (
    MATRIX_COLUMNS, OCCURRENCE_COLUMNS, SHARE_COLUMNS, SPAN_COLUMNS, coverage_tables, passages_of_range,
    shared_shingles, shingle_parts,
)
from analysis.reuse.reading import Options, document_ranges
from analysis.reuse.sentences import (
    SENTENCE_COLUMNS, band_candidates, band_parts, band_rounds, cut_sentences, distinct_sets, home_groups,
    homes_of_block, verify,
)
from analysis.tokens import EXCLUDED_ROLES_DEFAULT

__all__ = ["MATRIX_COLUMNS", "OCCURRENCE_COLUMNS", "SENTENCE_COLUMNS", "SHARE_COLUMNS", "SPAN_COLUMNS", "Reuse",
           "find_reuse"]

Progress = Callable[[Iterable, str], Iterable]  # wraps an iterable with a bar saying what it is doing

@dataclass(frozen=True)
class Reuse:
    """Text shared between the documents of a corpus (see the module notes).

    The three long tables (``shared_spans``, ``span_occurrences``, ``near_duplicate_sentences``) are
    written as Parquet parts by the tasks that make them; the properties of those names read them whole,
    for a corpus that fits in memory.

    Attributes
    ----------
    n : int
        Shingle length in words.
    min_documents : int
        Documents a shingle must occur in to count as shared.
    spans, occurrences, sentence_pairs : TableParts
        The parts of :attr:`shared_spans`, :attr:`span_occurrences` and :attr:`near_duplicate_sentences`.
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
    n_spans, n_pairs : int
        Rows of :attr:`shared_spans` and of :attr:`near_duplicate_sentences`.

    The passage tables carry ``n`` in their ``attrs`` too (for figure titles).
    """

    n: int
    min_documents: int
    spans: TableParts
    occurrences: TableParts
    sentence_pairs: TableParts
    reuse_matrix: pd.DataFrame
    reused_share: pd.DataFrame
    reused_char_ranges: dict[str, list[tuple[int, int]]]
    n_spans: int
    n_pairs: int

    @property
    def shared_spans(self) -> pd.DataFrame:
        """One row per distinct passage: ``span_id, text, n_words, n_documents,
        documents, occurrences, positions``. ``text`` is the first
        occurrence's original text (white space collapsed); ``documents`` the
        sorted ids of the documents that hold or share it, ``;``-joined;
        ``positions`` each occurrence as ``doc_id:word_start-word_end``.
        Sorted by ``n_words * n_documents`` (largest first), then by the
        normalised words; ``span_id`` numbers the rows from 1."""
        return self._read(self.spans)

    @property
    def span_occurrences(self) -> pd.DataFrame:
        """One row per occurrence: ``doc_id, block, role, word_start, word_end,
        char_start, char_end, span_id, shared_with`` (the ids of the other
        documents it is shared with, ``;``-joined), in reading order."""
        return self._read(self.occurrences)

    @property
    def near_duplicate_sentences(self) -> pd.DataFrame:
        """``doc_a, block_a, role_a, sentence_a, doc_b, block_b, role_b,
        sentence_b, similarity``: pairs of sentences of different documents
        (``doc_a`` first in the corpus) whose Jaccard similarity reaches the
        threshold; identical sentences have similarity 1.0. Most similar
        first, then in corpus order."""
        return self.sentence_pairs.table()

    def _read(self, parts: TableParts) -> pd.DataFrame:
        table = parts.table()
        table.attrs["n"] = self.n  # the plots name the shingle length
        return table


def _check_options(options: Options) -> None:
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
    executor: Executor | None = None, folder: Path | str | None = None,
) -> Reuse:
    """Passages and sentences that documents of ``corpus`` share.

    Parameters
    ----------
    corpus : PreparedCorpus or iterable of Document
        From a prepared corpus, each task reads its own documents' text;
        other documents are held in a list.
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
        ``progress(iterable, description)`` wraps each step (e.g. a tqdm bar).
    executor : Executor, optional
        Where the maps and shuffles run (:mod:`analysis.executor`; default:
        this process). The tables are the same wherever they ran.
    folder : Path, optional
        Where the tasks write the parts of the long tables (created if missing; on a cluster, a folder
        every worker reaches). Default: a temporary folder of this machine, removed with the result.

    Returns
    -------
    Reuse
        The tables described there and in the module notes.

    Raises
    ------
    AnalysisError
        For an option out of range.

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
    options = Options(n, min_documents, sentence_n, sentence_threshold, min_sentence_words, roles)
    _check_options(options)
    source = corpus if isinstance(corpus, PreparedCorpus) else list(corpus)
    doc_ids = source.doc_ids if isinstance(source, PreparedCorpus) else [doc.doc_id for doc in source]
    executor = executor or LocalExecutor(1)
    ranges = document_ranges(source)
    buckets = max(1, min(executor.slots, len(ranges)))  # one range: nothing to share out, so no worker processes
    edges = np.asarray([start for start, _ in ranges] + [ranges[-1][1]], dtype=np.int64)

    def bar(description: str):
        return None if progress is None else (lambda iterable: progress(iterable, f"reuse: {description}"))

    shingles = executor.launch(shingle_parts, ranges, common=(source, options, buckets), progress=bar("shingles"))
    shared = executor.shuffle(shared_shingles, shingles, buckets=buckets, common=(min_documents, edges),
                              progress=bar("shared shingles"))
    del shingles
    read = executor.shuffle(_passages_and_sentences, shared, buckets=len(ranges),
                            common=(source, options, edges, doc_ids, buckets), progress=bar("passages and sentences"))
    del shared
    passage_parts, infos, set_parts, span_parts = (executor.pick(read, part) for part in range(4))
    del read  # each part is let go as soon as it is used
    sets = executor.shuffle(distinct_sets, set_parts, buckets=buckets, progress=bar("distinct sentences"))
    del set_parts
    homes = executor.pick(sets, 0)
    groups = home_groups(buckets)
    # Workers that share this machine's memory read every home as they pair band keys, and drop pairs
    # whose signatures disagree at once; a cluster sends the band's pairs on to be checked.
    at_hand = {home: homes[home] for home in range(buckets)} if executor.shares_memory else {}
    candidates = []
    for bands in band_rounds(sentence_threshold):
        keys = executor.shuffle(band_parts, [], buckets=buckets, common=(sentence_threshold, buckets, bands),
                                beside=homes)
        candidates += executor.shuffle(band_candidates, keys, buckets=buckets, common=(groups, sentence_threshold),
                                       beside=[at_hand] * buckets,
                                       progress=bar(f"similar sentences (LSH bands {bands.start + 1}-{bands.stop})"))
        del keys  # before the next round's keys are made
    blocks = groups * (groups + 1) // 2
    verified = executor.shuffle(verify, candidates, buckets=blocks, common=(sentence_threshold,),
                                beside=[{home: homes[home] for home in homes_of_block(block, groups, buckets)}
                                        for block in range(blocks)],
                                progress=bar("similar sentences (verified)"))
    del candidates, homes, at_hand
    pairs = executor.pick(sets, 1) + verified
    del sets, verified
    release_freed_memory()
    folder = Path(folder) if folder is not None else None
    parts_folder = _parts_folder(folder)
    pair_files, n_pairs = _pair_parts(executor, pairs, infos, len(ranges), parts_folder, doc_ids, bar)
    del pairs, infos
    span_files, n_spans, occurrence_files, coverage = _passage_parts(executor, span_parts, passage_parts, buckets, len(ranges),
                                                            parts_folder, doc_ids, bar)
    del span_parts, passage_parts
    matrix, shares = coverage_tables([c[0] for c in coverage], [row for c in coverage for row in c[1]], doc_ids, n)
    char_ranges = {doc_id: ranges for c in coverage for doc_id, ranges in c[2].items()}
    found = Reuse(n, min_documents, TableParts(span_files), TableParts(occurrence_files), TableParts(pair_files),
                  matrix, shares, char_ranges, n_spans, n_pairs)
    if folder is None:
        weakref.finalize(found, shutil.rmtree, parts_folder, True)
    return found


def _parts_folder(folder: Path | None) -> str:
    """Where the tasks write the parts: ``folder`` (created), or a temporary folder of this machine."""
    if folder is None:
        return tempfile.mkdtemp(prefix="reuse-")
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def _pair_parts(executor: Executor, pairs: list, infos: list, ranges: int, folder: str, doc_ids: Sequence[str],
                bar) -> tuple[tuple[Path, ...], int]:
    """Write ``near_duplicate_sentences`` as range-partitioned parts (:mod:`analysis.reuse.tables`)."""
    counted = executor.gather(executor.launch(tables.pair_counts, pairs, common=(ranges,)))
    levels = np.unique(np.concatenate([np.zeros(0), *(similarity for similarity, _, _ in counted)]))
    bounds, _ = partition_bounds([(tables.pair_codes(levels, ranges, similarity, slots), counts)
                                  for similarity, slots, counts in counted])
    cut = executor.launch(tables.cut_pairs, pairs, common=(levels, ranges, bounds, len(bounds)))
    ordered = executor.shuffle(tables.sorted_pairs, cut, buckets=len(bounds), common=(ranges,))
    del cut
    asked = executor.shuffle(tables.pair_sentences, executor.pick(ordered, 1), buckets=ranges, beside=infos)
    written = executor.shuffle(tables.pair_part, asked, buckets=len(bounds), common=(folder, doc_ids),
                               beside=executor.pick(ordered, 0), progress=bar("sentence pairs table"))
    n_pairs = sum(int(counts.sum()) for _, _, counts in counted)
    return tuple(Path(part) for part in executor.gather(written)), n_pairs


def _passage_parts(executor: Executor, span_parts: list, passage_parts: list, buckets: int, ranges: int, folder: str,
                   doc_ids: Sequence[str], bar) -> tuple:
    """Write ``shared_spans`` (range-partitioned) and ``span_occurrences`` (by range of documents) as parts,
    and bring back each range's coverage (:mod:`analysis.reuse.tables`)."""
    merged = executor.shuffle(tables.merged_spans, span_parts, buckets=buckets, progress=bar("passages merged"))
    counted = executor.gather(executor.pick(merged, 1))
    bounds, before = partition_bounds(counted)
    cut = executor.launch(tables.cut_spans, executor.pick(merged, 0), common=(bounds, len(bounds)))
    del merged
    numbered = executor.shuffle(tables.span_part, cut, buckets=len(bounds), common=(folder, before, ranges),
                                progress=bar("passages table"))
    del cut
    span_files = tuple(Path(part) for part in executor.gather(executor.pick(numbered, 0)))
    written = executor.shuffle(tables.occurrence_part, executor.pick(numbered, 1), buckets=ranges,
                               common=(folder, doc_ids), beside=passage_parts, progress=bar("occurrences table"))
    del numbered
    results = executor.gather(written)
    n_spans = sum(int(counts.sum()) for _, counts in counted)
    return span_files, n_spans, tuple(Path(part) for part, *_ in results), [rest for _, *rest in results]


def _passages_and_sentences(source: PreparedCorpus | Sequence[Document], options: Options, edges: np.ndarray,
                            doc_ids: Sequence[str], buckets: int, part: int, shards: list) -> tuple:
    """The passages of the ``part``-th range of documents, what the table needs of its sentences, and their
    sets cut by digest."""
    found, sentences = passages_of_range(source, options, edges, doc_ids, part, shards)
    info, set_parts = cut_sentences(part, sentences, buckets)
    return found, info, set_parts, tables.span_pieces(found, buckets)

