"""Giving freed memory back to the operating system between the stages of a long analysis.

Python and NumPy return the memory of a stage's temporaries to the C
allocator, which keeps much of it for later use: the resident memory of a
run then stays at the sum of its stages' high-water marks. glibc's
``malloc_trim`` hands the free pages back (dask.distributed trims its
workers the same way). pyarrow's pool (mimalloc or jemalloc) keeps its own
free memory and is asked to return it too. Elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


def release_freed_memory() -> None:
    """Return the free memory of the C allocator (where the C library allows it) and of pyarrow's
    pool (if pyarrow is in use) to the operating system."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
