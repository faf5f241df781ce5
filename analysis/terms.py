"""Term analytics as tidy, long-format DataFrames.

Every table is a reduction of one prepared corpus's term layer
(:class:`analysis.pipeline.PreparedTerms`): the block x term count matrix,
the counted tokens per block and the n-gram counts. Relative frequencies are
per 1,000 *word tokens*: all word tokens of the counted blocks, stopwords
included, as AntConc and Voyant report them, so that removing stopwords does
not inflate the rate of the remaining terms.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis import document_terms
from analysis.executor import Executor, LocalExecutor
from analysis.pipeline import PreparedTerms, derive_terms
from analysis.prepared import PreparedCorpus
from analysis.tokens import Preprocessor

BY_COLUMNS = {
    "corpus": [],
    "document": ["doc_id"],
    "role": ["role"],
    "section": ["doc_id", "section"],
    "paragraph": ["doc_id", "block", "role"],
}
BLOCK_COLUMNS = ["doc_id", "block", "role", "section", "section_title", "included", "n_chars", "n_tokens", "n_terms"]
NGRAM_COLUMNS = ["n", "ngram", "count", "doc_count"]


class TermCounts:
    """The term tables of one prepared corpus, made on first use.

    Parameters
    ----------
    prepared : PreparedCorpus
    layer : PreparedTerms
        Its term layer (:func:`analysis.pipeline.prepared_terms`).
    max_n : int, default 3
        Longest n-gram listed (bigrams and trigrams by default). N-grams are
        counted over the tokens before stopword removal, within sentences of
        counted blocks, and must start and end with a content word
        (``quality of life`` counts, ``of the`` does not).
    executor : Executor, optional
        Where the maps over chunks of documents run (:mod:`analysis.document_terms`); default: this process.

    Attributes
    ----------
    documents : DataFrame
        ``doc_id`` and the metadata columns, one row per document.
    blocks : DataFrame
        One row per block: ``doc_id, block, role, section, section_title,
        included, n_chars, n_tokens, n_terms`` (``n_tokens``: word tokens
        before filtering; ``n_terms``: counted terms).
    counts : DataFrame
        ``doc_id, block, term, count`` for counted blocks.
    ngrams : DataFrame
        ``n, ngram, count, doc_count`` over the corpus for n = 2..``max_n``.
    waterfall : DataFrame
        Tokens and types after each preprocessing step.
    phrases : DataFrame
        The learned multiword terms with their NPMI score.
    """

    def __init__(self, prepared: PreparedCorpus, layer: PreparedTerms, *, max_n: int = 3,
                 executor: Executor | None = None) -> None:
        self.prepared = prepared
        self.layer = layer
        self.max_n = max_n
        self.executor = executor or LocalExecutor(1)
        self._rows: dict[tuple[int, ...], sp.csr_matrix] = {}
        self.waterfall = layer.waterfall
        self.phrases = layer.phrases

    @property
    def documents(self) -> pd.DataFrame:
        return self.prepared.documents

    @property
    def n_documents(self) -> int:
        return self.prepared.n_documents

    @cached_property
    def blocks(self) -> pd.DataFrame:
        blocks = self.prepared.blocks
        table = blocks[["doc_id", "block", "role", "section", "section_title"]].copy()
        table["included"] = self.layer.counted
        table["n_chars"] = blocks["n_chars"].to_numpy()
        table["n_tokens"] = self.layer.n_tokens
        table["n_terms"] = self.layer.n_terms
        return table[BLOCK_COLUMNS]

    @cached_property
    def document_tokens(self) -> np.ndarray:
        """Word tokens of each document's counted blocks (the denominator of its rates), int64."""
        layer = self.layer
        return np.bincount(self.prepared.block_document[layer.counted], weights=layer.n_tokens[layer.counted],
                           minlength=self.n_documents).astype(np.int64)

    @cached_property
    def totals(self) -> document_terms.TermTotals:
        """Each term's count and document frequency, each document's types (:func:`analysis.document_terms.term_totals`)."""
        return document_terms.term_totals(self.prepared, self.layer, self.executor)

    def document_rows(self, documents: Sequence[int]) -> sp.csr_matrix:
        """Documents (positions) x terms counts of ``documents``, in that order; kept for the next
        request of the same documents (the per-document figures ask for the same few)."""
        key = tuple(int(d) for d in documents)
        if key not in self._rows:
            self._rows[key] = document_terms.rows_of(self.prepared, self.layer, self.executor, np.asarray(key))
        return self._rows[key]

    @cached_property
    def counts(self) -> pd.DataFrame:
        matrix = self.layer.block_term
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        blocks = self.prepared.blocks
        return pd.DataFrame({
            "doc_id": blocks["doc_id"].to_numpy()[rows], "block": blocks["block"].to_numpy()[rows],
            "term": np.asarray(self.layer.terms, dtype=object)[matrix.indices] if len(rows) else np.zeros(0, dtype=object),
            "count": matrix.data.astype(np.int64),
        }, columns=["doc_id", "block", "term", "count"])

    def ngram_table(self, n: int | None = None, *, min_count: int = 1) -> pd.DataFrame:
        """``n, ngram, count, doc_count``, sorted by n and n-gram; pruned by ``min_count`` before
        the n-grams are spelled out."""
        words = np.asarray(self.layer.words, dtype=object)
        parts = []
        for size, (rows, counts, docs) in sorted(self.layer.ngrams.items()):
            if size > self.max_n or (n is not None and size != n):
                continue
            keep = counts >= min_count
            text = words[rows[keep, 0]]
            for k in range(1, size):
                text = text + " " + words[rows[keep, k]]
            parts.append(pd.DataFrame({"n": size, "ngram": text, "count": counts[keep], "doc_count": docs[keep]},
                                      columns=NGRAM_COLUMNS))
        if not parts:
            return pd.DataFrame(columns=NGRAM_COLUMNS).astype({"n": int, "ngram": str, "count": int, "doc_count": int})
        table = pd.concat(parts, ignore_index=True)
        return table.sort_values(["n", "ngram"], ignore_index=True).astype({"ngram": str})

    @cached_property
    def ngrams(self) -> pd.DataFrame:
        return self.ngram_table()


