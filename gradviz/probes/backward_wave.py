"""The backward pass as a wave: the gradient arriving at each timestep, from the loss back to
t = 1, and the factor that multiplies it at every step back.

BPTT carries the gradient from h_t to h_{t-1} through the Jacobian dh_t/dh_{t-1}:

    tanh RNN   diag(1 - h_t^2) W_hh        the factor shown: ||dh_t/dh_{t-1}||_2, measured
    LSTM       the cell path c_{t-1} -> c_t is multiplied by f_t alone: the factor is mean f_t,
               and the wave shown is the cell's dL/dc_t
    GRU        h_t = (1 - z_t) n_t + z_t h_{t-1}: the carry path's factor is mean z_t

(batch means; the top layer). The arriving gradient is exactly the training probe's: the
batch mean of ||d l_i/dh_t|| (LSTM: ||d l_i/dc_t||), l_i sequence i's own decision loss. Every
number comes from one forward and backward pass of the model on the given batch; the
weights are not changed. A view animates ``revealed(k)`` for k = 0 .. T-1.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gradviz.boundary import host_arrays, spectral_norms
from gradviz.models import SequenceModel
from gradviz.probes.extras import BackwardWave
from gradviz.probes.gradients import norms_over_time
from gradviz.tasks import Task

# The LSTM's and GRU's factors are one path's (the gradient also arrives through h_t, so the gain
# can exceed them); the RNN's norm bounds its gain.
FACTOR_NAMES = {"rnn": "||dh_t/dh_{t-1}||", "lstm": "mean f_t (cell path alone)", "gru": "mean z_t (carry path alone)"}


def backward_wave(model: SequenceModel, task: Task, x: Tensor, y: Tensor, tbptt: int = 0) -> BackwardWave:
    """The wave of ``model`` on the batch (x, y), as the app's probe measures it."""
    kind = model.config.kind
    with torch.enable_grad():
        outputs, _, traces = model(x, observe=True, tbptt=tbptt)
        assert traces is not None
        prediction = model.head(task.readout(outputs))
        # What the probe shows (engine/decision.py): each sequence's own decision loss.
        decision = task.decision_loss(prediction, y)
        if decision is None:
            decision = task.loss(prediction, y) * float(task.loss_terms(y))
        top = traces[-1]
        probe = top.probes[1] if kind == "lstm" else top.probes[0]  # (T, B, H): c_t or h_t
        (grad,) = torch.autograd.grad(decision, [probe])
    steps = probe.shape[0]
    mask = task.mask(x)
    arrival = norms_over_time(grad.detach(), steps, probe, mask)
    if kind == "rnn":
        factor = _rnn_jacobian_norms(model, top.values["hidden"])
    else:
        gate = top.values["forget" if kind == "lstm" else "update"]  # (T, B, H)
        factor = gate.mean(dim=(1, 2))
    host = host_arrays({"factor": factor, "arrival": arrival})  # one copy, then float64
    factor = host["factor"].astype(np.float64)
    factor[0] = np.nan  # f_1 / z_1 / dh_1/dh_0 multiply into the initial state, which is not shown
    return BackwardWave(
        arrival=host["arrival"].astype(np.float64),
        factor=factor,
        path="c" if kind == "lstm" else "h",
        factor_name=FACTOR_NAMES[kind],
    )


def _rnn_jacobian_norms(model: SequenceModel, hidden: Tensor) -> Tensor:
    """(T,) batch mean of the spectral norm of dh_t/dh_{t-1} = diag(act'(pre_t)) W_hh, top layer."""
    layer = model.config.layers - 1
    w_hh = getattr(model.rnn, f"weight_hh_l{layer}").detach()
    if model.config.nonlinearity == "relu":
        slope = (hidden > 0).to(hidden.dtype)
    else:
        slope = 1 - hidden * hidden  # tanh' written with the output h_t
    norms = []
    for slope_t in slope.unbind(0):  # one (B, H, H) batch of Jacobians at a time: bounded memory
        jacobians = slope_t.unsqueeze(2) * w_hh.unsqueeze(0)
        norms.append(spectral_norms(jacobians).mean())  # on the CPU for MPS (boundary.py)
    return torch.stack(norms)
