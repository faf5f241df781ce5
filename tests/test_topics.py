"""LDA topics (analysis.topics, analysis.pages.ldavis): planted topics are recovered,
fits are reproducible, topic ids are stable and agree everywhere, the model
round-trips without pickle, the pyLDAvis page cannot be hijacked by corpus text.

Two corpora: a synthetic one written to a temporary folder (60 documents drawn
from three disjoint vocabularies, so the right answer is known) and the seed
corpus (five articles, fitted on paragraphs).
"""

from __future__ import annotations

import html.parser
import io
import itertools
import json
import math
import os
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import pytest
from scipy.spatial.distance import jensenshannon

from analysis import stats, topics
from analysis.cli import main
from analysis.figures import make_figure
from analysis.config import Settings
from analysis.corpus import Corpus
from analysis.errors import AnalysisError
from analysis.pages.ldavis import ldavis_data, ldavis_html, script_safe_json
from analysis.results import Results
from analysis.tokens import maintained_stopwords
from analysis.topics import UNIT_COLUMNS, TopicModel, TopicWarning

# Three disjoint pools of real words, none a stopword (checked below).
POOLS = {
    "astronomy": ("telescope galaxy nebula comet asteroid orbit planet meteor quasar pulsar supernova eclipse "
                  "constellation observatory cosmos").split(),
    "cooking": ("saucepan oven skillet simmer garlic onion butter flour recipe spatula whisk broth pastry dough "
                "seasoning").split(),
    "sailing": "mast rudder keel anchor harbor hull sail tiller jib mooring starboard regatta dinghy halyard buoy".split(),
}
POOL_OF = {word: pool for pool, words in POOLS.items() for word in words}
N_DOCS, WORDS_PER_PARAGRAPH, PARAGRAPHS, NOISE = 60, 20, 2, 0.05


