"""Text reuse (analysis.reuse) and its plots (analysis.plots.reuse)."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.axes import Axes

from analysis import plots
from analysis.concordance import kwic
from analysis.config import Settings
from analysis.corpus import Corpus, Document
from analysis.errors import AnalysisError
from analysis.plots import plot_reuse_matrix, plot_reused_share
from analysis.prepared import prepare, prepare_documents
from analysis.reuse import MATRIX_COLUMNS, OCCURRENCE_COLUMNS, SENTENCE_COLUMNS, SHARE_COLUMNS, SPAN_COLUMNS, find_reuse
from analysis.tokens import Preprocessor, tokenize

PASSAGE = "Kratom, a Tropical evergreen tree native to Southeast Asia, has garnered attention"  # 12 words
OTHER_PASSAGE = "leaves are chewed or brewed as tea by farm workers for centuries"  # 12 words


def filler(tag: str, count: int) -> str:
    """``count`` words found in no other document (``tag`` makes them unique)."""
    return " ".join(f"{tag}{i}" for i in range(count))


def doc(doc_id: str, text: str) -> Document:
    return Document(doc_id, text, f"<{doc_id}>")


def title(ax: Axes) -> str:
    """The title wherever it is placed (the figure style puts it on the left)."""
    return " ".join(ax.get_title(loc=loc) for loc in ("left", "center", "right")).strip()


@pytest.fixture(scope="module")
def seed_reuse(seed_corpus):
    return find_reuse(Corpus(seed_corpus))


@pytest.fixture(scope="module")
def planted():
    """``a`` and ``b`` share PASSAGE (words 5-17 of a, 3-15 of b); ``c`` shares nothing."""
    docs = [doc("a", f"{filler('a', 5)} {PASSAGE} {filler('a-end', 4)}."),
            doc("b", f"{filler('b', 3)} {PASSAGE}; {filler('b-end', 6)}"),
            doc("c", f"{filler('c', 30)}")]
    return docs, find_reuse(docs)


# -------------------------------------------------------------- passages


def test_planted_passage_has_exact_maximal_boundaries(planted):
    docs, reuse = planted
    assert len(reuse.shared_spans) == 1  # one passage, not the five 8-word shingles inside it
    span = reuse.shared_spans.iloc[0]
    assert span["text"] == PASSAGE
    assert (span["n_words"], span["n_documents"], span["documents"], span["occurrences"]) == (12, 2, "a;b", 2)
    assert span["positions"] == "a:5-17;b:3-15"
    occurrences = reuse.span_occurrences
    assert occurrences[["doc_id", "word_start", "word_end", "shared_with"]].values.tolist() == [
        ["a", 5, 17, "b"], ["b", 3, 15, "a"]]
    for row in occurrences.itertuples():
        text = next(d.text for d in docs if d.doc_id == row.doc_id)
        assert text[row.char_start:row.char_end] == PASSAGE


def test_tables_have_their_columns(planted):
    _, reuse = planted
    assert list(reuse.shared_spans.columns) == SPAN_COLUMNS
    assert list(reuse.span_occurrences.columns) == OCCURRENCE_COLUMNS
    assert list(reuse.near_duplicate_sentences.columns) == SENTENCE_COLUMNS
    assert list(reuse.reuse_matrix.columns) == MATRIX_COLUMNS
    assert list(reuse.reused_share.columns) == SHARE_COLUMNS


def test_passage_longer_on_one_side_is_cut_where_the_other_document_stops():
    # b holds the first 9 words of the passage only: the shared passage is those 9 words in both documents
    reuse = find_reuse([doc("a", f"{filler('a', 2)} {PASSAGE} {filler('a-end', 2)}"),
                        doc("b", " ".join(PASSAGE.split()[:9]) + f" {filler('b', 3)}")])
    assert reuse.shared_spans["positions"].tolist() == ["a:2-11;b:0-9"]
    assert reuse.shared_spans["text"].tolist() == ["Kratom, a Tropical evergreen tree native to Southeast Asia"]


def test_repetition_within_one_document_is_not_reuse():
    reuse = find_reuse([doc("a", f"{PASSAGE} {filler('a', 3)} {PASSAGE}"), doc("b", filler("b", 20))])
    assert reuse.shared_spans.empty and reuse.span_occurrences.empty and reuse.reuse_matrix.empty
    assert reuse.reused_share["reused_words"].tolist() == [0, 0]


def test_passage_repeated_in_one_document_and_shared_counts_each_occurrence():
    reuse = find_reuse([doc("a", f"{PASSAGE} {filler('a', 3)} {PASSAGE}"), doc("b", f"{filler('b', 2)} {PASSAGE}")])
    span = reuse.shared_spans.iloc[0]
    assert (span["n_documents"], span["occurrences"], span["positions"]) == (2, 3, "a:0-12;a:15-27;b:2-14")


def test_one_document_gives_empty_tables():
    reuse = find_reuse([doc("only", f"{PASSAGE}. {PASSAGE}.")])
    for table in (reuse.shared_spans, reuse.span_occurrences, reuse.near_duplicate_sentences, reuse.reuse_matrix):
        assert table.empty
    assert reuse.reused_share.values.tolist() == [["only", 24, 0, 0.0]]
    assert reuse.reused_char_ranges == {"only": []}


def test_documents_shorter_than_n_share_nothing():
    words = "chronic pain affects millions of people"  # 6 words
    reuse = find_reuse([doc("a", words), doc("b", words)], n=8, min_sentence_words=8)
    assert reuse.shared_spans.empty
    assert reuse.reused_share["share"].tolist() == [0.0, 0.0]
    shorter_n = find_reuse([doc("a", words), doc("b", words)], n=6)
    assert shorter_n.shared_spans["positions"].tolist() == ["a:0-6;b:0-6"]


def test_identical_documents_share_every_block():
    text = f"{PASSAGE}.\n\n{OTHER_PASSAGE}."
    reuse = find_reuse([doc("a", text), doc("b", text)])
    assert sorted(reuse.shared_spans["text"]) == sorted([PASSAGE, OTHER_PASSAGE])
    assert (reuse.shared_spans["n_documents"] == 2).all()
    assert reuse.reused_share["share"].tolist() == [1.0, 1.0]
    assert reuse.near_duplicate_sentences["similarity"].tolist() == [1.0, 1.0]


def test_min_documents_keeps_text_common_to_more_documents():
    docs = [doc("a", f"{PASSAGE} {OTHER_PASSAGE}"), doc("b", f"{PASSAGE} {filler('b', 3)} {OTHER_PASSAGE}"),
            doc("c", f"{filler('c', 3)} {PASSAGE}")]
    assert find_reuse(docs, min_documents=3).shared_spans["text"].tolist() == [PASSAGE]
    assert len(find_reuse(docs, min_documents=2).shared_spans) == 2


# ---------------------------------------------------------- coverage tables


def test_matrix_and_shares_by_hand():
    # a shares PASSAGE (12 words) with b and OTHER_PASSAGE (12) with c; b and c share nothing
    docs = [doc("a", f"{filler('a', 6)} {PASSAGE} {OTHER_PASSAGE}"),  # 30 words
            doc("b", f"{PASSAGE} {filler('b', 28)}"),  # 40 words
            doc("c", f"{filler('c', 12)} {OTHER_PASSAGE}")]  # 24 words
    reuse = find_reuse(docs)
    matrix = reuse.reuse_matrix.set_index(["doc_id", "other_doc_id"])
    assert sorted(matrix.index) == [("a", "b"), ("a", "c"), ("b", "a"), ("c", "a")]  # b-c and the diagonal: none
    assert matrix.loc[("a", "b"), "shared_words"] == 12 and matrix.loc[("a", "b"), "share"] == pytest.approx(12 / 30)
    assert matrix.loc[("a", "c"), "share"] == pytest.approx(12 / 30)
    assert matrix.loc[("b", "a"), "share"] == pytest.approx(12 / 40)
    assert matrix.loc[("c", "a"), "share"] == pytest.approx(12 / 24)
    shares = reuse.reused_share.set_index("doc_id")
    assert shares.loc["a"].tolist() == [30, 24, pytest.approx(24 / 30)]
    assert shares["reused_words"].tolist() == [24, 12, 12]


def test_overlapping_passages_are_merged_in_the_coverage():
    # a shares words 0-12 with b and words 8-20 with c: 20 words reused, not 24
    words = PASSAGE.split() + OTHER_PASSAGE.split()[:8]
    docs = [doc("a", " ".join(words)), doc("b", " ".join(words[:12]) + " " + filler("b", 5)),
            doc("c", filler("c", 5) + " " + " ".join(words[8:]))]
    reuse = find_reuse(docs)
    assert reuse.span_occurrences.query("doc_id == 'a'")[["word_start", "word_end", "shared_with"]].values.tolist() == [
        [0, 12, "b"], [8, 20, "c"]]
    assert reuse.reused_share.set_index("doc_id").loc["a", "reused_words"] == 20
    text = docs[0].text
    assert reuse.reused_char_ranges["a"] == [(0, len(text))]


def test_char_ranges_map_back_to_the_text_of_blocks_with_markers_and_joined_lines():
    # block.text drops the list marker and joins the paragraph's lines; offsets must still index doc.text
    other_on_two_lines = OTHER_PASSAGE.replace(" as ", "\nas ")
    text_a = f"Intro line one\ncontinues here.\n\n- {PASSAGE}\n- short\n\n{filler('a', 4)}\n{other_on_two_lines}"
    text_b = f"{OTHER_PASSAGE}\n\n  * {PASSAGE}"
    reuse = find_reuse([doc("a", text_a), doc("b", text_b)])
    texts = {"a": text_a, "b": text_b}
    for doc_id, ranges in reuse.reused_char_ranges.items():
        assert sorted(texts[doc_id][start:end].replace("\n", " ") for start, end in ranges) == sorted(
            [PASSAGE, OTHER_PASSAGE])
    assert reuse.span_occurrences.query("doc_id == 'a'")["word_start"].tolist() == [5, 22]


# --------------------------------------------------------------- sentences


SENTENCE = "Kratom leaves have been used for centuries to relieve pain and fatigue"  # 12 words, 10 trigrams


def test_near_duplicate_sentence_with_one_word_changed():
    changed = SENTENCE.replace("relieve", "ease")  # 3 trigrams differ: 7 shared of 13 distinct
    docs = [doc("a", f"{SENTENCE}. The weather in the valley was mild this year."),
            doc("b", f"Unrelated words about market prices of coffee beans today. {changed}.")]
    table = find_reuse(docs, sentence_n=3).near_duplicate_sentences
    assert len(table) == 1
    row = table.iloc[0]
    assert row[["doc_a", "sentence_a", "doc_b", "sentence_b"]].tolist() == ["a", f"{SENTENCE}.", "b", f"{changed}."]
    assert row["similarity"] == pytest.approx(7 / 13)
    assert find_reuse(docs, sentence_n=3, sentence_threshold=0.6).near_duplicate_sentences.empty
    by_words = find_reuse(docs).near_duplicate_sentences  # the default compares sets of words
    assert by_words["similarity"].tolist() == pytest.approx([11 / 13])  # 11 shared words of 13


def test_sentences_of_the_same_document_are_not_paired():
    table = find_reuse([doc("a", f"{SENTENCE}. {SENTENCE}."), doc("b", filler("b", 10))]).near_duplicate_sentences
    assert table.empty


def _jaccard_pairs(docs: list[Document], threshold: float) -> set:
    """Every pair of lines of different documents at or above ``threshold``, by brute force."""
    lines = [(d.doc_id, number, line, set(zip(t, t[1:], t[2:])))
             for d in docs for number, line in enumerate(d.text.split("\n")) if len(t := tokenize(line)) >= 5]
    return {(a[0], a[1], a[2], b[0], b[1], b[2], round(len(a[3] & b[3]) / len(a[3] | b[3]), 9))
            for a, b in itertools.combinations(lines, 2)
            if a[0] != b[0] and len(a[3] & b[3]) / len(a[3] | b[3]) >= threshold}


def test_sentence_matcher_reports_only_true_pairs_and_nearly_all_of_them():
    """Every reported pair is at least as similar as the threshold (checked exactly); of the pairs an
    all-pairs comparison finds, MinHash LSH misses few."""
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(25)]
    templates = [[rng.choice(vocabulary) for _ in range(rng.randint(5, 14))] for _ in range(12)]
    docs = []
    for d in range(8):
        lines = []
        for _ in range(10):
            words = list(rng.choice(templates))
            for _ in range(rng.randint(0, 3)):  # mutate a few words
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            lines.append(" ".join(words))
        docs.append(doc(f"d{d}", "\n".join(lines)))
    for threshold in (0.3, 0.5, 0.8):
        table = find_reuse(docs, sentence_n=3, sentence_threshold=threshold).near_duplicate_sentences
        found = {(r.doc_a, r.block_a, r.sentence_a, r.doc_b, r.block_b, r.sentence_b, round(r.similarity, 9))
                 for r in table.itertuples()}  # each line is a block and a sentence
        expected = _jaccard_pairs(docs, threshold)
        assert len(table) == len(found) and expected  # the case is not trivial
        assert found <= expected
        assert len(found) >= 0.95 * len(expected)


def planted_recall(seed: int = 11, copies_per_level: int = 60, executor=None) -> tuple[dict[float, float], pd.DataFrame]:
    """Recall of the sentence matcher on planted near-duplicates, by Jaccard similarity, and the pairs found.

    Each original is a sentence of 30 distinct words drawn from 20,000 (unrelated originals share
    almost nothing); its edited copy, in another document, replaces words with new ones so that the
    word sets have the given Jaccard similarity.
    """
    rng = random.Random(seed)
    levels = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    docs, planted, fresh = [], {}, iter(range(10**6, 2 * 10**6))
    for level in levels:
        replaced = round(30 * (1 - level) / (1 + level))
        for copy in range(copies_per_level):
            words = rng.sample(range(20_000), 30)
            edited = words[:30 - replaced] + [next(fresh) for _ in range(replaced)]
            rng.shuffle(edited)
            a, b = f"{level}-{copy}-a", f"{level}-{copy}-b"
            docs += [doc(a, " ".join(f"w{w}" for w in words) + "."), doc(b, " ".join(f"w{w}" for w in edited) + ".")]
            planted[(a, b)] = level
    table = find_reuse(docs, sentence_threshold=0.5, executor=executor).near_duplicate_sentences
    found = set(zip(table["doc_a"], table["doc_b"]))
    assert found <= set(planted)  # no false pair: unrelated originals share too few words
    words = {d.doc_id: set(d.text.rstrip(".").split()) for d in docs}
    for a, b, similarity in zip(table["doc_a"], table["doc_b"], table["similarity"]):
        assert similarity == len(words[a] & words[b]) / len(words[a] | words[b]) >= 0.5  # verified exactly
    return ({level: sum((pair in found) for pair, lv in planted.items() if lv == level) / copies_per_level
             for level in levels}, table)


@pytest.mark.parametrize("where", ["this process", "three processes", "a LocalCluster of two"])
def test_planted_near_duplicates_are_found_the_same_wherever_they_run(where, monkeypatch):
    """Band keys are shuffle keys and candidates are checked on exact sets: recall and pairs do not depend
    on the executor, the buckets (one per worker) or the ranges of documents."""
    if where == "a LocalCluster of two":
        pytest.importorskip("distributed")
        from analysis.executor import DaskExecutor, close_clients
        executor = DaskExecutor("local:2")
    else:
        from analysis.executor import LocalExecutor, close_clients
        executor = LocalExecutor(1 if where == "this process" else 3)
    monkeypatch.setattr("analysis.reuse.reading._TOKENS_PER_TASK", 1_000)  # about 30 ranges of documents
    try:
        recall, table = planted_recall(executor=executor)
        again = planted_recall(executor=executor)[1]
    finally:
        close_clients()
    assert recall[0.5] >= 0.95
    assert all(recall[level] == 1.0 for level in (0.7, 0.8, 0.9, 0.95))
    pd.testing.assert_frame_equal(table, again)
    pd.testing.assert_frame_equal(table, planted_recall()[1].astype(table.dtypes.to_dict()))


# ------------------------------------------------------ checks and options


def test_a_generator_is_read_once_like_a_list():
    docs = [doc("a", PASSAGE), doc("b", PASSAGE)]
    from_generator, from_list = find_reuse(d for d in docs), find_reuse(docs)
    for name in ("shared_spans", "span_occurrences", "near_duplicate_sentences", "reuse_matrix", "reused_share"):
        pd.testing.assert_frame_equal(getattr(from_generator, name), getattr(from_list, name))


@pytest.mark.parametrize("option, value", [("n", 0), ("min_documents", 1), ("sentence_threshold", 0.0),
                                           ("sentence_threshold", 1.5), ("sentence_n", 0)])
def test_bad_options_are_named(option, value):
    with pytest.raises(AnalysisError, match=f"{option} must be"):
        find_reuse([doc("a", PASSAGE)], **{option: value})


_DETERMINISM_SCRIPT = """
import sys
from analysis.corpus import Corpus
from analysis.reuse import find_reuse
reuse = find_reuse(Corpus(sys.argv[1]), n=5, sentence_threshold=0.2)
for table in (reuse.shared_spans, reuse.span_occurrences, reuse.near_duplicate_sentences, reuse.reuse_matrix):
    print(table.to_csv(index=False))