def count_terms(prepared: PreparedCorpus, preprocessor: Preprocessor, *,
                masks: Mapping[str, Sequence[tuple[int, int]]] | None = None, max_n: int = 3) -> TermCounts:
    """Run the preprocessing pipeline on ``prepared`` and count its terms (nothing is cached).

    Parameters
    ----------
    prepared : PreparedCorpus
        E.g. :func:`analysis.prepared.prepare_documents` of a few texts.
    preprocessor : Preprocessor
    masks : mapping of str to list of (int, int), optional
        Character ranges per document id left out of the counts (see
        :func:`analysis.pipeline.derive_terms`).
    max_n : int, default 3
    """
    return TermCounts(prepared, derive_terms(prepared, preprocessor, masks), max_n=max_n)


def _token_totals(tc: TermCounts, keys: list[str]) -> pd.DataFrame | int:
    if not keys:
        return int(tc.layer.n_tokens[tc.layer.counted].sum())
    counted = tc.blocks[tc.blocks["included"]]
    return counted.groupby(keys, sort=True, observed=True)["n_tokens"].sum().rename("tokens").reset_index()


def term_frequencies(tc: TermCounts, by: str = "corpus", *, documents: Sequence[str] | None = None) -> pd.DataFrame:
    """Term counts and rates per group.

    Parameters
    ----------
    tc : TermCounts
    by : {"corpus", "document", "role", "section", "paragraph"}
        The grouping: the whole corpus, each document, each block role
        (summary, intro, heading, body, conclusion...), each section of each
        document, or each paragraph (block) of each document.
    documents : sequence of str, optional
        With ``by="document"``: only these documents (ids), read from the
        chunks that hold them; default: every document.

    Returns
    -------
    DataFrame
        Grouping columns (none for ``corpus``), then ``term, count, tokens,
        per_1000_tokens, rank``. ``tokens`` is the number of word tokens in the
        group; ``rank`` is 1 for the most frequent term of the group (ties by term).
    """
    if by not in BY_COLUMNS:
        raise ValueError(f"by must be one of {', '.join(BY_COLUMNS)}, got {by!r}")
    if documents is not None and by != "document":
        raise ValueError(f"documents applies to by='document', not by={by!r}")
    keys = BY_COLUMNS[by]
    if by == "document":
        grouped = _document_counts(tc, documents)
    elif keys:
        counts = tc.counts.merge(tc.blocks[["doc_id", "block", "role", "section"]], on=["doc_id", "block"])
        grouped = counts.groupby(keys + ["term"], sort=True, observed=True)["count"].sum().reset_index()
        grouped = grouped.merge(_token_totals(tc, keys), on=keys)
    else:  # the corpus: in term order already, so a stable sort by count keeps ties by term
        grouped = _term_totals(tc)
        grouped["tokens"] = _token_totals(tc, keys)
        grouped = grouped.iloc[np.argsort(-grouped["count"].to_numpy(), kind="stable")]
    grouped["per_1000_tokens"] = 1000 * grouped["count"] / grouped["tokens"]
    if keys:
        grouped = grouped.sort_values(keys + ["count", "term"], ascending=[True] * len(keys) + [False, True])
    grouped["rank"] = grouped.groupby(keys).cumcount() + 1 if keys else range(1, len(grouped) + 1)
    return grouped.reset_index(drop=True)[keys + ["term", "count", "tokens", "per_1000_tokens", "rank"]]


