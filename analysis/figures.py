"""The one registry of figures, used by the CLI and the notebooks alike.

Each entry names a figure by its content, says in one line what it shows,
computes the tidy table behind it and draws it with a function of
:mod:`analysis.plots`. :func:`make_figure` returns the figure and its data;
saving is :mod:`analysis.export`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis import claims, concordance, groups, plots, terms, topics
from analysis.config import Settings
from analysis.corpus import Corpus
from analysis.errors import AnalysisError
from analysis.results import Results


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure.

    Attributes
    ----------
    name : str
        File stem, named by content (``top-terms``).
    description : str
        One line for ``corpus-analysis list``.
    data : callable
        ``(Results) -> DataFrame``: the data drawn, exported as CSV.
    draw : callable
        ``(DataFrame, Results) -> Axes`` (or an array of Axes): draws on a new figure.
    """

    name: str
    description: str
    data: Callable[[Results], pd.DataFrame]
    draw: Callable[[pd.DataFrame, Results], Axes]


# Per-document figures show every document of a corpus that fits a page, else that many chosen by a
# criterion the figure states (Results.documents_shown: the most typical of each group in turn, or the
# longest), never "the first N by id".
DOCUMENTS_SHOWN = {"document-structure": 25, "distinctive-terms": 6, "term-document-heatmap": 30,
                   "dispersion": 30, "topic-prevalence": 30, "topic-heatmap": 60}


def _shown_ids(r: Results, figure: str) -> list[str] | None:
    """The documents of ``figure`` (:data:`DOCUMENTS_SHOWN`, :meth:`Results.documents_shown`), or None for all
    when the corpus has no more."""
    n = DOCUMENTS_SHOWN[figure]
    return None if r.prepared.n_documents <= n else r.documents_shown(n)


def _shown(r: Results, table: pd.DataFrame, figure: str) -> pd.DataFrame:
    """``table`` (with ``doc_id``) restricted to the documents of ``figure`` (:func:`_shown_ids`)."""
    shown = _shown_ids(r, figure)
    return table if shown is None else table[table["doc_id"].isin(shown)].reset_index(drop=True)


def _dispersion_data(r: Results) -> pd.DataFrame:
    """The focus terms' positions in every document, or, when the corpus has more than
    :data:`DOCUMENTS_SHOWN`, in the that many documents that use each term most
    (:func:`analysis.concordance.documents_by_use`), with the term's corpus count (``term_count``): an
    X-ray plot of documents that never use a term shows nothing."""
    table = r.dispersion
    n = DOCUMENTS_SHOWN["dispersion"]
    if r.prepared.n_documents <= n:
        return table
    counts = table.dropna(subset=["relative_position"]).groupby("term").size()
    parts = [rows[rows["doc_id"].isin(concordance.documents_by_use(rows)[:n])]
             for _, rows in table.groupby("term", sort=False)]
    chosen = pd.concat(parts, ignore_index=True)
    return chosen.assign(term_count=chosen["term"].map(counts).fillna(0).astype(int))


def _top_terms_data(r: Results) -> pd.DataFrame:
    return terms.term_frequencies(r.terms, "corpus").nsmallest(r.settings.top_n, "rank")


def _distinctive_data(r: Results) -> pd.DataFrame:
    table = terms.tfidf(r.terms, documents=_shown_ids(r, "distinctive-terms"))
    return table[table["rank"] <= 6].reset_index(drop=True)


def _heatmap_data(r: Results) -> pd.DataFrame:
    top = terms.term_frequencies(r.terms, "corpus").nsmallest(r.settings.top_n, "rank")["term"]
    table = terms.term_frequencies(r.terms, "document", documents=_shown_ids(r, "term-document-heatmap"))
    return table[table["term"].isin(top)].reset_index(drop=True)


MAX_HEATMAP_ROWS = 120
RANK_FREQUENCY_CURVES = 7  # curves besides the corpus's that a log-log plot keeps apart


