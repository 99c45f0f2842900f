"""Why a timestep shows no gradient: four causes that a plot must not lump together.

A per-timestep gradient norm that is 0 or not finite has one of these causes:

- ``UNDERFLOW``: exactly 0 although the chain rule reaches the step; the product of Jacobians
  fell below float32's smallest number. Only this is the vanishing gradient.
- ``TRUNCATED``: truncated BPTT cut the path; no loss term in the step's window comes after it.
- ``PADDING``: NaN because every sequence of the batch is padding at that step (text).
- ``OVERFLOW``: inf or NaN from arithmetic: the gradient exploded.

``FINITE`` marks an ordinary positive number. ``classify`` gives each timestep its cause,
``cut_by_truncation`` the steps truncated BPTT cannot reach.
"""

from __future__ import annotations

import numpy as np

FINITE, UNDERFLOW, TRUNCATED, PADDING, OVERFLOW = 0, 1, 2, 3, 4
CAUSE_NAMES = {
    FINITE: "",
    UNDERFLOW: "underflow to 0",
    TRUNCATED: "cut by truncation",
    PADDING: "padding",
    OVERFLOW: "overflow (inf/NaN)",
}


def cut_by_truncation(decision_steps: np.ndarray, tbptt: int) -> np.ndarray:
    """(T,) bool: steps no decision-loss term can reach under truncated BPTT with window k.

    Windows of k steps are aligned to the end of the sequence (as in ``models.cells._cut``):
    step t lies in window (T - 1 - t) // k, and a loss term at step s reaches t only if s >= t
    and s is in the same window. Without truncation nothing is cut.
    """
    decision_steps = np.asarray(decision_steps, dtype=bool)
    steps = len(decision_steps)
    if not tbptt or tbptt >= steps:
        return np.zeros(steps, dtype=bool)
    window = (steps - 1 - np.arange(steps)) // tbptt
    cut = np.ones(steps, dtype=bool)
    seen: set[int] = set()  # windows with a loss term at or after t, scanning t from the end
    for t in range(steps - 1, -1, -1):
        if decision_steps[t]:
            seen.add(int(window[t]))
        cut[t] = int(window[t]) not in seen
    return cut


def classify(profile: np.ndarray, truncated: np.ndarray, padding: np.ndarray) -> np.ndarray:
    """(T,) int8 cause of each timestep of a gradient-norm profile (see the module docstring)."""
    profile = np.asarray(profile)
    causes = np.full(profile.shape, FINITE, dtype=np.int8)
    causes[~np.isfinite(profile)] = OVERFLOW
    causes[np.isnan(profile) & padding] = PADDING
    causes[(profile == 0) & ~truncated] = UNDERFLOW
    causes[truncated & ~padding] = TRUNCATED
    return causes


def count(causes: np.ndarray, cause: int) -> int:
    return int(np.count_nonzero(np.asarray(causes) == cause))


def describe_cause(cause: int) -> str:
    return CAUSE_NAMES.get(int(cause), "")
