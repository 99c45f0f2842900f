"""Axis ranges and ticks of file figures, from the data drawn: never cutting it, 3-6 labels.

``data_range`` is what an axes really drew (the finite values of its lines, positive ones on a
log axis, and its images' extents); ``limits`` pads that range a little (on a log axis, out to
the next decade where that costs little room), and ``nice_ticks`` picks round values inside
the limits: decades (every k-th where many), then 1-2-5 and 1-9 multiples on a log axis, round
steps on a linear one. The number of labels an axis gets is measured in ``fit.py``.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

MIN_TICKS, MAX_TICKS = 3, 6
# Decades between log ticks: the round ones first, the others where no round one gives 3 labels.
_ROUND_STRIDES = (1, 2, 3, 5, 10, 20, 25, 50, 100)
_STRIDES = (*_ROUND_STRIDES, 4, 6, 8, 12, 15, 30, 40)
_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)  # linear tick steps, times a power of 10


def data_range(ax: Axes, axis: str = "y") -> tuple[float, float] | None:
    """(min, max) of the finite values ``ax`` draws along ``axis`` (positive ones on a log
    axis); None if it draws none. Lines and reference lines count, and images by their extent."""
    log = (ax.get_yscale() if axis == "y" else ax.get_xscale()) == "log"
    values = []
    for line in ax.lines:
        if not line.get_visible():
            continue
        if axis == "x" and line.get_transform().contains_branch_seperately(ax.transData) != (True, True):
            continue  # axhline: its x runs in axes coordinates
        if axis == "y" and not line.get_transform().contains_branch_seperately(ax.transData)[1]:
            continue  # axvline
        values.append(np.asarray(line.get_ydata() if axis == "y" else line.get_xdata(), dtype=np.float64).ravel())
    for image in ax.images:
        left, right, bottom, top = image.get_extent()
        values.append(np.array((bottom, top) if axis == "y" else (left, right), dtype=np.float64))
    if not values:
        return None
    every = np.concatenate(values)
    every = every[np.isfinite(every) & ((every > 0) if log else True)]
    if not every.size:
        return None
    return float(every.min()), float(every.max())


def limits(low: float, high: float, log: bool) -> tuple[float, float]:
    """Axis limits holding [low, high] with a small margin. On a log axis a bound goes out to
    its decade when that is within a tenth of the data's span (the gradient axis starts at the
    data's decade, never below it). One value on a log axis (a saturated model's last finite
    gradient) gets the decade it lies in, or the two around it where it is a power of 10: a
    margin of a few percent labelled every tick with the same "2.6 x 10^35"."""
    if log:
        a, b = (round(x) if abs(x - round(x)) < 1e-6 else x for x in (math.log10(low), math.log10(high)))
        if a == b:
            return 10.0 ** (math.floor(a) if a != math.floor(a) else a - 1), 10.0 ** (math.floor(a) + 1)
        span = max(b - a, 0.25)
        pad = min(0.03 * span, 0.4)  # a margin, not decades of nothing
        below, above = a - math.floor(a), math.ceil(b) - b
        a = math.floor(a) if pad <= below <= min(0.1 * span, 0.5) else a - pad
        b = math.ceil(b) if pad <= above <= min(0.1 * span, 0.5) else b + pad
        return 10.0 ** a, 10.0 ** b
    span = high - low
    pad = 0.05 * span if span > 0 else max(abs(high) * 0.05, 0.5)
    return low - pad, high + pad


def _inside(ticks, low: float, high: float) -> list[float]:
    slack = (high - low) * 1e-9
    return [float(t) for t in ticks if low - slack <= t <= high + slack]


def _log_candidates(low: float, high: float, aligned: bool, strides: tuple[int, ...]):
    """Tick sets on a log axis: every k-th decade for k in ``strides`` (at multiples of k, or
    else from the first decade), then 1-3, 1-2-5 and 1-9 multiples."""
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    for stride in sorted(strides, reverse=True):
        start = math.ceil(first / stride) * stride if aligned else first
        yield [10.0 ** k for k in range(start, last + 1, stride)]
    for mantissas in ((1, 3), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        yield _inside([m * 10.0 ** k for k in range(first - 1, last + 1) for m in mantissas], low, high)


def nice_ticks(low: float, high: float, log: bool, most: int = MAX_TICKS) -> tuple[list[float], tuple[float, float]]:
    """Round tick values inside [low, high], as many as fit up to ``most`` (at least 3, widening
    the limits to the next round value if the range holds fewer); returns (ticks, limits)."""
    most = max(MIN_TICKS, most)
    if log:
        # 10^-30, 10^-20, ... before 10^-32, 10^-24, ... before 10^-38, 10^-28, ...
        for aligned, strides in ((True, _ROUND_STRIDES), (True, _STRIDES), (False, _STRIDES)):
            best: list[float] = []
            for ticks in _log_candidates(low, high, aligned, strides):
                if MIN_TICKS <= len(ticks) <= most and len(ticks) > len(best):
                    best = ticks
            if best:
                return best, (low, high)
        widened = _widened_decades(low, high, most)
        if widened:
            return widened
    linear = _linear_ticks(low, high, most, positive=log)
    if linear:
        return linear, (low, high)
    # Too narrow for three round values: widen to the round values just outside.
    raw = [t for t in MaxNLocator(nbins=2, steps=list(_STEPS)).tick_values(low, high) if not log or t > 0]
    below = [t for t in raw if t <= low] or [low]
    above = [t for t in raw if t >= high] or [high]
    ticks = [t for t in raw if below[-1] <= t <= above[0]]
    if len(ticks) < MIN_TICKS:  # a constant: three values around it
        step = abs(low) * 0.1 or 1.0
        ticks = [low - step, low, low + step] if not log else [low / 1.25, low, low * 1.25]
    return ticks, (min(low, ticks[0]), max(high, ticks[-1]))


def _linear_ticks(low: float, high: float, most: int, positive: bool = False) -> list[float]:
    """Multiples of a round step inside [low, high], 3 to ``most`` of them: those that cover
    most of the range (80% is enough), then with a 1-2-5 step, then the most ticks ([] if none)."""
    if not high > low:
        return []
    best, best_key = [], None
    for power in range(math.floor(math.log10(high - low)) - 2, math.floor(math.log10(high - low)) + 1):
        for mantissa in _STEPS:
            step = mantissa * 10.0 ** power
            ticks = [k * step for k in range(math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9) + 1)]
            ticks = [t for t in ticks if t > 0] if positive else ticks
            if not MIN_TICKS <= len(ticks) <= most:
                continue
            key = (min(round((ticks[-1] - ticks[0]) / (high - low), 1), 0.8), mantissa in (1, 2, 5, 10), len(ticks))
            if best_key is None or key > best_key:
                best, best_key = [round(t, 12) for t in ticks], key
    return best


def _widened_decades(low: float, high: float, most: int):
    """Every k-th decade with the range widened on one side to the next multiple of k, where the
    range itself holds no 3 to ``most`` round ticks (4.2 decades, room for 3 labels: 10^-4,
    10^-2, 10^0 with the bottom widened from 1.9e-4 to 1e-4). None if the range spans under 2
    decades (the linear steps serve it better)."""
    a, b = math.log10(low), math.log10(high)
    if b - a < 2:
        return None
    for stride in _STRIDES:
        down = math.floor(a / stride) * stride  # widen the bottom ...
        up = math.ceil(b / stride) * stride  # ... or the top
        options = [(a - down, list(range(down, math.floor(b) + 1, stride)), (10.0 ** down, high)),
                   (up - b, list(range(math.ceil(a / stride) * stride, up + 1, stride)), (low, 10.0 ** up))]
        fitting = [option for option in options if MIN_TICKS <= len(option[1]) <= most]
        if fitting:
            _, powers, lims = min(fitting, key=lambda option: option[0])
            return [10.0 ** k for k in powers], lims
    return None


def tick_label(value: float, ticks: list[float], log: bool) -> str:
    """A tick's text: 10^k for decades of a log axis, else the shortest decimal that tells the
    ticks apart (scientific for very large or small values)."""
    if log and all(_is_decade(t) for t in ticks):
        return rf"$\mathdefault{{10^{{{round(math.log10(value))}}}}}$"
    magnitude = max(abs(t) for t in ticks) if ticks else abs(value)
    if magnitude and (magnitude >= 1e5 or magnitude < 1e-3):
        mantissa, exponent = f"{value:.1e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        power = rf"10^{{{int(exponent)}}}"
        shown = power if mantissa == "1" else mantissa + r"\times" + power
        return rf"$\mathdefault{{{shown}}}$"
    if log:  # 0.03, 0.1, 0.3, 1: each as short as it is
        return f"{value:.3g}"
    for decimals in range(0, 7):
        texts = [f"{t:.{decimals}f}" for t in ticks]
        if len(set(texts)) == len(texts) and all(abs(float(s) - t) <= 1e-9 * max(1.0, abs(t))
                                                  for s, t in zip(texts, ticks, strict=True)):
            break
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text.replace("-", "\u2212")


def _is_decade(value: float) -> bool:
    return value > 0 and abs(math.log10(value) - round(math.log10(value))) < 1e-9
