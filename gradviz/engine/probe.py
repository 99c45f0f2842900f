"""One measured step at initialisation, with everything in full: what ``gradviz probe`` writes.

Unlike a training record (one sample's gates, batch-mean gradients), a probe keeps the whole
batch: x, y, every parameter, and gates of shape (layers, T, B, H), so that an independent
computation can check every number gradviz shows.
"""

from __future__ import annotations

import numpy as np
import torch

from gradviz.config import RunConfig
from gradviz.engine.device import choose_device, prepare_device
from gradviz.engine.run import build_task
from gradviz.models import LayerTrace, build_model
from gradviz.probes.gradients import norm_per_step
from gradviz.probes.measure import state_tensors


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
    loss = task.loss(model.head(task.readout(outputs)), y)
    params = model.torch_parameter_names()
    states = state_tensors(traces)
    grads = torch.autograd.grad(loss, list(params.values()) + states, allow_unused=True)
    state_grads = grads[len(params) :]
    steps = len(traces[0].hidden)

    def host(tensor: torch.Tensor) -> np.ndarray:
        return tensor.detach().cpu().numpy()

    arrays = {
        "config_json": np.array(config.to_json()),
        "x": host(x.transpose(0, 1)),  # (B, T, I)
        "y": host(y.transpose(0, 1) if y.dim() >= 2 and task.kind == "many-to-many" else y),
        "loss": np.float64(loss.item()),
        "grad_h": np.stack(
            [host(norm_per_step(t.hidden, state_grads[i * steps : (i + 1) * steps])) for i, t in enumerate(traces)]
        ),
    }
    if setup.model.kind == "lstm":
        offset = steps * len(traces)
        arrays["grad_c"] = np.stack(
            [
                host(norm_per_step(t.cell, state_grads[offset + i * steps : offset + (i + 1) * steps]))
                for i, t in enumerate(traces)
            ]
        )
        arrays["gate/cell_state"] = np.stack([host(torch.stack(t.cell)) for t in traces])
    for name, param in params.items():
        arrays[f"param/{name}"] = host(param)
    for name in model.gate_names:
        arrays[f"gate/{name}"] = np.stack([host(torch.stack(t.gates[name])) for t in traces])  # (L, T, B, H)
    return arrays