def _write_planted_corpus(root: Path, seed: int = 0) -> dict[str, str]:
    """60 documents of two paragraphs; each word from the document's pool with
    probability 0.95, else from another pool. Returns doc_id -> pool."""
    rng = np.random.default_rng(seed)
    names = list(POOLS)
    truth = {}
    root.mkdir(parents=True)
    for d in range(N_DOCS):
        pool = names[d % 3]
        others = [w for p in names if p != pool for w in POOLS[p]]
        paragraphs = []
        for _ in range(PARAGRAPHS):
            words = [str(rng.choice(others)) if rng.random() < NOISE else str(rng.choice(POOLS[pool]))
                     for _ in range(WORDS_PER_PARAGRAPH)]
            paragraphs.append(" ".join(words) + ".")
        doc_id = f"doc{d:03d}"
        (root / f"{doc_id}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        truth[doc_id] = pool
    return truth


def _planted_settings(root: Path, **changes) -> Settings:
    values = dict(corpus=root, unit="document", k=3, seeds=3, passes=10, iterations=100, phrases=False,
                  k_grid="2..4")
    values.update(changes)
    return Settings(**values)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted") / "corpus"
    return root, _write_planted_corpus(root)


@pytest.fixture(scope="module")
def planted_results(planted) -> Results:
    return Results(_planted_settings(planted[0]))


def _main_pool(terms: list[str]) -> tuple[str, int]:
    counts = {pool: sum(POOL_OF.get(t) == pool for t in terms) for pool in POOLS}
    pool = max(counts, key=counts.get)
    return pool, counts[pool]


# -- 1. planted topics --------------------------------------------------------------------------

def test_planted_vocabulary_survives_preprocessing(planted_results):
    assert not set(POOL_OF) & maintained_stopwords("gensim")
    assert sorted(planted_results.topic_input.vocabulary) == sorted(POOL_OF)


def test_planted_topics_are_recovered(planted, planted_results):
    _, truth = planted
    result = planted_results.topics
    assert result.model.unit == "document" and len(result.model.units) == N_DOCS
    for model in [result.model, *result.runs]:
        top = topics.topic_terms(model, n=10, lam=1.0)
        assert len(top) == 3 * 10
        topic_pool = {}
        for topic, rows in top.groupby("topic"):
            pool, hits = _main_pool(rows["term"].tolist())
            assert hits >= 8, (model.seed, topic, rows["term"].tolist())
            topic_pool[topic] = pool
        assert sorted(topic_pool.values()) == sorted(POOLS), topic_pool  # one-to-one
        mixtures = topics.doc_topics(model)
        main_topic = mixtures.loc[mixtures.groupby("doc_id")["weight"].idxmax()].set_index("doc_id")["topic"]
        assert set(main_topic.index) == set(truth)
        agree = np.mean([topic_pool[main_topic[d]] == pool for d, pool in truth.items()])
        assert agree >= 0.95, (model.seed, agree)


def test_tomotopy_engine_recovers_planted_topics_reproducibly(planted):
    root, truth = planted
    settings = _planted_settings(root, engine="tomotopy", seeds=2, iterations=100)
    first, second = Results(settings).topics, Results(settings).topics
    assert np.array_equal(first.model.topic_term, second.model.topic_term)
    assert np.array_equal(first.model.unit_topic, second.model.unit_topic)
    model = first.model
    assert model.settings["engine"] == "tomotopy" and "LDA (tomotopy)" in model.subtitle()
    assert np.allclose(model.topic_term.sum(axis=1), 1.0) and np.allclose(model.unit_topic.sum(axis=1), 1.0)
    top = topics.topic_terms(model, n=10, lam=1.0)
    pools = [_main_pool(rows["term"].tolist()) for _, rows in top.groupby("topic")]
    assert sorted(pool for pool, _ in pools) == sorted(POOLS) and all(hits >= 8 for _, hits in pools)


def test_select_k_with_tomotopy(planted):
    results = Results(_planted_settings(planted[0], engine="tomotopy", seeds=2, iterations=50, k_grid="2..3"))
    table = results.k_selection
    perplexity = table.loc[table["metric"] == "perplexity", "value"]
    assert len(perplexity) == 4 and np.isfinite(perplexity).all()


def test_select_k_on_a_large_corpus_fits_a_seeded_sample(planted):
    settings = _planted_settings(planted[0], engine="tomotopy", seeds=1, iterations=30, k_grid="2..3")
    n_units = len(Results(settings).topic_input.bows)
    sample = topics.selection_sample(n_units, settings.replace(k_selection_units=20))
    assert len(sample) == 20 and np.array_equal(sample, np.unique(sample)) and sample.max() < n_units
    assert np.array_equal(sample, topics.selection_sample(n_units, settings.replace(k_selection_units=20)))
    assert topics.selection_sample(n_units, settings.replace(k_selection_units=n_units)) is None
    assert topics.selection_sample(n_units, settings.replace(k_selection_units=0)) is None
    sampled = Results(settings.replace(k_selection_units=20))
    assert not sampled.k_selection.equals(Results(settings).k_selection)  # fitted on other units
    fig, _ = make_figure("k-selection", sampled)
    assert any("a random sample of 20 of" in text.get_text() for text in fig.axes[0].texts)
    plt.close(fig)


# -- 2. determinism -----------------------------------------------------------------------------

def test_same_settings_give_identical_fits(planted):
    first, second = Results(_planted_settings(planted[0])), Results(_planted_settings(planted[0]))
    a, b = first.topics, second.topics
    assert a.model.vocabulary == b.model.vocabulary
    for run_a, run_b in zip([a.model, *a.runs], [b.model, *b.runs], strict=True):
        assert run_a.seed == run_b.seed
        assert np.array_equal(run_a.topic_term, run_b.topic_term)
        assert np.array_equal(run_a.unit_topic, run_b.unit_topic)
        assert np.array_equal(run_a.native_ids, run_b.native_ids)
    pd.testing.assert_frame_equal(a.topic_ids, b.topic_ids)
    pd.testing.assert_frame_equal(a.stability, b.stability)
    pd.testing.assert_frame_equal(first.k_selection, second.k_selection)
    assert a.model.to_files("topic-model") == b.model.to_files("topic-model")


def test_seed_changes_the_fit(seed_k4):
    prepared, settings = seed_k4.topic_input, seed_k4.settings
    zero = topics.fit_topics(prepared, settings, seed=0)
    again = topics.fit_topics(prepared, settings, seed=0)
    other = topics.fit_topics(prepared, settings, seed=1)
    assert np.array_equal(zero.topic_term, again.topic_term)
    assert zero.topic_term.shape == other.topic_term.shape
    assert not np.array_equal(zero.topic_term, other.topic_term)
    assert not np.allclose(np.sort(zero.topic_term, axis=0), np.sort(other.topic_term, axis=0))


def _topics_argv(seed_corpus: Path, out: Path, config: Path) -> list[str]:
    return ["topics", "--corpus", str(seed_corpus), "--out", str(out), "--k", "3", "--seeds", "2", "--html",
            "--passes", "10", "--iterations", "100", "--config", str(config)]


def test_topics_command_is_byte_reproducible_across_runs_and_processes(seed_corpus, no_config_cwd, capsys):
    """Same-named output folders at the same depth, so even the manifest must match; the
    second run is a separate process with another hash seed, and fits its seeds in two
    worker processes where the first fits them one after the other."""
    config = no_config_cwd / "render.toml"
    config.write_text('formats = ["png", "svg", "pdf"]\ndpi = 40\n', encoding="utf-8")
    a, b = no_config_cwd / "a" / "topics", no_config_cwd / "b" / "topics"
    assert main([*_topics_argv(seed_corpus, a, config), "--jobs", "1"]) == 0
    capsys.readouterr()
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-m", "analysis", *_topics_argv(seed_corpus, b, config), "--jobs", "2"],
                          cwd=no_config_cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    files_a = {p.name: p.read_bytes() for p in a.iterdir()}
    files_b = {p.name: p.read_bytes() for p in b.iterdir()}
    assert {n.rsplit(".", 1)[1] for n in files_a} == {"png", "svg", "pdf", "csv", "json", "npz", "html"}
    assert set(files_a) == set(files_b)
    assert sorted(name for name in files_a if files_a[name] != files_b[name]) == []


def test_k_selection_does_not_depend_on_jobs(seed_k4):
    prepared, settings = seed_k4.topic_input, seed_k4.settings.replace(seeds=2)
    serial = topics.select_k(prepared, settings.replace(jobs=1), [2, 3])
    parallel = topics.select_k(prepared, settings.replace(jobs=2), [2, 3])
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    one = topics.fit_stable_topics(prepared, settings.replace(jobs=1))
    two = topics.fit_stable_topics(prepared, settings.replace(jobs=2))
    assert [run.seed for run in one.runs] == [run.seed for run in two.runs]
    assert all(np.array_equal(a.topic_term, b.topic_term) and np.array_equal(a.unit_topic, b.unit_topic)
               for a, b in zip(one.runs, two.runs))


# -- 3. alignment and topic ids -----------------------------------------------------------------

def test_js_similarity_properties():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(12), 4)
    q = rng.dirichlet(np.ones(12), 3)
    s = stats.js_similarity(p, q)
    assert s.shape == (4, 3)
    assert np.allclose(s, stats.js_similarity(q, p).T)
    assert np.allclose(np.diag(stats.js_similarity(p, p)), 1.0)
    assert ((s >= 0) & (s <= 1)).all() and (s < 1).all()
    # 1 - Jensen-Shannon distance in bits, as scipy computes it
    expected = np.array([[1 - jensenshannon(a, b, base=2) for b in q] for a in p])
    assert np.allclose(s, expected)
    # disjoint supports: as far apart as it gets
    left, right = np.array([[0.5, 0.5, 0, 0]]), np.array([[0, 0, 0.2, 0.8]])
    assert stats.js_similarity(left, right)[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert stats.js_similarity(left, left)[0, 0] == pytest.approx(1.0, abs=1e-12)


def test_align_topics_recovers_a_permutation():
    rng = np.random.default_rng(2)
    reference = rng.dirichlet(np.full(40, 0.3), 6)
    permutation = np.array([3, 0, 5, 1, 4, 2])
    other = reference[permutation]  # other[j] is reference[permutation[j]]
    match, similarity = topics.align_topics(reference, other)
    assert np.array_equal(other[match], reference)
    assert np.array_equal(match, np.argsort(permutation))
    assert similarity == pytest.approx(np.ones(6), abs=1e-12)
    # identical rows: the identity, similarity 1
    match, similarity = topics.align_topics(reference, reference)
    assert np.array_equal(match, np.arange(6)) and similarity == pytest.approx(np.ones(6), abs=1e-12)
    # a noisy copy is still matched correctly, with similarity below 1
    noisy = other * rng.uniform(0.7, 1.3, other.shape)
    noisy /= noisy.sum(axis=1, keepdims=True)
    match, similarity = topics.align_topics(reference, noisy)
    assert np.array_equal(match, np.argsort(permutation))
    assert (similarity < 1).all() and (similarity > 0.5).all()


def test_align_topics_maximises_total_similarity_not_greedy():
    reference = np.array([[0.03, 0.92, 0.05, 0.0], [0.21, 0.02, 0.05, 0.71], [0.32, 0.02, 0.55, 0.11]])
    other = np.array([[0.8, 0.0, 0.16, 0.04], [0.62, 0.01, 0.37, 0.0], [0.35, 0.04, 0.29, 0.32]])
    reference, other = reference / reference.sum(axis=1, keepdims=True), other / other.sum(axis=1, keepdims=True)
    s = stats.js_similarity(reference, other)
    # taking the most similar pair first (2-2) and so on would give (1, 0, 2); the best total is (0, 2, 1)
    best = max(itertools.permutations(range(3)), key=lambda perm: sum(s[i, j] for i, j in enumerate(perm)))
    assert best == (0, 2, 1) and np.unravel_index(np.argmax(s), s.shape) == (2, 2)
    match, similarity = topics.align_topics(reference, other)
    assert tuple(match) == best
    assert similarity == pytest.approx([s[i, j] for i, j in enumerate(best)])


def test_topic_ids_table(seed_k4):
    result = seed_k4.topics
    model, k = result.model, result.model.k
    ids = result.topic_ids
    assert list(ids.columns) == ["seed", "native_id", "topic", "similarity", "reference"]
    assert len(ids) == 3 * k
    assert not ids.duplicated(["seed", "topic"]).any()
    assert sorted(ids["seed"].unique()) == [0, 1, 2] == [run.seed for run in result.runs]
    for seed, rows in ids.groupby("seed"):
        assert sorted(rows["topic"]) == list(range(1, k + 1))
        assert sorted(rows["native_id"]) == list(range(k)), seed  # a permutation of the engine's ids
    reference = ids[ids["reference"]]
    assert reference["seed"].nunique() == 1 and int(reference["seed"].iloc[0]) == model.seed
    assert reference.sort_values("topic")["native_id"].tolist() == model.native_ids.tolist()
    assert (reference["similarity"] == 1.0).all()
    runs = {run.seed: run for run in result.runs}
    assert runs[model.seed] is model
    for row in ids.itertuples():
        run = runs[row.seed]
        # the run's topic with this native id really has this similarity to the reported topic
        row_of_native = int(np.flatnonzero(run.native_ids == row.native_id)[0])
        s = stats.js_similarity(model.topic_term[[row.topic - 1]], run.topic_term[[row_of_native]])[0, 0]
        assert s == pytest.approx(row.similarity)
    # each run's mapping is the best one-to-one assignment (brute force over K! matchings)
    for run in result.runs:
        s = stats.js_similarity(model.topic_term, run.topic_term)
        best = max(sum(s[i, j] for i, j in enumerate(p)) for p in itertools.permutations(range(k)))
        mapped = ids[ids["seed"] == run.seed]["similarity"].sum()
        assert mapped == pytest.approx(best)
    # stability: every other run, every topic, the same similarities
    stability = result.stability
    assert len(stability) == 2 * k and model.seed not in set(stability["seed"])
    merged = stability.merge(ids, on=["seed", "topic"], suffixes=("", "_ids"))
    assert np.allclose(merged["similarity"], merged["similarity_ids"])


def test_fit_stable_topics_with_explicit_seeds_and_one_seed(seed_k4):
    prepared, settings = seed_k4.topic_input, seed_k4.settings
    seen = []
    result = topics.fit_stable_topics(prepared, settings, seeds=[5, 9, 11], progress=lambda it: seen.append(1) or it)
    assert [run.seed for run in result.runs] == [5, 9, 11] and seen == [1]
    assert sorted(result.topic_ids["seed"].unique()) == [5, 9, 11]
    # the run for seed 9 is the same model whether fitted alone or among others
    alone = topics.fit_topics(prepared, settings, seed=9)
    assert np.array_equal(result.runs[1].topic_term, alone.topic_term)
    single = topics.fit_stable_topics(prepared, settings, seeds=[9])
    assert single.model.seed == 9 and single.stability.empty
    assert single.topic_ids["reference"].all() and (single.topic_ids["similarity"] == 1.0).all()
    assert np.isnan(topics.topic_summary(single)["stability_median"]).all()


def test_reported_run_is_the_medoid(seed_k4):
    result = seed_k4.topics
    k = result.model.k

    def best_mean(a, b):
        s = stats.js_similarity(a.topic_term, b.topic_term)
        return max(np.mean([s[i, j] for i, j in enumerate(p)]) for p in itertools.permutations(range(k)))

    totals = [sum(best_mean(a, b) for b in result.runs if b is not a) for a in result.runs]
    assert result.runs[int(np.argmax(totals))] is result.model


def test_canonical_ids_are_ordered_by_prevalence(seed_k4):
    result = seed_k4.topics
    for model in [result.model, *result.runs]:
        lengths = model.units["n_vocab_terms"].to_numpy(dtype=float)
        expected = lengths @ model.unit_topic / (lengths @ model.unit_topic).sum()
        assert np.allclose(model.prevalence, expected)
        assert (np.diff(model.prevalence) <= 0).all(), model.prevalence
        assert sorted(model.native_ids.tolist()) == list(range(model.k))
    assert result.model.topic_ids == [1, 2, 3, 4]


def test_topic_ids_agree_across_tables_figures_and_ldavis(seed_k4):
    model = seed_k4.topics.model
    ids = model.topic_ids
    lam = model.settings["relevance_lambda"]
    labels = topics.topic_labels(model, lam)
    assert sorted(labels) == ids
    terms = topics.topic_terms(model, lam=lam)
    assert sorted(terms["topic"].unique()) == ids
    assert terms.drop_duplicates("topic").set_index("topic")["label"].to_dict() == labels
    assert sorted(topics.doc_topics(model)["topic"].unique()) == ids
    # the map: ids in order, with the model's prevalence, largest first
    layout = topics.intertopic_map(model)
    assert layout["topic"].tolist() == ids
    assert layout["label"].tolist() == [labels[t] for t in ids]
    assert np.allclose(layout["prevalence"], model.prevalence)
    # prevalence tables rank the topics the same way over the whole corpus
    by_doc = topics.topic_prevalence(model, "document")
    tokens = by_doc.groupby("topic")["tokens"].sum()
    assert tokens.index.tolist() == ids
    assert np.allclose(tokens / tokens.sum(), model.prevalence)
    assert set(topics.topic_prevalence(model, "role")["topic"]) == set(ids)
    assert topics.topic_summary(seed_k4.topics)["topic"].tolist() == ids
    # pyLDAvis keeps the canonical numbering and the same prevalence ranking
    data = ldavis_data(model)
    assert list(data["topic.order"]) == ids
    assert list(data["mdsDat"]["topics"]) == ids
    freq = np.array(data["mdsDat"]["Freq"], dtype=float)
    assert np.allclose(freq / 100, model.prevalence)
    assert (np.diff(freq) <= 0).all()
    categories = [c for c in data["tinfo"]["Category"] if c != "Default"]
    assert sorted(set(categories)) == sorted(f"Topic{t}" for t in ids)
    # each topic's terms on the page are its own: the top relevance term at the page's lambda
    tinfo = pd.DataFrame(data["tinfo"])
    for t in ids:
        rows = tinfo[tinfo["Category"] == f"Topic{t}"]
        phi = model.topic_term[t - 1]
        assert rows["Term"].isin(model.vocabulary).all()
        assert model.vocabulary[int(np.argmax(phi))] in set(rows["Term"])


def test_intertopic_map_matches_the_ldavis_map(seed_k4):
    model = seed_k4.topics.model
    layout = topics.intertopic_map(model)
    mds = ldavis_data(model)["mdsDat"]
    for ours, theirs in ((layout["x"].to_numpy(), np.array(mds["x"])), (layout["y"].to_numpy(), np.array(mds["y"]))):
        sign = 1.0 if np.dot(ours, theirs) >= 0 else -1.0
        assert np.allclose(ours, sign * theirs, atol=1e-6)


# -- 4. the pyLDAvis page ------------------------------------------------------------------------

HOSTILE = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(2)>", "&amp;", "</SCRIPT >",
           "line\u2028separator", "<!--", "plain", "words"]