def _document_counts(tc: TermCounts, documents: Sequence[str] | None) -> pd.DataFrame:
    """``doc_id, term, count, tokens`` of the terms each of ``documents`` (default: all) uses."""
    doc_ids = np.asarray(tc.prepared.doc_ids, dtype=object)
    if documents is None:
        positions = np.flatnonzero(tc.totals.types > 0)
    else:
        wanted = set(documents)
        positions = np.asarray([i for i, doc_id in enumerate(doc_ids) if doc_id in wanted], dtype=np.int64)
    matrix = tc.document_rows(positions).tocoo()
    row = positions[matrix.row]
    return pd.DataFrame({"doc_id": doc_ids[row], "term": np.asarray(tc.layer.terms, dtype=object)[matrix.col],
                         "count": matrix.data.astype(np.int64), "tokens": tc.document_tokens[row]},
                        columns=["doc_id", "term", "count", "tokens"])


def _term_totals(tc: TermCounts) -> pd.DataFrame:
    """``term, count`` of the terms that occur, in term order."""
    totals = tc.totals.count
    present = np.flatnonzero(totals)
    return pd.DataFrame({"term": np.asarray(tc.layer.terms, dtype=object)[present], "count": totals[present]})


def document_frequency(tc: TermCounts) -> pd.DataFrame:
    """``term, doc_count, doc_share, count``: in how many documents each term occurs."""
    table = _term_totals(tc)
    occurs = tc.totals.doc_count
    table.insert(1, "doc_count", occurs[occurs > 0])
    table["doc_share"] = table["doc_count"] / tc.n_documents
    # In term order already: a stable sort by document count, then count, keeps ties by term.
    table = table.iloc[np.lexsort((-table["count"].to_numpy(), -table["doc_count"].to_numpy()))]
    return table.reset_index(drop=True)[["term", "doc_count", "doc_share", "count"]]


def tfidf(tc: TermCounts, *, documents: Sequence[str] | None = None, min_count: int = 1) -> pd.DataFrame:
    """Distinctive terms per document by TF-IDF.

    ``tf`` is the term's count per word token of the document; ``idf`` is
    ``ln(N / df)`` with N documents and df the documents containing the term,
    so a term found in every document scores 0: it distinguishes none.
    Document frequencies are an exact reduction over the whole corpus; only
    the rows of ``documents`` are read.

    Parameters
    ----------
    tc : TermCounts
    documents : sequence of str, optional
        The documents (ids) to score; default: every document.
    min_count : int, default 1
        Ignore terms with fewer occurrences in the document.

    Returns
    -------
    DataFrame
        ``doc_id, term, count, tf, doc_count, idf, tfidf, rank`` (rank 1 is
        the most distinctive term of the document; ties by count, then term).
    """
    table = term_frequencies(tc, "document", documents=documents)
    table = table[table["count"] >= min_count].copy()
    table["doc_count"] = tc.totals.doc_count[pd.Index(tc.layer.terms).get_indexer(table["term"])]
    table["tf"] = table["count"] / table["tokens"]
    table["idf"] = [math.log(tc.n_documents / d) for d in table["doc_count"]]
    table["tfidf"] = table["tf"] * table["idf"]
    table = table.sort_values(["doc_id", "tfidf", "count", "term"], ascending=[True, False, False, True])
    table["rank"] = table.groupby("doc_id").cumcount() + 1
    return table.reset_index(drop=True)[["doc_id", "term", "count", "tf", "doc_count", "idf", "tfidf", "rank"]]


