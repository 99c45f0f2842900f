"""What one training step reports: plain numpy and floats, no tensors, no Qt.

Every step each model reports its scalars (``ModelRecord`` with ``probes=None``); every
``record_every`` steps it also carries ``Probes``, the full measurement the plots show. The
arrays are detached CPU copies, so a record can cross threads and outlive the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gradviz.probes.halflife import Decay


@dataclass(frozen=True)
class Probes:
    """The full measurement of one model at one step. L layers, T timesteps, H units."""

    grad_h: np.ndarray  # (L, T) float32: mean over the batch of |d l_i/dh_t|, l_i = sequence i's decision loss
    grad_c: np.ndarray | None  # (L, T) LSTM: the same for the cell state c_t
    gates: dict[str, np.ndarray]  # name -> (L, T, H): one sample: gates, cell_state, hidden h_t
    gate_means: dict[str, np.ndarray]  # name -> (L, T): batch and unit mean per timestep
    param_grad_norms: dict[str, float]  # torch name -> |grad| before clipping
    spectral_radius: np.ndarray  # (L,) of W_hh's candidate block (W_hh itself for an RNN)
    half_life: float  # of the headline profile (C_t for an LSTM, else h_t), far regime; see halflife.py
    underflow_steps: int  # timesteps whose top-layer gradient underflowed to exactly 0
    grad_h_all: np.ndarray | None = None  # (L, T) the same for each sequence's whole loss, where it differs
    grad_cause: np.ndarray | None = None  # (T,) int8 why top-layer grad_h is 0 or not finite (causes.py)
    truncated_steps: int = 0  # timesteps truncated BPTT cut off from every decision-loss term
    near_half_life: float = math.nan  # two regimes: the half-life nearest the loss
    near_steps: int = 0  # ... over this many timesteps (0: one regime)
    step_factor: np.ndarray | None = None  # (L,) per-step Jacobian norm, a bound on the gain (jacobian.py)

    @property
    def top_grad_h(self) -> np.ndarray:
        return self.grad_h[-1]

    @property
    def headline(self) -> np.ndarray:
        """The profile the half-life describes: an LSTM's cell path C_t carries its memory."""
        return self.grad_c[-1] if self.grad_c is not None else self.grad_h[-1]

    @property
    def decay(self) -> Decay:
        return Decay(self.half_life, self.near_half_life, self.near_steps)


@dataclass(frozen=True)
class ModelRecord:
    """One model's numbers after one step."""

    loss: float
    metric: float
    grad_norm: float  # total gradient norm before clipping
    diverged: bool = False  # loss or gradient became NaN/inf (now or before); no update applied
    probes: Probes | None = None
    diverged_now: bool = False  # it diverged at this very step


@dataclass(frozen=True)
class StepRecord:
    """All models at training step ``step``: measured on the weights after ``step`` updates,
    before the update that this step then applies (so step 0 shows the initialisation)."""

    step: int
    models: tuple[ModelRecord, ...] = field(default_factory=tuple)

    @property
    def recorded(self) -> bool:
        return any(m.probes is not None for m in self.models)

    @property
    def diverged(self) -> bool:
        return any(m.diverged for m in self.models)

    @property
    def newly_diverged(self) -> list[int]:
        """Indices of the models that diverged at this step (the others train on)."""
        return [index for index, m in enumerate(self.models) if m.diverged_now]
