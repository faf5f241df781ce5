"""The one registry of figures, used by the CLI and the notebooks alike.

Each entry names a figure by its content, says in one line what it shows,
computes the tidy table behind it and draws it with a function of
:mod:`analysis.plots`. :func:`make_figure` returns the figure and its data;
saving is :mod:`analysis.export`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import plots, terms
from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.terms import TermCounts


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure.

    Attributes
    ----------
    name : str
        File stem, named by content (``top-terms``).
    description : str
        One line for ``corpus-analysis list``.
    data : callable
        ``(TermCounts, Settings) -> DataFrame``: the data drawn, exported as CSV.
    draw : callable
        ``(DataFrame, Settings) -> Axes``: draws on a new figure.
    """

    name: str
    description: str
    data: Callable[[TermCounts, Settings], pd.DataFrame]
    draw: Callable[[pd.DataFrame, Settings], Axes]


def _top_terms_data(tc: TermCounts, s: Settings) -> pd.DataFrame:
    return terms.term_frequencies(tc, "corpus").nsmallest(s.top_n, "rank")


def _distinctive_data(tc: TermCounts, s: Settings) -> pd.DataFrame:
    table = terms.tfidf(tc)
    return table[table["rank"] <= 6].reset_index(drop=True)


def _heatmap_data(tc: TermCounts, s: Settings) -> pd.DataFrame:
    top = terms.term_frequencies(tc, "corpus").nsmallest(s.top_n, "rank")["term"]
    table = terms.term_frequencies(tc, "document")
    return table[table["term"].isin(top)].reset_index(drop=True)


REGISTRY: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        FigureSpec(
            "document-structure",
            "Each document as a bar of its blocks coloured by role (summary, intro, outline, headings, body, "
            "conclusion); length in word tokens.",
            lambda tc, s: terms.block_overview(tc),
            lambda d, s: plots.plot_document_structure(d),
        ),
        FigureSpec(
            "preprocessing-waterfall",
            "Tokens and types left after each preprocessing step, and what each step removed or joined.",
            lambda tc, s: tc.waterfall,
            lambda d, s: plots.plot_preprocessing_waterfall(d),
        ),
        FigureSpec(
            "top-terms",
            "The most frequent terms of the corpus, per 1,000 word tokens (raw counts on the bars).",
            _top_terms_data,
            lambda d, s: plots.plot_top_terms(d, n=s.top_n),
        ),
        FigureSpec(
            "distinctive-terms",
            "Small multiples: the six most distinctive terms (TF-IDF) of each document.",
            _distinctive_data,
            lambda d, s: plots.plot_distinctive_terms(d, n=6),
        ),
        FigureSpec(
            "term-document-heatmap",
            "The corpus's top terms by document, per 1,000 word tokens (cells print raw counts).",
            _heatmap_data,
            lambda d, s: plots.plot_term_heatmap(d, n=s.top_n),
        ),
        FigureSpec(
            "rank-frequency",
            "Rank-frequency (Zipf) curves of the corpus and of each document on log-log axes.",
            lambda tc, s: terms.rank_frequency(tc),
            lambda d, s: plots.plot_rank_frequency(d),
        ),
    )
}


def figure_names() -> list[str]:
    """Registered figure names, in registry order."""
    return list(REGISTRY)


def get_spec(name: str) -> FigureSpec:
    """The spec called ``name``; a clear error listing the names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise AnalysisError(f"--only: unknown figure '{name}' (known: {', '.join(REGISTRY)})") from None


def make_figure(name: str, tc: TermCounts, settings: Settings) -> tuple[Figure, pd.DataFrame]:
    """Compute and draw the figure called ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`.
    tc : TermCounts
        From :func:`analysis.terms.analyze`.
    settings : Settings

    Returns
    -------
    (Figure, DataFrame)
        The drawn figure (not saved, not closed) and the data behind it.
    """
    spec = get_spec(name)
    data = spec.data(tc, settings)
    with plt.rc_context(plots.STYLE):
        ax = spec.draw(data, settings)
    return ax.figure, data
