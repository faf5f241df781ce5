"""What each per-document figure shows at 5, 50 and 5,000 documents: every document while they fit a page,
then a stated selection, and never a figure taller than a page. Sizes are asserted, not pixels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from analysis.config import Settings
from analysis.figures import DOCUMENTS_SHOWN, MAX_KEYNESS_PANELS, RANK_FREQUENCY_CURVES, make_figure
from analysis.plots.base import MAX_HEIGHT_IN
from analysis.results import Results

WORDS = ("river bank water stone field market price trade road bridge light tower garden winter summer "
         "music story letter paper table window island forest mountain valley harbour").split()
DESKS = [f"desk-{g}" for g in range(8)]
PAGE_WIDTHS_IN = (3.5, 7.0)


def _corpus(path: Path, n: int) -> Path:
    """``n`` short documents of 40-120 words in eight desks, each desk leaning on three words of its own."""
    rng = np.random.default_rng(n)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            desk = i % len(DESKS)
            own = WORDS[3 * desk:3 * desk + 3]
            words = [rng.choice(own) if rng.random() < 0.2 else rng.choice(WORDS) for _ in range(rng.integers(40, 120))]
            text = " ".join(" ".join(words[k:k + 10]).capitalize() + "." for k in range(0, len(words), 10))
            out.write(json.dumps({"id": f"doc-{i:05d}", "text": text, "desk": DESKS[desk]}) + "\n")
    return path


@pytest.fixture(scope="module", params=[(5, None), (50, None), (5000, None), (5000, "desk")],
                ids=["5", "50", "5000", "5000-grouped"])
def sized(request, tmp_path_factory) -> tuple[int, Results]:
    n, group_by = request.param
    folder = tmp_path_factory.mktemp(f"n{n}")
    corpus = _corpus(folder / "corpus.jsonl", n)
    settings = Settings(corpus=corpus, out=folder / "out", phrases=False, k=3, seeds=1, iterations=30,
                        unit="document", no_above=1.0, group_by=group_by, focus_terms=("river", "market", "tower"))
    return n, Results(settings)


def _texts(fig) -> str:
    """Every piece of text drawn on ``fig`` (titles, subtitles, notes), one per line."""
    return "\n".join(text.get_text() for text in fig.findobj(Text))


FIGURES = {name: DOCUMENTS_SHOWN[name] for name in DOCUMENTS_SHOWN} | {"keyness": MAX_KEYNESS_PANELS}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_per_document_figures_show_what_fits_and_say_how_they_chose(sized, name):
    n, results = sized
    fig, data = make_figure(name, results)
    width, height = fig.get_size_inches()
    assert height <= MAX_HEIGHT_IN and width in PAGE_WIDTHS_IN
    cap = FIGURES[name]
    if name == "dispersion":  # the documents that use each term most, under each term
        assert data.groupby("term")["doc_id"].nunique().max() == min(n, cap)
    else:
        documents = data.loc[data["group_by"] == "document", "group"] if name == "topic-prevalence" else data["doc_id"]
        assert documents.nunique() == min(n, cap)
    chosen = ("those using each term most" if name == "dispersion" else
              "the most typical of each desk" if results.group_column else "the most typical")
    notes = re.findall(rf"(\d+) of {n:,} documents:\s{chosen}", _texts(fig))
    if n <= cap:
        assert not notes
    else:  # dispersion draws fewer than it holds when the focus terms are many: the note gives the number drawn
        assert len(set(notes)) == 1 and int(notes[0]) <= cap, notes
    plt.close(fig)


def test_rank_frequency_draws_documents_only_while_they_are_few(sized):
    n, results = sized
    fig, data = make_figure("rank-frequency", results)
    assert fig.get_size_inches()[1] <= MAX_HEIGHT_IN
    scopes = set(data["scope"])
    if n <= RANK_FREQUENCY_CURVES:
        assert scopes == {"corpus", "document"} and data["doc_id"].nunique() == n + 1
    elif results.group_column:
        assert scopes == {"corpus", "group"}
        assert data.loc[data["scope"] == "group", "group"].nunique() == RANK_FREQUENCY_CURVES
        assert "its 7 largest groups by desk" in _texts(fig)
        legend = fig.axes[0].get_legend()
        assert legend.get_title().get_text() == "desk" and "desk-0" in [t.get_text() for t in legend.get_texts()]
    else:
        assert scopes == {"corpus"} and f"the corpus alone ({n:,} documents)" in _texts(fig)
    lines = [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert len(lines) <= RANK_FREQUENCY_CURVES + 2  # the corpus and the Zipf reference besides
    plt.close(fig)


def test_dispersion_of_a_large_corpus_shows_the_documents_that_use_each_term_most(sized):
    """Under each term, the documents that use it most, and the term's count in the whole corpus."""
    n, results = sized
    fig, data = make_figure("dispersion", results)
    if n > DOCUMENTS_SHOWN["dispersion"]:
        every = results.dispersion.dropna(subset=["relative_position"])
        for term, rows in data.groupby("term"):
            all_uses = every[every["term"] == term].groupby("doc_id").size().sort_values(ascending=False)
            shown = rows.dropna(subset=["relative_position"]).groupby("doc_id").size()
            assert shown.min() >= all_uses.iloc[DOCUMENTS_SHOWN["dispersion"] - 1]
            assert (rows["term_count"] == all_uses.sum()).all()
            assert f"{term} ({all_uses.sum():,}, DP" in _texts(fig)
    plt.close(fig)