def _rank_frequency_data(r: Results) -> pd.DataFrame:
    """The corpus's curve with each document's when there are at most :data:`RANK_FREQUENCY_CURVES`;
    else with the curves of the largest that many groups (a grouped corpus), or alone."""
    if r.prepared.n_documents <= RANK_FREQUENCY_CURVES:
        return terms.rank_frequency(r.terms)
    corpus = terms.rank_frequency(r.terms, documents=False)
    if r.group_column is None:
        return corpus
    drawn = r.grouping.summary().nlargest(RANK_FREQUENCY_CURVES, "documents", keep="first")["group"]
    table = groups.group_terms(r.group_counts)
    table = table[table["group"].isin(drawn)]
    by_group = pd.DataFrame({"scope": "group", "doc_id": "", "term": table["term"], "count": table["count"],
                             "rank": table["rank"],
                             "relative_frequency": table["count"] / table.groupby("group")["count"].transform("sum"),
                             "group": table["group"]})
    return pd.concat([corpus.assign(group=""), by_group], ignore_index=True)


def _claim_framing_data(r: Results) -> pd.DataFrame:
    """Framing per document, and per section role where the document template was found (a corpus of
    plain paragraphs has one role: a panel of it would repeat the corpus total)."""
    counts = r.tagged_claims.counts
    parts = [claims.framing(counts, "doc")]
    if set(counts["block_role"]) - {"paragraph"}:
        parts.append(claims.framing(counts, "role"))
    return pd.concat(parts, ignore_index=True)


def _topic_terms_data(r: Results) -> pd.DataFrame:
    model = r.topics.model
    table = topics.topic_terms(model, n=10, lam=r.settings.relevance_lambda, by="relevance")
    table["prevalence"] = table["topic"].map(dict(zip(model.topic_ids, model.prevalence)))
    return table


def _topic_heatmap_data(r: Results) -> pd.DataFrame:
    """Units in reading order when there are few; documents otherwise (the first
    MAX_HEATMAP_ROWS by id)."""
    model = r.topics.model
    labels = topics.topic_labels(model, r.settings.relevance_lambda)
    if model.unit != "document" and len(model.units) <= MAX_HEATMAP_ROWS:
        table = topics.unit_topics(model)
        short = plots.short_labels(sorted(table["doc_id"].unique()))
        table = table.sort_values(["doc_id", "position", "topic"], ignore_index=True)
        table["row"] = table.groupby(["doc_id", "position"], sort=False).ngroup()
        table["row_label"] = [f"{short[d]} {p + 1:>2} {role}" for d, p, role in
                              zip(table["doc_id"], table["position"], table["role"])]
    else:
        table = topics.doc_topics(model, documents=_shown_ids(r, "topic-heatmap"))
        docs = sorted(table["doc_id"].unique())
        table["row"] = table["doc_id"].map({d: i for i, d in enumerate(docs)})
        short = plots.short_labels(docs)
        table["row_label"] = table["doc_id"].map(short)
    table["label"] = table["topic"].map(labels)
    return table[["row", "doc_id", "row_label", "topic", "label", "weight"]]


def _heatmap_subtitle(r: Results) -> str:
    model = r.topics.model
    subtitle = model.subtitle()
    if model.unit == "document" or len(model.units) > MAX_HEATMAP_ROWS:
        n_docs = r.prepared.n_documents
        shown = DOCUMENTS_SHOWN["topic-heatmap"]
        note = plots.shown_note(shown, n_docs, r.documents_chosen_by)
        rows = f"rows: documents, {note}" if note else "rows: documents"
        return f"{subtitle}\n{rows}"
    return f"{subtitle}\nrows: document, paragraph number, role"


def _prevalence_data(r: Results) -> pd.DataFrame:
    model = r.topics.model
    parts = [topics.topic_prevalence(model, "document", documents=_shown_ids(r, "topic-prevalence"))]
    if model.unit != "document" and (model.units["role"] != "paragraph").any():
        parts.append(topics.topic_prevalence(model, "role"))
    return pd.concat(parts, ignore_index=True)


MAX_KEYNESS_PANELS = 5  # a panel of nine keywords per document: five fit a page


def _keyness_data(r: Results) -> pd.DataFrame:
    """Per-document keyness of every document when they fit a page, else of the :data:`MAX_KEYNESS_PANELS`
    that :meth:`Results.documents_shown` chooses (grouped corpora compare their groups in ``group-keyness``)."""
    table = r.keyness
    if table["doc_id"].nunique() <= MAX_KEYNESS_PANELS:
        return table
    return table[table["doc_id"].isin(r.documents_shown(MAX_KEYNESS_PANELS))].reset_index(drop=True)


