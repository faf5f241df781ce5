"""The claims tagger against hand labels: match tagged rows with ``tests/data/claims_gold.csv`` and score them.

Development tooling, not part of the package: ``bench_claims.py`` prints the
scores and ``tests/test_claims.py`` guards them against regressions.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.claims import tag_claims
from analysis.claims.lexicons import CATEGORIES, POLARITIES
from analysis.corpus import Corpus
from analysis.errors import AnalysisError

GOLD_COLUMNS = ["doc_id", "sentence", "category", "term", "polarity", "split", "note"]
PASSAGES = "tests/data/claims_passages"  # the labelled passages beside the seed corpus, relative to the repository
SECOND_ANNOTATOR = "tests/data/claims_gold_second_annotator.csv"  # p31-p40 labelled again, independently


def tag_gold_sources(root: str | Path) -> pd.DataFrame:
    """:func:`tag_claims` of the seed corpus (``corpus/``) and of the labelled passages, one table."""
    root = Path(root)
    return pd.concat([tag_claims(Corpus(root / "corpus")), tag_claims(Corpus(root / PASSAGES))], ignore_index=True)


def term_start(doc_id: str, sentence: str, term: str, occurrence: int) -> int:
    """Where the ``occurrence``-th (from 0) whole-word, case-insensitive ``term`` starts in ``sentence``.

    Raises
    ------
    AnalysisError
        When the sentence has fewer occurrences.
    """
    starts = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(term.lower()) + r"(?!\w)", sentence.lower())]
    if occurrence >= len(starts):
        raise AnalysisError(f"gold: {term!r} not found (occurrence {occurrence + 1}) in {doc_id}: {sentence!r}")
    return starts[occurrence]


def labels_as_tagged(labels: pd.DataFrame) -> pd.DataFrame:
    """Hand labels in the shape of :func:`tag_claims` rows (``doc_id, sentence, category, term, matched,
    char_start, polarity``), so that :func:`match_gold` scores one annotator against another.

    Examples
    --------
    >>> labels = pd.DataFrame({"doc_id": ["d"] * 3, "sentence": ["It may cause nausea and nausea."] * 3,
    ...                        "category": ["hedge", "risk", "risk"], "term": ["may", "nausea", "nausea"],
    ...                        "polarity": ["asserted", "hedged", "hedged"], "split": ["dev"] * 3})
    >>> labels_as_tagged(labels)["char_start"].tolist()
    [3, 13, 24]
    """
    rows, seen = [], {}
    for label in labels[labels["category"] != "none"].itertuples():
        key = (label.doc_id, label.sentence, label.term.lower())
        occurrence = seen[key] = seen.get(key, -1) + 1
        rows.append([label.doc_id, label.sentence, label.category, key[2], label.term,
                     term_start(label.doc_id, label.sentence, label.term, occurrence), label.polarity])
    return pd.DataFrame(rows, columns=["doc_id", "sentence", "category", "term", "matched", "char_start", "polarity"])


def end_to_end(matches: pd.DataFrame) -> tuple[int, int, int, float, float, float]:
    """Risk and benefit claims found with the right polarity: ``(right, tagged, labelled, precision,
    recall, F1)`` of :func:`match_gold` rows."""
    claimed = matches[matches["category"].isin(["risk", "benefit"])]
    right = int(((claimed["status"] == "tp") & (claimed["gold_polarity"] == claimed["tagged_polarity"])).sum())
    tagged, labelled = int(claimed["status"].isin(["tp", "fp"]).sum()), int(claimed["status"].isin(["tp", "fn"]).sum())
    precision, recall = right / tagged, right / labelled
    return right, tagged, labelled, precision, recall, 2 * precision * recall / (precision + recall)


def match_gold(claims: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Line tagged rows up with hand-labelled ones, sentence by sentence.

    Parameters
    ----------
    claims : DataFrame
        :func:`tag_claims`.
    gold : DataFrame
        ``doc_id, sentence, category, term, polarity, split`` (see
        ``tests/data/claims_gold.md``): every claim and marker of each labelled
        sentence, ``term`` as written in the sentence (the k-th row with the
        same term is its k-th occurrence), and a row with category ``none``
        for a sentence with nothing to find.

    Returns
    -------
    DataFrame
        ``split, doc_id, sentence, category, gold_term, gold_polarity,
        tagged_term, tagged_polarity, status``: a tagged row and a gold row of
        the same sentence and category whose text spans overlap are a ``tp``
        (matched one to one, in text order); unmatched gold rows are ``fn``,
        unmatched tagged rows of labelled sentences ``fp``.

    Raises
    ------
    AnalysisError
        When a gold term is not found in its sentence.
    """
    rows = []
    tagged_by_sentence = {key: group for key, group in claims.groupby(["doc_id", "sentence"], sort=False)}
    for (doc_id, sentence), labels in gold.groupby(["doc_id", "sentence"], sort=False):
        split = labels["split"].iloc[0]
        tagged = tagged_by_sentence.get((doc_id, sentence), claims.iloc[0:0])
        seen: dict[str, int] = {}
        expected = []
        for label in labels[labels["category"] != "none"].itertuples():
            key = label.term.lower()
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            start = term_start(doc_id, sentence, label.term, occurrence)
            expected.append((label, start, start + len(label.term)))
        used: set[int] = set()
        for label, start, end in sorted(expected, key=lambda e: e[1]):
            hit = next((t for t in tagged.itertuples() if t.Index not in used and t.category == label.category
                        and t.char_start < end and start < t.char_start + len(t.matched)), None)
            if hit is None:
                rows.append([split, doc_id, sentence, label.category, label.term, label.polarity, "", "", "fn"])
            else:
                used.add(hit.Index)
                rows.append([split, doc_id, sentence, label.category, label.term, label.polarity, hit.term,
                             hit.polarity, "tp"])
        for t in tagged.itertuples():
            if t.Index not in used:
                rows.append([split, doc_id, sentence, t.category, "", "", t.term, t.polarity, "fp"])
    return pd.DataFrame(rows, columns=["split", "doc_id", "sentence", "category", "gold_term", "gold_polarity",
                                       "tagged_term", "tagged_polarity", "status"])


