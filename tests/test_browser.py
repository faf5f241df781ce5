"""The interactive pages in a real browser: Debian's Chromium driven by Playwright, offline.

Playwright cannot download its own browsers here, so it is pointed at the system Chromium
(``executable_path``); the tests skip, saying why, when either is missing (the ``test`` extra installs
Playwright, ``.ci/run`` installs Debian's ``chromium``).
Every request that leaves the file system is refused, so a page that needs the network fails.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

import pandas as pd

from analysis import topics
from analysis.concordance import kwic
from analysis.config import Settings
from analysis.pages.explorer import explorer_html
from analysis.pages.ldavis import ldavis_html
from analysis.results import Results

sys.path.insert(0, str(Path(__file__).parent))
from test_topics import HOSTILE, _hostile_model  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian package chromium)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def screenshot(page, name: str, tmp_path: Path) -> Path:
    """A full-page screenshot, in ``$CORPUS_ANALYSIS_SCREENSHOTS`` when set (to look at them; the README's
    come from there), else in the test's temporary folder."""
    folder = Path(os.environ.get("CORPUS_ANALYSIS_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)
    return folder / name


def open_offline(browser, path: Path, ready: str = "#ldavis svg"):
    """The page at ``path``, with the network refused, once ``ready`` is shown; returns the page, its
    console errors, the dialogs it opened and the requests it tried."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors, dialogs, requests = [], [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def refuse(route):
        requests.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse)
    page.goto(path.as_uri())
    page.wait_for_selector(ready)
    return page, errors, dialogs, requests


def _box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const b = e.getBoundingClientRect(); "
                                           "return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; }")


def test_topics_page_works_offline_and_opens_at_the_relevance_lambda(browser, seed_k4, tmp_path):
    model = seed_k4.topics.model
    passages = seed_k4.evidence[0]
    path = tmp_path / "topics.html"
    path.write_text(ldavis_html(model, passages=passages), encoding="utf-8")
    page, errors, dialogs, requests = open_offline(browser, path)
    assert errors == [] and dialogs == [] and requests == []
    lam = model.settings["relevance_lambda"]
    assert float(page.input_value("#ldavis-lambda")) == pytest.approx(lam)  # the figures' ranking
    # every topic circle inside the map: clear of the title, the legend and the bar chart's term labels
    frame = _box(page, "#ldavis svg rect")
    terms_left = page.eval_on_selector_all("#ldavis svg text.terms",
                                           "t => Math.min(...t.map(e => e.getBoundingClientRect().left))")
    for topic in model.topic_ids:
        circle = _box(page, f"#ldavis-topic{topic}")
        assert frame["left"] - 1 <= circle["left"] and circle["right"] <= frame["right"] + 1, topic
        assert frame["top"] - 1 <= circle["top"] and circle["bottom"] <= frame["bottom"] + 1, topic
        assert circle["right"] < terms_left, topic
    # the panel lists the labels; clicking a circle shows that topic's label and passages
    labels = topics.topic_labels(model)
    assert all(label in page.inner_text("#topic-panel") for label in labels.values())
    page.click("#ldavis-topic2")
    shown = page.inner_text("#topic-panel")
    assert shown.startswith(f"Topic 2: {labels[2]}")
    expected = passages.loc[passages["topic"] == 2].sort_values("rank")
    assert page.eval_on_selector_all("#topic-panel blockquote", "q => q.map(e => e.textContent)") == \
        expected["excerpt"].tolist()
    screenshot(page, "topics.png", tmp_path)


def test_hostile_terms_stay_text_in_the_topics_page(browser, tmp_path):
    path = tmp_path / "topics.html"
    passages = pd.DataFrame({"topic": [1], "rank": [1], "doc_id": ["<b>d0</b>"], "role": ["body"], "weight": [0.9],
                             "excerpt": ["<img src=y onerror=alert(3)> and </script><script>alert(4)</script>"]})
    path.write_text(ldavis_html(_hostile_model(), passages=passages, title="<b>kratom & pain</b>"), encoding="utf-8")
    page, errors, dialogs, requests = open_offline(browser, path)
    page.click("#ldavis-topic1")
    assert page.inner_text("#topic-panel blockquote") == passages["excerpt"].iat[0]
    assert "<b>d0</b>" in page.inner_text("#topic-panel")
    assert dialogs == [] and requests == []  # no alert ran, no image tried to load
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    shown = page.inner_text("#ldavis")
    for term in ("</script><script>alert(1)</script>", "<img src=x onerror=alert(2)>", "plain"):
        assert term in HOSTILE and term in shown
    assert page.inner_text("h1") == "<b>kratom & pain</b>"


# ---- explorer.html ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def explorer(seed_k4, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("explorer") / "explorer.html"
    path.write_text(explorer_html(seed_k4), encoding="utf-8")
    return path


def _kwic_rows(page) -> list[list[str]]:
    return page.eval_on_selector_all("#kwic-lines tr", "rows => rows.slice(1).map(r => "
                                                       "Array.from(r.cells).map(c => c.textContent))")


def test_explorer_topics_tab_shows_labels_terms_and_passages(browser, explorer, seed_k4, tmp_path):
    page, errors, dialogs, requests = open_offline(browser, explorer, "#topic-terms tr")
    assert errors == [] and dialogs == [] and requests == []
    model = seed_k4.topics.model
    labels = topics.topic_labels(model)
    assert page.inner_text(".labels").splitlines()[0].startswith(labels[1])
    assert float(page.input_value("#lambda")) == pytest.approx(model.settings["relevance_lambda"])
    terms = page.eval_on_selector_all("#topic-terms td.term", "t => t.map(e => e.textContent)")
    expected = topics.topic_terms(model, 30, model.settings["relevance_lambda"], by="relevance")
    assert terms == expected.loc[expected["topic"] == 1, "term"].tolist()
    page.fill("#lambda", "1")  # the slider at 1 ranks by probability in the topic
    terms = page.eval_on_selector_all("#topic-terms td.term", "t => t.map(e => e.textContent)")
    by_weight = topics.topic_terms(model, 30, 1.0, by="relevance")
    assert terms == by_weight.loc[by_weight["topic"] == 1, "term"].tolist()
    page.click("#topic-circle-2")
    assert page.inner_text("#topic-detail h2") == f"Topic 2: {labels[2]}"
    passages = seed_k4.evidence[0]
    assert page.eval_on_selector_all("#topic-passages blockquote", "q => q.map(e => e.textContent)") == \
        passages.loc[passages["topic"] == 2].sort_values("rank")["excerpt"].tolist()
    screenshot(page, "explorer-topics.png", tmp_path)


@pytest.mark.parametrize("query, sort", [("kratom", "doc"), ("chronic pain", "left"), ("reduce", "right")])
def test_explorer_concordance_is_the_kwic_command(browser, explorer, seed_k4, query, sort, tmp_path):
    page, errors, _, _ = open_offline(browser, explorer, "#topic-terms tr")
    page.click("nav button[data-tab=concordance]")
    page.select_option("#kwic-sort", sort)
    page.fill("#kwic-query", query)
    expected = kwic(seed_k4.prepared, query, seed_k4.preprocessor, window=seed_k4.settings.window, sort=sort)
    assert len(expected) > 0
    assert page.inner_text("#kwic-count").startswith(f"{len(expected):,} matches in {expected['doc_id'].nunique()} "
                                                     "documents")
    assert _kwic_rows(page) == expected[["doc_id", "role", "left", "match", "right"]].astype(str).values.tolist()
    with page.expect_download() as download:
        page.click("#kwic-export")
    exported = pd.read_csv(download.value.path(), keep_default_na=False)
    pd.testing.assert_frame_equal(exported, expected, check_dtype=False)
    assert errors == []
    screenshot(page, f"explorer-concordance-{sort}.png", tmp_path)


def test_explorer_filters_and_reader(browser, explorer, seed_k4, seed_ids, tmp_path):
    page, errors, _, _ = open_offline(browser, explorer, "#topic-terms tr")
    expected = kwic(seed_k4.prepared, "kratom", seed_k4.preprocessor, window=seed_k4.settings.window)
    page.click("nav button[data-tab=concordance]")
    page.fill("#kwic-query", "kratom")
    page.select_option("#kwic-role", "heading")
    headings = expected[expected["role"] == "heading"]
    assert page.inner_text("#kwic-count").startswith(f"{len(headings):,} matches")
    page.select_option("#kwic-role", "")
    page.fill("#kwic-document", seed_ids[1])
    assert page.inner_text("#kwic-count").startswith(f"{(expected['doc_id'] == seed_ids[1]).sum():,} matches")
    page.click("nav button[data-tab=documents]")
    page.click("#document-list tbody tr:nth-child(2)")
    assert page.inner_text("#reader h2") == seed_ids[1]
    page.fill("#document-highlight", "kratom")
    assert page.eval_on_selector_all("#reader mark", "m => m.length") == (expected["doc_id"] == seed_ids[1]).sum()
    blocks = seed_k4.prepared.blocks
    assert page.eval_on_selector_all("#reader .block", "b => b.length") == (blocks["doc_id"] == seed_ids[1]).sum()
    assert errors == []
    screenshot(page, "explorer-reader.png", tmp_path)


def test_hostile_corpus_text_stays_text_in_the_explorer(browser, seed_corpus, tmp_path):
    import shutil
    import warnings

    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    payloads = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<!--", "\u2028"]
    (corpus / "zz_hostile.txt").write_text("Hostile text\n\n" + " kratom ".join(payloads) + " kratom end.\n",
                                            encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = Results(Settings(corpus=corpus, k=3, seeds=1, passes=10, iterations=50, out=tmp_path / "out"))
        page_html = explorer_html(results)
    path = tmp_path / "explorer.html"
    path.write_text(page_html, encoding="utf-8")
    page, errors, dialogs, requests = open_offline(browser, path, "#topic-terms tr")
    assert errors == [] and dialogs == [] and requests == []
    page.click("nav button[data-tab=concordance]")
    page.fill("#kwic-query", "onerror")
    rows = _kwic_rows(page)
    assert len(rows) == 1 and rows[0][2].endswith("<img src=x") and rows[0][4].startswith("=alert(2)>")
    page.click("nav button[data-tab=documents]")
    page.fill("#document-filter", "zz_hostile")
    page.click("#document-list tbody tr:nth-child(1)")
    page.fill("#document-highlight", "script")
    text = page.inner_text("#reader")
    assert all(p.strip() in text for p in payloads[:3])
    assert page.evaluate("document.querySelectorAll('img').length") == 0 and dialogs == []
    assert page.eval_on_selector_all("#reader mark", "m => m.map(e => e.textContent)") == ["script"] * 3  # </script><script>...</script>


def test_a_corpus_above_the_limit_gets_topics_and_a_message(browser, seed_k4, tmp_path, monkeypatch):
    import analysis.pages.explorer

    monkeypatch.setattr(analysis.pages.explorer, "MAX_PAGE_CHARACTERS", 1000)
    path = tmp_path / "explorer.html"
    path.write_text(explorer_html(seed_k4), encoding="utf-8")
    page, errors, _, _ = open_offline(browser, path, "#topic-terms tr")
    page.click("nav button[data-tab=concordance]")
    message = page.inner_text("#concordance .message")
    assert "above this page's limit of 1,000 characters" in message and "corpus-analysis kwic" in message
    assert page.query_selector("#kwic-query") is None and errors == []
