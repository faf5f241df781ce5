"""Claims of a corpus of any size: tagged chunk by chunk where the chunks are read, their rows written
as Parquet parts, only their counts sent back.

:func:`tag_claim_parts` is :func:`analysis.claims.tag_claims` as a map over chunks of whole documents of
a prepared corpus. Each task tags its documents, writes their rows to ``claims-<chunk>.parquet`` in a
folder the workers can reach, and returns the three tables the figures and summaries read, made from
its own rows: :func:`~analysis.claims.summaries.claim_counts` (framing, hedging density),
:func:`~analysis.claims.summaries.statement_counts` (contradictions) and the documents' word counts,
with the doses and durations its sentences mention (:func:`~analysis.claims.quantities`). A
document lies in one chunk, so these are concatenated in corpus order, never added: the client's memory
grows with the documents, not with the claims and their sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.claims.lexicons import Lexicons, shipped_lexicons
from analysis.claims.quantities import quantities
from analysis.claims.summaries import claim_counts, statement_counts, word_counts
from analysis.claims.tagger import TAG_CHUNK, claims_frame, documents_of_range, tag_documents
from analysis.executor import Executor, LocalExecutor
from analysis.parts import TableParts, joined, write_part
from analysis.prepared import PreparedCorpus
from analysis.tokens import EXCLUDED_ROLES_DEFAULT


@dataclass(frozen=True)
class ClaimParts(TableParts):
    """The claims of a corpus, tagged in parts (see the module notes).

    Attributes
    ----------
    parts : tuple of Path
        ``claims-00000.parquet`` ...: the rows of :func:`~analysis.claims.tag_claims`, chunk by chunk in
        corpus order (a chunk without claims has a part without rows).
    counts : DataFrame
        :func:`~analysis.claims.summaries.claim_counts` of every row.
    statements : DataFrame
        :func:`~analysis.claims.summaries.statement_counts` of every row.
    words : Series
        Word tokens of each document's counted blocks (:func:`~analysis.claims.summaries.word_counts`),
        every document included.
    quantities : DataFrame
        :func:`~analysis.claims.quantities` of the same sentences (a row per dose or duration mentioned:
        far fewer than the claims), found in the same pass.
    """

    counts: pd.DataFrame
    statements: pd.DataFrame
    words: pd.Series
    quantities: pd.DataFrame

    @property
    def n_claims(self) -> int:
        """Rows over all parts."""
        return int(self.counts["count"].sum())


def _tag_part(prepared: PreparedCorpus, lexicons: Lexicons, excluded_roles: tuple[str, ...], folder: str,
              item: tuple[int, int, int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame]:
    """Tag documents ``start:stop``, write their rows as part ``number`` and return their counts and
    quantities."""
    number, start, stop = item
    documents = documents_of_range(prepared, start, stop)
    table = claims_frame(tag_documents(lexicons, excluded_roles, documents))
    write_part(table, Path(folder) / part_name(number))
    return (claim_counts(table), statement_counts(table), word_counts(documents, excluded_roles=excluded_roles),
            quantities(documents, excluded_roles=excluded_roles))


def part_name(number: int) -> str:
    """``claims-00012.parquet``: the part of chunk ``number``."""
    return f"claims-{number:05d}.parquet"


def tag_claim_parts(prepared: PreparedCorpus, folder: Path, lexicons: Lexicons | None = None, *,
                    excluded_roles: Iterable[str] = EXCLUDED_ROLES_DEFAULT, executor: Executor | None = None,
                    progress: Callable[[Iterable], Iterable] | None = None) -> ClaimParts:
    """Tag the claims of ``prepared`` in chunks of whole documents on ``executor``, each chunk's rows
    written to ``folder`` (which its workers must reach: on a cluster, a shared file system).

    Parameters
    ----------
    prepared : PreparedCorpus
    folder : Path
        Where the parts are written (created if missing).
    lexicons : Lexicons, optional
        Default: the shipped lists.
    excluded_roles : iterable of str, default ("outline",)
    executor : Executor, optional
        Default: this process.
    progress : callable, optional
        Wraps the chunks as they are tagged.

    Returns
    -------
    ClaimParts
        The same rows as :func:`~analysis.claims.tag_claims`, whatever the executor.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lexicons = lexicons if lexicons is not None else shipped_lexicons()
    n = prepared.n_documents
    items = [(number, start, min(start + TAG_CHUNK, n)) for number, start in enumerate(range(0, max(n, 1), TAG_CHUNK))]
    reduced = list((executor or LocalExecutor(1)).map(
        _tag_part, items, progress=progress, common=(prepared, lexicons, tuple(excluded_roles), str(folder))))
    counts, statements, words, found = zip(*reduced)
    return ClaimParts(parts=tuple(folder / part_name(number) for number, _, _ in items), counts=joined(counts),
                      statements=joined(statements), words=pd.concat(words), quantities=joined(found))

