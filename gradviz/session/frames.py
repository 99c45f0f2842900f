"""Frames: what the window paints at one moment, from live training or from a saved run.

A ``Frame`` is plain numpy (no tensors, no Qt objects), built either from the worker's live
``RunHistory`` (``frame_from_history``) or from a run file's arrays at any recorded step
(``frame_from_saved``: the history slider and headless figure export). Both paths produce the
same shapes, so every plot has one code path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from gradviz.config import RunConfig
from gradviz.io.runfile import SavedRun
from gradviz.plotmath import last_finite_row
from gradviz.probes.causes import PADDING, TRUNCATED
from gradviz.probes.halflife import measured_gains
from gradviz.probes.history import RunHistory
from gradviz.probes.records import ModelRecord, Probes

PROBE_COLUMNS = ("step", "grad_h", "half_life", "spectral_radius", "param_grad_norms", "underflow_steps")
# Newer columns, absent from older run files.
OPTIONAL_COLUMNS = ("grad_cause", "step_factor", "truncated_steps", "near_half_life", "near_steps", "grad_c")


@dataclass(frozen=True)
class ModelView:
    """One model's data for one frame: its latest measured record and its probe history."""

    label: str
    kind: str
    latest: ModelRecord | None  # the last record that carries Probes
    history: dict[str, np.ndarray]  # PROBE_COLUMNS -> (N, ...)
    param_names: list[str]
    solved_at: float = math.nan  # training sequences when every held-out sequence was first right (engine/solved.py)

    @cached_property
    def recorded_gains(self) -> np.ndarray:
        """(N,) measured gain per step back of every recorded profile (C_t's for an LSTM, the top
        layer's h_t's otherwise), inside the truncation window. Once per frame: the header's
        rate and gain, the equations and the factor plot all read it."""
        history = self.history
        grads = history.get("grad_c") if self.kind == "lstm" and len(history.get("grad_c", ())) \
            else history.get("grad_h")
        if grads is None or not len(grads):
            return np.empty(0)
        causes = history.get("grad_cause")
        usable = causes != TRUNCATED if causes is not None and causes.shape == grads[:, -1].shape else None
        return measured_gains(grads[:, -1], usable)


@dataclass(frozen=True)
class Frame:
    """Everything the window paints, as copies: safe to keep while training goes on."""

    version: int
    steps_done: int
    state: str
    steps_per_second: float
    scalars: dict[str, np.ndarray]  # step (S,), loss / metric / grad_norm (S, M)
    models: tuple[ModelView, ...] = field(default_factory=tuple)


def frame_from_history(
    history: RunHistory,
    config: RunConfig,
    latest: list[ModelRecord | None],
    version: int,
    steps_done: int,
    state: str,
    rate: float,
    solved_at: Sequence[float] | None = None,
) -> Frame:
    """A frame of a live run (call it holding the lock that guards ``history``); ``solved_at``:
    each model's solved_at_sequences so far."""
    scalars = {name: history.scalars.column(name) for name in history.scalars.names()}
    models = []
    for index, setup in enumerate(config.models):
        columns = {name: history.probe_column(index, name) for name in PROBE_COLUMNS + OPTIONAL_COLUMNS}
        for name in history.gate_names[index]:
            columns[f"mean/{name}"] = history.probe_column(index, f"mean/{name}")
        names = list(history.param_names[index])
        solved = math.nan if solved_at is None else float(solved_at[index])
        models.append(ModelView(setup.label, setup.model.kind, latest[index], columns, names, solved))
    return Frame(version, steps_done, state, rate, scalars, tuple(models))


def recorded_steps(saved: SavedRun) -> np.ndarray:
    return saved.arrays.get("step", np.empty(0, dtype=np.int64))


