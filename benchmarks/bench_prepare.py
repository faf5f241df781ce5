"""Benchmark: preparing a corpus of 100,000+ documents, against scikit-learn's CountVectorizer.

Corpora, made in a temporary folder from 20 Newsgroups (``shared/bench-corpora``):

- ``groups``: each message split into groups of six consecutive sentences (about 120,000 documents);
- ``clauses``: each sentence split further at commas (about ten times as many short documents).

Programs, each run in its own process (wall time, CPU time of the process and its workers, peak
memory of the process tree, as summed PSS, sampled every 20 ms; see ``measure``):

- ``countvectorizer``: read the JSONL and ``CountVectorizer().fit_transform`` the texts;
- ``prepare-jobsN``: build the prepared corpus and its term layer into an empty cache (read, split,
  tokenize, learn phrases, count, store), as the first command on a corpus does;
- ``info-cold`` / ``info-warm``: ``corpus-analysis info`` with an empty cache, then again;
- ``kwic-first`` / ``kwic-warm``: ``corpus-analysis kwic`` on the prepared corpus, the first time (it
  also builds the lemma table of the corpus's word forms, kept beside it) and again.

Each program runs ``--repeat`` times; the table shows the median and the ratios asked for in the
issue. Usage: ``python benchmarks/bench_prepare.py [--repeat 3] [--skip-clauses]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "bench-corpora" / "20news-bydate.jsonl.gz"
SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


def make_corpora(folder: Path) -> dict[str, Path]:
    """Write the two benchmark corpora as JSONL; return their paths."""
    paths = {"groups": folder / "groups.jsonl", "clauses": folder / "clauses.jsonl"}
    with gzip.open(SOURCE, "rt", encoding="utf-8") as source, paths["groups"].open("w") as groups, \
            paths["clauses"].open("w") as clauses:
        for line in source:
            message = json.loads(line)
            sentences = [s for s in SENTENCE.split(message["text"]) if s.strip()]
            for i in range(0, len(sentences), 6):
                groups.write(json.dumps({"id": f"{message['id']}#{i}", "text": " ".join(sentences[i:i + 6]),
                                         "newsgroup": message["newsgroup"]}) + "\n")
            number = 0
            for sentence in sentences:
                for clause in sentence.split(","):
                    if clause.strip():
                        clauses.write(json.dumps({"id": f"{message['id']}#{number}", "text": clause.strip()}) + "\n")
                        number += 1
    return paths


COUNT_VECTORIZER = """
import json, sys
from sklearn.feature_extraction.text import CountVectorizer
with open(sys.argv[1], encoding="utf-8") as f:
    texts = [json.loads(line)["text"] for line in f]
matrix = CountVectorizer().fit_transform(texts)
print(matrix.shape, matrix.nnz)
"""

PREPARE = """
import sys
from pathlib import Path
from analysis.config import Settings
from analysis.results import Results
settings = Settings(corpus=Path(sys.argv[1]), out=Path(sys.argv[2]) / "out", cache_dir=Path(sys.argv[2]) / "cache",
                    jobs=int(sys.argv[3]))
layer = Results(settings).term_layer
print(layer.block_term.shape, layer.block_term.nnz)
"""


def measure(command: list[str], capture: bool = False) -> dict:
    """Wall time, CPU seconds (process and children) and peak memory of the process tree of one run
    of ``command`` (and its standard output, with ``capture``).

    The memory is the peak of the tree's summed PSS (proportional set size: each page shared by k
    processes counts 1/k in each), sampled every 20 ms: the memory the run takes from the machine.
    Summed RSS counts a page that forked workers share with their parent once per process, so it is
    reported beside it (``rss_sum_mb``) but is not the figure compared.
    """
    errors = tempfile.TemporaryFile()  # a file, not a pipe: progress bars must not fill a pipe and block
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=errors)
    peak = peak_rss = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_rss
        while not stop.is_set():
            try:
                tree = [p for p in (process, *process.children(recursive=True)) if p.is_running()]
                peak_rss = max(peak_rss, sum(p.memory_info().rss for p in tree))
                peak = max(peak, sum(p.memory_full_info().pss for p in tree))
            except psutil.Error:
                pass
            stop.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout = process.stdout.read().decode() if capture else ""  # drained before waiting, so it cannot block
    _, status, usage = os.wait4(process.pid, 0)
    stop.set()
    sampler.join()
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        errors.seek(0)
        raise SystemExit(f"{command}: failed\n{errors.read().decode()}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": peak / 1e6, "rss_sum_mb": peak_rss / 1e6,
            "stdout": stdout}


def median_run(command: list[str], repeat: int, before=None, *, measured=None) -> dict[str, float]:
    """The median of each figure of ``repeat`` runs of ``command`` (``before`` runs before each), measured
    by ``measured`` (default :func:`measure`)."""
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append((measured or measure)(command))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0] if key != "stdout"}


def bench_arguments(doc: str, worker_memory: str | None = None) -> argparse.Namespace:
    """``--repeat N`` and ``--skip-clauses``, the options of the benchmarks on these corpora (and
    ``--worker-memory`` when a default is given)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-clauses", action="store_true", help="leave out the 10x corpus")
    if worker_memory:
        parser.add_argument("--worker-memory", default=worker_memory, help="memory limit of each of four workers")
    return parser.parse_args()


