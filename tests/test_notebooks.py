"""The notebooks as documents: a parameters cell, and they run on another corpus through it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

DESK_WORDS = {"sport": ["goal", "match", "striker"], "politics": ["vote", "minister", "ballot"],
              "tech": ["software", "chip", "server"]}
NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _parameters_cell(notebook) -> int:
    return next(i for i, cell in enumerate(notebook.cells)
                if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_a_parameters_cell_before_any_analysis(path):
    notebook = nbformat.read(path, as_version=4)
    at = _parameters_cell(notebook)
    source = notebook.cells[at].source
    assert all(f"{name} = " in source for name in ("corpus", "out", "k", "group_by"))
    earlier = [cell.source for cell in notebook.cells[:at] if cell.cell_type == "code"]
    assert all("Results(" not in code and "load_settings(" not in code for code in earlier)


def _grouped_corpus(path: Path) -> Path:
    """48 short news items in three desks over four years, each desk with its own words."""
    rng = np.random.default_rng(7)
    shared = "report week people time place year group number member plan work point case area".split()
    with path.open("w", encoding="utf-8") as out:
        for i in range(48):
            desk = list(DESK_WORDS)[i % 3]
            words = [rng.choice(DESK_WORDS[desk]) if rng.random() < 0.15 else rng.choice(shared) for _ in range(120)]
            text = " ".join(" ".join(words[k:k + 12]).capitalize() + "." for k in range(0, 120, 12))
            out.write(json.dumps({"id": f"item{i:02d}", "text": text, "desk": desk, "year": str(2001 + i % 4)}) + "\n")
    return path


def test_the_group_notebook_runs_on_another_corpus_through_its_parameters(tmp_path):
    """As papermill does: a cell after the parameters cell sets them; the notebook runs to the end on a corpus
    that shares nothing with the shipped one, and its tables are that corpus's."""
    path = NOTEBOOKS[[p.name for p in NOTEBOOKS].index("05-compare-groups.ipynb")]
    notebook = nbformat.read(path, as_version=4)
    corpus = _grouped_corpus(tmp_path / "news.jsonl")
    values = {"corpus": str(corpus), "out": str(tmp_path / "out"), "k": 3, "group_by": "desk", "over": "year"}
    injected = nbformat.v4.new_code_cell("\n".join(f"{name} = {value!r}" for name, value in values.items()))
    notebook.cells.insert(_parameters_cell(notebook) + 1, injected)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.outputs if output.output_type == "stream")
    assert "grouped by desk: 3 groups" in printed and "periods of year: 2001, 2002, 2003, 2004" in printed
    assert "kratom" not in printed
    assert all(any(f"{desk}: {word}" in printed for word in words) for desk, words in DESK_WORDS.items())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_prose_quotes_no_numbers_or_findings_of_the_shipped_corpus(path, seed_ids):
    """Counts and findings are printed by code cells; Markdown explains (the first cell may name the worked
    example). Thousands-separated counts, the seed's document ids and its subject word are the signs."""
    notebook = nbformat.read(path, as_version=4)
    prose = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"][1:]
    short_ids = {doc_id.split("_")[0] for doc_id in seed_ids}
    for text in prose:
        assert "kratom" not in text.lower(), text
        assert not set(re.findall(r"(?<![\d,.])(\d{3})(?![\d,])", text)) & short_ids, text
        assert set(re.findall(r"\b\d{1,3}(?:,\d{3})+\b", text)) <= {"1,000"}, text
