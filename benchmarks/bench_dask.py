"""Benchmark: preparing a corpus in this process's workers against a Dask ``LocalCluster`` of two.

Corpora (made by :func:`bench_prepare.make_corpora` from 20 Newsgroups): ``groups`` (about 120,000
documents of six sentences) and ``clauses`` (about 950,000 short ones).

Programs, each run in its own process (``--repeat`` times, median), on the same corpus:

- ``local-jobs2``: build the prepared corpus with two forked worker processes (the default run);
- ``dask-local2``: the same on ``--scheduler local:2`` (a ``LocalCluster`` of two single-threaded
  workers started by the run), which gives the same files;
- ``dask-start``: start the ``LocalCluster``, connect, check versions, run one empty task, stop: the
  fixed cost of a cluster run;
- ``claims-*``: claims tagging and the claims tables (the corpus prepared beforehand) on ``groups``:
  the whole table made in the client from the workers' rows, as before the parts (``claims-whole-table``,
  the baseline), then the rows written in parts by the workers and only their counts sent back, with
  two forked processes (``claims-local-jobs2``) and on a ``LocalCluster`` of two (``claims-dask-local2``);
- ``reuse-*``: text reuse (passages and near-duplicate sentences, shuffles; the corpus prepared
  beforehand) and its three long tables written as CSV, on the ``groups`` corpus, with two forked processes (``reuse-local-jobs2``), on a
  ``LocalCluster`` of two (``reuse-dask-local2``), and on four workers limited to ``--worker-memory``
  each (``reuse-dask-4x``, a ``LocalCluster`` the program starts and reaches by its address, as a
  remote cluster is reached): the peak of the largest worker shows that memory stays bounded per
  worker.

Reported: wall and CPU seconds (the run and every process it started), the peak memory (PSS, sampled
every 20 ms) of the whole tree, of the client process and of the largest worker, and the ratios
dask / local. Usage: ``python benchmarks/bench_dask.py [--repeat 3] [--skip-clauses] [--worker-memory 1500MB]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_prepare import bench_arguments, make_corpora, median_run

PREPARE = """
import sys
from pathlib import Path
from analysis.config import Settings
from analysis.results import Results
settings = Settings(corpus=Path(sys.argv[1]), out=Path(sys.argv[2]) / "out", cache_dir=Path(sys.argv[2]) / "cache",
                    jobs=2, scheduler=sys.argv[3])
print(Results(settings).prepared.n_documents)
"""

REUSE = """
import sys
from pathlib import Path
from analysis.config import Settings
from analysis.export import table_files
from analysis.results import Results

def run(scheduler):
    settings = Settings(corpus=Path(sys.argv[1]), out=Path(sys.argv[2]) / "out", cache_dir=Path(sys.argv[2]) / "cache",
                        jobs=2, scheduler=scheduler)
    results = Results(settings)
    files = table_files(results.reuse_tables(), spool=results.spool)  # the CSV files, as the reuse command writes
    print(results.reuse.n_spans, results.reuse.n_pairs, sorted(files))

if __name__ == "__main__":
    if sys.argv[3] == "4x":  # four workers with a memory limit each, reached by address like a remote cluster
        from distributed import LocalCluster
        from analysis.executor import close_clients
        with LocalCluster(n_workers=4, threads_per_worker=1, memory_limit=sys.argv[4], dashboard_address=None) as cluster:
            run(cluster.scheduler_address)
            close_clients()  # before the cluster it reaches
    else:
        run(sys.argv[3])
"""

CLAIMS = """
import sys
from pathlib import Path
from analysis import claims
from analysis.config import Settings
from analysis.export import csv_bytes, table_files
from analysis.results import Results

settings = Settings(corpus=Path(sys.argv[1]), out=Path(sys.argv[2]) / "out", cache_dir=Path(sys.argv[2]) / "cache",
                    jobs=2, scheduler=sys.argv[3] if sys.argv[3] != "whole" else None)
results = Results(settings)
if sys.argv[3] == "whole":  # the whole table in this process, as before the parts (the same files): the baseline
    table = claims.tag_claims(results.prepared, executor=results.executor)
    files = {"claims.csv": csv_bytes(table), "contradictions.csv": csv_bytes(claims.contradiction_summary(table)),
             "quantities.csv": csv_bytes(claims.quantities(results.prepared))}
    print(len(table), len(files["claims.csv"]))
else:  # the rows in parts written by the workers, their counts here, claims.csv written part by part
    files = table_files(results.claim_tables())
    print(results.tagged_claims.n_claims, files["claims.csv"].stat().st_size)
