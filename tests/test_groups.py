"""Groups of documents by a metadata column: counts, rates and keyness recover planted differences."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis import groups
from analysis.alt_text import alt_text
from analysis.cli import main
from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.figures import figure_names, make_figure
from analysis.results import Results

SHARED = ("report week people time place year group number member plan work point case area "
          "matter issue story account detail").split()
PLANTED = {"sport": ["goal", "match", "striker"], "politics": ["vote", "minister", "ballot"],
           "tech": ["software", "chip", "server"]}


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """60 documents in three groups: shared words, plus each group's three words at a known rate
    (one word in ten)."""
    rng = np.random.default_rng(11)
    path = tmp_path_factory.mktemp("planted") / "news.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(60):
            group = list(PLANTED)[i % 3]
            words = [rng.choice(PLANTED[group]) if rng.random() < 0.1 else rng.choice(SHARED) for _ in range(200)]
            sentences = [" ".join(words[k:k + 10]).capitalize() + "." for k in range(0, 200, 10)]
            out.write(json.dumps({"id": f"n{i:02d}", "text": " ".join(sentences), "desk": group,
                                  "year": str(2000 + i % 4)}) + "\n")
    return path


def _results(corpus: Path, tmp_path: Path, **changes) -> Results:
    return Results(Settings(corpus=corpus, out=tmp_path / "out", phrases=False, **changes))


def test_grouping_reads_any_metadata_column(planted, tmp_path):
    results = _results(planted, tmp_path)
    by_desk = groups.grouping(results.prepared.documents, "desk")
    assert by_desk.names == ["politics", "sport", "tech"]
    assert by_desk.sizes.tolist() == [20, 20, 20] and by_desk.n_ungrouped == 0
    by_year = groups.grouping(results.prepared.documents, "year")
    assert by_year.names == ["2000", "2001", "2002", "2003"]


def test_an_unknown_column_names_the_columns_there_are(planted, tmp_path):
    documents = _results(planted, tmp_path).prepared.documents
    with pytest.raises(AnalysisError, match=r"--by colour: no metadata column .*desk, year"):
        groups.grouping(documents, "colour")


def test_an_id_like_column_is_refused(tmp_path):
    documents = pd.DataFrame({"doc_id": [f"d{i}" for i in range(600)], "url": [f"u{i}" for i in range(600)]})
    with pytest.raises(AnalysisError, match="600 distinct values"):
        groups.grouping(documents, "url")


def test_empty_values_are_ungrouped():
    documents = pd.DataFrame({"doc_id": ["a", "b", "c"], "folder": ["x", "", "y"]})
    found = groups.grouping(documents, "folder")
    assert found.of_document.tolist() == [0, -1, 1] and found.n_ungrouped == 1


def test_group_term_counts_are_the_sums_of_their_documents(planted, tmp_path):
    results = _results(planted, tmp_path)
    counts = groups.GroupCounts(results.terms, groups.grouping(results.prepared.documents, "desk"))
    table = groups.group_terms(counts)
    by_doc = results.terms.counts.groupby(["doc_id", "term"])["count"].sum().reset_index()
    desk = results.prepared.documents.set_index("doc_id")["desk"]
    expected = by_doc.assign(group=by_doc["doc_id"].map(desk)).groupby(["group", "term"])["count"].sum()
    got = table.set_index(["group", "term"])["count"].sort_index()
    assert got.to_dict() == expected.sort_index().to_dict()
    sport = table[table["group"] == "sport"].set_index("term")
    assert set(sport["doc_count"]) <= set(range(1, 21)) and sport.loc["goal", "doc_share"] <= 1
    # The rate's denominator is the group's word tokens: 20 documents of 200.
    assert (sport["tokens"] == 4000).all()
    assert sport.loc["goal", "per_1000_tokens"] == pytest.approx(1000 * sport.loc["goal", "count"] / 4000)
    assert table.groupby("group")["rank"].min().eq(1).all()


def test_each_group_against_the_rest_finds_its_planted_words(planted, tmp_path):
    results = _results(planted, tmp_path)
    counts = groups.GroupCounts(results.terms, groups.grouping(results.prepared.documents, "desk"))
    table = groups.group_keyness(counts)
    for group, words in PLANTED.items():
        top = table[table["group"] == group].head(3)
        assert set(top["term"]) == set(words), (group, top)
        assert (top["direction"] == "positive").all() and top["significant"].all()
        assert (top["log_ratio"] > 3).all()  # planted words are (nearly) absent elsewhere
        others = [w for g, ws in PLANTED.items() if g != group for w in ws]
        underused = table[(table["group"] == group) & table["term"].isin(others)]
        assert (underused["direction"] == "negative").all() and underused["significant"].all()
    shared = table[table["term"].isin(SHARED)]
    assert not shared["significant"].any()  # the shared vocabulary does not distinguish the groups


def test_two_groups_compared_directly(planted, tmp_path):
    results = _results(planted, tmp_path)
    counts = groups.GroupCounts(results.terms, groups.grouping(results.prepared.documents, "desk"))
    table = groups.group_keyness(counts, compare=("sport", "politics"))
    assert set(table["group"]) == {"sport"} and set(table["reference"]) == {"politics"}
    significant = table[table["significant"]]
    assert set(significant[significant["direction"] == "positive"]["term"]) == set(PLANTED["sport"])
    assert set(significant[significant["direction"] == "negative"]["term"]) == set(PLANTED["politics"])
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    with pytest.raises(AnalysisError, match="no group 'opinion'"):
        groups.group_keyness(counts, compare=("sport", "opinion"))


def test_terms_by_a_metadata_column_on_the_command_line(planted, tmp_path, capsys):
    out = tmp_path / "terms.csv"
    assert main(["terms", "--corpus", str(planted), "--by", "desk", "--top", "3", "--no-phrases",
                 "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == groups.GROUP_TERM_COLUMNS
    assert table.groupby("group").size().to_dict() == {"politics": 3, "sport": 3, "tech": 3}
    # A column named like a built-in grouping (section, role ...) is reached as column:NAME.
    assert main(["terms", "--corpus", str(planted), "--by", "column:year", "--top", "1", "--no-phrases",
                 "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]) == 0
    assert pd.read_csv(out)["group"].tolist() == [2000, 2001, 2002, 2003]


def test_keyness_command_by_group_and_between_two(planted, tmp_path, capsys):
    options = ["--corpus", str(planted), "--by", "desk", "--no-phrases", "--cache-dir", str(tmp_path / "cache")]
    assert main(["keyness", *options, "--top", "3"]) == 0
    printed = capsys.readouterr().out
    for words in PLANTED.values():
        assert all(word in printed for word in words)
    out = tmp_path / "k.csv"
    assert main(["keyness", *options, "--compare", "tech", "sport", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table["group"]) == {"tech"} and set(table["reference"]) == {"sport"}
    assert main(["keyness", *options, "--compare", "tech", "opinion"]) == 2
    assert "no group 'opinion'" in capsys.readouterr().err


def test_keyness_without_a_grouping_says_how_to_give_one(planted, tmp_path, capsys):
    assert main(["keyness", "--corpus", str(planted), "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert "--by COLUMN" in err and "desk, year" in err


def test_a_folder_corpus_with_sub_folders_is_grouped_by_folder(planted, tmp_path):
    folder = tmp_path / "news"
    for line in planted.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        (folder / record["desk"]).mkdir(parents=True, exist_ok=True)
        (folder / record["desk"] / f"{record['id']}.txt").write_text(record["text"], encoding="utf-8")
    results = _results(folder, tmp_path)
    assert results.group_column == "folder"
    assert "group-keyness" in figure_names(grouped=True) and "group-keyness" not in figure_names()
    assert results.grouping.names == ["politics", "sport", "tech"]
    flat = _results(planted, tmp_path)
    assert flat.group_column is None
    with pytest.raises(AnalysisError, match="no grouping: give --by COLUMN"):
        flat.grouping


@pytest.mark.parametrize("n_groups", [3, 20, 60])
def test_the_group_keyness_figure_fits_a_page(tmp_path, n_groups):
    """Up to six groups in one column, more in two; never taller than a page; the largest 20 drawn."""
    rng = np.random.default_rng(5)
    path = tmp_path / "many.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(n_groups * 4):
            group = i % n_groups
            words = [f"own{group}x" if rng.random() < 0.2 else rng.choice(SHARED) for _ in range(60)]
            out.write(json.dumps({"id": f"d{i}", "text": " ".join(words) + ".", "beat": f"beat-{group:02d}"}) + "\n")
    results = _results(path, tmp_path, group_by="beat")
    fig, data = make_figure("group-keyness", results)
    width, height = fig.get_size_inches()
    assert height <= 9.0 and width == (3.5 if n_groups <= 6 else 7.0)
    assert data["group"].nunique() == min(n_groups, 20)
    assert all(f"own{int(g[-2:])}x" in set(rows["term"]) for g, rows in data.groupby("group"))
    plt.close(fig)
    described = alt_text("group-keyness", data, results)
    assert f"one per beat ({min(n_groups, 20)} of {n_groups} groups)" in described
    assert "beat-00: own0x" in described


def test_topic_prevalence_intervals_cover_the_planted_shares():
    """Documents' topic mixtures drawn around known group means: the estimates recover the
    differences, and the 95% intervals cover the planted means (all but a few of 3 x 4)."""
    rng = np.random.default_rng(2)
    planted_means = {"a": [0.6, 0.2, 0.1, 0.1], "b": [0.1, 0.6, 0.2, 0.1], "c": [0.25, 0.25, 0.25, 0.25]}
    rows, members = [], []
    for group, mean in planted_means.items():
        for i in range(150):
            theta = rng.dirichlet(np.asarray(mean) * 20)
            doc_id = f"{group}{i}"
            members.append((doc_id, group))
            rows += [(doc_id, t + 1, w) for t, w in enumerate(theta)]
    mixtures = pd.DataFrame(rows, columns=["doc_id", "topic", "weight"]).pivot(index="doc_id", columns="topic",
                                                                                values="weight")
    documents = pd.DataFrame(members, columns=["doc_id", "desk"])
    found = groups.grouping(documents, "desk")
    table = groups.group_topic_prevalence(mixtures, found, {t: f"t{t}" for t in range(1, 5)}, seed=0)
    assert list(table.columns) == groups.GROUP_TOPIC_COLUMNS and len(table) == 12
    planted_share = table.apply(lambda r: planted_means[r["group"]][r["topic"] - 1], axis=1)
    covered = (table["low"] <= planted_share) & (planted_share <= table["high"])
    assert covered.sum() >= 10
    assert ((table["high"] - table["low"]) < 0.1).all()  # 150 documents a group: narrow intervals
    first = table[table["topic"] == 1].set_index("group")
    assert first.loc["a", "low"] > first.loc["a", "corpus_prevalence"] > first.loc["b", "high"]
    # The same seed gives the same intervals.
    again = groups.group_topic_prevalence(mixtures, found, {t: f"t{t}" for t in range(1, 5)}, seed=0)
    assert again.equals(table)


def test_topic_prevalence_by_group_from_a_fitted_model(planted, tmp_path):
    results = _results(planted, tmp_path, group_by="desk", k=3, seeds=1, iterations=200, unit="document",
                       no_above=1.0)
    table = results.group_topic_prevalence
    assert set(table["group"]) == set(PLANTED) and table["documents"].eq(20).all()
    # Each group's planted words make one topic its own: every group has a topic it clearly leads on.
    for group, rows in table.groupby("group"):
        best = rows.loc[rows["prevalence"].idxmax()]
        assert best["low"] > best["corpus_prevalence"], group
    fig, data = make_figure("topic-prevalence-by-group", results)
    assert fig.get_size_inches()[1] <= 9.0 and len(data) == 9
    plt.close(fig)
    described = alt_text("topic-prevalence-by-group", data, results)
    top = data.assign(lift=data["prevalence"] - data["corpus_prevalence"]).nlargest(1, "lift").iloc[0]
    assert f"in {top['group']}: {top['prevalence']:.0%} [{top['low']:.0%}, {top['high']:.0%}]" in described


@pytest.fixture(scope="module")
def dated(tmp_path_factory) -> Path:
    """100 documents over five years: 'rising' at 2, 4, 6, 8 and 10 per 1,000 tokens, 'steady' at 5."""
    rng = np.random.default_rng(4)
    path = tmp_path_factory.mktemp("dated") / "dated.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(100):
            year = 2000 + i % 5
            rising = (year - 1999) * 2 / 1000
            words = [("rising" if (u := rng.random()) < rising else "steady" if u < rising + 0.005
                      else rng.choice(SHARED)) for _ in range(1000)]
            text = " ".join(" ".join(words[k:k + 20]).capitalize() + "." for k in range(0, 1000, 20))
            out.write(json.dumps({"id": f"t{i:03d}", "text": text, "date": f"{year}-0{1 + i % 9}-1{i % 10}"}) + "\n")
    return path


def test_periods_of_dates_numbers_and_a_clear_error():
    documents = pd.DataFrame({"doc_id": list("abcdef"), "year": ["2001", "1999", "2001", "", "2000", "1999"],
                              "kind": list("xyzxyz")})
    found = groups.periods(documents, "year")
    assert found.names == ["1999", "2000", "2001"] and found.of_document.tolist() == [2, 0, 2, -1, 1, 0]
    many = pd.DataFrame({"doc_id": [f"d{i}" for i in range(100)],
                         "when": [f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(100)]})
    months = groups.periods(many, "when")
    assert months.bins == "month" and months.names[0] == "2020-01" and len(months.names) == 12
    with pytest.raises(AnalysisError, match="neither numbers nor ISO dates .* use --by kind"):
        groups.periods(documents, "kind")


def test_term_trends_recover_a_planted_rise(dated, tmp_path):
    results = _results(dated, tmp_path, over="date", focus_terms=("rising", "steady"))
    assert results.periods.bins == "year" and results.periods.names == [str(y) for y in range(2000, 2005)]
    table = results.term_trends
    rising = table[table["term"] == "rising"].set_index("period")
    planted = pd.Series([2.0, 4.0, 6.0, 8.0, 10.0], index=rising.index)
    assert rising["per_1000_tokens"].is_monotonic_increasing
    assert ((rising["low"] <= planted * 1.15) & (planted * 0.85 <= rising["high"])).all()
    steady = table[table["term"] == "steady"]
    assert steady["low"].max() < steady["high"].min() + 2  # overlapping bands: no trend
    fig, data = make_figure("term-trends", results)
    assert fig.get_size_inches()[1] <= 9.0
    plt.close(fig)
    described = alt_text("term-trends", data, results)
    assert "over 5 periods of date (2000 to 2004)" in described and "rising peaks in 2004" in described
    assert "term-trends" in figure_names(ordered=True) and "term-trends" not in figure_names()


def test_topic_trends_render_within_a_page(dated, tmp_path):
    results = _results(dated, tmp_path, over="date", k=3, seeds=1, iterations=100, unit="document", no_above=1.0)
    fig, data = make_figure("topic-trends", results)
    assert set(data["period"]) == {str(y) for y in range(2000, 2005)} and data["topic"].nunique() == 3
    assert fig.get_size_inches()[1] <= 9.0
    plt.close(fig)
    assert "one per topic (3)" in alt_text("topic-trends", data, results)


def test_default_focus_terms_are_each_groups_strongest_keyword(planted, tmp_path):
    results = _results(planted, tmp_path, group_by="desk")
    chosen = results.focus_terms
    assert len(chosen) == 3 and all(any(term in words for words in PLANTED.values()) for term in chosen)
    assert {next(g for g, words in PLANTED.items() if term in words) for term in chosen} == set(PLANTED)


def test_default_focus_terms_without_groups_are_distinctive_not_frequent(planted, tmp_path):
    results = _results(planted, tmp_path)
    frequent = results.corpus_terms.nsmallest(6, "rank")["term"].tolist()
    assert results.focus_terms and results.focus_terms != frequent
    assert set(results.focus_terms) <= set(results.reference_keyness["term"])


def test_a_focus_term_the_corpus_never_uses_is_named(planted, tmp_path):
    results = _results(planted, tmp_path, focus_terms=("goal", "kratom"))
    with pytest.warns(UserWarning, match="focus terms the corpus never uses: kratom"):
        assert results.focus_terms == ["goal", "kratom"]
    assert results.dispersion["term"].unique().tolist() == ["goal", "kratom"]


def test_per_document_figures_of_a_grouped_corpus_show_each_groups_typical_documents(tmp_path):
    """The longest document of each group is an encoded attachment: the figures pass over it and show the
    documents nearest their group's mean profile, every group before any has two, and say so."""
    rng = np.random.default_rng(3)
    path = tmp_path / "desks.jsonl"
    junk = ["begin", *(f"m{k:03d}x" for k in range(400))]
    with path.open("w", encoding="utf-8") as out:
        for i in range(90):
            group = list(PLANTED)[i % 3]
            size = 200 + 2 * i
            words = [rng.choice(PLANTED[group]) if rng.random() < 0.1 else rng.choice(SHARED) for _ in range(size)]
            out.write(json.dumps({"id": f"{group}-{i:02d}", "text": " ".join(words) + ".", "desk": group}) + "\n")
        for group in PLANTED:  # each group's longest: an encoded attachment
            words = rng.choice(junk, size=3000)
            out.write(json.dumps({"id": f"{group}-attachment", "text": " ".join(words) + ".", "desk": group}) + "\n")
    results = _results(path, tmp_path, group_by="desk")
    shown = results.documents_shown(7)
    assert len(shown) == 7 and not any(doc.endswith("attachment") for doc in shown)
    assert {doc.split("-")[0] for doc in shown} == set(PLANTED)
    assert set(results.documents_shown(3)) < set(shown)  # one per group, then a second of each, ...
    assert sorted(Counter(doc.split("-")[0] for doc in shown).values()) == [2, 2, 3]
    fig, data = make_figure("document-structure", results)
    assert data["doc_id"].nunique() == 25
    assert "25 of 93 documents:\nthe most typical of each desk" in fig.axes[0].get_title(loc="left")
    plt.close(fig)
    ungrouped = _results(path, tmp_path)
    assert not any(doc.endswith("attachment") for doc in ungrouped.documents_shown(7))  # they are the longest
    assert ungrouped.documents_chosen_by == "the most typical"