print(sorted(reuse.reused_char_ranges.items()))
"""


def test_tables_are_identical_across_processes_with_different_hash_seeds(seed_corpus, repo_root):
    outputs = []
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT, str(seed_corpus)], cwd=repo_root,
                                env=env, capture_output=True, text=True, check=True)
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") > 50  # the tables are not empty


# ------------------------------------------------------------- seed corpus


def test_seed_tropical_evergreen_tree_is_shared_by_001_and_004(seed_reuse):
    spans = seed_reuse.shared_spans
    found = spans[spans["text"].str.contains("tropical evergreen tree native to Southeast Asia")]
    assert found["documents"].tolist() == ["001_6c888b388283ab30;004_ae2261013d9df198"]
    assert found["text"].iloc[0] == ("Kratom, a tropical evergreen tree native to Southeast Asia, "
                                     "has garnered attention in")


def test_seed_positions_agree_with_kwic(seed_reuse, seed_corpus):
    # word positions count every block (the outline too), like kwic's
    lines = kwic(prepare(Corpus(seed_corpus), cache=None), "tropical evergreen tree", Preprocessor(Settings()), lemmas=False)
    occurrences = seed_reuse.span_occurrences.merge(seed_reuse.shared_spans[["span_id", "text"]], on="span_id")
    tropical = occurrences[occurrences["text"].str.contains("tropical evergreen")]
    assert sorted(tropical["word_start"] + 2) == sorted(lines["position"])


def test_seed_char_ranges_are_the_union_of_the_occurrences(seed_reuse, seed_corpus):
    texts = {d.doc_id: d.text for d in Corpus(seed_corpus)}
    assert set(seed_reuse.reused_char_ranges) == set(texts)
    for doc_id, ranges in seed_reuse.reused_char_ranges.items():
        assert ranges == sorted(ranges)
        assert all(end < start for (_, end), (start, _) in zip(ranges, ranges[1:]))  # merged: no overlap
        rows = seed_reuse.span_occurrences.query("doc_id == @doc_id")
        assert all(any(start <= row.char_start and row.char_end <= end for start, end in ranges)
                   for row in rows.itertuples())
        assert {start for start, _ in ranges} <= set(rows["char_start"])
        assert {end for _, end in ranges} <= set(rows["char_end"])
        words = seed_reuse.reused_share.set_index("doc_id").loc[doc_id, "reused_words"]
        assert sum(len(tokenize(texts[doc_id][start:end])) for start, end in ranges) == words


# ------------------------------------------------------------------ plots


@pytest.mark.parametrize("plot, table", [(plot_reuse_matrix, "reuse_matrix"), (plot_reused_share, "reused_share")])
def test_plots_return_the_given_axes(seed_reuse, plot, table):
    fig, given = plt.subplots()
    ax = plot(getattr(seed_reuse, table), ax=given)
    assert ax is given and ax.figure is fig
    assert "passages of 8+ words" in title(ax)
    assert ax.get_xlabel() and ax.get_ylabel()


def test_plot_reuse_matrix_prints_row_shares(seed_reuse):
    with plt.rc_context(plots.STYLE):
        ax = plot_reuse_matrix(seed_reuse.reuse_matrix, documents=seed_reuse.reused_share["doc_id"])
    assert isinstance(ax, Axes)
    width, _ = ax.figure.get_size_inches()
    assert width == pytest.approx(plots.SINGLE_COLUMN_IN)
    assert len(ax.texts) == 5 * 4  # every cell but the diagonal
    row = seed_reuse.reuse_matrix.query("doc_id == '004_ae2261013d9df198' and other_doc_id == '001_6c888b388283ab30'")
    assert f"{row['share'].iloc[0] * 100:.1f}" in [t.get_text() for t in ax.texts]


def test_plot_reused_share_labels_counts(seed_reuse):
    ax = plot_reused_share(seed_reuse.reused_share)
    labels = [t.get_text() for t in ax.texts]
    row = seed_reuse.reused_share.iloc[1]
    assert f"{row['share'] * 100:.1f} % ({row['reused_words']:,} of {row['words']:,})" in labels
    assert [p.get_width() for p in ax.patches] == pytest.approx((seed_reuse.reused_share["share"] * 100).tolist())


@pytest.mark.parametrize("plot, table", [(plot_reuse_matrix, "reuse_matrix"), (plot_reused_share, "reused_share")])
def test_plots_of_one_document_say_so(plot, table):
    reuse = find_reuse([doc("only", PASSAGE)])
    ax = plot(getattr(reuse, table))
    assert any("one document" in t.get_text() for t in ax.texts)


def test_plots_of_many_documents_show_the_top_or_the_distribution_and_say_so():
    """The matrix keeps the documents with the most reuse; the shares become a histogram of every document,
    with how many reuse nothing, some and all of their words."""
    docs = [doc(f"d{i:02d}", f"{filler(f'd{i}-', i)} {PASSAGE if i % 2 else OTHER_PASSAGE}") for i in range(50)]
    docs += [doc("alone", filler("alone-", 30)), doc("copy-a", PASSAGE), doc("copy-b", PASSAGE)]
    reuse = find_reuse(docs)
    matrix = plot_reuse_matrix(reuse.reuse_matrix, documents=reuse.reused_share["doc_id"], max_documents=10)
    assert "top 10 of 53 documents" in title(matrix)
    assert len(matrix.get_yticklabels()) == 10
    shares = plot_reused_share(reuse.reused_share, max_documents=10)
    share = reuse.reused_share["share"]
    assert (share == 0).sum() == 1 and (share >= 1).sum() == 3  # d00 is the passage alone
    assert "of 53 documents, 1 reuse none,\n49 some and 3 all of their words" in title(shares)
    assert sum(p.get_height() for p in shares.patches) == 52  # every document that reuses text, in its bin
    assert shares.get_figure().get_size_inches()[1] < 9
    # Thirty documents: a page wide, and a row of the matrix per line of label.
    full = plot_reuse_matrix(reuse.reuse_matrix, documents=reuse.reused_share["doc_id"])
    width, height = full.get_figure().get_size_inches()
    assert width == 7.0 and height <= 9.0 and len(full.get_yticklabels()) == 30
    full.get_figure().canvas.draw()  # laid out: the labels have taken their room
    row_in = full.get_position().height * height / 30
    assert row_in >= 5 / 72  # the 5-point labels do not overlap


# -- masking reused passages out of term and topic analyses -----------------------------------

def test_masked_words_leave_the_counts_and_are_reported_in_the_waterfall():
    from analysis.terms import count_terms

    shared = "kratom is a tropical evergreen tree native to southeast asia"
    docs = [doc("a", f"Intro words here. {shared.capitalize()}, with garnered notes.\n\n- bullet one\n- bullet two"),
            doc("b", f"Other opening text. {shared.capitalize()}. Closing remarks follow.")]
    found = find_reuse(docs, n=5)
    counts = count_terms(prepare_documents(docs), Preprocessor(Settings(phrases=False, mask_reuse=True)),
                         masks=found.reused_char_ranges)
    terms = set(counts.counts["term"])
    assert not {"tropical", "evergreen", "southeast"} & terms and {"intro", "garnered", "closing"} <= terms
    waterfall = counts.waterfall.set_index("step")
    assert waterfall.loc["reused text masked", "tokens_removed"] == 2 * len(shared.split())
    assert "kratom (2)" in waterfall.loc["reused text masked", "top_affected"]
    # the gap ends the sentence: no n-gram joins the words on either side of it
    plain = count_terms(prepare_documents(docs), Preprocessor(Settings(phrases=False)))
    assert "reused text masked" not in set(plain.waterfall["step"])
    assert not any("garnered" in g and "here" in g for g in counts.ngrams["ngram"])


def test_mask_reuse_setting_masks_the_seed_corpus(seed_corpus, seed_tc):
    from analysis.results import Results

    masked = Results(Settings(corpus=seed_corpus, mask_reuse=True))
    step = masked.terms.waterfall.set_index("step").loc["reused text masked"]
    reused = int(masked.reuse.reused_share["reused_words"].sum())
    assert step["tokens_removed"] == reused == 225
    before = seed_tc.counts.groupby("term")["count"].sum()
    after = masked.terms.counts.groupby("term")["count"].sum()
    assert after.get("evergreen", 0) < before["evergreen"]
    assert after.sum() < before.sum()


def test_cli_reuse_writes_its_tables_and_figures_only(seed_corpus, tmp_path, capsys):
    from analysis.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "top-terms.png").write_bytes(b"kept: not a reuse file")
    assert main(["reuse", "--corpus", str(seed_corpus), "--out", str(out), "--formats", "png"]) == 0
    printed = capsys.readouterr().out
    assert "13 passages of 8+ words shared by 2+ documents" in printed and "001_6c888b388283ab30:   7.9%" in printed
    names = {p.name for p in out.iterdir()}
    assert names == {"top-terms.png", "manifest.json", "reuse-matrix.png", "reuse-matrix.csv", "reused-share.png",
                     "reused-share.csv", "reuse_spans.csv", "reuse_occurrences.csv", "near_duplicate_sentences.csv"}
    assert (out / "top-terms.png").read_bytes() == b"kept: not a reuse file"
    assert main(["reuse", "--corpus", str(seed_corpus), "--out", str(out), "--reuse-ngram", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--reuse-ngram must be between 2 and 100" in err


def test_plots_reject_too_few_documents_to_draw_and_roles_may_be_one_string(seed_corpus):
    found = find_reuse(Corpus(seed_corpus))
    with pytest.raises(AnalysisError, match="max_documents must be 2 or more, got 1"):
        plot_reuse_matrix(found.reuse_matrix, max_documents=1)
    with pytest.raises(AnalysisError, match="max_documents must be 1 or more, got 0"):
        plot_reused_share(found.reused_share, max_documents=0)
    docs = [doc("a", PASSAGE), doc("b", PASSAGE)]
    assert len(find_reuse(docs).shared_spans) == 1
    assert find_reuse(docs, excluded_roles="paragraph").shared_spans.empty  # one role, not its letters


def test_every_passage_occurs_in_one_piece_in_each_document_it_names(seed_corpus):
    """The seed corpus once reported "supplement derived from the leaves of Mitragyna speciosa, has" as
    shared by 001 and 003, though 001 holds it only as two 8-word pieces from different places."""
    from analysis.corpus import Corpus

    docs = list(Corpus(seed_corpus))
    words = {doc.doc_id: [" ".join(tokenize(b.text)) for b in doc.blocks if b.role != "outline"] for doc in docs}
    found = find_reuse(docs)
    for span in found.shared_spans.itertuples():
        passage = " ".join(tokenize(span.text))
        for doc_id in span.documents.split(";"):
            assert any(f" {passage} " in f" {block} " for block in words[doc_id]), (span.text, doc_id)
    texts = set(found.shared_spans["text"])
    assert "supplement derived from the leaves of Mitragyna speciosa" in texts
    assert not any(t.startswith("supplement derived from the leaves of Mitragyna speciosa, has") for t in texts)


def test_passages_follow_one_diagonal():
    """B holds "a b c d e f" only as "a b c d e" and, elsewhere, "b c d e f": with 5-word shingles
    both occur in B, but the 6 words were never copied in one piece."""
    a = doc("a", "alpha beta gamma delta epsilon zeta.")
    b = doc("b", "alpha beta gamma delta epsilon omega. Then beta gamma delta epsilon zeta here.")
    spans = find_reuse([a, b], n=5).shared_spans
    assert sorted(spans["n_words"]) == [5, 5]
    assert set(spans["documents"]) == {"a;b"}


def test_cli_reuse_summarises_a_large_corpus_instead_of_a_line_per_document(tmp_path, capsys):
    from analysis.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(40):
        shared = PASSAGE if i % 2 else ""
        (corpus / f"d{i:02}.txt").write_text(f"{filler(f'w{i}', 30)}. {shared}", encoding="utf-8")
    assert main(["reuse", "--corpus", str(corpus), "--out", str(tmp_path / "out"), "--formats", "png",
                 "--dpi", "50"]) == 0
    printed = capsys.readouterr().out
    assert "d03" not in printed and printed.count("\n") < 15
    assert " of 40 documents reuse words; share of words reused per document: median" in printed


def test_sorted_tables_written_in_many_partitions_are_the_table_of_one(seed_corpus, monkeypatch):
    """The passages (most words x documents first) and the sentence pairs (most similar first) are sorted
    over the corpus by partitions of their sort codes: cut into parts of a few rows, in two processes, they
    are the same table, with span ids numbered across the parts."""
    from analysis.executor import LocalExecutor

    docs = list(Corpus(seed_corpus))
    whole = find_reuse(docs, n=6)
    assert len(whole.spans.parts) == 1 and whole.n_spans == len(whole.shared_spans) > 20
    monkeypatch.setattr("analysis.parts.ROWS_PER_PART", 2)
    monkeypatch.setattr("analysis.reuse.reading._TOKENS_PER_TASK", 300)
    cut = find_reuse(docs, n=6, executor=LocalExecutor(2))
    assert len(cut.spans.parts) > 10 and len(cut.sentence_pairs.parts) > 2 and len(cut.occurrences.parts) > 2
    for name in ("shared_spans", "span_occurrences", "near_duplicate_sentences", "reuse_matrix", "reused_share"):
        pd.testing.assert_frame_equal(getattr(cut, name), getattr(whole, name), obj=name)
    assert cut.shared_spans["span_id"].tolist() == list(range(1, cut.n_spans + 1))
    assert cut.n_pairs == len(cut.near_duplicate_sentences) and cut.reused_char_ranges == whole.reused_char_ranges
    assert cut.spans.head(3).equals(whole.shared_spans.head(3))


def test_parts_of_a_result_go_with_it(seed_corpus):
    """Without a folder the parts are written to a temporary one, removed when the result is."""
    import gc

    found = find_reuse(list(Corpus(seed_corpus)), n=6)
    folder = found.spans.parts[0].parent
    assert folder.is_dir()
    del found
    gc.collect()
    assert not folder.exists()
