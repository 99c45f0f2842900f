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


def warm_up() -> None:
    """Start the fork server now, without waiting for it (a no-op where there is none)."""
    if START_METHOD != "forkserver":
        return
    context()
    from multiprocessing import forkserver

    threading.Thread(target=forkserver.ensure_running, name="gradviz-forkserver", daemon=True).start()
