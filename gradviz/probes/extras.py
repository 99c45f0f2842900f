"""What the probes a view asks for on one step measure (``backward_wave.py``,
``connectivity.py``), as plain numpy data.

The trainer process computes them and pickles them to the window, which unpickles them by
importing this module: it must not import torch (the window's process never does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BackwardWave:
    """``arrival`` (T,): the gradient norm reaching each timestep; ``factor`` (T,): what
    multiplies it on the way from t to t-1 (NaN at t = 0, where nothing is left to reach);
    ``path``: "h" or "c" (which state's gradient arrives); ``factor_name`` for labels."""

    arrival: np.ndarray
    factor: np.ndarray
    path: str
    factor_name: str

    @property
    def steps(self) -> int:
        return len(self.arrival)

    @property
    def gain(self) -> np.ndarray:
        """(T,) what the arriving gradient was actually multiplied by from t to t-1:
        arrival[t-1] / arrival[t] (NaN at t = 0). ``factor`` is the Jacobian's norm, a bound:
        a tanh RNN's can exceed 1 while its gradient shrinks, because the gradient does not
        lie along the direction the Jacobian stretches most. For a many-to-many task the gain
        also holds what the losses at t-1 add."""
        gain = np.full(self.steps, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            gain[1:] = self.arrival[:-1] / self.arrival[1:]
        return gain

    def revealed(self, frame: int) -> np.ndarray:
        """The wave after ``frame`` + 1 steps of the backward pass: t = T-1 .. T-1-frame shown,
        the earlier steps NaN (not reached yet)."""
        shown = self.arrival.copy()
        shown[: max(0, self.steps - 1 - frame)] = np.nan
        return shown


@dataclass(frozen=True)
class Connectivity:
    """``matrix`` (L, S, T): batch mean of ||d l_{i,s} / d h_t||, NaN for t > s;
    ``output_steps`` (S,): the timestep (0-based) of each row's output."""

    matrix: np.ndarray
    output_steps: np.ndarray
