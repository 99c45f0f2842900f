"""What one training step reports: plain numpy and floats, no tensors, no Qt.

Every step each model reports its scalars (``ModelRecord`` with ``probes=None``); every
``record_every`` steps it also carries ``Probes``, the full measurement the plots show. The
arrays are detached CPU copies, so a record can cross threads and outlive the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Probes:
    """The full measurement of one model at one step. L layers, T timesteps, H units."""

    grad_h: np.ndarray  # (L, T) float32: mean over batch of |dL/dh_t| (see gradients.py)
    grad_c: np.ndarray | None  # (L, T) LSTM: the same for the cell state c_t
    gates: dict[str, np.ndarray]  # name -> (L, T, H): one sample: gates, cell_state, hidden h_t
    gate_means: dict[str, np.ndarray]  # name -> (L, T): batch and unit mean per timestep
    param_grad_norms: dict[str, float]  # torch name -> |grad| before clipping
    spectral_radius: np.ndarray  # (L,) of W_hh's candidate block (W_hh itself for an RNN)
    half_life: float  # timesteps over which grad_h of the top layer halves going back
    underflow_steps: int  # timesteps whose top-layer gradient is exactly 0

    @property
    def top_grad_h(self) -> np.ndarray:
        return self.grad_h[-1]


@dataclass(frozen=True)
class ModelRecord:
    """One model's numbers after one step."""

    loss: float
    metric: float
    grad_norm: float  # total gradient norm before clipping
    diverged: bool = False  # loss or gradient became NaN/inf; the step was not applied
    probes: Probes | None = None


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
