"""The gradients a recorded step asks autograd for: the parameters' (to train on) and every
h_t's and c_t's (to show), the latter of each sequence's *decision loss*.

The training loss is a mean over the batch (and, for copy and names, over timesteps). The plots
show instead the gradient of each sequence's own loss, so that batch size does not move them,
and of its decision loss (``Task.decision_loss``), so that each step's own prediction does not
hide the memory the task needs:

- one output per sequence (adding, order, reviews, text): the decision loss is the loss; the
  state gradients of the same backward pass are scaled by ``Task.loss_terms`` (B).
- an output at every step (copy, names): a second backward of the summed decision loss gives
  the state gradients; the first pass's, scaled by T B, are the whole loss's (``all``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gradviz.tasks import Task


def recorded_gradients(
    task: Task, loss: Tensor, prediction: Tensor, target: Tensor, params: list[Tensor], states: list[Tensor]
) -> tuple[list[Tensor | None], list[Tensor | None], list[Tensor | None] | None]:
    """(parameter gradients of ``loss``, state gradients of the summed decision loss, state
    gradients of the summed whole loss where it differs, else None)."""
    decision = task.decision_loss(prediction, target)
    grads = torch.autograd.grad(loss, params + states, allow_unused=True, retain_graph=decision is not None)
    scale = float(task.loss_terms(target))
    whole = [None if grad is None else grad * scale for grad in grads[len(params) :]]
    if decision is None:
        return list(grads[: len(params)]), whole, None
    decision_grads = torch.autograd.grad(decision, states, allow_unused=True)
    return list(grads[: len(params)]), list(decision_grads), whole
