"""How many threads torch may use, and how its idle threads wait: one policy for every process
that trains (``gradviz train``, ``probe``, ``bench``, a sweep's runs, the window's trainer).

Torch's intra-op pool (OpenMP, on Linux libgomp) splits each operation over its threads and
waits for all of them at the end of it. When another program holds a core, one of those threads
runs late and the others spin, burning the very core it needs: measured (issue 20), 200 steps of
an LSTM with H=64 took 7.9 s alone and 24.5 s beside two busy processes with 2 threads, 7.6 s and
10.3 s with 1. Small models gain nothing from a second thread even alone, because their matrices
are too small to split. So:

- one thread while the largest gate product of the run is small (``SMALL_WORK``: the default
  demo, H=64 and H=128 at batch 64), more only for larger models, up to the cores;
- ``OMP_WAIT_POLICY=PASSIVE`` (idle threads sleep instead of spinning) for every process that
  trains; it must be in the environment before torch loads OpenMP, that is before
  ``import torch`` in the process itself and in the fork server (which its children inherit);
- ``GRADVIZ_TRAINER_THREADS=N`` overrides the count, bounded by the cores (a larger value would
  start that many threads per pool, thousands, for nothing).

This module imports neither torch nor Qt: the window and the command line read it before
torch is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

from gradviz.config import ConfigError, RunConfig

THREADS_ENV = "GRADVIZ_TRAINER_THREADS"
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
# The gate product batch x hidden x (gates x hidden) below which a second thread buys nothing:
# an LSTM with H=128 at batch 64 is 64 * 128 * 512 = 4.2 M multiply-adds per time step.
SMALL_WORK = 8 * 2**20
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


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
    """The line that says an override was bounded by the cores (None when it was not)."""
    environ = os.environ if environ is None else environ
    cores = core_count() if cores is None else cores
    bounded = threads_override(environ, cores)
    text = environ.get(THREADS_ENV, "").strip()
    if bounded is not None and int(text) > bounded:
        return f"{THREADS_ENV}={text} is more than this machine's {cores} cores: torch uses {bounded} threads"
    return None


def gate_work(config: RunConfig) -> int:
    """Multiply-adds of the largest model's recurrent gate product per time step."""
    return max(config.task.batch * setup.model.hidden * GATES.get(setup.model.kind, 4) * setup.model.hidden
               for setup in config.models)


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
    if config is None or gate_work(config) <= SMALL_WORK:
        return 1
    # Larger models: a thread per SMALL_WORK of the product, up to the cores left.
    wanted = -(-gate_work(config) // SMALL_WORK)
    return max(1, min(wanted, cores - reserve))


def set_wait_policy(environ: MutableMapping[str, str] | None = None) -> None:
    """Idle OpenMP threads sleep (PASSIVE) unless the user chose otherwise. Call it before torch
    is imported: OpenMP reads the variable once, when torch loads it."""
    (os.environ if environ is None else environ).setdefault(WAIT_POLICY_ENV, "PASSIVE")


def apply_threads(threads: int) -> None:
    """Give torch ``threads`` intra-op threads (torch is imported here if it was not)."""
    set_wait_policy()
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
