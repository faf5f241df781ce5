"""Close-reading figures: collocates, keyness and dispersion (x-ray) plots.

Same contract as :mod:`analysis.plots.base`: ``plot_*(data, *, ax=None, ...) -> Axes``,
drawing the tidy tables of :mod:`analysis.concordance` and
:mod:`analysis.keyness`; nothing here saves or shows a figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch

from analysis.concordance import documents_by_use
from analysis.plots.base import (BAR_COLOR, MAX_HEIGHT_IN, OKABE_ITO, SINGLE_COLUMN_IN, bar_panels, empty_message,
                                 shown_note, new_axes, short_labels)

POSITIVE = OKABE_ITO["blue"]
NEGATIVE = OKABE_ITO["vermillion"]
NOT_SIGNIFICANT_ALPHA = 0.35


def _significance_colors(directions, significant) -> list[tuple[float, ...]]:
    """Blue for positive, vermillion for negative keywords; faded when not significant."""
    return [to_rgba(POSITIVE if d == "positive" else NEGATIVE, 1.0 if s else NOT_SIGNIFICANT_ALPHA)
            for d, s in zip(directions, significant)]


def _keyness_legend(ax: Axes) -> None:
    handles = [Patch(color=POSITIVE, label="overused"), Patch(color=NEGATIVE, label="underused")]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False,
              handlelength=1.0, columnspacing=0.8, borderaxespad=0.2)


def plot_collocates(data: pd.DataFrame, *, ax: Axes | None = None, n: int = 10, window: int = 5) -> Axes:
    """Small multiples in one Axes: each node's strongest collocates by log-likelihood.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.concordance.collocates` tables stacked with a ``node``
        column (and ``node_count``).
    n : int, default 10
        Collocates shown per node.
    window : int, default 5
        The window the table was computed with (for the axis label).
    """
    nodes = list(dict.fromkeys(data["node"])) if len(data) else []
    shown = {node: data[data["node"] == node].head(n) for node in nodes}
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 0.7 + sum(0.14 * len(t) + 0.3 for t in shown.values())))
    if data.empty:
        return empty_message(ax, "no collocates seen often enough")
    panels = []
    for node, rows in shown.items():
        header = f"{node} ({int(rows['node_count'].iloc[0])} occurrences)"
        labels = [f"{c} ({k})" for c, k in zip(rows["collocate"], rows["count"])]
        panels.append((header, labels, [(rows["log_likelihood"], BAR_COLOR, 0.7)]))
    bar_panels(ax, panels)
    ax.axvline(10.83, color=OKABE_ITO["grey"], lw=0.6, ls="--")
    ax.set_xlabel(f"log-likelihood G2, co-occurrence within \u00b1{window} words\n"
                  "(labels: co-occurrences; dashed line: p = 0.001)")
    ax.set_title("Strongest collocates")
    return ax


def plot_keyness(data: pd.DataFrame, *, ax: Axes | None = None, n_positive: int = 6, n_negative: int = 3,
                 n_documents: int | None = None,
        chosen_by: str = "the longest") -> Axes:
    """Small multiples: each document's strongest positive and negative keywords.

    Bars are signed G2 (negative keywords to the left); faded bars are not
    significant after the Bonferroni correction.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.keyness.keyness`.
    n_positive, n_negative : int
        Keywords shown per document and direction, by G2.
    n_documents : int, optional
        The corpus's documents, when ``data`` holds only some (the longest):
        the title says so.
    chosen_by : str, default "the longest"
        How the shown documents were chosen, for the note.
    """
    docs = sorted(data["doc_id"].unique()) if len(data) else []
    drawn = docs
    per_doc = n_positive + n_negative
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 0.9 + len(drawn) * (0.14 * per_doc + 0.3)))
    if data.empty:
        return empty_message(ax, "no keywords (a single document, or too few terms)")
    labels = short_labels(docs)
    panels = []
    for doc_id in drawn:
        rows = data[data["doc_id"] == doc_id]
        top = pd.concat([rows[rows["direction"] == "positive"].head(n_positive),
                         rows[rows["direction"] == "negative"].head(n_negative)])
        signed = np.where(top["direction"] == "positive", 1, -1) * top["log_likelihood"]
        panels.append((f"document {labels[doc_id]}", top["term"].tolist(),
                       [(signed, _significance_colors(top["direction"], top["significant"]), 0.7)]))
    bar_panels(ax, panels)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel("log-likelihood G2 against the rest of the corpus\n"
                  "(left of 0: underused; pale: not significant)")
    left_out = f"\n{note}" if (note := shown_note(len(drawn), n_documents, chosen_by)) else ""
    ax.set_title(f"Keywords of each document{left_out}", pad=14)
    _keyness_legend(ax)
    return ax


def plot_reference_keyness(data: pd.DataFrame, *, ax: Axes | None = None, n_positive: int = 15,
                           n_negative: int = 8, reference: str = "wordfreq") -> Axes:
    """The corpus's keywords against a general-language reference, by effect size.

    Two panels on one axis: the strongest positive and negative keywords by
    G2, drawn as their log ratio (log2 of how many times more frequent than in
    the reference); faded bars are not significant.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.keyness.reference_keyness`.
    n_positive, n_negative : int
        Keywords shown per direction.
    reference : str
        Named in the axis label.
    """
    positive = data[data["direction"] == "positive"].head(n_positive)
    negative = data[data["direction"] == "negative"].head(n_negative)
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 1.1 + 0.14 * (len(positive) + len(negative)) + 0.6))
    if data.empty:
        return empty_message(ax, "no words to compare")
    panels = []
    for header, rows in (("used more than in the reference", positive), ("used less", negative)):
        if len(rows):
            labels = [f"{t} ({c})" for t, c in zip(rows["term"], rows["count"])]
            panels.append((header, labels, [(rows["log_ratio"], _significance_colors(rows["direction"],
                                                                                      rows["significant"]), 0.7)]))
    bar_panels(ax, panels)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel(f"log ratio: log2(corpus / {reference} rate)\n"
                  "+1 = twice as frequent; labels: counts\n"
                  "ranked by G2; pale: not significant")
    ax.set_title("Keywords against general English")
    return ax


def plot_dispersion(data: pd.DataFrame, *, ax: Axes | None = None, max_documents: int = 20,
                    n_documents: int | None = None, chosen_by: str = "those using each term most") -> Axes:
    """X-ray (barcode) plot: where each term occurs along each document.

    One group of rows per term, one row per document; a tick marks each
    occurrence at its relative position, so long and short documents align.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.concordance.term_positions`, optionally with ``dp``
        per term (shown in the group headers).
    max_documents : int, default 20
        Documents drawn per term: every document while they fit, else under each term those that use it
        most (:func:`analysis.concordance.documents_by_use`); fewer when the terms would not fit a page.
        A ``term_count`` column, when present, gives each term's count in the whole corpus for its header.
    n_documents : int, optional
        The corpus's documents, when ``data`` holds only some: the title says so.
    chosen_by : str, default "those using each term most"
        How the documents in ``data`` were chosen, for the note.
    """
    terms = list(dict.fromkeys(data["term"])) if len(data) else []
    docs = sorted(data["doc_id"].unique()) if len(data) else []
    n_terms = max(data["term"].nunique(), 1) if len(data) else 1
    fit = max(1, min(max_documents, int(((MAX_HEIGHT_IN - 0.8) / n_terms - 0.3) / 0.12)))
    rows_of = {term: data[data["term"] == term] for term in terms}
    # Every document under every term while they fit; else, under each term, those that use it most.
    drawn = {term: docs if len(docs) <= fit else sorted(documents_by_use(rows)[:fit]) for term, rows in rows_of.items()}
    n_rows = max((len(d) for d in drawn.values()), default=0)
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 0.8 + len(terms) * (0.12 * n_rows + 0.3)))
    if data.empty:
        return empty_message(ax, "no terms chosen")
    labels = short_labels(docs)
    y, ticks, names = 0.0, [], []
    for term, rows in rows_of.items():
        found = rows.dropna(subset=["relative_position"])
        dp = f", DP {rows['dp'].iloc[0]:.2f}" if "dp" in rows and rows["dp"].notna().any() else ""
        count = int(rows["term_count"].iloc[0]) if "term_count" in rows else len(found)
        ax.text(0, y - 0.1, f"{term} ({count:,}{dp})", fontsize=6.5, fontweight="bold", va="bottom",
                transform=ax.get_yaxis_transform())
        for i, doc_id in enumerate(drawn[term]):
            row_y = y + 0.55 + i
            ax.axhspan(row_y - 0.4, row_y + 0.4, xmin=0, xmax=1, color="#f2f2f2", lw=0)
            ticks_x = found.loc[found["doc_id"] == doc_id, "relative_position"].to_numpy()
            ax.vlines(ticks_x, row_y - 0.4, row_y + 0.4, color=BAR_COLOR, lw=0.8)
            ticks.append(row_y)
            names.append(labels[doc_id])
        y += len(drawn[term]) + 1.2
    ax.set_yticks(ticks, names)
    ax.tick_params(axis="y", length=0, labelsize=5.5)
    ax.set_ylim(y - 0.5, -0.9)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    ax.set_xlabel("position in document (share of its counted word tokens)")
    left_out = f"\n{note}" if (note := shown_note(n_rows, n_documents or len(docs), chosen_by)) else ""
    ax.set_title(f"Dispersion of terms across documents{left_out}\n"
                 "headers: occurrences; Gries's DP (0 even, 1 concentrated)")
    return ax
