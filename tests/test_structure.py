"""Block splitting and role detection (analysis.structure)."""

from __future__ import annotations

import pytest

from analysis.corpus import Corpus
from analysis.structure import ROLES, split_blocks


def _covers(text: str, block) -> bool:
    """text[start:end] holds the block: same words, markers aside."""
    span = text[block.start : block.end]
    return " ".join(block.text.split()) in " ".join(span.split())


def _seed_documents(seed_corpus):
    return list(Corpus(seed_corpus))


# -- the template of the seed articles -----------------------------------------

def test_every_seed_article_is_detected_as_the_template(seed_corpus, seed_ids):
    docs = _seed_documents(seed_corpus)
    assert [d.doc_id for d in docs] == list(seed_ids)
    for doc in docs:
        blocks = split_blocks(doc.text)
        roles = [b.role for b in blocks]
        assert roles[:5] == ["summary", "intro", "outline", "outline", "outline"], doc.doc_id
        assert roles[5] == "heading", doc.doc_id
        assert roles[-1] == "conclusion", doc.doc_id
        assert set(roles[5:-1]) <= {"heading", "body"}, doc.doc_id
        assert roles.count("heading") == 3 and roles.count("conclusion") == 1, doc.doc_id
        # every non-empty line is one block, in order
        lines = [line for line in doc.text.split("\n") if line.strip()]
        assert len(blocks) == len(lines), doc.doc_id
        assert [b.index for b in blocks] == list(range(len(blocks)))


def test_seed_headings_equal_outline_bullets(seed_corpus):
    for doc in _seed_documents(seed_corpus):
        blocks = split_blocks(doc.text)
        bullets = [line[2:] for line in doc.text.split("\n") if line.startswith("- ")]
        outline = [b.text for b in blocks if b.role == "outline"]
        headings = [b for b in blocks if b.role == "heading"]
        assert outline == bullets
        assert [h.text for h in headings] == bullets
        assert [h.section for h in headings] == ["section-1", "section-2", "section-3"]
        # body blocks belong to the section of the heading above them
        current = None
        for b in blocks:
            if b.role == "heading":
                current = (b.section, b.text)
            elif b.role == "body":
                assert (b.section, b.section_title) == current
        conclusion = blocks[-1]
        assert (conclusion.section, conclusion.section_title) == ("conclusion", "")


def test_seed_block_offsets_cover_the_text(seed_corpus):
    for doc in _seed_documents(seed_corpus):
        for b in split_blocks(doc.text):
            assert b.role in ROLES
            span = doc.text[b.start : b.end]
            if b.role == "outline":
                assert span == f"- {b.text}"
            else:
                assert span == b.text


# -- the template on small texts ---------------------------------------------------

TEMPLATE = "Summary.\nIntro.\n- A\n- B\nA\nText a.\nB\nText b.\nMore b.\nEnd."


def test_template_roles_and_sections():
    blocks = split_blocks(TEMPLATE)
    assert [(b.role, b.section, b.section_title) for b in blocks] == [
        ("summary", "summary", ""),
        ("intro", "intro", ""),
        ("outline", "outline", ""),
        ("outline", "outline", ""),
        ("heading", "section-1", "A"),
        ("body", "section-1", "A"),
        ("heading", "section-2", "B"),
        ("body", "section-2", "B"),
        ("body", "section-2", "B"),
        ("conclusion", "conclusion", ""),
    ]


def test_template_with_a_single_front_paragraph_is_intro():
    blocks = split_blocks("Intro.\n- A\n- B\nA\nText a.\nB\nText b.\nEnd.")
    assert [b.role for b in blocks][:3] == ["intro", "outline", "outline"]


def test_template_last_section_with_one_paragraph_has_no_conclusion():
    blocks = split_blocks("Summary.\nIntro.\n- A\n- B\nA\nText a.\nB\nOnly b.")
    assert [b.role for b in blocks][-2:] == ["heading", "body"]
    assert "conclusion" not in {b.role for b in blocks}


def test_template_headings_match_case_and_colon_insensitively():
    blocks = split_blocks("Summary.\nIntro.\n- Kratom: Uses\n- Safety\nkratom: uses:\nText.\nSAFETY\nText.\nEnd.")
    assert [b.role for b in blocks].count("heading") == 2


def test_template_with_blank_line_paragraphs_and_bullet_list():
    text = "Summary line one\nline two.\n\nIntro.\n\n- A\n- B\n\nA\n\nText a.\n\nB\n\nText b.\n\nEnd.\n"
    blocks = split_blocks(text)
    assert [b.role for b in blocks] == [
        "summary", "intro", "outline", "outline", "heading", "body", "heading", "body", "conclusion",
    ]
    assert blocks[0].text == "Summary line one line two."
    assert all(_covers(text, b) for b in blocks)


