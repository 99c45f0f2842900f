"""A fused step split over the batch: each part's forward and backward on a thread of its own.

Torch's intra-op threads split every operation of a step and wait for each other at its end:
thousands of waits a step. Beside a busy program one of them runs late at every one of them,
and a second thread costs more than it gives (docs/PERFORMANCE.md, "Threads on a busy
machine"). Splitting the batch instead, each part's whole forward and backward on one thread
(torch's own fused kernel, one intra-op thread each), waits once a step: measured with an LSTM
at H = 128 (T = 50, B = 64) on 2 cores, a little faster than 2 intra-op threads alone, and
beside two busy processes 1.7-2.0x its time alone against 2.1-2.5x without the split.

Exact, not approximate: every task's loss is a mean over its target's elements
(``Task.loss_terms``), so the batch's loss is the parts' losses weighted by their share of
those terms, and its gradient the same sum of theirs; they are added in a fixed order, so a
step gives the same numbers whichever thread finished first, so a fused step's numbers never
depend on the machine's load (to float32 rounding they are the whole batch's at once:
tests/core/test_batch_split.py).

Only fused steps on the CPU split; recorded steps (the observable loop and its probes) keep
the whole batch. How many parts: ``gradviz.threads.batch_parts``, fixed for a run; the
threads: ``gradviz.workers``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import torch
from torch import Tensor

from gradviz import workers
from gradviz.engine.device import prepare_thread
from gradviz.models import SequenceModel
from gradviz.tasks import Task


class PartResult(NamedTuple):
    loss: Tensor  # the part's loss times its share of the batch's loss terms
    prediction: Tensor
    grads: tuple[Tensor | None, ...]  # of that weighted loss, per parameter (None: unused)


class BatchSplit:
    """``parts`` threads for a model's fused steps: the calling thread takes the first part."""

    def __init__(self, parts: int, device: torch.device):
        if parts < 2:
            raise ValueError(f"a batch split needs 2 parts or more, got {parts}")
        self.parts = parts
        self.device = device

    def gradients(self, model: SequenceModel, task: Task, x: Tensor, y: Tensor, tbptt: int,
                  params: list[torch.nn.Parameter]) -> tuple[Tensor, Tensor]:
        """Forward and backward of the whole batch, part by part: set every parameter's
        ``grad`` to the gradient of the batch's loss; return that loss and the prediction
        (detached), as one forward and ``loss.backward()`` would."""
        dim = task.batch_dim
        xs = x.chunk(self.parts, dim=1)
        ys = y.chunk(self.parts, dim=dim)
        total_terms = task.loss_terms(y)

        def part(index: int) -> PartResult:
            prepare_thread(self.device)  # flushing subnormals is per thread
            outputs, _, _ = model(xs[index], observe=False, tbptt=tbptt)
            prediction = model.head(task.readout(outputs))
            loss = task.loss(prediction, ys[index]) * (task.loss_terms(ys[index]) / total_terms)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            return PartResult(loss.detach(), prediction.detach(), grads)

        results = workers.run_parts([partial(part, index) for index in range(len(xs))])
        loss = results[0].loss
        for other in results[1:]:
            loss = loss + other.loss
        for index, param in enumerate(params):
            grads = [result.grads[index] for result in results if result.grads[index] is not None]
            if not grads:
                param.grad = None
                continue
            total = grads[0].clone()  # a fresh tensor: b_ih and b_hh may share one from autograd
            for grad in grads[1:]:
                total += grad
            param.grad = total
        return loss, torch.cat([result.prediction for result in results], dim=dim)
