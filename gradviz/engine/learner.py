"""One model and its optimiser: a BPTT training step that can also measure itself."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gradviz import threads
from gradviz.boundary import host_arrays, host_scalars
from gradviz.budget import measure_sequences
from gradviz.config import ModelSetup, TrainConfig
from gradviz.engine.batchsplit import BatchSplit
from gradviz.engine.decision import recorded_gradients
from gradviz.models import SequenceModel, build_model
from gradviz.probes.backward_wave import BackwardWave, backward_wave
from gradviz.probes.causes import cut_by_truncation, zero_jacobian_cause
from gradviz.probes.connectivity import Connectivity, connectivity
from gradviz.probes.records import ModelRecord
from gradviz.probes.reduce import probe_tensors, probes_from_host, reduce_on_device
from gradviz.tasks import Task


def make_optimizer(params, train: TrainConfig) -> torch.optim.Optimizer:
    if train.optimizer == "sgd":
        return torch.optim.SGD(params, lr=train.lr, momentum=train.momentum)
    if train.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=train.lr)
    return torch.optim.Adam(params, lr=train.lr)


# What a step can measure beyond its probes (``Learner.step``'s ``extras``), by name.
EXTRAS = {"wave": backward_wave, "connectivity": connectivity}


class Learner:
    """Trains one ``SequenceModel`` with back-propagation through time.

    Steps that record nothing use torch's fused kernel on the same weights (on the CPU, with
    ``split_parts`` > 1, split over the batch: ``engine/batchsplit.py``); recorded steps run
    the observable loop and ask autograd, in the same backward pass, for the gradients of the
    parameters and of every h_t and c_t.
    """

    def __init__(self, setup: ModelSetup, task: Task, seed: int, device: torch.device, split_parts: int = 1):
        self.setup = setup
        self.task = task
        self.model: SequenceModel = build_model(
            setup.model, task.input_size, task.output_size, seed, vocab_size=task.vocab_size
        ).to(device)
        self.train = setup.train
        # torch-named parameters, looked up once (walking the modules costs every step).
        self.params = self.model.torch_parameter_names()
        self.optimizer = make_optimizer(self.model.parameters(), self.train)
        self.diverged = False
        # Fused steps on the CPU split over the batch, each part on a thread (engine/batchsplit.py).
        can_split = split_parts > 1 and device.type == "cpu" and self.model.rnn.can_fuse
        self.split = BatchSplit(split_parts, device) if can_split else None
        # What the last step measured beyond its probes, by name (``step``'s ``extras``).
        self.measured: dict[str, BackwardWave | Connectivity] = {}

    def set_train(self, train: TrainConfig) -> None:
        """Change learning rate, momentum, clipping or truncation between steps, live.

        Changing the optimiser kind starts a fresh optimiser (its moment estimates are lost).
        """
        if train.optimizer != self.train.optimizer:
            self.optimizer = make_optimizer(self.model.parameters(), train)
        for group in self.optimizer.param_groups:
            group["lr"] = train.lr
            if "momentum" in group and train.optimizer == "sgd":
                group["momentum"] = train.momentum
        self.train = train

    def step(self, x: Tensor, y: Tensor, record: bool, sample: int = 0,
             extras: frozenset[str] = frozenset()) -> ModelRecord:
        """One update on batch (x, y); with ``record`` the returned record carries Probes.
        ``extras`` asks for more of this step, on the weights before its update, as the
        probes, kept in ``measured``: "wave" (the backward pass) and "connectivity" (which
        output step teaches which timestep); None for a diverged model."""
        self.measured = dict.fromkeys(extras)
        if self.diverged:
            return ModelRecord(loss=math.nan, metric=math.nan, grad_norm=math.nan, diverged=True)
        model = self.model
        for what in extras:
            if what == "connectivity":  # chunked so that it holds no more than budget.py estimated
                spec = self.setup.model
                bound = measure_sequences(spec.kind, spec.hidden, spec.layers, x.shape[0], x.shape[1])
                self.measured[what] = connectivity(model, self.task, x, y, self.train.tbptt, max_sequences=bound)
            else:
                self.measured[what] = EXTRAS[what](model, self.task, x, y, self.train.tbptt)
        params = self.params
        reduced: dict[str, Tensor] = {}
        cut = None
        self.optimizer.zero_grad(set_to_none=True)
        split_step = not record and self.split is not None
        if split_step:  # forward and backward at once, part by part: the gradients are set
            # All of it on one intra-op thread, the parts' sums too: the part threads ran the
            # step, and waking torch's own sleeping threads for the sums cost 10% of it.
            with threads.one_op_thread():
                loss, prediction = self.split.gradients(model, self.task, x, y, self.train.tbptt,
                                                        list(params.values()))
        else:
            outputs, _, traces = model(x, observe=record, tbptt=self.train.tbptt)
            prediction = model.head(self.task.readout(outputs))
            loss = self.task.loss(prediction, y)
        if record:
            assert traces is not None
            states = probe_tensors(traces)  # (T, B, H) per layer: every timestep at once
            grads, decision_grads, all_grads = recorded_gradients(
                self.task, loss, prediction, y, list(params.values()), states
            )
            param_grads = {}
            storages = set()
            for (name, param), grad in zip(params.items(), grads, strict=True):
                if grad is None:
                    grad = torch.zeros_like(param)
                elif grad.untyped_storage().data_ptr() in storages:
                    # autograd hands b_ih and b_hh one shared tensor (they are summed): without
                    # a copy, in-place clipping would scale that gradient twice.
                    grad = grad.clone()
                storages.add(grad.untyped_storage().data_ptr())
                param.grad = grad
                param_grads[name] = grad
            mask = self.task.mask(x)  # text: padding left out of the gradient and gate plots
            decision_steps = self.task.decision_steps()
            cut = cut_by_truncation(decision_steps, self.train.tbptt)
            reduced = reduce_on_device(model, traces, decision_grads, param_grads, sample, mask, all_grads)
        elif not split_step:
            loss.backward()
        # The norm before clipping: what Pascanu et al. (2013) plot. Without clipping, only
        # the norm (clip_grad_norm_ would multiply every gradient by 1).
        grads = [param.grad for param in params.values() if param.grad is not None]
        if self.train.clip > 0:
            grad_norm = torch.nn.utils.clip_grad_norm_(list(params.values()), self.train.clip)
        else:
            grad_norm = torch.nn.utils.get_total_norm(grads)
        metric = self.task.metric(prediction.detach(), y)  # of the prediction before the update
        # The step's one copy to the host: its scalars, and on a recorded step every probe.
        probes = None
        if record:
            host = host_arrays({"loss": loss, "grad_norm": grad_norm, "metric": metric, **reduced})
            loss_value, norm_value, metric_value = (float(host[name]) for name in ("loss", "grad_norm", "metric"))
            zero_cause = zero_jacobian_cause(model.config.kind, model.config.nonlinearity)
            probes = probes_from_host(host, model.config.kind, cut, decision_steps, self.train.tbptt, zero_cause)
        else:
            loss_value, norm_value, metric_value = host_scalars(loss, grad_norm, metric)
        if not (math.isfinite(loss_value) and math.isfinite(norm_value)):
            # A NaN/inf update would poison the weights for good: keep the last finite ones.
            self.diverged = True
            return ModelRecord(loss_value, math.nan, norm_value, diverged=True, probes=probes, diverged_now=True)
        self.optimizer.step()
        return ModelRecord(loss_value, metric_value, norm_value, probes=probes)
