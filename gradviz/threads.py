"""How many threads torch may use, and how its idle threads wait: one policy for every process
that trains (``gradviz train``, ``probe``, ``bench``, a sweep's runs, the window's trainer).

Torch's intra-op pool (OpenMP, on Linux libgomp) splits each operation over its threads and
waits for all of them at the end of it. When another program holds a core, one of those threads
runs late and the others spin, burning the very core it needs: measured (issue 20), 200 steps of
an LSTM with H=64 took 7.9 s alone and 24.5 s beside two busy processes with 2 threads, 7.6 s and
10.3 s with 1. Small models gain nothing from a second thread even alone, because their matrices
are too small to split. So:

- a policy (``POLICIES``; ``GRADVIZ_THREAD_POLICY`` picks one, ``DEFAULT_POLICY`` otherwise)
  chooses the count from the size of the largest model:

  - ``one``: one thread while the gate product is at most ``SMALL_WORK`` (the default demo,
    H=64 and H=128 at batch 64), more only for larger models (a thread per ``SMALL_WORK``);
  - ``cores``: one thread for models the size of the default demo (gate product at most
    ``MULTI_WORK``), every core (less ``reserve``) above it: a second thread does pay for an
    LSTM with H=64 or H=128 on an idle machine (measured 1.1-1.6x), not for the demo;
  - ``adaptive``: as ``cores``, and while training, about once a second, as many threads as
    the cores other processes leave free, at least one (``Governor``: Linux's /proc/stat;
    elsewhere, with no governor, ``one``'s counts);
- idle OpenMP threads spin about ten microseconds (a hundred under the adaptive policy's
  governor), then sleep (``set_wait_policy``: ``OMP_WAIT_POLICY=PASSIVE`` and libgomp's
  ``GOMP_SPINCOUNT``) for every process that trains;
  it must be in the environment before torch loads OpenMP, that is before ``import torch`` in
  the process itself and in the fork server (which its children inherit);
- a fused step of a model above ``MULTI_WORK`` on the CPU splits its batch into as many parts as
  the count (at least ``MIN_PART_ROWS`` sequences a part), each part's forward and backward on
  a thread of its own with one intra-op thread
  (``batch_parts``; ``engine/batchsplit.py``): one wait a step instead of one per operation, so
  a busy neighbour delays a step once; recorded steps keep the whole batch and the count;
- ``GRADVIZ_TRAINER_THREADS=N`` overrides the count, bounded by the cores (a larger value would
  start that many threads per pool, thousands, for nothing).

This module imports neither torch nor Qt: the window and the command line read it before
torch is loaded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from gradviz.config import ConfigError, ModelSetup, RunConfig

THREADS_ENV = "GRADVIZ_TRAINER_THREADS"
POLICY_ENV = "GRADVIZ_THREAD_POLICY"
POLICIES = ("one", "cores", "adaptive")
DEFAULT_POLICY = "adaptive"  # docs/PERFORMANCE.md: scripts/busy_bench.py measures each one
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
SPIN_ENV = "GOMP_SPINCOUNT"
SPIN_COUNT = "1000"  # libgomp's spins before a thread sleeps (its default is 300,000: about 3 ms)
# With the adaptive policy's governor (Linux), which gives up the contested thread beside busy
# processes, idle threads may spin longer: about 100 us bridges the gap between two of a
# step's operations, so an idle machine wakes no sleeping thread (docs/PERFORMANCE.md).
GOVERNED_SPIN_COUNT = "10000"
# The gate product batch x hidden x (gates x hidden) below which a second thread buys nothing:
# an LSTM with H=128 at batch 64 is 64 * 128 * 512 = 4.2 M multiply-adds per time step.
SMALL_WORK = 8 * 2**20
# Above this product (the default demo's LSTM, H=32 at batch 64, is 64 * 32 * 128 = 0.26 M; H=64
# is 1 M) the ``cores`` and ``adaptive`` policies give torch every core.
MULTI_WORK = 2**19
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
# A fused step's batch is split into parts of at least this many sequences (fewer rows make
# the matrix products too thin to pay).
MIN_PART_ROWS = 16


def core_count() -> int:
    """The cores this process may use (its affinity, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def threads_override(environ: Mapping[str, str] | None = None, cores: int | None = None) -> int | None:
    """``GRADVIZ_TRAINER_THREADS`` as a thread count bounded by the cores, or None when unset.
    A value that is not a whole number from 1 up raises ConfigError (one line)."""
    text = (os.environ if environ is None else environ).get(THREADS_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{THREADS_ENV} must be a whole number of threads, 1 or more, got {text!r}")
    return min(int(text), core_count() if cores is None else cores)


def override_note(environ: Mapping[str, str] | None = None, cores: int | None = None) -> str | None:
    """The line that says an override was bounded by the cores (None when it was not). A bad
    ``GRADVIZ_TRAINER_THREADS`` or ``GRADVIZ_THREAD_POLICY`` raises ConfigError (one line): the
    command line calls this before any work."""
    environ = os.environ if environ is None else environ
    thread_policy(environ)
    cores = core_count() if cores is None else cores
    bounded = threads_override(environ, cores)
    text = environ.get(THREADS_ENV, "").strip()
    if bounded is not None and int(text) > bounded:
        return f"{THREADS_ENV}={text} is more than this machine's {cores} cores: torch uses {bounded} threads"
    return None


def thread_policy(environ: Mapping[str, str] | None = None) -> str:
    """``GRADVIZ_THREAD_POLICY`` if it names a policy, else ``DEFAULT_POLICY``; a value that
    names none raises ConfigError (one line)."""
    text = (os.environ if environ is None else environ).get(POLICY_ENV, "").strip()
    if not text:
        return DEFAULT_POLICY
    if text not in POLICIES:
        raise ConfigError(f"{POLICY_ENV} must be one of {', '.join(POLICIES)}, got {text!r}")
    return text


def model_work(batch: int, setup: ModelSetup) -> int:
    """Multiply-adds of one model's recurrent gate product per time step."""
    return batch * setup.model.hidden * GATES.get(setup.model.kind, 4) * setup.model.hidden


def gate_work(config: RunConfig) -> int:
    """Multiply-adds of the largest model's recurrent gate product per time step."""
    return max(model_work(config.task.batch, setup) for setup in config.models)


def torch_threads(config: RunConfig | None = None, cores: int | None = None, reserve: int = 0,
                  environ: Mapping[str, str] | None = None) -> int:
    """Intra-op threads for training ``config`` (None: a model of unknown size, as small ones).

    ``reserve`` cores are left to other work of gradviz's own (the window's trainer leaves the
    window one). ``GRADVIZ_TRAINER_THREADS`` overrides the choice; a bad value was already
    refused by the command line and falls back to the policy here.
    """
    cores = core_count() if cores is None else cores
    try:
        forced = threads_override(environ, cores)
    except ConfigError:
        forced = None
    if forced is not None:
        return forced
    try:
        policy = thread_policy(environ)
    except ConfigError:
        policy = DEFAULT_POLICY
    if policy == "adaptive" and not can_govern():
        # No governor to give up a contested thread (no /proc/stat): the one-thread counts, which
        # need none (beside one busy process 0.95-1.08x their time alone, docs/PERFORMANCE.md).
        policy = "one"
    work = 0 if config is None else gate_work(config)
    if policy != "one":
        return 1 if work <= MULTI_WORK else max(1, cores - reserve)
    if work <= SMALL_WORK:
        return 1
    # Larger models: a thread per SMALL_WORK of the product, up to the cores left.
    wanted = -(-work // SMALL_WORK)
    return max(1, min(wanted, cores - reserve))


def set_wait_policy(environ: MutableMapping[str, str] | None = None) -> None:
    """Idle OpenMP threads spin briefly, then sleep, unless the user chose otherwise. Call it
    before torch is imported: OpenMP reads the variables once, when torch loads it.

    PASSIVE alone (sleep at once) made 2 threads 2.5-3x slower on an idle machine than OpenMP's
    default (LSTM H=64: 4.4 s against 1.5 s for 200 steps): every one of a step's thousands of
    small operations woke a sleeping thread. libgomp (Linux) takes ``GOMP_SPINCOUNT`` over the
    wait policy: ``SPIN_COUNT`` spins (microseconds) keep it as fast as spinning alone (1.7 s),
    while beside a busy process it is far cheaper than the default's 3 ms of spinning (5.5 s
    against 7.5 s; PASSIVE 2.8 s). Where the adaptive policy's governor gives up the contested
    thread, ``GOVERNED_SPIN_COUNT``: measured in one run with the governor, LSTM H=128 alone
    took 1.16x the default's time with 1000 spins and 1.03x with 10,000, and beside busy
    processes the three were alike (docs/PERFORMANCE.md).
    Other OpenMP runtimes (macOS, Windows) ignore it and keep PASSIVE."""
    environ = os.environ if environ is None else environ
    if WAIT_POLICY_ENV not in environ:  # a wait policy the user set is theirs, spin count included
        environ[WAIT_POLICY_ENV] = "PASSIVE"
        environ.setdefault(SPIN_ENV, GOVERNED_SPIN_COUNT if governed(environ) else SPIN_COUNT)


def governed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether training here has the adaptive policy's governor (with more than one thread):
    ``adaptive``, no ``GRADVIZ_TRAINER_THREADS``, and a machine whose load it can read."""
    try:
        return thread_policy(environ) == "adaptive" and threads_override(environ) is None and can_govern()
    except ConfigError:
        return False


def batch_parts(config: RunConfig, setup: ModelSetup) -> int:
    """Into how many parts a fused step of ``setup``'s model splits its batch, each part on a
    thread of its own (``engine/batchsplit.py``): as many as ``apply_threads`` gave torch, for
    models above ``MULTI_WORK`` (smaller ones gain nothing from a second thread), at least
    ``MIN_PART_ROWS`` sequences a part; 1 (no split) before ``apply_threads`` was called.
    Fixed for a run: the parts, and so a fused step's numbers, never change with the machine's
    load (the same machine and command give the same parts)."""
    work = model_work(config.task.batch, setup)
    if _applied is None or _applied < 2 or work <= MULTI_WORK:
        return 1
    return max(1, min(_applied, config.task.batch // MIN_PART_ROWS))


@contextmanager
def one_op_thread() -> Iterator[None]:
    """torch's operations on one thread inside (work split into parts, ``workers.py``: the
    parts are the threads), the count before restored after."""
    import torch

    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def apply_threads(threads: int, environ: Mapping[str, str] | None = None) -> None:
    """Give torch ``threads`` intra-op threads (torch is imported here if it was not). Under the
    ``adaptive`` policy, with more than one thread and no ``GRADVIZ_TRAINER_THREADS``, training
    steps (``tick``) then lower the count while other processes hold cores, and raise it back."""
    global _governor, _applied
    set_wait_policy()
    import torch

    _applied = threads

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _governor = Governor(threads, torch.set_num_threads) if threads > 1 and governed(environ) else None


def can_govern() -> bool:
    """Whether the adaptive policy's governor can read the machine's load (Linux)."""
    return Path(PROC_STAT).exists()


def tick() -> None:
    """Called by every training step: lets the adaptive policy look at the machine (about
    once a second; otherwise nothing)."""
    if _governor is not None:
        _governor.tick()


PROC_STAT = "/proc/stat"
CHECK_SECONDS = 1.0
FIRST_CHECK_SECONDS = 0.25


def busy_seconds(stat_text: str, ticks_per_second: float) -> float:
    """CPU seconds every core has spent busy (not idle, not waiting for I/O) since boot, from
    the first line of /proc/stat."""
    fields = [int(value) for value in stat_text.split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / ticks_per_second


class Governor:
    """Threads for torch as the cores others leave free: every ``CHECK_SECONDS`` it compares the
    machine's busy CPU time with this process's own over the interval; what others used, in
    cores, rounded, is taken off ``wanted`` (at least one thread is kept). The clock, the
    readings and the setter are parameters so that a test can fake them."""

    def __init__(self, wanted: int, set_threads: Callable[[int], None], cores: int | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 machine: Callable[[], float] | None = None,
                 own: Callable[[], float] | None = None):
        self.wanted = wanted
        self.threads = wanted
        self.cores = cores if cores is not None else (os.cpu_count() or 1)
        self._set = set_threads
        self._clock = clock
        self._machine = machine or _machine_busy_seconds
        self._own = own or _own_cpu_seconds
        self._last = (clock(), self._machine(), self._own())
        self._interval = FIRST_CHECK_SECONDS  # a short first look: a run of a few seconds counts too

    def tick(self) -> None:
        now = self._clock()
        if now - self._last[0] < self._interval:
            return
        self._interval = CHECK_SECONDS
        machine, own = self._machine(), self._own()
        wall = now - self._last[0]
        others = max(0.0, (machine - self._last[1]) - (own - self._last[2])) / wall  # in cores
        self._last = (now, machine, own)
        threads = max(1, min(self.wanted, self.cores - round(others)))
        if threads != self.threads:
            self.threads = threads
            self._set(threads)


def _machine_busy_seconds() -> float:
    with open(PROC_STAT, encoding="ascii") as stat:
        return busy_seconds(stat.readline(), os.sysconf("SC_CLK_TCK"))


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


_governor: Governor | None = None
_applied: int | None = None  # the count apply_threads gave torch (None: never called)
