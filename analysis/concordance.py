"""Concordance and association: KWIC lines and window collocates.

Matching works on the same normalised tokens as the term counts (case,
curly quotes and possessives do not matter), so ``chronic pain`` finds
"Chronic pain" and "chronic  pain", and with ``lemmas`` on, ``reduce``
also finds "reduces" and "reduced". The context is the original text.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

import numpy as np
import pandas as pd

from analysis.corpus import Document
from analysis.errors import AnalysisError
from analysis.tokens import Preprocessor, token_spans, tokenize

SORTS = ("doc", "left", "right")
KWIC_COLUMNS = ["doc_id", "block", "role", "position", "left", "match", "right"]
COLLOCATE_COLUMNS = ["collocate", "count", "collocate_count", "expected", "pmi", "t_score", "log_likelihood"]


def _former(preprocessor: Preprocessor, lemmas: bool):
    """How tokens are compared: by lemma, or as written (normalised)."""
    return preprocessor.lemma if lemmas else (lambda token: token)


def _query_forms(query: str, form, command: str) -> list[str]:
    words = [form(w) for w in tokenize(query)]
    if not words:
        raise AnalysisError(f"{command}: the query {query!r} has no words to match")
    return words


def match_starts(forms: list[str], wanted: list[str]) -> list[int]:
    """Indexes where the word sequence ``wanted`` starts in ``forms``.

    >>> match_starts(["chronic", "pain", "and", "chronic", "pain"], ["chronic", "pain"])
    [0, 3]
    """
    n = len(wanted)
    return [i for i in range(len(forms) - n + 1) if forms[i:i + n] == wanted]


def kwic(
    corpus: Iterable[Document], query: str, preprocessor: Preprocessor, *, window: int = 5,
    sort: str = "doc", lemmas: bool = True,
) -> pd.DataFrame:
    """Keyword in context: every occurrence of ``query`` in the counted blocks.

    Parameters
    ----------
    corpus : iterable of Document
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
    form = _former(preprocessor, lemmas)
    wanted = _query_forms(query, form, "kwic")
    rows, keys = [], []
    for doc in corpus:
        offset = 0
        for block in doc.blocks:
            spans = token_spans(block.text)
            if block.role in preprocessor.excluded_roles:
                offset += len(spans)
                continue
            forms = [form(t) for t, _, _ in spans]
            n = len(wanted)
            for i in match_starts(forms, wanted):
                start, end = spans[i][1], spans[i + n - 1][2]
                before = spans[max(0, i - window):i]
                after = spans[i + n:i + n + window]
                left = block.text[before[0][1]:start].strip() if before else ""
                right = block.text[end:after[-1][2]].strip() if after else ""
                rows.append([doc.doc_id, block.index, block.role, offset + i, " ".join(left.split()),
                             " ".join(block.text[start:end].split()), " ".join(right.split())])
                keys.append(([t for t, _, _ in reversed(before)], [t for t, _, _ in after]))
            offset += len(spans)
    table = pd.DataFrame(rows, columns=KWIC_COLUMNS)
    if sort != "doc" and len(table):
        side = 0 if sort == "left" else 1
        order = sorted(range(len(rows)), key=lambda r: (keys[r][side], rows[r][0], rows[r][3]))
        table = table.iloc[order].reset_index(drop=True)
    return table


def _counted_blocks(corpus: Iterable[Document], preprocessor: Preprocessor, lemmas: bool):
    """Token forms of every counted block (lemmas when asked), in corpus order."""
    form = _former(preprocessor, lemmas)
    for doc in corpus:
        for block in doc.blocks:
            if block.role not in preprocessor.excluded_roles:
                yield [form(t) for t, _, _ in token_spans(block.text)]


