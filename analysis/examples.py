"""Example corpora made from a project's own: a small grouped and ordered corpus for trying the group
comparisons and trends (``notebooks/05-compare-groups.ipynb``) on texts the reader already knows."""

from __future__ import annotations

import json

import numpy as np

from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.export import atomic_write_bytes
from analysis.results import Results

PARAGRAPH_ROLES = ("summary", "intro", "paragraph", "body", "conclusion")  # running text, not headings or outlines
PARTS = 5  # a paragraph's position in its document, in fifths: an ordered column of few values


def paragraph_corpus(results: Results) -> Settings:
    """The corpus of ``results`` with each paragraph as a document, grouped by the document it comes from.

    Every block of running text (:data:`PARAGRAPH_ROLES`) becomes a document of a JSONL corpus, with the
    metadata columns ``article`` (its document's id), ``role`` (its block role) and ``fifth`` (which fifth
    of its document it starts in, 1 to :data:`PARTS`). The file is written to the cache folder
    (``examples/<corpus name>-paragraphs.jsonl``) and is the same bytes for the same corpus.

    Parameters
    ----------
    results : Results
        The analyses of the corpus to split.

    Returns
    -------
    Settings
        ``results.settings`` for the paragraph corpus: grouped by ``article`` (``group_by``) and ordered by
        ``fifth`` (``over``); every other setting is kept, as the texts are the same.

    Raises
    ------
    AnalysisError
        When caching is off (there is no folder to write to) or the corpus has no paragraphs.
    """
    settings = results.settings
    folder = settings.cache_folder
    if folder is None:
        raise AnalysisError("the paragraph corpus is written to the cache folder: turn caching on")
    prepared = results.prepared
    blocks = prepared.blocks
    blocks = blocks[blocks["role"].isin(PARAGRAPH_ROLES)]
    if blocks.empty:
        raise AnalysisError(f"{settings.corpus}: no paragraphs to make documents of")
    texts = prepared.texts(blocks["doc"].unique())
    lengths = np.asarray([len(texts[d]) for d in blocks["doc"]])
    fifth = np.minimum(blocks["start"].to_numpy() * PARTS // np.maximum(lengths, 1), PARTS - 1) + 1
    lines = []
    for (doc, doc_id, block, role, start, end), part in zip(
            blocks[["doc", "doc_id", "block", "role", "start", "end"]].itertuples(index=False), fifth.tolist()):
        lines.append(json.dumps({"id": f"{doc_id}#{block:03d}", "text": texts[doc][start:end], "article": doc_id,
                                 "role": role, "fifth": part}, ensure_ascii=False))
    path = folder / "examples" / f"{settings.corpus.stem}-paragraphs.jsonl"
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if not path.is_file() or path.read_bytes() != data:
        atomic_write_bytes(path, data)
    return settings.replace(corpus=path, group_by="article", over="fifth", metadata=None,
                            out=path.parent / f"{path.stem}-figures")