def test_text_between_outline_and_first_heading_is_not_lost():
    """A paragraph between the outline and the first heading must keep its own block;
    headings stay the outline texts and the last paragraph stays the last block."""
    text = "Summary.\nIntro.\n- A\n- B\nStray paragraph.\nA\nText a.\nB\nText b.\nMore b.\nEnd."
    blocks = split_blocks(text)
    lines = text.split("\n")
    assert len(blocks) == len(lines)  # one block per line, none dropped
    assert [b.text for b in blocks] == ["Summary.", "Intro.", "A", "B", *lines[4:]]
    assert [b.text for b in blocks if b.role == "heading"] in (["A", "B"], [])
    assert blocks[-1].text == "End."
    assert all(_covers(text, b) for b in blocks)


# -- fallbacks --------------------------------------------------------------------

def test_blank_line_paragraphs_join_their_lines():
    text = "First paragraph line one\nline two.\n\n  Second paragraph.\n\n\nThird\nparagraph\nhere."
    blocks = split_blocks(text)
    assert [b.text for b in blocks] == [
        "First paragraph line one line two.", "Second paragraph.", "Third paragraph here.",
    ]
    assert {b.role for b in blocks} == {"paragraph"}
    assert {b.section for b in blocks} == {"text"}
    assert {b.section_title for b in blocks} == {""}
    assert blocks[0].start == 0 and blocks[0].end == len("First paragraph line one\nline two.")
    assert all(_covers(text, b) for b in blocks)


def test_single_line_paragraphs_without_blank_lines():
    text = "One.\nTwo two.\n   \nThree."
    # a whitespace-only line counts as a blank line, so this is blank-line mode
    assert [b.text for b in split_blocks(text)] == ["One. Two two.", "Three."]
    text = "One.\nTwo two.\nThree."
    blocks = split_blocks(text)
    assert [b.text for b in blocks] == ["One.", "Two two.", "Three."]
    assert [(b.start, b.end) for b in blocks] == [(0, 4), (5, 13), (14, 20)]
    assert {b.role for b in blocks} == {"paragraph"}


def test_markdown_headings():
    text = "Preamble text.\n\n# First Part\n\nBody one\ncontinues.\n\n## Second Part ##\n\nBody two."
    blocks = split_blocks(text)
    assert [(b.role, b.section, b.section_title, b.text) for b in blocks] == [
        ("paragraph", "preamble", "", "Preamble text."),
        ("heading", "section-1", "First Part", "First Part"),
        ("paragraph", "section-1", "First Part", "Body one continues."),
        ("heading", "section-2", "Second Part", "Second Part"),
        ("paragraph", "section-2", "Second Part", "Body two."),
    ]
    assert all(_covers(text, b) for b in blocks)


def test_markdown_headings_without_blank_lines():
    blocks = split_blocks("# Title\nText.\n# Next\nMore.")
    assert [b.role for b in blocks] == ["heading", "paragraph", "heading", "paragraph"]
    assert [b.section for b in blocks] == ["section-1", "section-1", "section-2", "section-2"]


def test_hashtag_is_not_a_heading():
    blocks = split_blocks("#kratom is trending\nSecond line.")
    assert [b.role for b in blocks] == ["paragraph", "paragraph"]


@pytest.mark.parametrize(
    "text",
    [
        # bullets whose headings never reappear
        "Summary.\nIntro.\n- Alpha\n- Beta\nBody text.\nEnd.",
        # only the first heading reappears
        "Summary.\nIntro.\n- Alpha\n- Beta\nAlpha\nBody text.\nEnd.",
        # headings in the wrong order
        "Summary.\nIntro.\n- Alpha\n- Beta\nBeta\nText.\nAlpha\nText.",
        # a single bullet is not an outline
        "Summary.\n- Alpha\nAlpha\nText.\nEnd.",
    ],
)
def test_text_with_bullets_but_no_template_falls_back(text):
    blocks = split_blocks(text)
    assert {b.role for b in blocks} == {"paragraph"}
    assert len(blocks) == len(text.split("\n"))
    bullets = [b for b in blocks if text[b.start : b.end].startswith("- ")]
    assert bullets and all(not b.text.startswith("-") for b in bullets)  # the marker is stripped
    assert all(_covers(text, b) for b in blocks)


@pytest.mark.parametrize("text", ["", "\n\n", "   \n\t\n"])
def test_empty_text_has_no_blocks(text):
    assert split_blocks(text) == []


def test_offsets_after_leading_blank_lines():
    text = "\n\n  Indented paragraph.\n\nNext."
    blocks = split_blocks(text)
    assert [b.text for b in blocks] == ["Indented paragraph.", "Next."]
    assert text[blocks[0].start : blocks[0].end].strip() == "Indented paragraph."
    assert text[blocks[1].start : blocks[1].end] == "Next."
