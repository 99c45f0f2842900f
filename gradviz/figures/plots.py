"""One matplotlib drawing per plot kind, each returning the arrays it drew (for CSV/NPZ and tests).

Kinds that compare models on one scale (loss, metric, gradient, factor per step, half-life)
draw every model given into one axes, told apart by colour and named in the legend; heatmaps
and per-parameter curves draw one model per axes. Labels name the quantity and its unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory

from gradviz.figures.data import RunView
from gradviz.figures.style import FigureTheme, model_colour
from gradviz.palette import GATE_COLOURS, GATE_MAP, GRADIENT_MAP, OKABE_ITO
from gradviz.plotmath import FLAT_MARK_DEPTH, decade_levels, finite_or_nan, log10_or_nan
from gradviz.probes.causes import CAUSE_NAMES, FINITE, PADDING, TRUNCATED, UNDERFLOW

GATE_TITLES = {
    "forget": "forget gate fₜ", "input": "input gate iₜ", "output": "output gate oₜ",
    "cell": "candidate C\u0303ₜ", "cell_state": "cell state Cₜ", "update": "update gate zₜ",
    "reset": "reset gate rₜ", "new": "candidate nₜ", "hidden": "hidden state hₜ",
}
GATE_LEVELS = {name: (0.0, 1.0) for name in ("forget", "input", "output", "update", "reset")}
GATE_LEVELS.update({name: (-1.0, 1.0) for name in ("cell", "new")})
# The decision loss of each sequence i (the outputs that need memory), batch-mean of the norms:
# batch size does not move it (see probes/gradients.py).
GRAD_H = "|∂ℓᵢ/∂hₜ|"
GRAD_C = "|∂ℓᵢ/∂Cₜ|"


@dataclass(frozen=True)
class PlotKind:
    title: str
    caption: str
    together: bool  # every model in one axes (else one axes per model)


PLOTS: dict[str, PlotKind] = {
    "loss": PlotKind("Loss", "dashed: the memoryless baseline; below it, the model remembers", True),
    "metric": PlotKind("Task metric", "dashed: the score of a model with no memory", True),
    "gradient": PlotKind("Gradient through time",
                         "how much gradient of each sequence's decision loss ℓᵢ reaches timestep t, "
                         "mean over the batch (solid hₜ, dashed Cₜ)", True),
    "history": PlotKind("Gradient history", "the same over training: where the model can learn", False),
    "gates": PlotKind("Gate activations", "one sequence, per hidden unit and timestep", False),
    "gate_means": PlotKind("Gate means", "mean over batch and units, per timestep", False),
    "grad_norms": PlotKind("Gradient norms", "per parameter, before clipping; dotted: the clip threshold",
                           False),
    "spectral_radius": PlotKind("Gradient factor per step",
                                "ρ(Wₕₕ) for the vanilla RNN (above 1 gradients can explode); measured "
                                "|∂Cₜ/∂Cₜ₋₁| on the LSTM's cell path, |∂hₜ/∂hₜ₋₁| for the GRU", True),
    "half_life": PlotKind("Gradient half-life", "timesteps over which the gradient halves going back", True),
}
PLOT_NAMES = tuple(PLOTS)
PLOT_TITLES = {name: kind.title for name, kind in PLOTS.items()}


def _positive(values: np.ndarray) -> np.ndarray:
    values = finite_or_nan(values)
    return np.where(values > 0, values, np.nan)  # a log axis: zeros and NaN leave gaps


def _thin() -> float:
    """Reference lines and secondary curves: thinner than the curves a reader compares."""
    return 0.6 * rcParams["lines.linewidth"]


def _reference(ax: Axes, theme: FigureTheme, y: float, style: str = "--") -> None:
    ax.axhline(y, color=theme.muted, linestyle=style, linewidth=_thin(), zorder=1)


def _legend(ax: Axes, **kwargs) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**{"loc": "best", "borderaxespad": 0.3, "handlelength": 1.6, **kwargs})


def draw_loss(ax: Axes, view: RunView, models: list[int], theme: FigureTheme) -> dict:
    data = {}
    for m in models:
        series = view.models[m]
        loss = _positive(series.loss)
        ax.plot(series.train_step, loss, color=model_colour(m), label=series.label)
        data |= {f"{series.label}/step": series.train_step, f"{series.label}/loss": loss}
    _reference(ax, theme, view.baseline_loss)
    ax.set_yscale("log")
    unit = " (nats)" if view.loss_name == "cross-entropy" else ""
    ax.set(xlabel="training step", ylabel=f"{view.loss_name} loss{unit}, log scale")
    data["baseline"] = np.array([view.baseline_loss])
    _legend(ax)
    return data


def draw_metric(ax: Axes, view: RunView, models: list[int], theme: FigureTheme) -> dict:
    data = {}
    for m in models:
        series = view.models[m]
        metric = finite_or_nan(series.metric)
        ax.plot(series.train_step, metric, color=model_colour(m), label=series.label)
        data |= {f"{series.label}/step": series.train_step, f"{series.label}/metric": metric}
    _reference(ax, theme, view.baseline_metric)
    ax.set_ylim(0, 1)
    ax.set(xlabel="training step", ylabel=f"{view.metric_name}, fraction")
    data["baseline"] = np.array([view.baseline_metric])
    _legend(ax)
    return data


def empty_steps(series, row: int) -> list[tuple[int, str]]:
    """(steps, cause name) for each cause that leaves timesteps of the plotted profile (record
    ``row``) without a gradient, named as the core names them (probes.causes); padding is not a
    loss of gradient."""
    if series.grad_cause is None or not len(series.grad_cause):  # older files: two counts
        return [(n, CAUSE_NAMES[cause]) for n, cause in ((series.underflow_steps, UNDERFLOW),
                                                         (series.truncated_steps, TRUNCATED)) if n > 0]
    causes = np.asarray(series.grad_cause[row])
    return [(int(np.count_nonzero(causes == cause)), name) for cause, name in CAUSE_NAMES.items()
            if cause not in (FINITE, PADDING) and np.count_nonzero(causes == cause)]


FLAT_LABEL = ": flat, no decay"  # a flat record's marks, after the model's name
SPARSE_POINTS = 3  # a profile of this few values (a saturated model's last steps) gets markers, as in the window


def draw_gradient(ax: Axes, view: RunView, models: list[int], theme: FigureTheme) -> dict:
    data = {}
    t = np.arange(1, view.timesteps + 1)
    # Beside models still training, a diverged model draws the figure's step (NaN once it has
    # diverged), not its last finite profile (1e35, say), which would set the one y axis and
    # flatten theirs; alone or among diverged models, its last finite record.
    still = any(not view.models[m].diverged for m in models)
    for m in models:
        series = view.models[m]
        row = len(series.step) - 1 if still and len(models) > 1 and series.diverged else series.shown
        profile = _positive(series.grad_h[row, -1])
        empty = "".join(f", {steps} step{'s' if steps > 1 else ''} {why}" for steps, why in empty_steps(series, row))
        shown_step = int(series.step[row])
        if row != series.shown:
            last = ", diverged: the full figure shows its last finite profile"
        elif shown_step != view.step:  # its last finite profile, named so
            last = f" at step {shown_step}, its last finite"
        else:
            last = ""
        sparse = np.count_nonzero(np.isfinite(profile)) <= SPARSE_POINTS  # a few isolated values are no line
        # Dots are not clipped: one at t = T would lose its right half at the plot's edge.
        ax.plot(t, profile, color=model_colour(m), marker="o" if sparse else None, clip_on=not sparse,
                label=f"{series.label} {GRAD_H}{last}{empty}")
        data |= {f"{series.label}/t": t, f"{series.label}/grad_h": profile}
        if series.grad_c is not None:
            cell = _positive(series.grad_c[row, -1])
            ax.plot(t, cell, color=model_colour(m), linestyle="--", label=f"{series.label} {GRAD_C}{last}")
            data[f"{series.label}/grad_c"] = cell
        if shown_step != view.step:
            data[f"{series.label}/step"] = np.array([shown_step])
    ax.set_yscale("log")
    ax.set_xlim(0.5, view.timesteps + 0.5)
    ax.set(xlabel="timestep t (1 = first input)", ylabel=f"{GRAD_H}, log scale")
    _legend(ax)
    return data


def gradient_levels(view: RunView, m: int | None = None) -> tuple[float, float]:
    """Colour levels of the gradient history: one set shared by every model that still trains,
    and a set of its own for model ``m`` if it diverged (as in the window)."""
    if m is not None and view.models[m].diverged:
        chosen = [view.models[m]]
    else:
        chosen = [series for series in view.models if not series.diverged] or list(view.models)
    return decade_levels([series.grad_h[:, -1] for series in chosen])


def _colourbar(ax: Axes, image, label: str) -> None:
    """A slim colour bar beside ``ax``."""
    bar = ax.figure.colorbar(image, ax=ax, pad=0.02, fraction=0.05, aspect=25)
    bar.set_label(label)
    bar.outline.set_visible(False)


def draw_history(ax: Axes, view: RunView, m: int, theme: FigureTheme, colourbar: bool = True) -> dict:
    series = view.models[m]
    raw = np.asarray(series.grad_h[:, -1, :], dtype=np.float64)  # (N, T) top layer
    low, high = gradient_levels(view, m)
    logs = log10_or_nan(raw)
    # As the window: underflow (exact 0) takes the bottom colour, inf the top, NaN stays empty.
    shown = np.where(raw == 0, low, np.where(np.isposinf(raw), high, logs))
    steps = series.step
    top = float(steps[-1]) if steps[-1] > steps[0] else float(steps[0]) + 1
    image = ax.imshow(np.ma.masked_invalid(shown), origin="lower", aspect="auto", cmap=GRADIENT_MAP,
                      vmin=low, vmax=high, interpolation="nearest",
                      extent=(0.5, view.timesteps + 0.5, float(steps[0]), top))
    ax.set(xlabel="timestep t", ylabel="training step")
    if colourbar:
        _colourbar(ax, image, f"log10 {GRAD_H}")
    return {"step": steps, "t": np.arange(1, view.timesteps + 1), "log10_grad_h": logs}


def draw_gates(ax: Axes, view: RunView, m: int, theme: FigureTheme, gate: str = "forget",
               colourbar: bool = True) -> dict:
    series = view.models[m]
    name = gate if gate in series.gates else next(iter(series.gates))
    values = np.asarray(series.gates[name][-1], dtype=np.float64).T  # (H, T): units along y
    if name in GATE_LEVELS:
        low, high = GATE_LEVELS[name]
    else:
        finite = values[np.isfinite(values)]
        top = max(float(np.abs(finite).max()) if finite.size else 1.0, 1e-6)
        low, high = (0.0, top) if finite.size and finite.min() >= 0 else (-top, top)
    image = ax.imshow(values, origin="lower", aspect="auto", cmap=GATE_MAP, vmin=low, vmax=high,
                      interpolation="nearest",
                      extent=(0.5, view.timesteps + 0.5, -0.5, values.shape[0] - 0.5))
    ax.set(xlabel="timestep t", ylabel="hidden unit")
    if colourbar:
        _colourbar(ax, image, GATE_TITLES.get(name, name))
    data = {"t": np.arange(1, view.timesteps + 1), "unit": np.arange(values.shape[0]), name: values}
    if series.shown_step != view.step:  # a diverged model's last finite record
        data["step"] = np.array([series.shown_step])
    return data


def draw_gate_means(ax: Axes, view: RunView, m: int, theme: FigureTheme) -> dict:
    series = view.models[m]
    t = np.arange(1, view.timesteps + 1)
    data = {"t": t}
    for position, (name, means) in enumerate(series.gate_means.items()):
        if name in ("cell_state", "hidden") and len(series.gate_means) > 2:
            continue  # unbounded states: their own heatmap shows them
        colour = GATE_COLOURS.get(name, OKABE_ITO[position % len(OKABE_ITO)])
        ax.plot(t, means[-1], color=colour, label=GATE_TITLES.get(name, name))
        data[name] = np.asarray(means[-1])
    if series.shown_step != view.step:  # a diverged model's last finite record
        data["step"] = np.array([series.shown_step])
    ax.set_xlim(0.5, view.timesteps + 0.5)
    ax.set(xlabel="timestep t", ylabel="mean activation")
    _legend(ax, ncols=2)
    return data


def draw_grad_norms(ax: Axes, view: RunView, m: int, theme: FigureTheme) -> dict:
    series = view.models[m]
    data = {"step": series.step}
    # A parameter has one colour (and dash) in every model's axes: one legend serves them all.
    every = list(dict.fromkeys(name for other in view.models for name in other.param_names))
    for position, name in enumerate(series.param_names):
        values = _positive(series.param_grad_norms[:, position])
        index = every.index(name)
        ax.plot(series.step, values, color=OKABE_ITO[index % len(OKABE_ITO)], label=name, linewidth=_thin(),
                linestyle="-" if index < len(OKABE_ITO) else "--")
        data[name] = values
    if series.clip > 0:
        _reference(ax, theme, series.clip, ":")
    ax.set_yscale("log")
    ax.set(xlabel="training step", ylabel="gradient norm, log scale")
    _legend(ax, ncols=2)
    return data


def draw_spectral_radius(ax: Axes, view: RunView, models: list[int], theme: FigureTheme) -> dict:
    """What multiplies each model's gradient per step back (``ModelSeries.factor``)."""
    data, names = {}, []
    for m in models:
        series = view.models[m]
        factor, name = series.factor
        names.append(name)
        data[f"{series.label}/step"] = series.step
        for layer in range(factor.shape[1]):
            layer_name = f" layer {layer + 1}" if factor.shape[1] > 1 else ""
            values = finite_or_nan(factor[:, layer])
            ax.plot(series.step, values, color=model_colour(m), linestyle="-" if layer == 0 else "--",
                    label=f"{series.label}{layer_name} {name}")
            data[f"{series.label}/layer{layer}"] = values
    _reference(ax, theme, 1.0, ":")
    ax.set(xlabel="training step", ylabel=" or ".join(dict.fromkeys(names)) if names else "factor per step")
    _legend(ax)
    return data


