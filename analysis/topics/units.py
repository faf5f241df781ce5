"""The texts LDA is fitted on: documents, sections or paragraphs of the prepared corpus."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

import pandas as pd

from analysis.config import Settings
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
        return f"{n_units} documents"
    return f"{n_units} {unit}s of {n_documents} documents"


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


def _paragraphs(blocks: pd.DataFrame, layer: PreparedTerms) -> Iterable[dict]:
    """The counted blocks of one document (rows of ``blocks``), headings joined to the block that follows."""
    pending: list = []
    for block in blocks.itertuples():
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
    blocks = prepared.blocks.assign(terms=None)
    offsets = prepared.document_offsets
    by_doc: list[list[dict]] = [list(_paragraphs(blocks.iloc[offsets[d]:offsets[d + 1]], layer))
                                for d in range(prepared.n_documents)]
    n_documents = len(by_doc)
    needed = settings.min_units_per_topic * settings.k
    note = ""
    unit = settings.unit
    if unit == "auto":
        unit = "document" if n_documents >= needed else "paragraph"
        if unit == "paragraph":
            note = f"{n_documents} documents are too few for K={settings.k}"
    records: list[dict] = []
    for paragraphs in by_doc:
        if unit == "paragraph":
            records.extend(paragraphs)
        elif unit == "section":
            records.extend(_merge(paragraphs, lambda r: r["section"]))
        else:
            records.extend(_merge(paragraphs, lambda r: r["doc_id"]))
    records = [r for r in records if r["terms"]]
    if not records:
        raise AnalysisError(f"{settings.corpus}: no terms left to fit topics on (is the corpus empty?)")
    rows = []
    for r in records:
        if unit == "document":
            unit_id, role = r["doc_id"], "document"
            r["section"] = ""
        elif unit == "section":
            unit_id, role = f"{r['doc_id']}#{r['section']}", r["role"]
        else:
            unit_id, role = f"{r['doc_id']}#{r['first_block']}", r["role"]
        rows.append([unit_id, r["doc_id"], 0, role, r["section"], r["first_block"], r["last_block"], r["start"], r["end"], len(r["terms"])])
    table = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    table["position"] = table.groupby("doc_id", sort=False).cumcount()
    result = TopicUnits(table, [r["terms"] for r in records], unit, note, n_documents)
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


