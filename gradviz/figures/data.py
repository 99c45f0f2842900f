"""What a figure shows: one recorded step of a run, read from its arrays (no Qt, no torch).

``run_view(saved, index)`` mirrors what the window shows at recorded step ``index``: the loss
and metric of every training step up to it, the probes measured at it, and the history of the
probes up to it. The layout of the arrays is documented in ``gradviz/io/runfile.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradviz.io.runfile import SavedRun
from gradviz.plotmath import last_finite_row
from gradviz.probes.causes import PADDING


@dataclass(frozen=True)
class ModelSeries:
    """One model's arrays. N recorded steps up to the one shown, S training steps, L layers,
    T timesteps, H units, P parameters."""

    label: str
    kind: str
    clip: float
    train_step: np.ndarray  # (S,)
    loss: np.ndarray  # (S,)
    metric: np.ndarray  # (S,)
    step: np.ndarray  # (N,) recorded steps
    grad_h: np.ndarray  # (N, L, T)
    grad_c: np.ndarray | None  # (N, L, T), LSTM only
    gates: dict[str, np.ndarray]  # name -> (L, T, H) at the step shown
    gate_means: dict[str, np.ndarray]  # name -> (L, T) at the step shown
    param_names: list[str]
    param_grad_norms: np.ndarray  # (N, P)
    spectral_radius: np.ndarray  # (N, L) rho(W_hh's candidate block)
    step_factor: np.ndarray | None  # (N, L) measured per-step Jacobian factor (older files: None)
    half_life: np.ndarray  # (N,)
    underflow_steps: int  # at the step shown: real underflow only
    truncated_steps: int  # at the step shown: cut by truncated BPTT
    grad_cause: np.ndarray | None = None  # (N, T) why each top-layer grad_h is 0 or not finite (probes/causes.py)
    shown: int = -1  # the recorded step (a row of the (N, ...) arrays) the profile, gates and means are of

    @property
    def shown_step(self) -> int:
        """The training step whose probes the gradient, gate and gate-mean plots show: the step
        shown, or, where that record's gradient is not finite (the model diverged before it),
        its last finite record, as the window's gradient plot does."""
        return int(self.step[self.shown])

    @property
    def diverged(self) -> bool:
        """Its training loss ended not finite (inf/NaN): its plots get scales of their own, as in
        the window, or its 1e35 would flatten the other models' curves and blacken their maps."""
        return bool(len(self.loss)) and not np.isfinite(self.loss[-1])

    @property
    def factor(self) -> tuple[np.ndarray, str]:
        """(N, L) what multiplies this model's gradient per step back, and its name: rho(W_hh)
        for the vanilla RNN (a bound), the measured factor for gated cells (rho of one block
        says nothing there), as the window shows it."""
        if self.kind == "rnn" or self.step_factor is None or not len(self.step_factor):
            return self.spectral_radius, "ρ(Wₕₕ)"
        return self.step_factor, "|∂Cₜ/∂Cₜ₋₁|" if self.kind == "lstm" else "|∂hₜ/∂hₜ₋₁|"


@dataclass(frozen=True)
class RunView:
    """Every model of a run at one recorded step, with the task's names and baseline."""

    models: tuple[ModelSeries, ...]
    step: int  # the recorded training step whose probes are shown
    task_title: str
    loss_name: str
    metric_name: str
    baseline_loss: float
    baseline_metric: float
    timesteps: int


def task_names(saved: SavedRun) -> tuple[str, str, str]:
    """(title, loss name, metric name) of the run's task, without reading a text file."""
    from gradviz.tasks import TextFileTask, make_task

    task = saved.config.task
    if task.name == TextFileTask.name:
        return "Movie reviews from a file", TextFileTask.loss_name, TextFileTask.metric_name
    built = make_task(task.name, task.seq_len, task.distance)
    return built.title, built.loss_name, built.metric_name


def run_view(saved: SavedRun, index: int = -1) -> RunView:
    """Recorded step number ``index`` of ``saved`` (default: the last); ValueError if it has none."""
    arrays = saved.arrays
    steps = arrays.get("step", np.empty(0, dtype=np.int64))
    if not len(steps):
        raise ValueError("the run has no recorded steps to draw")
    index = index % len(steps)
    step = int(steps[index])
    train_step = arrays.get("train_step", steps)
    # At an earlier recorded step the loss stops there; at the last, it runs to the last step trained.
    keep = train_step <= step if index < len(steps) - 1 else np.ones(len(train_step), dtype=bool)
    models = []
    for m, setup in enumerate(saved.config.models):
        prefix = f"model{m}/"
        gate_names = [key[len(prefix) + 5:] for key in arrays if key.startswith(prefix + "gate/")]
        shown = _shown_row(arrays, prefix, index)
        models.append(ModelSeries(
            label=setup.label,
            kind=setup.model.kind,
            clip=float(setup.train.clip),
            train_step=train_step[keep],
            loss=np.asarray(arrays.get("train_loss", arrays["loss"])[m][keep], dtype=np.float64),
            metric=np.asarray(arrays.get("train_metric", arrays["metric"])[m][keep], dtype=np.float64),
            step=steps[: index + 1],
            grad_h=arrays[prefix + "grad_h"][: index + 1],
            grad_c=arrays[prefix + "grad_c"][: index + 1] if prefix + "grad_c" in arrays else None,
            gates={name: arrays[f"{prefix}gate/{name}"][shown] for name in gate_names},
            gate_means={name: arrays[f"{prefix}mean/{name}"][shown] for name in gate_names},
            param_names=[str(name) for name in arrays[prefix + "param_names"]],
            param_grad_norms=arrays[prefix + "param_grad_norms"][: index + 1],
            spectral_radius=arrays[prefix + "spectral_radius"][: index + 1],
            step_factor=arrays[prefix + "step_factor"][: index + 1] if prefix + "step_factor" in arrays else None,
            half_life=np.asarray(arrays[prefix + "half_life"][: index + 1], dtype=np.float64),
            underflow_steps=int(arrays[prefix + "underflow_steps"][shown]),
            truncated_steps=int(arrays[prefix + "truncated_steps"][shown]) if prefix + "truncated_steps" in arrays
            else 0,
            grad_cause=arrays[prefix + "grad_cause"][: index + 1] if prefix + "grad_cause" in arrays else None,
            shown=shown,
        ))
    title, loss_name, metric_name = task_names(saved)
    return RunView(
        models=tuple(models), step=step, task_title=title, loss_name=loss_name, metric_name=metric_name,
        baseline_loss=float(arrays["baseline"]), baseline_metric=float(arrays["baseline_metric"]),
        timesteps=int(models[0].grad_h.shape[-1]) if models else 0,
    )


def _shown_row(arrays: dict[str, np.ndarray], prefix: str, index: int) -> int:
    """The recorded step (row) whose probes a model's plots show at recorded step ``index``: that
    one, unless its gradient is not finite (the model diverged by then) and an earlier one is."""
    grads = arrays[prefix + "grad_h"][: index + 1, -1]  # (N, T) top layer
    if np.all(np.isfinite(grads[-1])):
        return index
    causes = arrays.get(prefix + "grad_cause")
    explained = causes[: index + 1] == PADDING if causes is not None else None
    row = last_finite_row(grads, explained)
    return index if row is None else row
