"""Work split into parts, each part on a thread of its own with one torch intra-op thread.

Torch's intra-op threads split every operation and wait for each other at its end. For work
that falls into independent parts (a fused step's batch, ``engine/batchsplit.py``; a batch of
small eigenproblems, ``boundary.spectral_norms``) it is cheaper to give each part a thread
and let torch run each part's operations on that one thread: one wait for the whole, not one
per operation, and LAPACK on a 128 x 128 matrix is faster on one thread than on two anyway
(measured: 64 symmetric eigenproblems took 26 ms on 2 intra-op threads, 21 ms on one, 11 ms as
two parts of 32).

One pool serves the process; the calling thread takes the first part. Every part runs with
one intra-op thread and the calling thread's subnormal flushing, and the results come back in
the parts' order whichever finished first: what is made of them does not depend on how many
parts there were, nor so on the machine's load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

import torch

from gradviz import threads

Result = TypeVar("Result")

_pool: tuple[int, ThreadPoolExecutor] | None = None  # its size and itself
_pool_lock = threading.Lock()
_local = threading.local()  # per thread: "flush" (its subnormal flushing), "worker" (a pool thread)


def flush_subnormals(flush: bool) -> None:
    """Flush (or keep) subnormal floats in this thread's CPU arithmetic, and remember it: torch
    can set the flag but not read it, and work split from this thread runs its parts with the
    same flag (a part on another thread would otherwise compute in another arithmetic)."""
    torch.set_flush_denormal(flush)
    _local.flush = flush


def flushing() -> bool:
    """This thread's subnormal flushing as ``flush_subnormals`` last set it (off, the CPU's
    default, where it never did)."""
    return getattr(_local, "flush", False)


def pool(count: int) -> ThreadPoolExecutor:
    """One pool for the process with at least ``count`` threads, grown when asked for more (a
    Reset builds a new run, never a new pool)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] < count:
            if _pool is not None:
                _pool[1].shutdown(wait=False)
            _pool = (count, ThreadPoolExecutor(max_workers=count, thread_name_prefix="gradviz-part",
                                               initializer=_start_worker))
        return _pool[1]


def _start_worker() -> None:
    """A worker's own OpenMP and MKL counts at one (torch's setting is per thread there): MKL's
    products in a thread left at OpenMP's default (a thread per core) open teams of their own,
    and with more OpenMP threads than cores libgomp cuts every thread's spinning short (the
    training thread's recorded steps then took 2x as long)."""
    torch.set_num_threads(1)
    _local.worker = True


def _in_mode(part: Callable[[], Result], flush: bool) -> Result:
    flush_subnormals(flush)
    return part()


def run_parts(parts: Sequence[Callable[[], Result]]) -> list[Result]:
    """Each of ``parts`` called once, every one with one torch intra-op thread and the calling
    thread's subnormal flushing: the first on the calling thread, the others on the pool;
    their results in order. A part's error is raised here once no part is left running. On a
    pool thread the parts run one after another there (a worker never waits on its own pool)."""
    futures: list[Future[Result]] = []
    with threads.one_op_thread():
        if len(parts) == 1 or getattr(_local, "worker", False):
            return [part() for part in parts]
        try:
            workers, flush = pool(len(parts) - 1), flushing()
            for part in parts[1:]:
                futures.append(workers.submit(_in_mode, part, flush))
            first = parts[0]()
        finally:
            # No part left running after an error (a second Ctrl-C here would leave one:
            # harmless, a part writes nothing shared).
            wait(futures)
    return [first] + [future.result() for future in futures]


def part_count(items: int) -> int:
    """Into how many parts to split ``items`` independent pieces of CPU work: one per torch
    intra-op thread the calling thread has now (the thread policy's count, lowered by its
    governor while other programs hold cores), at most one per item. On a worker, whose own
    count is one, that is one part."""
    return max(1, min(torch.get_num_threads(), items))