def _hostile_model() -> TopicModel:
    rng = np.random.default_rng(3)
    k, v, n = 2, len(HOSTILE), 4
    units = pd.DataFrame(
        [[f"d{i}", f"d{i}", 0, "document", "text", 0, 0, 0, 10, 5] for i in range(n)], columns=UNIT_COLUMNS)
    units["n_vocab_terms"] = 5
    return TopicModel(
        topic_term=rng.dirichlet(np.ones(v), k), unit_topic=rng.dirichlet(np.ones(k), n), vocabulary=list(HOSTILE),
        term_counts=np.arange(3.0, 3.0 + v), units=units, native_ids=np.arange(k), seed=0,
        settings={"engine": "gensim", "relevance_lambda": 0.6}, unit="document", n_documents=n,
    )


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _ldavis_json(page: str):
    found = re.search(r"var ldavis_data = (.*?);\nnew LDAvis\(", page, re.DOTALL)
    assert found, "ldavis_data assignment not found"
    return json.loads(found.group(1))


def test_ldavis_page_escapes_hostile_terms():
    model = _hostile_model()
    page = ldavis_html(model, title="<b>kratom & pain</b>")
    parser = _Tags()
    parser.feed(page)
    parser.close()
    names = [tag for tag, _ in parser.tags]
    assert names.count("script") == 5  # the labels and passages (JSON), d3, LDAvis, the panel, the data
    assert page.lower().count("<script") == 5 and page.lower().count("</script") == 5
    assert set(names) <= {"html", "head", "meta", "title", "style", "body", "h1", "p", "div", "script"}
    for text in parser.scripts:
        assert "</script" not in text.lower()
    assert "<img" not in page and "<!--" not in page and "\u2028" not in page
    # nothing is loaded from elsewhere
    for tag, attrs in parser.tags:
        assert "src" not in attrs, tag
        assert not str(attrs.get("href", "")).startswith(("http", "//")), tag
    assert "cdn" not in page.lower() and "<link" not in page.lower()
    # the title is text, not markup
    assert "<b>" not in page and "&lt;b&gt;kratom &amp; pain&lt;/b&gt;" in page
    # the data decodes to exactly the original terms
    data = _ldavis_json(page)
    assert set(data["tinfo"]["Term"]) == set(HOSTILE)
    assert set(data["token.table"]["Term"]) <= set(HOSTILE)
    assert data == json.loads(json.dumps(ldavis_data(model), default=lambda v: v.tolist()))


