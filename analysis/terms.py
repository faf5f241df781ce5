"""Term analytics as tidy, long-format DataFrames.

One streaming pass over the corpus (:func:`count_terms`) collects counts per
block; every table is derived from those counts. Relative frequencies are per
1,000 *word tokens*: all word tokens of the counted blocks, stopwords
included, as AntConc and Voyant report them, so that removing stopwords does
not inflate the rate of the remaining terms.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from analysis.config import Settings
from analysis.corpus import Corpus, Document
from analysis.tokens import Preprocessor, Waterfall, fitted_preprocessor

BY_COLUMNS = {
    "corpus": [],
    "document": ["doc_id"],
    "role": ["role"],
    "section": ["doc_id", "section"],
    "paragraph": ["doc_id", "block", "role"],
}
BLOCK_COLUMNS = ["doc_id", "block", "role", "section", "section_title", "included", "n_chars", "n_tokens", "n_terms"]


@dataclass(frozen=True)
class TermCounts:
    """Everything one pass over the corpus collects.

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
        ``n, ngram, count, doc_count`` over the corpus for n = 2..``max_n``
        (see :func:`count_terms`).
    waterfall : DataFrame
        Tokens and types after each preprocessing step (see :class:`~analysis.tokens.Waterfall`).
    phrases : DataFrame
        The learned multiword terms with their NPMI score.
    """

    documents: pd.DataFrame
    blocks: pd.DataFrame
    counts: pd.DataFrame
    ngrams: pd.DataFrame
    waterfall: pd.DataFrame
    phrases: pd.DataFrame

    @property
    def n_documents(self) -> int:
        return len(self.documents)


def _ngrams(sentences: list[list[str]], n: int, is_edge_word) -> Iterable[str]:
    """N-grams within sentences whose first and last words are content words."""
    for sentence in sentences:
        for i in range(len(sentence) - n + 1):
            gram = sentence[i : i + n]
            if not is_edge_word(gram[0]) and not is_edge_word(gram[-1]) and not any(w.isdigit() for w in gram):
                yield " ".join(gram)


def count_terms(corpus: Iterable[Document], preprocessor: Preprocessor, *, max_n: int = 3) -> TermCounts:
    """Count terms and n-grams in one pass over ``corpus``.

    Parameters
    ----------
    corpus : iterable of Document
    preprocessor : Preprocessor
        Fitted (phrases learned) when phrases are on.
    max_n : int, default 3
        Longest n-gram counted (bigrams and trigrams by default). N-grams are
        counted over the tokens before stopword removal, within sentences of
        counted blocks, and must start and end with a content word
        (``quality of life`` counts, ``of the`` does not).

    Returns
    -------
    TermCounts
    """
    documents = []
    # Columnar lists (not row dicts or tuples) and interned strings keep memory
    # near one pointer per cell on large corpora.
    blocks: dict[str, list] = {column: [] for column in BLOCK_COLUMNS}
    counts: dict[str, list] = {"doc_id": [], "block": [], "term": [], "count": []}
    ngram_count: Counter = Counter()
    ngram_docs: Counter = Counter()
    waterfall = Waterfall()
    edge = preprocessor.is_function_word
    for doc in corpus:
        documents.append({"doc_id": doc.doc_id, **doc.metadata})
        doc_ngrams: Counter = Counter()
        for pb in preprocessor.process(doc, waterfall):
            b = pb.block
            for column, value in zip(BLOCK_COLUMNS, (
                doc.doc_id, b.index, b.role, b.section, b.section_title, pb.included, len(b.text),
                sum(len(s) for s in pb.sentences), len(pb.terms),
            )):
                blocks[column].append(value)
            for term, count in sorted(Counter(pb.terms).items()):
                counts["doc_id"].append(doc.doc_id)
                counts["block"].append(b.index)
                counts["term"].append(sys.intern(term))
                counts["count"].append(count)
            if pb.included:
                for n in range(2, max_n + 1):
                    doc_ngrams.update((n, g) for g in _ngrams(pb.sentences, n, edge))
        ngram_count.update(doc_ngrams)
        ngram_docs.update(doc_ngrams.keys())
    ngram_keys = sorted(ngram_count)
    return TermCounts(
        documents=pd.DataFrame(documents).fillna(""),
        blocks=pd.DataFrame(blocks, columns=BLOCK_COLUMNS),
        counts=pd.DataFrame(counts, columns=["doc_id", "block", "term", "count"]),
        ngrams=pd.DataFrame({
            "n": [n for n, _ in ngram_keys], "ngram": [g for _, g in ngram_keys],
            "count": [ngram_count[k] for k in ngram_keys], "doc_count": [ngram_docs[k] for k in ngram_keys],
        }, columns=["n", "ngram", "count", "doc_count"]),
        waterfall=waterfall.to_frame(preprocessor.steps),
        phrases=preprocessor.phrase_table(),
    )


def analyze(settings: Settings) -> TermCounts:
    """Read the corpus of ``settings``, learn phrases and count terms.

    This is what the CLI and the notebooks call first.
    """
    corpus = Corpus.from_settings(settings)
    return count_terms(corpus, fitted_preprocessor(settings, corpus))


def _token_totals(tc: TermCounts, keys: list[str]) -> pd.DataFrame | int:
    counted = tc.blocks[tc.blocks["included"]]
    if not keys:
        return int(counted["n_tokens"].sum())
    return counted.groupby(keys, sort=True, observed=True)["n_tokens"].sum().rename("tokens").reset_index()


def term_frequencies(tc: TermCounts, by: str = "corpus") -> pd.DataFrame:
    """Term counts and rates per group.

    Parameters
    ----------
    tc : TermCounts
    by : {"corpus", "document", "role", "section", "paragraph"}
        The grouping: the whole corpus, each document, each block role
        (summary, intro, heading, body, conclusion...), each section of each
        document, or each paragraph (block) of each document.

    Returns
    -------
    DataFrame
        Grouping columns (none for ``corpus``), then ``term, count, tokens,
        per_1000_tokens, rank``. ``tokens`` is the number of word tokens in the
        group; ``rank`` is 1 for the most frequent term of the group (ties by term).
    """
    if by not in BY_COLUMNS:
        raise ValueError(f"by must be one of {', '.join(BY_COLUMNS)}, got {by!r}")
    keys = BY_COLUMNS[by]
    counts = tc.counts.merge(tc.blocks[["doc_id", "block", "role", "section"]], on=["doc_id", "block"])
    grouped = counts.groupby(keys + ["term"], sort=True, observed=True)["count"].sum().reset_index()
    totals = _token_totals(tc, keys)
    if keys:
        grouped = grouped.merge(totals, on=keys)
    else:
        grouped["tokens"] = totals
    grouped["per_1000_tokens"] = 1000 * grouped["count"] / grouped["tokens"]
    grouped = grouped.sort_values(keys + ["count", "term"], ascending=[True] * len(keys) + [False, True])
    grouped["rank"] = grouped.groupby(keys).cumcount() + 1 if keys else range(1, len(grouped) + 1)
    return grouped.reset_index(drop=True)[keys + ["term", "count", "tokens", "per_1000_tokens", "rank"]]


def document_frequency(tc: TermCounts) -> pd.DataFrame:
    """``term, doc_count, doc_share, count``: in how many documents each term occurs."""
    by_doc = tc.counts.groupby(["term", "doc_id"], sort=True)["count"].sum().reset_index()
    table = by_doc.groupby("term", sort=True).agg(doc_count=("doc_id", "nunique"), count=("count", "sum")).reset_index()
    table["doc_share"] = table["doc_count"] / tc.n_documents
    table = table.sort_values(["doc_count", "count", "term"], ascending=[False, False, True])
    return table.reset_index(drop=True)[["term", "doc_count", "doc_share", "count"]]


def tfidf(tc: TermCounts, *, min_count: int = 1) -> pd.DataFrame:
    """Distinctive terms per document by TF-IDF.

    ``tf`` is the term's count per word token of the document; ``idf`` is
    ``ln(N / df)`` with N documents and df the documents containing the term,
    so a term found in every document scores 0: it distinguishes none.

    Parameters
    ----------
    tc : TermCounts
    min_count : int, default 1
        Ignore terms with fewer occurrences in the document.

    Returns
    -------
    DataFrame
        ``doc_id, term, count, tf, doc_count, idf, tfidf, rank`` (rank 1 is
        the most distinctive term of the document; ties by count, then term).
    """
    freq = term_frequencies(tc, "document")
    df = document_frequency(tc)[["term", "doc_count"]]
    table = freq.merge(df, on="term")
    table = table[table["count"] >= min_count].copy()
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
    table = tc.ngrams if n is None else tc.ngrams[tc.ngrams["n"] == n]
    table = table[table["count"] >= min_count].copy()
    table["per_1000_tokens"] = 1000 * table["count"] / _token_totals(tc, [])
    table = table.sort_values(["n", "count", "ngram"], ascending=[True, False, True])
    table["rank"] = table.groupby("n").cumcount() + 1
    return table.reset_index(drop=True)


def rank_frequency(tc: TermCounts) -> pd.DataFrame:
    """Rank-frequency (Zipf) data for the corpus and for each document.

    Returns
    -------
    DataFrame
        ``scope, doc_id, term, count, rank, relative_frequency``; ``scope`` is
        ``corpus`` (``doc_id`` empty) or ``document``. Frequencies are shares
        of the counted terms of the scope.
    """
    corpus = term_frequencies(tc, "corpus").assign(scope="corpus", doc_id="")
    docs = term_frequencies(tc, "document").assign(scope="document")
    table = pd.concat([corpus, docs], ignore_index=True)
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
    roles = tc.blocks.pivot_table(index="doc_id", columns="role", values="block", aggfunc="count", fill_value=0)
    counted = tc.blocks[tc.blocks["included"]].groupby("doc_id")[["n_tokens", "n_terms"]].sum()
    types = tc.counts.groupby("doc_id")["term"].nunique().rename("types")
    table = roles.join(counted).join(types).fillna(0).astype(int)
    table.insert(0, "blocks", roles.sum(axis=1))
    table = table.rename(columns={"n_tokens": "tokens", "n_terms": "terms"})
    total = table.sum()
    total["types"] = tc.counts["term"].nunique()
    table.loc["(corpus)"] = total
    table.columns.name = None
    return table.reset_index()
