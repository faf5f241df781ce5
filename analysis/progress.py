"""How long each stage of a run took, for the one line every command ends with."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class StageTimer:
    """Wall time per named stage; a stage nested in another is not counted twice.

    Examples
    --------
    >>> timer = StageTimer()
    >>> with timer.stage("prepare"):
    ...     pass
    >>> list(timer.seconds)
    ['prepare']
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._nested: list[float] = []
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` (added up over repeated entries)."""
        start = time.perf_counter()
        self._nested.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            inner = self._nested.pop()
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - inner
            if self._nested:
                self._nested[-1] += elapsed

    def summary(self) -> str:
        """``time: prepare 1.2 s, terms 0.3 s, ..., total 4.0 s`` (stages under 0.05 s left out)."""
        shown = [f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items() if seconds >= 0.05]
        return "time: " + ", ".join([*shown, f"total {time.perf_counter() - self._start:.1f} s"])
