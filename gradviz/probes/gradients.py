"""Per-timestep gradient measurements: how far back in the sequence the learning signal reaches.

Definition used everywhere in gradviz: for layer l and timestep t, ``grad_h[l, t]`` is the mean
over the batch of ||d l_i / d h_t||, where l_i is sequence i's own *decision loss* (the loss
terms whose targets need memory; see ``Task.decision_loss``) and the derivative is the *total*
derivative through time (every path from h_t to the loss: through h_{t+1}, ..., through the
layer above, through the readout). Sequences of a batch do not interact, so sample i's row of
the gradient of the batch's summed loss is d l_i / d h_t: the measure is per sequence, and B
times the gradient of the batch-mean loss. Batch size does not move it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gradviz.boundary import FLOAT32_TINY, flush_subnormal


def sample_norms(grad: Tensor) -> Tensor:
    """(B, H) -> (B,) L2 norm of each row, without underflow.

    A plain float32 norm squares its elements, so gradients below about 1e-19 (whose squares
    are subnormal, flushed to zero on CPU) would show as exactly 0 although they are not:
    scaling each row by its largest element first keeps every nonzero gradient visible. A row
    whose every element is below float32's smallest normal is 0 on every device (the precision
    policy, boundary.py): the CPU flushes such subnormals, a GPU would keep them.
    """
    largest = grad.abs().amax(dim=-1, keepdim=True)
    scale = torch.where(torch.isfinite(largest) & (largest > 0), largest, torch.ones_like(largest))
    norms = torch.linalg.vector_norm(grad / scale, dim=-1) * scale.squeeze(-1)
    return torch.where(largest.squeeze(-1) < FLOAT32_TINY, torch.zeros_like(norms), norms)


def norms_over_time(grad: Tensor | None, steps: int, like: Tensor, mask: Tensor | None = None) -> Tensor:
    """(T, B, H) -> (T,) mean over the batch of per-sample L2 norms, every timestep at once;
    ``None`` (the loss never reaches these states) gives zeros like ``like``. With a (T, B)
    ``mask`` the mean is over the samples with a real input at t (padding left out), and NaN
    where every sample is padding."""
    if grad is None:
        return like.new_zeros(steps)
    norms = sample_norms(grad)
    # A mean of normal numbers can itself be subnormal: the same threshold again.
    return flush_subnormal(norms.mean(dim=-1) if mask is None else masked_mean(norms, mask))


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """(T, B, ...) -> (T,) mean over everything but time of the samples where ``mask`` (T, B)
    is True; NaN at a step with none."""
    weights = mask.to(values.dtype).reshape(*mask.shape, *([1] * (values.dim() - 2)))
    count = mask.sum(dim=1).to(values.dtype) * values[0, 0].numel()
    return (values * weights).flatten(1).sum(dim=1) / count
