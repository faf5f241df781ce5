"""The texts LDA is fitted on: documents, sections or paragraphs of the prepared corpus."""

from __future__ import annotations

import itertools
import warnings
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
    texts : list of list of str
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
    texts: list[list[str]]
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
        block = block._replace(terms=layer.block_terms(block.Index))
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
        "terms": [t for b in blocks for t in b.terms],
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


def _document_units(prepared: PreparedCorpus, layer: PreparedTerms) -> tuple[pd.DataFrame, list[list[str]]]:
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
    words = np.asarray(layer.terms, dtype=object)[layer.sequence].tolist()
    return table, [words[a:b] for a, b in zip(begin.tolist(), end.tolist())]


def _block_units(prepared: PreparedCorpus, layer: PreparedTerms, unit: str) -> tuple[pd.DataFrame, list[list[str]]]:
    """Paragraph or section units, headings joined to the paragraph they introduce."""
    records: list[dict] = []
    for _, rows in itertools.groupby(prepared.blocks.assign(terms=None).itertuples(), key=lambda row: row.doc):
        paragraphs = list(_paragraphs(rows, layer))
        records.extend(paragraphs if unit == "paragraph" else _merge(paragraphs, lambda r: r["section"]))
    records = [r for r in records if r["terms"]]
    rows = []
    for r in records:
        key = r["section"] if unit == "section" else r["first_block"]
        rows.append([f"{r['doc_id']}#{key}", r["doc_id"], 0, r["role"], r["section"], r["first_block"],
                     r["last_block"], r["start"], r["end"], len(r["terms"])])
    table = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    table["position"] = table.groupby("doc_id", sort=False).cumcount()
    return table, [r["terms"] for r in records]


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
    if not texts:
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


