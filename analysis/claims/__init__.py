"""Health claims: what texts say about risks, benefits and advice, and how strongly.

- ``lexicons``: the editable term lists (``analysis/data/lexicons/*.txt``),
  parsed and indexed once (:func:`load_lexicons`);
- ``tagger``: every claim and stance marker of the counted sentences, with its
  polarity (:func:`tag_claims`; the rules are documented there);
- ``quantities``: doses, durations and frequencies (:func:`quantities`);
- ``summaries``: contradictions, framing and hedging density of a tagged table, or of its counts;
- ``parts``: the tagger as a map over chunks that writes its rows as Parquet parts and returns only
  their counts (:func:`tag_claim_parts`), for corpora of any size.
"""

from analysis.claims.lexicons import (
    CATEGORIES,
    CLAIM_CATEGORIES,
    CUE_LISTS,
    LEXICON_FILES,
    MARKER_CATEGORIES,
    POLARITIES,
    Entry,
    Lexicons,
    load_lexicons,
    parse_lexicon,
)
from analysis.claims.parts import ClaimParts, tag_claim_parts
from analysis.claims.quantities import QUANTITY_COLUMNS, quantities
from analysis.claims.summaries import (
    SUMMARY_COLUMNS,
    claim_counts,
    contradiction_summary,
    contradictions,
    framing,
    hedging_density,
    statement_counts,
    word_counts,
)
from analysis.claims.tagger import CLAIM_COLUMNS, tag_claims, tag_text

__all__ = [
    "CATEGORIES", "CLAIM_CATEGORIES", "CUE_LISTS", "LEXICON_FILES", "MARKER_CATEGORIES", "POLARITIES", "Entry",
    "Lexicons", "load_lexicons", "parse_lexicon", "ClaimParts", "tag_claim_parts", "QUANTITY_COLUMNS", "quantities",
    "SUMMARY_COLUMNS", "claim_counts", "contradiction_summary", "contradictions", "framing", "hedging_density",
    "statement_counts", "word_counts", "CLAIM_COLUMNS", "tag_claims", "tag_text",
]
