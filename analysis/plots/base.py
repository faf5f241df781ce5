"""The shared style and helpers of every plot: sizes, palettes, label shortening, panels."""

from __future__ import annotations

import collections

import os
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from analysis.plots.fonts import font_family

SINGLE_COLUMN_IN = 3.5
MAX_HEIGHT_IN = 9.0  # a journal page: no figure is taller


NOTE_LINE = 46  # characters of a note that fit a single-column title line


def shown_note(shown: int, n_documents: int | None, chosen_by: str = "the longest") -> str:
    """``"25 of 18,846 documents: the longest"`` when a figure shows only some documents, else "";
    on two lines when it would not fit one line of a single-column title."""
    if n_documents is None or n_documents <= shown:
        return ""
    note = f"{shown} of {n_documents:,} documents: {chosen_by}"
    return note if len(note) <= NOTE_LINE else f"{shown} of {n_documents:,} documents:\n{chosen_by}"

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "grey": "#999999", "black": "#000000",
}
ROLE_COLORS = {
    "summary": OKABE_ITO["orange"],
    "intro": OKABE_ITO["sky blue"],
    "outline": OKABE_ITO["grey"],
    "heading": OKABE_ITO["black"],
    "body": OKABE_ITO["blue"],
    "conclusion": OKABE_ITO["vermillion"],
    "paragraph": OKABE_ITO["bluish green"],
}
BAR_COLOR = OKABE_ITO["blue"]
LINE_COLORS = [OKABE_ITO[c] for c in ("blue", "orange", "bluish green", "vermillion", "reddish purple", "sky blue", "yellow")]

STYLE = {
    "font.size": 7,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlelocation": "left",
    "figure.dpi": 150,
    "text.parse_math": False,  # corpus text such as "$5 to $10" or "$\\frac{" is drawn as written, never as TeX
    "font.family": font_family(),  # installed fonts with CJK, Indic, emoji ... glyphs as per-character fallbacks
}


def new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


_READABLE_LABEL = 16  # characters; longer prefixes give way to shorter unique endings


def _unique_prefixes(ids: list[str], min_length: int) -> dict[str, str]:
    # Another id starts with a prefix of ``doc_id`` exactly when the prefix is no longer than their common
    # prefix, and the longest common prefix is with a neighbour in sorted order: n log n, not n squared.
    ordered = sorted(ids)
    common = [len(os.path.commonprefix(pair)) for pair in zip(ordered, ordered[1:])]
    shared = {doc_id: max(common[i - 1] if i else 0, common[i] if i < len(common) else 0)
              for i, doc_id in enumerate(ordered)}
    labels = {}
    for doc_id in ids:
        length = max(min(min_length, len(doc_id)), shared[doc_id] + 1)
        labels[doc_id] = doc_id if length >= len(doc_id) else doc_id[:length] + "\u2026"
    return labels


def _ending(doc_id: str, length: int) -> str:
    """The last ``length`` characters of ``doc_id`` after an ellipsis, widened to the separator before
    them when it is close (``…/9542`` rather than ``…542``)."""
    start = len(doc_id) - length
    separator = max(doc_id.rfind(mark, 0, start) for mark in "/_-. ")
    if separator >= 0 and start - separator <= 8:
        start = separator
    return "\u2026" + doc_id[start:]


def _path_labels(ids: list[str]) -> dict[str, str]:
    """Labels of path-like ids: the id itself when it is short, else its shortest unique ending of whole
    path components, with the folder before a bare number, which names nothing on its own."""
    parts = {doc_id: doc_id.split("/") for doc_id in ids}
    endings = collections.defaultdict(collections.Counter)  # k -> how many ids end in each k components
    for own in parts.values():
        for k in range(1, len(own) + 1):
            endings[k][tuple(own[-k:])] += 1
    labels = {}
    for doc_id, own in parts.items():
        if len(doc_id) <= _READABLE_LABEL:
            labels[doc_id] = doc_id
            continue
        for k in range(1, len(own) + 1):
            ending = own[-k:]
            if endings[k][tuple(ending)] == 1:
                break
        if k < len(own) and Path(ending[0]).stem.isdigit() and k == 1:
            k += 1
        labels[doc_id] = ("\u2026/" if k < len(own) else "") + "/".join(own[-k:])
    return labels


def short_labels(ids: Sequence[str], min_length: int = 3) -> dict[str, str]:
    """Short, distinct labels for ``ids``: their shortest unique prefixes (at least ``min_length``
    characters), or, where those run past 16 characters, their shortest unique endings if shorter
    (ids that differ only at the end), with an ellipsis where an id was cut. Path-like ids get whole
    path components from the end instead (``…/rec.autos/103165``; ``test/rec.a…`` would name no file).

    >>> short_labels(["000_2b6e", "001_6c88"])
    {'000_2b6e': '000…', '001_6c88': '001…'}
    >>> short_labels(["train/comp.graphics/38001", "train/comp.graphics/38017"])
    {'train/comp.graphics/38001': '…/comp.graphics/38001', 'train/comp.graphics/38017': '…/comp.graphics/38017'}
    """
    ids = list(dict.fromkeys(ids))
    prefixes = _unique_prefixes(ids, min_length)
    reversed_ids = [doc_id[::-1] for doc_id in ids]
    endings = {doc_id: label[::-1] if not label.endswith("\u2026") else _ending(doc_id, len(label) - 1)
               for doc_id, label in zip(ids, _unique_prefixes(reversed_ids, min_length).values())}
    longest = max((len(label) for label in prefixes.values()), default=0)
    if any(label.endswith("\u2026") and "/" in doc_id for doc_id, label in prefixes.items()):
        return _path_labels(ids)
    if longest <= _READABLE_LABEL:  # short enough: the beginning of an id reads best
        return prefixes
    if any("/" in doc_id for doc_id in ids):
        return _path_labels(ids)
    return endings if max((len(label) for label in endings.values()), default=0) < longest else prefixes


def empty_message(ax: Axes, message: str) -> Axes:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=OKABE_ITO["grey"])
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def bar_panels(ax: Axes, panels, *, gap: float = 1.3) -> None:
    """Stack labelled groups of horizontal bars in one Axes: small multiples
    on a shared x axis.

    Parameters
    ----------
    ax : Axes
    panels : iterable of (header, labels, layers)
        ``layers`` is a list of ``(values, color, height)`` drawn in order
        (a wide grey background bar, then a narrow coloured one, say).
    gap : float
        Space between panels, in bar rows.
    """
    y, ticks, names = 0.0, [], []
    for header, labels, layers in panels:
        ax.text(0, y - 0.15, header, fontsize=6.5, fontweight="bold", va="bottom", transform=ax.get_yaxis_transform())
        ys = y + 0.55 + np.arange(len(labels))
        for values, color, height in layers:
            ax.barh(ys, values, color=color, height=height)
        ticks.extend(ys)
        names.extend(labels)
        y = ys[-1] + gap
    ax.set_yticks(ticks, names)
    ax.set_ylim(y - 0.6, -0.9)


