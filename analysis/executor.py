"""Where the map steps of a run go: this machine's worker processes, or a Dask cluster.

An executor maps a function over items and yields the results in item order, with a bounded number of
tasks in flight, so that the merges that follow (in this process) see the same sequence whatever ran
the tasks: the same corpus and settings give the same bytes on one core, on many, or on a cluster.

- :class:`LocalExecutor` (``executor = "local"``, the default): forked worker processes
  (:func:`analysis.parallel.map_in_processes`).
- :class:`DaskExecutor` (``executor = "dask"``, or any ``scheduler``): tasks submitted to a
  ``dask.distributed`` client. The scheduler is ``local:N`` (a ``LocalCluster`` of N single-threaded
  worker processes on this machine), ``tcp://host:8786`` (a running scheduler), or ``slurm:N``,
  ``pbs:N``, ``sge:N``, ``lsf:N`` (N jobs of a ``dask-jobqueue`` cluster, configured in dask's
  ``jobqueue.yaml``). Workers must read the corpus at the same path (a shared file system), and run the
  same versions of this package and its dependencies: :func:`check_versions` refuses a cluster that
  does not.

Functions and items sent to a cluster must be picklable (module-level functions, ``functools.partial``
of them); the local executor also takes closures.

Besides the ordered ``map``, an executor runs a shuffle in three calls: :meth:`~Executor.launch` maps a
function that splits each item's result into ``buckets`` parts, :meth:`~Executor.shuffle` combines part
``b`` of every result (in item order) for each bucket ``b``, and :meth:`~Executor.gather` brings results
back. On a cluster the results in between are *handles* (futures) that stay on the workers, and only
part ``b`` of each travels to the worker that combines bucket ``b``; here they are the values themselves.
Combines see their parts in item order, so a shuffle's result does not depend on where it ran.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import functools
import logging
import operator
from functools import cached_property
from typing import Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

from analysis.config import parse_scheduler
from analysis.errors import AnalysisError
from analysis.parallel import in_worker, map_in_processes
from analysis.provenance import PACKAGES, tomotopy_build

Item = TypeVar("Item")
Result = TypeVar("Result")
JOBQUEUE_KINDS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster", "lsf": "LSFCluster"}
# Compared with the scheduler too (every package is compared with each worker): what its messages need.
_SCHEDULER_SIDE = ("python", "dask", "distributed", "msgpack", "cloudpickle", "toolz")


class Executor(Protocol):
    """What the map steps of a run need: ``map(function, items, progress=None, common=())``, the results of
    ``function(*common, item)`` in item order, and whether the workers open the corpus's files
    themselves (``opens_files``). ``common`` holds the arguments every task shares (rules, tables, a
    prepared corpus): forked workers inherit them, a cluster receives them once per worker."""

    opens_files: bool

    slots: int  # tasks that run at once
    shares_memory: bool  # the tasks see this process's objects without copies (forked workers)

    def map(self, function: Callable[..., Result], items: Iterable[Item],
            progress: Callable[[Iterable], Iterable] | None = None, common: tuple = ()) -> Iterator[Result]: ...

    def launch(self, function: Callable[..., Result], items: Iterable[Item], *, common: tuple = (),
               progress: Callable[[Iterable], Iterable] | None = None) -> list:
        """Handles of ``function(*common, item)`` for each item, left where they were computed."""

    def shuffle(self, combine: Callable[..., Result], handles: Sequence, *, buckets: int, common: tuple = (),
                beside: Sequence | None = None, progress: Callable[[Iterable], Iterable] | None = None) -> list:
        """Handles of ``combine(*common, bucket, parts)`` for each bucket, where ``parts`` lists
        ``result[bucket]`` of every handle's result in order; with ``beside`` (one handle per bucket),
        ``combine(*common, bucket, beside[bucket], parts)``."""

    def pick(self, handles: Sequence, index) -> list:
        """Handles of ``result[index]`` of each handle's result."""

    def gather(self, handles: Sequence, progress: Callable[[Iterable], Iterable] | None = None) -> list:
        """The values of ``handles``, in order."""


