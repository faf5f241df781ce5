"""explorer.html's data and command (the page itself is driven in a browser in test_browser.py)."""

from __future__ import annotations

import hashlib
import json
import re
import warnings

import numpy as np
import pytest

from analysis import topics
from analysis.cli import main
from analysis.pages import explorer
from analysis.pages.explorer import LAMBDA_STEP, explorer_data, explorer_html


@pytest.fixture(scope="module")
def data(seed_k4):
    return explorer_data(seed_k4)


def test_every_slider_step_has_its_top_terms_in_the_page(data, seed_k4):
    model = seed_k4.topics.model
    for lam in np.round(np.arange(0, 1 + LAMBDA_STEP / 2, LAMBDA_STEP), 10):
        top = topics.topic_terms(model, data["n_terms"], float(lam), by="relevance")
        for row in data["topics"]:
            shipped = {data["vocabulary"]["terms"][t[0]] for t in row["terms"]}
            assert set(top.loc[top["topic"] == row["topic"], "term"]) <= shipped, (lam, row["topic"])


def test_the_page_holds_every_block_with_its_token_count_and_the_lemmas(data, seed_k4):
    prepared = seed_k4.prepared
    assert data["corpus"]["included"] and data["corpus"]["n_documents"] == prepared.n_documents
    assert [d[0] for d in data["documents"]] == list(prepared.doc_ids)
    blocks = [b for d in data["documents"] for b in d[4]]
    assert len(blocks) == len(prepared.blocks)
    assert sum(b[2] for b in blocks) == len(prepared.form)  # the page checks its tokeniser against these
    roles = data["corpus"]["roles"]
    assert [roles[b[0]] for b in blocks] == prepared.blocks["role"].tolist()
    assert {roles[b[0]] for b in blocks if not b[1]} == {"outline"}  # left out of the counts, as by kwic
    assert all(data["lemmas"][form] != form for form in data["lemmas"]) and data["lemmas"].get("receptors") == "receptor"
    mixtures = [d[3] for d in data["documents"]]
    assert all(m is not None and sum(m) == pytest.approx(1, abs=1e-3) for m in mixtures)


def test_the_page_has_no_markup_from_the_corpus(seed_k4):
    page = explorer_html(seed_k4)
    assert page == explorer_html(seed_k4)  # reproducible
    assert page.lower().count("<script") == 2 and page.lower().count("</script") == 2  # the data, the code
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    block = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', page, re.DOTALL).group(1)
    assert "<" not in block and ">" not in block
    assert json.loads(block)["title"].startswith("corpus: 5 documents")


def test_a_corpus_above_the_limit_keeps_its_topics_only(seed_k4, monkeypatch):
    monkeypatch.setattr(explorer, "MAX_PAGE_CHARACTERS", 1000)
    data = explorer_data(seed_k4)
    assert not data["corpus"]["included"] and data["corpus"]["limit"] == 1000
    assert data["documents"] == [] and data["lemmas"] == {} and len(data["topics"]) == 4


def test_explore_command_writes_the_page_into_the_manifest(seed_corpus, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["explore", "--corpus", str(seed_corpus), "--out", str(out), "--k", "3", "--seeds", "1",
            "--passes", "5", "--iterations", "50"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
        assert "explorer.html" in capsys.readouterr().out
        page = (out / "explorer.html").read_bytes()
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["files"] == {"explorer.html": hashlib.sha256(page).hexdigest()}
        assert main(argv) == 0
    assert "unchanged" in capsys.readouterr().out and (out / "explorer.html").read_bytes() == page
