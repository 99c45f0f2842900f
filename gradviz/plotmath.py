"""Numbers made ready for a plot, shared by the live window (gui/plots) and the file figures
(figures/): no Qt here, so both layers can use one definition."""

from __future__ import annotations

import numpy as np


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """float copy with inf replaced by NaN, so curves break instead of blowing up the range."""
    values = np.array(values, dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def log10_or_nan(values: np.ndarray) -> np.ndarray:
    """log10 of a norm; exact zeros (underflow) and non-finite values become NaN."""
    values = np.array(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    good = np.isfinite(values) & (values > 0)
    out[good] = np.log10(values[good])
    return out


def last_finite_row(grads: np.ndarray, explained: np.ndarray | None = None) -> int | None:
    """The newest row of ``grads`` (N, T: recorded steps' gradient norms per timestep) with no
    overflow (inf or NaN where ``explained``, (N, T) bool, padding say, does not excuse it) and
    some gradient: what a diverged model's gradient plot shows, in the window and in a figure
    (its later rows are NaN, or decades of overflow with no story in them). None if none is."""
    for row in range(len(grads) - 1, -1, -1):
        fine = np.isfinite(grads[row]) if explained is None else np.isfinite(grads[row]) | explained[row]
        if np.all(fine) and np.any(grads[row] > 0):
            return row
    return None


# A flat record (infinite half-life) is marked this share of the half-life plot's height below
# its top, in the window and in figures.
FLAT_MARK_DEPTH = 0.06

GRADIENT_DECADES = 10.0  # a gradient colour scale spans this many decades below its top


def decade_levels(arrays: list) -> tuple[float, float]:
    """Log10 colour levels shared by ``arrays`` of gradient norms: from the top decade of their
    largest finite, positive value down ``GRADIENT_DECADES`` decades ((-10, 0) for none)."""
    logs = [log10_or_nan(values).ravel() for values in arrays]
    finite = np.concatenate(logs) if logs else np.empty(0)
    finite = finite[np.isfinite(finite)]
    top = float(np.ceil(finite.max())) if finite.size else 0.0
    return (top - GRADIENT_DECADES, top)


RECENT_STEPS = 20  # a loss verdict is the mean over this many recent steps: one batch is noise
NEAR_BASELINE = 0.1  # within 10% of the baseline reads "at" it


def recent_loss(losses: np.ndarray) -> float | None:
    """The mean of the last ``RECENT_STEPS`` finite losses of ``losses`` (None if none is)."""
    recent = np.asarray(losses, dtype=np.float64)[-RECENT_STEPS:]
    recent = recent[np.isfinite(recent)]
    return float(recent.mean()) if recent.size else None


def verdict(loss: float, baseline_loss: float) -> str:
    """Where ``loss`` stands against the memoryless baseline: "below", "at" or "above"."""
    if loss < (1 - NEAR_BASELINE) * baseline_loss:
        return "below"
    return "above" if loss > (1 + NEAR_BASELINE) * baseline_loss else "at"
