"""Benchmark: the health-claims tagger against hand-labelled sentences.

Tags the seed corpus (``corpus/``) and the labelled passages
(``tests/data/claims_passages/``) with the shipped lexicons and compares with
``tests/data/claims_gold.csv`` (guidelines in ``tests/data/claims_gold.md``):
every claim and marker of every labelled sentence, split into ``dev`` (seed
articles 000-002 and passages p01-p06 and p15-p40, used to write the lexicons and rules)
and ``test`` (seed articles 003-004 and passages p07-p14, held out). Prints,
per split and overall:

- detection: precision, recall and F1 per category (risk, benefit, advice,
  hedge, booster) and micro-averaged, with exact tp/fp/fn counts; a tagged
  term counts when its span overlaps a labelled one of the same category in
  the same sentence;
- polarity on the risk and benefit claims found: accuracy, and precision and
  recall per polarity;
- end to end: risk and benefit claims found with the right polarity, also for
  the seed articles and the passages apart.

Then the agreement of a second annotator, who labelled passages p31-p40 again
without seeing the first labels (``tests/data/claims_gold_second_annotator.csv``),
with the gold labels, scored the same way.

Usage: python benchmarks/bench_claims.py [--errors dev|test|all]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import claims_gold
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "data" / "claims_gold.csv"


def _table(frame: pd.DataFrame, label: str) -> str:
    shown = frame.rename(columns={label: ""}).copy()
    for column in ("precision", "recall", "f1"):
        shown[column] = shown[column].map(lambda v: "  -  " if pd.isna(v) else f"{v:.3f}")
    return shown.to_string(index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=("dev", "test", "all"), help="also list the errors of a split")
    args = parser.parse_args(argv)

    gold = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    matches = claims_gold.match_gold(claims_gold.tag_gold_sources(ROOT), gold)
    labelled = gold.drop_duplicates(["doc_id", "sentence"]).groupby("split").size()
    mentions = gold[gold["category"] != "none"].groupby("split").size()
    print(f"gold: {len(gold[gold['category'] != 'none'])} labelled mentions in {labelled.sum()} sentences "
          f"({', '.join(f'{s}: {mentions[s]} in {labelled[s]}' for s in labelled.index)})\n")

    scores = claims_gold.gold_scores(matches)
    polarity = claims_gold.polarity_scores(matches)
    passage = matches["doc_id"].str.startswith("p")
    for split in ("dev", "test", "all"):
        print(f"== {split} ==")
        print("detection (term spans, per category):")
        print(_table(scores[scores["split"] == split].drop(columns="split"), "category"))
        print("\npolarity of the risk and benefit claims found (row 'all' = accuracy):")
        print(_table(polarity[polarity["split"] == split].drop(columns="split"), "polarity"))
        in_split = matches["split"] == split if split != "all" else matches["split"].notna()
        for source, rows in (("", in_split), (" seed articles", in_split & ~passage), (" passages", in_split & passage)):
            right, tagged, labelled_n, p, r, f1 = claims_gold.end_to_end(matches[rows])
            print(f"end to end{source} (risk and benefit with the right polarity): {right} of {tagged} tagged, "
                  f"{labelled_n} labelled: precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f}")
        print()

    second = pd.read_csv(ROOT / claims_gold.SECOND_ANNOTATOR, dtype=str, keep_default_na=False)
    first = gold[gold["doc_id"].isin(set(second["doc_id"]))]
    between = claims_gold.match_gold(claims_gold.labels_as_tagged(second), first)
    detection = claims_gold.gold_scores(between).set_index(["split", "category"]).loc[("all", "all"), "f1"]
    polarity = claims_gold.polarity_scores(between).set_index(["split", "polarity"]).loc[("all", "all"), "f1"]
    right, tagged, labelled, _, _, f1 = claims_gold.end_to_end(between)
    print(f"agreement of a second annotator with the gold labels on {first['doc_id'].nunique()} passages "
          f"({len(first.drop_duplicates(['doc_id', 'sentence']))} sentences): detection F1 {detection:.3f}, polarity {polarity:.3f}, "
          f"end to end {right} right of {tagged} and {labelled}: F1 {f1:.3f}\n")

    if args.errors:
        errors = matches if args.errors == "all" else matches[matches["split"] == args.errors]
        wrong = errors[(errors["status"] != "tp") | (errors["gold_polarity"] != errors["tagged_polarity"])
                       & errors["category"].isin(["risk", "benefit", "advice"])]
        with pd.option_context("display.max_colwidth", 90, "display.width", 250, "display.max_rows", None):
            print(wrong[["doc_id", "category", "gold_term", "gold_polarity", "tagged_term", "tagged_polarity",
                         "status", "sentence"]].assign(doc_id=wrong["doc_id"].str[:3]).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
