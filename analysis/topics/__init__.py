"""LDA topics: units, reproducible fits, stable topic ids, tidy views.

The pipeline is

1. :func:`collect_units` (``units``) turns the prepared corpus into the texts
   LDA sees (documents, sections or paragraphs) with the same preprocessing as
   the term analytics;
2. :func:`prepare` and :func:`fit_topics` (``fit``) build the vocabulary and
   fit one seed with the tomotopy, gensim or streamed online engine (``streamed``: gensim's online LDA
   on chunks of units, its E-steps mapped over workers; :func:`engine_for` says which fits);
   :func:`fit_stable_topics`
   (``stability``) fits several, aligns their topics and reports the run most
   similar to the others;
3. the table functions (``tables``: :func:`topic_terms`, :func:`doc_topics`, :func:`doc_mixtures`,
   :func:`topic_prevalence`, :func:`intertopic_map`, :func:`topic_evidence`)
   turn a :class:`TopicModel` (``model``) into tidy DataFrames for figures and
   export;
4. :func:`select_k` (``selection``) scores a K x seed grid;
5. :func:`read_labels` (``labels``) applies the researcher's topic labels (the ``topic_labels`` file).

Topic ids are ``1..K`` in order of prevalence in the reported run; every
other run's topics are mapped onto them (:func:`align_topics`), and
:attr:`TopicResult.topic_ids` records the engine's native id for each.
"""

from analysis.topics.fit import (
    Fit,
    TopicInput,
    build_vocabulary,
    engine_for,
    fit_topics,
    import_tomotopy,
    prepare,
)
from analysis.topics.labels import LABEL_COLUMNS, labelled, labels_csv, read_labels
from analysis.topics.model import MODEL_FORMAT, TopicModel, TopicResult
from analysis.topics.selection import METRICS, coherence, heldout_perplexity, select_k, selection_sample
from analysis.topics.stability import align_topics, fit_stable_topics, run_agreement, stabilize
from analysis.topics.tables import (
    ROLE_ORDER,
    convergence_table,
    doc_mixtures,
    doc_topics,
    intertopic_coordinates,
    intertopic_map,
    late_change,
    term_relevance,
    topic_evidence,
    topic_ids_table,
    automatic_labels,
    topic_labels,
    topic_prevalence,
    topic_summary,
    topic_table_parts,
    topic_terms,
    unit_topics,
)
from analysis.topics.units import (
    UNIT_COLUMNS,
    UNIT_LEVELS,
    TopicUnits,
    TopicWarning,
    collect_units,
    describe_units,
)

__all__ = [
    "Fit", "TopicInput", "build_vocabulary", "engine_for", "fit_topics", "import_tomotopy", "prepare",
    "LABEL_COLUMNS", "labelled", "labels_csv", "read_labels",
    "MODEL_FORMAT", "TopicModel", "TopicResult",
    "METRICS", "coherence", "heldout_perplexity", "select_k", "selection_sample",
    "align_topics", "fit_stable_topics", "run_agreement", "stabilize",
    "ROLE_ORDER", "convergence_table", "doc_mixtures", "doc_topics", "intertopic_coordinates", "intertopic_map", "late_change", "term_relevance", "topic_evidence",
    "topic_ids_table", "automatic_labels", "topic_labels", "topic_prevalence", "topic_summary", "topic_table_parts", "topic_terms",
    "unit_topics",
    "UNIT_COLUMNS", "UNIT_LEVELS", "TopicUnits", "TopicWarning", "collect_units", "describe_units",
]
