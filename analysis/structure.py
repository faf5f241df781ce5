"""Split a document into blocks and tag each block with its role.

Web articles like the seed corpus share a template::

    summary paragraph
    intro paragraph
    - outline bullet 1
    - outline bullet 2
    - outline bullet 3
    outline bullet 1 (as a heading)
    body paragraphs ...
    outline bullet 2 (as a heading)
    ...
    concluding paragraph

When the outline bullets reappear, in order, as lines of their own, the
document is tagged with the roles ``summary``, ``intro``, ``outline``,
``heading``, ``body`` and ``conclusion``. Any other text falls back to
paragraphs (role ``paragraph``; Markdown ``#`` lines are ``heading``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Invisible format characters a word may hold (soft hyphen, zero-width space and joiners, word joiner, a
# stray BOM): kept in the text, so that offsets stay those of the file, and ignored wherever words are
# compared or counted.
FORMAT_CHARACTERS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
NO_FORMAT = dict.fromkeys(map(ord, FORMAT_CHARACTERS))

ROLES = ("summary", "intro", "outline", "heading", "body", "conclusion", "paragraph")

_BULLET = re.compile(r"^\s*(?:[-*\u2022])\s+(.*\S)\s*$")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    """One paragraph-like unit of a document.

    Attributes
    ----------
    index : int
        Position of the block in its document, from 0.
    role : str
        One of :data:`ROLES`.
    section : str
        The section the block belongs to: ``summary``, ``intro``, ``outline``,
        ``section-1`` ... ``section-N``, ``conclusion`` for template articles;
        ``preamble``/``section-N`` by Markdown headings; ``text`` otherwise.
    section_title : str
        The heading of the section, or ``""``.
    start, end : int
        Character offsets of the block in the (line-ending normalised) text.
    text : str
        The block text, without a bullet or heading marker.
    """

    index: int
    role: str
    section: str
    section_title: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    text: str
    bullet: bool
    md_heading: bool


def _units(text: str) -> list[_Unit]:
    """Paragraph candidates: blank-line separated paragraphs when the text has
    blank lines (bullet lists split into one unit per bullet), else lines."""
    if "\n" not in text:  # one line (sentences, short messages): the common case of large corpora
        if not text.strip():
            return []
        marked = _BULLET.match(text) or _MD_HEADING.match(text)
        body = marked.group(1) if marked else text.strip()
        return [_Unit(0, len(text), body, bool(_BULLET.match(text)), bool(_MD_HEADING.match(text)))]
    blank_separated = re.search(r"\n[ \t]*\n", text) is not None
    units: list[_Unit] = []
    pattern = r"(?:[^\n]|\n(?![ \t]*\n))+" if blank_separated else r"[^\n]+"
    for match in re.finditer(pattern, text):
        chunk = match.group(0)
        lines = [(m.start() + match.start(), m.group(0)) for m in re.finditer(r"[^\n]+", chunk)]
        lines = [(s, line) for s, line in lines if line.strip()]
        if not lines:
            continue
        split_lines = len(lines) == 1 or all(_BULLET.match(line) or _MD_HEADING.match(line) for _, line in lines)
        if split_lines:
            for start, line in lines:
                bullet = _BULLET.match(line)
                heading = _MD_HEADING.match(line)
                body = (bullet or heading).group(1) if (bullet or heading) else line.strip()
                units.append(_Unit(start, start + len(line), body, bool(bullet), bool(heading)))
        else:
            first, last = lines[0][0], lines[-1][0] + len(lines[-1][1])
            joined = " ".join(line.strip() for _, line in lines)
            units.append(_Unit(first, last, joined, False, False))
    return units


def _key(text: str) -> str:
    return " ".join(text.translate(NO_FORMAT).casefold().rstrip(":").split())


def _template_blocks(units: list[_Unit]) -> list[Block] | None:
    """Blocks with template roles, or None when the template is not there."""
    first = next((i for i, u in enumerate(units) if u.bullet), None)
    if first is None:
        return None
    last = first
    while last + 1 < len(units) and units[last + 1].bullet:
        last += 1
    outline = units[first : last + 1]
    if len(outline) < 2:
        return None
    wanted = [_key(u.text) for u in outline]
    headings: list[int] = []
    position = last + 1
    for key in wanted:
        found = next((i for i in range(position, len(units)) if _key(units[i].text) == key), None)
        if found is None:
            return None
        headings.append(found)
        position = found + 1

    roles: list[tuple[str, str, str]] = []  # (role, section, title) per unit
    front = units[:first]
    for i in range(len(front)):
        role = "summary" if i == 0 and len(front) > 1 else "intro"
        roles.append((role, role, ""))
    roles.extend(("outline", "outline", "") for _ in outline)
    # Paragraphs between the outline and the first heading still introduce the article.
    roles.extend(("intro", "intro", "") for _ in range(last + 1, headings[0]))
    bounds = headings + [len(units)]
    for number, (head, stop) in enumerate(zip(headings, bounds[1:]), start=1):
        section, title = f"section-{number}", units[head].text
        roles.append(("heading", section, title))
        roles.extend(("body", section, title) for _ in range(head + 1, stop))
    # The last paragraph concludes the article when the last section has more
    # than one paragraph; with a single one it is that section's body.
    if len(units) - headings[-1] - 1 >= 2:
        roles[-1] = ("conclusion", "conclusion", "")
    return [
        Block(i, role, section, title, u.start, u.end, u.text)
        for i, (u, (role, section, title)) in enumerate(zip(units, roles, strict=True))
    ]


def _fallback_blocks(units: list[_Unit]) -> list[Block]:
    has_headings = any(u.md_heading for u in units)
    section, title, number = ("preamble" if has_headings else "text"), "", 0
    blocks = []
    for i, u in enumerate(units):
        if u.md_heading:
            number += 1
            section, title = f"section-{number}", u.text
        blocks.append(Block(i, "heading" if u.md_heading else "paragraph", section, title, u.start, u.end, u.text))
    return blocks


def split_blocks(text: str) -> list[Block]:
    """Split ``text`` into blocks with roles.

    Parameters
    ----------
    text : str
        Document text with ``\\n`` line endings.

    Returns
    -------
    list of Block
        Template roles when the outline/heading template is detected,
        otherwise paragraphs (blank-line separated when the text has blank
        lines, else one per line).

    Examples
    --------
    >>> [b.role for b in split_blocks("Summary.\\nIntro.\\n- A\\n- B\\nA\\nText a.\\nB\\nText b.\\nMore b.\\nEnd.")]
    ['summary', 'intro', 'outline', 'outline', 'heading', 'body', 'heading', 'body', 'body', 'conclusion']
    """
    if "\n" not in text:  # one line (sentences, short messages): the common case of large corpora
        body = text.strip()
        if body and body[0] not in "-*\u2022#":  # neither a bullet nor a Markdown heading: one paragraph
            return [Block(0, "paragraph", "text", "", 0, len(text), body)]
    units = _units(text)
    return _template_blocks(units) or _fallback_blocks(units)
