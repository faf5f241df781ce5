"""Plot functions: ``plot_*(data, *, ax=None, ...) -> Axes``.

Each function takes a tidy table from an analysis, draws on ``ax`` (a new
figure only when none is given) and returns the Axes. Nothing here saves or
shows a figure; saving lives in :mod:`analysis.export`. Sizes and fonts are
chosen for a journal's single column (3.5 in); colours are the Okabe-Ito
palette and cividis, both safe for colour-blind readers.

- ``base``: the style, palettes and helpers every family shares;
- ``terms``, ``topics``, ``reading``, ``groups``, ``reuse``, ``claims``: one
  module per family of figures.
"""

from analysis.plots.base import (
    BAR_COLOR,
    LINE_COLORS,
    MAX_HEIGHT_IN,
    OKABE_ITO,
    ROLE_COLORS,
    SINGLE_COLUMN_IN,
    STYLE,
    bar_panels,
    empty_message,
    shown_note,
    new_axes,
    short_labels,
)
from analysis.plots.claims import (
    CATEGORY_COLORS,
    MARKER_COLORS,
    plot_claim_framing,
    plot_hedging_density,
    polarity_style,
)
from analysis.plots.groups import plot_group_keyness, plot_group_topic_prevalence, plot_term_trends, plot_topic_trends
from analysis.plots.reading import (
    NEGATIVE,
    NOT_SIGNIFICANT_ALPHA,
    POSITIVE,
    plot_collocates,
    plot_dispersion,
    plot_keyness,
    plot_reference_keyness,
)
from analysis.plots.reuse import (
    MAX_ANNOTATED_DOCUMENTS,
    plot_reuse_matrix,
    plot_reused_share,
)
from analysis.plots.terms import (
    plot_distinctive_terms,
    plot_document_structure,
    plot_preprocessing_waterfall,
    plot_rank_frequency,
    plot_term_heatmap,
    plot_top_terms,
)
from analysis.plots.topics import (
    plot_intertopic_map,
    plot_k_selection,
    plot_topic_convergence,
    plot_topic_heatmap,
    plot_topic_prevalence,
    plot_topic_stability,
    plot_topic_terms,
    topic_colors,
)

__all__ = [
    "SINGLE_COLUMN_IN",
    "OKABE_ITO",
    "ROLE_COLORS",
    "BAR_COLOR",
    "LINE_COLORS",
    "MAX_HEIGHT_IN",
    "shown_note",
    "STYLE",
    "new_axes",
    "short_labels",
    "empty_message",
    "bar_panels",
    "plot_top_terms",
    "plot_distinctive_terms",
    "plot_term_heatmap",
    "plot_document_structure",
    "plot_rank_frequency",
    "plot_preprocessing_waterfall",
    "topic_colors",
    "plot_topic_terms",
    "plot_topic_heatmap",
    "plot_topic_prevalence",
    "plot_intertopic_map",
    "plot_topic_stability",
    "plot_topic_convergence",
    "plot_k_selection",
    "POSITIVE",
    "NEGATIVE",
    "NOT_SIGNIFICANT_ALPHA",
    "plot_collocates",
    "plot_keyness",
    "plot_group_keyness",
    "plot_group_topic_prevalence",
    "plot_term_trends",
    "plot_topic_trends",
    "plot_reference_keyness",
    "plot_dispersion",
    "MAX_ANNOTATED_DOCUMENTS",
    "plot_reuse_matrix",
    "plot_reused_share",
    "CATEGORY_COLORS",
    "MARKER_COLORS",
    "polarity_style",
    "plot_claim_framing",
    "plot_hedging_density",
]
