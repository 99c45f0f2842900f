"""Run files: a run's configuration and recorded history as one ``.npz`` (never pickle).

Layout (M models, N recorded steps, S thinned training steps, L layers, T timesteps, H units):

    format            "gradviz-run/1"
    config_json       the full RunConfig as JSON text
    labels            (M,) model labels
    baseline, baseline_metric   the task's memoryless scores
    step              (N,) recorded steps;  loss, metric, grad_norm  (M, N) at those steps
    train_step        (S,) training steps;  train_loss, train_metric, train_grad_norm  (M, S)
    model<m>/grad_h   (N, L, T)  mean over the batch of |d l_i/dh_t|, l_i sequence i's decision
                                 loss (see probes/gradients.py, engine/decision.py)
    model<m>/grad_c   (N, L, T)  the same for c_t (LSTM only)
    model<m>/grad_h_all (N, L, T)  the same for each sequence's whole loss (copy, names only)
    model<m>/grad_cause (N, T)   int8 why top-layer grad_h is 0 or not finite: 0 a number,
                                 1 underflow, 2 cut by truncation, 3 padding, 4 overflow,
                                 5 saturated (tanh' = 0), 6 dead ReLU, 7 saturated gates
                                 (probes/causes.py)
    model<m>/gate/<name>  (N, L, T, H)  one sample's gate activations (and cell_state)
    model<m>/mean/<name>  (N, L, T)     batch and unit mean per timestep
    model<m>/spectral_radius (N, L), step_factor (N, L)  rho(W_hh's candidate block); the
                                 measured per-step Jacobian norm (probes/jacobian.py)
    model<m>/half_life (N,)      of grad_c (LSTM) or grad_h, its far regime (probes/halflife.py);
    model<m>/near_half_life (N,), near_steps (N,)  two regimes: the near one (0 steps: one)
    model<m>/underflow_steps (N,) real underflow only (not saturation);  truncated_steps (N,)  cut by truncation
    model<m>/param_grad_norms (N, P) with model<m>/param_names (P,)
    solved_at_sequences (M,)     tasks with a tolerance (adding): training sequences seen when
                                 every one of 2560 held-out sequences was first within it, NaN
                                 if never (engine/solved.py); absent from older files

Every model has a row at every recorded step; once a model has diverged its rows are NaN
(-1 in integer columns such as underflow_steps).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradviz.config import ConfigError, RunConfig
from gradviz.io.atomic import atomic_write, write_with_fallback
from gradviz.io.npzread import NpzError, open_archive, read_arrays, read_headers
from gradviz.io.runcheck import LayoutError, check_layout, check_preamble
from gradviz.probes.history import RunHistory

FORMAT = "gradviz-run/1"
MAX_UNPACKED_BYTES = 4 * 2**30  # any npz; a run file is also capped by what its config implies


class RunFileError(ValueError):
    """A run file that cannot be read; the message says what is wrong with it."""


def has_state(arrays: dict[str, np.ndarray]) -> bool:
    """Whether a run file holds the model state that training can continue from (the
    ``state/...`` arrays of ``checkpoint.py``), checked without torch."""
    return "state/step" in arrays and "state/generator" in arrays


@dataclass(frozen=True)
class SavedRun:
    """A run file's contents: the validated config and its arrays by name."""

    config: RunConfig
    arrays: dict[str, np.ndarray]

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.arrays["labels"]]


