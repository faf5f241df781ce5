"""Short text descriptions (alt text) of the figures, generated from the data each one draws.

A description says what kind of chart it is, what it covers and what stands out, in a few
sentences a screen reader can speak. :mod:`analysis.export` writes it into the manifest, as the
SVG ``<title>``/``<desc>``, the PNG ``Description`` and the PDF ``Subject``. Each function takes the
figure's tidy table and the :class:`~analysis.results.Results` it came from.
"""

from __future__ import annotations

from typing import Callable, Iterable

import pandas as pd

from analysis import topics
from analysis.results import Results

MAX_ITEMS = 5  # items quoted per list: a description is read aloud


def _items(values: Iterable, n: int = MAX_ITEMS) -> str:
    """``"a, b, c"``: the first ``n`` values, in order."""
    return ", ".join(str(v) for v in list(values)[:n])


def _documents(n: int) -> str:
    return f"{n:,} document" + ("" if n == 1 else "s")


def _shown(shown: int, r: Results) -> str:
    """``"5 documents"``, or ``"25 of 18,846 documents, the most typical"`` when a figure shows some of them."""
    total = r.prepared.n_documents
    return _documents(total) if shown >= total else f"{shown:,} of {_documents(total)}, {r.documents_chosen_by}"


def _top_terms(d: pd.DataFrame, r: Results) -> str:
    top = d.sort_values("rank")
    return (f"Bar chart of the {len(top)} most frequent terms of {_documents(r.prepared.n_documents)}, per 1,000 "
            f"word tokens. Highest: " + _items(f"{t} ({v:.1f})" for t, v in zip(top["term"], top["per_1000_tokens"]))
            + ".")


def _document_structure(d: pd.DataFrame, r: Results) -> str:
    lengths = d.groupby("doc_id")["n_tokens"].sum()
    roles = d.groupby("role")["n_tokens"].sum().sort_values(ascending=False)
    return (f"Horizontal bars, one per document ({_shown(len(lengths), r)}), each split into its blocks "
            f"coloured by role. Lengths run from {lengths.min():,} to {lengths.max():,} word tokens. "
            f"Roles by word tokens: " + _items(f"{role} {n:,}" for role, n in roles.items()) + ".")


def _preprocessing_waterfall(d: pd.DataFrame, r: Results) -> str:
    steps = d.sort_values("order")
    first, last = steps.iloc[0], steps.iloc[-1]
    return (f"Waterfall of {len(steps)} preprocessing steps: {first['tokens']:,} tokens and {first['types']:,} types "
            f"after tokenizing, {last['tokens']:,} tokens and {last['types']:,} types after the last step "
            f"({last['step']}). Steps: " + _items(steps["step"], n=len(steps)) + ".")


def _by_document_terms(d: pd.DataFrame, value: str) -> str:
    """``"doc: a, b; doc2: c, d"`` for the first documents of a table ranked within documents."""
    firsts = d.sort_values(["doc_id", value], ascending=[True, False]).groupby("doc_id", sort=True).head(3)
    lines = [f"{doc}: {_items(group['term'], 3)}" for doc, group in firsts.groupby("doc_id", sort=True)]
    return "; ".join(lines[:3])


def _distinctive_terms(d: pd.DataFrame, r: Results) -> str:
    n = d["doc_id"].nunique()
    return (f"Small multiples, one bar chart per document ({_shown(n, r)}), of its most distinctive terms by "
            f"TF-IDF. For example {_by_document_terms(d, 'tfidf')}.")


def _term_document_heatmap(d: pd.DataFrame, r: Results) -> str:
    n = d["doc_id"].nunique()
    peak = d.loc[d["per_1000_tokens"].idxmax()] if len(d) else None
    strongest = (f" The highest cell: {peak['term']} in {peak['doc_id']} ({peak['per_1000_tokens']:.1f} per 1,000)."
                 if peak is not None else "")
    return (f"Heat map of the corpus's {d['term'].nunique()} top terms (rows) in {_shown(n, r)} (columns), "
            f"per 1,000 word tokens.{strongest}")


def _rank_frequency(d: pd.DataFrame, r: Results) -> str:
    corpus = d[d["scope"] == "corpus"]
    if (d["scope"] == "document").any():
        others = _documents(d.loc[d["scope"] == "document", "doc_id"].nunique())
    elif (d["scope"] == "group").any():
        others = f"the {d.loc[d['scope'] == 'group', 'group'].nunique()} largest groups by {r.group_column}"
    else:
        others = f"none of its {_documents(r.prepared.n_documents)} singly"
    return (f"Log-log rank-frequency (Zipf) curves of the corpus ({len(corpus):,} terms) and of {others}, with a "
            f"reference line of slope -1. Most frequent: " + _items(corpus.sort_values("rank")["term"]) + ".")