def collocates(
    corpus: Iterable[Document], query: str, preprocessor: Preprocessor, *, window: int = 5, min_count: int = 3,
    lemmas: bool = True, function_words: bool = False,
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
    corpus : iterable of Document
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

    Returns
    -------
    DataFrame
        ``collocate, count, collocate_count, expected, pmi, t_score,
        log_likelihood``, strongest G2 first; ``attrs`` holds ``node_count``
        and ``tokens``.
    """
    if window < 1:
        raise AnalysisError(f"--window must be 1 or more, got {window}")
    node = _query_forms(query, _former(preprocessor, lemmas), "collocates")
    near: Counter = Counter()
    totals: Counter = Counter()
    node_count = tokens = slots = 0
    n = len(node)
    for forms in _counted_blocks(corpus, preprocessor, lemmas):
        totals.update(forms)
        tokens += len(forms)
        starts = match_starts(forms, node)
        node_count += len(starts)
        inside = {j for i in starts for j in range(i, i + n)}
        context = {j for i in starts for j in range(max(0, i - window), min(len(forms), i + n + window))} - inside
        near.update(forms[j] for j in context)
        slots += len(context)
    rows = []
    for word, observed in near.items():
        if observed < min_count or (not function_words and preprocessor.is_function_word(word)) or word in node:
            continue
        count = totals[word]
        expected = slots * count / tokens
        if observed <= expected:
            continue
        rows.append([word, observed, count, expected, math.log2(observed / expected),
                     (observed - expected) / math.sqrt(observed), _g2(observed, slots, count, tokens)])
    table = pd.DataFrame(rows, columns=COLLOCATE_COLUMNS)
    table = table.sort_values(["log_likelihood", "collocate"], ascending=[False, True], ignore_index=True)
    table.attrs.update(node_count=node_count, tokens=tokens)
    return table


def _g2(o11: float, row: float, column: float, n: float) -> float:
    """Log-likelihood G2 of a 2 x 2 table given its top-left cell and margins.

    >>> round(_g2(10, 100, 100, 10000), 3)
    29.748
    """
    observed = np.array([o11, row - o11, column - o11, n - row - column + o11], dtype=float)
    expected = np.array([row * column, row * (n - column), (n - row) * column, (n - row) * (n - column)]) / n
    mask = observed > 0
    return float(2 * np.sum(observed[mask] * np.log(observed[mask] / expected[mask])))


def _occurrences(
    corpus: Iterable[Document], queries: list[str], preprocessor: Preprocessor, lemmas: bool, command: str,
) -> tuple[dict[str, int], dict[str, dict[str, list[int]]]]:
    """Counted word tokens per document, and each query's start positions per document."""
    form = _former(preprocessor, lemmas)
    wanted = {q: _query_forms(q, form, command) for q in queries}
    sizes: dict[str, int] = {}
    hits: dict[str, dict[str, list[int]]] = {q: {} for q in queries}
    for doc in corpus:
        offset = 0
        found: dict[str, list[int]] = {q: [] for q in queries}
        for forms in _counted_blocks([doc], preprocessor, lemmas):
            for query, words in wanted.items():
                found[query].extend(offset + i for i in match_starts(forms, words))
            offset += len(forms)
        sizes[doc.doc_id] = offset
        for query in queries:
            hits[query][doc.doc_id] = found[query]
    return sizes, hits


POSITION_COLUMNS = ["term", "doc_id", "position", "doc_tokens", "relative_position"]


def term_positions(
    corpus: Iterable[Document], queries: Iterable[str], preprocessor: Preprocessor, *, lemmas: bool = True,
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
        document is listed for every term.
    """
    queries = list(dict.fromkeys(queries))
    sizes, hits = _occurrences(corpus, queries, preprocessor, lemmas, "dispersion")
    rows = []
    for query in queries:
        for doc_id, size in sizes.items():
            starts = hits[query][doc_id] or [None]
            rows.extend([query, doc_id, start, size, None if start is None else start / max(size, 1)]
                        for start in starts)
    return pd.DataFrame(rows, columns=POSITION_COLUMNS).astype({"position": "Int64", "relative_position": float})


def dispersion(
    corpus: Iterable[Document], queries: Iterable[str], preprocessor: Preprocessor, *, lemmas: bool = True,
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
    return dispersion_measures(term_positions(corpus, queries, preprocessor, lemmas=lemmas))


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
