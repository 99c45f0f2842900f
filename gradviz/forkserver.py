"""Where child processes come from (the window's trainers, the sweep's runs), and how they die
with their parent.

The start method depends on the platform (``choose_start_method``): Linux uses ``forkserver``,
a clean server process that has imported gradviz and torch but run nothing and forks each child
in a fraction of a second; Windows has only ``spawn`` (a fresh interpreter per child) and macOS
uses it too, since forking after Apple's frameworks have loaded is unsafe.
``GRADVIZ_START_METHOD=spawn|forkserver`` forces one (CI runs the process tests under both).
Under either, a child gets only its pickled arguments and the gradviz package: nothing else
of its parent's state.

A child must never outlive its parent, whatever ends the parent (a closed terminal, SIGKILL, a
crash). ``child_setup`` arranges it twice: a thread that waits on ``parent_process()``'s
sentinel (every platform; it becomes ready the moment the parent's process ends) and, on Linux,
``PR_SET_PDEATHSIG`` (the kernel kills the child when the process or thread that forked it
ends, even while the child is busy in a long step). ``os.kill(pid, 0)`` is not used: on Windows
signal 0 is CTRL_C_EVENT, sent to the whole console group.

Importing torch takes the fork server seconds; ``warm_up`` starts it in the background the
moment the app starts. This module imports neither torch nor Qt, so it can run first.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager

from gradviz.config import ConfigError
from gradviz.threads import apply_threads, set_wait_policy

START_ENV = "GRADVIZ_START_METHOD"
START_METHODS = ("forkserver", "spawn")
# Imported once by the server, so each trainer starts without importing torch again (torch
# imports its compiler, torch._dynamo, on the first optimiser: seconds).
PRELOAD = ["gradviz.session.trainer", "gradviz.sweep.runner", "torch._dynamo", "gradviz.serverexit"]
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
EXIT_PARENT_GONE = 3  # nobody reads it: the parent is gone


def choose_start_method(platform: str, available: Sequence[str], forced: str | None = None) -> str:
    """The start method for ``platform`` (``sys.platform``) given the methods it has; ``forced``
    is ``GRADVIZ_START_METHOD``'s value. A pure function, so that the choice for Windows and
    macOS is tested on Linux."""
    if forced is not None and forced.strip():
        method = forced.strip().lower()
        if method not in START_METHODS:
            raise ConfigError(f"{START_ENV} must be spawn or forkserver, got {forced.strip()!r}")
        if method not in available:
            raise ConfigError(f"{START_ENV}={method}: this system ({platform}) has no {method}; use spawn")
        return method
    if platform == "win32" or platform == "darwin":
        return "spawn"
    return "forkserver" if "forkserver" in available else "spawn"


def start_method() -> str:
    """This machine's start method (raises ConfigError for a bad ``GRADVIZ_START_METHOD``)."""
    return choose_start_method(sys.platform, multiprocessing.get_all_start_methods(), os.environ.get(START_ENV))


def __getattr__(name: str) -> str:
    # START_METHOD is read when asked for, not at import: a bad GRADVIZ_START_METHOD is then a
    # one-line error where a command starts, never a traceback while importing.
    if name == "START_METHOD":
        return start_method()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def context(method: str | None = None):
    """The multiprocessing context children start from (this machine's method by default)."""
    method = method or start_method()
    set_wait_policy()  # before the fork server or a spawned child imports torch (gradviz.threads)
    chosen = multiprocessing.get_context(method)
    if method == "forkserver":
        chosen.set_forkserver_preload(PRELOAD)
    return chosen


def death_signal_safe(method: str) -> bool:
    """Whether a child started now may ask the kernel to kill it when its parent ends.

    Linux sends the parent-death signal when the *thread* that forked the child ends. Under
    forkserver that is the server's main thread, which lives as long as the server; under spawn
    it is the thread calling ``start()``, safe only if that is the main thread.
    """
    return method == "forkserver" or threading.current_thread() is threading.main_thread()


def set_death_signal() -> bool:
    """Linux: SIGKILL this process when its parent ends. False where the system has no such
    call (macOS, Windows) or it failed; the parent watch covers those."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(grace_s: float = 0.0) -> threading.Event | None:
    """In a child: a thread that sets the returned event the moment the parent process ends,
    and ends this process ``grace_s`` seconds later (time for its own loop to stop cleanly).
    None in a process that has no multiprocessing parent."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return None
    gone = threading.Event()

    def watch() -> None:
        parent.join()  # waits on the sentinel: ready once every handle of the parent is closed
        gone.set()
        time.sleep(grace_s)
        os._exit(EXIT_PARENT_GONE)

    threading.Thread(target=watch, name="gradviz-parent-watch", daemon=True).start()
    return gone


def child_setup(threads: int | None, death_signal: bool, grace_s: float = 0.0) -> threading.Event | None:
    """First thing in a child: Ctrl-C and a closed terminal (SIGHUP), which reach the whole
    process group, are the parent's to handle (it stops its children); SIGTERM ends the child
    quietly, whatever handler a spawned child's re-imported main module set; the child dies with
    its parent (``watch_parent``, and ``set_death_signal`` when ``death_signal``); torch gets
    ``threads`` threads (None: the caller chooses later). Returns the event set when the
    parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if death_signal:
        set_death_signal()
    gone = watch_parent(grace_s)
    if threads is not None:
        apply_threads(threads)
    return gone


class _Held:
    """Exceptions that signal handlers raise, held while a process starts (``interrupt``)."""

    exceptions: list[BaseException] | None = None


@contextmanager
def interrupts_held(hold: bool = True):
    """While a spawned process starts, an exception a signal handler raises through
    ``interrupt`` waits until the start is over, and is raised then: cut short after the new
    interpreter exists but before it has its instructions, the child would die with a
    traceback on the user's terminal, and the parent would not know its pid to end it. (A
    start under forkserver may wait seconds for the server's torch import: ``hold=False`` keeps
    it interruptible; a child forked for a parent that has gone ends by itself.)"""
    if not hold or _Held.exceptions is not None:
        yield
        return
    _Held.exceptions = []
    try:
        yield
    finally:
        held, _Held.exceptions = _Held.exceptions, None
        if held:
            raise held[0]


def interrupt(exception: BaseException) -> None:
    """Raise ``exception`` from a signal handler now, or once a process start is over."""
    if _Held.exceptions is not None:
        _Held.exceptions.append(exception)
        return
    raise exception


def describe_exit(exitcode: int | None) -> str:
    """How a child process ended, in words that follow its name ("the trainer process ...")."""
    if exitcode is None:
        return "is still running"
    if exitcode >= 0:
        return f"exited with code {exitcode}"
    number = -exitcode
    name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
    if number == getattr(signal, "SIGKILL", None):  # Windows has no SIGKILL
        return f"was killed by signal {number} ({name}; the system may have run out of memory)"
    if number == signal.SIGSEGV:
        return f"crashed ({name})"
    return f"was ended by {name}"


def warm_up() -> None:
    """Start the fork server now, without waiting for it (a no-op where there is none)."""
    if start_method() != "forkserver":
        return
    context("forkserver")
    from multiprocessing import forkserver

    threading.Thread(target=forkserver.ensure_running, name="gradviz-forkserver", daemon=True).start()


def unpicklable(value: object, name: str) -> str | None:
    """Why ``value`` cannot be sent to a new process (pickled), naming it as ``name``; None if it can."""
    import pickle

    try:
        pickle.dumps(value)
    except Exception as exc:  # noqa: BLE001 - any failure to pickle is the answer
        return f"{name} cannot be sent to a new process ({type(exc).__name__}: {exc})"
    return None