class LocalExecutor:
    """Forked worker processes on this machine (``jobs`` of them; 1 runs in this process)."""

    opens_files = False  # records are read here and handed over (batch boundaries as a serial run has them)
    shares_memory = True

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    @property
    def slots(self) -> int:
        return self.jobs

    def map(self, function, items, progress=None, common=()):
        task = functools.partial(function, *common) if common else function
        return map_in_processes(task, items, jobs=self.jobs, progress=progress)

    def launch(self, function, items, *, common=(), progress=None):
        return list(self.map(function, items, progress=progress, common=common))

    def shuffle(self, combine, handles, *, buckets, common=(), beside=None, progress=None):
        def bucket_of(bucket: int):  # forked workers inherit the handles: only the results travel back
            parts = [handle[bucket] for handle in handles]
            return combine(*common, bucket, *([] if beside is None else [beside[bucket]]), parts)
        return list(self.map(bucket_of, range(buckets), progress=progress))

    def pick(self, handles, index):
        return [handle[index] for handle in handles]

    def gather(self, handles, progress=None):
        return list(progress(handles)) if progress else list(handles)

    def __repr__(self) -> str:
        return f"LocalExecutor(jobs={self.jobs})"


class DaskExecutor:
    """Tasks on a ``dask.distributed`` cluster, at most two per worker thread in flight. The cluster is
    reached (or started) when the first task is submitted: a run that finds its work in the cache never
    waits for one.

    Parameters
    ----------
    scheduler : str
        See :func:`parse_scheduler`.
    """

    opens_files = True  # workers read their own partitions; this process only says where they are
    shares_memory = False

    def __init__(self, scheduler: str) -> None:
        self.scheduler = scheduler

    @cached_property
    def client(self):
        """The ``distributed.Client`` (:func:`dask_client`)."""
        return dask_client(self.scheduler)

    @property
    def slots(self) -> int:
        """Worker threads of the cluster (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def map(self, function, items, progress=None, common=()):
        if in_worker():  # a figure drawn in a forked worker: its copy of the client is not connected
            return LocalExecutor(1).map(function, items, progress=progress, common=common)
        if progress is not None:
            items = list(items)
            return (result for _, result in zip(progress(items), self._ordered(function, items, common)))
        return self._ordered(function, items, common)

    def _ordered(self, function, items, common: tuple) -> Iterator:
        pending: collections.deque = collections.deque()
        shared = self._shared(common)
        try:
            with self._killed_workers():
                for item in items:
                    pending.append(self.client.submit(function, *shared, item, pure=False))
                    if len(pending) >= 2 * self.slots:
                        yield pending.popleft().result()  # a worker's error is raised here, as raised there
                while pending:
                    yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def launch(self, function, items, *, common=(), progress=None):
        shared = self._shared(common)
        return self._waited([self.client.submit(function, *shared, item, pure=False) for item in items], progress)

    def shuffle(self, combine, handles, *, buckets, common=(), beside=None, progress=None):
        shared = self._shared(common)
        combined = []
        for bucket in range(buckets):
            parts = self.pick(handles, bucket)  # each part is cut where its result lies; only the part moves
            extra = [] if beside is None else [beside[bucket]]
            combined.append(self.client.submit(_combine_parts, combine, len(shared) + 1 + len(extra),
                                               *shared, bucket, *extra, *parts, pure=False))
        return self._waited(combined, progress)

    def pick(self, handles, index):
        return [self.client.submit(operator.getitem, handle, index, pure=False) for handle in handles]

    def gather(self, handles, progress=None):
        with self._killed_workers():
            return self.client.gather(self._waited(list(handles), progress))

    def _shared(self, common: tuple) -> list:
        """Futures of the values every task shares, made by tasks that hold them: a worker fetches each once,
        and a worker lost (to its memory limit, say) is recovered by running them again, where scattered
        data would be lost for good."""
        return [self.client.submit(_value, value, pure=False) for value in common]

    def _waited(self, futures: list, progress) -> list:
        """``futures``, after waiting for each under a progress bar (when one is given)."""
        if progress is not None:
            from distributed import as_completed
            with self._killed_workers():
                for future in progress(as_completed(futures)):
                    if future.status == "error":
                        future.result()  # a worker's error is raised here, as raised there
        return futures

    @contextlib.contextmanager
    def _killed_workers(self) -> Iterator[None]:
        """Raise dask's ``KilledWorker`` (a task that every worker it ran on died of, most often by
        exceeding its memory limit) as one line that says what to change."""
        try:
            yield
        except AnalysisError:  # ours, the one line already (no dask extra, say)
            raise
        except Exception as exc:
            from dask.utils import key_split
            from distributed import KilledWorker

            if not isinstance(exc, KilledWorker):
                raise
            raise AnalysisError(
                f"--scheduler {self.scheduler}: the workers died running {key_split(exc.task)} "
                f"({exc.allowed_failures + 1} tried it), most likely out of memory; give each worker more "
                "memory or start more workers (smaller shares each), and see the workers' logs") from None

    def __repr__(self) -> str:
        return f"DaskExecutor({self.scheduler!r})"


def _value(value):
    return value


def _combine_parts(combine: Callable, leading: int, *arguments):
    """``combine(*arguments[:leading], list(arguments[leading:]))``: a cluster passes the parts of a
    bucket as separate arguments, so that each arrives as a value."""
    return combine(*arguments[:leading], list(arguments[leading:]))


_CLIENTS: dict[str, object] = {}


def dask_client(scheduler: str):
    """A client of ``scheduler`` (see :func:`parse_scheduler`), made once per process and closed at exit;
    a cluster this process starts (``local:N``, ``slurm:N`` ...) ends with it.

    Raises
    ------
    AnalysisError
        Without the ``dask`` extra, when the scheduler cannot be reached, or when its workers run other
        versions (:func:`check_versions`).
    """
    if scheduler in _CLIENTS:
        return _CLIENTS[scheduler]
    form = parse_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AnalysisError(f"--scheduler {scheduler}: running on Dask needs the dask extra "
                            "(pip install 'corpus-analysis[dask]')") from None
    try:
        if "local" in form:  # no dashboard, its HTTP routes on a free port, no routine log lines
            cluster = LocalCluster(n_workers=form["local"], threads_per_worker=1, processes=True,
                                   dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
        elif "kind" in form:
            try:
                import dask_jobqueue
            except ImportError:
                raise AnalysisError(f"--scheduler {scheduler}: needs dask-jobqueue (pip install dask-jobqueue)") from None
            cluster = getattr(dask_jobqueue, JOBQUEUE_KINDS[form["kind"]])()  # configured in jobqueue.yaml
            cluster.scale(jobs=form["jobs"])
            client = Client(cluster)
        else:
            client = Client(form["address"], timeout="20s")
    except AnalysisError:
        raise
    except (OSError, TimeoutError, ValueError) as exc:
        raise AnalysisError(f"--scheduler {scheduler}: cannot start or reach the cluster ({exc})") from None
    try:
        check_versions(client, scheduler)
    except BaseException:
        client.close()
        raise
    _CLIENTS[scheduler] = client
    return client


@atexit.register
def close_clients() -> None:
    """Close every client this process opened, and the clusters it started (at exit, or sooner)."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()


