"""Where child processes come from (the window's trainers, the sweep's runs): a fork server
that has imported torch, started early.

``forkserver`` (a clean server process that has imported gradviz and torch but run nothing)
forks each child in a fraction of a second, where the platform has it; elsewhere ``spawn``
starts a fresh interpreter each time. A process has one fork server, so its preload serves
every kind of child. Importing torch takes the server seconds; ``warm_up``
starts it in the background the moment the app starts, so that import overlaps the window's own
start instead of following it. This module imports neither torch nor Qt, so it can run first.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading

START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
# Imported once by the server, so each trainer starts without importing torch again (torch
# imports its compiler, torch._dynamo, on the first optimiser: seconds).
PRELOAD = ["gradviz.session.trainer", "gradviz.sweep.runner", "torch._dynamo"]


def context(method: str = START_METHOD):
    """The multiprocessing context children start from."""
    chosen = multiprocessing.get_context(method)
    if method == "forkserver":
        chosen.set_forkserver_preload(PRELOAD)
    return chosen


def core_count() -> int:
    """The cores this process may use (its affinity, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def torch_threads(cores: int | None = None) -> int:
    """Intra-op threads for the trainer: every core but one, which the window paints on
    (``GRADVIZ_TRAINER_THREADS`` overrides it, to measure the choice)."""
    if cores is None and os.environ.get("GRADVIZ_TRAINER_THREADS", "").isdigit():
        return max(1, int(os.environ["GRADVIZ_TRAINER_THREADS"]))
    return max(1, (core_count() if cores is None else cores) - 1)


def child_setup(threads: int) -> None:
    """First thing in a child: Ctrl-C is the parent's to handle (it stops its children), and
    torch uses ``threads`` cores, so that children beside each other do not fight over them."""
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)


def describe_exit(exitcode: int | None) -> str:
    """How a child process ended, in words that follow its name ("the trainer process ...")."""
    if exitcode is None:
        return "is still running"
    if exitcode >= 0:
        return f"exited with code {exitcode}"
    number = -exitcode
    name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
    if number == signal.SIGKILL:
        return f"was killed by signal {number} ({name}; the system may have run out of memory)"
    if number == signal.SIGSEGV:
        return f"crashed ({name})"
    return f"was ended by {name}"


def warm_up() -> None:
    """Start the fork server now, without waiting for it (a no-op where there is none)."""
    if START_METHOD != "forkserver":
        return
    context()
    from multiprocessing import forkserver

    threading.Thread(target=forkserver.ensure_running, name="gradviz-forkserver", daemon=True).start()
