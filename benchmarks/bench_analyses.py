"""Benchmark: reuse, claims and topics on 20 Newsgroups (``shared/bench-corpora``), each run in its own process.

- ``reuse``: ``find_reuse`` on half the messages and on all of them: wall time, peak memory, and the
  ratio of the two times (doubling the corpus);
- ``claims``: ``tag_claims`` with 1 and 2 jobs;
- ``topics``: the topic model and its tables (``Results.tables()``: units, vocabulary, one fit at
  ``--unit document --k 20``, evidence, tables; prepared corpus cached beforehand), against a plain
  tomotopy fit of the same documents and vocabulary with the same sweeps (one worker): CPU outside the
  fit and peak memory, as ratios to the plain fit (the ``topics`` command's figures are not timed here).

Usage: ``python benchmarks/bench_analyses.py [--skip-topics]``. Prints the load average with the figures.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_prepare import measure  # noqa: E402  (same process-tree measurement)

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "bench-corpora" / "20news-bydate.jsonl.gz"

REUSE = """
import sys
from analysis.corpus import Corpus
from analysis.reuse import find_reuse
found = find_reuse(Corpus(sys.argv[1]))
print(found.n_spans, found.n_pairs)
"""

CLAIMS = """
import sys
from analysis.claims import tag_claims
from analysis.corpus import Corpus
print(len(tag_claims(list(Corpus(sys.argv[1])), jobs=int(sys.argv[2]))))
"""

TOPIC_TABLES = """
import sys
from pathlib import Path
from analysis.config import Settings
from analysis.results import Results
settings = Settings(corpus=Path(sys.argv[1]), out=Path(sys.argv[2]) / "out", cache_dir=Path(sys.argv[2]) / "cache",
                    unit="document", k=20, seeds=1, jobs=1)
print(sum(len(t) for t in Results(settings).tables().values()))
"""

PLAIN_TOMOTOPY = """
import sys, time
from pathlib import Path
from analysis.config import Settings
from analysis.results import Results
from analysis.topics import import_tomotopy
settings = Settings(corpus=Path(sys.argv[1]), out=Path(sys.argv[2]) / "out", cache_dir=Path(sys.argv[2]) / "cache",
                    unit="document", k=20)
prepared = Results(settings).topic_input
tp = import_tomotopy()
model = tp.LDAModel(k=20, alpha=0.1, eta=0.01, seed=0)
for bow in prepared.bows:
    words = [prepared.dictionary[i] for i, c in bow for _ in range(c)]
    if words:
        model.add_doc(words)
start = time.process_time()
model.train(settings.iterations, workers=1)
print("fit_cpu", time.process_time() - start)
"""


class _Rows(dict):
    """Measurements by program, each printed as it comes in."""

    def __setitem__(self, name: str, r: dict) -> None:
        if not self:
            print(f"{'program':<42}{'wall s':>9}{'cpu s':>9}{'peak MB':>10}")
        print(f"{name:<42}{r['wall']:>9.1f}{r['cpu']:>9.1f}{r['rss_mb']:>10.0f}", flush=True)
        super().__setitem__(name, r)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-topics", action="store_true")
    parser.add_argument("--only-topics", action="store_true", help="leave out reuse and claims")
    args = parser.parse_args()
    python = sys.executable
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-analyses-") as tmp:
        work = Path(tmp)
        half, full = work / "half.jsonl", work / "full.jsonl"
        with gzip.open(SOURCE, "rt", encoding="utf-8") as source, half.open("w") as h, full.open("w") as f:
            for number, line in enumerate(source):
                f.write(line)
                if number % 2 == 0:
                    h.write(line)
        rows = _Rows()
        if not args.only_topics:
            rows["reuse, half the messages"] = measure([python, "-c", REUSE, str(half)])
            rows["reuse, all messages"] = measure([python, "-c", REUSE, str(full)])
            for jobs in (1, 2):
                rows[f"claims, jobs {jobs}"] = measure([python, "-c", CLAIMS, str(full), str(jobs)])
        if not args.skip_topics:
            scratch = work / "topics"
            options = ["--corpus", str(full), "--cache-dir", str(scratch / "cache")]
            measure([python, "-m", "analysis", "info", *options])  # prepare the corpus once, untimed
            rows["topic model and tables, K=20, 1 seed"] = measure(
                [python, "-c", TOPIC_TABLES, str(full), str(scratch)])
            plain = measure([python, "-c", PLAIN_TOMOTOPY, str(full), str(scratch)], capture=True)
            rows["plain tomotopy fit (same documents)"] = plain
        print("\nratios (target in brackets):")
        if not args.only_topics:
            print(f"  reuse, all / half the messages, time: "
                  f"{rows['reuse, all messages']['wall'] / rows['reuse, half the messages']['wall']:.2f} (<= 2.3); "
                  f"peak {rows['reuse, all messages']['rss_mb']:.0f} MB (<= 1000)")
            print(f"  claims jobs 1 / jobs 2 wall: {rows['claims, jobs 1']['wall'] / rows['claims, jobs 2']['wall']:.2f}")
        if not args.skip_topics:
            fit = float(plain["stdout"].split("fit_cpu")[1].split()[0])
            run = rows["topic model and tables, K=20, 1 seed"]
            print(f"  topics: CPU outside the fit / fit: {(run['cpu'] - fit) / fit:.2f} (<= 0.3); "
                  f"peak RSS / plain fit's: {run['rss_mb'] / plain['rss_mb']:.2f} (<= 1.3)")
        load = os.getloadavg()
        print(f"load average after: {load[0]:.2f}")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
