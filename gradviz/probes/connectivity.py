"""Itemized gradients (RNNbow, Cashman et al. 2019): which output step teaches which timestep.

For a batch and a model, the connectivity matrix is

    M[l, s, t] = mean over sequences i of ||d l_{i,s} / d h^l_t||      (t <= s)

where l_{i,s} is the loss of sequence i at output step s (its own loss, not divided by the
batch size or the number of steps) and h^l_t the hidden state of layer l at timestep t. Its
row for the last output step of a many-to-one task is the probe's per-sequence decision
gradient profile, grad_h (probes/gradients.py). A many-to-one task has one row; a
many-to-many task one per timestep: for the copy task the last 10 rows are the answer steps,
reaching back (or not) to the 10 data steps. Entries with t > s are NaN (no path exists);
a 0 at t <= s is a gradient that underflowed.

How it is computed: batched vector-Jacobian products over s. The batch is replicated once per
output step of a chunk, replica k's loss is the loss at its own step s_k only, and one
forward and one backward pass give every row of the chunk (autograd's ``is_grads_batched``
cannot vmap the hand-written BPTT of ``models/cells.py``; replicas do the same with plain
autograd), over the timesteps up to the chunk's last output step only. Chunks hold at most
``max_sequences`` sequences, which bounds the memory.

What it costs: S output steps need S vector-Jacobian products through up to T steps each,
so the matrix costs about S/2 backward passes of the batch (a many-to-one task: one). At
T=100 the copy task has 120 rows: tens of training steps' worth, so compute it on the
recorded step a view shows, not every step (``python -m gradviz.bench_connectivity``
measures it against a recorded training step).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gradviz.boundary import flush_subnormal, host_array
from gradviz.models import SequenceModel
from gradviz.probes.extras import Connectivity
from gradviz.probes.gradients import sample_norms
from gradviz.tasks import MANY_TO_ONE, Task


def output_steps(task: Task) -> list[int]:
    """The timesteps where the task's loss reads an output: the last one, or every one."""
    steps = task.total_steps
    return [steps - 1] if task.kind == MANY_TO_ONE else list(range(steps))


def connectivity(
    model: SequenceModel,
    task: Task,
    x: Tensor,  # (T, B, I), or (T, B) token ids
    y: Tensor,
    tbptt: int = 0,
    max_sequences: int = 1024,
) -> Connectivity:
    """The connectivity matrix of ``model`` on the batch (x, y); the weights are not changed.

    ``tbptt`` cuts the paths as training does (0: full BPTT). The task's loss must be a mean
    of per-position losses (every gradviz task's is), so that B times the loss of one
    position over the batch is the sum of the sequences' own losses there.
    """
    steps = output_steps(task)
    batch = x.shape[1]
    per_chunk = max(1, max_sequences // batch)
    rows = []
    with torch.enable_grad():
        for start in range(0, len(steps), per_chunk):
            rows.append(_rows(model, task, x, y, steps[start : start + per_chunk], tbptt))
    matrix = host_array(torch.cat(rows, dim=1), np.float64)  # (L, S, T)
    after = np.arange(matrix.shape[2])[None, :] > np.array(steps)[:, None]  # (S, T): t > s
    matrix[:, after] = np.nan
    return Connectivity(matrix=matrix, output_steps=np.array(steps))


def _rows(model: SequenceModel, task: Task, x: Tensor, y: Tensor, steps: list[int], tbptt: int) -> Tensor:
    """(L, len(steps), T) for one chunk of output steps, from one forward and one backward."""
    copies, batch = len(steps), x.shape[1]
    if task.kind != MANY_TO_ONE and not tbptt:
        # Nothing after the chunk's last output step reaches its losses: leave it out. (Not
        # with truncation, whose windows are aligned to the end of the sequence.)
        x = x[: max(steps) + 1]
    replicated = x.repeat(1, copies, *([1] * (x.dim() - 2)))  # (T, copies * B, ...): replica k, then k + 1
    outputs, _, traces = model(replicated, observe=True, tbptt=tbptt)
    assert traces is not None
    prediction = model.head(task.readout(outputs))
    if task.kind == MANY_TO_ONE:
        mine, target = prediction, y.repeat(copies, *([1] * (y.dim() - 1)))
    else:
        # replica k keeps only its own output step s_k: (copies, B, C) against (copies, B)
        mine = torch.stack([prediction[s, k * batch : (k + 1) * batch] for k, s in enumerate(steps)])
        target = torch.stack([y[s] for s in steps])
    total = task.loss(mine, target) * (copies * batch)  # the sum of every replica's own loss
    probes = [trace.probes[0] for trace in traces]  # (T, copies * B, H) per layer
    grads = torch.autograd.grad(total, probes, allow_unused=True)
    layers = []
    for probe, grad in zip(probes, grads, strict=True):
        if grad is None:
            layers.append(probe.new_zeros(copies, probe.shape[0]))
            continue
        norms = sample_norms(grad.detach()).view(grad.shape[0], copies, batch)  # (T', copies, B)
        layers.append(flush_subnormal(norms.mean(dim=2)).t())  # (copies, T'); a subnormal mean is 0
    rows = torch.stack(layers)  # (L, copies, T')
    steps_total = rows.shape[2] if task.kind == MANY_TO_ONE else y.shape[0]
    return torch.nn.functional.pad(rows, (0, steps_total - rows.shape[2]))  # no path reaches past T': 0
