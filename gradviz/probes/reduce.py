"""Turn one observed forward/backward pass into ``Probes``: the numbers behind every plot.

Everything is reduced on the device, for all timesteps at once (``reduce_on_device``), copied
to the host in one transfer with the step's loss (``boundary.host_arrays``, in the trainer),
and finished there (``probes_from_host``): per-timestep gradient norms from the (T, B, H)
gradients of each layer's probes, one sample's gates, gate means over batch and units, and
the small linear algebra (spectral radius, Jacobian norms) on the CPU.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gradviz.boundary import spectral_radius
from gradviz.models import LayerTrace, SequenceModel
from gradviz.probes.causes import SATURATED, UNDERFLOW, classify, count, cut_by_zero_jacobian
from gradviz.probes.gradients import masked_mean, norms_over_time
from gradviz.probes.halflife import fit_decay
from gradviz.probes.jacobian import jacobian_inputs, step_factors_from_host, zero_jacobian
from gradviz.probes.records import Probes


def candidate_block(model: SequenceModel, layer: int) -> Tensor:
    """The H x H block of W_hh that feeds the new content (the RNN's W_hh, LSTM's W_C, GRU's W_n)."""
    w_hh = getattr(model.rnn, f"weight_hh_l{layer}")
    hidden = model.config.hidden
    if model.config.kind == "rnn":
        return w_hh
    return w_hh[2 * hidden : 3 * hidden]  # LSTM order i, f, g, o; GRU order r, z, n


def radius_blocks(model: SequenceModel) -> dict[str, Tensor]:
    """Each layer's candidate block of W_hh, to be copied to the host with the probes: its
    spectral radius is computed there, on the CPU in float64 (``boundary.spectral_radius``)."""
    return {f"w_hh_block/{layer}": candidate_block(model, layer).detach() for layer in range(model.config.layers)}


def probe_tensors(traces: list[LayerTrace]) -> list[Tensor]:
    """Each layer's (T, B, H) probe of h_t, then of c_t (LSTM): one gradient per layer gives
    every timestep's total derivative at once (``measure`` takes these gradients)."""
    return [trace.probes[0] for trace in traces] + [trace.probes[1] for trace in traces if len(trace.probes) > 1]


def reduce_on_device(
    model: SequenceModel,
    traces: list[LayerTrace],
    probe_grads: list[Tensor | None],
    param_grads: dict[str, Tensor],
    sample: int,
    mask: Tensor | None = None,
    all_grads: list[Tensor | None] | None = None,
) -> dict[str, Tensor]:
    """Reduce gradients and gates on the device, every timestep at once, into the tensors
    ``probes_from_host`` reads after one copy to the host.

    ``probe_grads`` are the gradients of the summed per-sequence decision loss with respect to
    ``probe_tensors(traces)``, in that order; ``all_grads`` (optional) those of the whole loss
    for the h_t probes. With a (T, B) ``mask`` (text: False at padding) norms and means leave
    the padding out.
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
    for name, grad in param_grads.items():
        on_device[f"param_norm/{name}"] = torch.linalg.vector_norm(grad)
    on_device.update(jacobian_inputs(model, traces))
    on_device.update(radius_blocks(model))
    top = traces[-1]  # (T, B): where the top layer's Jacobian is exactly zero; its backward pass
    # marks it from the factors it multiplied by, else it is computed again from the values
    on_device["zero_jacobian"] = top.zero_jacobian if top.zero_jacobian is not None else zero_jacobian(
        model, top, layers - 1)
    if mask is not None:
        on_device["padding"] = ~mask.any(dim=1)  # (T,) every sequence is padding there
        on_device["mask"] = mask  # (T, B) the sequences each step's mean counts
    return on_device


def probes_from_host(
    host: dict[str, np.ndarray], kind: str, truncated: np.ndarray | None = None,
    decision_steps: np.ndarray | None = None, tbptt: int = 0, zero_cause: int = SATURATED,
) -> Probes:
    """The ``Probes`` of the host copies of ``reduce_on_device``'s tensors (extra entries are
    ignored); ``truncated`` (T,) marks the steps truncated BPTT cuts off; ``decision_steps``
    (T,) where the decision loss may have a term (default: the last step) and ``tbptt`` tell a
    zero whose chain a zero Jacobian cut from underflow, named ``zero_cause`` (``causes.py``)."""
    grad_h = host["grad_h"]
    steps, layers = grad_h.shape[1], grad_h.shape[0]
    names = [key.removeprefix("gate/") for key in host if key.startswith("gate/")]
    param_names = [key.removeprefix("param_norm/") for key in host if key.startswith("param_norm/")]
    padding = host["padding"] > 0 if "padding" in host else np.zeros(steps, dtype=bool)
    truncated = np.zeros(steps, dtype=bool) if truncated is None else np.asarray(truncated, dtype=bool)
    chain_cut = None
    if "zero_jacobian" in host:
        if decision_steps is None:
            decision_steps = np.zeros(steps, dtype=bool)
            decision_steps[-1] = True
        counted = host["mask"] > 0 if "mask" in host else None
        chain_cut = cut_by_zero_jacobian(host["zero_jacobian"] > 0, decision_steps, tbptt, counted)
    causes = classify(grad_h[-1], truncated, padding, chain_cut, zero_cause)
    headline = host["grad_c"][-1] if "grad_c" in host else grad_h[-1]
    decay = fit_decay(headline, usable=~truncated)  # inside the truncation window only
    return Probes(
        grad_h=grad_h,
        grad_c=host.get("grad_c"),
        gates={name: host[f"gate/{name}"] for name in names},
        gate_means={name: host[f"mean/{name}"] for name in names},
        param_grad_norms={name: float(host[f"param_norm/{name}"]) for name in param_names},
        spectral_radius=np.array([spectral_radius(host[f"w_hh_block/{layer}"]) for layer in range(layers)]),
        half_life=decay.half_life,
        underflow_steps=count(causes, UNDERFLOW),
        grad_h_all=host.get("grad_h_all"),
        grad_cause=causes,
        truncated_steps=int(np.count_nonzero(truncated)),
        near_half_life=decay.near_half_life,
        near_steps=decay.near_steps,
        step_factor=step_factors_from_host(kind, host),
    )
