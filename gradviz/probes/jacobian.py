"""What multiplies the gradient at each step back: the measured per-step Jacobian factor.

Going back one step, BPTT multiplies the gradient by the Jacobian of the recurrence; the
lecture's products of these are what vanish or explode. Per layer and timestep this module
takes the spectral norm (largest singular value) of

- the tanh / ReLU RNN's dh_t/dh_{t-1} = diag(act'(pre_t)) W_hh;
- the LSTM's cell path dC_t/dC_{t-1} = diag(f_t), whose norm is the largest f_t (the 1997
  LSTM, f_t = 1, gives exactly 1: the constant error carousel);
- the GRU's dh_t/dh_{t-1} = diag(z_t) + diag((h_{t-1} - n_t) z_t (1 - z_t)) U_z
  + diag((1 - z_t)(1 - n_t^2)) (diag(r_t) U_n + diag((U_n h_{t-1} + b_hn) r_t (1 - r_t)) U_r),

averages it over a few samples of the batch, and summarises a layer by the geometric mean
over timesteps (the per-step rate of the product). rho(W_hh) is only a bound on the first
of these, and says nothing about the gated cells.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gradviz.boundary import host_array, spectral_norms
from gradviz.models import LayerTrace, SequenceModel

SAMPLES = 4  # batch samples whose Jacobians are measured (one eigenproblem per sample and step)
# Timesteps measured, evenly spaced, on longer sequences: the geometric mean of 16 is a steady
# estimate, and 64 made a recorded step of a tanh RNN at H = 128, T = 200 cost 6 fused steps
# (one 128 x 128 SVD per sample and step: 0.36 s on 2 cores).
MAX_STEPS = 16


def _previous(hidden: Tensor) -> Tensor:
    """(T, B, H) h_1..h_T -> h_0..h_{T-1}, with the zero initial state."""
    return torch.cat([torch.zeros_like(hidden[:1]), hidden[:-1]])


def jacobian_inputs(model: SequenceModel, traces: list[LayerTrace]) -> dict[str, Tensor]:
    """What the host needs to build each layer's Jacobians, gathered on the device at up to
    ``MAX_STEPS`` evenly spaced timesteps and ``SAMPLES`` samples: the LSTM's largest f_t
    (its Jacobian's norm, no linear algebra), the RNN's act'(pre_t) and W_hh, the GRU's gates,
    h_{t-1}, W_hh and b_hn. Small tensors: they travel with the probes in the step's one copy,
    and ``step_factors_from_host`` does the linear algebra on the CPU."""
    inputs: dict[str, Tensor] = {}
    kind = model.config.kind
    for layer, trace in enumerate(traces):
        values = trace.values
        hidden = values["hidden"]
        steps = hidden.shape[0]
        chosen = torch.linspace(0, steps - 1, min(steps, MAX_STEPS), device=hidden.device).round().long()
        samples = slice(0, min(SAMPLES, hidden.shape[1]))
        key = f"jacobian/{layer}/"
        if kind == "lstm":
            forget = values["forget"][chosen, samples]  # (T', S, H): the Jacobian is diag(f_t)
            inputs[key + "norms"] = forget.amax(dim=-1).mean(dim=-1)
            continue
        w_hh = getattr(model.rnn, f"weight_hh_l{layer}").detach()
        inputs[key + "w_hh"] = w_hh
        h = hidden[chosen, samples]  # (T', S, H)
        if kind == "rnn":
            relu = model.config.nonlinearity == "relu"
            inputs[key + "slope"] = (h > 0).to(h.dtype) if relu else 1 - h * h  # act'(pre_t)
            continue
        size = model.config.hidden
        inputs[key + "b_n"] = getattr(model.rnn, f"bias_hh_l{layer}").detach()[2 * size :]
        inputs[key + "previous"] = _previous(hidden)[chosen, samples]
        for name in ("reset", "update", "new"):
            inputs[key + name] = values[name][chosen, samples]
    return inputs


def layer_jacobian_norms(kind: str, inputs: dict[str, Tensor]) -> Tensor:
    """(T',) mean over the samples of ||dh_t/dh_{t-1}||_2 (LSTM: ||dC_t/dC_{t-1}||_2) from one
    layer's ``jacobian_inputs`` (names without their prefix)."""
    if kind == "lstm":
        return inputs["norms"]
    w_hh = inputs["w_hh"]
    if kind == "rnn":
        jacobian = inputs["slope"].unsqueeze(-1) * w_hh  # diag(act') W_hh: (T', S, H, H)
    else:
        w_r, w_z, w_n = w_hh.split(w_hh.shape[1])
        previous, r, z, n = (inputs[name] for name in ("previous", "reset", "update", "new"))
        from_h = previous @ w_n.t() + inputs["b_n"]  # U_n h_{t-1} + b_hn
        to_n = (1 - z) * (1 - n * n)
        jacobian = (
            torch.diag_embed(z)
            + ((previous - n) * z * (1 - z)).unsqueeze(-1) * w_z
            + (to_n * r).unsqueeze(-1) * w_n
            + (to_n * from_h * r * (1 - r)).unsqueeze(-1) * w_r
        )
    return spectral_norms(jacobian).mean(dim=-1)


def jacobian_layers(host: dict[str, np.ndarray]) -> dict[int, dict[str, Tensor]]:
    """The host copies of ``jacobian_inputs`` by layer, as CPU tensors named without prefix
    (other entries of ``host`` are ignored)."""
    layers: dict[int, dict[str, Tensor]] = {}
    for key, value in host.items():
        if key.startswith("jacobian/"):
            _, layer, name = key.split("/")
            layers.setdefault(int(layer), {})[name] = torch.from_numpy(value)
    return layers


@torch.no_grad()
def step_factors_from_host(kind: str, host: dict[str, np.ndarray]) -> np.ndarray:
    """(L,) geometric mean over timesteps of each layer's Jacobian norm: the factor by which
    one step back multiplies the gradient at most, on average over the sequence, from the host
    copies of ``jacobian_inputs``."""
    layers = jacobian_layers(host)
    factors = [layer_jacobian_norms(kind, layers[layer]).clamp_min(1e-30).log().mean().exp()
               for layer in sorted(layers)]
    return host_array(torch.stack(factors))  # already on the CPU: no transfer
