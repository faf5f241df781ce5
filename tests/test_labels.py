"""Topic labels given by the researcher: the labels file, its guard against refits, and every table using it."""

from __future__ import annotations

import warnings

import pytest

from analysis import topics
from analysis.config import Settings, load_settings
from analysis.errors import AnalysisError
from analysis.provenance import run_inputs
from analysis.results import Results


@pytest.fixture(scope="module")
def model(seed_k4):
    return seed_k4.topics.model


def test_labels_file_round_trip_and_blank_rows(model, tmp_path):
    path = tmp_path / "topic-labels.csv"
    path.write_bytes(topics.labels_csv(model, {2: "Kratom  pharmacology", 4: "Pain"}))
    lines = path.read_text(encoding="utf-8").splitlines()
    automatic = topics.automatic_labels(model)
    assert lines[0] == "topic,label,automatic" and len(lines) == model.k + 1
    assert lines[1] == f"1,,{automatic[1]}"
    assert topics.read_labels(path, model) == {2: "Kratom pharmacology", 4: "Pain"}
    assert topics.read_labels(tmp_path / "absent.csv", model) == {}
    assert topics.read_labels(None, model) == {}


def test_a_label_written_for_another_fit_is_not_used(model, tmp_path):
    path = tmp_path / "topic-labels.csv"
    path.write_text("topic,label,automatic\n1,Receptors,something else entirely\n3,Use,"
                    f"{topics.automatic_labels(model)[3]}\n", encoding="utf-8")
    with pytest.warns(topics.TopicWarning, match=r"topic-labels.csv: the labels of topic 1 were written for topics "
                                                 "this fit does not have"):
        assert topics.read_labels(path, model) == {3: "Use"}


@pytest.mark.parametrize("text, message", [
    ("topic,label\n1,x\n", "a topic labels file needs the columns topic, label, automatic; 'automatic' is missing"),
    ("topic,label,automatic\none,x,y\n", "line 2: topic must be a whole number, got 'one'"),
    ("topic,label,automatic\n1,x,y\n1,z,y\n", "line 3: topic 1 is labelled twice"),
])
def test_a_broken_labels_file_is_one_line_naming_it(model, tmp_path, text, message):
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnalysisError) as caught:
        topics.read_labels(path, model)
    assert str(caught.value) == f"{path}{', ' if message.startswith('line') else ': '}{message}"


def test_every_table_and_the_stability_use_the_given_labels(seed_k4):
    result = topics.labelled(seed_k4.topics, {2: "Given <label>"})
    model = result.model
    assert topics.topic_labels(model)[2] == "Given <label>"
    assert topics.topic_labels(model)[1] == topics.automatic_labels(model)[1]
    tables = {
        "topic_terms": topics.topic_terms(model, 5, 0.6, by="relevance"),
        "intertopic_map": topics.intertopic_map(model),
        "summary": topics.topic_summary(result),
        "ids": topics.topic_ids_table(result),
        "stability": result.stability,
        "passages": topics.topic_evidence(model, seed_k4.prepared)[0],
    }
    for name, table in tables.items():
        assert set(table.loc[table["topic"] == 2, "label"]) == {"Given <label>"}, name
        assert "Given <label>" not in set(table.loc[table["topic"] != 2, "label"]), name
    assert seed_k4.topics.model.named == {}  # the unlabelled result is untouched


def test_results_read_the_labels_file_and_the_run_inputs_change_with_it(seed_corpus, tmp_path):
    labels = tmp_path / "topic-labels.csv"
    settings = Settings(corpus=seed_corpus, k=4, seeds=1, passes=10, iterations=100, topic_labels=labels,
                        out=tmp_path / "figures")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", topics.TopicWarning)
        model = Results(settings).topics.model
        before = run_inputs(settings, {}, ["topic-terms"])
        labels.write_bytes(topics.labels_csv(model, {1: "First"}))
        assert topics.topic_labels(Results(settings).topics.model)[1] == "First"
    assert run_inputs(settings, {}, ["topic-terms"]) != before


def test_the_labels_file_of_a_project_sits_beside_its_corpus(no_config_cwd, write_file):
    assert load_settings().topic_labels == no_config_cwd.resolve() / "topic-labels.csv"
    project = write_file(no_config_cwd / "project" / "pyproject.toml", "[tool.analysis]\nk = 3\n").parent
    assert load_settings(start=project).topic_labels == project / "topic-labels.csv"


def test_the_manifest_records_the_labels_file(seed_corpus, tmp_path, monkeypatch):
    import hashlib
    import json

    from analysis.cli import main

    monkeypatch.chdir(tmp_path)
    labels = tmp_path / "topic-labels.csv"
    argv = ["topics", "--corpus", str(seed_corpus), "--out", str(tmp_path / "out"), "--k", "3", "--seeds", "1",
            "--passes", "5", "--iterations", "50", "--topic-labels", str(labels)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
        assert "topic_labels" not in json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
        model = topics.TopicModel.load(tmp_path / "out" / "topic-model.json")
        labels.write_bytes(topics.labels_csv(model, {1: "First"}))
        assert main(argv) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["topic_labels"] == {"path": "topic-labels.csv", "sha256": hashlib.sha256(labels.read_bytes()).hexdigest()}
    terms = (tmp_path / "out" / "topic_terms.csv").read_text(encoding="utf-8")
    assert ",First," in terms