def draw_half_life(ax: Axes, view: RunView, models: list[int], theme: FigureTheme) -> dict:
    data = {}
    along_top = blended_transform_factory(ax.transData, ax.transAxes)
    for position, m in enumerate(models):
        series = view.models[m]
        values = finite_or_nan(series.half_life)
        ax.plot(series.step, values, color=model_colour(m), label=series.label)
        # A flat profile (half-life infinite: the LSTM's cell path once it has learned) has no
        # point on the scale: marked along the top, as in the window, not left out.
        flat = np.isposinf(np.asarray(series.half_life, dtype=np.float64))
        if flat.any():
            depth = FLAT_MARK_DEPTH * (position + 1)  # each model's row of marks: none hides another's
            ax.plot(series.step[flat], np.full(np.count_nonzero(flat), 1 - depth), transform=along_top,
                    color=model_colour(m), marker="^", linestyle="none", clip_on=False,
                    label=f"{series.label}{FLAT_LABEL}")
        data |= {f"{series.label}/step": series.step, f"{series.label}/half_life": values,
                 f"{series.label}/flat": flat}
    steps = np.concatenate([view.models[m].step for m in models]).astype(np.float64)
    if steps.size and steps.max() > steps.min():  # every recorded step, defined half-life or not
        margin = 0.03 * (steps.max() - steps.min())
        ax.set_xlim(steps.min() - margin, steps.max() + margin)
    ax.set(xlabel="training step", ylabel="half-life (timesteps)")
    _legend(ax)
    return data


TOGETHER: dict[str, Callable] = {
    "loss": draw_loss, "metric": draw_metric, "gradient": draw_gradient,
    "spectral_radius": draw_spectral_radius, "half_life": draw_half_life,
}
PER_MODEL: dict[str, Callable] = {
    "history": draw_history, "gates": draw_gates, "gate_means": draw_gate_means, "grad_norms": draw_grad_norms,
}


def draw(ax: Axes, kind: str, view: RunView, models: list[int], theme: FigureTheme,
         colourbar: bool = True) -> dict:
    """Draw plot ``kind`` of ``models`` (a per-model kind takes exactly one) into ``ax``; a
    heatmap with its colour bar unless ``colourbar`` is False (the caller draws a shared one)."""
    if kind in TOGETHER:
        data = TOGETHER[kind](ax, view, models, theme)
    elif kind in ("history", "gates"):
        (m,) = models
        data = PER_MODEL[kind](ax, view, m, theme, colourbar=colourbar)
    else:
        (m,) = models
        data = PER_MODEL[kind](ax, view, m, theme)
    if kind not in ("history", "gates"):
        ax.grid(True, linewidth=0.5, alpha=0.6)
    return data
