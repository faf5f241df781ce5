"""Tables that grow with the corpus, written as Parquet parts by the tasks that make them.

A task writes its share of a table to one part (:func:`write_part`); the table is its parts' rows in
order (:class:`TableParts`). The export layer writes such a table part by part, as one CSV or as the
parts themselves (:func:`analysis.export.table_files`), so it never comes into memory whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


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


def joined(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """``tables`` one after another. A table without rows (whose text columns may have no type) is left
    out, so the columns keep the types of the rows found."""
    return pd.concat([table for table in tables if len(table)] or list(tables[:1]), ignore_index=True)
