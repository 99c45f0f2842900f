"""Turn one observed forward/backward pass into ``Probes``: the numbers behind every plot."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gradviz.models import LayerTrace, SequenceModel, spectral_radius
from gradviz.probes.gradients import half_life, norm_per_step
from gradviz.probes.records import Probes


def candidate_block(model: SequenceModel, layer: int) -> Tensor:
    """The H x H block of W_hh that feeds the new content (the RNN's W_hh, LSTM's W_C, GRU's W_n)."""
    w_hh = getattr(model.rnn, f"weight_hh_l{layer}")
    hidden = model.config.hidden
    if model.config.kind == "rnn":
        return w_hh
    return w_hh[2 * hidden : 3 * hidden]  # LSTM order i, f, g, o; GRU order r, z, n


def spectral_radii(model: SequenceModel) -> np.ndarray:
    """(L,) spectral radius of each layer's candidate block of W_hh."""
    return np.array([spectral_radius(candidate_block(model, layer)) for layer in range(model.config.layers)])


def state_tensors(traces: list[LayerTrace]) -> list[Tensor]:
    """Every h_t of every layer, then every c_t (LSTM): the graph nodes to differentiate."""
    return [h for trace in traces for h in trace.hidden] + [c for trace in traces for c in trace.cell]


def measure(
    model: SequenceModel,
    traces: list[LayerTrace],
    state_grads: list[Tensor | None],
    param_grads: dict[str, Tensor],
    sample: int,
) -> Probes:
    """Reduce gradients and gates on the device, then copy to the host once."""
    steps = len(traces[0].hidden)
    layers = len(traces)
    on_device: dict[str, Tensor] = {}
    h_grads, c_grads = state_grads[: steps * layers], state_grads[steps * layers :]
    on_device["grad_h"] = torch.stack(
        [norm_per_step(t.hidden, h_grads[i * steps : (i + 1) * steps]) for i, t in enumerate(traces)]
    )
    if c_grads:
        on_device["grad_c"] = torch.stack(
            [norm_per_step(t.cell, c_grads[i * steps : (i + 1) * steps]) for i, t in enumerate(traces)]
        )
    gate_values = {name: [torch.stack(trace.gates[name]) for trace in traces] for name in model.gate_names}
    if model.config.kind == "lstm":
        gate_values["cell_state"] = [torch.stack(trace.cell).detach() for trace in traces]
    gate_values["hidden"] = [torch.stack(trace.hidden).detach() for trace in traces]
    for name, per_layer in gate_values.items():
        stacked = torch.stack(per_layer)  # (L, T, B, H)
        on_device[f"gate/{name}"] = stacked[:, :, sample]
        on_device[f"mean/{name}"] = stacked.mean(dim=(2, 3))
    names = list(param_grads)
    on_device["param_norms"] = torch.stack([torch.linalg.vector_norm(param_grads[n]) for n in names])
    host = {key: value.detach().float().cpu().numpy() for key, value in on_device.items()}

    grad_h = host["grad_h"]
    return Probes(
        grad_h=grad_h,
        grad_c=host.get("grad_c"),
        gates={name: host[f"gate/{name}"] for name in gate_values},
        gate_means={name: host[f"mean/{name}"] for name in gate_values},
        param_grad_norms=dict(zip(names, host["param_norms"].astype(float).tolist(), strict=True)),
        spectral_radius=spectral_radii(model),
        half_life=half_life(grad_h[-1]),
        underflow_steps=int(np.count_nonzero(grad_h[-1] == 0)),
    )
