"""Plot functions (analysis.plots) and the figure registry (analysis.figures)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import plots, terms
from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.figures import REGISTRY, figure_names, get_spec, make_figure

# plot function and the function that makes its data from TermCounts
PLOTS = {
    "top_terms": (plots.plot_top_terms, lambda tc: terms.term_frequencies(tc, "corpus")),
    "distinctive_terms": (plots.plot_distinctive_terms, terms.tfidf),
    "term_heatmap": (plots.plot_term_heatmap, lambda tc: terms.term_frequencies(tc, "document")),
    "document_structure": (plots.plot_document_structure, terms.block_overview),
    "rank_frequency": (plots.plot_rank_frequency, terms.rank_frequency),
    "preprocessing_waterfall": (plots.plot_preprocessing_waterfall, lambda tc: tc.waterfall),
}


def _title(ax) -> str:
    """The title wherever it is placed (the figure style puts it on the left)."""
    return " ".join(ax.get_title(loc=loc) for loc in ("left", "center", "right")).strip()


def _tick_texts(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


@pytest.mark.parametrize("name", list(PLOTS))
def test_plot_returns_axes_with_title_and_labels(seed_tc, name):
    function, make = PLOTS[name]
    ax = function(make(seed_tc))
    assert isinstance(ax, Axes)
    assert _title(ax)
    assert ax.get_xlabel().strip()
    # the y axis says what it shows: a label, or category names on its ticks
    assert ax.get_ylabel().strip() or _tick_texts(ax.yaxis)
    assert ax.has_data()
    plt.close(ax.figure)


@pytest.mark.parametrize("name", list(PLOTS))
def test_plot_draws_on_the_given_axes(seed_tc, name):
    function, make = PLOTS[name]
    fig, given = plt.subplots()
    before = plt.get_fignums()
    ax = function(make(seed_tc), ax=given)
    assert ax is given
    assert ax.figure is fig
    assert plt.get_fignums() == before  # no new figure was opened
    plt.close(fig)


@pytest.mark.parametrize("name", list(PLOTS))
def test_plot_opens_one_new_figure_without_axes(seed_tc, name):
    function, make = PLOTS[name]
    before = set(plt.get_fignums())
    ax = function(make(seed_tc))
    assert len(set(plt.get_fignums()) - before) == 1
    assert isinstance(ax.figure, Figure)
    width, _ = ax.figure.get_size_inches()
    assert width == pytest.approx(plots.SINGLE_COLUMN_IN)
    plt.close(ax.figure)


@pytest.mark.parametrize("name", ["top_terms", "distinctive_terms", "term_heatmap", "document_structure", "rank_frequency"])
def test_plot_handles_empty_data(seed_tc, name):
    function, make = PLOTS[name]
    empty = make(seed_tc).iloc[0:0]
    ax = function(empty)
    assert isinstance(ax, Axes)
    plt.close(ax.figure)


def test_top_terms_content(seed_tc):
    data = terms.term_frequencies(seed_tc, "corpus")
    ax = plots.plot_top_terms(data, n=10)
    assert _tick_texts(ax.yaxis) == data.head(10)["term"].tolist()
    assert _title(ax) == "Top 10 terms in the corpus"
    widths = sorted((p.get_width() for p in ax.patches), reverse=True)
    assert widths[0] == pytest.approx(data["per_1000_tokens"].iloc[0])
    assert f"{int(data['tokens'].iloc[0]):,}" in ax.get_xlabel()
    ax_count = plots.plot_top_terms(data, n=5, value="count")
    assert sorted((p.get_width() for p in ax_count.patches), reverse=True)[0] == data["count"].iloc[0]
    assert "count" in ax_count.get_xlabel()


def test_empty_messages(seed_tc, seed_corpus, tmp_path):
    ax = plots.plot_top_terms(terms.term_frequencies(seed_tc).iloc[0:0])
    assert any("no terms" in t.get_text() for t in ax.texts)
    # a corpus of one document: every term occurs in every document, nothing is distinctive
    one = tmp_path / "one"
    one.mkdir()
    (one / "doc.txt").write_bytes((seed_corpus / "000_2b6ec66f88ad0ee6.txt").read_bytes())
    table = terms.tfidf(terms.analyze(Settings(corpus=one, phrases=False)))
    assert len(table) > 0 and (table["tfidf"] == 0).all()
    ax = plots.plot_distinctive_terms(table)
    assert any("no distinctive terms" in t.get_text() for t in ax.texts)


def test_heatmap_cells_print_counts(seed_tc):
    data = terms.term_frequencies(seed_tc, "document")
    ax = plots.plot_term_heatmap(data, n=5)
    assert len(_tick_texts(ax.yaxis)) == 5
    assert len(ax.texts) == 5 * 5
    kratom = data[data["term"] == "kratom"].sort_values("doc_id")["count"].astype(str).tolist()
    assert [t.get_text() for t in ax.texts][:5] == kratom  # first row is the top corpus term


def test_document_structure_marks_the_outline(seed_tc):
    ax = plots.plot_document_structure(terms.block_overview(seed_tc))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "outline (not counted)" in labels
    assert len(_tick_texts(ax.yaxis)) == 5
    assert len(ax.patches) == len(seed_tc.blocks)


def test_rank_frequency_lines(seed_tc):
    ax = plots.plot_rank_frequency(terms.rank_frequency(seed_tc))
    labels = [line.get_label() for line in ax.get_lines()]
    assert "corpus" in labels and any("Zipf" in label for label in labels)
    assert sum(label.startswith("document") for label in labels) == 5
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    ax = plots.plot_rank_frequency(terms.rank_frequency(seed_tc), max_documents=2)
    assert not any(line.get_label().startswith("document") for line in ax.get_lines())


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["000_2b6e", "001_6c88"], {"000_2b6e": "000\u2026", "001_6c88": "001\u2026"}),
        (["abcd1", "abcd2"], {"abcd1": "abcd1", "abcd2": "abcd2"}),
        (["ab", "xyz"], {"ab": "ab", "xyz": "xyz"}),
        (["interviews/a", "interviews/b"], {"interviews/a": "interviews/a", "interviews/b": "interviews/b"}),
    ],
)
def test_short_labels_are_unique_prefixes(ids, expected):
    labels = plots.short_labels(ids)
    assert labels == expected
    assert len(set(labels.values())) == len(ids)


# -- the registry ------------------------------------------------------------------

def test_registry_names_and_descriptions():
    assert figure_names() == [
        "document-structure", "preprocessing-waterfall", "top-terms", "distinctive-terms",
        "term-document-heatmap", "rank-frequency",
    ]
    for name, spec in REGISTRY.items():
        assert spec.name == name
        assert spec.description.strip() and "\n" not in spec.description


def test_get_spec_unknown_name():
    with pytest.raises(AnalysisError, match="unknown figure 'nope'") as info:
        get_spec("nope")
    assert "top-terms" in str(info.value)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_make_figure(seed_tc, name):
    settings = Settings(top_n=7)
    fig, data = make_figure(name, seed_tc, settings)
    assert isinstance(fig, Figure)
    assert len(data) > 0
    assert _title(fig.axes[0])
    if name == "top-terms":
        assert len(data) == 7 and data["rank"].tolist() == list(range(1, 8))
    if name == "term-document-heatmap":
        assert data["term"].nunique() == 7
    if name == "distinctive-terms":
        assert data["rank"].max() <= 6
    plt.close(fig)
