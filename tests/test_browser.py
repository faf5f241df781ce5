"""The interactive pages in a real browser: Debian's Chromium driven by Playwright, offline.

Playwright cannot download its own browsers here, so it is pointed at the system Chromium
(``executable_path``); the tests skip, saying why, when either is missing (the ``test`` extra installs
Playwright, ``.ci/run`` installs Debian's ``chromium``).
Every request that leaves the file system is refused, so a page that needs the network fails.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from analysis import topics
from analysis.pages.ldavis import ldavis_html

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


def open_offline(browser, path: Path):
    """The page at ``path``, with the network refused; returns the page, its console errors, the
    dialogs it opened and the requests it tried."""
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
    page.wait_for_selector("#ldavis svg")
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
    page.screenshot(path=str(tmp_path / "topics.png"), full_page=True)


def test_hostile_terms_stay_text_in_the_topics_page(browser, tmp_path):
    path = tmp_path / "topics.html"
    path.write_text(ldavis_html(_hostile_model(), title="<b>kratom & pain</b>"), encoding="utf-8")
    page, errors, dialogs, requests = open_offline(browser, path)
    assert dialogs == [] and requests == []  # no alert ran, no image tried to load
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    shown = page.inner_text("#ldavis")
    for term in ("</script><script>alert(1)</script>", "<img src=x onerror=alert(2)>", "plain"):
        assert term in HOSTILE and term in shown
    assert page.inner_text("h1") == "<b>kratom & pain</b>"
