"""Topic labels a researcher gives, kept in a small CSV that every table and figure then uses.

The file (the ``topic_labels`` setting, ``topic-labels.csv`` in the project by
default) has the columns ``topic, label, automatic``. ``automatic`` is the
automatic label (top terms by relevance) of the topic the label was written
for: a row applies only while the fitted topic still has that automatic label,
so a label never lands on a different topic after a refit with other
settings, another K or another seed. Rows that no longer apply are skipped
with a warning that names them. A blank ``label`` keeps the automatic one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import warnings
from pathlib import Path

from analysis.errors import AnalysisError
from analysis.topics.model import TopicModel, TopicResult
from analysis.topics.tables import automatic_labels, topic_labels
from analysis.topics.units import TopicWarning

LABEL_COLUMNS = ("topic", "label", "automatic")


def read_labels(path: Path | None, model: TopicModel) -> dict[int, str]:
    """The labels in ``path`` that apply to ``model`` (topic -> label).

    Parameters
    ----------
    path : Path or None
        The labels file; a missing file (or None) means no labels.
    model : TopicModel

    Returns
    -------
    dict of int to str
        Only the rows whose ``automatic`` matches the model's automatic label.

    Raises
    ------
    AnalysisError
        The file is not a labels CSV (one line naming the file and the fault).
    """
    if path is None or not Path(path).is_file():
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"{path}: cannot read the topic labels ({exc.__class__.__name__})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or LABEL_COLUMNS)]
    if missing:
        raise AnalysisError(f"{path}: a topic labels file needs the columns {', '.join(LABEL_COLUMNS)}; "
                            f"'{missing[0]}' is missing")
    automatic = automatic_labels(model)
    named, stale, seen = {}, [], set()
    for line, row in enumerate(reader, start=2):
        try:
            topic = int(row["topic"])
        except (TypeError, ValueError):
            raise AnalysisError(f"{path}, line {line}: topic must be a whole number, got {row['topic']!r}") from None
        if topic in seen:
            raise AnalysisError(f"{path}, line {line}: topic {topic} is labelled twice")
        seen.add(topic)
        label = " ".join((row["label"] or "").split())
        if not label:
            continue
        if automatic.get(topic) != (row["automatic"] or "").strip():
            stale.append(str(topic))
            continue
        if label != automatic[topic]:
            named[topic] = label
    if stale:
        warnings.warn(f"{path}: the labels of topic{'s' if len(stale) > 1 else ''} {', '.join(stale)} were written "
                      "for topics this fit does not have (their automatic labels differ): not used",
                      TopicWarning, stacklevel=2)
    return named


def labels_csv(model: TopicModel, named: dict[int, str]) -> bytes:
    """The labels file for ``model`` with ``named`` labels: one row per topic (blank label: automatic)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LABEL_COLUMNS)
    for topic, automatic in automatic_labels(model).items():
        writer.writerow([topic, named.get(topic, ""), automatic])
    return buffer.getvalue().encode("utf-8")


def labelled(result: TopicResult, named: dict[int, str]) -> TopicResult:
    """``result`` with its reported model carrying ``named`` labels (and the stability table relabelled)."""
    model = dataclasses.replace(result.model, named=dict(named))
    stability = result.stability.assign(label=result.stability["topic"].map(topic_labels(model)))
    return dataclasses.replace(result, model=model, stability=stability)
