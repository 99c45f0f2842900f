"""Stacked recurrent layers that are torch.nn.RNN/LSTM/GRU with an observable forward.

Each class subclasses its torch.nn counterpart, so parameters have exactly torch's names and
layout (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ...) and state
dicts load both ways. Two forwards share those weights:

- ``forward_observed`` runs the explicit loops of ``cells.py`` (forward and hand-written BPTT)
  and can fill one ``LayerTrace`` per layer (gates, and h_t / c_t whose gradients are the
  per-timestep total derivatives);
- ``forward_fused`` runs torch's fused kernel, for training steps that record nothing.

Tests prove the two agree with a fresh torch.nn module to 1e-5, outputs and gradients.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from gradviz.models.cells import LayerTrace, gru_layer, lstm_layer, project, rnn_layer

State = Tensor | tuple[Tensor, Tensor]


class _Observable:
    """The forwards shared by the three kinds; mixed in front of the torch.nn class."""

    kind = ""
    hidden_size: int
    num_layers: int

    @property
    def can_fuse(self) -> bool:
        """Whether torch's fused kernel computes the same function (not for f_t = 1)."""
        return True

    def initial_state(self, batch: int, like: Tensor) -> State:
        zeros = like.new_zeros(self.num_layers, batch, self.hidden_size)
        return (zeros, zeros.clone()) if self.kind == "lstm" else zeros

    def forward_observed(
        self,
        x: Tensor,  # (T, B, I)
        state: State | None = None,
        tbptt: int = 0,
        traces: list[LayerTrace] | None = None,
    ) -> tuple[Tensor, State]:
        """The explicit loop. Returns the top layer's outputs (T, B, H) and the final state."""
        if state is None:
            state = self.initial_state(x.shape[1], x)
        layer_input = x
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            trace = traces[layer] if traces is not None else None
            w_ih = getattr(self, f"weight_ih_l{layer}")
            w_hh = getattr(self, f"weight_hh_l{layer}")
            b_ih = getattr(self, f"bias_ih_l{layer}")
            b_hh = getattr(self, f"bias_hh_l{layer}")
            if self.kind == "lstm":
                h0, c0 = state[0][layer], state[1][layer]
                premul = project(layer_input, w_ih, b_ih + b_hh)  # (T, B, 4H)
                layer_input, h, c = lstm_layer(premul, h0, c0, w_hh, self.forget_gate, tbptt, trace)
                finals_c.append(c)
            elif self.kind == "gru":
                premul = project(layer_input, w_ih, b_ih)  # (T, B, 3H)
                layer_input, h = gru_layer(premul, state[layer], w_hh, b_hh, tbptt, trace)
            else:
                premul = project(layer_input, w_ih, b_ih + b_hh)  # (T, B, H)
                relu = self.nonlinearity == "relu"
                layer_input, h = rnn_layer(premul, state[layer], w_hh, relu, tbptt, trace)
            finals_h.append(h)  # layer_input is now this layer's outputs (T, B, H)
        h_n = torch.stack(finals_h)  # (L, B, H)
        final: State = (h_n, torch.stack(finals_c)) if self.kind == "lstm" else h_n
        return layer_input, final

    def forward_fused(self, x: Tensor, state: State | None = None, tbptt: int = 0) -> tuple[Tensor, State]:
        """torch.nn's kernel on the same weights; truncated BPTT by detaching between chunks.

        Chunks end at the last step, as in ``cells._cut``: the first one is the short one.
        """
        steps = x.shape[0]
        if not tbptt or tbptt >= steps:
            return super().forward(x, state)  # type: ignore[arg-type]
        first = steps % tbptt or tbptt
        bounds = [0, *range(first, steps + 1, tbptt)]
        outputs = []
        for start, end in itertools.pairwise(bounds):
            if state is not None:
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            out, state = super().forward(x[start:end], state)  # type: ignore[arg-type]
            outputs.append(out)
        return torch.cat(outputs), state  # type: ignore[return-value]


class ObservableRNN(_Observable, nn.RNN):
    """Vanilla (Elman) RNN, tanh or ReLU: h_t = act(W_hh h_{t-1} + W_xh x_t + b)."""

    kind = "rnn"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size, num_layers, nonlinearity=nonlinearity)


class ObservableLSTM(_Observable, nn.LSTM):
    """LSTM with forget gate (Gers et al. 2000), or without it (the 1997 original)."""

    kind = "lstm"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, forget_gate: bool = True):
        super().__init__(input_size, hidden_size, num_layers)
        self.forget_gate = forget_gate

    @property
    def can_fuse(self) -> bool:
        return self.forget_gate


class ObservableGRU(_Observable, nn.GRU):
    """GRU (Cho et al. 2014) in PyTorch's convention: h_t = (1 - z_t) n_t + z_t h_{t-1}."""

    kind = "gru"
