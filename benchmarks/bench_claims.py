"""Benchmark: the health-claims tagger against hand-labelled sentences of the seed corpus.

Tags the seed corpus (``corpus/``) with the shipped lexicons and compares with
``tests/data/claims_gold.csv`` (guidelines in ``tests/data/claims_gold.md``):
every claim and marker of 209 labelled sentences, split into ``dev`` (articles
000-002, used to write the lexicons and rules) and ``test`` (articles 003-004,
held out). Prints, per split and overall:

- detection: precision, recall and F1 per category (risk, benefit, advice,
  hedge, booster) and micro-averaged, with exact tp/fp/fn counts; a tagged
  term counts when its span overlaps a labelled one of the same category in
  the same sentence;
- polarity on the risk and benefit claims found: accuracy, and precision and
  recall per polarity;
- end to end: risk and benefit claims found with the right polarity.

Usage: python benchmarks/bench_claims.py [--errors dev|test|all]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import claims_gold
import pandas as pd

from analysis import claims
from analysis.corpus import Corpus

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
    tagged = claims.tag_claims(Corpus(ROOT / "corpus"))
    matches = claims_gold.match_gold(tagged, gold)
    labelled = gold.groupby("split")["sentence"].nunique()
    mentions = gold[gold["category"] != "none"].groupby("split").size()
    print(f"gold: {len(gold[gold['category'] != 'none'])} labelled mentions in {gold['sentence'].nunique()} sentences "
          f"({', '.join(f'{s}: {mentions[s]} in {labelled[s]}' for s in labelled.index)})\n")

    scores = claims_gold.gold_scores(matches)
    polarity = claims_gold.polarity_scores(matches)
    for split in ("dev", "test", "all"):
        print(f"== {split} ==")
        print("detection (term spans, per category):")
        print(_table(scores[scores["split"] == split].drop(columns="split"), "category"))
        print("\npolarity of the risk and benefit claims found (row 'all' = accuracy):")
        print(_table(polarity[polarity["split"] == split].drop(columns="split"), "polarity"))
        in_split = matches if split == "all" else matches[matches["split"] == split]
        claimed = in_split[in_split["category"].isin(["risk", "benefit"])]
        tp = int(((claimed["status"] == "tp") & (claimed["gold_polarity"] == claimed["tagged_polarity"])).sum())
        tagged_n = int(claimed["status"].isin(["tp", "fp"]).sum())
        gold_n = int(claimed["status"].isin(["tp", "fn"]).sum())
        p, r = tp / tagged_n, tp / gold_n
        print(f"\nend to end (risk and benefit with the right polarity): {tp} of {tagged_n} tagged, {gold_n} labelled: "
              f"precision {p:.3f}, recall {r:.3f}, F1 {2 * p * r / (p + r):.3f}\n")

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
