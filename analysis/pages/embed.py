"""Putting data and assets into a self-contained page without letting corpus text become markup or code."""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_safe_json(data) -> str:
    """JSON text that can sit inside ``<script>`` without ending it (the escaping of Django's
    ``json_script``).

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


def json_block(element_id: str, data) -> str:
    """A ``<script type="application/json">`` element holding ``data``, read by the page with
    ``JSON.parse(document.getElementById(element_id).textContent)``."""
    return f'<script type="application/json" id="{element_id}">{script_safe_json(data)}</script>'


def inline(text: str) -> str:
    """Script or style text that cannot close its own element early."""
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def asset(name: str) -> str:
    """One of the package's page assets (``analysis/pages/assets``), ready to inline."""
    return inline((files("analysis.pages") / "assets" / name).read_text(encoding="utf-8"))
