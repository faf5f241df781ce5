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

from analysis.ldavis import ldavis_html

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


def test_topics_page_works_offline_and_opens_at_the_relevance_lambda(browser, seed_k4, tmp_path):
    model = seed_k4.topics.model
    path = tmp_path / "topics.html"
    path.write_text(ldavis_html(model), encoding="utf-8")
    page, errors, dialogs, requests = open_offline(browser, path)
    assert errors == [] and dialogs == [] and requests == []
    lam = model.settings["relevance_lambda"]
    assert float(page.input_value("#ldavis-lambda")) == pytest.approx(lam)  # the figures' ranking
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
