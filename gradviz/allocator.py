"""How the C allocator keeps the memory a training step frees, so that the next step reuses it.

A step on the CPU allocates and frees the same large blocks every time (at LSTM H=128, T=200,
B=64 the fused kernel's buffers are 26-50 MB each). glibc's malloc hands blocks above its mmap
threshold (128 KB at first, raised as such blocks are freed, at most 32 MB) fresh from the
system and gives them back on free, and trims the heap's free top above its trim threshold: the
next step touches new pages, one page fault per 4 KB. Measured (docs/PERFORMANCE.md, "Memory a
step frees"): a fused step of that LSTM took 72 ms with 22,700 page faults and 41 ms with none;
``gradviz train`` of it ran 14.4 steps/s against 19.4 with the blocks kept.

So every process that trains keeps them (``keep_freed_memory``, called by ``engine.Run``):
blocks up to ``KEEP_BYTES`` come from the heap (``FALLBACK_BYTES``, glibc's own ceiling, where
an older glibc refuses more), and a free heap top of up to ``KEEP_BYTES`` stays. A thread other
than the main one allocates from an arena of its own, whose blocks above 64 MB glibc always
maps fresh: a split step's part threads (engine/batchsplit.py) keep blocks up to that. The
process then holds the most it has freed, up to ``KEEP_BYTES``: a training run's steps reach
that peak every time anyway. A new run, and the window's trainer after a Reset, give back what
the last run left (``release_freed_memory``). A user's own ``MALLOC_*_`` or
``GLIBC_TUNABLES`` settings are theirs: then nothing is changed. Only glibc (Linux) takes these
settings; elsewhere both are no-ops (macOS's and Windows's allocators keep freed blocks by
their own rules).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable, Mapping

# mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 1 << 30  # 1 GiB: above any block a run within the memory budget allocates per step
FALLBACK_BYTES = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64 bits: what every glibc accepts
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")

_kept = False


@functools.cache
def load_glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has mallopt and malloc_trim), with their signatures,
    else None; loaded once. (Only called on Linux: ``CDLL(None)`` raises TypeError on Windows.)"""
    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - a platform without a C library to load
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None  # musl and other C libraries
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return libc


def keep_freed_memory(platform: str | None = None, load_libc: Callable[[], ctypes.CDLL | None] = load_glibc,
                      environ: Mapping[str, str] | None = None) -> bool:
    """Keep freed blocks for reuse (once per process). True where the allocator took the
    settings (glibc), False elsewhere or where the user set the allocator's own. The
    parameters let a test fake the platform, the library and the environment."""
    global _kept
    environ = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux") or any(name in environ for name in USER_SETTINGS):
        return False
    if _kept:
        return True
    libc = load_libc()
    if libc is None:
        return False
    mapped = bool(libc.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) or bool(libc.mallopt(M_MMAP_THRESHOLD, FALLBACK_BYTES))
    trimmed = bool(libc.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
    _kept = mapped and trimmed
    return _kept


def release_freed_memory(platform: str | None = None,
                         load_libc: Callable[[], ctypes.CDLL | None] = load_glibc) -> None:
    """Give the system back the free memory the allocator keeps (what the last run freed)."""
    if not (platform or sys.platform).startswith("linux"):
        return
    libc = load_libc()
    if libc is not None:
        libc.malloc_trim(0)
