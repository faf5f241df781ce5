"""Quantities in claims: doses, durations and frequencies with their units."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.claims.tagger import counted_sentences
from analysis.corpus import Document
from analysis.tokens import EXCLUDED_ROLES_DEFAULT

QUANTITY_COLUMNS = ["doc_id", "block", "block_role", "section", "sentence_index", "sentence", "text", "low", "high",
                    "unit", "kind", "char_start"]
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_TIMES_WORDS = {"once": 1, "twice": 2, "thrice": 3}
_UNITS = {  # spelling -> (unit, kind)
    **{s: ("gram", "dose") for s in ("g", "gram", "grams", "gm", "gms")},
    **{s: ("milligram", "dose") for s in ("mg", "milligram", "milligrams")},
    **{s: ("microgram", "dose") for s in ("mcg", "\u00b5g", "\u03bcg", "microgram", "micrograms")},
    **{s: ("kilogram", "dose") for s in ("kg", "kilogram", "kilograms")},
    **{s: ("milliliter", "dose") for s in ("ml", "milliliter", "milliliters", "millilitre", "millilitres")},
    **{s: ("teaspoon", "dose") for s in ("tsp", "teaspoon", "teaspoons")},
    **{s: ("tablespoon", "dose") for s in ("tbsp", "tablespoon", "tablespoons")},
    **{s: ("capsule", "dose") for s in ("capsule", "capsules")},
    **{s: ("tablet", "dose") for s in ("tablet", "tablets")},
    **{s: ("second", "duration") for s in ("second", "seconds", "sec", "secs")},
    **{s: ("minute", "duration") for s in ("minute", "minutes", "min", "mins")},
    **{s: ("hour", "duration") for s in ("hour", "hours", "hr", "hrs", "h")},
    **{s: ("day", "duration") for s in ("day", "days")},
    **{s: ("week", "duration") for s in ("week", "weeks", "wk", "wks")},
    **{s: ("month", "duration") for s in ("month", "months")},
    **{s: ("year", "duration") for s in ("year", "years", "yr", "yrs")},
    **{s: ("percent", "percentage") for s in ("%", "percent", "per cent")},
}
_PERIODS = {"day": "day", "daily": "day", "week": "week", "weekly": "week", "month": "month", "monthly": "month"}
_NUM = r"(?:\d+(?:\.\d+)?|(?:" + "|".join(_NUMBER_WORDS) + r")\b)"  # "eight h", never "eighth"
_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_OPEN_LOW = ("up to", "at most", "less than", "no more than", "under")
_OPEN_HIGH = ("more than", "over", "at least", "longer than", "greater than")
_AMOUNT = re.compile(
    rf"(?<![\w.\-])(?:(?P<qualifier>{'|'.join(_OPEN_LOW + _OPEN_HIGH + ('between',))})\s+)?"
    rf"(?P<low>{_NUM})(?:\s*(?:-|\u2013|to|and|or)\s*(?P<high>{_NUM}))?"
    rf"\s*(?P<unit>{_UNIT})(?![\w])",
    re.IGNORECASE,
)
_FREQUENCY = re.compile(
    rf"(?<![\w\-])(?:(?P<times>once|twice|thrice)|(?P<low>{_NUM})(?:\s*(?:-|\u2013|to|or)\s*(?P<high>{_NUM}))?\s+times)"
    r"\s+(?:(?:a|per|each|every)\s+)?(?P<period>day|daily|week|weekly|month|monthly)\b",
    re.IGNORECASE,
)
_INTERVAL = re.compile(
    rf"(?<![\w\-])every\s+(?P<low>{_NUM})(?:\s*(?:-|\u2013|to|or)\s*(?P<high>{_NUM}))?"
    r"\s*(?P<unit>hours?|hrs?|days?|weeks?)\b",
    re.IGNORECASE,
)


def _number(text: str | None) -> float:
    if text is None:
        return np.nan
    text = text.lower()
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text)


def _sentence_quantities(sentence: str) -> list[list]:
    """``text, low, high, unit, kind, char_start`` of every quantity in a sentence."""
    found = []
    for match in _AMOUNT.finditer(sentence):
        low, high = _number(match["low"]), _number(match["high"] or match["low"])
        qualifier = (match["qualifier"] or "").lower()
        if match["high"] is None and qualifier in _OPEN_LOW:
            low = np.nan
        elif match["high"] is None and qualifier in _OPEN_HIGH:
            high = np.nan
        unit, kind = _UNITS[match["unit"].lower()]
        found.append([match.group(0), low, high, unit, kind, match.start()])
    for match in _FREQUENCY.finditer(sentence):
        low = _TIMES_WORDS[match["times"].lower()] if match["times"] else _number(match["low"])
        high = low if match["times"] else _number(match["high"] or match["low"])
        found.append([match.group(0), float(low), float(high), f"per {_PERIODS[match['period'].lower()]}",
                      "frequency", match.start()])
    for match in _INTERVAL.finditer(sentence):
        unit = _UNITS[match["unit"].lower()][0]
        found.append([match.group(0), _number(match["low"]), _number(match["high"] or match["low"]), unit,
                      "interval", match.start()])
    # Where matches overlap ("every 4 to 6 hours" holds "4 to 6 hours") the longest is kept.
    kept: list[list] = []
    for row in sorted(found, key=lambda r: (-len(r[0]), r[-1])):
        if all(row[-1] + len(row[0]) <= k[-1] or k[-1] + len(k[0]) <= row[-1] for k in kept):
            kept.append(row)
    return sorted(kept, key=lambda row: row[-1])


def quantities(corpus: Iterable[Document], *, excluded_roles: Iterable[str] = EXCLUDED_ROLES_DEFAULT) -> pd.DataFrame:
    """Doses, durations, frequencies and percentages mentioned in the counted sentences.

    Numbers are digits (``1.5``) or number words (one to twenty); a range is
    written with ``-``, ``–``, ``to``, ``or`` or ``between ... and``. A single
    value after "up to", "at most", "less than", "under" has no lower bound,
    one after "more than", "over", "at least", "longer than" no upper bound
    (NaN); a qualified range keeps both bounds.

    Parameters
    ----------
    corpus : iterable of Document
    excluded_roles : iterable of str, default ("outline",)

    Returns
    -------
    DataFrame
        ``doc_id, block, block_role, section, sentence_index, sentence, text,
        low, high, unit, kind, char_start``. ``unit`` is singular (``gram``,
        ``month``, ``percent``, ``per day``); ``kind`` is ``dose`` (mass,
        volume, capsules), ``duration``, ``frequency`` ("twice daily",
        "3 times a week"), ``interval`` ("every 4 to 6 hours") or ``percentage``.

    Examples
    --------
    >>> doc = Document("a", "Start with 2 to 5 grams, up to 15 g, for three to six months; twice daily.", "a")
    >>> quantities([doc])[["text", "low", "high", "unit", "kind"]].values.tolist()
    [['2 to 5 grams', 2.0, 5.0, 'gram', 'dose'], ['up to 15 g', nan, 15.0, 'gram', 'dose'], \
['three to six months', 3.0, 6.0, 'month', 'duration'], ['twice daily', 2.0, 2.0, 'per day', 'frequency']]
    """
    rows = [
        [doc.doc_id, block.index, block.role, block.section, index, sentence, *row]
        for doc, block, index, sentence in counted_sentences(corpus, excluded_roles)
        for row in _sentence_quantities(sentence)
    ]
    return pd.DataFrame(rows, columns=QUANTITY_COLUMNS).astype(
        {"block": int, "sentence_index": int, "low": float, "high": float, "char_start": int})


