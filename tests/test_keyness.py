"""Keyness of each document against the rest: G2, p-values, log ratio, direction."""

from __future__ import annotations

import math

import pytest

from analysis import terms
from analysis.results import analyze
from analysis.config import Settings
from analysis.keyness import KEYNESS_COLUMNS, keyness


@pytest.fixture(scope="module")
def seed_keyness(seed_tc):
    return keyness(seed_tc)


def test_columns_and_order(seed_keyness):
    assert list(seed_keyness.columns) == KEYNESS_COLUMNS
    for _, rows in seed_keyness.groupby("doc_id"):
        assert rows["log_likelihood"].is_monotonic_decreasing


def test_values_by_hand(seed_keyness, seed_tc):
    row = seed_keyness.query("doc_id == '002_a5a92ea41e8155e8' and term == 'hyperpigmentation'").iloc[0]
    tokens = terms.term_frequencies(seed_tc, "document").drop_duplicates("doc_id").set_index("doc_id")["tokens"]
    c = tokens["002_a5a92ea41e8155e8"]
    d = tokens.sum() - c
    a, b = 8, 0
    e1 = c * (a + b) / (c + d)
    assert row["count"] == a and row["count_rest"] == b
    assert row["log_likelihood"] == pytest.approx(2 * a * math.log(a / e1))
    assert row["p_value"] == pytest.approx(math.erfc(math.sqrt(row["log_likelihood"] / 2)))
    assert row["log_ratio"] == pytest.approx(math.log2((a / c) / (0.5 / d)))  # zero replaced by 0.5
    assert row["direction"] == "positive" and bool(row["significant"])


def test_known_keywords_of_the_seed_articles(seed_keyness):
    top = seed_keyness[seed_keyness["significant"] & (seed_keyness["direction"] == "positive")]
    first = top.groupby("doc_id")["term"].first().to_dict()
    assert first["002_a5a92ea41e8155e8"] == "hyperpigmentation"
    assert first["004_ae2261013d9df198"] == "inflammation"
    assert first["001_6c888b388283ab30"] == "withdrawal symptoms"


def test_negative_keywords_and_threshold(seed_keyness):
    negative = seed_keyness[seed_keyness["direction"] == "negative"]
    assert (negative["log_ratio"] <= 0).all() and (negative["log_ratio"] < 0).any()
    positive = seed_keyness[seed_keyness["direction"] == "positive"]
    assert (positive["log_ratio"] >= 0).all()
    n_tested = seed_keyness.groupby("doc_id").size().iloc[0]
    assert (seed_keyness["significant"] == (seed_keyness["p_value"] < 0.05 / n_tested)).all()


def test_min_count_and_single_document(tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.txt").write_text("apple banana apple cherry apple", encoding="utf-8")
    assert keyness(analyze(Settings(corpus=folder, phrases=False))).empty  # no rest to compare with
    (folder / "b.txt").write_text("banana banana cherry date", encoding="utf-8")
    table = keyness(analyze(Settings(corpus=folder, phrases=False)), min_count=3)
    assert set(table["term"]) == {"apple", "banana"}