def ngram_frequencies(tc: TermCounts, n: int | None = None, *, min_count: int = 2) -> pd.DataFrame:
    """Bigram/trigram counts over the corpus.

    Returns
    -------
    DataFrame
        ``n, ngram, count, doc_count, per_1000_tokens, rank`` (rank within n).
    """
    table = tc.ngram_table(n, min_count=min_count)
    table["per_1000_tokens"] = 1000 * table["count"] / _token_totals(tc, [])
    table = table.sort_values(["n", "count", "ngram"], ascending=[True, False, True])
    table["rank"] = table.groupby("n").cumcount() + 1
    return table.reset_index(drop=True)


def rank_frequency(tc: TermCounts, *, documents: bool = True) -> pd.DataFrame:
    """Rank-frequency (Zipf) data for the corpus and for each document.

    Parameters
    ----------
    tc : TermCounts
    documents : bool, default True
        False: the corpus only.

    Returns
    -------
    DataFrame
        ``scope, doc_id, term, count, rank, relative_frequency``; ``scope`` is
        ``corpus`` (``doc_id`` empty) or ``document``. Frequencies are shares
        of the counted terms of the scope.
    """
    corpus = term_frequencies(tc, "corpus").assign(scope="corpus", doc_id="")
    parts = [corpus, term_frequencies(tc, "document").assign(scope="document")] if documents else [corpus]
    table = pd.concat(parts, ignore_index=True)
    table["relative_frequency"] = table["count"] / table.groupby(["scope", "doc_id"])["count"].transform("sum")
    return table[["scope", "doc_id", "term", "count", "rank", "relative_frequency"]]


def block_overview(tc: TermCounts) -> pd.DataFrame:
    """Blocks in document order with their position in word tokens.

    Returns
    -------
    DataFrame
        ``doc_id, block, role, section, included, n_tokens, start_token`` where
        ``start_token`` is where the block begins in its document.
    """
    table = tc.blocks.sort_values(["doc_id", "block"]).copy()
    table["start_token"] = table.groupby("doc_id")["n_tokens"].cumsum() - table["n_tokens"]
    return table[["doc_id", "block", "role", "section", "included", "n_tokens", "start_token"]].reset_index(drop=True)


def corpus_summary(tc: TermCounts) -> pd.DataFrame:
    """One row per document: blocks by role, word tokens, counted terms and types.

    Returns
    -------
    DataFrame
        ``doc_id, blocks, <role columns>, tokens, terms, types``, plus a final
        ``(corpus)`` row with totals (types counted over the whole corpus).
    """
    # Counted per document number with bincount (a pivot table over string ids took 0.4 s per 100k documents).
    blocks = tc.blocks
    doc = tc.prepared.block_document
    n_documents = tc.n_documents
    role, role_names = pd.factorize(blocks["role"].to_numpy(), sort=True)
    per_role = np.bincount(doc * len(role_names) + role, minlength=n_documents * len(role_names))
    per_role = per_role.reshape(n_documents, len(role_names))
    included = blocks["included"].to_numpy()
    counted = {name: np.bincount(doc[included], weights=blocks[column].to_numpy()[included], minlength=n_documents)
               for name, column in (("tokens", "n_tokens"), ("terms", "n_terms"))}
    table = pd.DataFrame({"blocks": per_role.sum(axis=1), **dict(zip(role_names, per_role.T)), **counted,
                          "types": tc.totals.types},
                         index=pd.Index(tc.prepared.doc_ids, name="doc_id")).astype(int)
    table = table[table["blocks"] > 0].sort_index()  # as a pivot table of the blocks: documents with blocks, by id
    total = table.sum()
    total["types"] = int(np.count_nonzero(tc.totals.count))
    table.loc["(corpus)"] = total
    table.columns.name = None
    return table.reset_index()
