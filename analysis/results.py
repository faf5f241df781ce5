"""Every analysis of one corpus and one set of settings, computed on demand.

:class:`Results` is what the figure registry, the CLI and the notebooks share:
the corpus is read once into a prepared corpus (or loaded from the cache),
and every analysis is computed from it the first time something asks for
it and then reused.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import socket
import tempfile
import warnings
import weakref
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import pandas as pd

from analysis import pipeline
from analysis.config import Settings, parse_k_grid
from analysis.corpus import Corpus, CorpusWarning
from analysis.errors import AnalysisError
from analysis.executor import Executor, executor_for
from analysis.memory import release_freed_memory
from analysis.parts import TableParts
from analysis.prepared import PreparedCorpus, prepare
from analysis.progress import StageTimer
from analysis.tokens import Preprocessor, excluded_roles

if TYPE_CHECKING:
    from analysis.terms import TermCounts


class _OnFirstUse:
    """The module ``name``, imported when one of its attributes is first used: a command imports only the
    analyses it runs (``info`` on a prepared corpus: 0.2 s less). A stand-in, not an entry of
    ``sys.modules``: importing the module or one of its submodules elsewhere is an ordinary import (a lazy
    package in ``sys.modules`` had its submodules executed twice, giving two classes of one name)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)


claims, concordance, groups, keyness, reuse, terms, topics = (
    _OnFirstUse(f"analysis.{name}")
    for name in ("claims", "concordance", "groups", "keyness", "reuse", "terms", "topics"))


KEYNESS_DOCUMENTS = 30  # per-document keyness beyond this many documents: this many (documents_shown)