def _collocates(d: pd.DataFrame, r: Results) -> str:
    if d.empty:
        return "No collocates: the focus terms do not occur, or have no collocate above the threshold."
    parts = [f"{node}: {_items(group.sort_values('log_likelihood', ascending=False)['collocate'], 4)}"
             for node, group in d.groupby("node", sort=False)]
    return (f"Bar charts of the strongest collocates (log-likelihood, window {r.settings.window}) of "
            f"{d['node'].nunique()} focus terms. " + "; ".join(parts) + ".")


def _keyness(d: pd.DataFrame, r: Results) -> str:
    positive = d[d["direction"] == "positive"]
    return (f"Small multiples, one per document ({_shown(d['doc_id'].nunique(), r)}), of keywords against the "
            f"rest of the corpus by log-likelihood (G2). Top positive keywords: "
            f"{_by_document_terms(positive, 'log_likelihood')}.")


def _group_keyness(d: pd.DataFrame, r: Results) -> str:
    parts = [f"{group}: {_items(rows['term'], 3)}" for group, rows in d.groupby("group", sort=False)]
    return (f"Small multiples, one per {r.grouping.column} ({d['group'].nunique()} of {len(r.grouping.names)} "
            f"groups), of the group's keywords against the rest of the corpus by log ratio, ranked by G2. "
            + "; ".join(parts[:MAX_ITEMS]) + ".")


def _keyness_reference(d: pd.DataFrame, r: Results) -> str:
    positive = d[d["direction"] == "positive"].sort_values("log_likelihood", ascending=False)
    return (f"Bar chart of the corpus's keywords against general usage (wordfreq's word frequencies "
            f"for language '{r.settings.language}'), by log ratio. Strongest: " + _items(positive["term"]) + ".")


def _dispersion(d: pd.DataFrame, r: Results) -> str:
    dp = d.drop_duplicates("term").set_index("term")["dp"]
    spread = _items(f"{t} (DP {v:.2f})" for t, v in dp.items())
    total = r.prepared.n_documents
    per_term = d.groupby("term")["doc_id"].nunique().max() if len(d) else 0
    where = (f"each of {_documents(total)}" if d["doc_id"].nunique() >= total else
             f"the documents that use each term most (up to {per_term} of {_documents(total)} per term)")
    return (f"X-ray plot: where {d['term'].nunique()} focus terms occur along {where}. Gries's DP, "
            f"0 for an even spread: {spread or 'no occurrences'}.")


def _reuse_matrix(d: pd.DataFrame, r: Results) -> str:
    if d.empty:
        return "Document by document matrix of reused text: no passage is shared between documents."
    top = d.loc[d["share"].idxmax()]
    return (f"Document by document matrix: the share of each document's words (rows) in passages shared with "
            f"another (columns); {len(d):,} pairs share text. Largest: {top['doc_id']} with {top['other_doc_id']}, "
            f"{top['share']:.1%} of its words.")


def _reused_share(d: pd.DataFrame, r: Results) -> str:
    from analysis.plots.reuse import MAX_REUSED_SHARE_BARS

    reused = d[d["share"] > 0]
    if len(d) > MAX_REUSED_SHARE_BARS:
        whole = int((d["share"] >= 1).sum())
        return (f"Histogram of the share of each document's words that appear in passages shared with other "
                f"documents, over {_documents(len(d))}: {len(d) - len(reused):,} reuse none, "
                f"{len(reused) - whole:,} some and {whole:,} all of their words; median share among those that "
                f"reuse text {reused['share'].median():.0%}." if len(reused) else
                f"Histogram of reused shares: none of the {_documents(len(d))} shares a passage with another.")
    top = d.sort_values(["share", "doc_id"], ascending=[False, True]).head(3)
    return (f"Bar chart of the share of each document's words that appear in passages shared with other documents: "
            f"{len(reused):,} of {_documents(len(d))} reuse text. Highest: "
            + _items(f"{doc} ({share:.1%})" for doc, share in zip(top["doc_id"], top["share"])) + ".")


def _claim_framing(d: pd.DataFrame, r: Results) -> str:
    docs = d[d["by"] == "doc"]
    totals = docs.groupby(["category", "polarity"])["count"].sum()
    listed = _items((f"{c} {p} {n:,}" for (c, p), n in totals.items()), n=len(totals))
    return (f"Stacked bars of risk and benefit claims, asserted, hedged, compared or negated, per article "
            f"({docs['group'].nunique()} articles). Totals: {listed}.")