"""

START = """
from analysis.executor import DaskExecutor
print(list(DaskExecutor("local:2").map(abs, [-1])))
"""


def measure(command: list[str]) -> dict:
    """Wall time, CPU seconds of the process and its children, and peak PSS of the tree, of the client
    process and of the largest other process (a worker), sampled every 20 ms."""
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, float] = {}
    tree_peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not stop.is_set():
            try:
                tree = [p for p in (process, *process.children(recursive=True)) if p.is_running()]
                sizes = {p.pid: p.memory_full_info().pss for p in tree}
                tree_peak = max(tree_peak, sum(sizes.values()))
                for pid, size in sizes.items():
                    peaks[pid] = max(peaks.get(pid, 0), size)
            except psutil.Error:
                pass
            stop.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    errors = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    stop.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command}: failed\n{errors}")
    children = usage.ru_utime + usage.ru_stime
    others = [size for pid, size in peaks.items() if pid != process.pid]
    return {"wall": time.perf_counter() - start, "cpu": children, "tree_mb": tree_peak / 1e6,
            "client_mb": peaks.get(process.pid, 0) / 1e6, "worker_mb": max(others, default=0) / 1e6}


def main() -> None:
    args = bench_arguments(__doc__, worker_memory="1500MB")
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        work = Path(tmp)
        corpora = make_corpora(work)
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")
        results: dict[str, dict[str, float]] = {"dask-start": median_run([python, "-c", START], args.repeat,
                                                                         measured=measure)}
        for corpus in ["groups"] if args.skip_clauses else ["groups", "clauses"]:
            path = corpora[corpus]
            documents = sum(1 for _ in path.open(encoding="utf-8"))
            scratch = work / f"run-{corpus}"

            def fresh() -> None:
                shutil.rmtree(scratch, ignore_errors=True)
                scratch.mkdir()

            for name, scheduler in (("local-jobs2", ""), ("dask-local2", "local:2")):
                results[f"{corpus} ({documents:,} docs) {name}"] = median_run(
                    [python, "-c", PREPARE, str(path), str(scratch), scheduler], args.repeat, before=fresh,
                    measured=measure)
                print(corpus, name, {key: round(value, 2) for key, value in
                                     results[f"{corpus} ({documents:,} docs) {name}"].items()}, flush=True)
        reuse_corpus, reuse_scratch = corpora["groups"], work / "run-reuse"
        reuse_run = [python, "-c", REUSE, str(reuse_corpus), str(reuse_scratch)]
        measure(reuse_run + [""])  # prepares the corpus into the cache the programs below read
        for name, how in (("reuse-local-jobs2", [""]), ("reuse-dask-local2", ["local:2"]),
                          (f"reuse-dask-4x (limit {args.worker_memory} each)", ["4x", args.worker_memory])):
            results[f"groups {name}"] = median_run(reuse_run + how, args.repeat, measured=measure)
            print(name, {key: round(value, 2) for key, value in results[f"groups {name}"].items()}, flush=True)
        claims_run = [python, "-c", CLAIMS, str(reuse_corpus), str(reuse_scratch)]
        for name, how in (("claims-whole-table", "whole"), ("claims-local-jobs2", ""),
                          ("claims-dask-local2", "local:2")):
            results[f"groups {name}"] = median_run(claims_run + [how], args.repeat, measured=measure)
            print(name, {key: round(value, 2) for key, value in results[f"groups {name}"].items()}, flush=True)
        print(f"{'program':<40}{'wall s':>8}{'cpu s':>8}{'tree MB':>9}{'client MB':>11}{'worker MB':>11}")
        for name, r in results.items():
            print(f"{name:<40}{r['wall']:>8.2f}{r['cpu']:>8.2f}{r['tree_mb']:>9.0f}{r['client_mb']:>11.0f}"
                  f"{r['worker_mb']:>11.0f}")
        print("\nratios dask-local2 / local-jobs2:")
        for name in [k for k in results if k.endswith("local-jobs2")]:
            local, dask = results[name], results[name.replace("local-jobs2", "dask-local2")]
            print(f"  {name.removesuffix('local-jobs2')}: wall {dask['wall'] / local['wall']:.2f}, cpu {dask['cpu'] / local['cpu']:.2f}, "
                  f"tree memory {dask['tree_mb'] / local['tree_mb']:.2f}; client {dask['client_mb']:.0f} MB "
                  f"against {local['client_mb']:.0f} MB")
        whole, parts = results["groups claims-whole-table"], results["groups claims-local-jobs2"]
        print(f"claims in parts / the whole table (two processes): client memory "
              f"{parts['client_mb'] / whole['client_mb']:.2f}, wall {parts['wall'] / whole['wall']:.2f}, "
              f"cpu {parts['cpu'] / whole['cpu']:.2f}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
