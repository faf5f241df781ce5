"""KWIC: matching on normalised tokens, phrases and lemmas; context; sorting; CLI."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.concordance import COLLOCATE_COLUMNS, KWIC_COLUMNS, collocates, dispersion, format_kwic, kwic
from analysis.config import Settings
from analysis.corpus import Corpus, Document
from analysis.errors import AnalysisError
from analysis.prepared import prepare, prepare_documents
from analysis.tokens import Preprocessor, token_spans


@pytest.fixture(scope="module")
def seed(seed_corpus):
    settings = Settings(corpus=seed_corpus)
    return prepare(Corpus.from_settings(settings), cache=None), Preprocessor(settings)


def _outline_free_lines(path):
    return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("- ")]


def test_kratom_matches_an_independent_regex_count(seed, seed_corpus, seed_ids):
    corpus, pre = seed
    table = kwic(corpus, "kratom", pre)
    expected = {
        doc_id: sum(len(re.findall(r"(?<![\w-])kratom(?![\w-])", line, re.IGNORECASE))
                    for line in _outline_free_lines(seed_corpus / f"{doc_id}.txt"))
        for doc_id in seed_ids
    }
    assert table.groupby("doc_id").size().to_dict() == expected
    assert list(table.columns) == KWIC_COLUMNS
    # possessives ("Kratom's", with any apostrophe) are the same token, shown as written
    assert set(table["match"].str.lower().str.replace(r"['\u2018\u2019]s$", "", regex=True)) == {"kratom"}
    assert "outline" not in set(table["role"])


def test_phrase_query_matches_across_case_and_spacing():
    doc = Document("d", "Chronic  pain is hard.\n\nLiving with chronic\npain daily. Chronic illness.", "d")
    table = kwic(prepare_documents([doc]), "chronic pain", Preprocessor(Settings()))
    assert table["match"].tolist() == ["Chronic pain", "chronic pain"]
    assert table["right"].tolist()[0].startswith("is hard")


def test_lemmas_match_other_forms_unless_turned_off():
    doc = Document("d", "Kratom reduces pain. It reduced swelling and keeps reducing it.", "d")
    pre = Preprocessor(Settings())
    assert kwic(prepare_documents([doc]), "reduce", pre)["match"].tolist() == ["reduces", "reduced", "reducing"]
    assert kwic(prepare_documents([doc]), "reduce", pre, lemmas=False).empty
    assert kwic(prepare_documents([doc]), "reduced", pre, lemmas=False)["match"].tolist() == ["reduced"]


def test_window_counts_words_and_stays_in_the_block():
    doc = Document("d", "one two three four KEY five six seven eight\n\nnine ten KEY", "d")
    table = kwic(prepare_documents([doc]), "key", Preprocessor(Settings()), window=2)
    assert table[["left", "match", "right"]].values.tolist() == [
        ["three four", "KEY", "five six"], ["nine ten", "KEY", ""],
    ]
    assert table["position"].tolist() == [4, 11]
    assert kwic(prepare_documents([doc]), "key", Preprocessor(Settings()), window=0)["left"].tolist() == ["", ""]


def test_sort_left_right_and_doc():
    doc = Document("d", "zeta KEY alpha. beta KEY gamma. alpha KEY zeta.", "d")
    pre = Preprocessor(Settings())
    assert kwic(prepare_documents([doc]), "key", pre, sort="left", window=1)["left"].str.rstrip(".").tolist() == ["alpha", "beta", "zeta"]
    assert kwic(prepare_documents([doc]), "key", pre, sort="right", window=1)["right"].str.rstrip(".").tolist() == ["alpha", "gamma", "zeta"]
    assert kwic(prepare_documents([doc]), "key", pre, sort="doc")["position"].tolist() == [1, 4, 7]


def test_bad_arguments_are_clear_errors():
    pre = Preprocessor(Settings())
    with pytest.raises(AnalysisError, match="--sort must be one of"):
        kwic(prepare_documents([]), "x", pre, sort="middle")
    with pytest.raises(AnalysisError, match="--window must be 0 or more"):
        kwic(prepare_documents([]), "x", pre, window=-1)
    with pytest.raises(AnalysisError, match="no words to match"):
        kwic(prepare_documents([]), "?!", pre)


def test_token_spans_point_into_the_original_text():
    text = "Kratom\u2019s \u201cROLE\u201d in pain-relief"
    assert [text[s:e] for _, s, e in token_spans(text)] == ["Kratom\u2019s", "ROLE", "in", "pain-relief"]
    assert [t for t, _, _ in token_spans(text)] == ["kratom", "role", "in", "pain-relief"]


def test_format_kwic_aligns_the_match():
    doc = Document("doc-1", "short KEY end. a much longer left context KEY here.", "d")
    lines = format_kwic(kwic(prepare_documents([doc]), "key", Preprocessor(Settings()))).splitlines()
    assert len(lines) == 2 and len({line.index("[KEY]") for line in lines}) == 1


def test_cli_kwic(seed_corpus, tmp_path, capsys):
    assert main(["kwic", "withdrawal symptoms", "--corpus", str(seed_corpus), "--sort", "left"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("[withdrawal symptoms]") + captured.out.count("[Withdrawal Symptoms]") == 14
    assert "14 matches of 'withdrawal symptoms' in 2 documents" in captured.err
    out = tmp_path / "kwic.csv"
    assert main(["kwic", "kratom", "--corpus", str(seed_corpus), "--out", str(out), "--window", "3"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(KWIC_COLUMNS) and len(lines) == 144
    capsys.readouterr()
    assert main(["kwic", "pain", "--corpus", str(seed_corpus), "--window", "-2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--window must be between 1 and 50, got -2" in err and "Traceback" not in err


# -- collocates --------------------------------------------------------------------------------

def _g2_reference(o11, r1, c1, n):
    """G2 from the full 2 x 2 table, written out cell by cell."""
    import math

    cells = [(o11, r1 * c1 / n), (r1 - o11, r1 * (n - c1) / n), (c1 - o11, (n - r1) * c1 / n),
             (n - r1 - c1 + o11, (n - r1) * (n - c1) / n)]
    return 2 * sum(o * math.log(o / e) for o, e in cells if o > 0)


def test_collocates_counts_and_measures_by_hand():
    # node "pain" twice; window 2: {a, b, c, d} and {c, e, f, g}; 20 tokens in all
    text = "x y a b pain c d x y z q r c e pain f g w v u"
    doc = Document("d", text, "d")
    table = collocates(prepare_documents([doc]), "pain", Preprocessor(Settings(stopwords="none")), window=2, min_count=1, lemmas=False,
                       function_words=True)
    assert table.attrs == {"node_count": 2, "tokens": 20}
    row = table.set_index("collocate").loc["c"]
    assert row["count"] == 2 and row["collocate_count"] == 2
    slots = 2 * 2 * 2
    assert row["expected"] == pytest.approx(slots * 2 / 20)
    assert row["pmi"] == pytest.approx(math.log2(2 / (slots * 2 / 20)))
    assert row["t_score"] == pytest.approx((2 - slots * 2 / 20) / math.sqrt(2))
    assert row["log_likelihood"] == pytest.approx(_g2_reference(2, slots, 2, 20))
    assert set(table["collocate"]) == {"a", "b", "c", "d", "e", "f", "g"}
    assert table["log_likelihood"].is_monotonic_decreasing


def test_collocate_context_counts_each_position_once():
    # windows of the two nodes overlap on "m"; the first window is cut by the start of the block
    doc = Document("d", "a pain m pain b\n\nc d e f g h i j k l n o q r s t u v", "d")
    table = collocates(prepare_documents([doc]), "pain", Preprocessor(Settings(stopwords="none", phrases=False)), window=2,
                       min_count=1, lemmas=False, function_words=True).set_index("collocate")
    # context: a, m, b (m once although it is in both windows); 5 words in the first block
    assert table.loc["m", "count"] == 1 and table.loc["m", "collocate_count"] == 1
    assert set(table.index) == {"a", "m", "b"}
    assert table.loc["m", "expected"] == pytest.approx(3 * 1 / 23)  # 5 + 18 words
    assert (table["count"] <= table["collocate_count"]).all()


def test_collocates_leaves_out_words_avoided_near_the_node():
    text = ". ".join(["pain x"] * 3 + ["y y y y y y y y y y"] * 3 + ["pain y"])
    table = collocates(prepare_documents([Document("d", text, "d")]), "pain", Preprocessor(Settings(stopwords="none", phrases=False)),
                       window=1, min_count=1, lemmas=False, function_words=True)
    assert table["collocate"].tolist() == ["x"]  # y is near the node once, far less than expected


def test_collocates_on_the_seed_corpus(seed):
    corpus, pre = seed
    table = collocates(corpus, "withdrawal", pre)
    top = table.iloc[0]
    assert top["collocate"] == "symptom" and top["count"] == 15 and top["log_likelihood"] > 10.83
    assert (table["count"] <= table["collocate_count"]).all() and (table["count"] > table["expected"]).all()
    assert table.attrs["tokens"] == 4405 and table.attrs["node_count"] == 20
    assert (table["count"] >= 3).all() and not table["collocate"].isin(["the", "and", "of"]).any()


def test_collocates_bad_window():
    with pytest.raises(AnalysisError, match="--window must be 1 or more"):
        collocates(prepare_documents([]), "x", Preprocessor(Settings()), window=0)


# -- dispersion --------------------------------------------------------------------------------

def test_dispersion_by_hand():
    docs = [Document("a", "key one two three", "a"), Document("b", "key key four five six seven eight nine", "b"),
            Document("c", "ten eleven twelve thirteen", "c")]
    table = dispersion(prepare_documents(docs), ["key", "absent"], Preprocessor(Settings(stopwords="none"))).set_index("term")
    sizes = np.array([4, 8, 4]) / 16
    v = np.array([1, 2, 0]) / 3
    assert table.loc["key", "dp"] == pytest.approx(0.5 * np.abs(v - sizes).sum())
    assert table.loc["key", "dp_norm"] == pytest.approx(0.5 * np.abs(v - sizes).sum() / (1 - 0.25))
    rates = np.array([1 / 4, 2 / 8, 0])
    assert table.loc["key", "juilland_d"] == pytest.approx(1 - rates.std() / rates.mean() / math.sqrt(2))
    assert table.loc["key", "count"] == 3 and table.loc["key", "documents"] == 2
    assert table.loc["absent", "count"] == 0 and np.isnan(table.loc["absent", "dp"])


def test_dispersion_on_the_seed_corpus(seed):
    corpus, pre = seed
    table = dispersion(corpus, ["kratom", "hyperpigmentation"], pre).set_index("term")
    assert table.loc["kratom", "dp"] < 0.05 and table.loc["kratom", "juilland_d"] > 0.9
    assert table.loc["hyperpigmentation", "documents"] == 1 and table.loc["hyperpigmentation", "juilland_d"] == pytest.approx(0)


def test_cli_collocates(seed_corpus, tmp_path, capsys):
    assert main(["collocates", "withdrawal", "--corpus", str(seed_corpus), "--top", "2"]) == 0
    captured = capsys.readouterr()
    rows = captured.out.splitlines()
    assert len(rows) == 3 and rows[1].split()[:2] == ["symptom", "15"] and rows[2].split()[0] == "opioid"
    assert "'withdrawal': 20 occurrences" in captured.err and "\u00b15 words" in captured.err
    out = tmp_path / "colloc.csv"
    assert main(["collocates", "withdrawal", "--corpus", str(seed_corpus), "--window", "2", "--min-count", "1",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == COLLOCATE_COLUMNS and len(table) > 5 and (table["count"] >= 1).all()
    assert table["log_likelihood"].is_monotonic_decreasing
    capsys.readouterr()
    for bad in (["--window", "0"], ["--min-count", "0"]):
        assert main(["collocates", "pain", "--corpus", str(seed_corpus), *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
