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
