"""Concordance (KWIC): every occurrence of a word or phrase with its context.

Matching works on the same normalised tokens as the term counts (case,
curly quotes and possessives do not matter), so ``chronic pain`` finds
"Chronic pain" and "chronic  pain", and with ``lemmas`` on, ``reduce``
also finds "reduces" and "reduced". The context is the original text.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

import pandas as pd

from analysis.corpus import Document
from analysis.errors import AnalysisError
from analysis.tokens import _QUOTES, _TOKEN, Preprocessor, strip_possessive, tokenize

SORTS = ("doc", "left", "right")
KWIC_COLUMNS = ["doc_id", "block", "role", "position", "left", "match", "right"]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Normalised word tokens of ``text`` with their character span in ``text``.

    >>> token_spans("Kratom\u2019s ROLE")
    [('kratom', 0, 8), ('role', 9, 13)]
    """
    straight = text.translate(_QUOTES)  # one character for one: spans stay valid
    return [
        (strip_possessive(unicodedata.normalize("NFKC", m.group()).lower()), m.start(), m.end())
        for m in _TOKEN.finditer(straight)
    ]


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
    words = tokenize(query)
    if not words:
        raise AnalysisError(f"kwic: the query {query!r} has no words to match")
    form = preprocessor.lemma if lemmas else (lambda token: token)
    wanted = [form(w) for w in words]
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
            for i in range(len(spans) - n + 1):
                if forms[i:i + n] != wanted:
                    continue
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