def test_ldavis_page_of_a_fitted_model(seed_k4):
    model = seed_k4.topics.model
    page = ldavis_html(model)
    assert page == ldavis_html(model)  # reproducible
    data = _ldavis_json(page)
    assert data["topic.order"] == model.topic_ids
    assert set(data["tinfo"]["Term"]) <= set(model.vocabulary)
    assert "K=4" in page and "cdn" not in page.lower()


def test_script_safe_json():
    data = {"b": "</script><script>alert(1)</script>", "a": ["<!--", "&amp;", "\u2028\u2029", "ok"],
            "n": np.int64(3), "x": np.float32(0.5), "arr": np.arange(3)}
    text = script_safe_json(data)
    for character in ("<", ">", "&", "\u2028", "\u2029"):
        assert character not in text
    assert "\\u003c/script\\u003e" in text
    decoded = json.loads(text)
    assert decoded == {"b": data["b"], "a": data["a"], "n": 3, "x": 0.5, "arr": [0, 1, 2]}
    assert text.index('"a"') < text.index('"arr"') < text.index('"b"')  # keys sorted
    assert script_safe_json({"y": 1, "x": 2}) == script_safe_json({"x": 2, "y": 1})
    with pytest.raises(TypeError):
        script_safe_json({"x": object()})


# -- 5. model files ------------------------------------------------------------------------------

