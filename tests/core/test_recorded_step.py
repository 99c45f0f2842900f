"""The recorded step's cheaper paths say the same as the slow ones: the zero-Jacobian mask the
backward pass marks from its own factors equals ``probes.jacobian.zero_jacobian`` computed again
from the values, on models saturated on some sequences and steps and not on others; the input
projection's gradient equals autograd's."""

from __future__ import annotations

import pytest
import torch

from gradviz.config import ModelConfig
from gradviz.models import build_model
from gradviz.models.cells import project
from gradviz.probes.jacobian import zero_jacobian

KINDS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


def saturated(kind: str, nonlinearity: str, layers: int):
    """A model whose gates saturate exactly (0 or 1 in float32) where an input is 0 and not
    where it is 1: the zero Jacobians fall on some sequences and steps, not on all."""
    model = build_model(ModelConfig(kind=kind, hidden=6, layers=layers, nonlinearity=nonlinearity), 1, 1, seed=0)
    rnn = model.rnn
    top = layers - 1
    with torch.no_grad():
        bias, weight = getattr(rnn, f"bias_ih_l{top}"), getattr(rnn, f"weight_ih_l{top}")
        if kind == "rnn":
            bias.fill_(-1e3 if nonlinearity == "relu" else 1e3)  # ReLU off, tanh at +1 ...
            weight.fill_(2e3 if nonlinearity == "relu" else -1e3)  # ... unless the input is 1
        else:
            bias.fill_(-1e3)  # every sigmoid at 0 (an LSTM's f and i, a GRU's r and z) ...
            weight.fill_(2e3)  # ... and at 1 where the input is 1
    return model


@pytest.mark.parametrize("kind,nonlinearity", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_the_backward_pass_marks_the_same_zero_jacobians(kind, nonlinearity, layers) -> None:
    model = saturated(kind, nonlinearity, layers)
    generator = torch.Generator().manual_seed(1)
    x = (torch.rand(12, 5, 1, generator=generator) < 0.5).float()
    outputs, _, traces = model(x, observe=True)
    loss = model.head(outputs).square().sum()
    torch.autograd.grad(loss, [traces[-1].probes[0]])
    marked = traces[-1].zero_jacobian
    assert marked is not None and marked.shape == (12, 5)
    expected = zero_jacobian(model, traces[-1], layers - 1)
    assert torch.equal(marked, expected)
    if layers == 1:  # the top layer reads the input itself: zeros and non-zeros both occur
        assert marked.any() and not marked.all()
    else:
        assert traces[0].zero_jacobian is None  # only the top layer is marked


def test_the_input_projection_has_autograd_gradients() -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, 2, dtype=torch.float64, generator=generator, requires_grad=True)
    weight = torch.randn(8, 2, dtype=torch.float64, generator=generator, requires_grad=True)
    bias = torch.randn(8, dtype=torch.float64, generator=generator, requires_grad=True)
    torch.autograd.gradcheck(project, (x, weight, bias))


def test_the_chain_cut_shortcut_equals_the_step_by_step_walk() -> None:
    """cut_by_zero_jacobian's shortcut where nothing is cut says what its loop says."""
    import numpy as np

    from gradviz.probes.causes import backward_cuts, cut_by_zero_jacobian

    def walk(zero, decision, tbptt, counted):
        steps, batch = zero.shape
        passes = ~zero & ~backward_cuts(steps, tbptt)[:, None]
        reached, cut = np.zeros(batch, dtype=bool), np.zeros(steps, dtype=bool)
        for t in range(steps - 1, -1, -1):
            if t + 1 < steps:
                reached &= passes[t + 1]
            reached |= decision[t]
            cut[t] = not (reached if counted is None else reached & counted[t]).any()
        return cut

    rng = np.random.default_rng(0)
    for _ in range(400):
        steps, batch = int(rng.integers(1, 30)), int(rng.integers(1, 5))
        zero = rng.random((steps, batch)) < rng.choice([0.0, 0.0, 0.1])
        decision = rng.random(steps) < rng.choice([0.05, 0.3, 1.0])
        tbptt = int(rng.choice([0, 0, 3]))
        counted = None if rng.random() < 0.5 else rng.random((steps, batch)) < 0.8
        np.testing.assert_array_equal(cut_by_zero_jacobian(zero, decision, tbptt, counted),
                                      walk(zero, decision, tbptt, counted))


def test_the_half_life_fit_is_unchanged_by_its_faster_parts(monkeypatch) -> None:
    """Theil-Sen on cached pairs and the closed-form regime slopes give the fits of the plain
    formulas (np.triu_indices each time, np.polyfit)."""
    import numpy as np

    from gradviz.probes import halflife

    rng = np.random.default_rng(2)
    profiles = []
    for _ in range(60):
        steps = int(rng.integers(8, 120))
        t = np.arange(steps)
        knee = int(rng.integers(0, steps))
        logs = np.where(t > knee, 0.0, (t - knee) / rng.uniform(2, 30)) + rng.normal(0, rng.uniform(0.01, 0.5), steps)
        profiles.append(10.0 ** logs)
    fast = [halflife.fit_decay(p) for p in profiles]

    def plain_theil_sen(t, y):
        i, j = np.triu_indices(len(t), k=1)
        slope = float(np.median((y[j] - y[i]) / (t[j] - t[i])))
        return slope, float(np.median(y - slope * t))

    monkeypatch.setattr(halflife, "_theil_sen", plain_theil_sen)
    monkeypatch.setattr(halflife, "_slope", lambda t, y: float(np.polyfit(t, y, 1)[0]))
    plain = [halflife.fit_decay(p) for p in profiles]
    assert fast == plain
    assert any(decay.near_steps for decay in fast) and any(not decay.near_steps for decay in fast)
