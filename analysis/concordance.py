"""Concordance and association: KWIC lines and window collocates.

Matching works on the same normalised tokens as the term counts (case,
curly quotes and possessives do not matter), so ``chronic pain`` finds
"Chronic pain" and "chronic  pain", and with ``lemmas`` on, ``reduce``
also finds "reduces" and "reduced". The context is the original text.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Iterable

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.executor import Executor, LocalExecutor
from analysis.pipeline import document_chunks, form_lemmas
from analysis.prepared import PreparedCorpus
from analysis.stats import g2_contingency
from analysis.tokens import Preprocessor, tokenize

SORTS = ("doc", "left", "right")
KWIC_COLUMNS = ["doc_id", "block", "role", "position", "left", "match", "right"]
COLLOCATE_COLUMNS = ["collocate", "count", "collocate_count", "expected", "pmi", "t_score", "log_likelihood"]


class _TokenForms:
    """Every token of a prepared corpus as an id of its form (or lemma), with the counted blocks.

    Matching a query reads only the form array; collocates and dispersion
    read it a chunk of documents at a time (:func:`_chunk_tokens`).
    """

    def __init__(self, prepared: PreparedCorpus, preprocessor: Preprocessor, lemmas: bool) -> None:
        self.prepared = prepared
        self.preprocessor = preprocessor
        self.lemmas = lemmas
        self.name_of_form = form_lemmas(prepared, preprocessor) if lemmas else prepared.forms
        self.counted_block = prepared.block_mask(preprocessor.excluded_roles)

    @cached_property
    def names(self) -> list[str]:
        return list(dict.fromkeys(self.name_of_form))

    @cached_property
    def name_ids(self) -> np.ndarray:
        """The name id (in :attr:`names`) of every form."""
        ids = {name: i for i, name in enumerate(self.names)}
        return np.fromiter((ids[n] for n in self.name_of_form), dtype=np.int64, count=len(self.name_of_form))

    def form_sets(self, words: list[str]) -> list[np.ndarray]:
        """For each word of a query, the ids of the forms that match it."""
        return [np.flatnonzero(self._name_array == w) for w in words]

    @cached_property
    def _name_array(self) -> np.ndarray:
        return np.asarray(self.name_of_form, dtype=object)

    def query(self, query: str, command: str) -> list[str]:
        """The query's words as compared (lemmas when asked; a corpus form's lemma is looked up, not recomputed)."""
        words = tokenize(query)
        if not words:
            raise AnalysisError(f"{command}: the query {query!r} has no words to match")
        return [self._lemma(w) for w in words] if self.lemmas else words

    @cached_property
    def _form_array(self) -> np.ndarray:
        return np.asarray(self.prepared.forms, dtype=object)

    def _lemma(self, word: str) -> str:
        found = np.flatnonzero(self._form_array == word)
        return self.name_of_form[found[0]] if len(found) else self.preprocessor.lemma(word)

    def matches(self, words: list[str]) -> np.ndarray:
        """Token indexes where ``words`` start, within one counted block."""
        form = np.asarray(self.prepared.form)
        n = len(words)
        last = len(form) - n + 1
        ids = self.form_sets(words)
        if last <= 0 or any(len(i) == 0 for i in ids):
            return np.zeros(0, dtype=np.int64)
        hit = np.flatnonzero(np.isin(form[:last], ids[0]))
        for k in range(1, n):
            hit = hit[np.isin(form[hit + k], ids[k])]
        block = self.block_of(hit)
        same_block = hit + n <= self.prepared.block_offsets[block + 1]
        return hit[self.counted_block[block] & same_block].astype(np.int64)

    def block_of(self, positions: np.ndarray) -> np.ndarray:
        """The block of each token position (without the per-token block array)."""
        return np.searchsorted(self.prepared.block_offsets, positions, side="right") - 1


def kwic(
    prepared: PreparedCorpus, query: str, preprocessor: Preprocessor, *, window: int = 5,
    sort: str = "doc", lemmas: bool = True,
) -> pd.DataFrame:
    """Keyword in context: every occurrence of ``query`` in the counted blocks.

    Only the documents that hold a match are read.

    Parameters
    ----------
    prepared : PreparedCorpus
    query : str
        A word or a phrase (several words matched in sequence).
    preprocessor : Preprocessor
        Decides which blocks are counted (the outline is left out by
        default) and supplies lemmas.
    window : int, default 5
        Words of context on each side (within the block).
    sort : {"doc", "left", "right"}
        ``doc``: by document and position; ``left``: by the words before the
        match, nearest first (AntConc's 1L, 2L ...); ``right``: by the words
        after it.
    lemmas : bool, default True
        Also match other forms of the same lemma.

    Returns
    -------
    DataFrame
        ``doc_id, block, role, position, left, match, right``; ``position``
        is the match's word index in its document.
    """
    if sort not in SORTS:
        raise AnalysisError(f"--sort must be one of {', '.join(SORTS)}, got {sort!r}")
    if window < 0:
        raise AnalysisError(f"--window must be 0 or more, got {window}")
    tokens = _TokenForms(prepared, preprocessor, lemmas)
    wanted = tokens.query(query, "kwic")
    starts = tokens.matches(wanted)
    n = len(wanted)
    blocks = prepared.blocks
    block_offsets, doc_offsets = prepared.block_offsets, prepared.document_offsets
    block_of_start = tokens.block_of(starts)
    docs = prepared.block_document[block_of_start] if len(starts) else np.zeros(0, dtype=np.int64)
    doc_ids, block_index, roles = prepared.doc_ids, blocks["block"].to_numpy(), blocks["role"].to_numpy()
    texts = prepared.texts(docs)
    forms, form = prepared.forms, prepared.form
    spans: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    rows, keys = [], []
    for i, doc, b in zip(starts.tolist(), docs.tolist(), block_of_start.tolist()):
        first, stop = int(block_offsets[b]), int(block_offsets[b + 1])
        text = texts[doc]
        if b not in spans:
            spans[b] = prepared.spans(b, text)
        start, end = spans[b]
        before = range(max(first, i - window), i)
        after = range(i + n, min(stop, i + n + window))
        match_start, match_end = int(start[i - first]), int(end[i + n - 1 - first])
        left = text[start[before[0] - first]:match_start].strip() if before else ""
        right = text[match_end:end[after[-1] - first]].strip() if after else ""
        rows.append([doc_ids[doc], int(block_index[b]), roles[b],
                     i - int(block_offsets[doc_offsets[doc]]), " ".join(left.split()),
                     " ".join(text[match_start:match_end].split()), " ".join(right.split())])
        keys.append(([forms[form[j]] for j in reversed(before)], [forms[form[j]] for j in after]))
    table = pd.DataFrame(rows, columns=KWIC_COLUMNS)
    if sort != "doc" and len(table):
        side = 0 if sort == "left" else 1
        order = sorted(range(len(rows)), key=lambda r: (keys[r][side], rows[r][0], rows[r][3]))
        table = table.iloc[order].reset_index(drop=True)
    return table


def match_offsets(prepared: PreparedCorpus, query: str, preprocessor: Preprocessor, *, document: int,
                  lemmas: bool = True) -> list[tuple[int, int]]:
    """Character offsets (start, end) in the text of ``document`` (a number) of every match of ``query``
    in its counted blocks, matched as :func:`kwic` matches; for highlighting a document."""
    tokens = _TokenForms(prepared, preprocessor, lemmas)
    wanted = tokens.query(query, "highlight")
    starts = tokens.matches(wanted)
    blocks = tokens.block_of(starts)
    keep = prepared.block_document[blocks] == document if len(starts) else np.zeros(0, dtype=bool)
    text = prepared.texts([document])[document]
    spans: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    found = []
    for i, b in zip(starts[keep].tolist(), blocks[keep].tolist()):
        if b not in spans:
            spans[b] = prepared.spans(b, text)
        first = int(prepared.block_offsets[b])
        found.append((int(spans[b][0][i - first]), int(spans[b][1][i + len(wanted) - 1 - first])))
    return found


def collocates(
    prepared: PreparedCorpus, query: str, preprocessor: Preprocessor, *, window: int = 5, min_count: int = 3,
    lemmas: bool = True, function_words: bool = False, executor: Executor | None = None,
) -> pd.DataFrame:
    """Words that occur near ``query`` more often than chance, with three association measures.

    The context is every word position within ``window`` words left or right
    of an occurrence of the node (the query, a word or phrase; within a
    block), each position counted once even where the windows of two nearby
    occurrences overlap, and never the node's own words. With ``O`` the
    collocate's count in the context, ``R`` the context's size in words,
    ``C`` the collocate's corpus count and ``N`` the corpus's word tokens,
    the expected count is ``E = R C / N`` and

    - ``pmi = log2(O / E)`` (favours rare words; read with ``count``),
    - ``t_score = (O - E) / sqrt(O)`` (favours frequent words),
    - ``log_likelihood``: G2 of the 2 x 2 table (positions in the context or
      not, collocate or not); above 3.84 is p < 0.05, 10.83 p < 0.001 (1 df).

    Only words seen more often than expected (``O > E``) are collocates: G2
    is two-sided, and a word avoided near the node is not one.

    Parameters
    ----------
    prepared : PreparedCorpus
    query : str
    preprocessor : Preprocessor
        Counted blocks, lemmas and the stopword list.
    window : int, default 5
    min_count : int, default 3
        Collocates seen fewer times near the node are left out.
    lemmas : bool, default True
        Count lemmas (the node matches every form, collocates are merged by lemma).
    function_words : bool, default False
        Keep stopwords, numbers and clitics as collocates.
    executor : Executor, optional
        Where the chunks of blocks are counted (:mod:`analysis.executor`;
        default: this process); their counts are summed here.

    Returns
    -------
    DataFrame
        ``collocate, count, collocate_count, expected, pmi, t_score,
        log_likelihood``, strongest G2 first; ``attrs`` holds ``node_count``
        and ``tokens``.
    """
    if window < 1:
        raise AnalysisError(f"--window must be 1 or more, got {window}")
    tokens = _TokenForms(prepared, preprocessor, lemmas)
    node = tokens.query(query, "collocates")
    near = np.zeros(len(tokens.names), dtype=np.int64)
    totals = np.zeros(len(tokens.names), dtype=np.int64)
    node_count = slots = n_tokens = 0
    for part in (executor or LocalExecutor(1)).map(
            _collocate_counts, document_chunks(prepared, _TOKENS_PER_TASK),
            common=(prepared, tokens.name_ids, tokens.counted_block, tokens.form_sets(node), window)):
        (near_ids, near_counts), (total_ids, total_counts), found, context, counted = part
        np.add.at(near, near_ids, near_counts)  # integer sums: exact in any order
        np.add.at(totals, total_ids, total_counts)
        node_count, slots, n_tokens = node_count + found, slots + context, n_tokens + counted
    index = np.flatnonzero(near >= min_count)
    names = np.asarray(tokens.names, dtype=object)[index]
    kept = np.asarray([word not in node and (function_words or not preprocessor.is_function_word(word))
                       for word in names.tolist()], dtype=bool)
    observed, count = near[index].astype(np.int64), totals[index].astype(np.int64)
    expected = slots * count / n_tokens
    kept &= observed > expected  # a word avoided near the node is not a collocate
    names, observed, count, expected = names[kept], observed[kept], count[kept], expected[kept]
    table = pd.DataFrame({
        "collocate": names, "count": observed, "collocate_count": count, "expected": expected,
        "pmi": np.log2(observed / expected), "t_score": (observed - expected) / np.sqrt(observed),
        "log_likelihood": g2_contingency(observed, slots, count, n_tokens),
    }, columns=COLLOCATE_COLUMNS)
    table = table.sort_values(["log_likelihood", "collocate"], ascending=[False, True], ignore_index=True)
    table.attrs.update(node_count=node_count, tokens=n_tokens)
    return table


def _chunk_tokens(prepared: PreparedCorpus, name_ids: np.ndarray, counted_block: np.ndarray,
                  documents: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tokens of documents ``first:last``: their forms, name ids, blocks and whether counted."""
    start, stop = (int(b) for b in prepared.document_offsets[list(documents)])
    offsets = np.asarray(prepared.block_offsets[start:stop + 1])
    first = int(offsets[0])
    form = np.asarray(prepared.form[first:int(offsets[-1])])
    block = np.repeat(np.arange(start, stop, dtype=np.int64), np.diff(offsets))
    return form, name_ids[form] if len(name_ids) else form.astype(np.int64), block, counted_block[block]


def _starts(form: np.ndarray, block: np.ndarray, counted: np.ndarray, form_sets: list[np.ndarray]) -> np.ndarray:
    """Where the words (each a set of form ids) start in a run of whole blocks, within one counted block."""
    n = len(form_sets)
    hit = np.flatnonzero(np.isin(form[:max(0, len(form) - n + 1)], form_sets[0]))
    for k in range(1, n):
        hit = hit[np.isin(form[hit + k], form_sets[k])]
    return hit[counted[hit] & (block[hit] == block[hit + n - 1])] if len(hit) else hit


def _collocate_counts(prepared: PreparedCorpus, name_ids: np.ndarray, counted_block: np.ndarray,
                      form_sets: list[np.ndarray], window: int, documents: tuple[int, int]) -> tuple:
    """One chunk's share of :func:`collocates`: the names near the node and every counted name (each as
    ids and counts), the node's occurrences, the context positions and the counted tokens."""
    form, tokens, block, counted = _chunk_tokens(prepared, name_ids, counted_block, documents)
    n = len(form_sets)
    starts = _starts(form, block, counted, form_sets)
    # Context positions: within the window and the node's block, each counted once, never the node itself.
    shifts = np.concatenate([np.arange(-window, 0), np.arange(n, n + window)])
    around = (starts[:, None] + shifts[None, :]).ravel()
    inside = (starts[:, None] + np.arange(n)[None, :]).ravel()
    valid = (around >= 0) & (around < len(tokens))
    around = around[valid]
    same_block = block[around] == np.repeat(block[starts], len(shifts))[valid]
    context = np.setdiff1d(np.unique(around[same_block]), inside)
    return (np.unique(tokens[context], return_counts=True), np.unique(tokens[counted], return_counts=True),
            len(starts), len(context), int(counted.sum()))


POSITION_COLUMNS = ["term", "doc_id", "position", "doc_tokens", "relative_position"]
_TOKENS_PER_TASK = 4_000_000  # a chunk of whole documents for collocates and dispersion


def term_positions(
    prepared: PreparedCorpus, queries: Iterable[str], preprocessor: Preprocessor, *, lemmas: bool = True,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Where each query occurs in each document: the data of a dispersion (x-ray) plot.

    Positions count the word tokens of the counted blocks (the outline is
    left out by default), as :func:`dispersion` does.

    Returns
    -------
    DataFrame
        ``term, doc_id, position, doc_tokens, relative_position`` (position
        over ``doc_tokens``, 0 to 1), one row per occurrence; a document in
        which a term never occurs has one row with no position, so every
        document is listed for every term. Chunks of whole documents are
        read on ``executor`` (default: this process) and joined in order.
    """
    queries = list(dict.fromkeys(queries))
    tokens = _TokenForms(prepared, preprocessor, lemmas)
    wanted = [tokens.form_sets(tokens.query(q, "dispersion")) for q in queries]
    by_query: list[list] = [[] for _ in queries]
    for part in (executor or LocalExecutor(1)).map(
            _chunk_positions, document_chunks(prepared, _TOKENS_PER_TASK),
            common=(prepared, tokens.counted_block, wanted)):
        for rows, found in zip(by_query, part):
            rows.extend(found)  # chunks of whole documents, in corpus order
    doc_ids = prepared.doc_ids
    rows = [[query, doc_ids[doc], start, size, None if start is None else start / max(size, 1)]
            for query, found in zip(queries, by_query) for doc, start, size in found]
    return pd.DataFrame(rows, columns=POSITION_COLUMNS).astype({"position": "Int64", "relative_position": float})


def _chunk_positions(prepared: PreparedCorpus, counted_block: np.ndarray, wanted: list[list[np.ndarray]],
                     documents: tuple[int, int]) -> list[list[tuple]]:
    """For each query, ``(document, position, document's counted tokens)`` in documents ``first:last``, a
    position of None where a document lacks the query."""
    form, _, block, counted = _chunk_tokens(prepared, np.zeros(0, dtype=np.int64), counted_block, documents)
    first_doc, last_doc = documents
    doc_of_token = np.asarray(prepared.block_document)[block]
    sizes = np.bincount(doc_of_token[counted] - first_doc, minlength=last_doc - first_doc)
    rank = np.cumsum(counted) - 1  # a token's position among the counted tokens of its document
    doc_first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    found = []
    for form_sets in wanted:
        starts = _starts(form, block, counted, form_sets)
        by_doc = doc_of_token[starts] - first_doc
        positions = rank[starts] - doc_first[by_doc]
        found.append([(first_doc + doc, start, size) for doc, size in enumerate(sizes.tolist())
                      for start in (positions[by_doc == doc].tolist() or [None])])
    return found


def dispersion(
    prepared: PreparedCorpus, queries: Iterable[str], preprocessor: Preprocessor, *, lemmas: bool = True,
) -> pd.DataFrame:
    """How evenly each query is spread over the documents.

    With document ``i`` holding the share ``s_i`` of the corpus's word tokens
    and the share ``v_i`` of the query's occurrences:

    - ``dp`` is Gries's (2008) deviation of proportions, ``0.5 * sum |v_i - s_i|``:
      0 when the term is spread exactly like the text, towards 1 when it is
      concentrated; ``dp_norm`` divides by its maximum ``1 - min s_i``;
    - ``juilland_d`` is Juilland's D on the documents' relative frequencies
      ``p_i``: ``1 - (sd(p) / mean(p)) / sqrt(n - 1)`` (1 = even).

    Returns
    -------
    DataFrame
        ``term, count, documents, dp, dp_norm, juilland_d`` (NaN for a term
        that never occurs, and D needs two documents or more).
    """
    return dispersion_measures(term_positions(prepared, queries, preprocessor, lemmas=lemmas))


def documents_by_use(positions: pd.DataFrame) -> list[str]:
    """The documents of :func:`term_positions`, those where the terms occur most first (then the
    longest, then by id): the documents an X-ray plot shows when it cannot show all."""
    found = positions.dropna(subset=["relative_position"]).groupby("doc_id").size()
    table = positions.drop_duplicates("doc_id").set_index("doc_id")[["doc_tokens"]]
    table["occurrences"] = found.reindex(table.index, fill_value=0)
    table = table.reset_index().sort_values(["occurrences", "doc_tokens", "doc_id"], ascending=[False, False, True],
                                            kind="stable")
    return table["doc_id"].tolist()


def dispersion_measures(positions: pd.DataFrame) -> pd.DataFrame:
    """:func:`dispersion` computed from a :func:`term_positions` table."""
    rows = []
    for term, table in positions.groupby("term", sort=False):
        per_doc = table.groupby("doc_id", sort=True).agg(size=("doc_tokens", "first"),
                                                         count=("position", "count"))
        size = per_doc["size"].to_numpy(dtype=float)
        f = per_doc["count"].to_numpy(dtype=float)
        share = size / size.sum() if size.sum() else size
        total = f.sum()
        if total == 0:
            rows.append([term, 0, 0, np.nan, np.nan, np.nan])
            continue
        dp = 0.5 * float(np.abs(f / total - share).sum())
        dp_norm = dp / (1 - share.min()) if share.min() < 1 else np.nan
        rate = np.divide(f, size, out=np.zeros_like(f), where=size > 0)
        d = 1 - (rate.std() / rate.mean()) / math.sqrt(len(rate) - 1) if len(rate) > 1 else np.nan
        rows.append([term, int(total), int((f > 0).sum()), dp, dp_norm, d])
    return pd.DataFrame(rows, columns=["term", "count", "documents", "dp", "dp_norm", "juilland_d"])


def format_kwic(table: pd.DataFrame, width: int = 40) -> str:
    """KWIC lines aligned on the match, for a terminal.

    >>> print(format_kwic(pd.DataFrame([["d1", 0, "body", 3, "relief from", "chronic pain", "and"]],
    ...                                columns=KWIC_COLUMNS), width=12))
    d1  body   relief from  [chronic pain]  and
    """
    if table.empty:
        return ""
    id_width = max(len(str(d)) for d in table["doc_id"])
    role_width = max(len(str(r)) for r in table["role"])
    lines = []
    for row in table.itertuples():
        left = row.left[-width:]
        lines.append(f"{row.doc_id:<{id_width}}  {row.role:<{role_width}}  {left:>{width}}  [{row.match}]  "
                     f"{row.right[:width]}".rstrip())
    return "\n".join(lines)
