"""The recurrences, written out step by step so every gate can be watched.

Each function runs one layer over a whole sequence. The input projection for all timesteps
is done in one matmul before the loop (``premul``, as in PyTorch's fastrnns custom_lstms.py),
so the loop itself only adds ``h_{t-1} W_hh^T`` and applies the gate equations of LECTURE.md:

    RNN   h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)
    LSTM  i, f, g, o = gates;  c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
    GRU   h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Weights use torch.nn's layout and gate order (LSTM: i, f, g, o; GRU: r, z, n) so that the
results equal torch.nn.RNN/LSTM/GRU. When a ``LayerTrace`` is passed, the loop keeps every
h_t (and c_t) as graph nodes, so autograd can give the total derivative dL/dh_t, and a
detached copy of every gate activation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

GATE_NAMES = {
    "rnn": (),
    "lstm": ("input", "forget", "cell", "output"),
    "gru": ("reset", "update", "new"),
}


@dataclass
class LayerTrace:
    """What one layer's loop exposes: states in the graph, gate values detached."""

    hidden: list[Tensor] = field(default_factory=list)  # T tensors (B, H), in the graph
    cell: list[Tensor] = field(default_factory=list)  # LSTM only: c_t, in the graph
    gates: dict[str, list[Tensor]] = field(default_factory=dict)  # name -> T tensors (B, H)

    def record_gates(self, **values: Tensor) -> None:
        for name, value in values.items():
            self.gates.setdefault(name, []).append(value.detach())


def _truncate(state: Tensor, t: int, steps: int, tbptt: int) -> Tensor:
    """Cut the graph every ``tbptt`` steps: truncated BPTT with window k.

    Windows are aligned to the end of the sequence, so a loss on the last step reaches back
    exactly k steps (aligned to the start, it would reach only T mod k).
    """
    if tbptt and t and (steps - t) % tbptt == 0:
        return state.detach()
    return state


def rnn_layer(
    premul: Tensor,  # (T, B, H): x_t W_ih^T + b_ih + b_hh for every t
    h: Tensor,  # (B, H)
    w_hh: Tensor,
    relu: bool,
    tbptt: int = 0,
    trace: LayerTrace | None = None,
) -> tuple[list[Tensor], Tensor]:
    act = torch.relu if relu else torch.tanh
    w_hh_t = w_hh.t()
    outputs = []
    steps = premul.shape[0]
    for t, x_part in enumerate(premul.unbind(0)):
        h = act(torch.addmm(x_part, _truncate(h, t, steps, tbptt), w_hh_t))
        outputs.append(h)
    if trace is not None:
        trace.hidden = outputs
    return outputs, h


def lstm_layer(
    premul: Tensor,  # (T, B, 4H)
    h: Tensor,  # (B, H)
    c: Tensor,  # (B, H)
    w_hh: Tensor,  # (4H, H)
    forget_gate: bool = True,
    tbptt: int = 0,
    trace: LayerTrace | None = None,
) -> tuple[list[Tensor], Tensor, Tensor]:
    w_hh_t = w_hh.t()
    outputs, cells = [], []
    steps = premul.shape[0]
    for t, x_part in enumerate(premul.unbind(0)):
        h, c = _truncate(h, t, steps, tbptt), _truncate(c, t, steps, tbptt)
        gates = torch.addmm(x_part, h, w_hh_t)  # (B, 4H)
        ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
        ingate = torch.sigmoid(ingate)
        # The 1997 LSTM had no forget gate: the cell is carried on unchanged (f_t = 1).
        forgetgate = torch.sigmoid(forgetgate) if forget_gate else torch.ones_like(ingate)
        cellgate = torch.tanh(cellgate)
        outgate = torch.sigmoid(outgate)
        c = forgetgate * c + ingate * cellgate
        h = outgate * torch.tanh(c)
        outputs.append(h)
        if trace is not None:
            cells.append(c)
            trace.record_gates(input=ingate, forget=forgetgate, cell=cellgate, output=outgate)
    if trace is not None:
        trace.hidden, trace.cell = outputs, cells
    return outputs, h, c


def gru_layer(
    premul: Tensor,  # (T, B, 3H): x_t W_ih^T + b_ih
    h: Tensor,  # (B, H)
    w_hh: Tensor,  # (3H, H)
    b_hh: Tensor,  # (3H,): kept apart because r_t multiplies W_hn h + b_hn
    tbptt: int = 0,
    trace: LayerTrace | None = None,
) -> tuple[list[Tensor], Tensor]:
    w_hh_t = w_hh.t()
    outputs = []
    steps = premul.shape[0]
    for t, x_part in enumerate(premul.unbind(0)):
        h = _truncate(h, t, steps, tbptt)
        x_r, x_z, x_n = x_part.chunk(3, 1)
        h_r, h_z, h_n = torch.addmm(b_hh, h, w_hh_t).chunk(3, 1)
        resetgate = torch.sigmoid(x_r + h_r)
        updategate = torch.sigmoid(x_z + h_z)
        newgate = torch.tanh(x_n + resetgate * h_n)
        h = newgate + updategate * (h - newgate)  # = (1 - z) * n + z * h
        outputs.append(h)
        if trace is not None:
            trace.record_gates(reset=resetgate, update=updategate, new=newgate)
    if trace is not None:
        trace.hidden = outputs
    return outputs, h
