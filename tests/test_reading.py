"""Close reading: keyness against wordfreq, term positions, and their figures."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import wordfreq
from matplotlib.axes import Axes

from analysis import concordance, plots
from analysis.config import Settings
from analysis.corpus import Document
from analysis.figures import READING_FIGURES, make_figure
from analysis.keyness import REFERENCE_COLUMNS, reference_keyness
from analysis.prepared import prepare_documents
from analysis.results import Results
from analysis.terms import count_terms
from analysis.tokens import Preprocessor


@pytest.fixture(scope="module")
def reading_results(seed_corpus):
    return Results(Settings(corpus=seed_corpus, focus_terms=("kratom", "withdrawal", "side effects")))


@pytest.fixture(scope="module")
def seed_reference(reading_results):
    return reading_results.reference_keyness


def test_reference_keyness_by_hand(seed_reference, seed_tc):
    assert list(seed_reference.columns) == REFERENCE_COLUMNS
    assert seed_reference["log_likelihood"].is_monotonic_decreasing
    row = seed_reference.set_index("term").loc["relief"]
    tokens = seed_tc.blocks.loc[seed_tc.blocks["included"], "n_tokens"].sum()
    p = wordfreq.get_frequency_dict("en", wordlist="large")["relief"]
    a, expected = 41, tokens * p
    assert row["count"] == a and row["reference"] == "listed"
    assert row["log_likelihood"] == pytest.approx(2 * (a * math.log(a / expected) - (a - expected)))
    assert row["log_ratio"] == pytest.approx(math.log2((a / tokens) / p))
    assert row["reference_per_1000"] == pytest.approx(1000 * p)
    assert row["direction"] == "positive" and row["significant"]


def test_reference_keyness_seed_findings(seed_reference):
    table = seed_reference.set_index("term")
    top = seed_reference.head(3)["term"].tolist()
    assert top[0] == "kratom" and "pain" in top
    # multiword terms are split back into words; the phrase itself is not compared
    assert "chronic pain" not in table.index and table.loc["chronic", "count"] >= 52
    assert table.loc["7-hydroxymitragynine", "reference"] == "unlisted"
    assert table.loc["anti-inflammatory", "reference"] == "estimated from parts"
    # general words the articles never use are negative keywords, tested at a count of 0
    assert table.loc["people", "count"] == 0 and table.loc["people", "direction"] == "negative"
    negative = seed_reference[seed_reference["direction"] == "negative"]
    assert (negative["log_ratio"] < 0).all() and len(negative) >= 10


def test_reference_keyness_leaves_out_function_words(seed_tc):
    every = reference_keyness(seed_tc)
    content = reference_keyness(seed_tc, is_function_word=lambda w: w in {"people", "new"})
    assert {"people", "new"} <= set(every["term"]) and not {"people", "new"} & set(content["term"])


def test_reference_keyness_unlisted_word_uses_half_the_smallest_frequency():
    settings = Settings(phrases=False)
    docs = [Document("d", "zzqxv zzqxv zzqxv pain pain pain relief.", "d")]
    tc = count_terms(prepare_documents(docs), Preprocessor(settings))
    table = reference_keyness(tc).set_index("term")
    floor = min(wordfreq.get_frequency_dict("en", wordlist="large").values()) / 2
    assert table.loc["zzqxv", "reference"] == "unlisted"
    assert table.loc["zzqxv", "reference_per_1000"] == pytest.approx(1000 * floor)


def test_reference_keyness_unknown_language(seed_tc):
    from analysis.errors import AnalysisError

    with pytest.raises(AnalysisError, match="setting 'language' 'xx': wordfreq has no 'best' word list"):
        reference_keyness(seed_tc, language="xx")


def test_term_positions_and_dispersion_agree():
    docs = [Document("a", "pain relief and pain.\n\nMore pain.", "a"), Document("b", "no such word here", "b")]
    pre = Preprocessor(Settings(phrases=False))
    positions = concordance.term_positions(prepare_documents(docs), ["pain", "relief", "absent"], pre)
    pain = positions[positions["term"] == "pain"]
    assert pain.loc[pain["doc_id"] == "a", "position"].tolist() == [0, 3, 5]
    assert pain.loc[pain["doc_id"] == "a", "doc_tokens"].iloc[0] == 6
    assert pain.loc[pain["doc_id"] == "a", "relative_position"].tolist() == pytest.approx([0, 0.5, 5 / 6])
    # every document is listed for every term, with no position where the term is absent
    assert positions.groupby("term")["doc_id"].nunique().tolist() == [2, 2, 2]
    assert positions.loc[positions["doc_id"] == "b", "position"].isna().all()
    measures = concordance.dispersion_measures(positions).set_index("term")
    assert measures.loc["pain", "count"] == 3 and measures.loc["pain", "documents"] == 1
    share = np.array([6, 4]) / 10
    assert measures.loc["pain", "dp"] == pytest.approx(0.5 * (abs(1 - share[0]) + abs(0 - share[1])))
    assert math.isnan(measures.loc["absent", "dp"]) and measures.loc["absent", "count"] == 0


def test_focus_terms_default_to_the_most_distinctive(seed_corpus, seed_tc):
    """Not the most frequent words: the strongest keywords against general English used by two
    documents or more (a term of one document is an accident)."""
    from analysis import terms

    results = Results(Settings(corpus=seed_corpus))
    keywords = results.reference_keyness
    keywords = keywords[(keywords["direction"] == "positive") & keywords["significant"]]
    spread = terms.document_frequency(seed_tc).set_index("term")["doc_count"]
    expected = [t for t in keywords["term"] if spread.get(t, 0) >= 2][:6]
    assert results.focus_terms == expected and len(expected) == 6
    assert "kratom" in expected
    assert expected != terms.term_frequencies(seed_tc, "corpus").nsmallest(6, "rank")["term"].tolist()


@pytest.mark.parametrize("name", READING_FIGURES)
def test_make_reading_figure(reading_results, name):
    fig, data = make_figure(name, reading_results)
    assert len(data) > 0 and fig.axes[0].get_title(loc="left")  # make_figure applies the style: titles on the left
    if name == "collocates":
        assert data["node"].unique().tolist() == ["kratom", "withdrawal", "side effects"]
        top = data[data["node"] == "withdrawal"].iloc[0]
        assert top["collocate"] == "symptom" and top["count"] == 15
    if name == "dispersion":
        assert set(data["term"]) == {"kratom", "withdrawal", "side effects"}
        assert {"dp", "juilland_d"} <= set(data.columns)
    plt.close(fig)
    assert "topics" not in reading_results.__dict__


def _reading_tables(results):
    return {
        plots.plot_collocates: results.collocates,
        plots.plot_keyness: results.keyness,
        plots.plot_reference_keyness: results.reference_keyness,
        plots.plot_dispersion: results.dispersion,
    }


def test_reading_plots_draw_on_the_given_axes_and_handle_empty_data(reading_results):
    for plot, data in _reading_tables(reading_results).items():
        fig, ax = plt.subplots()
        assert plot(data, ax=ax) is ax and len(fig.axes) >= 1
        empty = plot(data.iloc[0:0])
        assert isinstance(empty, Axes) and empty.texts
        plt.close("all")


def test_keyness_plot_signs_and_fades_bars(reading_results):
    two = reading_results.keyness[reading_results.keyness["doc_id"].isin(reading_results.documents_shown(2))]
    ax = plots.plot_keyness(two, n_positive=2, n_negative=1, n_documents=5)
    widths = [p.get_width() for p in ax.patches if p.get_height() == pytest.approx(0.7)]
    assert len(widths) == 6 and sum(w < 0 for w in widths) == 2
    assert "2 of 5 documents: the longest" in ax.get_title() + ax.get_title(loc="left")
    alphas = {round(p.get_facecolor()[3], 2) for p in ax.patches if p.get_height() == pytest.approx(0.7)}
    assert alphas == {1.0, plots.NOT_SIGNIFICANT_ALPHA}


def test_keyness_of_a_large_corpus_is_computed_for_the_documents_shown(tmp_path):
    """Beyond 30 documents, keyness is computed for the 30 most typical and drawn for the five most typical
    (the cost grows with the documents tested, not with the corpus squared)."""
    import json

    rng = np.random.default_rng(0)
    path = tmp_path / "many.jsonl"
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    with path.open("w", encoding="utf-8") as out:
        for i in range(60):
            text = " ".join(rng.choice(words, size=20 + i)) + "."
            out.write(json.dumps({"id": f"d{i:02d}", "text": text}) + "\n")
    results = Results(Settings(corpus=path, out=tmp_path / "out", phrases=False))
    assert sorted(results.keyness["doc_id"].unique()) == results.documents_shown(30)
    fig, data = make_figure("keyness", results)
    assert sorted(data["doc_id"].unique()) == results.documents_shown(5)
    assert set(results.documents_shown(5)) < set(results.documents_shown(30))
    assert "5 of 60 documents: the most typical" in fig.axes[0].get_title(loc="left")
    assert fig.get_size_inches()[1] <= 9.0
    plt.close(fig)


def test_dispersion_plot_ticks_every_occurrence(reading_results):
    data = reading_results.dispersion
    ax = plots.plot_dispersion(data)
    ticks = sum(len(c.get_segments()) for c in ax.collections)
    assert ticks == data["position"].notna().sum()
    assert len(ax.get_yticks()) == 3 * 5
