"""Run a sweep's pending cells in child processes, J at a time, saving after every run.

Each run gets a fresh process (``maxtasksperchild=1``, forked from a clean fork server: no
state, no torch threads or CUDA context inherited from the parent), with ``cores // J`` torch
threads.
On a GPU the children share the device. The children ignore Ctrl-C; the parent, on
KeyboardInterrupt (or the window, on Stop), terminates them and keeps the file as last saved:
every finished run.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gradviz.forkserver import context
from gradviz.sweep.job import init_worker, train_one
from gradviz.sweep.results import SweepResults

Cell = tuple[int, int, int]


class SweepRunError(RuntimeError):
    """A run of the sweep failed in its process; the message names the run and the error."""


def core_count() -> int:
    """The cores this process may use (its affinity, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _run_cell(job: tuple[Cell, str, int]) -> tuple[Cell, float, float, str]:
    """In the child: train one cell; an error comes back as text (with the cell it hit)."""
    cell, config_json, steps = job
    try:
        final_loss, seconds = train_one(config_json, steps)
    except Exception as exc:  # noqa: BLE001 - reported by the parent, naming the run
        return cell, float("nan"), 0.0, f"{type(exc).__name__}: {exc}"
    return cell, final_loss, seconds, ""


def describe_cell(results: SweepResults, cell: Cell) -> str:
    model, length, seed = cell
    return f"{results.config.labels[model]} T={results.config.seq_lens[length]} seed {seed}"


class SweepPool:
    """A sweep's pending runs training in child processes, ``jobs`` at a time.

    ``collect`` records and saves the runs that finished since the last call; the command line
    waits on it, the window polls it from a timer (``timeout=0``), so neither needs a thread of
    its own. ``stop`` ends the runs in flight; the file keeps every run that finished.
    """

    def __init__(self, results: SweepResults, out: Path, jobs: int, device: str = "auto"):
        self.results, self.out = results, Path(out)
        config = results.config
        pending = results.pending()
        results.save(self.out)  # the file exists from the start: a resumable sweep, even if none finishes
        self.remaining = len(pending)
        self.jobs = max(1, min(jobs, len(pending) or 1))
        self._pool = None
        if not pending:
            return
        threads = max(1, core_count() // self.jobs)
        work = [
            (cell, config.run_config(config.models[cell[0]], config.seq_lens[cell[1]], cell[2], device).to_json(),
             config.steps)
            for cell in pending
        ]
        self._pool = context().Pool(self.jobs, initializer=init_worker, initargs=(threads,), maxtasksperchild=1)
        self._finished = self._pool.imap_unordered(_run_cell, work)

    @property
    def running(self) -> bool:
        return self._pool is not None

    def collect(self, timeout: float | None = None) -> list[Cell]:
        """Record (and save) every run that has finished; wait up to ``timeout`` seconds for
        the first (None: until one finishes). Raises SweepRunError when a run failed, after
        stopping the others."""
        cells: list[Cell] = []
        wait = timeout
        while self._pool is not None and self.remaining:
            try:
                cell, final_loss, seconds, error = self._finished.next(wait)
            except multiprocessing.TimeoutError:
                break
            if error:
                self.stop()
                raise SweepRunError(f"{describe_cell(self.results, cell)} failed: {error}")
            self.results.record(cell, final_loss, seconds)
            self.results.save(self.out)  # each run kept the moment it is known
            self.remaining -= 1
            cells.append(cell)
            wait = 0  # then take whatever else is ready, without waiting
        if self._pool is not None and not self.remaining:
            self._pool.close()
            self._pool.join()
            self._pool = None
        return cells

    def stop(self) -> None:
        """End the runs in flight now (their processes are terminated and reaped)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.terminate()
            pool.join()


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
