"""Plot functions for topic models: ``plot_*(data, *, ax=None, ...) -> Axes``.

Inputs are the tidy tables of :mod:`analysis.topics`; topics are always
named by their canonical id (``T1`` = most prevalent in the reported run)
and coloured consistently by id across figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.transforms import ScaledTranslation

from analysis.plots.base import (MAX_HEIGHT_IN, OKABE_ITO, SINGLE_COLUMN_IN, bar_panels, empty_message, shown_note,
                                 new_axes,
                                 short_labels)

_TOPIC_PALETTE = [OKABE_ITO[c] for c in (
    "blue", "orange", "bluish green", "vermillion", "reddish purple", "sky blue", "yellow", "grey")]


def topic_colors(k: int) -> list:
    """One colour per topic id: Okabe-Ito up to 8 topics, tab20 beyond."""
    if k <= len(_TOPIC_PALETTE):
        return _TOPIC_PALETTE[:k]
    cmap = plt.get_cmap("tab20")
    return [cmap(i % 20) for i in range(k)]


def _titled(ax: Axes, title: str, subtitle: str | None, gap: float = 3) -> None:
    """Title with a smaller grey subtitle (one or more lines) between it and the axes."""
    lines = subtitle.count("\n") + 1 if subtitle else 0
    ax.set_title(title, pad=gap + 3 + 7 * lines)
    if subtitle:
        ax.annotate(subtitle, (0, 1), xycoords="axes fraction", xytext=(0, gap), textcoords="offset points",
                    fontsize=5.5, color="#444444", va="bottom", linespacing=1.15)


_TOPICS_PER_COLUMN = 10  # more topics go in two columns
_TOPIC_TERMS_MAX_TOPICS = 24  # what two columns hold within a page at three terms a topic


def _topic_terms_height(n_topics: int, n_terms: int) -> float:
    return 0.9 + n_topics * (0.12 * n_terms + 0.28)


def plot_topic_terms(data: pd.DataFrame, *, ax: Axes | None = None, n: int | None = None,
                     lam: float = 0.6, subtitle: str | None = None) -> Axes | np.ndarray:
    """Small multiples: each topic's top terms by relevance.

    Each bar is the estimated number of the term's tokens assigned to the
    topic, over a grey bar of the term's count in the whole corpus (as in
    pyLDAvis).

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.topics.topic_terms` with ``by="relevance"``, plus a
        ``prevalence`` column.
    ax : Axes, optional
        Draw every topic in this Axes. Default: a new figure, in two columns beyond
        ten topics; beyond 24, the 24 most prevalent (topic ids are in order of prevalence),
        and the title says so, so that the figure stays within a page.
    n : int, optional
        Terms per topic (default: 6 for up to 8 topics, fewer beyond).
    lam : float
        The relevance lambda, stated in the title.

    Returns
    -------
    Axes, or an array of two Axes (two columns)
    """
    k = int(data["topic"].max()) if not data.empty else 0
    n = n or (6 if k <= 8 else 4 if k <= 14 else 3)
    shown = k if ax is not None else min(k, _TOPIC_TERMS_MAX_TOPICS)
    top = data[(data["rank"] <= n) & (data["topic"] <= shown)]
    columns = 1 if ax is not None or shown <= _TOPICS_PER_COLUMN else 2
    rows = -(-shown // columns) if shown else 1
    height = min(_topic_terms_height(rows, n), MAX_HEIGHT_IN)
    if columns == 2:
        _, axes = plt.subplots(1, 2, figsize=(2 * SINGLE_COLUMN_IN, height), layout="constrained", sharex=True)
    else:
        axes = np.array([new_axes(ax, (SINGLE_COLUMN_IN, height))])
    if top.empty:
        return empty_message(axes[0], "no topics")
    colors = topic_colors(k)
    panels = []
    for topic, rows_of_topic in top.groupby("topic", sort=True):
        rows_of_topic = rows_of_topic.sort_values("rank")
        share = float(rows_of_topic["prevalence"].iloc[0])
        panels.append((f"T{topic} \u2013 {share:.0%} of tokens", rows_of_topic["term"].tolist(),
                       [(rows_of_topic["term_count"], "#DDDDDD", 0.8),
                        (rows_of_topic["topic_count"], colors[topic - 1], 0.5)]))
    for target, start in zip(axes, range(0, len(panels), rows)):
        bar_panels(target, panels[start:start + rows])
        target.set_xlabel("term tokens\ngrey: corpus; colour: estimated in topic")
    if len(axes) == 2 and len(panels) <= rows:
        axes[1].set_visible(False)
    note = f"; the {shown} most prevalent of {k} topics" if shown < k else ""
    _titled(axes[0], f"Topic terms by relevance (\u03bb = {lam:g}){note}", subtitle)
    return axes[0] if len(axes) == 1 else axes


def plot_topic_heatmap(data: pd.DataFrame, *, ax: Axes | None = None, subtitle: str | None = None,
                       cmap: str = "cividis") -> Axes:
    """Units (rows, in reading order within each document) x topics (columns).

    Parameters
    ----------
    data : DataFrame
        ``row, doc_id, row_label, topic, label, weight`` (see
        :mod:`analysis.figures`); ``row`` orders the rows.
    """
    if data.empty:
        return empty_message(new_axes(ax, (SINGLE_COLUMN_IN, 2)), "no units")
    matrix = data.pivot_table(index="row", columns="topic", values="weight").sort_index()
    rows = data.drop_duplicates("row").set_index("row").loc[matrix.index]
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 2.4 + 0.09 * len(matrix)))
    image = ax.imshow(matrix.to_numpy(), aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    labels = data.drop_duplicates("topic").set_index("topic")["label"]
    ax.set_xticks(range(matrix.shape[1]), [f"T{t} {labels[t]}" for t in matrix.columns], rotation=90)
    ax.tick_params(length=0)
    ax.set_yticks(range(len(rows)), rows["row_label"], fontsize=5 if len(rows) > 40 else 6)
    doc_ids = rows["doc_id"].tolist()
    for i in range(1, len(doc_ids)):
        if doc_ids[i] != doc_ids[i - 1]:
            ax.axhline(i - 0.5, color="white", lw=1.5)
    for spine in ax.spines.values():
        spine.set_visible(False)
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.06, pad=0.03)
    colorbar.set_label("topic share of the unit's tokens")
    colorbar.ax.tick_params(labelsize=6)
    _titled(ax, "Where the topics sit in each document", subtitle)
    return ax


def plot_topic_prevalence(data: pd.DataFrame, *, ax: Axes | None = None, subtitle: str | None = None,
                          n_documents: int | None = None,
        chosen_by: str = "the longest") -> Axes:
    """Stacked bars of topic shares per document, then per block role.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.topics.topic_prevalence` rows for ``document`` and
        (optionally) ``role``, concatenated.
    n_documents : int, optional
        The corpus's documents, when ``data`` holds only the longest: the title says so.
    chosen_by : str, default "the longest"
        How the shown documents were chosen, for the note.
    """
    groups = list(dict.fromkeys(zip(data["group_by"], data["group"])))
    k = int(data["topic"].max()) if not data.empty else 0
    legend_columns = 1 if k <= _TOPICS_PER_COLUMN else 2
    ax = new_axes(ax, (SINGLE_COLUMN_IN, min(1.5 + 0.2 * len(groups) + 0.11 * -(-k // legend_columns), MAX_HEIGHT_IN)))
    if data.empty:
        return empty_message(ax, "no topics")
    colors = topic_colors(k)
    doc_labels = short_labels([g for by, g in groups if by == "document"])
    positions, names, y = [], [], 0.0
    previous = None
    for by, group in groups:
        if previous is not None and by != previous:
            y += 0.6
        previous = by
        rows = data[(data["group_by"] == by) & (data["group"] == group)].sort_values("topic")
        left = 0.0
        for topic, weight in zip(rows["topic"], rows["weight"]):
            ax.barh(y, weight, left=left, color=colors[topic - 1], height=0.75, edgecolor="white", linewidth=0.3)
            if weight >= 0.1:
                ax.text(left + weight / 2, y, f"{weight:.0%}", ha="center", va="center", fontsize=5,
                        color="white" if topic - 1 in (0, 3, 4) or k > 8 else "black")
            left += weight
        positions.append(y)
        names.append(f"doc {doc_labels[group]}" if by == "document" else group)
        y += 1
    ax.set_yticks(positions, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("share of the group's tokens")
    labels = data.drop_duplicates("topic").sort_values("topic")
    handles = [Patch(facecolor=colors[t - 1], label=f"T{t} {lab}") for t, lab in zip(labels["topic"], labels["label"])]
    below_labels = ax.transAxes + ScaledTranslation(0, -0.45, ax.figure.dpi_scale_trans)  # under the x label
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(-0.02, 0), bbox_transform=below_labels,
              borderaxespad=0, frameon=False, fontsize=5.5, ncols=legend_columns, handlelength=1)
    note = shown_note(len(doc_labels), n_documents, chosen_by)
    by_role = " and by section role" if (data["group_by"] == "role").any() else ""
    _titled(ax, f"Topic prevalence by document{by_role}", "\n".join(filter(None, [note, subtitle])) or None)
    return ax


def plot_intertopic_map(data: pd.DataFrame, *, ax: Axes | None = None, subtitle: str | None = None) -> Axes:
    """Topics as circles placed by their Jensen-Shannon distances (classical
    scaling), area proportional to prevalence, each labelled with its id and
    top terms in the key below.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.topics.intertopic_map`.
    """
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 3.3 + 0.11 * len(data)))
    if data.empty:
        return empty_message(ax, "no topics")
    colors = topic_colors(len(data))
    area = 1800 * data["prevalence"].to_numpy()
    ax.scatter(data["x"], data["y"], s=area, c=[colors[t - 1] for t in data["topic"]], alpha=0.5,
               edgecolors="black", linewidths=0.5, zorder=2)
    cx, cy = data["x"].mean(), data["y"].mean()
    for row in data.itertuples():
        ax.text(row.x, row.y, f"T{row.topic}", ha="center", va="center", fontsize=6.5, fontweight="bold", zorder=4)
    handles = [Patch(facecolor=colors[t - 1], alpha=0.5, edgecolor="black", linewidth=0.5,
                     label=f"T{t} ({p:.0%}) {lab}") for t, p, lab in zip(data["topic"], data["prevalence"], data["label"])]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(-0.02, -0.2), borderaxespad=0, frameon=False,
              fontsize=5.5, handlelength=1)
    span = max(float(np.ptp(data["x"])), float(np.ptp(data["y"])), 1e-6)
    half = 0.5 * span * 1.5
    middle_x, middle_y = (data["x"].min() + data["x"].max()) / 2, (data["y"].min() + data["y"].max()) / 2
    ax.set_xlim(middle_x - half, middle_x + half)  # centred on the extremes, not the mean: every circle in view
    ax.set_ylim(middle_y - half, middle_y + half)
    ax.set_aspect("equal")
    ax.axhline(cy, color="#DDDDDD", lw=0.5, zorder=0)
    ax.axvline(cx, color="#DDDDDD", lw=0.5, zorder=0)
    ax.set_xlabel("PC1 of Jensen-Shannon distances between topics")
    ax.set_ylabel("PC2")
    _titled(ax, "Intertopic distance map (circle area: prevalence)", subtitle)
    return ax


_STABILITY_ROW_IN = 0.36


def plot_topic_stability(data: pd.DataFrame, *, ax: Axes | None = None, subtitle: str | None = None) -> Axes:
    """Per topic: the similarity of its best match in every other seed's run.

    Parameters
    ----------
    data : DataFrame
        :attr:`analysis.topics.TopicResult.stability` (``topic, label, seed, similarity``).
    """
    topics = data.drop_duplicates("topic").sort_values("topic")
    # A row per topic with its terms on a line above; past a page, compact rows with the terms in the tick
    # label.
    compact = 1.2 + _STABILITY_ROW_IN * len(topics) > MAX_HEIGHT_IN
    ax = new_axes(ax, (SINGLE_COLUMN_IN, min(1.2 + _STABILITY_ROW_IN * max(len(topics), 1), MAX_HEIGHT_IN)))
    if data.empty:
        return empty_message(ax, "one seed only: fit with seeds > 1 to measure stability")
    colors = topic_colors(int(topics["topic"].max()))
    for y, (topic, label) in enumerate(zip(topics["topic"], topics["label"])):
        values = data.loc[data["topic"] == topic, "similarity"].to_numpy()
        jitter = np.linspace(-0.18, 0.18, len(values)) if len(values) > 1 else np.zeros(1)
        ax.scatter(values, y + jitter, s=9, color=colors[topic - 1], edgecolors="none", zorder=3)
        ax.plot([np.median(values)] * 2, [y - 0.22, y + 0.22], color="black", lw=1.2, zorder=4)
        if not compact:
            ax.text(0.01, y - 0.28, label, fontsize=5.5, color="#333333", va="bottom",
                    transform=ax.get_yaxis_transform())
    ax.set_yticks(range(len(topics)), [f"T{t} {label}" if compact else f"T{t}"
                                       for t, label in zip(topics["topic"], topics["label"])],
                  **({"fontsize": 5} if compact else {}))
    ax.set_ylim(len(topics) - 0.6, -0.75)
    ax.set_xlim(0, 1)
    ax.set_xlabel("best-match similarity in another seed's run\n"
                  "(1 \u2212 Jensen-Shannon distance; dots: seeds, bar: median)")
    n_seeds = data["seed"].nunique() + 1
    _titled(ax, f"Topic stability across {n_seeds} seeds", subtitle)
    return ax


def plot_topic_convergence(data: pd.DataFrame, *, ax: Axes | None = None, subtitle: str | None = None,
                           note: str | None = None) -> Axes:
    """Each seed's log-likelihood per word against the Gibbs sweeps, the reported run in colour.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.topics.convergence_table` (``seed, sweep, log_likelihood, reported, stopped``).
    note : str, optional
        A line under the subtitle (why the fits stopped, how much the reported run still moved).
    """
    ax = new_axes(ax, (SINGLE_COLUMN_IN, 3.2))
    if data.empty:
        return empty_message(ax, "this engine records no log-likelihood trace (only tomotopy's Gibbs sampler does)")
    for seed, run in data.groupby("seed", sort=True):
        reported = bool(run["reported"].iat[0])
        ax.plot(run["sweep"], run["log_likelihood"], lw=1.3 if reported else 0.7, zorder=3 if reported else 2,
                color=OKABE_ITO["vermillion"] if reported else "#9a9a9a",
                label=f"seed {seed} (reported)" if reported else None)
    others = data.loc[~data["reported"], "seed"].nunique()
    if others:
        ax.plot([], [], lw=0.7, color="#9a9a9a", label=f"the other {others} seed{'s' if others > 1 else ''}")
    ax.set_xlabel("Gibbs sweeps")
    ax.set_ylabel("log-likelihood per word")
    ax.legend(fontsize=6, loc="lower right", frameon=False)
    _titled(ax, "Convergence of the topic fits", "\n".join(t for t in (subtitle, note) if t))
    return ax


_METRIC_LABELS = {
    "c_v": "c_v \u2191",
    "c_npmi": "NPMI, top by\nweight \u2191",
    "c_npmi_shown": "NPMI, terms\nshown \u2191",
    "u_mass": "u_mass \u2191",
    "perplexity": "held-out\nperplexity \u2193",
    "stability": "stability \u2191",
}


def plot_k_selection(data: pd.DataFrame, *, axes=None, chosen_k: int | None = None, subtitle: str | None = None):
    """Every model-selection metric against K: median over seeds and the
    range (min to max), one panel per metric sharing the K axis.

    Parameters
    ----------
    data : DataFrame
        :func:`analysis.topics.select_k` (``k, seed, metric, value``).
    axes : sequence of Axes, optional
        One per metric present, top to bottom.
    chosen_k : int, optional
        Marked with a vertical line (the configured K).

    Returns
    -------
    ndarray of Axes
    """
    metrics = [m for m in _METRIC_LABELS if m in set(data["metric"])]
    if axes is None:
        _, axes = plt.subplots(len(metrics), 1, figsize=(SINGLE_COLUMN_IN, 0.8 + 0.85 * len(metrics)),
                               sharex=True, layout="constrained", squeeze=False)
        axes = axes[:, 0]
    axes = np.asarray(axes)
    for ax, metric in zip(axes, metrics):
        rows = data[data["metric"] == metric]
        summary = rows.groupby("k")["value"].agg(["median", "min", "max"])
        ax.fill_between(summary.index, summary["min"], summary["max"], color=OKABE_ITO["sky blue"], alpha=0.35, lw=0)
        ax.scatter(rows["k"], rows["value"], s=4, color=OKABE_ITO["blue"], alpha=0.6, edgecolors="none")
        ax.plot(summary.index, summary["median"], color=OKABE_ITO["blue"], lw=1.2, marker="o", ms=2.5)
        if chosen_k is not None and chosen_k in summary.index:
            ax.axvline(chosen_k, color=OKABE_ITO["vermillion"], lw=0.8, ls="--")
        ax.set_ylabel(_METRIC_LABELS[metric], fontsize=6.3)
        ax.yaxis.set_major_locator(plt.MaxNLocator(3))
    axes[-1].set_xlabel("number of topics K (dashed: configured K)")
    axes[-1].xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    n_seeds = data["seed"].nunique()
    _titled(axes[0], f"Choosing K ({n_seeds} seeds per K)", subtitle)
    return axes