MAX_GROUPS_DRAWN = 20


def _group_keyness_data(r: Results) -> pd.DataFrame:
    """The strongest positive keywords of each group (of the largest :data:`MAX_GROUPS_DRAWN`
    groups, in the grouping's order), with the group's size."""
    found = r.grouping
    sizes = found.summary()
    drawn = sizes.nlargest(MAX_GROUPS_DRAWN, "documents", keep="first")["group"]
    n = 8 if len(drawn) <= 6 else 5
    table = r.group_keyness
    table = table[(table["direction"] == "positive") & table["group"].isin(drawn)]
    table = table.groupby("group", sort=False).head(n).merge(sizes, on="group")
    return table[["group", "documents", "term", "count", "per_1000_tokens", "per_1000_tokens_reference",
                  "log_ratio", "log_likelihood", "p_value", "direction", "significant"]]


MAX_TOPICS_DRAWN = 20


def _group_topics_data(r: Results) -> pd.DataFrame:
    """Topic prevalence of the largest :data:`MAX_GROUPS_DRAWN` groups, for the
    :data:`MAX_TOPICS_DRAWN` most prevalent topics, in topic order."""
    table = r.group_topic_prevalence
    drawn = r.grouping.summary().nlargest(MAX_GROUPS_DRAWN, "documents", keep="first")["group"]
    return table[table["group"].isin(drawn) & table["topic"].isin(_prevalent_topics(r))].reset_index(drop=True)


def _prevalent_topics(r: Results) -> list[int]:
    """The :data:`MAX_TOPICS_DRAWN` most prevalent topics, in topic order."""
    model = r.topics.model
    order = np.argsort(-np.asarray(model.prevalence), kind="stable")
    return sorted(np.asarray(model.topic_ids)[order][:MAX_TOPICS_DRAWN].tolist())


def _group_topics_subtitle(r: Results, grouped: bool = True) -> str:
    model = r.topics.model
    shown = []
    if model.k > MAX_TOPICS_DRAWN:
        shown.append(f"the {MAX_TOPICS_DRAWN} most prevalent of {model.k} topics")
    if grouped and len(r.grouping.names) > MAX_GROUPS_DRAWN:
        shown.append(f"the {MAX_GROUPS_DRAWN} largest of {len(r.grouping.names)} groups")
    return model.subtitle().replace("\n", "; ") + (f"\n{'; '.join(shown)}" if shown else "")


def _topic_trends_data(r: Results) -> pd.DataFrame:
    """Topic prevalence per period, for the :data:`MAX_TOPICS_DRAWN` most prevalent topics."""
    table = r.topic_trends
    return table[table["topic"].isin(_prevalent_topics(r))].reset_index(drop=True)


def _selection_subtitle(r: Results) -> str:
    """What the K x seed grid was fitted on (every unit, or a sample of them on large corpora) and how
    the figure reads."""
    terms = (f"coherence of the top 10 terms by weight; NPMI also of the 10 shown\n"
             f"(by relevance at \u03bb = {r.settings.relevance_lambda:g})")
    if topics.selection_sample(len(r.units), r.settings) is None:
        return (f"fitted on {r.units.describe()}; 20% held out for perplexity\n{terms}\n"
                "line: median over seeds; band: min\u2013max")
    return (f"fitted on a random sample of {r.settings.k_selection_units:,} of {r.units.describe()}\n"
            f"20% held out for perplexity; {terms}\nline: median over seeds; band: min\u2013max")


def _stability_data(r: Results) -> pd.DataFrame:
    """The topic similarities, with each run's agreement with the reported run (AMI of the units' main
    topics) beside them."""
    return r.topics.stability.merge(topics.run_agreement(r.topics), on="seed", how="left")


def _agreement_note(d: pd.DataFrame) -> str:
    ami = d.drop_duplicates("seed")["ami"]
    if ami.empty:
        return ""
    return (f"units' main topics vs the reported run's: adjusted mutual information\nmedian {ami.median():.2f} "
            f"(min {ami.min():.2f}, max {ami.max():.2f}) over {len(ami)} other seeds")


