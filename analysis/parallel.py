"""Independent tasks in worker processes, results in task order.

Workers are forked, so a task may close over large objects (a corpus's bags
of words) without pickling them; only the items and the results travel.
Each task must be deterministic on its own (its own seed, one thread), so
that the results are byte-identical to a serial run whatever the number of
jobs.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
_TASK: list[Callable] = []


def _call(item):
    return _TASK[0](item)


def map_in_processes(function: Callable[[Item], Result], items: Sequence[Item], *, jobs: int,
                     progress: Callable[[Iterable], Iterable] | None = None) -> Iterator[Result]:
    """``function(item)`` for each item, yielded in order as they are ready, in ``jobs`` forked
    processes when that is more than one.

    Parameters
    ----------
    function : callable
        Any callable, closures included (workers inherit it by forking).
    items : sequence
        Picklable arguments, one per task.
    jobs : int
        Worker processes; 1 (or a single item) runs in this process.
    progress : callable, optional
        Wraps the iteration over ``items`` as results come in (e.g. tqdm).
    """
    items = list(items)
    ticks = progress(items) if progress else items
    if jobs <= 1 or len(items) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from (function(item) for item in ticks)
        return
    _TASK[:] = [function]
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(items)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            results = pool.map(_call, items)
            for _ in ticks:
                yield next(results)
    finally:
        _TASK.clear()
