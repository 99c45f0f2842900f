"""Axis ranges, log ticks and colour levels shared by every model's column, so columns compare at a
glance: the same height on two gradient plots means the same gradient. A model that diverged
gets ranges of its own."""

from __future__ import annotations

import math

import numpy as np

from gradviz.plotmath import decade_levels
from gradviz.session.frames import Frame, last_finite_profile
from gradviz.session.headline import has_diverged

LOG_LABELS = 6  # at most about this many labels on a log axis
# Fixed colour levels: sigmoid gates live in [0, 1], tanh outputs in [-1, 1].
GATE_LEVELS = {name: (0.0, 1.0) for name in ("forget", "input", "output", "update", "reset")}
GATE_LEVELS.update({name: (-1.0, 1.0) for name in ("cell", "new")})


def finite_logs(arrays: list[np.ndarray]) -> np.ndarray:
    """log10 of every finite, positive value of ``arrays``, flattened."""
    values = np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.empty(0)
    values = values[np.isfinite(values) & (values > 0)]
    return np.log10(values)


def value_span(values: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite ``values``, a unit wide where they are all equal, (0, 1) for none:
    colour levels that always span something."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def diverged(frame: Frame) -> list[bool]:
    """Per model: has it diverged?"""
    losses = frame.scalars.get("loss")
    if losses is None:
        losses = np.empty((0, len(frame.models)))
    norms = frame.scalars.get("grad_norm")
    return [has_diverged(view, losses[:, index], norms[:, index] if norms is not None else None)
            for index, view in enumerate(frame.models)]


def shared_ranges(frame: Frame, baseline_loss: float) -> list[dict[str, tuple[float, float]]]:
    """Per model, y ranges of the gradient and loss plots and the gradient history's colour
    levels: one set shared by every model that still trains, so their columns compare at a
    glance, and a set of its own for each model that diverged (its 1e30 losses and 35-decade
    gradients would flatten the others' curves onto their axes)."""
    gone = diverged(frame)
    going = [index for index, flag in enumerate(gone) if not flag]
    shared = _ranges(frame, going, baseline_loss, gone) if going else None
    return [_ranges(frame, [index], baseline_loss, gone) if flag else shared for index, flag in enumerate(gone)]


def _ranges(frame: Frame, models: list[int], baseline_loss: float, gone: list[bool]) -> dict[str, tuple[float, float]]:
    """The ranges that hold models ``models`` (indices into ``frame.models``)."""
    profiles, histories = [], []
    for index in models:
        view = frame.models[index]
        probes = view.latest.probes if view.latest is not None else None
        if gone[index]:
            last = last_finite_profile(view)  # what its gradient plot shows
            if last is not None:
                profiles.extend(p for p in (last.grad_h, last.grad_c) if p is not None)
        elif probes is not None:
            profiles.append(probes.top_grad_h)
            if probes.grad_c is not None:
                profiles.append(probes.grad_c[-1])
            if probes.grad_h_all is not None:  # the whole loss's line (copy, names) is on the plot too
                profiles.append(probes.grad_h_all[-1])
        grad = view.history.get("grad_h")
        if grad is not None and grad.size:
            histories.append(grad[:, -1, :])
    logs = finite_logs(profiles)
    profile = (math.floor(logs.min()) - 0.5, math.ceil(logs.max()) + 0.5) if logs.size else (-10.0, 0.0)

    levels = decade_levels(histories)

    losses = [frame.scalars["loss"][:, models]] if "loss" in frame.scalars and len(frame.scalars["loss"]) else []
    loss_logs = finite_logs(losses + [np.array([baseline_loss])])
    # Half-decade steps: the axis is regenerated only when the loss crosses one.
    loss = (-3.0, 0.0)
    if loss_logs.size:
        loss = (math.floor(loss_logs.min() * 2 - 0.3) / 2, math.ceil(loss_logs.max() * 2 + 0.3) / 2)
    return {"profile": profile, "gradient_levels": levels, "loss": loss}


def stepped_range(values: np.ndarray, step: float, low: float | None = None, high: float | None = None,
                  log: bool = False) -> tuple[float, float]:
    """A y range holding ``values`` with ends on multiples of ``step`` (of log10 if ``log``),
    widened to include ``low`` and ``high``: set as a fixed range, it changes, and the axis is
    regenerated (milliseconds a plot), only when the data crosses a step, not at every record
    as autorange would."""
    values = np.ravel(values)
    finite = finite_logs([values]) if log else values[np.isfinite(values)]
    ends = [float(finite.min()), float(finite.max())] if finite.size else []
    ends += [end for end in (low, high) if end is not None]
    if not ends:
        return (0.0, 1.0)
    bottom, top = math.floor(min(ends) / step) * step, math.ceil(max(ends) / step) * step
    return (bottom, top) if top > bottom else (bottom, bottom + step)


def nice_upper(value: float) -> float:
    """The smallest of 10, 20, 50, 100, 200, 500, ... at or above ``value`` (at least 10)."""
    value = max(float(value), 10.0)
    decade = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * decade >= value:
            return factor * decade
    return 10.0 * decade


def log_ticks(low: float, high: float, most: int = LOG_LABELS) -> list[list[tuple[float, str]]]:
    """Tick labels for a log10 axis: 1-3-10 steps over a few decades, every k-th decade over
    many (a diverged loss spans 30), never pyqtgraph's crowded minor labels; about ``most``
    labels at most (a short plot holds fewer)."""
    span = high - low
    factors = (1, 3) if 2 * span <= most else (1,)
    stride = max(1, math.ceil(span / most))
    ticks = []
    for decade in range(math.floor(low), math.ceil(high) + 1):
        if decade % stride:
            continue
        for factor in factors:
            value = math.log10(factor) + decade
            if low <= value <= high:
                ticks.append((value, f"{factor * 10.0 ** decade:g}"))
    return [ticks, []]


def gate_levels(name: str, values: np.ndarray) -> tuple[float, float]:
    """Fixed levels for bounded gates; symmetric levels for C_t and h_t."""
    if name in GATE_LEVELS:
        return GATE_LEVELS[name]
    finite = values[np.isfinite(values)]
    top = max(float(np.abs(finite).max()) if finite.size else 1.0, 1e-6)
    return (0.0, top) if finite.size and finite.min() >= 0 else (-top, top)
