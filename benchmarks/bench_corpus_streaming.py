"""Benchmark: term analytics on 20 Newsgroups (18,847 messages, 34 MB of text).

Prints wall time and peak resident memory of `analysis.terms.analyze` on the
JSONL.gz corpus, against two baselines measured in the same run, each in its
own process so peaks do not mix:

- baseline "load": reading the whole corpus into a pandas DataFrame
  (what a notebook typically does first), with no analysis at all;
- baseline "simple_preprocess": gensim's tokenizer over the same stream.

Usage: python benchmarks/bench_corpus_streaming.py [PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "bench-corpora" / "20news-bydate.jsonl.gz"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(path: str, limit: int | None, queue) -> None:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_json(path, lines=True, nrows=limit)
    queue.put(("load whole corpus into pandas", time.perf_counter() - start, _peak_mb(), len(frame)))


def _simple(path: str, limit: int | None, queue) -> None:
    from gensim.utils import simple_preprocess

    from analysis.corpus import Corpus

    start = time.perf_counter()
    tokens = 0
    for i, doc in enumerate(Corpus(path, id_column="id")):
        if limit and i >= limit:
            break
        tokens += len(simple_preprocess(doc.text))
    queue.put(("gensim simple_preprocess (stream)", time.perf_counter() - start, _peak_mb(), tokens))


def _analyze(path: str, limit: int | None, queue) -> None:
    import itertools

    from analysis import terms
    from analysis.config import Settings
    from analysis.corpus import Corpus
    from analysis.tokens import fitted_preprocessor

    class Limited(Corpus):
        def __iter__(self):
            return itertools.islice(super().__iter__(), limit) if limit else super().__iter__()

    start = time.perf_counter()
    corpus = Limited(path, id_column="id")
    tc = terms.count_terms(corpus, fitted_preprocessor(Settings(corpus=Path(path)), corpus))
    queue.put(("analysis.terms (phrases + counts)", time.perf_counter() - start, _peak_mb(), len(tc.counts)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT))
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = parser.parse_args()
    if not Path(args.path).is_file():
        print(f"{args.path}: benchmark corpus not found", file=sys.stderr)
        return 2
    size_mb = Path(args.path).stat().st_size / 2**20
    print(f"corpus: {args.path} ({size_mb:.1f} MB on disk), limit={args.limit}")
    results = []
    context = mp.get_context("spawn")
    for target in (_load, _simple, _analyze):
        queue = context.Queue()
        process = context.Process(target=target, args=(args.path, args.limit, queue))
        process.start()
        results.append(queue.get())
        process.join()
    base_time, base_mem = results[0][1], results[0][2]
    print(f"{'run':<36} {'wall s':>8} {'peak MB':>9} {'time x':>7} {'mem x':>6}  size")
    for name, seconds, peak, size in results:
        print(f"{name:<36} {seconds:8.1f} {peak:9.0f} {seconds / base_time:7.2f} {peak / base_mem:6.2f}  {size:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