def test_long_document_labels_widen_the_figure_and_the_title_stays_on_the_page(tmp_path):
    """Ids such as 20 Newsgroups' ('…/comp.sys.ibm.pc.hardware/60220') take half a column: the figure
    becomes two columns wide and its title ends inside the figure."""
    rng = np.random.default_rng(1)
    path = tmp_path / "long-ids.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(40):
            words = rng.choice(WORDS, size=60)
            out.write(json.dumps({"id": f"train/comp.sys.ibm.pc.hardware.{i % 4}/{60000 + i}",
                                  "text": " ".join(words) + "."}) + "\n")
    results = Results(Settings(corpus=path, out=tmp_path / "out", phrases=False))
    fig, _ = make_figure("document-structure", results)
    assert fig.get_figwidth() == 7.0
    renderer = fig.canvas.get_renderer()
    assert all(text.get_window_extent(renderer).x1 <= fig.bbox.width + 1 for text in fig.findobj(Text)
               if text.get_text() and text.get_visible())
    plt.close(fig)


def test_the_role_legend_never_covers_the_structure_title(seed_corpus, tmp_path):
    """Seven roles (the articles' six and a plain document's "paragraph") make a third legend row; the title
    sat at a fixed 26 pt above the axes and the legend's third row covered it."""
    corpus = tmp_path / "mixed"
    corpus.mkdir()
    for path in sorted(seed_corpus.glob("*.txt")) + sorted(seed_corpus.glob("*.md")):
        (corpus / path.name).write_bytes(path.read_bytes())
    (corpus / "plain.txt").write_text("One plain paragraph about rivers and their banks.\n", encoding="utf-8")
    fig, _ = make_figure("document-structure", Results(Settings(corpus=corpus, out=tmp_path / "out", cache=False)))
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    title = ax.title.get_window_extent(renderer)
    assert len(ax.get_legend().get_texts()) == 7
    assert title.y0 >= legend.y1 - 1, (title, legend)
    plt.close(fig)


@pytest.mark.parametrize("k, columns, shown", [(6, 1, 6), (20, 2, 20), (60, 2, 24)])
def test_topic_terms_stay_within_a_page_at_any_k(k, columns, shown):
    """At K = 20 one column of topic panels was 13.7 in tall (20 Newsgroups); beyond ten topics they take
    two columns, and beyond 24 the most prevalent 24 are drawn and the title says so."""
    from analysis.plots import plot_topic_terms

    rows = [{"topic": t, "rank": r, "term": f"t{t}w{r}", "term_count": 100 - r, "topic_count": 50 - r,
             "prevalence": 1 / k} for t in range(1, k + 1) for r in range(1, 11)]
    drawn = plot_topic_terms(pd.DataFrame(rows))
    axes = np.ravel(drawn)
    fig = axes[0].figure
    width, height = fig.get_size_inches()
    assert height <= MAX_HEIGHT_IN and width == pytest.approx(PAGE_WIDTHS_IN[columns - 1])
    headers = [t.get_text() for ax in axes for t in ax.texts if t.get_text().startswith("T")]
    assert len(headers) == shown and headers[-1].startswith(f"T{shown} ")
    title = axes[0].get_title()
    assert (f"the {shown} most prevalent of {k} topics" in title) == (shown < k)
    plt.close(fig)


@pytest.mark.parametrize("k", [6, 20, 40])
def test_topic_stability_and_prevalence_stay_within_a_page(k):
    """topic-prevalence at K = 20 was 9.7 in tall (a one-column legend of 20 topics); topic-stability passed a
    page at K = 23."""
    from analysis.plots import plot_topic_prevalence, plot_topic_stability

    stability = pd.DataFrame([{"topic": t, "label": f"w{t} · x · y", "seed": s, "similarity": 0.5}
                              for t in range(1, k + 1) for s in (1, 2)])
    prevalence = pd.DataFrame([{"group_by": "document", "group": f"d{d}", "topic": t, "weight": 1 / k}
                               for d in range(30) for t in range(1, k + 1)])
    labels = pd.DataFrame({"topic": range(1, k + 1), "label": [f"w{t} · x · y" for t in range(1, k + 1)]})
    for ax in (plot_topic_stability(stability), plot_topic_prevalence(prevalence.merge(labels))):
        assert ax.figure.get_size_inches()[1] <= MAX_HEIGHT_IN
        ticks = [t.get_text() for t in ax.get_yticklabels()]
        assert len(ticks) in (k, 30)
        plt.close(ax.figure)
