"""The recurrences, written out step by step so every gate can be watched, and back-propagation
through time written out too.

Each layer runs two loops over time. The forward loop applies the gate equations of LECTURE.md
one timestep at a time and keeps every activation in a (T, B, .) buffer:

    RNN   h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)
    LSTM  i, f, g, o = gates;  c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
    GRU   h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The backward loop is BPTT by hand, an autograd Function: going back from t = T, the total
derivative dL/dh_t is the part that reaches h_t directly (from the loss or the layer above)
plus what flows back from step t+1 through W_hh and the gates. Autograd over the forward loop
would record about a dozen nodes per timestep and run them one by one; by hand the loop does
three to five operations per timestep, everything that does not depend on the recursion (gate
derivatives, dL/dW_hh) is done for all timesteps at once, and the total derivative of every h_t
and c_t, which the plots show, is in hand anyway. Tests check both loops against torch.nn and a
float64 autograd reference.

The input projection for all timesteps is one matmul before the loop (``premul``, as in
PyTorch's fastrnns custom_lstms.py) and stays with autograd, which carries the gradient this
module returns for it on to W_ih, the biases and the layer below.

With a ``LayerTrace`` a layer exposes its gates, and h_t (and c_t) as leaves whose gradient is
the total derivative dL/dh_t: they are stacked into a probe S that enters the loop as
S - S.detach() (zero in value, the identity in gradient), so differentiating the stack gives
every timestep at once and differentiating one leaf gives that timestep.

Weights use torch.nn's layout and gate order (LSTM: i, f, g, o; GRU: r, z, n).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from gradviz.config import GATE_NAMES  # torch-free, for the window's run-file checks


@dataclass
class LayerTrace:
    """What one layer's loop exposes.

    ``probes`` are the (T, B, H) stacks of h_t (and c_t), hidden first, whose gradient is the
    total dL/dh_t (dL/dc_t) of every timestep at once; ``values`` the gates (and "hidden", and
    "cell_state" for an LSTM) as detached (T, B, H) tensors; ``gates`` name -> T (B, H) views
    of them. With ``per_step`` (the default) ``hidden[t]`` / ``cell[t]`` are leaves holding
    h_t / c_t whose gradient is dL/dh_t of that one timestep, and the probes are their stacks;
    without it (a training step's recording, which takes every timestep at once) each probe is
    one leaf, and the T leaves and their stack are never made.

    With ``wants_zero`` the layer's backward pass fills ``zero_jacobian`` (T, B) bool: where
    every factor it multiplies the gradient by on its way from step t to t - 1 is exactly 0
    (``probes.jacobian.zero_jacobian`` says the same from the values, after the fact).
    """

    per_step: bool = True
    wants_zero: bool = False
    hidden: list[Tensor] = field(default_factory=list)
    cell: list[Tensor] = field(default_factory=list)
    values: dict[str, Tensor] = field(default_factory=dict)
    probes: list[Tensor] = field(default_factory=list)
    zero_jacobian: Tensor | None = None
    _gates: dict[str, list[Tensor]] | None = field(default=None, repr=False)

    @property
    def gates(self) -> dict[str, list[Tensor]]:
        """name -> T detached (B, H) activations; made on first use (T views per gate)."""
        if self._gates is None:
            self._gates = {name: list(value.unbind(0)) for name, value in self.values.items()
                           if name not in ("hidden", "cell_state")}
        return self._gates

    def expose(self, gates: dict[str, Tensor], hidden: Tensor, cell: Tensor | None = None) -> list[Tensor]:
        """Fill the trace from a layer's (T, B, H) buffers; returns the probes for the loop."""
        self.values = {name: value.detach() for name, value in gates.items()}
        self._gates = None
        if cell is not None:
            self.values["cell_state"] = cell.detach()
            self.cell, probe_c = _leaves(cell, self.per_step)
        self.values["hidden"] = hidden.detach()
        self.hidden, probe_h = _leaves(hidden, self.per_step)
        self.probes = [probe_h] if cell is None else [probe_h, probe_c]
        return self.probes


def _leaves(values: Tensor, per_step: bool) -> tuple[list[Tensor], Tensor]:
    """T leaves holding the values of (T, B, H) and their stack (the probe), or with
    ``per_step`` False no leaves and the probe one leaf. The probe's value is never read by
    the loop (only its gradient), so it may share the buffer's storage."""
    if not per_step:
        return [], values.detach().requires_grad_()
    leaves = [value.requires_grad_() for value in values.detach().clone().unbind(0)]
    return leaves, torch.stack(leaves)


def _cut(steps: int, tbptt: int) -> list[bool]:
    """cut[t]: truncated BPTT detaches h_{t-1} (and c_{t-1}) before step t uses it.

    Windows of k = ``tbptt`` steps are aligned to the end of the sequence, so a loss on the last
    step reaches back exactly k steps (aligned to the start, it would reach only T mod k).
    """
    return [bool(tbptt) and t > 0 and (steps - t) % tbptt == 0 for t in range(steps)]


def _sigmoid_slope(s: Tensor, out: Tensor) -> Tensor:
    """s - s^2 into ``out`` (the derivative of a sigmoid from its value), no temporary."""
    return torch.sub(s, torch.mul(s, s, out=out), out=out)


def _tanh_slope(y: Tensor, out: Tensor) -> Tensor:
    """1 - y^2 into ``out`` (the derivative of tanh from its value), no temporary."""
    return torch.mul(y, y, out=out).neg_().add_(1)


def _wants_zero(trace: LayerTrace | None) -> bool:
    """Whether this backward pass should fill ``trace.zero_jacobian`` (once: a second backward
    over the same graph, for the decision loss, finds the same factors)."""
    return trace is not None and trace.wants_zero and trace.zero_jacobian is None


def _all_zero(factors: Tensor, also: Tensor | None = None) -> Tensor:
    """(T, B) bool: every unit's factor (T, B, N) is exactly 0 (and every unit of ``also``).
    As largest == smallest == 0 (a NaN is neither): two reductions without a (T, B, N) bool
    in between, 2-3x faster than ``(factors == 0).all(-1)``."""
    zero = (factors.amax(dim=-1) == 0) & (factors.amin(dim=-1) == 0)
    return zero if also is None else zero & _all_zero(also)


def _weight_grad(d_pre: Tensor, h0: Tensor, hs: Tensor) -> Tensor:
    """dL/dW_hh = sum_t d_pre_t^T h_{t-1}, over all t in two matmuls."""
    first = d_pre[0].t() @ h0
    if d_pre.shape[0] == 1:
        return first
    return torch.addmm(first, d_pre[1:].flatten(0, 1).t(), hs[:-1].flatten(0, 1))


class _Projection(torch.autograd.Function):
    """x W^T + b for every timestep at once (torch.addmm), with the weight's gradient computed
    as (x^T dL/dy)^T: with few input features (2 for the adding problem) torch's own order,
    dL/dy^T x, is a matrix product of width 2 over T B rows, measured 8x slower (76 ms against
    9 ms at T=200, B=64, 4H=512 on one thread); never slower at other widths."""

    @staticmethod
    def forward(ctx, inputs, weight, bias):
        ctx.save_for_backward(inputs, weight)
        return torch.addmm(bias, inputs, weight.t())

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        inputs, weight = ctx.saved_tensors
        d_inputs = grad @ weight if ctx.needs_input_grad[0] else None
        d_weight = (inputs.t() @ grad).t().contiguous() if ctx.needs_input_grad[1] else None
        d_bias = grad.sum(dim=0) if ctx.needs_input_grad[2] else None
        return d_inputs, d_weight, d_bias


def project(inputs: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """(T, B, I) -> (T, B, G): inputs W^T + b, the input projection of every timestep."""
    flat = _Projection.apply(inputs.flatten(0, 1), weight, bias)
    return flat.view(inputs.shape[0], inputs.shape[1], -1)


# ---- vanilla RNN ---------------------------------------------------------------------------


@torch.no_grad()
def _rnn_forward(premul: Tensor, h: Tensor, w_hh: Tensor, relu: bool) -> Tensor:
    hs = premul.detach().clone()  # (T, B, H): x_t W_ih^T + b, then the recurrence added in place
    w_hh_t = w_hh.t()
    for out in hs.unbind(0):
        h = out.addmm_(h, w_hh_t)  # one copy of premul above, not one per step (as addmm(out=) does)
        if relu:
            h.relu_()
        else:
            h.tanh_()
    return hs


class _RNNLoop(torch.autograd.Function):
    """h_1..h_T of a vanilla RNN from precomputed buffers; its backward is BPTT."""

    @staticmethod
    def forward(ctx, premul, h0, w_hh, probe, buffers, relu, tbptt, trace):  # probe: its gradient only
        (hs,) = buffers
        ctx.save_for_backward(h0, w_hh, hs)
        ctx.relu, ctx.tbptt, ctx.trace = relu, tbptt, trace
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        h0, w_hh, hs = ctx.saved_tensors
        total = grad_out.clone()  # becomes dL/dh_t (total), t = T .. 1
        # act'(pre_t), then dL/d(pre_t)
        d_pre = (hs > 0).to(hs.dtype) if ctx.relu else _tanh_slope(hs, out=torch.empty_like(hs))
        if _wants_zero(ctx.trace):
            ctx.trace.zero_jacobian = _all_zero(d_pre)  # diag(act') W_hh is 0 where act' is
        totals, d_pres = total.unbind(0), d_pre.unbind(0)
        cut = _cut(len(totals), ctx.tbptt)
        for t in range(len(totals) - 1, -1, -1):
            d_pres[t].mul_(totals[t])
            if t and not cut[t]:
                totals[t - 1].addmm_(d_pres[t], w_hh)  # through W_hh h_{t-1}
        d_h0 = d_pres[0] @ w_hh if ctx.needs_input_grad[1] else None
        probe = total if ctx.needs_input_grad[3] else None
        return d_pre, d_h0, _weight_grad(d_pre, h0, hs), probe, None, None, None, None


def rnn_layer(
    premul: Tensor,  # (T, B, H): x_t W_ih^T + b_ih + b_hh for every t
    h: Tensor,  # (B, H)
    w_hh: Tensor,
    relu: bool,
    tbptt: int = 0,
    trace: LayerTrace | None = None,
) -> tuple[Tensor, Tensor]:
    """Outputs h_1..h_T (T, B, H) and h_T."""
    hs = _rnn_forward(premul, h, w_hh, relu)
    probes = trace.expose({}, hs) if trace is not None else [None]
    outputs = _RNNLoop.apply(premul, h, w_hh, probes[0], (hs,), relu, tbptt, trace)
    return outputs, outputs[-1]


# ---- LSTM ----------------------------------------------------------------------------------


@torch.no_grad()
def _lstm_forward(premul: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, forget_gate: bool):
    steps, batch, hidden = premul.shape[0], premul.shape[1], premul.shape[2] // 4
    gates = premul.detach().clone()  # (T, B, 4H): pre-activations, then i, f, g, o squashed in place
    cells, tanh_cells, hs = (premul.new_empty(steps, batch, hidden) for _ in range(3))
    ingate, forgetgate, cellgate, outgate = (part.unbind(0) for part in gates.split(hidden, dim=2))
    # i and f are adjacent: one sigmoid for both (the 1997 LSTM has no f: i alone).
    squashed = gates[:, :, : (2 if forget_gate else 1) * hidden].unbind(0)
    w_hh_t = w_hh.t()
    for t, gate in enumerate(gates.unbind(0)):
        gate.addmm_(h, w_hh_t)
        squashed[t].sigmoid_()
        cellgate[t].tanh_()
        outgate[t].sigmoid_()
        if forget_gate:
            c = torch.mul(forgetgate[t], c, out=cells[t]).addcmul_(ingate[t], cellgate[t])
        else:
            c = torch.addcmul(c, ingate[t], cellgate[t], out=cells[t])
        h = torch.mul(outgate[t], torch.tanh(c, out=tanh_cells[t]), out=hs[t])
    if not forget_gate:
        gates[:, :, hidden : 2 * hidden] = 1.0  # the 1997 LSTM: f_t = 1, the cell carried on
    return gates, cells, tanh_cells, hs


class _LSTMLoop(torch.autograd.Function):
    """h_1..h_T and c_T of an LSTM from precomputed buffers; its backward is BPTT."""

    @staticmethod
    def forward(ctx, premul, h0, c0, w_hh, probe_h, probe_c, buffers, forget_gate, tbptt, trace):
        gates, cells, tanh_cells, hs = buffers
        ctx.save_for_backward(h0, c0, w_hh, hs)
        ctx.buffers, ctx.forget_gate, ctx.tbptt = (gates, cells, tanh_cells), forget_gate, tbptt
        ctx.trace = trace
        return hs, cells[-1].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_c_last):
        h0, c0, w_hh, hs = ctx.saved_tensors
        gates, cells, tanh_cells = ctx.buffers
        steps, hidden = hs.shape[0], hs.shape[2]
        i, f, g, o = gates.split(hidden, dim=2)
        # What does not depend on the recursion, for every t at once: d_pre holds the derivative
        # of each squashed gate by its pre-activation, times what it multiplies, and becomes
        # dL/d(pre-activation) once scaled by dL/dc_t (i, f, g) or dL/dh_t (o) in the loop.
        # Computed in place in d_pre, with no (T, B, H) temporaries: at H=128 each fresh one costs
        # page faults as well as a pass. The same values, bit for bit, as g * (i - i * i) etc.
        d_pre = torch.empty_like(gates)
        d_i, d_f, d_g, d_o = d_pre.split(hidden, dim=2)
        _sigmoid_slope(i, out=d_i).mul_(g)  # g (i - i^2)
        if ctx.forget_gate:
            _sigmoid_slope(f, out=d_f)  # c_{t-1} (f - f^2)
            d_f[1:].mul_(cells[:-1])
            d_f[0].mul_(c0)
        else:
            d_f.zero_()
        _tanh_slope(g, out=d_g).mul_(i)  # i (1 - g^2)
        _sigmoid_slope(o, out=d_o).mul_(tanh_cells)  # tanh(c_t) (o - o^2)
        if _wants_zero(ctx.trace):
            # Zero where the cell path (f_t) and every gate's factor are 0 on every unit.
            ctx.trace.zero_jacobian = _all_zero(d_pre, f)
        h_to_c = _tanh_slope(tanh_cells, out=torch.empty_like(cells)).mul_(o)  # dh_t/dc_t = o (1 - tanh^2)
        total_h = grad_out.clone()  # becomes dL/dh_t (total)
        total_c = torch.empty_like(cells)  # dL/dc_t (total)
        totals_h, totals_c, d_pres, fs, to_c = (
            x.unbind(0) for x in (total_h, total_c, d_pre, f, h_to_c)
        )
        through_c = d_pre[:, :, : 3 * hidden].unflatten(2, (3, hidden)).unbind(0)  # i, f, g
        through_h = d_o.unbind(0)
        carry_c = grad_c_last  # dL/dc_t through c_{t+1} (and, at t = T, from c_T itself)
        cut = _cut(steps, ctx.tbptt)
        for t in range(steps - 1, -1, -1):
            d_c = torch.addcmul(carry_c, totals_h[t], to_c[t], out=totals_c[t])
            through_c[t].mul_(d_c.unsqueeze(1))
            through_h[t].mul_(totals_h[t])
            if t and cut[t]:
                carry_c = torch.zeros_like(d_c)
            elif t:
                totals_h[t - 1].addmm_(d_pres[t], w_hh)  # through W_hh h_{t-1}
                carry_c = d_c * fs[t] if ctx.forget_gate else d_c  # through c_t = f_t c_{t-1} + ...
        d_h0 = d_pres[0] @ w_hh if ctx.needs_input_grad[1] else None
        d_c0 = (totals_c[0] * fs[0] if ctx.forget_gate else totals_c[0]) if ctx.needs_input_grad[2] else None
        probe_h = total_h if ctx.needs_input_grad[4] else None
        probe_c = total_c if ctx.needs_input_grad[5] else None
        return d_pre, d_h0, d_c0, _weight_grad(d_pre, h0, hs), probe_h, probe_c, None, None, None, None


def lstm_layer(
    premul: Tensor,  # (T, B, 4H): x_t W_ih^T + b_ih + b_hh for every t
    h: Tensor,  # (B, H)
    c: Tensor,  # (B, H)
    w_hh: Tensor,  # (4H, H)
    forget_gate: bool = True,
    tbptt: int = 0,
    trace: LayerTrace | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Outputs h_1..h_T (T, B, H), h_T and c_T."""
    buffers = _lstm_forward(premul, h, c, w_hh, forget_gate)
    gates, cells = buffers[0], buffers[1]
    probes: list = [None, None]
    if trace is not None:
        named = dict(zip(GATE_NAMES["lstm"], gates.split(gates.shape[2] // 4, dim=2), strict=True))
        probes = trace.expose(named, buffers[3], cells)
    outputs, c_last = _LSTMLoop.apply(premul, h, c, w_hh, *probes, buffers, forget_gate, tbptt, trace)
    return outputs, outputs[-1], c_last


# ---- GRU -----------------------------------------------------------------------------------


@torch.no_grad()
def _gru_forward(premul: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor):
    steps, batch, hidden = premul.shape[0], premul.shape[1], premul.shape[2] // 3
    from_h = torch.empty_like(premul)  # (T, B, 3H): W_hh h_{t-1} + b_hh
    reset_update = premul.new_empty(steps, batch, 2 * hidden)  # r, z
    new, hs = premul.new_empty(steps, batch, hidden), premul.new_empty(steps, batch, hidden)
    x_rz, x_n = premul[:, :, : 2 * hidden].unbind(0), premul[:, :, 2 * hidden :].unbind(0)
    h_rz, h_n = from_h[:, :, : 2 * hidden].unbind(0), from_h[:, :, 2 * hidden :].unbind(0)
    resetgate, updategate = (part.unbind(0) for part in reset_update.split(hidden, dim=2))
    w_hh_t = w_hh.t()
    for t in range(steps):
        torch.addmm(b_hh, h, w_hh_t, out=from_h[t])
        torch.add(x_rz[t], h_rz[t], out=reset_update[t]).sigmoid_()
        torch.addcmul(x_n[t], resetgate[t], h_n[t], out=new[t]).tanh_()
        h = torch.addcmul(new[t], updategate[t], h - new[t], out=hs[t])  # = (1 - z) * n + z * h
    return reset_update, new, from_h, hs


class _GRULoop(torch.autograd.Function):
    """h_1..h_T of a GRU from precomputed buffers; its backward is BPTT."""

    @staticmethod
    def forward(ctx, premul, h0, w_hh, b_hh, probe, buffers, tbptt, trace):  # probe: its gradient only
        reset_update, new, from_h, hs = buffers
        ctx.save_for_backward(h0, w_hh, hs)
        ctx.buffers, ctx.tbptt, ctx.trace = (reset_update, new, from_h), tbptt, trace
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        h0, w_hh, hs = ctx.saved_tensors
        reset_update, new, from_h = ctx.buffers
        steps, hidden = hs.shape[0], hs.shape[2]
        r, z = reset_update.split(hidden, dim=2)
        to_n = (1 - z) * (1 - new * new)  # dh_t / d(pre-activation of n_t)
        # d_from_h becomes dL/d(W_hh h_{t-1} + b_hh): r, z and n parts, once scaled by dL/dh_t.
        d_from_h = torch.empty_like(from_h)
        d_r, d_z, d_n = d_from_h.split(hidden, dim=2)
        torch.mul(to_n * from_h[:, :, 2 * hidden :], r - r * r, out=d_r)
        torch.mul(torch.cat([h0.unsqueeze(0), hs[:-1]]) - new, z - z * z, out=d_z)
        torch.mul(to_n, r, out=d_n)
        if _wants_zero(ctx.trace):
            # Zero where the direct path (z_t) and the factors of U_r, U_z, U_n are 0 on every unit.
            ctx.trace.zero_jacobian = _all_zero(d_from_h, z)
        total = grad_out.clone()  # becomes dL/dh_t (total)
        totals, zs = total.unbind(0), z.unbind(0)
        d_from_hs = d_from_h.unbind(0)
        scaled = d_from_h.unflatten(2, (3, hidden)).unbind(0)
        cut = _cut(steps, ctx.tbptt)
        for t in range(steps - 1, -1, -1):
            scaled[t].mul_(totals[t].unsqueeze(1))
            if t and not cut[t]:
                # through W_hh h_{t-1} (all three gates) and through z_t * h_{t-1}
                totals[t - 1].addmm_(d_from_hs[t], w_hh).addcmul_(totals[t], zs[t])
        d_premul = torch.cat([d_from_h[:, :, : 2 * hidden], total * to_n], dim=2)
        d_h0 = torch.addcmul(d_from_hs[0] @ w_hh, totals[0], zs[0]) if ctx.needs_input_grad[1] else None
        d_b_hh = d_from_h.sum(dim=(0, 1))
        probe = total if ctx.needs_input_grad[4] else None
        return d_premul, d_h0, _weight_grad(d_from_h, h0, hs), d_b_hh, probe, None, None, None


def gru_layer(
    premul: Tensor,  # (T, B, 3H): x_t W_ih^T + b_ih
    h: Tensor,  # (B, H)
    w_hh: Tensor,  # (3H, H)
    b_hh: Tensor,  # (3H,): kept apart because r_t multiplies W_hn h + b_hn
    tbptt: int = 0,
    trace: LayerTrace | None = None,
) -> tuple[Tensor, Tensor]:
    """Outputs h_1..h_T (T, B, H) and h_T."""
    buffers = _gru_forward(premul, h, w_hh, b_hh)
    probes: list = [None]
    if trace is not None:
        reset, update = buffers[0].split(buffers[1].shape[2], dim=2)
        probes = trace.expose({"reset": reset, "update": update, "new": buffers[1]}, buffers[3])
    outputs = _GRULoop.apply(premul, h, w_hh, b_hh, probes[0], buffers, tbptt, trace)
    return outputs, outputs[-1]
