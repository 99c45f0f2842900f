"""The observable layers compute exactly what torch.nn.RNN/LSTM/GRU compute."""

import pytest
import torch
from torch import nn

from gradviz.config import ModelConfig
from gradviz.models import GATE_NAMES, LayerTrace, build_model, spectral_radius
from tests.devices import assert_close

TORCH_CLASSES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CASES = [
    ("rnn", "tanh"),
    ("rnn", "relu"),
    ("lstm", "tanh"),
    ("gru", "tanh"),
]


def _reference(model, kind, nonlinearity, layers):
    kwargs = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    ref = TORCH_CLASSES[kind](3, 8, layers, **kwargs).double()
    ref.load_state_dict(model.rnn.state_dict())
    return ref


@pytest.mark.parametrize("kind,nonlinearity", CASES)
@pytest.mark.parametrize("layers", [1, 2])
def test_observed_forward_and_gradients_equal_torch_nn(kind, nonlinearity, layers):
    config = ModelConfig(kind=kind, hidden=8, layers=layers, nonlinearity=nonlinearity)
    model = build_model(config, input_size=3, output_size=1, seed=1).double()
    ref = _reference(model, kind, nonlinearity, layers)
    x = torch.randn(12, 5, 3, dtype=torch.float64)

    traces = [LayerTrace() for _ in range(layers)]
    out, state = model.rnn.forward_observed(x, traces=traces)
    ref_out, ref_state = ref(x)
    assert (out - ref_out).abs().max() <= 1e-5
    mine_states = state if kind == "lstm" else [state]
    ref_states = ref_state if kind == "lstm" else [ref_state]
    for mine, theirs in zip(mine_states, ref_states, strict=True):
        assert (mine - theirs).abs().max() <= 1e-5

    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), list(model.rnn.parameters()))
    ref_grads = torch.autograd.grad((ref_out * weights).sum(), list(ref.parameters()))
    for name, g, rg in zip(dict(model.rnn.named_parameters()), grads, ref_grads, strict=True):
        assert (g - rg).abs().max() <= 1e-5, name

    for trace in traces:
        assert set(trace.gates) == set(GATE_NAMES[kind])
        assert len(trace.hidden) == 12


@pytest.mark.parametrize("kind,nonlinearity", CASES)
def test_both_forwards_on_every_device_equal_the_float64_reference(device, kind, nonlinearity):
    """float32 on ``device``, the observable loop and torch's fused kernel, against torch.nn in
    float64 on the CPU: outputs and every weight's gradient."""
    config = ModelConfig(kind=kind, hidden=8, layers=2, nonlinearity=nonlinearity)
    model = build_model(config, input_size=3, output_size=1, seed=1)
    ref = _reference(model, kind, nonlinearity, 2)
    generator = torch.Generator().manual_seed(0)
    x, weights = torch.randn(12, 5, 3, generator=generator), torch.randn(12, 5, 8, generator=generator)
    ref_out, _ = ref(x.double())
    ref_grads = torch.autograd.grad((ref_out * weights.double()).sum(), list(ref.parameters()))
    model = model.to(device)
    for forward in (model.rnn.forward_observed, model.rnn.forward_fused):
        out, _ = forward(x.to(device))
        assert out.device.type == device
        assert_close(out, ref_out, device, scale=True)
        grads = torch.autograd.grad((out * weights.to(device)).sum(), list(model.rnn.parameters()))
        for g, rg in zip(grads, ref_grads, strict=True):
            assert_close(g, rg, device, scale=True)


@pytest.mark.parametrize("kind,nonlinearity", CASES)
def test_float32_parity_with_fused_kernel(kind, nonlinearity):
    config = ModelConfig(kind=kind, hidden=16, layers=2, nonlinearity=nonlinearity)
    model = build_model(config, 3, 1, seed=0)
    x = torch.randn(30, 4, 3)
    observed, _ = model.rnn.forward_observed(x)
    fused, _ = model.rnn.forward_fused(x)
    assert (observed - fused).abs().max() <= 1e-5


def test_state_dicts_load_both_ways_with_torch_names():
    model = build_model(ModelConfig(kind="lstm", hidden=4, layers=2), 2, 1, seed=0)
    names = set(model.torch_parameter_names())
    assert {"weight_ih_l0", "weight_hh_l1", "bias_ih_l1", "bias_hh_l0", "head.weight", "head.bias"} <= names
    ref = nn.LSTM(2, 4, 2)
    model.rnn.load_state_dict(ref.state_dict())
    ref.load_state_dict(model.rnn.state_dict())


