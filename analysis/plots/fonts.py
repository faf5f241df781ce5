"""Fonts for text of any script: installed fallbacks, and one summary of the glyphs none of them has.

Matplotlib's default font (DejaVu Sans) covers the Latin, Greek, Cyrillic,
Hebrew and Arabic alphabets but no CJK ideographs and no emoji. Installed
fonts known to cover them are added as per-character fallbacks
(:data:`FALLBACK_FAMILIES`); what is still missing is drawn as a box, and
:func:`missing_glyphs` turns matplotlib's one warning per glyph into one set
that the figure run reports once and records in the manifest.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from functools import lru_cache

# Outline fonts (FreeType draws them) with wide coverage of scripts DejaVu Sans lacks, best first.
FALLBACK_FAMILIES = (
    "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR", "Source Han Sans",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "Noto Sans Devanagari",
    "Noto Sans Bengali", "Noto Sans Tamil", "Noto Sans Thai", "Noto Sans Ethiopic", "Noto Sans Symbols",
    "Noto Sans Symbols 2", "Noto Emoji", "Symbola", "Arial Unicode MS", "Microsoft YaHei", "Segoe UI Symbol",
)
_GLYPH_WARNING = re.compile(r"^Glyph (\d+) \(.*\) missing from font")


class GlyphWarning(UserWarning):
    """Characters of the corpus that no installed font can draw."""


@lru_cache(maxsize=1)
def font_family() -> list[str]:
    """The ``font.family`` of every figure: the default sans-serif, then the installed fallbacks."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    fallbacks = [family for family in FALLBACK_FAMILIES if family in installed]
    if fallbacks:
        logging.getLogger("matplotlib.font_manager").addFilter(_quiet_about_weights)
    return ["sans-serif", *fallbacks]


def _quiet_about_weights(record: logging.LogRecord) -> bool:
    """False for matplotlib's "Failed to find font weight bold for <fallback>": a fallback font draws the
    glyphs the main font lacks in its own weight, which is expected, not news."""
    message = record.getMessage()
    return not (message.startswith("findfont: Failed to find font weight")
                and any(family in message for family in FALLBACK_FAMILIES))


def missing_glyphs(caught: list[warnings.WarningMessage]) -> tuple[str, list[warnings.WarningMessage]]:
    """The characters of matplotlib's "Glyph ... missing from font(s)" warnings among ``caught`` (sorted,
    as one string), and the other warnings."""
    missing, others = set(), []
    for warning in caught:
        found = _GLYPH_WARNING.match(str(warning.message))
        if found:
            missing.add(chr(int(found.group(1))))
        else:
            others.append(warning)
    return "".join(sorted(missing)), others


def _script(character: str) -> str:
    """A coarse script name from the Unicode name: ``CJK``, ``HIRAGANA``, ``HANGUL`` ...; symbols and emoji
    together."""
    if unicodedata.category(character) in ("So", "Sk", "Sm"):
        return "symbols and emoji"
    name = unicodedata.name(character, "")
    first = name.split(" ")[0] if name else "unnamed"
    return {"CJK": "CJK", "IDEOGRAPHIC": "CJK", "HANGUL": "Hangul"}.get(first, first.title())


def by_script(characters: str) -> dict[str, str]:
    """``characters`` grouped by script (see :func:`_script`), sorted."""
    grouped: dict[str, str] = {}
    for character in sorted(set(characters)):
        script = _script(character)
        grouped[script] = grouped.get(script, "") + character
    return dict(sorted(grouped.items()))


def glyphs_message(missing: dict[str, str], figures: list[str]) -> str:
    """One line: which characters no installed font draws, grouped by script, and in which figures."""
    count = sum(map(len, missing.values()))
    scripts = "; ".join(f"{script}: {chars[:12]}{'...' if len(chars) > 12 else ''}"
                        for script, chars in missing.items())
    return (f"{count} character(s) have no glyph in the installed fonts and are drawn as boxes ({scripts}) in "
            f"{', '.join(figures)}; install a font that has them (e.g. Noto Sans CJK, Symbola); the manifest "
            "records them under missing_glyphs")
