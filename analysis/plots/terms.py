"""Term figures: top terms, distinctive terms, heatmap, document structure, rank-frequency, preprocessing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from analysis.plots.base import (BAR_COLOR, LINE_COLORS, OKABE_ITO, ROLE_COLORS, SINGLE_COLUMN_IN, bar_panels, shown_note,
                                 empty_message, new_axes, short_labels)


def plot_top_terms(data: pd.DataFrame, *, ax: Axes | None = None, n: int = 20, value: str = "per_1000_tokens") -> Axes:
    """Horizontal bars of the ``n`` most frequent terms.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.terms.term_frequencies` with ``by="corpus"``.
    ax : Axes, optional
    n : int, default 20
    value : {"per_1000_tokens", "count"}
    """
    top = data.nsmallest(n, "rank")
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 0.6 + 0.14 * len(top)))
    if top.empty:
        return empty_message(ax, "no terms")
    y = np.arange(len(top))
    ax.barh(y, top[value], color=BAR_COLOR, height=0.7)
    ax.set_yticks(y, top["term"])
    ax.invert_yaxis()
    ax.set_xlabel("occurrences per 1,000 word tokens" if value == "per_1000_tokens" else "occurrences (count)")
    for yi, count in zip(y, top["count"]):
        ax.annotate(f"{count}", (0, yi), xytext=(2, 0), textcoords="offset points", va="center", fontsize=5.5, color="white")
    tokens = int(top["tokens"].iloc[0])
    ax.set_xlabel(ax.get_xlabel() + f"\n(corpus: {tokens:,} word tokens; labels: counts)")
    ax.set_title(f"Top {len(top)} terms in the corpus")
    ax.margins(y=0.01)
    return ax


def plot_distinctive_terms(data: pd.DataFrame, *, ax: Axes | None = None, n: int = 6,
                           n_documents: int | None = None,
        chosen_by: str = "the longest") -> Axes:
    """Small multiples in one Axes: the ``n`` most distinctive terms (TF-IDF) of
    each document, one panel per document, on a shared x axis.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.terms.tfidf`.
    n_documents : int, optional
        The corpus's documents, when ``data`` holds only the longest: the title says so.
    chosen_by : str, default "the longest"
        How the shown documents were chosen, for the note.
    """
    top = data[(data["rank"] <= n) & (data["tfidf"] > 0)]
    docs = sorted(top["doc_id"].unique())
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 0.5 + len(docs) * (0.15 * n + 0.25)))
    if top.empty:
        return empty_message(ax, "no distinctive terms\n(every term occurs in every document)")
    labels = short_labels(docs)
    panels = []
    for i, doc_id in enumerate(docs):
        rows = top[top["doc_id"] == doc_id].sort_values("rank")
        panels.append((f"document {labels[doc_id]}", rows["term"].tolist(),
                       [(rows["tfidf"] * 1000, LINE_COLORS[i % len(LINE_COLORS)], 0.75)]))
    bar_panels(ax, panels)
    ax.set_xlabel("TF-IDF \u00d7 1,000 = tf \u00d7 idf \u00d7 1,000\ntf: count per word token\nidf: ln(N docs / docs with the term)")
    note = shown_note(len(docs), n_documents, chosen_by)
    ax.set_title(f"Most distinctive terms per document (top {n})" + (f"\n{note}" if note else ""))
    return ax


COUNTED_COLUMNS = 20  # documents whose cells still have room for their counts


def plot_term_heatmap(data: pd.DataFrame, *, ax: Axes | None = None, n: int = 25, cmap: str = "cividis",
                      n_documents: int | None = None, chosen_by: str = "the longest") -> Axes:
    """Terms x documents heatmap of occurrences per 1,000 word tokens.

    Rows are the ``n`` terms with the highest corpus count; cells print the raw count while there are
    at most :data:`COUNTED_COLUMNS` documents. Beyond 12 documents the figure is two columns wide.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.terms.term_frequencies` with ``by="document"``.
    n_documents : int, optional
        The corpus's documents, when ``data`` holds only the longest: the title says so.
    chosen_by : str, default "the longest"
        How the shown documents were chosen, for the note.
    """
    totals = data.groupby("term")["count"].sum()
    order = sorted(totals.index, key=lambda t: (-totals[t], t))[:n]
    docs = sorted(data["doc_id"].unique())
    rate, counts = (
        data.pivot_table(index="term", columns="doc_id", values=value, fill_value=0).reindex(index=order, columns=docs, fill_value=0)
        for value in ("per_1000_tokens", "count")
    )
    ax = new_axes(ax, (SINGLE_COLUMN_IN if len(docs) <= 12 else 2 * SINGLE_COLUMN_IN, 0.9 + 0.15 * len(rate)))
    if rate.empty:
        return empty_message(ax, "no terms")
    # A square-root colour scale keeps the rarer terms visible next to a dominant one.
    image = ax.imshow(rate.to_numpy(), aspect="auto", cmap=cmap, norm=PowerNorm(0.5, vmin=0))
    labels = short_labels(docs)
    ax.set_xticks(range(len(docs)), [labels[d] for d in docs], rotation=0 if len(docs) <= 8 else 90,
                  **({} if len(docs) <= 8 else {"fontsize": 5.5}))
    ax.set_yticks(range(len(rate)), rate.index)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    counted = len(docs) <= COUNTED_COLUMNS
    if counted:
        shade = image.norm(rate.to_numpy())
        for (r, c), count in np.ndenumerate(counts.to_numpy()):
            ax.text(c, r, f"{int(count)}", ha="center", va="center", fontsize=5.5,
                    color="black" if shade[r, c] > 0.6 else "white")
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    colorbar.set_label("occurrences per 1,000 word tokens (square-root scale)".replace(
        " (", "\n(" if len(docs) > 12 else " ("))  # beside a short, wide heatmap, on two lines
    colorbar.ax.tick_params(labelsize=6)
    ax.set_xlabel("document (cells: raw counts)" if counted else "document")
    note = shown_note(len(docs), n_documents, chosen_by)
    ax.set_title(f"Top {len(rate)} corpus terms by document" + (f"\n{note}" if note else ""))
    return ax


_LEGEND_COLUMNS = 3
_LEGEND_ROW_PT = 11  # one row of the role legend, in points


def plot_document_structure(data: pd.DataFrame, *, ax: Axes | None = None, n_documents: int | None = None,
        chosen_by: str = "the longest") -> Axes:
    """One bar per document, split into its blocks and coloured by role;
    bar length is the document's length in word tokens.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.terms.block_overview`.
    n_documents : int, optional
        The corpus's documents, when ``data`` holds only the longest: the title says so.
    chosen_by : str, default "the longest"
        How the shown documents were chosen, for the note.
    """
    docs = sorted(data["doc_id"].unique())
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 1.0 + 0.28 * len(docs)))
    labels = short_labels(docs)
    for y, doc_id in enumerate(docs):
        rows = data[data["doc_id"] == doc_id]
        ax.barh(
            np.full(len(rows), y), rows["n_tokens"], left=rows["start_token"], height=0.7,
            color=[ROLE_COLORS.get(r, OKABE_ITO["grey"]) for r in rows["role"]],
            edgecolor="white", linewidth=0.4,
            hatch=[None if inc else "////" for inc in rows["included"]],
        )
    ax.set_yticks(range(len(docs)), [labels[d] for d in docs])
    ax.invert_yaxis()
    ax.set_xlabel("position in document (word tokens)")
    ax.set_ylabel("document")
    roles = [r for r in ROLE_COLORS if r in set(data["role"])]
    excluded = set(data.loc[~data["included"], "role"])
    handles = [Patch(facecolor=ROLE_COLORS[r], hatch="////" if r in excluded else None, edgecolor="white",
                     label=f"{r} (not counted)" if r in excluded else r) for r in roles]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=_LEGEND_COLUMNS,
              frameon=False, handlelength=1.2, columnspacing=1.0, borderaxespad=0.2)
    note = shown_note(len(docs), n_documents, chosen_by)
    legend_rows = -(-len(handles) // _LEGEND_COLUMNS)
    ax.set_title("Document structure: blocks by role" + (f"\n{note}" if note else ""),
                 pad=4 + _LEGEND_ROW_PT * legend_rows)  # above the legend, however many roles it lists
    return ax


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _power_of_ten(value: float, _position=None) -> str:
    """``10⁻²`` for 0.01: a log axis's label as plain text.

    >>> _power_of_ten(0.01), _power_of_ten(1000.0)
    ('10⁻²', '10³')
    """
    exponent = round(np.log10(value)) if value > 0 else 0
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def plot_rank_frequency(data: pd.DataFrame, *, ax: Axes | None = None, max_documents: int = 7,
                        n_documents: int | None = None, column: str = "group") -> Axes:
    """Rank-frequency (Zipf) plot on log-log axes: the corpus, each document or group,
    and a reference line of slope -1 through the corpus's top term.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.terms.rank_frequency`, or rows of ``scope`` ``group``
        (with a ``group`` column) in place of the documents.
    max_documents : int, default 7
        Documents drawn individually; more documents are left out of the plot
        (they stay in the data).
    n_documents : int, optional
        The corpus's documents, for the title when their curves are not drawn.
    column : str, default "group"
        The grouping column, for the legend of group curves.
    """
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 2.6))
    docs = sorted(data.loc[data["scope"] == "document", "doc_id"].unique())
    curves = []
    if 0 < len(docs) <= max_documents:
        labels = short_labels(docs)
        curves = [(f"document {labels[d]}", data[(data["scope"] == "document") & (data["doc_id"] == d)]) for d in docs]
    elif (data["scope"] == "group").any():
        by_group = data[data["scope"] == "group"]
        curves = [(str(name), rows) for name, rows in by_group.groupby("group", sort=False)]
    for i, (label, rows) in enumerate(curves):
        ax.loglog(rows["rank"], rows["relative_frequency"], lw=0.8, alpha=0.9,
                  color=LINE_COLORS[(i + 1) % len(LINE_COLORS)], label=label)
    corpus = data[data["scope"] == "corpus"]
    ax.loglog(corpus["rank"], corpus["relative_frequency"], lw=1.8, color="black", label="corpus")
    if not corpus.empty:
        ranks = np.array([1, corpus["rank"].max()])
        ax.loglog(ranks, corpus["relative_frequency"].iloc[0] / ranks, ls="--", lw=0.8, color=OKABE_ITO["grey"],
                  label="Zipf reference (slope \u22121)")
    for axis in (ax.xaxis, ax.yaxis):  # powers of ten in plain text: labels are never parsed as TeX (plots.STYLE)
        axis.set_major_formatter(FuncFormatter(_power_of_ten))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("rank of term (log scale)")
    ax.set_ylabel("share of counted terms (log scale)")
    many = n_documents is not None and n_documents > max_documents
    groups = many and bool(curves)
    note = ""
    if groups:
        note = f"\nthe corpus and its {len(curves)} largest groups by {column}"
    elif many:
        note = f"\nthe corpus alone ({n_documents:,} documents)"
    ax.set_title(f"Rank-frequency distribution of terms{note}")
    # Under the curves, which fall from the upper left; small when it lists groups.
    ax.legend(frameon=False, loc="lower left", **({"fontsize": 5.5, "title": column, "title_fontsize": 5.5}
                                                  if groups else {}))
    return ax


def plot_preprocessing_waterfall(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Tokens and types left after each preprocessing step, with what each
    step removed or changed most.

    Parameters
    ----------
    data : DataFrame
        :attr:`analysis.terms.TermCounts.waterfall`.
    """
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 0.9 + 0.5 * len(data)))
    y = np.arange(len(data)) * 1.4
    ax.barh(y - 0.2, data["tokens"], height=0.4, color=BAR_COLOR, label="tokens")
    ax.barh(y + 0.2, data["types"], height=0.4, color=OKABE_ITO["orange"], label="types (distinct)")
    ax.set_yticks(y, data["step"])
    ax.invert_yaxis()
    top = data["tokens"].max()
    for yi, row in zip(y, data.itertuples()):
        for value, offset in ((row.tokens, -0.2), (row.types, 0.2)):
            ax.annotate(f"{value:,}", (value, yi + offset), xytext=(2, 0), textcoords="offset points",
                        va="center", fontsize=5.5)
        if row.top_affected:
            verb = {"phrases joined": "joined", "lemmatised": "changed"}.get(row.step, f"removed {row.tokens_removed:,}")
            items = ", ".join(item.rsplit(" (", 1)[0] for item in row.top_affected.split("; ")[:3])
            ax.annotate(f"{verb}: {items}", (0, yi + 0.62), xytext=(2, 0), textcoords="offset points",
                        fontsize=5, color="#444444", va="center")
    ax.set_xlim(0, top * 1.18)
    if top >= 100_000:  # matplotlib would put "1e6" over the axis label
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _: "0" if not v else f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k"))
    ax.set_xlabel("left after the step (word tokens; distinct types)")
    ax.set_title("Preprocessing waterfall", pad=14)
    ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.1)
    return ax