def _hedging_density(d: pd.DataFrame, r: Results) -> str:
    rates = d.pivot_table(index="doc_id", columns="marker", values="per_1000_words", aggfunc="sum")
    parts = _items(f"{marker} {rates[marker].min():.1f} to {rates[marker].max():.1f}" for marker in rates.columns)
    return (f"Bar chart of hedges and boosters per 1,000 words of each of {_documents(len(rates))}. Ranges: "
            f"{parts}.")


def _topic_names(d: pd.DataFrame) -> str:
    labels = d.drop_duplicates("topic").sort_values("topic")
    return "; ".join(f"{t}: {label}" for t, label in zip(labels["topic"], labels["label"]))


def _topic_terms(d: pd.DataFrame, r: Results) -> str:
    return (f"Small multiples of {d['topic'].nunique()} LDA topics, each a bar chart of its top terms by relevance "
            f"(lambda {r.settings.relevance_lambda}). Topics: {_topic_names(d)}.")


def _topic_heatmap(d: pd.DataFrame, r: Results) -> str:
    rows = d["row"].nunique()
    n_docs = d["doc_id"].nunique()
    what = "paragraphs in reading order" if rows > n_docs else f"documents ({_shown(n_docs, r)})"
    strongest = d.groupby("label")["weight"].mean().sort_values(ascending=False)
    return (f"Heat map of {d['topic'].nunique()} topic shares (columns) in {rows:,} rows: {what}. Mean shares: "
            + _items(f"{label} {w:.0%}" for label, w in strongest.items()) + ".")


def _topic_prevalence(d: pd.DataFrame, r: Results) -> str:
    docs = d[d["group_by"] == "document"]
    overall = docs.groupby("label")["tokens"].sum().sort_values(ascending=False)
    share = overall / overall.sum() if overall.sum() else overall
    return (f"Stacked bars of topic shares per document ({_shown(docs['group'].nunique(), r)})"
            + (" and per section role" if (d["group_by"] == "role").any() else "")
            + ". Share of the shown documents' tokens: "
            + _items(f"{label} {s:.0%}" for label, s in share.items()) + ".")


def _intertopic_map(d: pd.DataFrame, r: Results) -> str:
    top = d.sort_values("prevalence", ascending=False)
    return (f"Map of {len(d)} topics placed by Jensen-Shannon distance, circles sized by prevalence. Most "
            f"prevalent: " + _items(f"{t} {label} ({p:.0%})" for t, label, p in
                                    zip(top["topic"], top["label"], top["prevalence"])) + ".")


def _group_topic_prevalence(d: pd.DataFrame, r: Results) -> str:
    if d.empty:
        return "No topic prevalence by group: no grouped documents."
    lift = d.assign(lift=d["prevalence"] - d["corpus_prevalence"]).sort_values("lift", ascending=False)
    parts = "; ".join(f"topic {t} ({label}) in {g}: {p:.0%} [{lo:.0%}, {hi:.0%}] against {c:.0%} overall"
                      for t, label, g, p, lo, hi, c in lift[["topic", "label", "group", "prevalence", "low", "high",
                                                             "corpus_prevalence"]].head(3).itertuples(index=False))
    return (f"Small multiples, one per topic ({d['topic'].nunique()}), of each {r.grouping.column}'s mean topic share "
            f"with 95% bootstrap intervals ({d['group'].nunique()} groups). Largest excesses over the corpus: "
            f"{parts}.")


def _peaks(d: pd.DataFrame, key: str, value: str, name: str, fmt: str, *, sort: bool) -> str:
    """``"rising peaks in 2004 (10.2); ..."``: the period of each ``key``'s highest ``value``, in ``key``
    order when ``sort``, else in the table's."""
    parts = []
    for item, rows in d.groupby(key, sort=sort):
        peak = rows.loc[rows[value].idxmax()]
        parts.append(f"{name}{item} peaks in {peak['period']} ({peak[value]:{fmt}})")
    return "; ".join(parts[:MAX_ITEMS])


def _term_trends(d: pd.DataFrame, r: Results) -> str:
    if d.empty:
        return "No term trends: no focus terms."
    periods = d["period"].drop_duplicates()
    return (f"Line chart of {d['term'].nunique()} focus terms per 1,000 word tokens over {len(periods)} periods of "
            f"{r.periods.column} ({periods.iloc[0]} to {periods.iloc[-1]}), with 95% bootstrap bands. "
            + _peaks(d, "term", "per_1000_tokens", "", ".1f", sort=False) + ".")


def _topic_trends(d: pd.DataFrame, r: Results) -> str:
    if d.empty:
        return "No topic trends: no ordered documents."
    periods = d["period"].drop_duplicates()
    return (f"Small multiples, one per topic ({d['topic'].nunique()}), of its mean share of each period's documents "
            f"over {len(periods)} periods of {r.periods.column}, with 95% bootstrap bands. "
            + _peaks(d, "topic", "prevalence", "topic ", ".0%", sort=True) + ".")


