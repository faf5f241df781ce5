"""The texts LDA is fitted on: documents, sections or paragraphs of the prepared corpus."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from analysis.config import Settings
from analysis.corpus import preview
from analysis.errors import AnalysisError
from analysis.pipeline import PreparedTerms
from analysis.prepared import PreparedCorpus

UNIT_LEVELS = ("document", "section", "paragraph")
UNIT_COLUMNS = ["unit_id", "doc_id", "position", "role", "section", "first_block", "last_block", "start", "end", "n_terms"]

class TopicWarning(UserWarning):
    """A topic-model choice a researcher should know about (e.g. the unit)."""


class UnitTexts(Sequence):
    """Each unit's terms in reading order, made on access from the term layer.

    A unit is one or more ranges of the layer's term sequence (a section may gather paragraphs that are
    apart); only these ranges are held, so the units cost a few integers each, not a string per token.

    Parameters
    ----------
    layer : PreparedTerms
    begins, ends : ndarray of int64
        The ranges of ``layer.sequence``, unit after unit.
    unit_offsets : ndarray of int64
        Where each unit's ranges start in ``begins`` (one more entry than units).
    """

    def __init__(self, layer: PreparedTerms, begins: np.ndarray, ends: np.ndarray, unit_offsets: np.ndarray) -> None:
        self.layer = layer
        self.begins, self.ends, self.unit_offsets = begins, ends, unit_offsets

    def __len__(self) -> int:
        return len(self.unit_offsets) - 1

    def __getitem__(self, unit: int | slice) -> list[str] | list[list[str]]:
        if isinstance(unit, slice):
            return [self[i] for i in range(*unit.indices(len(self)))]
        if not -len(self) <= unit < len(self):
            raise IndexError(unit)
        ids = self.term_ids(unit % len(self), unit % len(self) + 1)[1]
        return [self.layer.terms[i] for i in ids.tolist()]

    def lengths(self) -> np.ndarray:
        """Terms per unit."""
        return np.add.reduceat(self.ends - self.begins, self.unit_offsets[:-1]) if len(self) else np.zeros(0, np.int64)

    def term_ids(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """The terms of units ``[start, stop)`` as arrays: each token's unit (from 0 at ``start``) and term id."""
        first, last = self.unit_offsets[start], self.unit_offsets[stop]
        begins, ends = self.begins[first:last], self.ends[first:last]
        piece_unit = np.repeat(np.arange(stop - start), np.diff(self.unit_offsets[start:stop + 1]))
        positions = _concatenated_ranges(begins, ends - begins)
        return np.repeat(piece_unit, ends - begins), np.asarray(self.layer.sequence[positions], dtype=np.int64)

    def subset(self, units: Sequence[int]) -> "UnitTexts":
        """The texts of the given units, in that order."""
        units = np.asarray(units, dtype=np.int64)
        counts = np.diff(self.unit_offsets)[units]
        pieces = _concatenated_ranges(self.unit_offsets[units], counts)
        return UnitTexts(self.layer, self.begins[pieces], self.ends[pieces],
                         np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


def _concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``arange(start, start + length)`` for each pair, joined."""
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else lengths
    return (np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()))).astype(np.int64)


def describe_units(unit: str, n_units: int, n_documents: int) -> str:
    """``41 paragraphs of 5 documents`` (or ``300 documents``).

    >>> describe_units("section", 30, 5)
    '30 sections of 5 documents'
    """
    if unit == "document":
        return f"{n_units:,} documents"
    return f"{n_units:,} {unit}s of {n_documents:,} documents"


@dataclass(frozen=True)
class TopicUnits:
    """The texts LDA is fitted on.

    Attributes
    ----------
    table : DataFrame
        One row per unit: ``unit_id, doc_id, position, role, section,
        first_block, last_block, start, end, n_terms``; ``start``/``end`` are
        character offsets of the unit in its document's text.
    texts : UnitTexts
        The unit's terms in reading order (same preprocessing as the term
        counts; headings are joined to the paragraph they introduce).
    unit : str
        The level fitted on: ``document``, ``section`` or ``paragraph``.
    note : str
        Why this level was chosen when ``unit = "auto"`` picked paragraphs;
        empty otherwise. Shown in figure subtitles.
    n_documents : int
    """

    table: pd.DataFrame
    texts: UnitTexts
    unit: str
    note: str
    n_documents: int

    def __len__(self) -> int:
        return len(self.texts)

    def describe(self) -> str:
        """One line for subtitles: ``41 paragraphs of 5 documents``."""
        return describe_units(self.unit, len(self), self.n_documents)


def _paragraphs(blocks: Iterable, layer: PreparedTerms) -> Iterable[dict]:
    """The counted blocks of one document (rows of the blocks table), headings joined to the block that follows."""
    pending: list = []
    for block in blocks:
        if not layer.counted[block.Index]:
            continue
        block = block._replace(terms=(int(layer.offsets[block.Index]), int(layer.offsets[block.Index + 1])))
        if block.role == "heading":
            pending.append(block)
            continue
        group = [*pending, block]
        pending = []
        yield _unit_record(group, block.role)
    if pending:
        yield _unit_record(pending, "heading")


def _unit_record(blocks: list, role: str) -> dict:
    first, last = blocks[0], blocks[-1]
    return {
        "doc_id": first.doc_id, "role": role, "section": last.section, "first_block": first.block,
        "last_block": last.block, "start": first.start, "end": last.end,
        "terms": [(blocks[0].terms[0], blocks[-1].terms[1])],  # blocks skipped between them (not counted) have none
    }


def _merge(records: list[dict], key: Callable[[dict], object]) -> list[dict]:
    merged: dict[object, dict] = {}
    for r in records:
        k = key(r)
        if k not in merged:
            merged[k] = {**r, "terms": list(r["terms"])}
        else:
            m = merged[k]
            m["terms"].extend(r["terms"])
            m["last_block"], m["end"] = r["last_block"], r["end"]
            if m["role"] == "heading":
                m["role"] = r["role"]
    return list(merged.values())


def _document_units(prepared: PreparedCorpus, layer: PreparedTerms) -> tuple[pd.DataFrame, UnitTexts]:
    """One unit per document with terms: the terms of its counted blocks, in order (on the arrays)."""
    counted = np.flatnonzero(layer.counted)
    doc_of = prepared.block_document[counted]
    documents, first = np.unique(doc_of, return_index=True)
    last = np.concatenate([first[1:], [len(counted)]]) - 1
    first_block, last_block = counted[first], counted[last]
    begin, end = layer.offsets[first_block], layer.offsets[last_block + 1]
    keep = end > begin
    documents, first_block, last_block, begin, end = (a[keep] for a in (documents, first_block, last_block, begin, end))
    blocks = prepared.blocks
    doc_ids = np.asarray(prepared.doc_ids, dtype=object)[documents]
    table = pd.DataFrame({
        "unit_id": doc_ids, "doc_id": doc_ids, "position": 0, "role": "document", "section": "",
        "first_block": blocks["block"].to_numpy(np.int64)[first_block],
        "last_block": blocks["block"].to_numpy(np.int64)[last_block],
        "start": blocks["start"].to_numpy()[first_block], "end": blocks["end"].to_numpy()[last_block],
        "n_terms": end - begin,
    }, columns=UNIT_COLUMNS).astype({"unit_id": str, "doc_id": str, "role": str, "section": str})
    return table, UnitTexts(layer, begin.astype(np.int64), end.astype(np.int64), np.arange(len(begin) + 1))


def _block_units(prepared: PreparedCorpus, layer: PreparedTerms, unit: str) -> tuple[pd.DataFrame, UnitTexts]:
    """Paragraph or section units, headings joined to the paragraph they introduce."""
    records: list[dict] = []
    for _, rows in itertools.groupby(prepared.blocks.assign(terms=None).itertuples(), key=lambda row: row.doc):
        paragraphs = list(_paragraphs(rows, layer))
        records.extend(paragraphs if unit == "paragraph" else _merge(paragraphs, lambda r: r["section"]))
    rows, ranges = [], []
    for r in records:
        ranges_of_unit = [(a, b) for a, b in r["terms"] if b > a]
        if not ranges_of_unit:
            continue
        key = r["section"] if unit == "section" else r["first_block"]
        rows.append([f"{r['doc_id']}#{key}", r["doc_id"], 0, r["role"], r["section"], r["first_block"],
                     r["last_block"], r["start"], r["end"], sum(b - a for a, b in ranges_of_unit)])
        ranges.append(ranges_of_unit)
    table = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    table["position"] = table.groupby("doc_id", sort=False).cumcount()
    pieces = np.asarray([piece for unit_ranges in ranges for piece in unit_ranges], dtype=np.int64).reshape(-1, 2)
    offsets = np.concatenate([[0], np.cumsum([len(unit_ranges) for unit_ranges in ranges])]).astype(np.int64)
    return table, UnitTexts(layer, pieces[:, 0].copy(), pieces[:, 1].copy(), offsets)


def collect_units(prepared: PreparedCorpus, layer: PreparedTerms, settings: Settings) -> TopicUnits:
    """Group the counted terms of ``prepared`` into LDA units at the level ``settings.unit`` asks for.

    Parameters
    ----------
    prepared : PreparedCorpus
    layer : PreparedTerms
        Its term layer, as for the term counts.
    settings : Settings
        Uses ``unit``, ``k`` and ``min_units_per_topic``.

    Returns
    -------
    TopicUnits

    Warns
    -----
    TopicWarning
        When ``unit = "auto"`` falls back to paragraphs because there are
        fewer than ``min_units_per_topic * k`` documents, or when even the
        chosen level gives fewer units than that.
    """
    n_documents = prepared.n_documents
    needed = settings.min_units_per_topic * settings.k
    note = ""
    unit = settings.unit
    if unit == "auto":
        unit = "document" if n_documents >= needed else "paragraph"
        if unit == "paragraph":
            note = f"{n_documents} documents are too few for K={settings.k}"
    if unit == "document":
        table, texts = _document_units(prepared, layer)
    else:
        table, texts = _block_units(prepared, layer, unit)
    if not len(texts):
        raise AnalysisError(f"{settings.corpus}: no terms left to fit topics on (is the corpus empty?)")
    result = TopicUnits(table, texts, unit, note, n_documents)
    without = n_documents - table["doc_id"].nunique()
    if without:
        ids = sorted(set(prepared.doc_ids) - set(table["doc_id"]))
        warnings.warn(f"{without:,} of {n_documents:,} documents have no term to fit topics on (only stopwords, "
                      f"numbers or short tokens): they have no row in doc_topics.csv ({preview(ids)})",
                      TopicWarning, stacklevel=2)
    if note:
        warnings.warn(
            f"{note} (LDA needs at least {settings.min_units_per_topic} units per topic): fitting on "
            f"{result.describe()}; results are also rolled up to documents",
            TopicWarning, stacklevel=2,
        )
    elif len(result) < needed:
        warnings.warn(
            f"only {result.describe()} for K={settings.k}; LDA topics will be unreliable below "
            f"{needed} units (set unit = \"paragraph\" or a smaller k)",
            TopicWarning, stacklevel=2,
        )
    return result


