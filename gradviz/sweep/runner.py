"""Run a sweep's pending cells in child processes, J at a time, saving after every run.

Each run gets a fresh process (forked from a clean fork server or spawned: no state, no torch
threads or CUDA context inherited from the parent), with the threads ``gradviz.threads`` gives
its model on ``cores // J`` cores. On a GPU the children share the device. The children ignore
Ctrl-C; the parent, on KeyboardInterrupt (or the window, on Stop), terminates them and keeps the
file as last saved: every finished run. A child whose parent dies (SIGKILL, a closed terminal)
ends at once (``gradviz.forkserver.child_setup``).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from gradviz.forkserver import (
    child_setup,
    context,
    death_signal_safe,
    describe_exit,
    interrupts_held,
    start_method,
)
from gradviz.sweep.job import train_one
from gradviz.sweep.results import SweepResults
from gradviz.threads import core_count, torch_threads

Cell = tuple[int, int, int]
STOP_GRACE_S = 5.0  # how long stop() waits for a terminated run before it kills it


class SweepRunError(RuntimeError):
    """A run of the sweep failed in its process; the message names the run and the error."""


def _train_in_child(result: Connection, config_json: str, steps: int, threads: int, death_signal: bool) -> None:
    """A child's whole life: train one run and send back (final loss, seconds, error text)."""
    child_setup(threads, death_signal)
    try:
        final_loss, seconds = train_one(config_json, steps)
    except Exception as exc:  # noqa: BLE001 - reported by the parent, naming the run
        result.send((math.nan, 0.0, f"{type(exc).__name__}: {exc}"))
    else:
        result.send((final_loss, seconds, ""))
    result.close()
    # Leave at once: a spawned interpreter would otherwise tear torch down, seconds on a busy
    # machine while the sweep waits to join it (a forked one leaves through os._exit anyway).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def describe_cell(results: SweepResults, cell: Cell) -> str:
    model, length, seed = cell
    return f"{results.config.labels[model]} T={results.config.seq_lens[length]} seed {seed}"


