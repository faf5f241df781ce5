"""Alt text: every figure gets a description generated from its data, in the manifest and in each file."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt
from PIL import Image

from analysis import figures
from analysis.alt_text import DESCRIBE, alt_text
from analysis.export import figure_bytes, render_figures

SVG = "{http://www.w3.org/2000/svg}"


def test_every_registered_figure_has_a_description():
    assert set(DESCRIBE) == set(figures.REGISTRY)


def test_descriptions_quote_the_data_they_describe(seed_results):
    texts = {name: alt_text(name, figures.get_spec(name).data(seed_results), seed_results)
             for name in figures.figures_for(seed_results.settings)}
    top = figures.get_spec("top-terms").data(seed_results)
    best = top.nsmallest(1, "rank").iloc[0]
    assert f"{best['term']} ({best['per_1000_tokens']:.1f})" in texts["top-terms"]
    for label in figures.get_spec("topic-terms").data(seed_results)["label"].unique():
        assert label in texts["topic-terms"]
    assert f"the chosen K is {seed_results.settings.k}" in texts["k-selection"]
    assert "5 documents" in texts["document-structure"]
    for name, text in texts.items():
        assert 60 < len(text) < 700 and "\n" not in text and "nan" not in text.lower().split(), name


def test_the_description_is_in_the_svg_png_pdf_and_manifest(seed_results):
    files = render_figures(["top-terms"], seed_results)
    manifest = json.loads(files["manifest.json"])
    description = manifest["figures"]["top-terms"]["alt_text"]
    assert description.startswith("Bar chart of the 20 most frequent terms")
    root = ET.fromstring(files["top-terms.svg"])
    assert root.find(f"{SVG}desc").text == description
    assert root.find(f"{SVG}title").text == figures.get_spec("top-terms").description
    assert Image.open(io.BytesIO(files["top-terms.png"])).text["Description"] == description
    assert b"/Subject" in files["top-terms.pdf"]


def test_corpus_text_in_a_description_is_escaped_in_the_svg():
    fig, _ = plt.subplots()
    hostile = 'term </desc><script>alert(1)</script> & "quoted"'
    svg = figure_bytes(fig, "svg", 72, title="<b>title</b>", description=hostile)
    root = ET.fromstring(svg)  # still well-formed XML
    assert root.find(f"{SVG}desc").text == hostile and root.find(f"{SVG}script") is None
    plt.close(fig)

