"""A sweep's results and its file: what finished, each run's final loss, and the success rates.

File layout (one ``.npz``, never pickle; M models, N sequence lengths, S seeds):

    format            "gradviz-sweep/1"
    config_json       the SweepConfig as JSON text (a resumed sweep must match it)
    models (M,)       the cell kinds: rnn, lstm, gru;   labels (M,)  legend labels
    seq_lens (N,)     the lengths T, ascending
    success (M, N)    fraction of the finished seeds whose final loss is below the threshold
                      (NaN where no seed has finished)
    final_loss (M, N, S)  mean loss of each run's last 5% of steps (NaN: not run yet;
                      inf: the run diverged)
    done (M, N, S)    whether the run finished
    seconds (M, N, S) its training time
    baseline (N,)     the task's memoryless loss at each T;  threshold (N,) the loss to beat

The file is rewritten (atomically) after every finished run, so an interrupted sweep, even a
killed one, keeps everything that finished. A write that fails mid-sweep (a full or read-only
disk) goes to a fallback file beside it or in the temp folder, as train's result does, and the
later saves follow it there; ``notes`` says where. ``load`` reads through ``reader.py``, which
trusts nothing in the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gradviz.io.atomic import atomic_write, write_with_fallback
from gradviz.sweep.grid import FORMAT, SweepConfig
from gradviz.sweep.reader import SweepFileError, read_sweep
from gradviz.tasks import make_task

__all__ = ["SweepFileError", "SweepResults"]


class SweepResults:
    """The grid's outcome so far; ``record`` fills one run in."""

    def __init__(self, config: SweepConfig):
        self.config = config
        self.seq_lens = np.array(config.seq_lens, dtype=np.int64)
        self.final_loss = np.full(config.shape, np.nan)
        self.done = np.zeros(config.shape, dtype=bool)
        self.seconds = np.full(config.shape, np.nan)
        self.baseline = np.array(
            [make_task(config.task, seq_len, config.distance).baseline().loss for seq_len in config.seq_lens]
        )
        self.threshold = np.array([config.threshold.loss(b) for b in self.baseline])
        self.notes: list[str] = []  # where saves went instead of their path (a full disk), in order
        self._moved: dict[Path, Path] = {}  # a path whose write failed -> the fallback file written instead

    def record(self, cell: tuple[int, int, int], final_loss: float, seconds: float) -> None:
        self.final_loss[cell] = final_loss if np.isfinite(final_loss) else np.inf
        self.seconds[cell] = seconds
        self.done[cell] = True

    def succeeded(self, cell: tuple[int, int, int]) -> bool:
        return bool(self.done[cell] and self.final_loss[cell] < self.threshold[cell[1]])

    @property
    def learned(self) -> np.ndarray:
        """(M, N, S) the runs that finished below their T's threshold."""
        return self.done & (self.final_loss < self.threshold[None, :, None])

    @property
    def success(self) -> np.ndarray:
        """(M, N) fraction of finished seeds below the threshold; NaN where none finished."""
        finished = self.done.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(finished > 0, self.learned.sum(axis=2) / np.maximum(finished, 1), np.nan)

    @property
    def complete(self) -> bool:
        return bool(self.done.all())

    def pending(self) -> list[tuple[int, int, int]]:
        """The cells still to run, in the config's order."""
        return [cell for cell in self.config.cells() if not self.done[cell]]

    # ---- the file ------------------------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "format": np.array(FORMAT),
            "config_json": np.array(self.config.to_json()),
            "models": np.array(self.config.models),
            "labels": np.array(self.config.labels),
            "seq_lens": self.seq_lens,
            "success": self.success,
            "final_loss": self.final_loss,
            "done": self.done,
            "seconds": self.seconds,
            "baseline": self.baseline,
            "threshold": self.threshold,
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the file atomically (a crash mid-save leaves the previous version); returns the
        path written. A write the disk refuses (full, read-only) goes to a fallback file, and so
        do the later saves to ``path``: no finished run is lost, and ``notes`` says where."""
        arrays = self.arrays()

        def write(stream) -> None:
            np.savez(stream, **arrays)

        target = Path(path)
        moved = self._moved.get(target)
        if moved is not None:
            try:
                return atomic_write(moved, write, force=True)
            except OSError:
                pass  # that place failed too: look for another, as the first time
        written, note = write_with_fallback(target, write, force=True)
        if note is not None:
            self._moved[target] = written
            self.notes.append(note)
        return written

    def saved_path(self, path: str | os.PathLike) -> Path:
        """Where the saves to ``path`` really are: ``path``, or its fallback file."""
        return self._moved.get(Path(path), Path(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> SweepResults:
        """Read a sweep file; raises SweepFileError (one line) naming what is wrong."""
        config, arrays = read_sweep(path)
        results = cls(config)
        results.done = arrays["done"].astype(bool)
        # Runs not finished hold no result, whatever the file says there.
        results.final_loss = np.where(results.done, arrays["final_loss"].astype(np.float64), np.nan)
        results.seconds = np.where(results.done, arrays["seconds"].astype(np.float64), np.nan)
        return results

    def summary(self) -> str:
        """A table: success rate per model and T, with the threshold per T."""
        width = max(len(label) for label in self.config.labels)
        head = " " * width + "".join(f"{f'T={t}':>9}" for t in self.config.seq_lens)
        lines = [head]
        for label, row in zip(self.config.labels, self.success, strict=True):
            cells = "".join(f"{'-' if np.isnan(rate) else f'{rate:.2f}':>9}" for rate in row)
            lines.append(f"{label:<{width}}{cells}")
        lines.append(f"{'loss <':<{width}}" + "".join(f"{t:>9.3g}" for t in self.threshold))
        return "\n".join(lines)