def run_arrays(config: RunConfig, history: RunHistory, baseline: tuple[float, float],
               solved_at: list[float] | None = None) -> dict[str, np.ndarray]:
    """The arrays a run file holds, from a live history (and each model's solved_at_sequences,
    for a task with a tolerance)."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "config_json": np.array(config.to_json()),
        "labels": np.array([setup.label for setup in config.models]),
        "baseline": np.float64(baseline[0]),
        "baseline_metric": np.float64(baseline[1]),
    }
    if solved_at is not None:
        arrays["solved_at_sequences"] = np.asarray(solved_at, dtype=np.float64)
    scalars = history.scalars
    if len(scalars):
        arrays["train_step"] = scalars.column("step")
        for name in ("loss", "metric", "grad_norm"):
            arrays[f"train_{name}"] = scalars.column(name).T  # (M, S)
    buffers = history.probes
    if all(buffer is not None for buffer in buffers):
        arrays["step"] = buffers[0].column("step")
        for name in ("loss", "metric", "grad_norm"):
            arrays[name] = np.stack([buffer.column(name) for buffer in buffers])  # (M, N)
        for index, buffer in enumerate(buffers):
            for name in buffer.names():
                if name not in ("step", "loss", "metric", "grad_norm"):
                    arrays[f"model{index}/{name}"] = buffer.column(name)
            arrays[f"model{index}/param_names"] = np.array(history.param_names[index])
    return arrays


def save_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], force: bool = False) -> Path:
    """Write arrays as a compressed npz, atomically; refuses to overwrite unless ``force``."""
    return atomic_write(path, lambda stream: np.savez_compressed(stream, **arrays), force=force)


def save_arrays_kept(path: str | os.PathLike, arrays: dict[str, np.ndarray], force: bool = False
                     ) -> tuple[Path, str | None]:
    """``save_arrays``, but a write that fails after the work (disk full) is kept elsewhere:
    (path written, a sentence saying where and why, or None)."""
    return write_with_fallback(path, lambda stream: np.savez_compressed(stream, **arrays), force=force)


def save_run(
    path: str | os.PathLike,
    config: RunConfig,
    history: RunHistory,
    baseline: tuple[float, float],
    force: bool = False,
) -> Path:
    return save_arrays(path, run_arrays(config, history, baseline), force=force)


def load_run(path: str | os.PathLike) -> SavedRun:
    """Read and validate a run file; raises RunFileError naming the problem.

    Every array's header is checked against what the file's own config implies before any
    array data is unpacked (``runcheck.py``): a small file cannot make gradviz allocate more
    than its config accounts for.
    """
    path = Path(path)
    try:
        with open_archive(path) as archive:
            headers = _checked_headers(archive)
            check_preamble(headers)
            preamble = read_arrays(archive, ["format", "config_json"])
            fmt = str(preamble.get("format", "")) if "format" in preamble else ""
            if fmt != FORMAT:
                raise RunFileError(f"{path} is not a gradviz run file (format {_clip(fmt) or 'missing'!r})")
            if "config_json" not in preamble:
                raise RunFileError(f"{path} has no config_json")
            try:
                config = RunConfig.from_json(str(preamble["config_json"]))
            except ConfigError as exc:
                raise RunFileError(f"{path}: bad config: {exc}") from None
            check_layout(config, headers)
            arrays = read_arrays(archive)
    except (NpzError, LayoutError) as exc:
        raise RunFileError(f"{path} {exc}" if isinstance(exc, NpzError) else f"{path}: {exc}") from None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise RunFileError(f"{path} is damaged: {exc}") from None
    if "labels" not in arrays:
        raise RunFileError(f"{path}: labels must list {len(config.models)} models")
    for name in ("loss", "metric", "grad_norm"):
        if "step" in arrays and name not in arrays:
            raise RunFileError(f"{path}: {name} is missing (the file has recorded steps)")
    solved = arrays.get("solved_at_sequences")
    if solved is not None and not np.all(np.isnan(solved) | (np.isfinite(solved) & (solved >= 0))):
        raise RunFileError(f"{path}: solved_at_sequences must be sequence counts or NaN")
    if "train_step" in arrays and any(f"train_{n}" not in arrays for n in ("loss", "metric", "grad_norm")):
        raise RunFileError(f"{path}: train_loss, train_metric and train_grad_norm go with train_step")
    return SavedRun(config, arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an npz, refusing pickled objects and absurd declared sizes (from the headers,
    before anything is unpacked)."""
    path = Path(path)
    try:
        with open_archive(path) as archive:
            _checked_headers(archive)
            return read_arrays(archive)
    except NpzError as exc:
        raise RunFileError(f"{path} {exc}") from None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise RunFileError(f"{path} is damaged: {exc}") from None


def _checked_headers(archive: zipfile.ZipFile) -> dict:
    """Every member's header, once neither the zip nor the headers declare absurd sizes."""
    _refuse_unpacked(sum(info.file_size for info in archive.infolist()))
    headers = read_headers(archive)
    _refuse_unpacked(sum(header.nbytes for header in headers.values()))
    return headers


def _refuse_unpacked(unpacked: int) -> None:
    if unpacked > MAX_UNPACKED_BYTES:
        raise NpzError(f"declares {unpacked / 2**30:.1f} GiB of data; refusing to unpack it")


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
