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
                                 1 underflow, 2 cut by truncation, 3 padding, 4 overflow
                                 (probes/causes.py)
    model<m>/gate/<name>  (N, L, T, H)  one sample's gate activations (and cell_state)
    model<m>/mean/<name>  (N, L, T)     batch and unit mean per timestep
    model<m>/spectral_radius (N, L), step_factor (N, L)  rho(W_hh's candidate block); the
                                 measured per-step Jacobian norm (probes/jacobian.py)
    model<m>/half_life (N,)      of grad_c (LSTM) or grad_h, its far regime (probes/halflife.py);
    model<m>/near_half_life (N,), near_steps (N,)  two regimes: the near one (0 steps: one)
    model<m>/underflow_steps (N,) real underflow only;  truncated_steps (N,)  cut by truncation
    model<m>/param_grad_norms (N, P) with model<m>/param_names (P,)

Every model has a row at every recorded step; once a model has diverged its rows are NaN
(-1 in integer columns such as underflow_steps).
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradviz.config import ConfigError, RunConfig
from gradviz.io.atomic import atomic_write
from gradviz.probes.history import RunHistory

FORMAT = "gradviz-run/1"
MAX_UNPACKED_BYTES = 4 * 2**30


class RunFileError(ValueError):
    """A run file that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class SavedRun:
    """A run file's contents: the validated config and its arrays by name."""

    config: RunConfig
    arrays: dict[str, np.ndarray]

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.arrays["labels"]]


def run_arrays(config: RunConfig, history: RunHistory, baseline: tuple[float, float]) -> dict[str, np.ndarray]:
    """The arrays a run file holds, from a live history."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "config_json": np.array(config.to_json()),
        "labels": np.array([setup.label for setup in config.models]),
        "baseline": np.float64(baseline[0]),
        "baseline_metric": np.float64(baseline[1]),
    }
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


def save_run(
    path: str | os.PathLike,
    config: RunConfig,
    history: RunHistory,
    baseline: tuple[float, float],
    force: bool = False,
) -> Path:
    return save_arrays(path, run_arrays(config, history, baseline), force=force)


def load_run(path: str | os.PathLike) -> SavedRun:
    """Read and validate a run file; raises RunFileError naming the problem."""
    arrays = read_npz(path)
    fmt = str(arrays.get("format", ""))
    if fmt != FORMAT:
        raise RunFileError(f"{path} is not a gradviz run file (format {fmt or 'missing'!r})")
    try:
        config = RunConfig.from_json(str(arrays["config_json"]))
    except KeyError:
        raise RunFileError(f"{path} has no config_json") from None
    except ConfigError as exc:
        raise RunFileError(f"{path}: bad config: {exc}") from None
    models = len(config.models)
    if arrays.get("labels", np.empty(0)).shape != (models,):
        raise RunFileError(f"{path}: labels must list {models} models")
    if "step" in arrays:
        recorded = arrays["step"].shape
        if len(recorded) != 1:
            raise RunFileError(f"{path}: step must be one-dimensional, got shape {recorded}")
        for name in ("loss", "metric", "grad_norm"):
            if arrays.get(name, np.empty(0)).shape != (models, recorded[0]):
                raise RunFileError(f"{path}: {name} must have shape ({models}, {recorded[0]})")
    return SavedRun(config, arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an npz, refusing pickled objects and absurd declared sizes."""
    path = Path(path)
    if not path.is_file():
        raise RunFileError(f"{path} does not exist or is not a file")
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise RunFileError(f"{path} is not an npz file (not a zip archive; truncated or another format?)") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise RunFileError(f"{path} declares {unpacked / 2**30:.1f} GiB of data; refusing to unpack it")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise RunFileError(f"{path} contains pickled objects, which gradviz never loads") from None
        raise RunFileError(f"{path} is damaged: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise RunFileError(f"{path} is damaged: {exc}") from None
