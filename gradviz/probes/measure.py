"""Turn one observed forward/backward pass into ``Probes``: the numbers behind every plot.

Everything is reduced on the device, for all timesteps at once, and copied to the host in one
transfer: per-timestep gradient norms from the (T, B, H) gradients of each layer's probes,
one sample's gates, and gate means over batch and units.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gradviz.models import LayerTrace, SequenceModel, spectral_radius
from gradviz.probes.causes import UNDERFLOW, classify, count, cut_by_zero_jacobian, zero_jacobian_cause
from gradviz.probes.gradients import masked_mean, norms_over_time
from gradviz.probes.halflife import fit_decay
from gradviz.probes.jacobian import step_factors, zero_jacobian
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


def probe_tensors(traces: list[LayerTrace]) -> list[Tensor]:
    """Each layer's (T, B, H) probe of h_t, then of c_t (LSTM): one gradient per layer gives
    every timestep's total derivative at once (``measure`` takes these gradients)."""
    return [trace.probes[0] for trace in traces] + [trace.probes[1] for trace in traces if len(trace.probes) > 1]


def measure(
    model: SequenceModel,
    traces: list[LayerTrace],
    probe_grads: list[Tensor | None],
    param_grads: dict[str, Tensor],
    sample: int,
    mask: Tensor | None = None,
    truncated: np.ndarray | None = None,
    all_grads: list[Tensor | None] | None = None,
    decision_steps: np.ndarray | None = None,
    tbptt: int = 0,
) -> Probes:
    """Reduce gradients and gates on the device, then copy to the host once.

    ``probe_grads`` are the gradients of the summed per-sequence decision loss with respect to
    ``probe_tensors(traces)``, in that order; ``all_grads`` (optional) those of the whole loss
    for the h_t probes. With a (T, B) ``mask`` (text: False at padding) norms and means leave
    the padding out. ``truncated`` (T,) marks the steps truncated BPTT cuts off.
    """
    layers = len(traces)
    steps = traces[0].values["hidden"].shape[0]
    like = traces[0].values["hidden"]
    on_device: dict[str, Tensor] = {}
    h_grads, c_grads = probe_grads[:layers], probe_grads[layers:]
    on_device["grad_h"] = torch.stack([norms_over_time(grad, steps, like, mask) for grad in h_grads])  # (L, T)
    if c_grads:
        on_device["grad_c"] = torch.stack([norms_over_time(grad, steps, like, mask) for grad in c_grads])
    if all_grads is not None:
        on_device["grad_h_all"] = torch.stack(
            [norms_over_time(grad, steps, like, mask) for grad in all_grads[:layers]]
        )
    names = [*model.gate_names, *(["cell_state"] if model.config.kind == "lstm" else []), "hidden"]
    for name in names:
        per_layer = [trace.values[name] for trace in traces]  # (T, B, H) each
        on_device[f"gate/{name}"] = torch.stack([value[:, sample] for value in per_layer])  # (L, T, H)
        means = [value.mean(dim=(1, 2)) if mask is None else masked_mean(value, mask) for value in per_layer]
        on_device[f"mean/{name}"] = torch.stack(means)  # (L, T)
    param_names = list(param_grads)
    on_device["param_norms"] = torch.stack([torch.linalg.vector_norm(param_grads[n]) for n in param_names])
    on_device["step_factor"] = step_factors(model, traces)
    on_device["zero_jacobian"] = zero_jacobian(model, traces[-1], layers - 1)  # (T, B) top layer
    if mask is not None:
        on_device["padding"] = ~mask.any(dim=1)  # (T,) every sequence is padding there
        on_device["mask"] = mask  # (T, B) the sequences each step's mean counts
    host = _to_host(on_device)

    grad_h = host["grad_h"]
    padding = host["padding"] > 0 if "padding" in host else np.zeros(steps, dtype=bool)
    truncated = np.zeros(steps, dtype=bool) if truncated is None else np.asarray(truncated, dtype=bool)
    if decision_steps is None:
        decision_steps = np.zeros(steps, dtype=bool)
        decision_steps[-1] = True
    counted = None if mask is None else host["mask"] > 0
    chain_cut = cut_by_zero_jacobian(host["zero_jacobian"] > 0, decision_steps, tbptt, counted)
    config = model.config
    causes = classify(grad_h[-1], truncated, padding, chain_cut, zero_jacobian_cause(config.kind, config.nonlinearity))
    headline = host["grad_c"][-1] if "grad_c" in host else grad_h[-1]
    decay = fit_decay(headline, usable=~truncated)  # inside the truncation window only
    return Probes(
        grad_h=grad_h,
        grad_c=host.get("grad_c"),
        gates={name: host[f"gate/{name}"] for name in names},
        gate_means={name: host[f"mean/{name}"] for name in names},
        param_grad_norms=dict(zip(param_names, host["param_norms"].astype(float).tolist(), strict=True)),
        spectral_radius=spectral_radii(model),
        half_life=decay.half_life,
        underflow_steps=count(causes, UNDERFLOW),
        grad_h_all=host.get("grad_h_all"),
        grad_cause=causes,
        truncated_steps=int(np.count_nonzero(truncated)),
        near_half_life=decay.near_half_life,
        near_steps=decay.near_steps,
        step_factor=host["step_factor"],
    )


def _to_host(tensors: dict[str, Tensor]) -> dict[str, np.ndarray]:
    """float32 numpy copies of every tensor, in one device-to-host transfer."""
    flat = torch.cat([tensor.detach().float().flatten() for tensor in tensors.values()]).cpu().numpy()
    host, offset = {}, 0
    for name, tensor in tensors.items():
        size = tensor.numel()
        host[name] = flat[offset : offset + size].reshape(tuple(tensor.shape)).copy()
        offset += size
    return host
