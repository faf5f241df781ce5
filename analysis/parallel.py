"""Independent tasks in worker processes, results in task order.

Workers are forked, so a task may close over large objects (a corpus's bags
of words) without pickling them; only the items and the results travel.
Each task must be deterministic on its own (its own seed, one thread), so
that the results are byte-identical to a serial run whatever the number of
jobs.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
_TASK: list[Callable] = []  # in a worker: the function it runs


def _set_task(function: Callable) -> None:
    _TASK[:] = [function]


def _call(item):
    return _TASK[0](item)


def in_worker() -> bool:
    """Whether this process is a worker forked by :func:`map_in_processes`: maps asked for here run in
    it, one task at a time (a forked copy of a cluster's client has no connection)."""
    return bool(_TASK)


def map_in_processes(function: Callable[[Item], Result], items: Iterable[Item], *, jobs: int,
                     progress: Callable[[Iterable], Iterable] | None = None) -> Iterator[Result]:
    """``function(item)`` for each item, yielded in order as they are ready, in ``jobs`` forked
    processes when that is more than one.

    Without ``progress``, items are taken as tasks are handed out, at most
    ``2 * jobs`` ahead of the result yielded, so a long stream of items (a
    corpus's batches) is never held whole.

    Parameters
    ----------
    function : callable
        Any callable, closures included (workers inherit it by forking).
    items : iterable
        Picklable arguments, one per task.
    jobs : int
        Worker processes; 1 (or a single item) runs in this process.
    progress : callable, optional
        Wraps the iteration over ``items`` as results come in (e.g. tqdm);
        the items are then read whole first.
    """
    if progress is None:
        yield from _ordered(function, items, jobs)
        return
    items = list(items)
    for _, result in zip(progress(items), _ordered(function, items, jobs)):
        yield result


def _ordered(function: Callable[[Item], Result], items: Iterable[Item], jobs: int) -> Iterator[Result]:
    remaining = iter(items)
    head = list(itertools.islice(remaining, 2))
    if jobs <= 1 or len(head) <= 1 or in_worker() or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(function, itertools.chain(head, remaining))
        return
    # With fork, the initializer's arguments are inherited, not pickled: closures travel.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                               initializer=_set_task, initargs=(function,))
    try:
        pending: collections.deque = collections.deque()
        for item in itertools.chain(head, remaining):
            pending.append(pool.submit(_call, item))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)