class SweepPool:
    """A sweep's pending runs, each training in a process of its own, ``jobs`` at a time.

    ``collect`` records and saves the runs that finished since the last call and starts the
    next ones; the command line waits on it, the window polls it from a timer (``timeout=0``),
    so neither needs a thread of its own. ``stop`` ends the runs in flight; the file keeps every
    run that finished. Each child holds the only writing end of its result pipe, so a child
    that dies without a result (killed, out of memory) is seen at once, as the end of its
    pipe, and ends the sweep with SweepRunError instead of leaving it waiting. (A
    multiprocessing.Pool would wait forever for the lost run, and concurrent.futures'
    max_tasks_per_child can hang on Python 3.11, cpython#115634.)
    """

    def __init__(self, results: SweepResults, out: Path, jobs: int, device: str = "auto"):
        self.results, self.out = results, Path(out)
        pending = results.pending()
        results.save(self.out)  # the file exists from the start: a resumable sweep, even if none finishes
        self.jobs = max(1, min(jobs, len(pending) or 1))
        self._cores = max(1, core_count() // self.jobs)
        self._method = start_method()
        self._context = context(self._method)
        self._device = device
        # Cells only: each run's config is built as it starts (10,000 of them built up front took
        # seconds, on the window's thread for a tab sweep).
        self._waiting = deque(pending)
        self._running: dict[Cell, tuple[BaseProcess, Connection]] = {}
        try:
            self._start_next()
        except BaseException:  # a stop signal held over a start is raised here: end what started
            self.stop()
            raise

    @property
    def running(self) -> bool:
        return bool(self._running)

    def processes(self) -> list[BaseProcess]:
        """The runs' processes now (for tests that check none is left behind)."""
        return [process for process, _ in self._running.values()]

    def _start_next(self) -> None:
        while self._waiting and len(self._running) < self.jobs:
            cell = self._waiting.popleft()
            config = self.results.config
            run = config.run_config(config.models[cell[0]], config.seq_lens[cell[1]], cell[2], self._device)
            config_json, threads = run.to_json(), torch_threads(run, cores=self._cores)
            receive, send = self._context.Pipe(duplex=False)
            process = self._context.Process(target=_train_in_child, daemon=True,  # never outlives the parent
                                            args=(send, config_json, self.results.config.steps, threads,
                                                  death_signal_safe(self._method)))
            # Recorded before it starts: a signal that interrupts a start (the first waits for the
            # fork server to import torch) still finds it in stop(), which ends it if it began.
            self._running[cell] = (process, receive)
            try:
                with interrupts_held(self._method == "spawn"):
                    process.start()
            finally:
                send.close()  # the child's is now the only writing end: its death closes the pipe

    def collect(self, timeout: float | None = None) -> list[Cell]:
        """Record (and save) every run that has finished, and start the next ones; wait up to
        ``timeout`` seconds for the first (None: until one finishes). Raises SweepRunError when
        a run failed or its process died, after stopping the others."""
        cells: list[Cell] = []
        patience = timeout
        while self._running:
            ready = wait([pipe for _, pipe in self._running.values()], timeout=patience)
            if not ready:
                break
            for cell, (process, pipe) in list(self._running.items()):
                if pipe not in ready:
                    continue
                try:
                    answer = pipe.recv()
                except EOFError:  # the child died before it answered
                    answer = None
                del self._running[cell]
                pipe.close()
                process.join()
                final_loss, seconds, error = answer or (
                    math.nan, 0.0, f"its process {describe_exit(process.exitcode)} before it sent its result")
                if error:
                    self.stop()
                    raise SweepRunError(f"{describe_cell(self.results, cell)} failed: {error}")
                self.results.record(cell, final_loss, seconds)
                self.results.save(self.out)  # each run kept the moment it is known
                cells.append(cell)
            self._start_next()
            patience = 0  # then take whatever else is ready, without waiting
        return cells

    def stop(self) -> None:
        """End the runs in flight now (terminated and reaped); start no more."""
        self._waiting.clear()
        running, self._running = list(self._running.values()), {}
        for process, _ in running:
            if process.pid is not None:  # a start cut short by a signal never began
                process.terminate()
        for process, pipe in running:
            if process.pid is not None:
                process.join(STOP_GRACE_S)
                if process.exitcode is None:  # SIGTERM ignored (still starting, say): no run outlives stop()
                    process.kill()
                    process.join()
            pipe.close()


def run_sweep(
    results: SweepResults,
    out: Path,
    jobs: int,
    device: str = "auto",
    on_result: Callable[[Cell], None] | None = None,
) -> None:
    """Train every pending cell of ``results``, ``jobs`` at a time, saving ``out`` after each.

    Raises KeyboardInterrupt (after stopping the children) on Ctrl-C, SweepRunError when a
    run fails; either way ``out`` holds every run that finished.
    """
    pool = SweepPool(results, out, jobs, device)
    try:
        while pool.running:
            for cell in pool.collect():
                if on_result is not None:
                    on_result(cell)
    finally:
        pool.stop()  # Ctrl-C or a failed run: stop the others now (a no-op when all finished)


class SweepProgress:
    """A progress bar on stderr: one line redrawn on a terminal, a line per run otherwise."""

    def __init__(self, results: SweepResults, quiet: bool = False, stream=None):
        self.results, self.quiet = results, quiet
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.total = results.done.size
        self.done_before = int(results.done.sum())
        self.started = time.perf_counter()

    def __call__(self, cell: Cell) -> None:
        if self.quiet:
            return
        done = int(self.results.done.sum())
        width = 24
        filled = int(width * done / self.total)
        loss = self.results.final_loss[cell]
        verdict = "learned" if self.results.succeeded(cell) else "not learned"
        elapsed = time.perf_counter() - self.started
        new = done - self.done_before
        eta = elapsed / new * (self.total - done) if new else 0.0
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} runs  "
                f"{describe_cell(self.results, cell)}: loss {loss:.3g} ({verdict})  "
                f"{elapsed:.0f} s, about {eta:.0f} s left")
        if self.tty:
            print("\r" + line + "\033[K", end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet:
            print(file=self.stream)
