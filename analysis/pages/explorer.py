"""``explorer.html``: topics, passages, a concordance and a document reader in one offline page.

For readers without Jupyter. The page holds the topic map and terms (at a
relevance slider), each topic's label and top passages and its prevalence
by group, and, when the corpus is small enough, the text of every block:
the concordance and the reader work on it in the browser.

The concordance matches as :func:`analysis.concordance.kwic` does: the
page tokenises each block with the package's word pattern and
normalisation (the quote map and format characters come from
:mod:`analysis.tokens`, not a copy), matches lemmas through the corpus's
own form -> lemma table, and leaves out the blocks the counts leave out.
Each block carries its token count from the prepared corpus, and the page
says so if its tokeniser ever disagrees. A query word that never occurs in
the corpus is matched as written (the page has no lemmatiser).

The text is embedded only up to :data:`MAX_PAGE_CHARACTERS` characters; above
that the page holds the topics and passages and says why the concordance
and the reader are missing.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from analysis import topics
from analysis.pages import MAX_PAGE_CHARACTERS
from analysis.pages.embed import asset, json_block
from analysis.pages.ldavis import topic_notes
from analysis.pipeline import form_lemmas
from analysis.structure import FORMAT_CHARACTERS
from analysis.tokens import QUOTES

LAMBDA_STEP = 0.05
"""The relevance slider's step: the terms shipped are each topic's top terms at every step."""
N_TERMS = 30


def _topics(results, n_terms: int) -> tuple[list[dict], dict]:
    """Each topic's label, place on the map, passages and candidate terms: every term in its top
    ``n_terms`` by relevance at some step of the slider (so the page's list is exact at every step),
    with the columns of :func:`analysis.topics.topic_terms` the page ranks and draws them by."""
    model = results.topics.model
    grid = np.round(np.arange(0, 1 + LAMBDA_STEP / 2, LAMBDA_STEP), 10)
    candidates = pd.concat([topics.topic_terms(model, n_terms, float(lam), by="relevance") for lam in grid])
    candidates = candidates.drop_duplicates(["topic", "term"]).sort_values(["topic", "term"])
    vocabulary = sorted(candidates["term"].unique().tolist())
    position = {term: i for i, term in enumerate(vocabulary)}
    counts = candidates.drop_duplicates("term").set_index("term")["term_count"]
    notes = {t["topic"]: t for t in topic_notes(model, results.evidence[0])["topics"]}
    automatic = topics.automatic_labels(model)
    where = topics.intertopic_map(model).set_index("topic")
    rows = []
    for t, terms in candidates.groupby("topic"):
        rows.append({
            **notes[t], "automatic": automatic[t], "x": float(where.at[t, "x"]), "y": float(where.at[t, "y"]),
            "terms": [[position[r.term], float(r.weight), float(r.lift), float(r.topic_count)]
                      for r in terms.itertuples()],
        })
    return rows, {"terms": vocabulary, "counts": [float(counts[t]) for t in vocabulary]}


def _group_prevalence(results) -> dict | None:
    if results.group_column is None:
        return None
    table = results.group_topic_prevalence
    return {"column": results.group_column, "rows": [
        [str(r.group), int(r.topic), float(r.prevalence), float(r.low), float(r.high), int(r.documents)]
        for r in table.itertuples()]}


def _documents(results) -> tuple[dict, list]:
    """The corpus's size, and its documents with their blocks' text when it fits the limit."""
    prepared = results.prepared
    blocks = prepared.blocks
    n_characters = int(blocks["n_chars"].sum())
    size = {"n_documents": prepared.n_documents, "n_characters": n_characters, "limit": MAX_PAGE_CHARACTERS,
            "included": n_characters <= MAX_PAGE_CHARACTERS}
    if not size["included"]:
        return size, []
    grouping = results.grouping if results.group_column is not None else None
    group_of = grouping.of_document if grouping is not None else None
    mixtures = topics.doc_mixtures(results.topics.model)
    counted = prepared.block_mask(results.preprocessor.excluded_roles)
    roles = sorted(blocks["role"].unique().tolist())
    role_index = {role: i for i, role in enumerate(roles)}
    size["roles"] = roles
    size["groups"] = grouping.names if grouping is not None else []
    size["group_column"] = results.group_column
    documents = []
    texts = prepared.texts(range(prepared.n_documents))
    starts, ends, tokens = (blocks[c].to_numpy() for c in ("start", "end", "n_raw_tokens"))
    block_roles = blocks["role"].to_numpy()
    for doc, doc_id in enumerate(prepared.doc_ids):
        first, stop = int(prepared.document_offsets[doc]), int(prepared.document_offsets[doc + 1])
        text = texts[doc]
        mixture = mixtures.loc[doc_id].to_numpy() if doc_id in mixtures.index else None
        documents.append([
            doc_id, -1 if group_of is None else int(group_of[doc]), int(tokens[first:stop].sum()),
            None if mixture is None or np.isnan(mixture).any() else [round(float(m), 4) for m in mixture],
            [[role_index[block_roles[b]], int(counted[b]), int(tokens[b]), text[int(starts[b]):int(ends[b])]]
             for b in range(first, stop)],
        ])
    return size, documents


def explorer_data(results, *, n_terms: int = N_TERMS) -> dict:
    """Everything ``explorer.html`` shows, as JSON-ready data (see the module docstring).

    Parameters
    ----------
    results : Results
    n_terms : int, default 30
        Terms listed per topic.

    Returns
    -------
    dict
    """
    model = results.topics.model
    topic_rows, vocabulary = _topics(results, n_terms)
    size, documents = _documents(results)
    lemmas = {}
    if size["included"]:  # kwic matches lemmas unless told not to
        forms = results.prepared.forms
        lemmas = {f: name for f, name in zip(forms, form_lemmas(results.prepared, results.preprocessor)) if name != f}
    return {
        "title": f"{results.settings.corpus.name}: {size['n_documents']:,} documents",
        "subtitle": model.subtitle().replace("\n", " "),
        "lambda": results.settings.relevance_lambda, "lambda_step": LAMBDA_STEP, "n_terms": n_terms,
        "window": results.settings.window,
        "topics": topic_rows, "vocabulary": vocabulary, "groups": _group_prevalence(results),
        "corpus": size, "documents": documents, "lemmas": lemmas,
        "tokens": {"quotes": {chr(k): v for k, v in sorted(QUOTES.items())}, "format": FORMAT_CHARACTERS},
    }


def explorer_html(results, *, n_terms: int = N_TERMS) -> str:
    """The self-contained ``explorer.html`` page of ``results`` (errors of the corpus and the topic fit are
    those of ``topics``)."""
    data = explorer_data(results, n_terms=n_terms)
    title = html.escape(data["title"])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Explorer: {title}</title>
<style>{asset("explorer.css")}</style>
</head>
<body>
<header><h1>{title}</h1><p id="subtitle"></p>
<nav><button data-tab="topics" class="active">Topics</button><button data-tab="concordance">Concordance</button>
<button data-tab="documents">Documents</button></nav></header>
<main>
<section id="topics" class="tab active"></section>
<section id="concordance" class="tab"></section>
<section id="documents" class="tab"></section>
</main>
{json_block("explorer-data", data)}
<script>{asset("explorer.js")}</script>
</body>
</html>
"""
