"""Benchmark: LDA topic quality, speed and memory on 20 Newsgroups (18,847 messages).

Compares, in the same run and on the same input, the project's default topic
model against two baselines:

- ``project``: ``analysis.topics.fit_topics`` with the package's default
  settings (``analysis.config.Settings``: engine, priors, iterations,
  workers, pruning);
- ``gensim-default``: ``gensim.models.LdaModel(num_topics=K, passes=10,
  random_state=seed)``, everything else at gensim's defaults (the tutorial setup);
- ``tomotopy-default``: ``tomotopy.LDAModel(k=K, seed=seed)`` trained for 1,000
  Gibbs iterations with tomotopy's default priors and all cores.

Every model sees the same documents: the corpus is preprocessed once by the
package (tokens, phrases, stopwords; unit = document). The baselines get the
gensim-tutorial vocabulary (``filter_extremes(no_below=5, no_above=0.5,
keep_n=100000)``); the project model its own default pruning (``no_below`` 3,
``no_above`` 0.5, and the most frequent ``remove_top_share`` = 0.05 % of the
vocabulary dropped). Coherence of every model is computed over the same
texts with one vocabulary that holds every term either can rank
(``no_below`` 3, ``no_above`` 0.5, nothing dropped from the top). For each configuration and
seed, one fresh process fits the model and reports:

- fit wall time (fitting only; preprocessing is reported once, separately);
- peak resident memory of that process (tokens loaded + fit);
- NPMI and c_v of each topic's top 10 terms, averaged over topics (gensim
  ``CoherenceModel`` over the same documents);
- NMI between each document's main topic and its newsgroup (arithmetic
  normalisation, as scikit-learn's default).

Each fit also reports its CPU seconds (``time.process_time`` of the fitting
process: every thread) and, for the project model, the late drift of its
log-likelihood trace (:func:`analysis.topics.late_change`).

Results are printed as median (min-max) over the seeds, with ratios against
tomotopy-default from the same run. ``--newsgroups a,b,c,d,e`` fits a subset of
the newsgroups only (5 classes as distinct as news sections, at K = 5).

Usage: python benchmarks/bench_topics_20news.py [--corpus PATH] [--seeds 5] [--k 20]
       [--configs project,gensim-default,tomotopy-default] [--newsgroups G1,G2,...] [--set NAME=VALUE,...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "bench-corpora" / "20news-bydate.jsonl.gz"
CONFIGS = ("project", "gensim-default", "tomotopy-default")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def nmi(labels: list[str], assigned: list[int]) -> float:
    """Normalised mutual information, arithmetic mean normalisation.

    >>> round(nmi(["a", "a", "b", "b"], [1, 1, 0, 0]), 6)
    1.0
    >>> round(nmi(["a", "b", "a", "b"], [0, 0, 1, 1]), 6)
    0.0
    """
    n = len(labels)
    joint = Counter(zip(labels, assigned))
    left, right = Counter(labels), Counter(assigned)
    mutual = sum(c / n * math.log(c * n / (left[a] * right[b])) for (a, b), c in joint.items())
    entropy = [-sum(c / n * math.log(c / n) for c in counts.values()) for counts in (left, right)]
    mean = sum(entropy) / 2
    return mutual / mean if mean > 0 else 0.0


PROJECT_CHANGES: dict = {}  # --set NAME=VALUE,...: settings of the project model other than the defaults


def _settings(corpus: Path, k: int, changes: dict | None = None):
    """The package's default settings (not this repository's seed-corpus config), on documents; ``changes``
    (from ``--set``) apply to the project model's fit only."""
    from analysis.config import Settings, settings_from_mapping

    base = Settings(corpus=corpus, unit="document", k=k, min_units_per_topic=1)
    return settings_from_mapping(changes, base=Path.cwd(), where="--set", start=base) if changes else base


