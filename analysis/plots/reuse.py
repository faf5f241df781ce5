"""Plot functions for text reuse: ``plot_*(data, *, ax=None, ...) -> Axes``.

Inputs are the tables of :func:`analysis.reuse.find_reuse`; shares are drawn
in per cent of a document's word tokens. When there are more documents than
fit (``max_documents``), those with the most reuse are drawn and the title
says how many of how many.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.errors import AnalysisError
from analysis.plots.base import BAR_COLOR, MAX_HEIGHT_IN, SINGLE_COLUMN_IN, empty_message, new_axes, short_labels

MAX_ANNOTATED_DOCUMENTS = 12  # the matrix prints its values up to this many documents
_DIAGONAL = "#e6e6e6"


def _passages(data: pd.DataFrame) -> str:
    """``passages of 8+ words`` when the table knows the shingle length (``attrs["n"]``, set by find_reuse)."""
    n = data.attrs.get("n")
    return f"passages of {n}+ words" if n else "passages"


MAX_REUSED_SHARE_BARS = 40  # documents drawn one bar each; beyond, the distribution


def _title(title: str, data: pd.DataFrame, shown: int, total: int) -> str:
    """``title`` and, below it, the passage length and how many documents are shown when not all are.

    >>> print(_title("Reuse", pd.DataFrame(), 30, 2000))
    Reuse
    (passages)
    top 30 of 2,000 documents
    """
    selection = f"\ntop {shown} of {total:,} documents" if shown < total else ""
    return f"{title}\n({_passages(data)}){selection}"


def plot_reuse_matrix(data: pd.DataFrame, *, ax: Axes | None = None, documents: Sequence[str] | None = None,
                      max_documents: int = 30, cmap: str = "cividis") -> Axes:
    """Document x document heat map: the share of the row document's words
    that also occur in the column document.

    Parameters
    ----------
    data : DataFrame
        :attr:`analysis.reuse.Reuse.reuse_matrix` (``doc_id, other_doc_id,
        share``; pairs that share nothing may be left out).
    ax : Axes, optional
    documents : sequence of str, optional
        The documents to show, so that those sharing nothing get a row and a
        column too (``reuse.reused_share["doc_id"]``); by default the
        documents in ``data``.
    max_documents : int, default 30
        Beyond this, the documents with the largest share in their row or
        column are shown.
    cmap : str, default "cividis"
        The diagonal (a document against itself) is drawn in light grey.
    """
    if max_documents < 2:
        raise AnalysisError(f"plot_reuse_matrix: max_documents must be 2 or more, got {max_documents}")
    every = sorted(set(documents) if documents is not None else set(data["doc_id"]) | set(data["other_doc_id"]))
    largest = pd.concat([data.groupby("doc_id")["share"].max(), data.groupby("other_doc_id")["share"].max()])
    largest = largest.groupby(level=0).max().reindex(every, fill_value=0)
    docs = sorted(sorted(every, key=lambda d: (-largest[d], d))[:max_documents])
    # Beyond a dozen documents each row needs its own line of label: a page wide, 0.13 in a row.
    size = ((SINGLE_COLUMN_IN, min(SINGLE_COLUMN_IN, 1.3 + 0.32 * len(docs))) if len(docs) <= 12 else
            (2 * SINGLE_COLUMN_IN, min(MAX_HEIGHT_IN, 2.6 + 0.13 * len(docs))))
    ax = new_axes(ax, size)
    ax.set_title(_title("Text reuse between documents", data, len(docs), len(every)))
    if len(every) < 2:
        return empty_message(ax, "one document: nothing to compare it with")
    if data.empty:
        return empty_message(ax, f"no {_passages(data)} shared between the {len(docs)} documents")
    shown = data[data["doc_id"].isin(docs) & data["other_doc_id"].isin(docs)]  # never pivot the whole corpus
    percent = shown.pivot(index="doc_id", columns="other_doc_id", values="share").reindex(
        index=docs, columns=docs).fillna(0).to_numpy() * 100
    np.fill_diagonal(percent, np.nan)
    colormap = matplotlib.colormaps[cmap].with_extremes(bad=_DIAGONAL)
    image = ax.imshow(percent, aspect="auto", cmap=colormap, vmin=0, vmax=max(np.nanmax(percent), 1e-9),
                      interpolation="nearest")
    short = short_labels(docs)
    labels = [short[d] for d in docs]
    fontsize = 6.5 if len(docs) <= 20 else 5
    ax.set_xticks(range(len(docs)), labels, rotation=0 if len(docs) <= 6 else 90, fontsize=fontsize)
    ax.set_yticks(range(len(docs)), labels, fontsize=fontsize)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if len(docs) <= MAX_ANNOTATED_DOCUMENTS:
        shade = image.norm(percent)
        for (row, column), value in np.ndenumerate(percent):
            if not np.isnan(value):
                ax.text(column, row, f"{value:.1f}" if value else "0", ha="center", va="center", fontsize=5.5,
                        color="black" if shade[row, column] > 0.6 else "white")
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    colorbar.set_label("% of the row document's words\nalso found in the column document")
    colorbar.ax.tick_params(labelsize=6)
    ax.set_ylabel("document (its words)")
    ax.set_xlabel("document they are also found in")
    return ax


def plot_reused_share(data: pd.DataFrame, *, ax: Axes | None = None,
                      max_documents: int = MAX_REUSED_SHARE_BARS) -> Axes:
    """Horizontal bars: the share of each document's words that also occur in
    another document, labelled with the word counts; beyond ``max_documents``
    documents, the distribution of that share over every document.

    Parameters
    ----------
    data : DataFrame
        :attr:`analysis.reuse.Reuse.reused_share` (``doc_id, words,
        reused_words, share``).
    ax : Axes, optional
    max_documents : int, default 40
        Beyond this, a histogram of the shares of all documents, with how many
        reuse nothing, some and all of their words.
    """
    if max_documents < 1:
        raise AnalysisError(f"plot_reused_share: max_documents must be 1 or more, got {max_documents}")
    if len(data) > max_documents:
        return _reused_share_distribution(data, ax)
    rows = data.sort_values("doc_id")
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 1.0 + 0.17 * len(rows)))
    ax.set_title(_title("Words found in another document", data, len(rows), len(data)))
    if len(data) < 2:
        return empty_message(ax, "one document: nothing to compare it with")
    y = np.arange(len(rows))
    percent = rows["share"].to_numpy() * 100
    ax.barh(y, percent, color=BAR_COLOR, height=0.7)
    for yi, value, reused, words in zip(y, percent, rows["reused_words"], rows["words"]):
        ax.annotate(f"{value:.1f} % ({reused:,} of {words:,})", (value, yi), xytext=(2, 0),
                    textcoords="offset points", va="center", fontsize=5.5)
    labels = short_labels(rows["doc_id"].tolist())
    ax.set_yticks(y, [labels[d] for d in rows["doc_id"]])
    ax.invert_yaxis()
    ax.margins(y=0.02)
    ax.set_xlim(0, max(percent.max(), 1) * 1.5)  # room for the labels
    ax.set_xlabel("% of the document's word tokens found in another\ndocument (labels: reused of all words)")
    ax.set_ylabel("document")
    return ax


def _reused_share_distribution(data: pd.DataFrame, ax: Axes | None) -> Axes:
    """A histogram of the reused share of every document, in 5% bins, with how many documents reuse
    nothing, some or all of their words (the ids with their shares are in the data)."""
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 2.8))
    share = data["share"].to_numpy()
    none, whole = int((share == 0).sum()), int((share >= 1).sum())
    some = len(share) - none - whole
    ax.hist(share[share > 0] * 100, bins=np.linspace(0, 100, 21), color=BAR_COLOR)
    ax.set_xlim(0, 100)
    ax.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    ax.set_xlabel("% of its word tokens found in another document\n(documents that reuse none left out)")
    ax.set_ylabel("documents")
    ax.set_title(f"{_title('Words found in another document', data, len(share), len(share))}\n"
                 f"of {len(share):,} documents, {none:,} reuse none,\n{some:,} some and {whole:,} all of their words")
    return ax