def test_lstm_gates_match_their_equations():
    model = build_model(ModelConfig(kind="lstm", hidden=5), 2, 1, seed=3)
    x = torch.randn(6, 3, 2)
    trace = LayerTrace()
    model.rnn.forward_observed(x, traces=[trace])
    w_ih, w_hh = model.rnn.weight_ih_l0, model.rnn.weight_hh_l0
    b = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
    h = c = torch.zeros(3, 5)
    for t in range(6):
        z = x[t] @ w_ih.T + h @ w_hh.T + b
        i, f = torch.sigmoid(z[:, :5]), torch.sigmoid(z[:, 5:10])
        g, o = torch.tanh(z[:, 10:15]), torch.sigmoid(z[:, 15:])
        c = f * c + i * g
        h = o * torch.tanh(c)
        torch.testing.assert_close(trace.gates["forget"][t], f.detach())
        torch.testing.assert_close(trace.gates["cell"][t], g.detach())
        torch.testing.assert_close(trace.cell[t], c)
        torch.testing.assert_close(trace.hidden[t], h)


def test_lstm_without_forget_gate_keeps_the_cell():
    model = build_model(ModelConfig(kind="lstm", hidden=4, forget_gate=False), 2, 1, seed=0)
    assert not model.rnn.can_fuse
    trace = LayerTrace()
    model.rnn.forward_observed(torch.randn(5, 2, 2), traces=[trace])
    assert all(bool((f == 1).all()) for f in trace.gates["forget"])
    for t in range(1, 5):
        i, g = trace.gates["input"][t], trace.gates["cell"][t]
        torch.testing.assert_close(trace.cell[t], trace.cell[t - 1] + i * g)


def test_forget_bias_and_initialisations():
    lstm = build_model(ModelConfig(kind="lstm", hidden=6, forget_bias=2.5), 1, 1, seed=0).rnn
    total = lstm.bias_ih_l0 + lstm.bias_hh_l0
    assert torch.all(total[6:12] == 2.5)

    irnn = build_model(ModelConfig(kind="rnn", nonlinearity="relu", init="identity", hidden=6), 1, 1, 0).rnn
    assert torch.equal(irnn.weight_hh_l0, torch.eye(6))
    assert torch.all(irnn.bias_ih_l0 == 0) and torch.all(irnn.bias_hh_l0 == 0)

    ortho = build_model(ModelConfig(kind="rnn", init="orthogonal", hidden=6), 1, 1, 0).rnn.weight_hh_l0
    torch.testing.assert_close(ortho @ ortho.T, torch.eye(6), atol=1e-5, rtol=0)

    for kind in ("rnn", "lstm", "gru"):
        rnn = build_model(ModelConfig(kind=kind, hidden=6, spectral_radius=1.7), 1, 1, 0).rnn
        for block in rnn.weight_hh_l0.split(6):
            assert spectral_radius(block) == pytest.approx(1.7, rel=1e-4)


def test_same_seed_same_weights_different_seed_different():
    config = ModelConfig(kind="gru", hidden=4)
    a = build_model(config, 2, 1, seed=7).state_dict()
    b = build_model(config, 2, 1, seed=7).state_dict()
    c = build_model(config, 2, 1, seed=8).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("config", [
    ModelConfig(kind="rnn", hidden=128, init="orthogonal"),
    ModelConfig(kind="lstm", hidden=128, init="orthogonal", spectral_radius=0.9),
    ModelConfig(kind="gru", hidden=128, spectral_radius=1.1),
], ids=["orthogonal", "orthogonal-radius", "radius"])
def test_same_seed_same_weights_whatever_torchs_thread_count(config: ModelConfig) -> None:
    """The window's trainer, ``gradviz train`` and ``gradviz probe`` run torch on different
    thread counts (gradviz/threads.py): an orthogonal initialisation's QR on two threads
    rounds differently from one, and so did W_hh, the weights every later number grows from."""
    before = torch.get_num_threads()
    built = {}
    try:
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            built[count] = build_model(config, 2, 1, seed=3).state_dict()
            assert torch.get_num_threads() == count
    finally:
        torch.set_num_threads(before)
    for count in (2, 3):
        assert all(torch.equal(built[1][name], built[count][name]) for name in built[1]), count


def test_the_spectral_radius_has_the_same_bits_whatever_torchs_thread_count() -> None:
    matrix = torch.randn(128, 128, generator=torch.Generator().manual_seed(0)) / 128**0.5
    before = torch.get_num_threads()
    try:
        radii = set()
        for count in (1, 2):
            torch.set_num_threads(count)
            radii.add(spectral_radius(matrix))
    finally:
        torch.set_num_threads(before)
    assert len(radii) == 1


def test_truncated_bptt_cuts_the_gradient_beyond_the_window():
    model = build_model(ModelConfig(kind="rnn", hidden=4), 1, 1, seed=0)
    x = torch.randn(22, 2, 1, requires_grad=True)
    for forward in (model.rnn.forward_observed, model.rnn.forward_fused):
        out, _ = forward(x, tbptt=5)
        (grad,) = torch.autograd.grad(out[-1].sum(), x)
        assert torch.all(grad[:17] == 0)
        assert torch.all(grad[17:].abs().sum(dim=(1, 2)) > 0)
