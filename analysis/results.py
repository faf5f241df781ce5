"""Every analysis of one corpus and one set of settings, computed on demand.

:class:`Results` is what the figure registry, the CLI and the notebooks share:
the corpus is read and the phrases learned once, term counts and topic
models are computed the first time something asks for them and then reused.
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable, Iterable

import pandas as pd

from analysis import claims, concordance, keyness, reuse, terms, topics
from analysis.config import Settings, parse_k_grid
from analysis.corpus import Corpus
from analysis.terms import TermCounts
from analysis.tokens import Preprocessor, excluded_roles, fitted_preprocessor


class Results:
    """Lazily computed analyses of ``settings.corpus``.

    Parameters
    ----------
    settings : Settings
    progress : callable, optional
        Wraps long loops (topic fits over seeds and K), e.g.
        ``lambda it, desc: tqdm(it, desc=desc)``; called with an iterable and
        a short description.

    Examples
    --------
    >>> from analysis.config import load_settings
    >>> results = Results(load_settings())            # doctest: +SKIP
    >>> results.topics.model.k == results.settings.k  # doctest: +SKIP
    True
    """

    def __init__(self, settings: Settings, *, progress: Callable[[Iterable, str], Iterable] | None = None) -> None:
        self.settings = settings
        self.progress = progress

    def _wrap(self, description: str) -> Callable[[Iterable], Iterable] | None:
        if self.progress is None:
            return None
        return lambda iterable: self.progress(iterable, description)

    @cached_property
    def corpus(self) -> Corpus:
        """The corpus, streamed from disk on every pass."""
        return Corpus.from_settings(self.settings)

    @cached_property
    def reuse(self) -> reuse.Reuse:
        """Passages and sentences shared between documents (:func:`analysis.reuse.find_reuse`)."""
        return reuse.find_reuse(self.corpus, n=self.settings.reuse_ngram,
                                min_documents=self.settings.reuse_min_documents,
                                excluded_roles=excluded_roles(self.settings))

    @cached_property
    def preprocessor(self) -> Preprocessor:
        """Preprocessing with phrases learned from this corpus; reused passages
        masked when ``settings.mask_reuse`` is on."""
        masks = self.reuse.reused_char_ranges if self.settings.mask_reuse else None
        return fitted_preprocessor(self.settings, self.corpus, masks=masks)

    @cached_property
    def terms(self) -> TermCounts:
        """Term and n-gram counts (:func:`analysis.terms.count_terms`)."""
        return terms.count_terms(self.corpus, self.preprocessor)

    @cached_property
    def units(self) -> topics.TopicUnits:
        """The LDA units (:func:`analysis.topics.collect_units`); may warn about the unit."""
        return topics.collect_units(self.corpus, self.preprocessor, self.settings)

    @cached_property
    def prepared(self):
        """Vocabulary and bags of words of :attr:`units`."""
        return topics.prepare(self.units, self.settings)

    @cached_property
    def topics(self) -> topics.TopicResult:
        """The reported topic model with stability over ``settings.seeds`` seeds."""
        return topics.fit_stable_topics(self.prepared, self.settings, progress=self._wrap(f"topics K={self.settings.k}"))

    @cached_property
    def evidence(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Top passages and KWIC lines per topic (:func:`analysis.topics.topic_evidence`)."""
        return topics.topic_evidence(self.topics.model, self.corpus)

    @cached_property
    def k_selection(self) -> pd.DataFrame:
        """Metrics over ``settings.k_grid`` x seeds (:func:`analysis.topics.select_k`)."""
        return topics.select_k(self.prepared, self.settings, parse_k_grid(self.settings.k_grid),
                               progress=self._wrap(f"select K {self.settings.k_grid}"))

    @cached_property
    def focus_terms(self) -> list[str]:
        """The terms the close-reading figures follow: ``settings.focus_terms``,
        or the six most frequent terms."""
        if self.settings.focus_terms:
            return list(dict.fromkeys(self.settings.focus_terms))
        return terms.term_frequencies(self.terms, "corpus").nsmallest(6, "rank")["term"].tolist()

    @cached_property
    def keyness(self) -> pd.DataFrame:
        """Each document against the rest (:func:`analysis.keyness.keyness`)."""
        return keyness.keyness(self.terms)

    @cached_property
    def reference_keyness(self) -> pd.DataFrame:
        """The corpus against wordfreq's general-language list (:func:`analysis.keyness.reference_keyness`)."""
        return keyness.reference_keyness(self.terms, language=self.settings.language,
                                         is_function_word=self.preprocessor.is_function_word)

    @cached_property
    def collocates(self) -> pd.DataFrame:
        """Collocates of the first three focus terms, stacked with ``node`` and ``node_count``."""
        frames = []
        for node in self.focus_terms[:3]:
            table = concordance.collocates(self.corpus, node, self.preprocessor, window=self.settings.window)
            frames.append(table.assign(node=node, node_count=table.attrs["node_count"]))
        columns = ["node", "node_count", *concordance.COLLOCATE_COLUMNS]
        return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)

    @cached_property
    def dispersion(self) -> pd.DataFrame:
        """Positions of the focus terms in each document, with Gries's DP and Juilland's D per term."""
        positions = concordance.term_positions(self.corpus, self.focus_terms, self.preprocessor)
        measures = concordance.dispersion_measures(positions)
        return positions.merge(measures[["term", "dp", "dp_norm", "juilland_d"]], on="term", how="left")

    @cached_property
    def lexicons(self) -> claims.Lexicons:
        """The claim lexicons: shipped, or replaced file by file from ``settings.lexicons``."""
        return claims.load_lexicons(self.settings.lexicons)

    @cached_property
    def claims(self) -> pd.DataFrame:
        """Risk, benefit and advice claims with polarity, hedges and boosters (:func:`analysis.claims.tag_claims`)."""
        return claims.tag_claims(self.corpus, self.lexicons, excluded_roles=excluded_roles(self.settings))

    @cached_property
    def hedging_density(self) -> pd.DataFrame:
        """Hedges and boosters per 1,000 words of each document (:func:`analysis.claims.hedging_density`)."""
        words = claims.word_counts(self.corpus, excluded_roles=excluded_roles(self.settings))
        return claims.hedging_density(self.claims, words)

    def claim_tables(self) -> dict[str, pd.DataFrame]:
        """The claims exports by file name: claims, contradictions, dose and quantity mentions."""
        return {"claims.csv": self.claims, "contradictions.csv": claims.contradictions(self.claims),
                "quantities.csv": claims.quantities(self.corpus, excluded_roles=excluded_roles(self.settings))}

    def reuse_tables(self) -> dict[str, pd.DataFrame]:
        """The reuse exports by file name: passages, their occurrences, near-duplicate sentences."""
        found = self.reuse
        return {"reuse_spans.csv": found.shared_spans, "reuse_occurrences.csv": found.span_occurrences,
                "near_duplicate_sentences.csv": found.near_duplicate_sentences}

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tidy topic exports by file name (``topic_terms.csv`` ...)."""
        model = self.topics.model
        passages, kwic = self.evidence
        out = {
            "topic_terms.csv": topics.topic_terms(model, lam=self.settings.relevance_lambda)[
                ["topic", "label", "term", "weight", "relevance", "rank"]],
            "doc_topics.csv": topics.doc_topics(model),
            "topic_ids.csv": topics.topic_ids_table(self.topics),
            "topic_passages.csv": passages,
            "topic_kwic.csv": kwic,
        }
        if model.unit != "document":
            out["unit_topics.csv"] = topics.unit_topics(model)
        return out