def _write(files: dict[str, bytes], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder / "topic-model.json"


def test_model_files_round_trip(seed_k4, tmp_path):
    model = seed_k4.topics.model
    files = model.to_files("topic-model")
    assert set(files) == {"topic-model.json", "topic-model.npz"}
    assert model.to_files("topic-model") == files  # the same bytes every time
    _write(files, tmp_path)
    for path in (tmp_path / "topic-model.json", tmp_path / "topic-model.npz"):
        loaded = TopicModel.load(path)
        for name in ("topic_term", "unit_topic", "term_counts", "native_ids"):
            original, back = getattr(model, name), getattr(loaded, name)
            assert back.dtype == original.dtype and np.array_equal(back, original), name
        assert loaded.vocabulary == model.vocabulary
        pd.testing.assert_frame_equal(loaded.units, model.units)
        assert (loaded.seed, loaded.unit, loaded.note, loaded.n_documents, loaded.settings) == (
            model.seed, model.unit, model.note, model.n_documents, model.settings)
        assert loaded.to_files("topic-model") == files
    # the archive holds plain arrays only, with fixed timestamps
    with zipfile.ZipFile(io.BytesIO(files["topic-model.npz"])) as archive:
        assert sorted(archive.namelist()) == ["native_ids.npy", "term_counts.npy", "topic_term.npy", "unit_topic.npy"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert json.loads(files["topic-model.json"])["format"] == topics.MODEL_FORMAT


class _Payload:
    """Unpickling this creates a file: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_model_load_refuses_pickles(seed_k4, tmp_path):
    model = seed_k4.topics.model
    folder = tmp_path / "evil"
    _write(model.to_files("topic-model"), folder)
    marker = tmp_path / "pickle-was-executed"
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(marker)
    np.savez(folder / "topic-model.npz", topic_term=evil, unit_topic=model.unit_topic,
             term_counts=model.term_counts, native_ids=model.native_ids)
    with pytest.raises(AnalysisError, match="topic-model.npz"):
        TopicModel.load(folder / "topic-model.json")
    assert not marker.exists()
    # the payload is live: loading it the unsafe way runs it (so the check above can fail)
    with np.load(folder / "topic-model.npz", allow_pickle=True) as unsafe:
        unsafe["topic_term"]
    assert marker.exists()


def test_model_load_errors(seed_k4, tmp_path):
    files = seed_k4.topics.model.to_files("topic-model")
    meta = json.loads(files["topic-model.json"])
    cases = {
        "wrong format": json.dumps({**meta, "format": "something-else/1"}).encode(),
        "not an object": b"[1, 2, 3]",
        "not json": b"{broken",
        "not utf-8": b"\xff\xfe\x00",
    }
    for case, data in cases.items():
        folder = tmp_path / case.replace(" ", "-")
        _write({**files, "topic-model.json": data}, folder)
        with pytest.raises(AnalysisError, match="topic-model.json"):
            TopicModel.load(folder / "topic-model.json")
    # missing files, and an archive without one of the arrays
    with pytest.raises(AnalysisError):
        TopicModel.load(tmp_path / "nowhere" / "topic-model.json")
    only_json = tmp_path / "only-json"
    _write({"topic-model.json": files["topic-model.json"]}, only_json)
    with pytest.raises(AnalysisError, match="topic-model.npz"):
        TopicModel.load(only_json / "topic-model.json")
    partial = tmp_path / "partial"
    _write(files, partial)
    np.savez(partial / "topic-model.npz", topic_term=np.zeros((2, 2)))
    with pytest.raises(AnalysisError, match="topic-model.npz"):
        TopicModel.load(partial / "topic-model.json")
    garbage = tmp_path / "garbage"
    _write({**files, "topic-model.npz": b"not a zip"}, garbage)
    with pytest.raises(AnalysisError, match="topic-model.npz"):
        TopicModel.load(garbage / "topic-model.json")


@pytest.mark.parametrize("case", ["missing units", "mismatched pair"])
def test_model_load_validates_the_contents(seed_k4, tmp_path, case):
    model = seed_k4.topics.model
    files = model.to_files("topic-model")
    meta = json.loads(files["topic-model.json"])
    if case == "missing units":
        del meta["units"]
    else:
        meta["vocabulary"] = meta["vocabulary"][:-1]
    _write({**files, "topic-model.json": json.dumps(meta).encode()}, tmp_path)
    with pytest.raises(AnalysisError):
        TopicModel.load(tmp_path / "topic-model.json")


# -- 6. units ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_pipeline(seed_corpus):
    results = Results(Settings(corpus=seed_corpus, cache=False))
    return results.settings, results.prepared, results.term_layer


def _collect(prepared, layer, settings):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        units = topics.collect_units(prepared, layer, settings)
    return units, [w for w in caught if issubclass(w.category, TopicWarning)]


@pytest.mark.parametrize("unit", ["document", "section", "paragraph"])
def test_units_at_each_level(seed_pipeline, seed_ids, unit):
    settings, corpus, preprocessor = seed_pipeline
    units, _ = _collect(corpus, preprocessor, settings.replace(unit=unit))
    table = units.table
    assert units.unit == unit and units.note == "" and units.n_documents == 5
    assert list(table.columns) == UNIT_COLUMNS
    assert len(table) == len(units.texts)
    if unit == "document":
        assert len(units) == 5 and table["unit_id"].tolist() == list(seed_ids)
        assert (table["role"] == "document").all()
    else:
        assert len(units) > 5
        assert table["unit_id"].str.startswith(tuple(f"{d}#" for d in seed_ids)).all()
    assert table["unit_id"].is_unique
    assert all(units.texts) and (table["n_terms"] > 0).all()
    assert table["n_terms"].tolist() == [len(t) for t in units.texts]
    assert sorted(table["doc_id"].unique()) == list(seed_ids)
    for _, rows in table.groupby("doc_id"):
        assert rows["position"].tolist() == list(range(len(rows)))
        assert (rows["start"] < rows["end"]).all() and (rows["first_block"] <= rows["last_block"]).all()
        assert rows["start"].is_monotonic_increasing
    texts = {doc.doc_id: doc.text for doc in corpus}
    assert all(end <= len(texts[d]) for d, end in zip(table["doc_id"], table["end"]))


def test_units_at_every_level_hold_the_same_terms(seed_pipeline):
    settings, corpus, preprocessor = seed_pipeline
    levels = {unit: _collect(corpus, preprocessor, settings.replace(unit=unit))[0]
              for unit in ("document", "section", "paragraph")}
    per_doc = {}
    for unit, units in levels.items():
        terms: dict[str, list[str]] = {}
        for doc_id, text in zip(units.table["doc_id"], units.texts):
            terms.setdefault(doc_id, []).extend(text)
        per_doc[unit] = terms
    assert per_doc["document"] == per_doc["section"] == per_doc["paragraph"]
    # and they are the counted terms of the term analytics
    counted = {}
    for block in corpus.blocks.itertuples():
        counted.setdefault(block.doc_id, []).extend(preprocessor.block_terms(block.Index))
    assert per_doc["document"] == counted


@pytest.mark.parametrize("unit", ["document", "section", "paragraph"])
@pytest.mark.parametrize("pruning", [{"no_below": 1, "no_above": 1.0},
                                     {"no_below": 2, "no_above": 0.8, "keep_n": 60, "remove_top_share": 0.05}])
def test_the_vocabulary_and_bags_are_gensims_made_from_arrays(seed_pipeline, unit, pruning, monkeypatch):
    """What ``Dictionary(texts).filter_extremes(...)`` and ``doc2bow`` give, ids included, though the texts
    are never held as strings: counted over the layer's arrays a few units at a time."""
    from gensim.corpora import Dictionary

    settings, corpus, preprocessor = seed_pipeline
    settings = settings.replace(unit=unit, k=2, **pruning)
    units, _ = _collect(corpus, preprocessor, settings)
    texts = [list(text) for text in units.texts]
    expected = Dictionary(texts)
    expected.filter_extremes(no_below=settings.no_below, no_above=settings.no_above, keep_n=settings.keep_n)
    n_top = int(settings.remove_top_share * len(expected))
    if n_top:
        expected.filter_tokens(bad_ids=sorted(expected.cfs, key=lambda i: (-expected.cfs[i], expected[i]))[:n_top])
    monkeypatch.setattr("analysis.topics.fit.UNITS_PER_PASS", 7)
    made = topics.prepare(units, settings)
    assert len(expected) > 40 and made.dictionary.token2id == expected.token2id
    assert (made.dictionary.dfs, made.dictionary.cfs) == (expected.dfs, expected.cfs)
    assert (made.dictionary.num_docs, made.dictionary.num_pos, made.dictionary.num_nnz) == \
        (expected.num_docs, expected.num_pos, expected.num_nnz)
    assert [made.bows[i] for i in range(len(texts))] == [expected.doc2bow(text) for text in texts]


def test_auto_unit_falls_back_to_paragraphs_on_the_seed_corpus(seed_pipeline, seed_results):
    settings, corpus, preprocessor = seed_pipeline
    units, caught = _collect(corpus, preprocessor, settings)
    assert settings.unit == "auto" and units.unit == "paragraph"
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "too few" in message and "K=6" in message and "paragraphs" in message
    assert units.note and "too few" in units.note
    assert seed_results.units.unit == "paragraph"
    # explicitly asking for documents warns that there are too few of them
    units, caught = _collect(corpus, preprocessor, settings.replace(unit="document"))
    assert units.unit == "document" and units.note == ""
    assert len(caught) == 1 and "only 5 documents" in str(caught[0].message)


def test_auto_unit_with_enough_documents(planted):
    root, _ = planted
    settings = _planted_settings(root, unit="auto", min_units_per_topic=5)
    results = Results(settings.replace(cache=False))
    units, caught = _collect(results.prepared, results.term_layer, settings)
    assert units.unit == "document" and len(units) == N_DOCS and units.note == ""
    assert caught == []
    # ... and falls back when there are too few documents per topic
    units, caught = _collect(results.prepared, results.term_layer, settings.replace(min_units_per_topic=21))
    assert units.unit == "paragraph" and len(units) == N_DOCS * PARAGRAPHS
    assert len(caught) == 1 and "too few" in str(caught[0].message)


def test_doc_topics_roll_up_unit_mixtures(seed_k4):
    model = seed_k4.topics.model
    assert model.unit == "paragraph"
    table = topics.doc_topics(model)
    assert list(table.columns) == ["doc_id", "topic", "weight", "n_vocab_terms"]
    assert len(table) == model.n_documents * model.k
    assert np.allclose(table.groupby("doc_id")["weight"].sum(), 1.0)
    lengths = model.units["n_vocab_terms"].to_numpy(dtype=float)
    doc_ids = model.units["doc_id"].to_numpy()
    for doc_id in np.unique(doc_ids):
        mask = doc_ids == doc_id
        expected = lengths[mask] @ model.unit_topic[mask] / lengths[mask].sum()
        got = table[table["doc_id"] == doc_id].sort_values("topic")["weight"].to_numpy()
        assert np.allclose(got, expected), doc_id
    # unit_topics is the unit mixture in long form
    long = topics.unit_topics(model)
    has_terms = (model.units["n_vocab_terms"] > 0).to_numpy()
    weights = long["weight"].to_numpy().reshape(len(model.units), model.k)
    assert np.array_equal(weights[has_terms], model.unit_topic[has_terms]) and np.isnan(weights[~has_terms]).all()
    assert np.allclose(model.unit_topic.sum(axis=1), 1.0) and np.allclose(model.topic_term.sum(axis=1), 1.0)
    # n_vocab_terms counts the terms kept in the vocabulary
    bows = seed_k4.topic_input.bows
    assert model.units["n_vocab_terms"].tolist() == [sum(c for _, c in bow) for bow in bows]
    assert (model.units["n_vocab_terms"] <= model.units["n_terms"]).all()


def test_tables_of_some_documents_read_only_their_units_and_match_the_whole(seed_k4):
    """A figure's documents: doc_topics and the prevalence by document of a few documents are the rows of
    the whole tables, bit for bit (each document's sums add the same values in the same order)."""
    model = seed_k4.topics.model
    some = sorted(model.units["doc_id"].unique())[1:3]
    for whole, part in ((topics.doc_topics(model), topics.doc_topics(model, documents=some)),
                        (topics.topic_prevalence(model, "document").rename(columns={"group": "doc_id"}),
                         topics.topic_prevalence(model, "document", documents=some).rename(columns={"group": "doc_id"}))):
        expected = whole[whole["doc_id"].isin(some)].reset_index(drop=True)
        assert len(part) == 2 * model.k
        pd.testing.assert_frame_equal(part, expected, check_exact=True)
    roles = topics.topic_prevalence(model, "role")
    assert roles.equals(topics.topic_prevalence(model, "role", documents=some))  # roles: every unit


def test_doc_mixtures_are_doc_topics_pivoted_whatever_the_chunks(seed_k4):
    """The documents x K table that group prevalence reads, rolled up a chunk of whole documents at a time,
    holds the values of the long table, bit for bit."""
    model = seed_k4.topics.model
    expected = topics.doc_topics(model).pivot(index="doc_id", columns="topic", values="weight")
    for units_per_part in (1, 7, 10**6):
        pd.testing.assert_frame_equal(topics.doc_mixtures(model, units_per_part=units_per_part), expected,
                                      check_exact=True)


def test_rolled_up_sums_are_those_of_a_long_table():
    """Grouping the units x K mixtures a column per topic gives, bit for bit, the sums (pandas' compensated
    sum, in unit order) of the long table of (unit, topic) rows it replaced, NaN mixtures included."""
    from analysis.topics.tables import _rolled_up

    rng = np.random.default_rng(3)
    k, n = 6, 5_000
    theta = rng.dirichlet(np.full(k, 0.3), size=n)
    theta[rng.random(n) < 0.02] = np.nan
    units = pd.DataFrame({"doc_id": np.sort(rng.choice([f"d{i:03d}" for i in range(300)], size=n)).astype(object),
                          "n_vocab_terms": rng.integers(0, 40, size=n)})
    long = pd.DataFrame({"doc_id": np.repeat(units["doc_id"].to_numpy(), k), "topic": np.tile(np.arange(1, k + 1), n),
                         "tokens": np.repeat(units["n_vocab_terms"].to_numpy(dtype=float), k) * theta.ravel()})
    expected = long.groupby(["doc_id", "topic"], sort=False)["tokens"].sum().to_numpy()
    got = _rolled_up(units, theta, "doc_id")
    assert np.array_equal(got["tokens"].to_numpy(), expected)
    assert got["doc_id"].tolist() == list(np.repeat(pd.unique(units["doc_id"]), k))


def test_doc_topics_at_document_level_are_the_unit_mixtures(planted_results):
    model = planted_results.topics.model
    table = topics.doc_topics(model).pivot(index="doc_id", columns="topic", values="weight")
    assert np.allclose(table.loc[model.units["doc_id"]].to_numpy(), model.unit_topic)


def test_doc_topics_of_a_document_without_vocabulary_terms(planted, tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    for path in planted[0].iterdir():
        (root / path.name).write_bytes(path.read_bytes())
    (root / "zzz.txt").write_text("zebra xylophone quokka.\n", encoding="utf-8")  # each word once: pruned
    with pytest.warns(topics.TopicWarning, match="have no term left after pruning"):
        model = Results(_planted_settings(root, seeds=1)).topics.model
    row = model.units.index[model.units["doc_id"] == "zzz"][0]
    assert model.units.loc[row, "n_vocab_terms"] == 0
    table = topics.doc_topics(model)
    assert table.loc[table["doc_id"] == "zzz", "weight"].isna().all()  # no mixture, not the prior's 1/K
    rest = table[table["doc_id"] != "zzz"]
    assert np.allclose(rest.groupby("doc_id")["weight"].sum(), 1.0)


# -- 7. choosing K -------------------------------------------------------------------------------

def test_select_k_table(planted_results):
    table = planted_results.k_selection
    vocabulary = len(planted_results.topic_input.vocabulary)
    assert list(table.columns) == ["k", "seed", "metric", "value"]
    assert set(table["metric"]) == {"c_v", "c_npmi", "c_npmi_shown", "u_mass", "perplexity", "stability"}
    for metric in ("c_v", "c_npmi", "c_npmi_shown", "u_mass", "perplexity"):
        rows = table[table["metric"] == metric]
        assert sorted(zip(rows["k"], rows["seed"])) == [(k, s) for k in (2, 3, 4) for s in (0, 1, 2)], metric
    stability = table[table["metric"] == "stability"]
    assert stability.groupby("k").size().to_dict() == {2: 2, 3: 2, 4: 2}  # every run but the reference
    assert stability["value"].between(0, 1).all()
    assert not table.duplicated(["k", "seed", "metric"]).any()
    perplexity = table.loc[table["metric"] == "perplexity", "value"]
    assert np.isfinite(perplexity).all() and (perplexity > 1).all() and (perplexity < vocabulary).all()
    assert np.isfinite(table["value"]).all()
    assert table["c_v" == table["metric"]]["value"].between(0, 1).all()
    assert table["c_npmi" == table["metric"]]["value"].between(-1, 1).all()
    assert table["c_npmi_shown" == table["metric"]]["value"].between(-1, 1).all()


def test_shown_coherence_is_npmi_of_the_terms_the_figures_show(planted_results):
    """c_npmi_shown is the NPMI of each topic's top 10 by relevance (the figures' terms), c_npmi of its top 10 by
    weight; both from one count, each equal to a count of its own."""
    from analysis.topics.selection import _split, _subset, grid_coherence

    settings, prepared = planted_results.settings, planted_results.topic_input
    table = planted_results.k_selection.set_index(["k", "seed", "metric"])["value"]
    train, _ = _split(len(prepared.bows), settings.seed, 0.2)
    model = topics.fit_topics(_subset(prepared, train), settings, seed=0, k=3)
    shown = topics.topic_terms(model, 10, settings.relevance_lambda, by="relevance").groupby("topic")["term"].agg(list)
    by_weight = [[prepared.vocabulary[i] for i in np.argsort(-row, kind="stable")[:10]] for row in model.topic_term]
    assert table[(3, 0, "c_npmi_shown")] == pytest.approx(grid_coherence([shown.tolist()], prepared, "c_npmi")[0])
    assert table[(3, 0, "c_npmi")] == pytest.approx(grid_coherence([by_weight], prepared, "c_npmi")[0])


def test_select_k_prefers_the_planted_k(planted_results):
    median = planted_results.k_selection.groupby(["metric", "k"])["value"].median()
    assert median["c_npmi"][3] > median["c_npmi"][2]
    assert median["c_npmi"].idxmax() == 3 and median["c_v"].idxmax() == 3
    assert median["perplexity"][3] < median["perplexity"][2]


def test_heldout_perplexity_of_a_known_model():
    # a "model" that predicts every word uniformly has perplexity V
    v = 7
    fit = topics.Fit(np.full((2, v), 1.0 / v), np.full((1, 2), 0.5), lambda bows: np.full((len(bows), 2), 0.5))
    bows = [[(0, 3), (4, 2)], [(1, 1), (6, 5)], [(2, 1)]]  # the last has one token: skipped
    assert topics.heldout_perplexity(fit, fit.topic_term, bows) == pytest.approx(v)
    assert math.isnan(topics.heldout_perplexity(fit, fit.topic_term, [[(2, 1)]]))


# -- 8. relevance and labels ---------------------------------------------------------------------

def test_term_relevance_extremes(seed_k4):
    model = seed_k4.topics.model
    p_w = model.term_counts / model.term_counts.sum()
    for lam, key in ((1.0, lambda t: model.topic_term[t]), (0.0, lambda t: model.topic_term[t] / p_w)):
        table = topics.term_relevance(model, lam)
        assert len(table) == model.k * len(model.vocabulary)
        for t in range(model.k):
            rows = table[table["topic"] == t + 1]
            assert rows["term"].tolist() == model.vocabulary
            expected = np.log(key(t))
            assert np.allclose(rows["relevance"], expected)
            # ranking by relevance is ranking by weight (lam=1) or lift (lam=0)
            ranked = topics.topic_terms(model, n=15, lam=lam, by="relevance")
            ranked = ranked[ranked["topic"] == t + 1]
            order = sorted(range(len(model.vocabulary)), key=lambda i: (-key(t)[i], model.vocabulary[i]))[:15]
            assert ranked["term"].tolist() == [model.vocabulary[i] for i in order]
            assert ranked["rank"].tolist() == list(range(1, 16))
    table = topics.term_relevance(model, 0.6)
    assert np.allclose(table["lift"], table["weight"] / np.tile(p_w, model.k))
    # the tokens of each term are shared out among the topics
    shares = table.groupby("term", sort=False)["topic_count"].sum()
    assert np.allclose(shares.loc[model.vocabulary].to_numpy(), model.term_counts)


def test_topic_labels_are_the_top_three_relevance_terms(seed_k4):
    model = seed_k4.topics.model
    p_w = model.term_counts / model.term_counts.sum()
    for lam in (0.0, 0.6, 1.0):
        labels = topics.topic_labels(model, lam)
        for t in range(model.k):
            with np.errstate(divide="ignore"):
                relevance = lam * np.log(model.topic_term[t]) + (1 - lam) * np.log(model.topic_term[t] / p_w)
            top = sorted(range(len(model.vocabulary)), key=lambda i: (-relevance[i], model.vocabulary[i]))[:3]
            assert labels[t + 1] == " \u00b7 ".join(model.vocabulary[i] for i in top)
            assert labels[t + 1].count(" \u00b7 ") == 2
    terms = topics.topic_terms(model, n=5, lam=0.6, by="weight")
    assert terms.drop_duplicates("topic").set_index("topic")["label"].to_dict() == topics.topic_labels(model, 0.6)
    assert terms.groupby("topic")["weight"].apply(lambda w: w.is_monotonic_decreasing).all()


def test_planted_labels_name_the_pools(planted_results):
    labels = topics.topic_labels(planted_results.topics.model, 0.6)
    pools = [_main_pool(label.split(" \u00b7 ")) for label in labels.values()]
    assert sorted(pool for pool, _ in pools) == sorted(POOLS) and all(n == 3 for _, n in pools)


# -- evidence ------------------------------------------------------------------------------------

def test_topic_evidence_quotes_the_documents(seed_k4, seed_corpus):
    model = seed_k4.topics.model
    passages, kwic = seed_k4.evidence
    assert list(passages.columns) == ["topic", "label", "rank", "doc_id", "unit_id", "role", "weight", "excerpt"]
    assert passages.groupby("topic")["rank"].apply(list).tolist() == [[1, 2, 3]] * model.k
    texts = {doc.doc_id: " ".join(doc.text.split()) for doc in Corpus.from_settings(seed_k4.settings)}
    units = model.units.set_index("unit_id")
    for row in passages.itertuples():
        u = units.index.get_loc(row.unit_id)
        assert row.weight == pytest.approx(model.unit_topic[u, row.topic - 1])
        assert row.excerpt.rstrip("\u2026") in texts[row.doc_id]
    # the passages of a topic are its strongest units, strongest first
    for topic, rows in passages.groupby("topic"):
        assert rows["weight"].is_monotonic_decreasing
        eligible = units["n_vocab_terms"] >= 5
        best = np.sort(model.unit_topic[eligible.to_numpy(), topic - 1])[::-1][:3]
        assert rows["weight"].to_numpy() == pytest.approx(best)
    assert len(kwic) > 0
    for row in kwic.itertuples():
        def words(text):
            return re.sub(r"[\s\u2010-\u2015-]+", " ", text.lower())

        term = words(row.term)
        assert words(row.match) in (term, f"{term}s", f"{term}'s"), (row.term, row.match)
        assert f"{row.left}{row.match}{row.right}" in texts[row.doc_id]


@pytest.mark.parametrize("units_per_part, jobs", [(1, 1), (7, 2), (100_000, 1)])
def test_document_and_unit_topics_written_in_parts_are_the_whole_tables(seed_results, units_per_part, jobs,
                                                                         tmp_path):
    """Parts of any size, made in one or two processes: the rows of doc_topics and unit_topics, and the
    CSV written part by part is the CSV of the whole table. A document is never split between parts."""
    from analysis.executor import LocalExecutor
    from analysis.export import csv_bytes, csv_file

    model = seed_results.topics.model
    parts = topics.topic_table_parts(model, tmp_path, executor=LocalExecutor(jobs), units_per_part=units_per_part)
    assert set(parts) == {"doc_topics", "unit_topics"}
    for name, whole in (("doc_topics", topics.doc_topics(model)), ("unit_topics", topics.unit_topics(model))):
        pd.testing.assert_frame_equal(parts[name].table(), whole)
        pieces = (pd.read_parquet(part) for part in parts[name].parts)
        assert csv_file(pieces, tmp_path / f"{name}.csv").read_bytes() == csv_bytes(whole)
    documents = [set(pd.read_parquet(part)["doc_id"]) for part in parts["doc_topics"].parts]
    assert sum(map(len, documents)) == len(set().union(*documents)) == model.n_documents
    expected = {1: model.n_documents, 100_000: 1}.get(units_per_part, range(2, model.n_documents + 1))
    assert len(parts["doc_topics"].parts) in (expected if isinstance(expected, range) else [expected])
    assert len(parts["unit_topics"].parts) == -(-len(model.units) // units_per_part)


def test_a_tomotopy_fit_in_steps_is_the_fit_in_one_call_and_records_its_trace(seed_k4, monkeypatch):
    """The trace is read every TRACE_EVERY sweeps; training in steps must not change the model."""
    import analysis.topics.fit
    from analysis.topics.fit import TRACE_EVERY

    prepared, settings = seed_k4.topic_input, seed_k4.settings.replace(starts=1)
    model = topics.fit_topics(prepared, settings, seed=7)
    assert [s for s, _ in model.trace] == [min(i * TRACE_EVERY, settings.iterations)
                                           for i in range(1, -(-settings.iterations // TRACE_EVERY) + 1)]
    assert all(np.isfinite(v) and v < 0 for _, v in model.trace)
    assert model.stopped == f"the iterations setting ({settings.iterations} sweeps)"
    monkeypatch.setattr(analysis.topics.fit, "TRACE_EVERY", settings.iterations)  # one call
    whole = topics.fit_topics(prepared, settings, seed=7)
    assert len(whole.trace) == 1 and whole.trace[-1] == model.trace[-1]
    assert np.array_equal(whole.topic_term, model.topic_term) and np.array_equal(whole.unit_topic, model.unit_topic)
    assert json.loads(model.to_files("m")["m.json"])["trace"] == model.trace  # the trace goes with the model


def test_a_fit_goes_on_with_the_most_likely_of_its_starts(seed_k4):
    """Each start is the one-chain fit seeded start_seed(seed, i); the one with the highest log-likelihood
    after start_sweeps is trained on, giving the one-chain fit of its seed, bit for bit."""
    from analysis.topics.fit import start_seed

    prepared = seed_k4.topic_input
    settings = seed_k4.settings.replace(starts=3, start_sweeps=20, iterations=60)
    model = topics.fit_topics(prepared, settings, seed=7)
    assert [start_seed(7, i) for i in range(3)] == [7, 1_000_010, 2_000_013]
    early = [topics.fit_topics(prepared, settings.replace(starts=1, iterations=20), seed=start_seed(7, i)).trace
             for i in range(3)]
    scores = [trace[-1][1] for trace in early]
    chosen = int(np.argmax(scores))
    assert len(set(scores)) == 3  # the starts differ, so the choice means something
    assert model.stopped.startswith(f"the iterations setting (60 sweeps); start {chosen + 1} of 3, the most likely "
                                    f"after 20 sweeps ({scores[chosen]:.3f} per word; others ")
    assert model.trace[:2] == early[chosen]
    alone = topics.fit_topics(prepared, settings.replace(starts=1), seed=start_seed(7, chosen))
    assert alone.trace == model.trace and np.array_equal(alone.topic_term, model.topic_term)
    assert model.seed == 7


def test_late_change_compares_the_means_of_the_last_two_fifths():
    table = pd.DataFrame({"seed": 0, "sweep": range(10, 110, 10), "log_likelihood": [-9, -8, -7, -6, -5, -4, -3, -2, -1.5, -1.0],
                          "reported": True, "stopped": "x"})
    assert topics.late_change(table) == (20, pytest.approx(-1.25 - -2.5))
    assert topics.late_change(table.head(1)) == (0, pytest.approx(float("nan"), nan_ok=True))


def test_run_agreement_is_the_ami_of_the_units_main_topics(seed_k4):
    import dataclasses

    from sklearn.metrics import adjusted_mutual_info_score

    result = seed_k4.topics
    agreement = topics.run_agreement(result)
    others = [run for run in result.runs if run.seed != result.model.seed]
    assert agreement["seed"].tolist() == [run.seed for run in others]
    kept = result.model.units["n_vocab_terms"].to_numpy() > 0
    main = result.model.unit_topic[kept].argmax(axis=1)
    assert agreement["ami"].iat[0] == adjusted_mutual_info_score(main, others[0].unit_topic[kept].argmax(axis=1))
    same = dataclasses.replace(result, runs=[result.model, dataclasses.replace(result.model, seed=99)])
    assert topics.run_agreement(same)["ami"].tolist() == [pytest.approx(1.0)]
    alone = dataclasses.replace(result, runs=[result.model])
    assert topics.run_agreement(alone).empty
