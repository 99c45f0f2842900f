"""How the C allocator keeps the memory a training step frees, so that the next step reuses it.

A step on the CPU allocates and frees the same large blocks every time (at LSTM H=128, T=200,
B=64 the fused kernel's buffers are 26-50 MB each). glibc's malloc hands blocks above its mmap
threshold (128 KB at first, raised as such blocks are freed, at most 32 MB) fresh from the
system and gives them back on free, and trims the heap's free top above its trim threshold: the
next step touches new pages, one page fault per 4 KB. Measured (docs/PERFORMANCE.md, "Memory a
step frees"): a fused step of that LSTM took 72 ms with 22,700 page faults and 41 ms with none;
``gradviz train`` of it ran 14.4 steps/s against 19.4 with the blocks kept.

So every process that trains keeps them (``keep_freed_memory``, called by ``engine.Run``):
blocks up to ``KEEP_BYTES`` come from the heap and a free top of up to ``KEEP_BYTES`` stays. A
process's memory is then its largest step's, as it was at that step's peak anyway; a new run
first gives back what the last one left (``release_freed_memory``), before the budget reads
the free memory. Only glibc (Linux) takes these settings; elsewhere both are no-ops (macOS's
and Windows's allocators keep freed blocks by their own rules).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

# mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 1 << 30  # 1 GiB: above any block a run within the memory budget allocates per step

_kept = False


def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has mallopt and malloc_trim), else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - a platform without a C library to load
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def keep_freed_memory(platform: str | None = None, libc: Callable[[], ctypes.CDLL | None] = _glibc) -> bool:
    """Keep freed blocks of up to ``KEEP_BYTES`` for reuse (once per process). True where the
    allocator took the settings (glibc), False elsewhere. ``platform`` and ``libc`` are
    parameters so that a test can fake them."""
    global _kept
    if not (platform or sys.platform).startswith("linux"):
        return False
    if _kept:
        return True
    library = libc()
    if library is None:  # musl and other C libraries: nothing to set
        return False
    _kept = bool(library.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(library.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
    return _kept


def release_freed_memory(platform: str | None = None, libc: Callable[[], ctypes.CDLL | None] = _glibc) -> None:
    """Give the system back the free memory the allocator keeps (what the last run freed)."""
    if not (platform or sys.platform).startswith("linux"):
        return
    library = libc()
    if library is not None:
        library.malloc_trim(0)
