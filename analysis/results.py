"""Every analysis of one corpus and one set of settings, computed on demand.

:class:`Results` is what the figure registry, the CLI and the notebooks share:
the corpus is read and the phrases learned once, term counts and topic
models are computed the first time something asks for them and then reused.
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable, Iterable

import pandas as pd

from analysis import terms, topics
from analysis.config import Settings, parse_k_grid
from analysis.corpus import Corpus
from analysis.terms import TermCounts
from analysis.tokens import Preprocessor, fitted_preprocessor


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
    def preprocessor(self) -> Preprocessor:
        """Preprocessing with phrases learned from this corpus."""
        return fitted_preprocessor(self.settings, self.corpus)

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
