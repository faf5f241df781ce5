"""An interactive pyLDAvis page that works offline and cannot be hijacked by corpus text.

pyLDAvis's own HTML loads d3 and LDAvis from CDNs and pastes its data JSON
into a ``<script>`` block unescaped, so a corpus term such as
``</script><script>alert(1)</script>`` ends the block and runs as code. This
module builds the page itself: the JavaScript and CSS that ship inside the
pyLDAvis wheel are inlined, and the data goes in as escaped JSON
(:mod:`analysis.pages.embed`), so every term reaches the page as text.

Three things differ from pyLDAvis's page: the relevance slider opens at the
``relevance_lambda`` the figures rank by (not 1); the map leaves room for
its largest circle (LDAvis pads the map by 5 % of its range, so large
topics covered the title, the legend and the term labels); and a panel
under the view shows each topic's label, as in every figure and table, and
its top passages.
"""

from __future__ import annotations

import html
from importlib.resources import files

import pandas as pd

from analysis.pages.embed import asset as inline_asset
from analysis.pages.embed import inline, json_block, script_safe_json
from analysis.topics import TopicModel, intertopic_coordinates, topic_labels

_ASSETS = ("d3.v5.min.js", "ldavis.v3.0.0.js", "ldavis.v1.0.0.css")
# LDAvis 3.0.0 pads the map by a fixed 5 % of the coordinates' range; the pad becomes the share that keeps
# the largest circle (radius sqrt(Freq/100 * 530^2 * 0.25 / pi) pixels on the 530-pixel map) inside it.
_FIXED_PAD = "xpad = 0.05;", "ypad = 0.05;"
_CIRCLE_PAD = ("(function() { var r = Math.sqrt(d3.max(mdsData, function(d) { return d.Freq; }) / 100 * 530 * 530 "
               "* 0.25 / Math.PI) + 20; return r / Math.max(530 - 2 * r, 1); })();")


def ldavis_data(model: TopicModel, *, n_terms: int = 30) -> dict:
    """pyLDAvis's prepared data for ``model``, topics in canonical order (1..K).

    ``sort_topics=False`` keeps pyLDAvis from renumbering, so topic ``n`` on
    the page is topic ``n`` in every table and figure, and the map uses the
    coordinates of the static ``intertopic-map`` figure.
    """
    import pyLDAvis

    lengths = model.units["n_vocab_terms"].to_numpy()
    keep = lengths > 0
    prepared = pyLDAvis.prepare(
        topic_term_dists=model.topic_term, doc_topic_dists=model.unit_topic[keep], doc_lengths=lengths[keep],
        vocab=model.vocabulary, term_frequency=model.term_counts, R=n_terms,
        lambda_step=0.01, sort_topics=False, start_index=1, n_jobs=1, mds=intertopic_coordinates,
    )
    return prepared.to_dict()


def _ldavis_asset(name: str) -> str:
    text = (files("pyLDAvis") / "js" / name).read_text(encoding="utf-8")
    if name.startswith("ldavis.") and name.endswith(".js"):
        for fixed in _FIXED_PAD:
            if text.count(fixed) != 1:  # pyLDAvis is pinned; a new version must be checked by hand
                raise RuntimeError(f"pyLDAvis's {name} no longer pads its map with {fixed!r}")
        text = text.replace(_FIXED_PAD[0], "xpad = " + _CIRCLE_PAD).replace(_FIXED_PAD[1], "ypad = " + _CIRCLE_PAD)
    return inline(text)


def topic_notes(model: TopicModel, passages: pd.DataFrame | None) -> dict:
    """Each topic's label, prevalence and top passages (``passages``: the table of
    :func:`analysis.topics.topic_evidence`), as the page's panel reads them."""
    labels = topic_labels(model)
    by_topic = {} if passages is None else {t: rows for t, rows in passages.groupby("topic")}
    return {"topics": [
        {"topic": t, "label": labels[t], "prevalence": float(model.prevalence[t - 1]),
         "passages": [{"doc_id": str(r.doc_id), "role": str(r.role), "weight": float(r.weight), "excerpt": str(r.excerpt)}
                      for r in by_topic[t].sort_values("rank").itertuples()] if t in by_topic else []}
        for t in model.topic_ids
    ]}


def ldavis_html(model: TopicModel, *, passages: pd.DataFrame | None = None, title: str | None = None,
                n_terms: int = 30) -> str:
    """A self-contained HTML page with the pyLDAvis view of ``model``, its labels and passages.

    Parameters
    ----------
    model : TopicModel
    passages : DataFrame, optional
        The topics' top passages (:func:`analysis.topics.topic_evidence`),
        shown under the view for the selected topic.
    title : str, optional
        Page heading (default: the model's subtitle); HTML-escaped.
    n_terms : int, default 30
        Terms listed per topic.

    Returns
    -------
    str
        The page: no external resources, data escaped for ``<script>``.
    """
    data = ldavis_data(model, n_terms=n_terms)
    d3, ldavis, css = (_ldavis_asset(name) for name in _ASSETS)
    heading = html.escape(title or model.subtitle().replace("\n", " "))
    lam = model.settings.get("relevance_lambda", 0.6)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Topics: {heading}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
#topic-panel {{ max-width: 75em; margin-top: 1em; border-top: 1px solid #ccc; }}
#topic-panel h2 {{ font-size: 1.05em; }}
#topic-panel .where {{ color: #555; font-size: 0.85em; }}
#topic-panel blockquote {{ margin: 0.2em 0 0.8em 0; }}
{css}
</style>
</head>
<body>
<h1 style="font-size: 1.1em">{heading}</h1>
<p style="font-size: 0.9em">Topic numbers are the canonical ids used in every table and figure
(1 = most prevalent). The tables and figures rank terms at &#955; = {lam:g}, where the slider starts.</p>
<div id="ldavis"></div>
<div id="topic-panel"></div>
{json_block("topic-notes", topic_notes(model, passages))}
<script>{d3}</script>
<script>{ldavis}</script>
<script>{inline_asset("topic-notes.js")}</script>
<script>
// LDAvis reads its starting state from the address: open at the lambda the figures rank terms by.
if (!location.hash) history.replaceState(null, "", "#topic=0&lambda={lam:g}&term=");
var ldavis_data = {script_safe_json(data)};
new LDAvis("#ldavis", ldavis_data);
</script>
</body>
</html>
"""
