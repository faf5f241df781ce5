"""Comparison figures: groups of documents (by a metadata column) side by side.

Same contract as :mod:`analysis.plots.base`: ``plot_*(data, *, ax=None, ...)``
draws a tidy table of :mod:`analysis.groups` and returns its Axes (an array
of them when a figure of many groups is laid out in two columns); nothing
here saves or shows a figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis.plots.base import SINGLE_COLUMN_IN, bar_panels, empty_message, new_axes
from analysis.plots.reading import _significance_colors

MAX_HEIGHT_IN = 9.0  # a journal page
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
