"""Plot functions (analysis.plots) and the figure registry (analysis.figures)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import plots, terms
from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.figures import (CLAIM_FIGURES, READING_FIGURES, REGISTRY, REUSE_FIGURES, TOPIC_FIGURES, figure_names,
                              get_spec, make_figure)
from analysis.results import Results, analyze

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
    table = terms.tfidf(analyze(Settings(corpus=one, phrases=False)))
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
        # Ids that differ only at the end, past 16 characters: their endings (the full ids are in the CSVs),
        # with the folder when the ending is a bare number.
        (["train/comp.os.ms-windows.misc/9542", "train/comp.os.ms-windows.misc/9976"],
         {"train/comp.os.ms-windows.misc/9542": "\u2026/comp.os.ms-windows.misc/9542",
          "train/comp.os.ms-windows.misc/9976": "\u2026/comp.os.ms-windows.misc/9976"}),
        (["reports/2021/annual-summary-v1", "reports/2021/annual-summary-v2"],
         {"reports/2021/annual-summary-v1": "\u2026/annual-summary-v1",
          "reports/2021/annual-summary-v2": "\u2026/annual-summary-v2"}),
    ],
)
def test_short_labels_are_unique_prefixes(ids, expected):
    labels = plots.short_labels(ids)
    assert labels == expected
    assert len(set(labels.values())) == len(ids)


# -- the registry ------------------------------------------------------------------

TERM_FIGURES = [
    "document-structure", "preprocessing-waterfall", "top-terms", "distinctive-terms",
    "term-document-heatmap", "rank-frequency",
]


def test_registry_names_and_descriptions():
    assert figure_names(lenses=["health-claims"]) == [*TERM_FIGURES, *READING_FIGURES, *REUSE_FIGURES, *CLAIM_FIGURES,
                                                      *TOPIC_FIGURES]
    assert not set(CLAIM_FIGURES) & set(figure_names())  # the lens is opt-in
    assert TOPIC_FIGURES == (
        "topic-terms", "topic-heatmap", "topic-prevalence", "intertopic-map", "topic-stability", "topic-convergence",
        "k-selection",
    )
    for name, spec in REGISTRY.items():
        assert spec.name == name
        assert spec.description.strip() and "\n" not in spec.description


def test_get_spec_unknown_name():
    with pytest.raises(AnalysisError, match="unknown figure 'nope'") as info:
        get_spec("nope")
    assert "top-terms" in str(info.value) and "k-selection" in str(info.value)


@pytest.fixture(scope="module")
def top7_results(seed_corpus):
    """Results with top_n = 7 (only the term figures are drawn from it: no topic fits)."""
    return Results(Settings(corpus=seed_corpus, top_n=7))


@pytest.mark.parametrize("name", TERM_FIGURES)
def test_make_figure(top7_results, name):
    fig, data = make_figure(name, top7_results)
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
    assert "topics" not in top7_results.__dict__  # term figures never fit a topic model


@pytest.mark.parametrize("name", TOPIC_FIGURES)
def test_make_topic_figure(seed_results, name):
    fig, data = make_figure(name, seed_results)
    assert isinstance(fig, Figure)
    assert len(data) > 0
    assert _title(fig.axes[0])
    model = seed_results.topics.model
    if name != "k-selection":
        # every topic figure names the fit in its subtitle: unit, K and seed
        texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
        assert f"K={model.k}" in texts and f"seed {model.seed}" in texts and "paragraphs" in texts
    if name in ("topic-terms", "topic-heatmap", "topic-prevalence", "intertopic-map", "topic-stability"):
        assert sorted(data["topic"].unique()) == model.topic_ids
    if name == "topic-terms":
        assert data.groupby("topic")["rank"].max().eq(10).all()
        prevalence = data.drop_duplicates("topic").set_index("topic")["prevalence"]
        assert prevalence.tolist() == pytest.approx(model.prevalence.tolist())
    if name == "topic-heatmap":
        # 41 paragraphs x K topics, rows in reading order
        assert len(data) == len(model.units) * model.k
        assert data.groupby("row")["weight"].sum().to_numpy() == pytest.approx(1.0)
    if name == "topic-prevalence":
        assert set(data["group_by"]) == {"document", "role"}
        assert data.groupby(["group_by", "group"])["weight"].sum().to_numpy() == pytest.approx(1.0)
    if name == "topic-stability":
        assert len(data) == model.k * (seed_results.settings.seeds - 1)
    if name == "topic-convergence":
        iterations = seed_results.settings.iterations
        assert list(data.columns) == ["seed", "sweep", "log_likelihood", "reported", "stopped"]
        assert data.groupby("seed")["sweep"].max().eq(iterations).all()
        assert len(data) == seed_results.settings.seeds * -(-iterations // 10)
        assert set(data.loc[data["reported"], "seed"]) == {model.seed}
        starts = seed_results.settings.starts
        assert data["stopped"].str.fullmatch(
            rf"the iterations setting \({iterations} sweeps\); start [1-{starts}] of {starts}, the most likely after "
            rf"{seed_results.settings.start_sweeps} sweeps \(-[0-9.]+ per word; others .+\)").all()
        texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
        assert "stopped by the iterations setting" in texts
    if name == "k-selection":
        assert list(data.columns) == ["k", "seed", "metric", "value"]
        assert len(fig.axes) == data["metric"].nunique() == 6
    plt.close(fig)


def test_k_selection_draw_returns_axes_array(seed_results):
    spec = get_spec("k-selection")
    drawn = spec.draw(spec.data(seed_results), seed_results)
    assert isinstance(drawn, np.ndarray) and len(drawn) == 6
    assert all(isinstance(ax, Axes) for ax in drawn)
    assert len({ax.figure for ax in drawn}) == 1
    # the configured K is marked in every panel
    k = seed_results.settings.k
    for ax in drawn:
        assert any(list(line.get_xdata()) == [k, k] for line in ax.get_lines())
    plt.close(drawn[0].figure)


# -- topic plot functions ------------------------------------------------------------

def _topic_plot_data(results):
    """Each topic plot function with the data the registry gives it."""
    return {
        plots.plot_topic_terms: get_spec("topic-terms").data(results),
        plots.plot_topic_heatmap: get_spec("topic-heatmap").data(results),
        plots.plot_topic_prevalence: get_spec("topic-prevalence").data(results),
        plots.plot_intertopic_map: get_spec("intertopic-map").data(results),
        plots.plot_topic_stability: get_spec("topic-stability").data(results),
        plots.plot_topic_convergence: get_spec("topic-convergence").data(results),
    }


def test_topic_plots_draw_on_the_given_axes_and_handle_empty_data(seed_results):
    for function, data in _topic_plot_data(seed_results).items():
        fig, given = plt.subplots()
        before = plt.get_fignums()
        ax = function(data, ax=given)
        assert ax is given and plt.get_fignums() == before, function.__name__
        assert _title(ax), function.__name__
        plt.close(fig)
        empty = function(data.iloc[0:0])
        assert isinstance(empty, Axes), function.__name__
        assert empty.texts, function.__name__  # says why it is empty
        plt.close(empty.figure)


def test_topic_colors_are_consistent_and_distinct():
    assert plots.topic_colors(6) == plots.topic_colors(8)[:6]
    assert len(set(plots.topic_colors(8))) == 8
    many = plots.topic_colors(20)
    assert len(many) == 20 and len({tuple(c) for c in many}) == 20


def test_the_intertopic_map_keeps_an_outlying_topic_in_view():
    """Five topics close together and one far off (as on 20 Newsgroups): the map is centred on the
    extremes, so every circle centre lies inside the axes with room for its circle."""
    data = pd.DataFrame({"topic": range(1, 7), "label": list("abcdef"),
                         "x": [-0.1, -0.15, -0.18, -0.18, -0.1, 0.8], "y": [0.43, 0.16, -0.15, -0.28, -0.14, -0.02],
                         "prevalence": [0.24, 0.22, 0.2, 0.19, 0.12, 0.04]})
    ax = plots.plot_intertopic_map(data)
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    margin = 0.1 * (right - left)
    assert (data["x"].between(left + margin, right - margin)).all()
    assert (data["y"].between(bottom + margin, top - margin)).all()


def test_the_waterfall_of_millions_of_tokens_has_no_offset_over_its_label():
    data = pd.DataFrame({"step": ["tokenized", "stopwords removed"], "order": [0, 1], "tokens": [5_810_953, 2_880_378],
                         "types": [189_988, 185_233], "tokens_removed": [0, 2_930_575], "top_affected": ["", "the (9)"]})
    ax = plots.plot_preprocessing_waterfall(data)
    ax.figure.canvas.draw()
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert any(label.get_text().endswith("M") for label in ax.get_xticklabels())
