"""Plot functions for health claims: ``plot_*(data, *, ax=None, ...) -> Axes``.

Inputs are the tidy tables of :mod:`analysis.claims`. Risk is vermillion and
benefit blue (Okabe-Ito) in every figure; polarity is told by fill, so the
figures also read in grey: solid for asserted, a lighter hatched fill for
hedged, an outline with cross-hatching for negated.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from analysis.claims import MARKER_CATEGORIES, POLARITIES
from analysis.plots.base import OKABE_ITO, SINGLE_COLUMN_IN, empty_message, new_axes, short_labels

CATEGORY_COLORS = {"risk": OKABE_ITO["vermillion"], "benefit": OKABE_ITO["blue"]}
MARKER_COLORS = {"hedge": OKABE_ITO["sky blue"], "booster": OKABE_ITO["orange"]}
_PANEL_TITLES = {"doc": "by article", "role": "by section role"}


def _tint(color: str, amount: float = 0.55) -> tuple[float, float, float]:
    """``color`` mixed with white (``amount`` of white)."""
    return tuple(c + (1 - c) * amount for c in to_rgb(color))


def polarity_style(category: str, polarity: str) -> dict:
    """Bar keyword arguments for a category and polarity (shared by bars and legend).

    >>> polarity_style("risk", "negated")["hatch"]
    'xxxx'
    """
    color = CATEGORY_COLORS[category]
    if polarity == "asserted":
        return {"facecolor": color, "edgecolor": "white", "hatch": None}
    if polarity == "hedged":
        return {"facecolor": _tint(color), "edgecolor": color, "hatch": "////"}
    if polarity == "compared":
        return {"facecolor": _tint(color, 0.8), "edgecolor": color, "hatch": "...."}
    return {"facecolor": "white", "edgecolor": color, "hatch": "xxxx"}


def _capped(groups: list[str], limit: int, counts: pd.Series, what: str) -> tuple[list[str], str]:
    """At most ``limit`` groups: those with the highest ``counts`` (by group; ties in their order), kept
    in their order, and the note that says so (``what`` is counted)."""
    if len(groups) <= limit:
        return groups, ""
    kept = set(counts.reindex(groups, fill_value=0).sort_values(ascending=False, kind="stable").index[:limit])
    return [g for g in groups if g in kept], f" ({limit} with the most {what}, of {len(groups):,})"


def plot_claim_framing(data: pd.DataFrame, *, ax: Axes | None = None, value: str = "share",
                       max_groups: int = 20) -> Axes:
    """Diverging bars of risk (left) and benefit (right) claims by polarity,
    per article and per section role, in one Axes.

    Each bar is split from the centre outwards into asserted, hedged,
    compared and negated claims; the number of risk and benefit claims of each group is
    printed at the right.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.claims.framing` with ``by="doc"``, ``by="role"`` or
        both concatenated (each ``by`` is a panel, articles first).
    ax : Axes, optional
    value : {"share", "count"}, default "share"
        Share of the group's risk and benefit claims, or claim counts.
    max_groups : int, default 20
        Groups drawn per panel: those with the most risk and benefit claims, in their order; the
        others are left out (the panel header says so).

    Returns
    -------
    Axes
    """
    if value not in ("share", "count"):
        raise ValueError(f"value must be 'share' or 'count', got {value!r}")
    panels = [(by, list(dict.fromkeys(data.loc[data["by"] == by, "group"]))) for by in _PANEL_TITLES
              if (data["by"] == by).any()]
    claims_of = data.groupby(["by", "group"])["count"].sum()
    panels = [(by, *_capped(groups, max_groups, claims_of.loc[by], "claims")) for by, groups in panels]
    rows = sum(len(groups) for _, groups, _ in panels)
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 1.5 + 0.19 * rows + 0.3 * len(panels)))
    if data.empty or data["count"].sum() == 0:
        return empty_message(ax, "no risk or benefit claims")
    doc_labels = short_labels(next((groups for by, groups, _ in panels if by == "doc"), []))  # the shown ones
    right_edge = blended_transform_factory(ax.transAxes, ax.transData)
    cell = data.groupby(["by", "group", "category", "polarity"])[value].sum()
    ticks, names, y = [], [], 0.0
    for by, groups, note in panels:
        ax.annotate(_PANEL_TITLES[by] + note, (0, y - 0.2), xycoords=right_edge, xytext=(3, 0),
                    textcoords="offset points", fontsize=6.5, fontweight="bold", va="bottom")
        ax.text(1.0, y - 0.2, "claims", transform=right_edge, fontsize=5.5, ha="right", va="bottom", color="#444444")
        y += 0.6
        for group in groups:
            for category, sign in (("risk", -1), ("benefit", 1)):
                start = 0.0
                for polarity in POLARITIES:
                    width = float(cell.get((by, group, category, polarity), 0.0))
                    if width:
                        ax.barh(y, sign * width, left=sign * start, height=0.72, linewidth=0.5,
                                **polarity_style(category, polarity))
                    start += width
            ax.text(1.0, y, f"{int(claims_of.get((by, group), 0))}", transform=right_edge, fontsize=5.5,
                    ha="right", va="center")
            ticks.append(y)
            names.append(doc_labels[group] if by == "doc" else group)
            y += 1
        y += 0.5
    ax.set_yticks(ticks, names)
    ax.set_ylim(y - 0.9, -0.6)
    ax.axvline(0, color="black", linewidth=0.6)
    shown = [(by, group) for by, groups, _ in panels for group in groups]
    totals = cell.groupby(level=["by", "group", "category"]).sum()
    left, right = (max((float(totals.get((by, group, c), 0.0)) for by, group in shown), default=0.0)
                   for c in ("risk", "benefit"))
    span = max(left, right)
    ax.set_xlim(-(left + 0.05 * span), right + 0.2 * span)  # room for the counts on the right
    if value == "share":
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{abs(v):.0%}"))
        ax.set_xlabel("share of the group's risk and benefit claims\n\u2190 risk claims | benefit claims \u2192")
    else:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{abs(v):g}"))
        ax.set_xlabel("risk and benefit claims (count)\n\u2190 risk claims | benefit claims \u2192")
    ax.tick_params(axis="y", length=0)
    handles = [Patch(label=f"{category} {polarity}", linewidth=0.5, **polarity_style(category, polarity))
               for category in ("risk", "benefit") for polarity in POLARITIES]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False,
              handlelength=1.6, columnspacing=1.2, borderaxespad=0.3, fontsize=6)
    ax.set_title("Risk and benefit claims by polarity", pad=40)
    return ax


def plot_hedging_density(data: pd.DataFrame, *, ax: Axes | None = None, max_documents: int = 30) -> Axes:
    """Hedges and boosters per 1,000 words, one pair of bars per article and
    one for all articles together.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.claims.hedging_density`.
    ax : Axes, optional
    max_documents : int, default 30
        Articles drawn individually: those with the most hedges and
        boosters, in id order; the row for all articles always counts
        every one, and the title says when some were left out.

    Returns
    -------
    Axes
    """
    docs = sorted(data["doc_id"].unique())
    shown, note = _capped(docs, max_documents, data.groupby("doc_id")["count"].sum(), "hedges and boosters")
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 1.2 + 0.3 * (len(shown) + 1)))
    if data.empty or data["words"].sum() == 0:
        return empty_message(ax, "no words counted")
    totals = data.groupby("marker")[["count", "words"]].sum()
    labels = short_labels(shown)
    rows = [(labels[d], data[data["doc_id"] == d].set_index("marker")) for d in shown]
    corpus = totals.assign(per_1000_words=1000 * totals["count"] / totals["words"])
    rows.append((f"all {len(docs):,} articles", corpus))
    height = 0.38
    positions = np.arange(len(rows)) + np.r_[np.zeros(len(rows) - 1), 0.4]  # a gap before the corpus row
    for y, (_, table) in zip(positions, rows):
        for offset, marker in zip((-height / 2, height / 2), MARKER_CATEGORIES):
            rate = float(table.loc[marker, "per_1000_words"])
            ax.barh(y + offset, rate, height=height, color=MARKER_COLORS[marker])
            ax.annotate(f"{int(table.loc[marker, 'count'])}", (rate, y + offset), xytext=(2, 0),
                        textcoords="offset points", va="center", fontsize=5)
    ax.set_yticks(positions, [name for name, _ in rows])
    ax.invert_yaxis()
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, max(float(table["per_1000_words"].max()) for _, table in rows) * 1.15 or 1)
    ax.set_xlabel("markers per 1,000 word tokens (outline excluded)\n"
                  "labels: counts; lists: Hyland (2005) with additions")
    handles = [Patch(facecolor=MARKER_COLORS[m], label=f"{m}s") for m in MARKER_CATEGORIES]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False,
              handlelength=1.2, borderaxespad=0.2)
    ax.set_title(f"Hedges and boosters per article{note}", pad=16)
    return ax