def _draw_stability(d: pd.DataFrame, r: Results):
    return plots.plot_topic_stability(d, subtitle=f"{r.topics.model.subtitle()}\n{_agreement_note(d)}".strip())


def _convergence_note(d: pd.DataFrame) -> str:
    if d.empty:
        return ""
    sweeps, change = topics.late_change(d)
    # one line for the setting, one for the kept start, one for the starts' log-likelihoods
    stopped = "stopped by " + d.loc[d["reported"], "stopped"].iat[0].replace("; ", "\n", 1).replace(" sweeps (", " sweeps\n(")
    return stopped if not sweeps else (f"{stopped}\nlate drift of the reported run: {change:+.4f} per word\n"
                                       f"(mean of its last {sweeps} sweeps minus the {sweeps} before)")


REGISTRY: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        FigureSpec(
            "document-structure",
            "Each document as a bar of its blocks coloured by role (summary, intro, outline, headings, body, "
            "conclusion); length in word tokens.",
            lambda r: _shown(r, terms.block_overview(r.terms), "document-structure"),
            lambda d, r: plots.plot_document_structure(d, n_documents=r.prepared.n_documents,
                                                  chosen_by=r.documents_chosen_by),
        ),
        FigureSpec(
            "preprocessing-waterfall",
            "Tokens and types left after each preprocessing step, and what each step removed or joined.",
            lambda r: r.terms.waterfall,
            lambda d, r: plots.plot_preprocessing_waterfall(d),
        ),
        FigureSpec(
            "top-terms",
            "The most frequent terms of the corpus, per 1,000 word tokens (raw counts on the bars).",
            _top_terms_data,
            lambda d, r: plots.plot_top_terms(d, n=r.settings.top_n),
        ),
        FigureSpec(
            "distinctive-terms",
            "Small multiples: the six most distinctive terms (TF-IDF) of each document.",
            _distinctive_data,
            lambda d, r: plots.plot_distinctive_terms(d, n=6, n_documents=r.prepared.n_documents,
                                                  chosen_by=r.documents_chosen_by),
        ),
        FigureSpec(
            "term-document-heatmap",
            "The corpus's top terms by document, per 1,000 word tokens (cells print raw counts).",
            _heatmap_data,
            lambda d, r: plots.plot_term_heatmap(d, n=r.settings.top_n, n_documents=r.prepared.n_documents,
                                                  chosen_by=r.documents_chosen_by),
        ),
        FigureSpec(
            "rank-frequency",
            "Rank-frequency (Zipf) curves of the corpus and of each document (of the largest groups when the "
            "documents are many) on log-log axes.",
            _rank_frequency_data,
            lambda d, r: plots.plot_rank_frequency(d, n_documents=r.prepared.n_documents,
                                                   column=r.group_column or "group"),
        ),
        FigureSpec(
            "collocates",
            "Strongest collocates (log-likelihood within the window) of the first three focus terms.",
            lambda r: r.collocates,
            lambda d, r: plots.plot_collocates(d, window=r.settings.window),
        ),
        FigureSpec(
            "keyness",
            "Small multiples: each document's positive and negative keywords against the rest of the corpus (G2).",
            _keyness_data,
            lambda d, r: plots.plot_keyness(d, n_documents=r.prepared.n_documents,
                                                  chosen_by=r.documents_chosen_by),
        ),
        FigureSpec(
            "group-keyness",
            "Small multiples: each group's keywords against the rest of the corpus (log ratio, ranked by G2); "
            "drawn when documents are grouped (--by, or the sub-folders of a folder corpus).",
            _group_keyness_data,
            lambda d, r: plots.plot_group_keyness(d, column=r.grouping.column, n_groups=len(r.grouping.names)),
        ),
        FigureSpec(
            "keyness-reference",
            "The corpus's keywords against general English (wordfreq), by log ratio, ranked by G2.",
            lambda r: r.reference_keyness,
            lambda d, r: plots.plot_reference_keyness(d),
        ),
        FigureSpec(
            "dispersion",
            "X-ray plot: where each focus term occurs along each document, with Gries's DP.",
            _dispersion_data,
            lambda d, r: plots.plot_dispersion(d, n_documents=r.prepared.n_documents),
        ),
        FigureSpec(
            "reuse-matrix",
            "Document x document: the share of each document's words found in passages shared with another.",
            lambda r: r.reuse.reuse_matrix,
            lambda d, r: plots.plot_reuse_matrix(d, documents=r.reuse.reused_share["doc_id"]),
        ),
        FigureSpec(
            "reused-share",
            "The share of each document's words that appear in passages shared with other documents.",
            lambda r: r.reuse.reused_share,
            lambda d, r: plots.plot_reused_share(d),
        ),
        FigureSpec(
            "claim-framing",
            "Risk vs benefit claims, asserted, hedged, compared or negated, per article and per section role.",
            _claim_framing_data,
            lambda d, r: plots.plot_claim_framing(d),
        ),
        FigureSpec(
            "hedging-density",
            "Hedges and boosters per 1,000 words of each article (lexicons after Hyland 2005).",
            lambda r: r.hedging_density,
            lambda d, r: plots.plot_hedging_density(d),
        ),
        FigureSpec(
            "topic-terms",
            "Small multiples: each LDA topic's top terms by relevance (estimated topic tokens over corpus tokens).",
            _topic_terms_data,
            lambda d, r: plots.plot_topic_terms(d, lam=r.settings.relevance_lambda,
                                                      subtitle=r.topics.model.subtitle()),
        ),
        FigureSpec(
            "topic-heatmap",
            "Topic shares of each unit (paragraphs in reading order) or document: where the topics sit.",
            _topic_heatmap_data,
            lambda d, r: plots.plot_topic_heatmap(d, subtitle=_heatmap_subtitle(r)),
        ),
        FigureSpec(
            "topic-prevalence",
            "Stacked topic shares per document and per section role (summary, intro, body, conclusion).",
            _prevalence_data,
            lambda d, r: plots.plot_topic_prevalence(d, subtitle=r.topics.model.subtitle(),
                                                     n_documents=r.prepared.n_documents,
                                                     chosen_by=r.documents_chosen_by),
        ),
        FigureSpec(
            "intertopic-map",
            "Topics placed by Jensen-Shannon distance (classical scaling), sized by prevalence, labelled.",
            lambda r: topics.intertopic_map(r.topics.model),
            lambda d, r: plots.plot_intertopic_map(d, subtitle=r.topics.model.subtitle()),
        ),
        FigureSpec(
            "topic-prevalence-by-group",
            "Per topic: each group's mean topic share with a 95% bootstrap interval over its documents; drawn "
            "when documents are grouped.",
            _group_topics_data,
            lambda d, r: plots.plot_group_topic_prevalence(d, column=r.grouping.column,
                                                           subtitle=_group_topics_subtitle(r)),
        ),
        FigureSpec(
            "term-trends",
            "The focus terms' rates per 1,000 word tokens in each period of the ordered column (--over), with "
            "95% bootstrap bands over documents; drawn when an ordered column is set.",
            lambda r: r.term_trends,
            lambda d, r: plots.plot_term_trends(d, column=r.periods.column, bins=r.periods.bins),
        ),
        FigureSpec(
            "topic-trends",
            "Per topic: its mean share of each period's documents (--over), with a 95% bootstrap band; drawn "
            "when an ordered column is set.",
            _topic_trends_data,
            lambda d, r: plots.plot_topic_trends(d, column=r.periods.column, bins=r.periods.bins,
                                                 subtitle=_group_topics_subtitle(r, grouped=False)),
        ),
        FigureSpec(
            "topic-stability",
            "Per topic: similarity of its best match in each other seed's run (1 - Jensen-Shannon distance).",
            _stability_data,
            _draw_stability,
        ),
        FigureSpec(
            "topic-convergence",
            "Each seed's log-likelihood per word against the Gibbs sweeps (the reported run in colour), and why "
            "the fits stopped: is the model the figures report still changing?",
            lambda r: topics.convergence_table(r.topics),
            lambda d, r: plots.plot_topic_convergence(d, subtitle=r.topics.model.subtitle(),
                                                      note=_convergence_note(d)),
        ),
        FigureSpec(
            "k-selection",
            "c_v, NPMI and u_mass coherence, held-out perplexity and stability against K, over seeds.",
            lambda r: r.k_selection,
            lambda d, r: plots.plot_k_selection(d, chosen_k=r.settings.k, subtitle=_selection_subtitle(r)),
        ),
    )
}


