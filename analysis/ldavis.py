"""An interactive pyLDAvis page that works offline and cannot be hijacked by corpus text.

pyLDAvis's own HTML loads d3 and LDAvis from CDNs and pastes its data JSON
into a ``<script>`` block unescaped, so a corpus term such as
``</script><script>alert(1)</script>`` ends the block and runs as code. This
module builds the page itself: the JavaScript and CSS that ship inside the
pyLDAvis wheel are inlined, and the data JSON escapes ``<``, ``>``, ``&``
and the JavaScript line separators (the same escaping Django's
``json_script`` uses), so every term reaches the page as text.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files

import numpy as np

from analysis.topics import TopicModel, intertopic_coordinates

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}
_ASSETS = ("d3.v5.min.js", "ldavis.v3.0.0.js", "ldavis.v1.0.0.css")


def script_safe_json(data) -> str:
    """JSON text that can sit inside ``<script>`` without ending it.

    >>> script_safe_json({"term": "</script>"})
    '{"term": "\\\\u003c/script\\\\u003e"}'
    """
    return json.dumps(data, sort_keys=True, default=_plain).translate(_JSON_ESCAPES)


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


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


def _asset(name: str) -> str:
    text = (files("pyLDAvis") / "js" / name).read_text(encoding="utf-8")
    # Inlined code must not contain a closing tag either.
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def ldavis_html(model: TopicModel, *, title: str | None = None, n_terms: int = 30) -> str:
    """A self-contained HTML page with the pyLDAvis view of ``model``.

    Parameters
    ----------
    model : TopicModel
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
    d3, ldavis, css = (_asset(name) for name in _ASSETS)
    heading = html.escape(title or model.subtitle().replace("\n", " "))
    lam = model.settings.get("relevance_lambda", 0.6)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Topics: {heading}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
{css}
</style>
</head>
<body>
<h1 style="font-size: 1.1em">{heading}</h1>
<p style="font-size: 0.9em">Topic numbers are the canonical ids used in every table and figure
(1 = most prevalent). The tables and figures rank terms at &#955; = {lam:g}, where the slider starts.</p>
<div id="ldavis"></div>
<script>{d3}</script>
<script>{ldavis}</script>
<script>
// LDAvis reads its starting state from the address: open at the lambda the figures rank terms by.
if (!location.hash) history.replaceState(null, "", "#topic=0&lambda={lam:g}&term=");
var ldavis_data = {script_safe_json(data)};
new LDAvis("#ldavis", ldavis_data);
</script>
</body>
</html>
"""
