"""The documents x terms counts, read in chunks of whole documents and reduced exactly.

The term layer stores counts per block (:class:`analysis.pipeline.PreparedTerms`); a document's row is
the sum of its blocks' rows. No step here builds the whole documents x terms matrix: each is a map over
chunks of documents (:func:`analysis.pipeline.document_chunks`, fixed by the corpus, never by the number
of workers) whose results are summed or joined in chunk order, so this process, forked workers or a Dask
cluster's workers give the same numbers:

- :func:`term_totals`: each term's count and document frequency, each document's number of types;
- :func:`group_sums`: groups x terms counts and document counts;
- :func:`rows_of`: the rows of chosen documents (the few a per-document table shows);
- :func:`columns_of`: the columns of chosen terms, for every document;
- :func:`group_cosines`: each document's cosine to its group's mean profile.

Counts are int64 and sums of integers, so they are exact in any order; the group mean profiles are sums
of floats, added in chunk order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from analysis.executor import Executor
from analysis.pipeline import PreparedTerms, document_chunks
from analysis.prepared import PreparedCorpus

CHUNK_TOKENS = 1_000_000  # raw tokens per chunk of documents: a few MB of counts per task


def chunks_of(prepared: PreparedCorpus) -> list[tuple[int, int]]:
    """The chunks of documents every map here runs over."""
    return document_chunks(prepared, CHUNK_TOKENS)


def chunk_rows(prepared: PreparedCorpus, layer: PreparedTerms, documents: tuple[int, int]) -> sp.csr_matrix:
    """Documents ``[start, stop)`` x terms, int64: the block x term rows of their blocks summed per document."""
    start, stop = documents
    offsets = np.asarray(prepared.document_offsets[start:stop + 1], dtype=np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    owner = np.repeat(np.arange(stop - start), np.diff(offsets))
    to_document = sp.csr_matrix((np.ones(last - first, dtype=np.int64), (owner, np.arange(last - first))),
                                shape=(stop - start, last - first))
    matrix = (to_document @ sp.csr_matrix(layer.block_term[first:last], dtype=np.int64)).tocsr()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


@dataclass(frozen=True)
class TermTotals:
    """Exact corpus totals of the documents x terms counts.

    Attributes
    ----------
    count : ndarray of int64
        Per term: its occurrences in the corpus.
    doc_count : ndarray of int64
        Per term: the documents that use it.
    types : ndarray of int64
        Per document: its distinct terms.
    """

    count: np.ndarray
    doc_count: np.ndarray
    types: np.ndarray


def _chunk_totals(prepared: PreparedCorpus, layer: PreparedTerms,
                  documents: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = chunk_rows(prepared, layer, documents)
    n_terms = rows.shape[1]
    count = np.bincount(rows.indices, weights=rows.data, minlength=n_terms).astype(np.int64)
    return count, np.bincount(rows.indices, minlength=n_terms).astype(np.int64), np.diff(rows.indptr)


def term_totals(prepared: PreparedCorpus, layer: PreparedTerms, executor: Executor) -> TermTotals:
    """Each term's count and document frequency and each document's types, summed over the chunks."""
    count = np.zeros(len(layer.terms), dtype=np.int64)
    doc_count = np.zeros(len(layer.terms), dtype=np.int64)
    types = []
    for chunk_count, chunk_doc_count, chunk_types in executor.map(_chunk_totals, chunks_of(prepared),
                                                                 common=(prepared, layer)):
        count += chunk_count
        doc_count += chunk_doc_count
        types.append(chunk_types)
    return TermTotals(count, doc_count, np.concatenate(types).astype(np.int64))


def _indicator(of_document: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """Groups x documents, 1 where the document belongs to the group (-1: to none)."""
    member = np.flatnonzero(of_document >= 0)
    return sp.csr_matrix((np.ones(len(member), dtype=np.int64), (of_document[member], member)),
                         shape=(n_groups, len(of_document)))


def _chunk_group_sums(prepared: PreparedCorpus, layer: PreparedTerms, of_document: np.ndarray, n_groups: int,
                      documents: tuple[int, int]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    rows = chunk_rows(prepared, layer, documents)
    indicator = _indicator(of_document[documents[0]:documents[1]], n_groups)
    present = rows.copy()
    present.data = np.ones_like(present.data)
    return (indicator @ rows).tocsr(), (indicator @ present).tocsr()


def group_sums(prepared: PreparedCorpus, layer: PreparedTerms, executor: Executor, of_document: np.ndarray,
               n_groups: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Groups x terms: the counts of each group's documents, and how many of them use each term.

    ``of_document`` gives each document's group (-1 for none).
    """
    counts = sp.csr_matrix((n_groups, len(layer.terms)), dtype=np.int64)
    doc_counts = sp.csr_matrix((n_groups, len(layer.terms)), dtype=np.int64)
    for chunk_counts, chunk_doc_counts in executor.map(_chunk_group_sums, chunks_of(prepared),
                                                       common=(prepared, layer, of_document, n_groups)):
        counts = counts + chunk_counts
        doc_counts = doc_counts + chunk_doc_counts
    return counts.tocsr(), doc_counts.tocsr()


