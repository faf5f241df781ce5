"""Tables that grow with the corpus, written as Parquet parts by the tasks that make them.

A task writes its share of a table to one part (:func:`write_part`); the table is its parts' rows in
order (:class:`TableParts`). The export layer writes such a table part by part, as one CSV or as the
parts themselves (:func:`analysis.export.table_files`), so it never comes into memory whole.

A table sorted over the whole corpus (most similar pairs first, say) is range-partitioned: each row gets
an integer *code* that never decreases along the final order (rows that tie in the order may share a
code), the tasks holding rows send back only how many rows have each code (:func:`code_counts`),
:func:`partition_bounds` cuts the codes into runs of about :data:`ROWS_PER_PART` rows, each row goes to
the partition of its code (:func:`partition_of`), and each partition sorts its own rows exactly and
writes one part. The parts in partition order are the sorted table, and a row's place in it is the rows
of the partitions before plus its place in its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROWS_PER_PART = 100_000  # rows of a range-partitioned table per part (about)


def write_part(table: pd.DataFrame, target: Path) -> Path:
    """Write ``table`` to the Parquet file ``target`` through a temporary name: a reader (or a task run
    again after its worker died) never sees half a part."""
    partial = target.with_name(f".{target.name}.partial")
    table.to_parquet(partial, index=False)
    partial.replace(target)
    return target


@dataclass(frozen=True)
class TableParts:
    """A table written as Parquet ``parts``: its rows are theirs, in order."""

    parts: tuple[Path, ...]

    def table(self) -> pd.DataFrame:
        """Every row, read from the parts."""
        return joined([pd.read_parquet(part) for part in self.parts])

    def head(self, rows: int) -> pd.DataFrame:
        """The first ``rows`` rows, reading only the parts that hold them."""
        found: list[pd.DataFrame] = []
        for part in self.parts:
            if sum(map(len, found)) >= rows:
                break
            found.append(pd.read_parquet(part))
        return joined(found).head(rows)


def joined(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """``tables`` one after another. A table without rows (whose text columns may have no type) is left
    out, so the columns keep the types of the rows found."""
    return pd.concat([table for table in tables if len(table)] or list(tables[:1]), ignore_index=True)


def code_counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct code of ``codes`` (sorted) with its number of rows."""
    return np.unique(np.asarray(codes, dtype=np.int64), return_counts=True)


def partition_bounds(counts: Sequence[tuple[np.ndarray, np.ndarray]],
                     rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut the codes counted in ``counts`` (:func:`code_counts` of every task) into partitions.

    Parameters
    ----------
    counts : sequence of (codes, rows)
    rows : int, optional
        Rows per partition (default :data:`ROWS_PER_PART`), about: each code goes to the partition of the multiple of ``rows`` its
        middle row falls in, so the rows of one code are never split (a partition may hold more).

    Returns
    -------
    bounds : ndarray of int64
        The first code of each partition (at least one partition, empty when there are no rows).
    before : ndarray of int64
        Rows in the partitions before each one.

    Examples
    --------
    >>> bounds, before = partition_bounds([(np.array([1, 5]), np.array([3, 2])), (np.array([5, 9]), np.array([4, 1]))],
    ...                                   rows=4)
    >>> bounds.tolist(), before.tolist()
    ([1, 5, 9], [0, 3, 9])
    """
    codes = np.concatenate([np.zeros(0, dtype=np.int64), *(np.asarray(c, dtype=np.int64) for c, _ in counts)])
    if not len(codes):
        return np.asarray([np.iinfo(np.int64).min]), np.zeros(1, dtype=np.int64)
    rows = ROWS_PER_PART if rows is None else rows
    distinct, where = np.unique(codes, return_inverse=True)
    totals = np.bincount(where.ravel(), weights=np.concatenate([n for _, n in counts])).astype(np.int64)
    before = np.cumsum(totals) - totals
    _, firsts = np.unique((2 * before + totals) // (2 * rows), return_index=True)
    return distinct[firsts], before[firsts]


def partition_of(codes: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The partition (:func:`partition_bounds`) of each code."""
    return np.searchsorted(bounds, codes, side="right") - 1
