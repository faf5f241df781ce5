"""The JupyterLab views (analysis.explore): setting a control changes the view's table or text."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from analysis import explore, topics
from analysis.concordance import kwic
from analysis.config import Settings
from analysis.results import Results


@pytest.fixture(scope="module")
def grouped(seed_corpus, tmp_path_factory):
    """The seed corpus at K=3 grouped by a metadata column, with the claims lens on."""
    folder = tmp_path_factory.mktemp("grouped")
    ids = sorted(p.stem for p in seed_corpus.glob("*.txt"))
    metadata = folder / "metadata.csv"
    metadata.write_text("doc_id,site\n" + "".join(f"{d},{'a' if i < 3 else 'b'}\n" for i, d in enumerate(ids)),
                        encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = Results(Settings(corpus=seed_corpus, metadata=metadata, group_by="site", k=3, seeds=1, passes=10,
                                   iterations=100, lenses=("health-claims",), out=folder / "figures",
                                   topic_labels=folder / "topic-labels.csv"))
        results.topics  # noqa: B018 - fit inside the warning filter
    return results


def test_concordance_follows_its_controls(grouped):
    view = explore.kwic_browser(grouped)
    assert view.count.value == "" and view.table.empty
    view.query.value = "kratom"
    expected = kwic(grouped.prepared, "kratom", grouped.preprocessor, window=grouped.settings.window)
    assert len(view.table) == len(expected) and view.count.value.startswith(f"<b>{len(expected):,} matches")
    pd.testing.assert_frame_equal(view.table.drop(columns="group"), expected)
    view.sort.value = "left"
    assert view.table["left"].tolist() == kwic(grouped.prepared, "kratom", grouped.preprocessor,
                                               window=grouped.settings.window, sort="left")["left"].tolist()
    view.window.value = 2
    assert view.table["left"].str.split().str.len().max() <= 2
    view.role.value = "heading"
    assert set(view.table["role"]) == {"heading"} and len(view.table) == (expected["role"] == "heading").sum()
    view.role.value = explore.ALL
    view.group.value = "b"
    assert set(view.table["group"]) == {"b"} and 0 < len(view.table) < len(expected)
    view.group.value = explore.ALL
    view.document.value = expected["doc_id"].iat[0]
    assert set(view.table["doc_id"]) == {expected["doc_id"].iat[0]}
    view.query.value = "!!!"
    assert view.table.empty and "has no words to match" in view.count.value


def test_concordance_exports_every_line(grouped, tmp_path):
    view = explore.kwic_browser(grouped)
    view.query.value = "pain"
    view.export_path.value = str(tmp_path / "pain.csv")
    view.save()
    written = pd.read_csv(tmp_path / "pain.csv", keep_default_na=False)
    assert len(written) == len(view.table) > explore.SHOWN_LINES // 10 and "wrote" in view.count.value
    assert "<script" not in view.lines.value


def test_topic_browser_shows_terms_passages_prevalence_and_saves_labels(grouped):
    view = explore.topic_browser(grouped)
    model = grouped.topics.model
    lam = grouped.settings.relevance_lambda
    assert view.relevance.value == lam and view.topic.value == 1
    expected = topics.topic_terms(model, 15, lam, by="relevance")
    assert view.terms["term"].tolist() == expected.loc[expected["topic"] == 1, "term"].tolist()
    view.relevance.value = 1.0
    by_weight = topics.topic_terms(model, 15, 1.0, by="relevance")
    assert view.terms["term"].tolist() == by_weight.loc[by_weight["topic"] == 1, "term"].tolist()
    view.topic.value = 2
    passages = grouped.evidence[0]
    assert view.passages["excerpt"].tolist() == passages.loc[passages["topic"] == 2, "excerpt"].tolist()
    assert set(view.prevalence["group"]) == {"a", "b"}
    view.label.value = "My <label>"
    view.save()
    assert topics.read_labels(grouped.settings.topic_labels, model) == {2: "My <label>"}
    assert view.topic.options[1] == ("2: My <label>", 2)
    assert "Saved to" in view.status.value
    view.label.value = ""
    view.save()
    assert topics.read_labels(grouped.settings.topic_labels, model) == {}


def test_document_reader_highlights_terms_and_claims(grouped, seed_ids):
    view = explore.document_reader(grouped)
    assert view.document.value == seed_ids[0] and view.marks == 0
    blocks = grouped.prepared.blocks
    assert view.html.count("<p class=\"block\"") == (blocks["doc_id"] == seed_ids[0]).sum()
    view.highlight.value = "kratom"
    expected = kwic(grouped.prepared, "kratom", grouped.preprocessor)
    assert view.marks == view.html.count("<mark>") == (expected["doc_id"] == seed_ids[0]).sum()
    view.highlight.value = ""
    view.category.value = "risk"
    claims = grouped.claims
    risks = claims[(claims["doc_id"] == seed_ids[0]) & (claims["category"] == "risk")]
    assert view.marks == len(risks) > 0
    marked = [m.split("</mark>")[0] for m in view.html.split("<mark>")[1:]]
    assert sorted(marked) == sorted(risks["matched"].tolist())
    view.document.value = "no such document"
    assert view.marks == 0 and "No document" in view.view.value
    assert "Topic" in explore.document_reader(grouped).html  # the mixture line