def preprocess(corpus: Path, k: int, cache: Path) -> dict:
    """Preprocess once with the package (the prepared corpus and term layer are cached for the fits);
    keep the labels as gzipped JSON."""
    from analysis.results import Results

    start = time.perf_counter()
    results = Results(_settings(corpus, k))
    units = results.units
    # 20news ids are split/newsgroup/number; any other corpus: one class per document
    labels = [doc_id.split("/")[1] if doc_id.count("/") == 2 else doc_id for doc_id in units.table["doc_id"]]
    with gzip.open(cache, "wt", encoding="utf-8") as handle:
        json.dump({"labels": labels}, handle)
    return {"documents": len(units), "tokens": int(units.texts.lengths().sum()),
            "seconds": time.perf_counter() - start, "peak_mb": _peak_mb()}


def _run(config: str, seed: int, corpus: str, k: int, cache: str, changes: dict, queue) -> None:
    try:
        queue.put(_fit_and_score(config, seed, corpus, k, cache, changes))
    except BaseException as exc:  # report to the parent instead of leaving it waiting
        queue.put({"error": f"{config} seed {seed}: {type(exc).__name__}: {exc}"})
        raise


def _fit_and_score(config: str, seed: int, corpus: str, k: int, cache: str, changes: dict) -> dict:
    import numpy as np

    from analysis import topics

    import pandas as pd

    from analysis.results import Results

    with gzip.open(cache, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    settings = _settings(Path(corpus), k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        units = Results(settings).units  # the prepared corpus and term layer come from the cache
    project = _settings(Path(corpus), k, changes)
    if config == "project":
        prepared = topics.prepare(units, project)
    else:
        prepared = topics.prepare(units, settings.replace(no_below=5, no_above=0.5, keep_n=100_000, remove_top_share=0.0))
    start, cpu = time.perf_counter(), time.process_time()
    drift = final_ll = float("nan")
    trace = []
    if config == "project":
        model = topics.fit_topics(prepared, project, seed=seed)
        topic_term, theta = model.topic_term, model.unit_topic
        if model.trace:
            readings = pd.DataFrame(model.trace, columns=["sweep", "log_likelihood"]).assign(reported=True)
            drift = topics.late_change(readings)[1]
            final_ll = model.trace[-1][1]
            trace = readings["log_likelihood"].tolist()
    elif config == "gensim-default":
        from gensim.models import LdaModel

        model = LdaModel(corpus=prepared.bows, id2word=prepared.dictionary, num_topics=k, passes=10, random_state=seed)
        topic_term = model.get_topics()
        gamma, _ = model.inference(prepared.bows)
        theta = gamma / gamma.sum(axis=1, keepdims=True)
    else:
        import tomotopy as tp

        model = tp.LDAModel(k=k, seed=seed)
        words = [[prepared.dictionary[i] for i, c in bow for _ in range(c)] for bow in prepared.bows]
        for doc in words:
            if doc:
                model.add_doc(doc)
        model.train(1000)
        final_ll = model.ll_per_word
        columns = [prepared.dictionary.token2id[w] for w in model.used_vocabs]
        topic_term = np.zeros((k, len(prepared.dictionary)))
        for t in range(k):
            topic_term[t, columns] = model.get_topic_word_dist(t)
        dists = iter(model.docs)
        theta = np.array([next(dists).get_topic_dist() if doc else np.full(k, 1 / k) for doc in words])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak_mb()
    # Scored after the peak is taken: one vocabulary holding every term either model can rank
    # (no_below 3 <= 5, nothing removed from the top).
    scoring = topics.prepare(units, settings.replace(remove_top_share=0.0))
    top = [[prepared.vocabulary[i] for i in np.argsort(-row, kind="stable")[:10]] for row in np.asarray(topic_term)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        npmi = topics.coherence(top, scoring, "c_npmi")
        c_v = topics.coherence(top, scoring, "c_v")
    score = nmi(data["labels"], [int(i) for i in np.asarray(theta).argmax(axis=1)])
    return {"config": config, "seed": seed, "seconds": seconds, "cpu": cpu, "peak_mb": peak, "npmi": npmi, "c_v": c_v,
            "nmi": score, "drift": drift, "ll_per_word": final_ll, "trace": trace, "top": [" ".join(t[:5]) for t in top]}


def _value(text: str):
    """A --set value as TOML would give it: a number when it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--jsonl", type=Path, help="also append every run as a JSON line to this file")
    parser.add_argument("--newsgroups", help="fit only these newsgroups (comma-separated)")
    parser.add_argument("--set", default="", metavar="NAME=VALUE,...",
                        help="settings of the project model other than the defaults, e.g. iterations=1000,alpha=0.1")
    args = parser.parse_args()
    changes = {name: _value(text) for name, text in (item.split("=", 1) for item in args.set.split(",") if item)}
    subset_folder = tempfile.TemporaryDirectory()
    if args.newsgroups:
        wanted = set(args.newsgroups.split(","))
        subset = Path(subset_folder.name) / "subset.jsonl"
        opener = gzip.open if args.corpus.suffix == ".gz" else open
        with opener(args.corpus, "rt", encoding="utf-8") as source, subset.open("w", encoding="utf-8") as out:
            for line in source:
                if json.loads(line).get("newsgroup") in wanted:
                    out.write(line)
        args.corpus = subset
        print(f"newsgroups: {', '.join(sorted(wanted))}")
    configs = [c for c in args.configs.split(",") if c]
    settings = _settings(args.corpus, args.k, changes)
    print(f"corpus: {args.corpus.name}; K={args.k}; seeds 0..{args.seeds - 1}")
    print(f"project settings: engine={settings.engine} iterations={settings.iterations} workers={settings.workers} "
          f"passes={settings.passes} "
          f"alpha={settings.alpha} eta={settings.eta} no_below={settings.no_below} no_above={settings.no_above} "
          f"keep_n={settings.keep_n}")
    context = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "tokens.json.gz"
        prep = preprocess(args.corpus, args.k, cache)
        print(f"preprocessing (package, once): {prep['documents']:,} documents, {prep['tokens']:,} terms, "
              f"{prep['seconds']:.1f} s, peak {prep['peak_mb']:.0f} MB", flush=True)
        rows = []
        for seed in range(args.seeds):
            for config in configs:
                queue = context.Queue()
                process = context.Process(target=_run, args=(config, seed, str(args.corpus), args.k, str(cache), changes,
                                                             queue))
                process.start()
                row = queue.get()
                process.join()
                if "error" in row:
                    raise SystemExit(f"benchmark failed: {row['error']}")
                rows.append(row)
                print(f"  {config:<17} seed {seed}: fit {row['seconds']:6.1f} s  CPU {row['cpu']:6.1f} s  peak "
                      f"{row['peak_mb']:5.0f} MB  NPMI {row['npmi']:.3f}  c_v {row['c_v']:.3f}  NMI {row['nmi']:.3f}"
                      f"  drift {row['drift']:+.4f}", flush=True)
                if args.jsonl:
                    with args.jsonl.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(row) + "\n")
    print()
    print(f"{'config':<17} {'fit seconds':>22} {'peak MB':>8} {'NPMI':>22} {'c_v':>22} {'NMI':>22} {'NMI spread':>10}")
    medians = {}
    for config in configs:
        mine = [r for r in rows if r["config"] == config]
        get = {key: [r[key] for r in mine] for key in ("seconds", "cpu", "peak_mb", "npmi", "c_v", "nmi")}
        medians[config] = {key: statistics.median(v) for key, v in get.items()}
        print(f"{config:<17} {_summary(get['seconds']):>22} {statistics.median(get['peak_mb']):8.0f} "
              f"{_summary(get['npmi']):>22} {_summary(get['c_v']):>22} {_summary(get['nmi']):>22} "
              f"{max(get['nmi']) - min(get['nmi']):10.3f}")
    if "tomotopy-default" in medians:
        base = medians["tomotopy-default"]
        print()
        print("ratios of medians against tomotopy-default (same run):")
        for config, m in medians.items():
            print(f"  {config:<17} time x{m['seconds'] / base['seconds']:.2f}  CPU x{m['cpu'] / base['cpu']:.2f}  "
                  f"memory x{m['peak_mb'] / base['peak_mb']:.2f}  "
                  f"NPMI {m['npmi'] - base['npmi']:+.3f}  NMI {m['nmi'] - base['nmi']:+.3f}")


if __name__ == "__main__":
    main()