def _chunk_selected(prepared: PreparedCorpus, layer: PreparedTerms, wanted: np.ndarray,
                    documents: tuple[int, int]) -> sp.csr_matrix:
    start, stop = documents
    local = wanted[(wanted >= start) & (wanted < stop)] - start
    return chunk_rows(prepared, layer, documents)[local]


def rows_of(prepared: PreparedCorpus, layer: PreparedTerms, executor: Executor,
            documents: np.ndarray) -> sp.csr_matrix:
    """The rows of ``documents`` (positions, any order), in that order; only the chunks that hold them are read."""
    documents = np.asarray(documents, dtype=np.int64)
    wanted = np.unique(documents)
    chunks = [c for c in chunks_of(prepared) if np.any((wanted >= c[0]) & (wanted < c[1]))]
    parts = list(executor.map(_chunk_selected, chunks, common=(prepared, layer, wanted)))
    matrix = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, len(layer.terms)), dtype=np.int64)
    return matrix[np.searchsorted(wanted, documents)]


def _chunk_columns(prepared: PreparedCorpus, layer: PreparedTerms, columns: np.ndarray,
                   documents: tuple[int, int]) -> np.ndarray:
    return chunk_rows(prepared, layer, documents)[:, columns].toarray()


def columns_of(prepared: PreparedCorpus, layer: PreparedTerms, executor: Executor,
               columns: np.ndarray) -> np.ndarray:
    """Documents x ``columns`` (term ids), dense int64: a few terms' counts in every document."""
    columns = np.asarray(columns, dtype=np.int64)
    parts = list(executor.map(_chunk_columns, chunks_of(prepared), common=(prepared, layer, columns)))
    return np.vstack(parts) if parts else np.zeros((0, len(columns)), dtype=np.int64)


def _unit_profiles(rows: sp.csr_matrix) -> sp.csr_matrix:
    """Each row scaled to unit length (an empty row stays empty)."""
    profiles = sp.csr_matrix(rows, dtype=np.float64)
    lengths = np.sqrt(np.bincount(np.repeat(np.arange(profiles.shape[0]), np.diff(profiles.indptr)),
                                  weights=profiles.data ** 2, minlength=profiles.shape[0]))
    return sp.diags(np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)) @ profiles


def _chunk_profile_sums(prepared: PreparedCorpus, layer: PreparedTerms, of_document: np.ndarray, n_groups: int,
                        documents: tuple[int, int]) -> sp.csr_matrix:
    indicator = _indicator(of_document[documents[0]:documents[1]], n_groups).astype(np.float64)
    return (indicator @ _unit_profiles(chunk_rows(prepared, layer, documents))).tocsr()


def _chunk_cosines(prepared: PreparedCorpus, layer: PreparedTerms, of_document: np.ndarray, means: sp.csr_matrix,
                   documents: tuple[int, int]) -> np.ndarray:
    profiles = _unit_profiles(chunk_rows(prepared, layer, documents))
    profiles.sort_indices()
    groups = of_document[documents[0]:documents[1]]
    n_terms = profiles.shape[1]
    # Each document's dot product with its own group's mean, gathered term by term: a documents x groups
    # product would cost a pass over every group for each term.
    mean_keys = np.repeat(np.arange(means.shape[0], dtype=np.int64), np.diff(means.indptr)) * n_terms + means.indices
    row = np.repeat(np.arange(profiles.shape[0]), np.diff(profiles.indptr))
    in_group = groups[row] >= 0
    keys = groups[row[in_group]].astype(np.int64) * n_terms + profiles.indices[in_group]
    dots = np.bincount(row[in_group], weights=profiles.data[in_group] * means.data[np.searchsorted(mean_keys, keys)],
                       minlength=profiles.shape[0])
    norms = np.sqrt(np.asarray(means.multiply(means).sum(axis=1)).ravel())
    norm = np.where(groups >= 0, norms[np.maximum(groups, 0)], 1.0)
    return dots / np.where(norm > 0, norm, 1)


def group_cosines(prepared: PreparedCorpus, layer: PreparedTerms, executor: Executor, of_document: np.ndarray,
                  n_groups: int) -> np.ndarray:
    """Per document, the cosine between its term profile and its group's mean profile (0 outside any group).

    Profiles are documents' term counts scaled to unit length; a group's mean profile is summed over the
    chunks in order, then each chunk's cosines are a second map.
    """
    means = sp.csr_matrix((n_groups, len(layer.terms)), dtype=np.float64)
    for part in executor.map(_chunk_profile_sums, chunks_of(prepared), common=(prepared, layer, of_document, n_groups)):
        means = means + part
    means = sp.csr_matrix(means)
    means.sort_indices()
    parts = list(executor.map(_chunk_cosines, chunks_of(prepared), common=(prepared, layer, of_document, means)))
    return np.concatenate(parts) if parts else np.zeros(0)