def _stage(name: str):
    """Time a method as stage ``name`` of :attr:`Results.timer`; the memory its temporaries
    held goes back to the system when it ends."""
    def decorate(method):
        @functools.wraps(method)
        def timed(self):
            with self.timer.stage(name):
                result = method(self)
            release_freed_memory()
            return result
        return timed
    return decorate


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

    def __init__(self, settings: Settings, *, progress: Callable[[Iterable, str], Iterable] | None = None,
                 corpus: Corpus | None = None) -> None:
        self.settings = settings
        self.progress = progress
        self.timer = StageTimer()
        if corpus is not None:  # already read (and its snapshot taken) by the caller
            self.corpus = corpus

    def _wrap(self, description: str) -> Callable[[Iterable], Iterable] | None:
        if self.progress is None:
            return None
        return lambda iterable: self.progress(iterable, description)

    @cached_property
    def corpus(self) -> Corpus:
        """The corpus files (hashed once per run, read once by :attr:`prepared`)."""
        return Corpus.from_settings(self.settings)

    @cached_property
    @_stage("prepare")
    def prepared(self) -> PreparedCorpus:
        """The corpus read, split and tokenized once (:func:`analysis.prepared.prepare`), from the
        cache when the corpus bytes and reading settings are unchanged. Every analysis reads this
        snapshot, never the files."""
        return prepare(self.corpus, cache=self.settings.cache_folder, executor=self.executor,
                       progress=self._wrap("prepare corpus"))

    @cached_property
    def executor(self) -> Executor:
        """Where the map steps run (:func:`analysis.executor.executor_for`): this machine's ``jobs``
        processes, or a Dask cluster."""
        return executor_for(self.settings)

    @cached_property
    @_stage("reuse")
    def reuse(self) -> reuse.Reuse:
        """Passages and sentences shared between documents (:func:`analysis.reuse.find_reuse`)."""
        return reuse.find_reuse(self.prepared, n=self.settings.reuse_ngram,
                                min_documents=self.settings.reuse_min_documents,
                                excluded_roles=excluded_roles(self.settings), progress=self.progress,
                                executor=self.executor, folder=self.spool / "reuse")

    @cached_property
    def preprocessor(self) -> Preprocessor:
        """The per-word rules of the settings: stopwords, lemmas, counted blocks."""
        return Preprocessor(self.settings)

    @cached_property
    @_stage("terms")
    def term_layer(self) -> pipeline.PreparedTerms:
        """The preprocessing pipeline's result (:func:`analysis.pipeline.prepared_terms`); reused
        passages masked when ``settings.mask_reuse`` is on."""
        masks = self.reuse.reused_char_ranges if self.settings.mask_reuse else None
        return pipeline.prepared_terms(self.prepared, self.preprocessor, masks=masks, cache=self.settings.cache,
                                       executor=self.executor,
                                       versions=pipeline.preprocessing_versions(self.preprocessor),
                                       progress=self._wrap("terms: " + ", ".join(pipeline.DERIVE_STEPS)))

    def _beside_term_layer(self, name: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A table computed from the term layer alone, kept as Parquet in the layer's cache folder, so
        that a later command neither loads nor counts the terms again."""
        folder = pipeline.terms_folder(self.prepared, self.preprocessor,
                                       pipeline.preprocessing_versions(self.preprocessor))
        memo = folder / f"{name}.parquet"
        if self.settings.cache and memo.is_file():
            return pd.read_parquet(memo)
        table = compute()
        if self.settings.cache and folder.is_dir():
            staging = memo.with_name(f".{memo.name}.{os.getpid()}")
            try:
                table.to_parquet(staging)
                os.replace(staging, memo)
            except OSError:
                pass  # a read-only or full cache: the table is right, and is counted again next time
            finally:
                staging.unlink(missing_ok=True)  # a write that failed leaves nothing behind
        return table

    @cached_property
    @_stage("terms")
    def corpus_summary(self) -> pd.DataFrame:
        """:func:`analysis.terms.corpus_summary` (what ``info`` prints), kept beside the term layer."""
        return self._beside_term_layer("corpus_summary", lambda: terms.corpus_summary(self.terms))

    @cached_property
    @_stage("terms")
    def corpus_terms(self) -> pd.DataFrame:
        """``term, count, per_1000_tokens, doc_count, rank`` over the whole corpus (what ``terms``
        prints), kept beside the term layer."""
        def compute() -> pd.DataFrame:
            table = terms.term_frequencies(self.terms, "corpus").merge(
                terms.document_frequency(self.terms)[["term", "doc_count"]], on="term")
            return table[["term", "count", "per_1000_tokens", "doc_count", "rank"]]
        return self._beside_term_layer("corpus_terms", compute)

    @cached_property
    def terms(self) -> TermCounts:
        """Term and n-gram counts (:class:`analysis.terms.TermCounts`)."""
        return terms.TermCounts(self.prepared, self.term_layer, executor=self.executor)

    @cached_property
    @_stage("topics")
    def units(self) -> topics.TopicUnits:
        """The LDA units (:func:`analysis.topics.collect_units`); may warn about the unit."""
        return topics.collect_units(self.prepared, self.term_layer, self.settings)

    @cached_property
    @_stage("topics")
    def topic_input(self):
        """Vocabulary and bags of words of :attr:`units`; a warning counts the units left without a
        vocabulary term (their topic mixtures are NaN in the tables)."""
        prepared = topics.prepare(self.units, self.settings, self.executor)
        if self.settings.engine == "tomotopy" and topics.engine_for(prepared, self.settings) == "online":
            warnings.warn(f"{int(prepared.bows.term_totals.sum()):,} tokens in the topic model's units exceed "
                          f"tomotopy_max_tokens ({self.settings.tomotopy_max_tokens:,}), more than tomotopy should "
                          "hold in memory: fitting the online engine, streamed in chunks, instead "
                          "(--tomotopy-max-tokens 0 keeps tomotopy)", topics.TopicWarning, stacklevel=2)
        table = prepared.unit_table
        empty = table["n_vocab_terms"].to_numpy() == 0
        if empty.any():
            unit = self.units.unit
            holders = table.loc[empty, "doc_id"].nunique()
            documents = f" (in {holders:,} document{'s' if holders > 1 else ''})" if unit != "document" else ""
            warnings.warn(f"{int(empty.sum()):,} of {len(table):,} {unit}s{documents} have no term left after "
                          "pruning: their topic mixtures are left empty (NaN) in doc_topics.csv and unit_topics.csv, "
                          "with n_vocab_terms 0", topics.TopicWarning, stacklevel=2)
        return prepared

    @cached_property
    @_stage("topics")
    def topics(self) -> topics.TopicResult:
        """The reported topic model with stability over ``settings.seeds`` seeds, labelled from the
        ``topic_labels`` file where it has labels for these topics."""
        result = topics.fit_stable_topics(self.topic_input, self.settings, progress=self._wrap(f"topics K={self.settings.k}"))
        named = topics.read_labels(self.settings.topic_labels, result.model)
        return topics.labelled(result, named) if named else result

    @cached_property
    @_stage("topics")
    def evidence(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Top passages and KWIC lines per topic (:func:`analysis.topics.topic_evidence`)."""
        return topics.topic_evidence(self.topics.model, self.prepared)

    @cached_property
    @_stage("k-selection")
    def k_selection(self) -> pd.DataFrame:
        """Metrics over ``settings.k_grid`` x seeds (:func:`analysis.topics.select_k`)."""
        return topics.select_k(self.topic_input, self.settings, parse_k_grid(self.settings.k_grid),
                               progress=self._wrap(f"select K {self.settings.k_grid}"))

    @cached_property
    def focus_terms(self) -> list[str]:
        """The terms the close-reading figures follow: ``settings.focus_terms`` (a warning names
        those the corpus never uses), or else its six most distinctive terms: the strongest keyword
        of each of the largest groups when documents are grouped, else the strongest keywords
        against general usage (:attr:`reference_keyness`) among terms used by at least 1% (and two)
        of the documents and, from 20 documents on, at most half of them; the most frequent terms
        only when neither finds any."""
        if self.settings.focus_terms:
            wanted = list(dict.fromkeys(self.settings.focus_terms))
            positions = concordance.term_positions(self.prepared, wanted, self.preprocessor, executor=self.executor)
            vars(self)["focus_positions"] = positions  # the dispersion's data: found once
            found = set(positions.loc[positions["position"].notna(), "term"])
            missing = [term for term in wanted if term not in found]
            if missing:
                warnings.warn(f"focus terms the corpus never uses: {', '.join(missing)} (set focus_terms for this "
                              "corpus, or leave it empty for its most distinctive terms)", CorpusWarning, stacklevel=2)
            return wanted
        return self._distinctive_terms(6) or terms.term_frequencies(self.terms, "corpus").nsmallest(6, "rank")[
            "term"].tolist()

    def _distinctive_terms(self, n: int) -> list[str]:
        if self.group_column is not None and len(self.grouping.names) > 1:
            keywords = self.group_keyness
            keywords = keywords[(keywords["direction"] == "positive") & keywords["significant"]]
            largest = self.grouping.summary().sort_values("documents", ascending=False, kind="stable")["group"]
            chosen: list[str] = []
            for group in largest:
                chosen += keywords.loc[(keywords["group"] == group) & ~keywords["term"].isin(chosen), "term"].head(1).tolist()
                if len(chosen) == n:
                    break
            return chosen
        # Against general usage, among terms spread over at least 1% of the documents (two at least) and, in
        # corpora of 20 documents or more, at most half of them: a term of one document is an accident, one of
        # nearly every document the corpus's frame (email headers, a site's navigation).
        keywords = self.reference_keyness
        keywords = keywords[(keywords["direction"] == "positive") & keywords["significant"]]
        spread = terms.document_frequency(self.terms).set_index("term")["doc_count"]
        documents = keywords["term"].map(spread).fillna(0)
        n_documents = self.prepared.n_documents
        keep = (documents >= max(2, 0.01 * n_documents)) & ((documents <= 0.5 * n_documents) | (n_documents < 20))
        return keywords.loc[keep, "term"].head(n).tolist()

    @cached_property
    def focus_positions(self) -> pd.DataFrame:
        """Where each focus term occurs in each document (:func:`analysis.concordance.term_positions`)."""
        return concordance.term_positions(self.prepared, self.focus_terms, self.preprocessor,
                                          executor=self.executor)

    @cached_property
    @_stage("close reading")
    def keyness(self) -> pd.DataFrame:
        """Each document against the rest (:func:`analysis.keyness.keyness`): every document of a
        corpus of up to :data:`KEYNESS_DOCUMENTS`, else that many (:meth:`documents_shown`)."""
        return keyness.keyness(self.terms, documents=self.documents_shown(KEYNESS_DOCUMENTS))

    def documents_shown(self, n: int) -> list[str]:
        """The ids of the ``n`` documents a per-document figure shows, in id order: the most typical of
        each group in turn when the documents are grouped, else the most typical of the corpus
        (:func:`analysis.groups.typical_documents`: nearest the mean term profile, among documents of at
        least median length; the longest were often encoded attachments). :attr:`documents_chosen_by`
        says which."""
        found, cosine = self._typicality
        chosen = groups.typical_documents(cosine, found, self.terms.document_tokens, n)
        return sorted(found.doc_ids[i] for i in chosen)

    @cached_property
    def _typicality(self) -> tuple[groups.Grouping, object]:
        """The grouping the shown documents stand for (the corpus as one group when ungrouped) and each
        document's cosine to its group's mean profile (:func:`analysis.document_terms.group_cosines`)."""
        from analysis.document_terms import group_cosines

        found = self.grouping if self.group_column is not None else groups.grouping(
            self.prepared.documents[["doc_id"]].assign(corpus="corpus"), "corpus")
        return found, group_cosines(self.prepared, self.term_layer, self.executor, found.of_document,
                                    len(found.names))

    @property
    def documents_chosen_by(self) -> str:
        """How :meth:`documents_shown` chooses, for a figure's note: ``"the most typical"``, or ``"the most
        typical of each folder"``."""
        return "the most typical" if self.group_column is None else f"the most typical of each {self.group_column}"

    @cached_property
    def group_column(self) -> str | None:
        """The metadata column that groups the documents (:func:`analysis.groups.grouping_column`), or None."""
        return groups.grouping_column(self.settings, self.corpus)

    @cached_property
    def grouping(self) -> groups.Grouping:
        """The documents grouped by :attr:`group_column` (:func:`analysis.groups.grouping`).

        Raises
        ------
        AnalysisError
            When there is no grouping, naming the columns there are.
        """
        if self.group_column is None:
            columns = [c for c in self.prepared.documents.columns if c != "doc_id"]
            raise AnalysisError("no grouping: give --by COLUMN or set group_by (the corpus has: "
                                f"{', '.join(columns) or 'no metadata columns'})")
        return groups.grouping(self.prepared.documents, self.group_column)

    @cached_property
    def group_counts(self) -> groups.GroupCounts:
        """Term counts per group of :attr:`grouping`."""
        return groups.GroupCounts(self.terms, self.grouping)

    @cached_property
    @_stage("groups")
    def group_keyness(self) -> pd.DataFrame:
        """Each group against the rest (:func:`analysis.groups.group_keyness`)."""
        return groups.group_keyness(self.group_counts)

    @cached_property
    @_stage("groups")
    def group_topic_prevalence(self) -> pd.DataFrame:
        """Topic prevalence per group with bootstrap intervals (:func:`analysis.groups.group_topic_prevalence`)."""
        model = self.topics.model
        return groups.group_topic_prevalence(topics.doc_mixtures(model), self.grouping,
                                             topics.topic_labels(model, self.settings.relevance_lambda),
                                             seed=self.settings.seed)

    @cached_property
    def periods(self) -> groups.Grouping:
        """The documents in the periods of ``settings.over`` (:func:`analysis.groups.periods`)."""
        if not self.settings.over:
            columns = [c for c in self.prepared.documents.columns if c != "doc_id"]
            raise AnalysisError("no ordered column: give --over COLUMN or set over (the corpus has: "
                                f"{', '.join(columns) or 'no metadata columns'})")
        return groups.periods(self.prepared.documents, self.settings.over)

    @cached_property
    @_stage("groups")
    def term_trends(self) -> pd.DataFrame:
        """The focus terms' rates per period with bootstrap intervals (:func:`analysis.groups.term_trends`)."""
        return groups.term_trends(groups.GroupCounts(self.terms, self.periods), self.focus_terms,
                                  seed=self.settings.seed)

    @cached_property
    @_stage("groups")
    def topic_trends(self) -> pd.DataFrame:
        """Topic prevalence per period with bootstrap intervals (:func:`analysis.groups.group_topic_prevalence`)."""
        model = self.topics.model
        table = groups.group_topic_prevalence(topics.doc_mixtures(model), self.periods,
                                              topics.topic_labels(model, self.settings.relevance_lambda),
                                              seed=self.settings.seed)
        return table.rename(columns={"group": "period"})

    @cached_property
    @_stage("close reading")
    def reference_keyness(self) -> pd.DataFrame:
        """The corpus against wordfreq's general-language list (:func:`analysis.keyness.reference_keyness`)."""
        return keyness.reference_keyness(self.terms, language=self.settings.language,
                                         is_function_word=self.preprocessor.is_function_word)

    @cached_property
    @_stage("close reading")
    def collocates(self) -> pd.DataFrame:
        """Collocates of the first three focus terms, stacked with ``node`` and ``node_count``."""
        frames = []
        for node in self.focus_terms[:3]:
            table = concordance.collocates(self.prepared, node, self.preprocessor, window=self.settings.window,
                                           executor=self.executor)
            frames.append(table.assign(node=node, node_count=table.attrs["node_count"]))
        columns = ["node", "node_count", *concordance.COLLOCATE_COLUMNS]
        return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)

    @cached_property
    @_stage("close reading")
    def dispersion(self) -> pd.DataFrame:
        """Positions of the focus terms in each document, with Gries's DP and Juilland's D per term."""
        positions = self.focus_positions
        measures = concordance.dispersion_measures(positions)
        return positions.merge(measures[["term", "dp", "dp_norm", "juilland_d"]], on="term", how="left")

    @cached_property
    def lexicons(self) -> claims.Lexicons:
        """The claim lexicons: shipped, or replaced file by file from ``settings.lexicons``."""
        return claims.load_lexicons(self.settings.lexicons)

    @cached_property
    def spool(self) -> Path:
        """A folder of this run for the tables its workers write in parts, removed with this object (at the
        latest when the program ends): in the cache folder, which a cluster's workers share, else in a
        temporary folder of this machine."""
        parent = self.settings.cache_folder.resolve() if self.settings.cache else None
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_spools(parent)
        folder = Path(tempfile.mkdtemp(prefix=f"{_spool_prefix()}{os.getpid()}-", dir=parent))
        weakref.finalize(self, _remove_spool, folder, os.getpid())
        return folder

    @cached_property
    @_stage("claims")
    def tagged_claims(self) -> claims.ClaimParts:
        """Risk, benefit and advice claims with polarity, hedges and boosters, tagged chunk by chunk on the
        executor: the rows in Parquet parts in :attr:`spool`, their counts here
        (:func:`analysis.claims.tag_claim_parts`)."""
        return claims.tag_claim_parts(self.prepared, self.spool / "claims", self.lexicons,
                                      excluded_roles=excluded_roles(self.settings), executor=self.executor,
                                      progress=self._wrap("claims: tag document chunks"))

    @cached_property
    def claims(self) -> pd.DataFrame:
        """Every row of :attr:`tagged_claims` (:func:`analysis.claims.tag_claims`), read from its parts."""
        return self.tagged_claims.table()

    @cached_property
    @_stage("claims")
    def hedging_density(self) -> pd.DataFrame:
        """Hedges and boosters per 1,000 words of each document (:func:`analysis.claims.hedging_density`)."""
        return claims.hedging_density(self.tagged_claims.counts, self.tagged_claims.words)

    @_stage("claims")
    def claim_tables(self) -> dict[str, object]:
        """The claims tables by name: claims (:attr:`tagged_claims`, in parts), contradictions (counted
        per term and document pair; the sentence pairs too with ``settings.contradiction_pairs``), dose
        and quantity mentions."""
        tagged = self.tagged_claims
        tables = {"claims": tagged, "contradictions": claims.contradiction_summary(tagged.statements),
                  "quantities": tagged.quantities}
        if self.settings.contradiction_pairs:
            tables["contradiction_pairs"] = claims.contradictions(self.claims)
        return tables

    def reuse_tables(self) -> dict[str, TableParts]:
        """The reuse tables by name, in the parts their tasks wrote: passages, their occurrences,
        near-duplicate sentences."""
        found = self.reuse
        return {"reuse_spans": found.spans, "reuse_occurrences": found.occurrences,
                "near_duplicate_sentences": found.sentence_pairs}

    def tables(self) -> dict[str, object]:
        """The tidy topic tables by name (``topic_terms`` ...); :mod:`analysis.export` names their files.
        ``doc_topics`` and ``unit_topics`` (a row per document or unit and topic) are written in parts by a
        map on the executor (:func:`analysis.topics.topic_table_parts`); the rest are DataFrames."""
        model = self.topics.model
        passages, kwic = self.evidence
        parts = topics.topic_table_parts(model, self.spool / "topics", executor=self.executor)
        return {
            "topic_terms": topics.topic_terms(model, lam=self.settings.relevance_lambda)[
                ["topic", "label", "term", "weight", "relevance", "rank"]],
            "doc_topics": parts["doc_topics"],
            "topic_ids": topics.topic_ids_table(self.topics),
            "topic_passages": passages,
            "topic_kwic": kwic,
            **({"unit_topics": parts["unit_topics"]} if "unit_topics" in parts else {}),
        }


def _spool_prefix() -> str:
    """``spool-<host>-``: a spool folder names the machine and the process that made it."""
    return f"spool-{socket.gethostname()}-"


def _remove_stale_spools(parent: Path) -> None:
    """Remove the spool folders that runs of this machine left when they were killed (their process is
    gone); those of other machines sharing the cache are theirs to judge."""
    for folder in parent.glob(f"{_spool_prefix()}*"):
        try:
            pid = int(folder.name.removeprefix(_spool_prefix()).split("-")[0])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's live process
            continue


def _remove_spool(folder: Path, owner: int) -> None:
    """Remove ``folder``, from the process that made it only (a forked worker ends without it)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def analyze(settings: Settings) -> TermCounts:
    """Prepare the corpus of ``settings`` (or load it from the cache) and count its terms.

    This is what the CLI and the notebooks call first; :class:`Results` holds every other analysis.
    """
    return Results(settings).terms
