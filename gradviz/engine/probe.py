"""One measured step at initialisation, with everything in full: what ``gradviz probe`` writes.

Unlike a training record (one sample's gates), a probe keeps the whole batch: x, y, every
parameter, and gates of shape (layers, T, B, H), so that an independent computation can check
every number gradviz shows. ``grad_h`` (and ``grad_c``) are the same per-sequence decision-loss
gradients the window plots, padding left out (see ``engine/decision.py``); ``grad_h_all`` is
the whole loss's where the two differ (copy, names); ``grad_cause`` says why a step is 0.
"""

from __future__ import annotations

import numpy as np
import torch

from gradviz.boundary import host_array, host_scalar
from gradviz.config import RunConfig
from gradviz.engine.decision import recorded_gradients
from gradviz.engine.device import choose_device, prepare_device
from gradviz.engine.run import build_task
from gradviz.models import LayerTrace, build_model
from gradviz.probes.causes import classify, cut_by_truncation, cut_by_zero_jacobian, zero_jacobian_cause
from gradviz.probes.gradients import norms_over_time
from gradviz.probes.jacobian import zero_jacobian
from gradviz.probes.reduce import probe_tensors


def probe_arrays(config: RunConfig, model_index: int = 0) -> dict[str, np.ndarray]:
    """Arrays for model ``model_index`` of ``config`` on the run's first batch, before training."""
    device = choose_device(config.device)
    prepare_device(device)
    task = build_task(config)
    setup = config.models[model_index]
    model = build_model(setup.model, task.input_size, task.output_size, config.seed, task.vocab_size).to(device)
    generator = torch.Generator().manual_seed(config.seed)
    x, y = task.generate(config.task.batch, generator, device)

    traces = [LayerTrace() for _ in range(setup.model.layers)]
    outputs, _ = model.rnn.forward_observed(model.embed(x), tbptt=setup.train.tbptt, traces=traces)
    prediction = model.head(task.readout(outputs))
    loss = task.loss(prediction, y)
    params = model.torch_parameter_names()
    states = probe_tensors(traces)  # (T, B, H) per layer, h_t then c_t
    _, decision_grads, all_grads = recorded_gradients(task, loss, prediction, y, list(params.values()), states)
    steps, layers = traces[0].values["hidden"].shape[0], len(traces)
    like = traces[0].values["hidden"]
    mask = task.mask(x)  # text: padding left out of the means, as in the window

    host = host_array  # a probe is a one-off: a copy per array is fine here

    def norms(grads: list) -> np.ndarray:
        return np.stack([host(norms_over_time(grad, steps, like, mask)) for grad in grads])  # (L, T)

    grad_h = norms(decision_grads[:layers])
    padding = np.zeros(steps, dtype=bool) if mask is None else host(~mask.any(dim=1))
    decision_steps = task.decision_steps()
    truncated = cut_by_truncation(decision_steps, setup.train.tbptt)
    zero = host(zero_jacobian(model, traces[-1], layers - 1))
    chain_cut = cut_by_zero_jacobian(zero, decision_steps, setup.train.tbptt, None if mask is None else host(mask))
    zero_cause = zero_jacobian_cause(setup.model.kind, setup.model.nonlinearity)
    arrays = {
        "config_json": np.array(config.to_json()),
        "x": host(x.transpose(0, 1)),  # (B, T, I)
        "y": host(y.transpose(0, 1) if y.dim() >= 2 and task.kind == "many-to-many" else y),
        "loss": np.float64(host_scalar(loss)),
        "grad_h": grad_h,  # (L, T) mean over the batch of |d l_i/dh_t|, l_i: sequence i's decision loss
        "grad_cause": classify(grad_h[-1], truncated, padding, chain_cut, zero_cause),
    }
    if all_grads is not None:
        arrays["grad_h_all"] = norms(all_grads[:layers])  # the same for each sequence's whole loss
    if setup.model.kind == "lstm":
        arrays["grad_c"] = norms(decision_grads[layers:])
        arrays["gate/cell_state"] = np.stack([host(torch.stack(t.cell)) for t in traces])
    for name, param in params.items():
        arrays[f"param/{name}"] = host(param)
    for name in model.gate_names:
        arrays[f"gate/{name}"] = np.stack([host(torch.stack(t.gates[name])) for t in traces])  # (L, T, B, H)
    return arrays