def _topic_stability(d: pd.DataFrame, r: Results) -> str:
    if d.empty:
        return "Topic stability: one seed was fitted, so there is nothing to compare."
    mean = d.groupby(["topic", "label"])["similarity"].median().sort_values()
    ami = d.drop_duplicates("seed")["ami"]
    return (f"Dot plot, per topic ({len(mean)}), of the similarity of its best match in each of "
            f"{d['seed'].nunique()} other seeds' runs (1 - Jensen-Shannon distance). Least stable: "
            + _items(f"{t} {label} (median {s:.2f})" for (t, label), s in mean.head(3).items())
            + f". The units' main topics agree with the reported run's with an adjusted mutual information of "
              f"median {ami.median():.2f} (min {ami.min():.2f}, max {ami.max():.2f}).")


def _topic_convergence(d: pd.DataFrame, r: Results) -> str:
    if d.empty:
        return "Topic convergence: this engine records no log-likelihood trace."
    reported = d[d["reported"]]
    sweeps, change = topics.late_change(d)
    runs = d.groupby("seed").agg(sweeps=("sweep", "max"), stopped=("stopped", "first")).reset_index()
    runs["why"] = runs["stopped"].str.split("; ").str[0]
    starts = runs["stopped"].str.extract(r"start (\d+) of (\d+), the most likely after (\d+) sweeps")
    kept = "" if starts[0].isna().any() else (
        f" Each the most likely of {starts[1].iat[0]} starts after {starts[2].iat[0]} sweeps (start kept: "
        + ", ".join(f"seed {seed} {start}" for seed, start in zip(runs["seed"], starts[0])) + ").")
    return (f"Line chart of the log-likelihood per word against the Gibbs sweeps for {d['seed'].nunique()} seeds' "
            f"fits. The reported run (seed {reported['seed'].iat[0]}) ends at {reported['log_likelihood'].iat[-1]:.3f} "
            f"after {reported['sweep'].max()} sweeps; its mean over the last {sweeps} sweeps differs by "
            f"{change:+.4f} from the {sweeps} before. Sweeps run: " + "; ".join(
                f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}: {n} (stopped by {why})"
                for (n, why), seeds in runs.groupby(["sweeps", "why"])["seed"]) + "." + kept)


def _k_selection(d: pd.DataFrame, r: Results) -> str:
    ks = sorted(d["k"].unique())
    medians = d.groupby(["metric", "k"])["value"].median().unstack("k")
    best = []
    for metric in ("c_v", "c_npmi", "c_npmi_shown"):
        if metric in medians.index:
            best.append(f"{metric} highest at K={medians.loc[metric].idxmax()}")
    if "perplexity" in medians.index:
        best.append(f"perplexity lowest at K={medians.loc['perplexity'].idxmin()}")
    return (f"Line charts of coherence, held-out perplexity and stability against K ({ks[0]} to {ks[-1]}) over "
            f"{d['seed'].nunique()} seeds; the chosen K is {r.settings.k}. " + "; ".join(best) + ".")


DESCRIBE: dict[str, Callable[[pd.DataFrame, Results], str]] = {
    "document-structure": _document_structure,
    "preprocessing-waterfall": _preprocessing_waterfall,
    "top-terms": _top_terms,
    "distinctive-terms": _distinctive_terms,
    "term-document-heatmap": _term_document_heatmap,
    "rank-frequency": _rank_frequency,
    "collocates": _collocates,
    "keyness": _keyness,
    "group-keyness": _group_keyness,
    "keyness-reference": _keyness_reference,
    "dispersion": _dispersion,
    "reuse-matrix": _reuse_matrix,
    "reused-share": _reused_share,
    "claim-framing": _claim_framing,
    "hedging-density": _hedging_density,
    "topic-terms": _topic_terms,
    "topic-heatmap": _topic_heatmap,
    "topic-prevalence": _topic_prevalence,
    "intertopic-map": _intertopic_map,
    "topic-prevalence-by-group": _group_topic_prevalence,
    "term-trends": _term_trends,
    "topic-trends": _topic_trends,
    "topic-stability": _topic_stability,
    "topic-convergence": _topic_convergence,
    "k-selection": _k_selection,
}


def alt_text(name: str, data: pd.DataFrame, results: Results) -> str:
    """The description of figure ``name`` drawn from ``data``: one paragraph of plain text.

    Parameters
    ----------
    name : str
        A registered figure (:data:`analysis.figures.REGISTRY`).
    data : DataFrame
        The table the figure draws.
    results : Results
        The analyses it came from (settings, corpus size, grouping).

    Returns
    -------
    str
    """
    return " ".join(DESCRIBE[name](data, results).split())
