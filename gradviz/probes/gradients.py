"""Per-timestep gradient measurements: how far back in the sequence the learning signal reaches.

Definition used everywhere in gradviz: for layer l and timestep t, ``grad_h[l, t]`` is the mean
over the batch of each sample's L2 norm of dL/dh_t, where dL/dh_t is the *total* derivative of
the batch loss through time (every path from h_t to the loss: through h_{t+1}, ..., through the
layer above, through the readout). It is what autograd returns for h_t as a graph node.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor


def sample_norms(grad: Tensor) -> Tensor:
    """(B, H) -> (B,) L2 norm of each row, without underflow.

    A plain float32 norm squares its elements, so gradients below about 1e-19 (whose squares
    are subnormal, flushed to zero on CPU) would show as exactly 0 although they are not:
    scaling each row by its largest element first keeps every nonzero gradient visible.
    """
    scale = grad.abs().amax(dim=-1, keepdim=True)
    scale = torch.where(torch.isfinite(scale) & (scale > 0), scale, torch.ones_like(scale))
    return torch.linalg.vector_norm(grad / scale, dim=-1) * scale.squeeze(-1)


def norms_over_time(grad: Tensor | None, steps: int, like: Tensor, mask: Tensor | None = None) -> Tensor:
    """(T, B, H) -> (T,) mean over the batch of per-sample L2 norms, every timestep at once;
    ``None`` (the loss never reaches these states) gives zeros like ``like``. With a (T, B)
    ``mask`` the mean is over the samples with a real input at t (padding left out), and NaN
    where every sample is padding."""
    if grad is None:
        return like.new_zeros(steps)
    norms = sample_norms(grad)
    if mask is None:
        return norms.mean(dim=-1)
    return masked_mean(norms, mask)


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """(T, B, ...) -> (T,) mean over everything but time of the samples where ``mask`` (T, B)
    is True; NaN at a step with none."""
    weights = mask.to(values.dtype).reshape(*mask.shape, *([1] * (values.dim() - 2)))
    count = mask.sum(dim=1).to(values.dtype) * values[0, 0].numel()
    return (values * weights).flatten(1).sum(dim=1) / count


def norm_per_step(states: list[Tensor], grads: list[Tensor | None]) -> Tensor:
    """(T,) mean over the batch of per-sample L2 norms; a step the loss never reaches is 0."""
    rows = []
    for state, grad in zip(states, grads, strict=True):
        if grad is None:
            rows.append(state.new_zeros(()))
        else:
            rows.append(sample_norms(grad).mean())
    return torch.stack(rows)


def half_life(profile: np.ndarray) -> float:
    """Timesteps over which the gradient norm halves, going back from the loss.

    A least-squares line is fitted to log2(norm) against timestep over the steps with a
    positive, finite norm. Positive: the gradient halves every that many steps back
    (vanishing). Negative: it doubles every |that| many steps back (exploding). ``inf``: flat.
    ``nan``: fewer than two usable steps (all gradients zero, say).
    """
    profile = np.asarray(profile, dtype=np.float64)
    steps = np.nonzero(np.isfinite(profile) & (profile > 0))[0]
    if len(steps) < 2:
        return math.nan
    slope = np.polyfit(steps.astype(np.float64), np.log2(profile[steps]), 1)[0]
    if abs(slope) < 1e-12:
        return math.inf
    return float(1.0 / slope)


def describe_half_life(value: float) -> str:
    """The sentence a lecturer can quote."""
    if math.isnan(value):
        return "no gradient reaches the sequence"
    if math.isinf(value):
        return "the gradient neither shrinks nor grows"
    if value > 0:
        return f"the gradient halves every {value:.3g} timesteps back"
    return f"the gradient doubles every {-value:.3g} timesteps back"
