"""Returning freed memory to the operating system (analysis.memory)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from analysis import memory

_FRAGMENTED = """
import numpy as np
from analysis.memory import release_freed_memory

def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

arrays = [np.ones(1000) for _ in range(20_000)]  # 8 KB each: allocated on the heap, not mapped
kept = arrays[::20]  # one in twenty stays, so the heap cannot simply shrink from its top
del arrays
before = resident()
release_freed_memory()
print(before - resident())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_heap_memory_goes_back_to_the_system():
    released = int(subprocess.run([sys.executable, "-c", _FRAGMENTED], capture_output=True, text=True,
                                  check=True).stdout)
    assert released > 100e6  # of the 160 MB freed


def test_without_malloc_trim_nothing_happens(monkeypatch):
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    memory.release_freed_memory()