def figure_names(*, grouped: bool = False, ordered: bool = False, lenses: Sequence[str] = ()) -> list[str]:
    """Registered figure names, in registry order: the comparisons of groups (:data:`GROUP_FIGURES`)
    only when the documents are ``grouped``, the trends (:data:`TREND_FIGURES`) when ``ordered``,
    the claim figures (:data:`CLAIM_FIGURES`) when the ``health-claims`` lens is on."""
    return [name for name in REGISTRY
            if (grouped or name not in GROUP_FIGURES) and (ordered or name not in TREND_FIGURES)
            and ("health-claims" in lenses or name not in CLAIM_FIGURES)]


def figures_for(settings: Settings, corpus: Corpus | None = None) -> list[str]:
    """The figures a ``figures`` run of ``settings`` draws (:func:`figure_names` for its grouping,
    ordered column and lenses); decided from the corpus's file list, before it is read."""
    from analysis.groups import grouping_column

    corpus = corpus if corpus is not None else Corpus.from_settings(settings)
    return figure_names(grouped=grouping_column(settings, corpus) is not None, ordered=bool(settings.over),
                        lenses=settings.lenses)


def get_spec(name: str) -> FigureSpec:
    """The spec called ``name``; a clear error listing the names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise AnalysisError(f"--only: unknown figure '{name}' (known: {', '.join(REGISTRY)})") from None


READING_FIGURES = ("collocates", "keyness", "keyness-reference", "dispersion")
GROUP_FIGURES = ("group-keyness", "topic-prevalence-by-group")
TREND_FIGURES = ("term-trends", "topic-trends")
REUSE_FIGURES = ("reuse-matrix", "reused-share")
CLAIM_FIGURES = ("claim-framing", "hedging-density")
TOPIC_FIGURES = ("topic-terms", "topic-heatmap", "topic-prevalence", "intertopic-map", "topic-stability",
                 "topic-convergence", "k-selection")
USES_TOPICS = (*TOPIC_FIGURES, "topic-prevalence-by-group", "topic-trends")


def make_figure(name: str, results: Results) -> tuple[Figure, pd.DataFrame]:
    """Compute and draw the figure called ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`.
    results : Results
        The analyses of one corpus and settings (computed on first use).

    Returns
    -------
    (Figure, DataFrame)
        The drawn figure (not saved, not closed) and the data behind it.
    """
    spec = get_spec(name)
    data = spec.data(results)
    with plt.rc_context(plots.STYLE):
        measured = _figure_of(spec.draw(data, results))
        wide = _too_narrow(measured)
        plt.close(measured)  # laid out once, it would save with a different layout: drawn again from scratch
        fig = _figure_of(spec.draw(data, results))
        if wide:
            fig.set_figwidth(2 * plots.SINGLE_COLUMN_IN)
    return fig, data


def _figure_of(drawn) -> Figure:
    return (np.ravel(drawn)[0] if isinstance(drawn, np.ndarray) else drawn).figure


LABEL_ROOM_IN = 1.3  # row labels wider than this leave a single-column plot too narrow for its title


def _too_narrow(fig: Figure) -> bool:
    """Whether a single-column figure needs two columns: its row labels (long document ids, say) are
    wider than :data:`LABEL_ROOM_IN`, or its text runs past its right edge once laid out. Draws ``fig``."""
    if fig.get_figwidth() >= 2 * plots.SINGLE_COLUMN_IN:
        return False
    fig.canvas.draw()  # lays the figure out: the extents below are where the text is drawn
    renderer = fig.canvas.get_renderer()
    widest = max((label.get_window_extent(renderer).width for ax in fig.axes for label in ax.get_yticklabels()
                  if label.get_text()), default=0.0) / fig.dpi
    ticks = {id(label) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
             for tick in axis.get_major_ticks() + axis.get_minor_ticks() for label in (tick.label1, tick.label2)}
    overflows = any(text.get_window_extent(renderer).x1 > fig.bbox.width + 1 for text in fig.findobj(Text)
                    if text.get_text() and text.get_visible() and id(text) not in ticks)
    return widest > LABEL_ROOM_IN or overflows