def main() -> None:
    args = bench_arguments(__doc__)
    python = sys.executable
    cli = [python, "-m", "analysis"]
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        work = Path(tmp)
        corpora = make_corpora(work)
        sizes = {name: sum(1 for _ in path.open()) for name, path in corpora.items()}
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
              f"{os.cpu_count()} cores; documents: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        results: dict[str, dict[str, float]] = {}
        names = ["groups"] if args.skip_clauses else ["groups", "clauses"]
        for corpus in names:
            path = str(corpora[corpus])
            scratch = work / f"run-{corpus}"

            def fresh() -> None:
                shutil.rmtree(scratch, ignore_errors=True)
                scratch.mkdir()

            results[f"{corpus} countvectorizer"] = median_run([python, "-c", COUNT_VECTORIZER, path], args.repeat)
            for jobs in (1, 2):
                results[f"{corpus} prepare-jobs{jobs}"] = median_run(
                    [python, "-c", PREPARE, path, str(scratch), str(jobs)], args.repeat, before=fresh)
            if corpus == "groups":
                options = ["--corpus", path, "--cache-dir", str(scratch / "cache"), "--jobs", "2"]
                results["groups info-cold"] = median_run([*cli, "info", *options], args.repeat, before=fresh)
                results["groups info-warm"] = median_run([*cli, "info", *options], args.repeat)
                results["groups terms-warm"] = median_run([*cli, "terms", *options, "--top", "20"], args.repeat)
                results["groups kwic-first"] = median_run([*cli, "kwic", "windows", *options], 1)
                results["groups kwic-warm"] = median_run([*cli, "kwic", "windows", *options], args.repeat)
        print(f"{'program':<32}{'wall s':>9}{'cpu s':>9}{'peak MB':>10}{'(RSS sum)':>11}")
        for name, r in results.items():
            print(f"{name:<32}{r['wall']:>9.2f}{r['cpu']:>9.2f}{r['rss_mb']:>10.0f}{r['rss_sum_mb']:>11.0f}")
        g = {k.split(" ", 1)[1]: v for k, v in results.items() if k.startswith("groups ")}
        cv = g["countvectorizer"]
        print("\nratios (target in brackets):")
        print(f"  prepare jobs2 / CountVectorizer: wall {g['prepare-jobs2']['wall'] / cv['wall']:.2f} (<= 1.0), "
              f"cpu {g['prepare-jobs2']['cpu'] / cv['cpu']:.2f} (<= 1.5), "
              f"peak memory {g['prepare-jobs2']['rss_mb'] / cv['rss_mb']:.2f} (<= 1.0)")
        print(f"  prepare jobs1 / jobs2 wall: {g['prepare-jobs1']['wall'] / g['prepare-jobs2']['wall']:.2f} (>= 1.7)")
        print(f"  info warm / cold wall: {g['info-warm']['wall'] / g['info-cold']['wall']:.2f} (<= 0.1); "
              f"terms warm / info cold: {g['terms-warm']['wall'] / g['info-cold']['wall']:.2f}")
        print(f"  kwic on the prepared corpus: {g['kwic-warm']['wall']:.2f} s (about 1 s); the first one, which "
              f"also builds the corpus's lemma table: {g['kwic-first']['wall']:.2f} s")
        if "clauses prepare-jobs2" in results:
            c = results["clauses prepare-jobs2"]
            print(f"  clauses ({sizes['clauses'] / sizes['groups']:.1f}x the documents) / groups, prepare jobs2 "
                  f"peak memory: {c['rss_mb'] / g['prepare-jobs2']['rss_mb']:.2f} (<= 1.2)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