def _prf(tp: int, fp: int, fn: int) -> list:
    precision = tp / (tp + fp) if tp + fp else np.nan
    recall = tp / (tp + fn) if tp + fn else np.nan
    f1 = 2 * precision * recall / (precision + recall) if tp else (0.0 if fp + fn else np.nan)
    return [tp, fp, fn, precision, recall, f1]


def gold_scores(matches: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and F1 of :func:`match_gold` per split and category.

    Returns
    -------
    DataFrame
        ``split, category, tp, fp, fn, precision, recall, f1`` for each
        split and ``all``, each category and ``all`` (micro-averaged).

    Examples
    --------
    >>> matches = pd.DataFrame({"split": ["dev"] * 3, "category": ["risk"] * 3, "status": ["tp", "tp", "fp"]})
    >>> scores = gold_scores(matches).query("category == 'risk' and split == 'dev'")
    >>> scores[["tp", "fp", "precision"]].to_dict("records")
    [{'tp': 2, 'fp': 1, 'precision': 0.6666666666666666}]
    """
    rows = []
    splits = sorted(matches["split"].unique()) + ["all"]
    for split in splits:
        in_split = matches if split == "all" else matches[matches["split"] == split]
        for category in list(CATEGORIES) + ["all"]:
            subset = in_split if category == "all" else in_split[in_split["category"] == category]
            status = subset["status"].value_counts()
            rows.append([split, category, *_prf(status.get("tp", 0), status.get("fp", 0), status.get("fn", 0))])
    return pd.DataFrame(rows, columns=["split", "category", "tp", "fp", "fn", "precision", "recall", "f1"]).astype(
        {"tp": int, "fp": int, "fn": int})


def polarity_scores(matches: pd.DataFrame, categories: Iterable[str] = ("risk", "benefit")) -> pd.DataFrame:
    """Polarity on the claims found correctly (the ``tp`` rows of :func:`match_gold`).

    Returns
    -------
    DataFrame
        ``split, polarity, tp, fp, fn, precision, recall, f1`` per split and
        ``all``, for each polarity and ``all``; the ``all`` row's precision,
        recall and F1 equal the polarity accuracy.
    """
    found = matches[(matches["status"] == "tp") & matches["category"].isin(list(categories))]
    rows = []
    for split in sorted(found["split"].unique()) + ["all"]:
        subset = found if split == "all" else found[found["split"] == split]
        right = subset["gold_polarity"] == subset["tagged_polarity"]
        for polarity in list(POLARITIES) + ["all"]:
            if polarity == "all":
                tp, fp, fn = int(right.sum()), int((~right).sum()), int((~right).sum())
            else:
                tp = int((right & (subset["gold_polarity"] == polarity)).sum())
                fp = int((~right & (subset["tagged_polarity"] == polarity)).sum())
                fn = int((~right & (subset["gold_polarity"] == polarity)).sum())
            rows.append([split, polarity, *_prf(tp, fp, fn)])
    return pd.DataFrame(rows, columns=["split", "polarity", "tp", "fp", "fn", "precision", "recall", "f1"]).astype(
        {"tp": int, "fp": int, "fn": int})