def version_mismatches(versions: dict) -> list[str]:
    """The packages whose versions differ between this process and the workers (or, for dask's core
    packages, the scheduler), from ``Client.get_versions()``: one ``"name: here X, workers Y"`` each."""
    here = versions["client"]["packages"]
    scheduler = (versions.get("scheduler") or {}).get("packages", {})
    workers = [info.get("packages", {}) for info in versions["workers"].values() if info]
    found = []
    for name in sorted(here):
        theirs = {w.get(name, "missing") for w in workers}
        if name in _SCHEDULER_SIDE and scheduler:
            theirs.add(scheduler.get(name, "missing"))
        if theirs - {here[name]}:
            found.append(f"{name}: here {here[name]}, cluster {', '.join(sorted(map(str, theirs)))}")
    return found


def check_versions(client, scheduler: str) -> None:
    """Refuse a cluster whose workers run other versions of this package or of what shapes its results
    (tomotopy's SIMD build included).

    Raises
    ------
    AnalysisError
        One line naming every mismatch.
    """
    mismatches = version_mismatches(client.get_versions(packages=list(PACKAGES)))
    here, theirs = tomotopy_build(), set(client.run(tomotopy_build).values())
    if theirs - {here}:  # its SIMD build changes fitted topics; the manifest records this machine's
        mismatches.append(f"tomotopy's SIMD build: here {here}, cluster {', '.join(sorted(theirs))}")
    if mismatches:
        raise AnalysisError(f"--scheduler {scheduler}: the workers run other versions than this machine "
                            f"({'; '.join(mismatches)}); install the same environment on them")


def executor_for(settings) -> Executor:
    """The executor ``settings`` ask for: Dask when ``executor`` is ``dask`` or a ``scheduler`` is set
    (``local:<jobs>`` by default), else this machine's ``jobs`` processes.

    Raises
    ------
    AnalysisError
        For a cluster of other machines without the cache: their workers read the prepared corpus from
        the cache folder, and without it the corpus is prepared in a temporary folder of this machine.
    """
    if settings.executor == "dask" or settings.scheduler:
        scheduler = settings.scheduler or f"local:{settings.n_jobs}"
        if "local" not in parse_scheduler(scheduler) and not settings.cache:
            raise AnalysisError(f"--scheduler {scheduler}: the workers read the prepared corpus from the cache "
                                "folder, which --no-cache replaces with a temporary folder on this machine; "
                                "keep the cache, with --cache-dir on a file system the workers share")
        return DaskExecutor(scheduler)
    return LocalExecutor(settings.n_jobs)