def frame_from_saved(saved: SavedRun, index: int = -1) -> Frame:
    """The frame at recorded step number ``index`` of a saved run (default: the last)."""
    arrays = saved.arrays
    steps = recorded_steps(saved)
    if not len(steps):
        raise ValueError("the run file has no recorded steps to show")
    index = index % len(steps)
    step = int(steps[index])
    train_steps = arrays.get("train_step", steps)
    keep = train_steps <= step
    scalars = {"step": train_steps[keep]}
    for name in ("loss", "metric", "grad_norm"):
        scalars[name] = arrays.get(f"train_{name}", arrays[name])[:, keep].T  # (S, M)
    models = []
    for m, setup in enumerate(saved.config.models):
        prefix = f"model{m}/"
        history = {"step": steps[: index + 1]}
        for name in PROBE_COLUMNS[1:]:
            history[name] = arrays[prefix + name][: index + 1]
        for name in OPTIONAL_COLUMNS:
            if prefix + name in arrays:
                history[name] = arrays[prefix + name][: index + 1]
        gate_names = [key[len(prefix) + 5 :] for key in arrays if key.startswith(prefix + "gate/")]
        for name in gate_names:
            history[f"mean/{name}"] = arrays[f"{prefix}mean/{name}"][: index + 1]
        param_names = [str(name) for name in arrays[prefix + "param_names"]]
        probes = Probes(
            grad_h=arrays[prefix + "grad_h"][index],
            grad_c=arrays[prefix + "grad_c"][index] if prefix + "grad_c" in arrays else None,
            gates={name: arrays[f"{prefix}gate/{name}"][index] for name in gate_names},
            gate_means={name: arrays[f"{prefix}mean/{name}"][index] for name in gate_names},
            param_grad_norms=dict(zip(param_names, arrays[prefix + "param_grad_norms"][index].tolist(), strict=True)),
            spectral_radius=arrays[prefix + "spectral_radius"][index],
            half_life=float(arrays[prefix + "half_life"][index]),
            underflow_steps=int(arrays[prefix + "underflow_steps"][index]),
            grad_h_all=_row(arrays, prefix + "grad_h_all", index),
            grad_cause=_row(arrays, prefix + "grad_cause", index),
            truncated_steps=int(_row(arrays, prefix + "truncated_steps", index, 0)),
            near_half_life=float(_row(arrays, prefix + "near_half_life", index, np.nan)),
            near_steps=int(_row(arrays, prefix + "near_steps", index, 0)),
            step_factor=_row(arrays, prefix + "step_factor", index),
        )
        record = ModelRecord(
            loss=float(arrays["loss"][m, index]),
            metric=float(arrays["metric"][m, index]),
            grad_norm=float(arrays["grad_norm"][m, index]),
            diverged=not np.isfinite(arrays["loss"][m, index]),
            probes=probes,
        )
        models.append(ModelView(setup.label, setup.model.kind, record, history, param_names,
                                _solved_by(arrays, m, (step + 1) * saved.config.task.batch)))
    return Frame(index, step + 1, "replay", 0.0, scalars, tuple(models))


def _solved_by(arrays: dict[str, np.ndarray], model: int, sequences: int) -> float:
    """Model ``model``'s solved_at_sequences if it was solved by ``sequences`` (a replay before
    that step shows it unsolved); NaN otherwise and in files older than the field."""
    solved = arrays.get("solved_at_sequences")
    if solved is None or model >= len(solved) or not solved[model] <= sequences:
        return math.nan
    return float(solved[model])


def _row(arrays: dict[str, np.ndarray], name: str, index: int, default=None):
    """Row ``index`` of a column that older run files lack (then ``default``)."""
    return arrays[name][index] if name in arrays else default


@dataclass(frozen=True)
class ShownProfile:
    """A recorded gradient profile to draw: its training step, the top layer's |dl/dh_t| (T,),
    |dl/dC_t| (T,) of an LSTM, and each step's cause (``probes/causes.py``) where recorded."""

    step: int
    grad_h: np.ndarray
    grad_c: np.ndarray | None
    causes: np.ndarray | None


def last_finite_profile(view: ModelView) -> ShownProfile | None:
    """The newest recorded profile with no overflow (inf/NaN where no padding explains it) and
    some gradient: what a diverged model's gradient plot shows, labelled with its step (its
    later records are NaN, or 35 decades of overflow with no story in them). None if none."""
    history = view.history
    grads = history.get("grad_h")
    if grads is None or not len(grads):
        return None
    cells, causes = history.get("grad_c"), history.get("grad_cause")
    causes = causes if causes is not None and len(causes) == len(grads) else None
    row = last_finite_row(grads[:, -1], causes == PADDING if causes is not None else None)
    if row is None:
        return None
    cell = cells[row, -1] if cells is not None and len(cells) == len(grads) else None
    return ShownProfile(int(history["step"][row]), grads[row, -1], cell, causes[row] if causes is not None else None)
