"""Comparison figures: groups of documents (by a metadata column) side by side.

Same contract as :mod:`analysis.plots.base`: ``plot_*(data, *, ax=None, ...)``
draws a tidy table of :mod:`analysis.groups` and returns its Axes (an array
of them when a figure of many groups is laid out in two columns); nothing
here saves or shows a figure.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.plots.base import (LINE_COLORS, MAX_HEIGHT_IN, OKABE_ITO, SINGLE_COLUMN_IN, bar_panels, empty_message,
                                 new_axes)
from analysis.plots.reading import NEGATIVE, POSITIVE, _significance_colors

_GROUPS_PER_COLUMN = 6


def _panel_height(n_groups: int, n_terms: int) -> float:
    return 1.0 + n_groups * (0.12 * n_terms + 0.3)


def plot_group_keyness(data: pd.DataFrame, *, ax: Axes | None = None, column: str = "group",
                       n_groups: int | None = None, max_log_ratio: float = 10.0) -> Axes | np.ndarray:
    """Small multiples: each group's keywords against the rest of the corpus, by effect size.

    Bars are log ratios (log2 of how many times more frequent the term is in
    the group than in the rest); keywords are the strongest by G2, top
    first; pale bars are not significant after the Bonferroni correction.
    A bar longer than ``max_log_ratio`` (a term almost absent elsewhere) is
    cut there and labelled with its value.

    Parameters
    ----------
    data : DataFrame
        Positive rows of :func:`analysis.groups.group_keyness`, a few per
        group, in group order, with ``documents`` (the group's size).
    ax : Axes, optional
        Draw every group in this Axes. Default: a new figure, in two columns
        when there are more than six groups, so that it stays within a page.
    column : str
        The grouping column, for the title.
    n_groups : int, optional
        How many groups the grouping has, when ``data`` shows only some.
    max_log_ratio : float, default 10
    """
    names = list(dict.fromkeys(data["group"])) if len(data) else []
    per_group = int(data.groupby("group").size().max()) if len(data) else 0
    columns = 1 if ax is not None or len(names) <= _GROUPS_PER_COLUMN else 2
    rows = -(-len(names) // columns) if names else 1
    if ax is None and columns == 2:
        _, axes = plt.subplots(1, 2, figsize=(2 * SINGLE_COLUMN_IN, min(_panel_height(rows, per_group), MAX_HEIGHT_IN)),
                               layout="constrained", sharex=True)
    else:
        axes = np.array([new_axes(ax, (SINGLE_COLUMN_IN, min(_panel_height(rows, per_group), MAX_HEIGHT_IN)))])
    if data.empty:
        empty_message(axes[0], "no group uses a term significantly more than the rest")
        return axes[0]
    limit = min(max_log_ratio, float(data["log_ratio"].max()) * 1.05)
    for target, chunk in zip(axes, (names[i:i + rows] for i in range(0, len(names), rows))):
        panels = []
        for name in chunk:
            group = data[data["group"] == name]
            header = f"{name} ({int(group['documents'].iloc[0]):,} documents)"
            panels.append((header, group["term"].tolist(),
                           [(group["log_ratio"].clip(upper=limit),
                             _significance_colors(group["direction"], group["significant"]), 0.7)]))
        bar_panels(target, panels)
        values = np.concatenate([data[data["group"] == name]["log_ratio"].to_numpy() for name in chunk])
        for y, value in zip(target.get_yticks(), values):
            if value > limit:
                target.text(limit, y, f" {value:.0f}", va="center", ha="left", fontsize=5.5)
        target.set_xlim(0, limit * 1.08)
        target.set_xlabel("log ratio against the rest of the corpus\n(+1: twice as frequent; pale: not significant)")
    shown = f"; the {len(names)} largest of {n_groups} groups" if n_groups and n_groups > len(names) else ""
    axes[0].set_title(f"Keywords of each {column} against the rest{shown}\n"
                      "strongest log-likelihood (G2) first")
    return axes[0] if len(axes) == 1 else axes


def _topic_grid(n_topics: int, fixed_in: float, row_in: float, **share) -> np.ndarray:
    """One panel per topic in a grid of at most four columns (two single columns wide beyond two),
    ``fixed_in + row_in`` inches a row, never taller than a page; unused cells hidden."""
    columns = max(1, min(4, n_topics))
    rows = -(-max(n_topics, 1) // columns)
    width = SINGLE_COLUMN_IN if columns <= 2 else 2 * SINGLE_COLUMN_IN
    _, grid = plt.subplots(rows, columns, figsize=(width, min(MAX_HEIGHT_IN, fixed_in + rows * row_in)),
                           layout="constrained", squeeze=False, **share)
    for extra in grid.ravel()[n_topics:]:
        extra.set_visible(False)
    return grid.ravel()[:max(n_topics, 1)]


def _topic_title(topic: int, label: str) -> str:
    """``T3 pain management · opioid`` on at most two lines that fit a panel of a four-column grid."""
    return textwrap.fill(f"T{topic} {label}", width=26, max_lines=2, placeholder=" \u2026")


def plot_group_topic_prevalence(data: pd.DataFrame, *, axes=None, column: str = "group",
                                subtitle: str | None = None, confidence: float = 0.95) -> np.ndarray:
    """One panel per topic: each group's prevalence of the topic with its confidence interval.

    A dot is the mean topic proportion of the group's documents, its line the
    bootstrap interval; the dashed line is the mean over every grouped
    document. Dots whose interval lies wholly above (blue) or below
    (vermillion) that line stand out; the others are grey.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.groups.group_topic_prevalence` (the topics and groups to draw).
    axes : sequence of Axes, optional
        One per topic. Default: a grid of four columns at most, within a page.
    column : str
        The grouping column, for the title.
    subtitle : str, optional
    confidence : float, default 0.95
        The intervals' level, for the axis label.

    Returns
    -------
    ndarray of Axes
    """
    topics = list(dict.fromkeys(data["topic"])) if len(data) else []
    names = list(dict.fromkeys(data["group"])) if len(data) else []
    axes = np.asarray(axes) if axes is not None else _topic_grid(len(topics), 0.9, 0.35 + 0.1 * len(names),
                                                                 sharey=True)
    if data.empty:
        empty_message(axes[0], "no topic mixtures for the grouped documents")
        return axes
    y = np.arange(len(names))
    for ax, topic in zip(axes, topics):
        rows = data[data["topic"] == topic].set_index("group").reindex(names)
        overall = float(rows["corpus_prevalence"].dropna().iloc[0])
        above, below = rows["low"] > overall, rows["high"] < overall
        colors = np.where(above, POSITIVE, np.where(below, NEGATIVE, OKABE_ITO["grey"]))
        ax.hlines(y, rows["low"], rows["high"], colors=colors, lw=1.0)
        ax.scatter(rows["prevalence"], y, c=colors, s=7, zorder=3, edgecolors="none")
        ax.axvline(overall, color=OKABE_ITO["black"], lw=0.5, ls="--")
        label = rows["label"].dropna().iloc[0] if rows["label"].notna().any() else ""
        ax.set_title(_topic_title(topic, label), fontsize=6.3)
        right = max(float(rows["high"].max()) if rows["high"].notna().any() else 0.0,
                    float(rows["prevalence"].max())) * 1.1 or 1.0
        ax.set_xlim(0, right)
        ax.xaxis.set_major_locator(plt.MaxNLocator(3))
        digits = 0 if right >= 0.06 else 1  # 0%, 1%, 1% would repeat itself
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _, d=digits: f"{v:.{d}%}"))
        ax.tick_params(axis="both", labelsize=5.5)
    axes[0].set_yticks(y, names)
    axes[0].set_ylim(len(names) - 0.5, -0.5)
    figure = axes[0].figure
    figure.suptitle(f"Topic prevalence by {column}: mean share of the group's documents"
                    + (f"\n{subtitle}" if subtitle else ""), fontsize=7.5, x=0.02, ha="left")
    figure.supxlabel(f"topic share (dashed: all grouped documents; lines: {confidence:.0%} bootstrap interval; "
                     "blue/vermillion: interval above/below it)", fontsize=6)
    return axes


def _period_axis(ax: Axes, labels: list[str], *, show: bool = True, most: int = 12) -> None:
    """Periods at 0, 1, 2 ... labelled; at most about ``most`` labels, slanted when long."""
    step = max(1, -(-len(labels) // most))
    ax.set_xticks(range(0, len(labels), step), labels[::step] if show else [])
    if show and max((len(label) for label in labels), default=0) > 4:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.set_xlim(-0.5, len(labels) - 0.5)


def plot_term_trends(data: pd.DataFrame, *, ax: Axes | None = None, column: str = "period", bins: str = "",
                     confidence: float = 0.95) -> Axes:
    """Each term's rate per period, with its bootstrap interval as a band.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.groups.term_trends`.
    column : str
        The ordered column, for the axis label.
    bins : str
        What a period is when the values were binned (``year`` ...), for the label.
    confidence : float, default 0.95
    """
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 2.8))
    if data.empty:
        return empty_message(ax, "none of the terms occurs in the corpus")
    labels = list(dict.fromkeys(data["period"].astype(str)))
    position = {label: i for i, label in enumerate(labels)}
    for color, (term, rows) in zip(LINE_COLORS * 3, data.groupby("term", sort=False)):
        x = rows["period"].astype(str).map(position).to_numpy()
        ax.fill_between(x, rows["low"], rows["high"], color=color, alpha=0.2, lw=0)
        ax.plot(x, rows["per_1000_tokens"], color=color, lw=1.1, marker="o", ms=2.5, label=term)
    _period_axis(ax, labels)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("per 1,000 word tokens")
    ax.set_xlabel(f"{column}{f' (by {bins})' if bins else ''}; bands: {confidence:.0%} bootstrap interval "
                  "over documents")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False, handlelength=1.2)
    ax.set_title(f"Focus terms over {column}", pad=22)
    return ax


def plot_topic_trends(data: pd.DataFrame, *, axes=None, column: str = "period", bins: str = "",
                      subtitle: str | None = None, confidence: float = 0.95) -> np.ndarray:
    """One panel per topic: its mean share of each period's documents, with a bootstrap band.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.groups.group_topic_prevalence` over periods (``period`` column).
    axes : sequence of Axes, optional
        One per topic. Default: a grid of four columns at most, within a page.
    column, bins : str
        The ordered column and what a period is when binned, for the labels.
    subtitle : str, optional
    confidence : float, default 0.95

    Returns
    -------
    ndarray of Axes
    """
    topics = list(dict.fromkeys(data["topic"])) if len(data) else []
    axes = np.asarray(axes) if axes is not None else _topic_grid(len(topics), 1.0, 1.45, sharex=True)
    if data.empty:
        empty_message(axes[0], "no topic mixtures for the ordered documents")
        return axes
    labels = list(dict.fromkeys(data["period"].astype(str)))
    columns = axes[0].get_gridspec().ncols if axes[0].get_subplotspec() else 1
    for i, (ax, topic) in enumerate(zip(axes, topics)):
        rows = data[data["topic"] == topic]
        x = np.arange(len(rows))
        ax.fill_between(x, rows["low"], rows["high"], color=OKABE_ITO["sky blue"], alpha=0.4, lw=0)
        ax.plot(x, rows["prevalence"], color=OKABE_ITO["blue"], lw=1.0, marker="o", ms=2)
        ax.axhline(float(rows["corpus_prevalence"].iloc[0]), color=OKABE_ITO["black"], lw=0.5, ls="--")
        label = rows["label"].iloc[0] if rows["label"].notna().any() else ""
        ax.set_title(_topic_title(topic, label), fontsize=6.3)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(plt.MaxNLocator(3))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}" if v >= 0.06 or v == 0 else f"{v:.1%}"))
        ax.tick_params(axis="both", labelsize=5.5)
        _period_axis(ax, labels, show=i >= len(topics) - columns, most=5)
    figure = axes[0].figure
    figure.suptitle(f"Topic prevalence over {column}: mean share of each period's documents"
                    + (f"\n{subtitle}" if subtitle else ""), fontsize=7.5, x=0.02, ha="left")
    figure.supxlabel(f"{column}{f' (by {bins})' if bins else ''}; band: {confidence:.0%} bootstrap interval; "
                     "dashed: all dated documents", fontsize=6)
    return axes
