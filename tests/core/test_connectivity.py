"""The connectivity matrix (itemized gradients) against an independent autograd computation."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig
from gradviz.engine import Run
from gradviz.models import build_model
from gradviz.probes.connectivity import connectivity
from gradviz.tasks import MANY_TO_ONE, make_task
from tests.devices import assert_close


def reference_states(model, x: torch.Tensor) -> list[list[torch.Tensor]]:
    """h_t of every layer from the textbook equations, with plain autograd ops (float64)."""
    kind, layers = model.config.kind, model.config.layers
    inputs = list(model.embed(x).unbind(0))
    states = []
    for layer in range(layers):
        w_ih, w_hh, b_ih, b_hh = (getattr(model.rnn, f"{name}_l{layer}")
                                  for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        h = x.new_zeros(x.shape[1], model.config.hidden, dtype=torch.float64)
        c = torch.zeros_like(h)
        hs = []
        for x_t in inputs:
            from_x, from_h = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            if kind == "rnn":
                h = torch.tanh(from_x + from_h)
            elif kind == "lstm":
                i, f, g, o = (from_x + from_h).chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:
                x_r, x_z, x_n = from_x.chunk(3, dim=1)
                h_r, h_z, h_n = from_h.chunk(3, dim=1)
                r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
                h = (1 - z) * torch.tanh(x_n + r * h_n) + z * h
            hs.append(h)
        states.append(hs)
        inputs = hs
    return states


def reference_matrix(model, task, x, y) -> np.ndarray:
    """(L, S, T): each sequence's own loss at each output step, differentiated one at a time."""
    states = reference_states(model, x)
    steps, batch = len(states[0]), x.shape[1]
    outputs = [steps - 1] if task.kind == MANY_TO_ONE else list(range(steps))
    matrix = np.full((len(states), len(outputs), steps), np.nan)
    for row, s in enumerate(outputs):
        prediction = model.head(states[-1][s])
        norms = np.zeros((len(states), s + 1, batch))
        for i in range(batch):
            target = y[i : i + 1] if task.kind == MANY_TO_ONE else y[s, i : i + 1]
            own_loss = task.loss(prediction[i : i + 1], target)
            flat = [hs[t] for hs in states for t in range(s + 1)]
            grads = torch.autograd.grad(own_loss, flat, retain_graph=True, allow_unused=True)
            for k, grad in enumerate(grads):
                layer, t = divmod(k, s + 1)
                norms[layer, t, i] = 0.0 if grad is None else float(grad[i].norm())
        matrix[:, row, : s + 1] = norms.mean(axis=2)
    return matrix


@pytest.mark.parametrize(
    ("kind", "task_name", "seq_len", "layers"),
    [("rnn", "adding", 7, 1), ("lstm", "copy", 3, 1), ("gru", "names", 8, 2), ("lstm", "order", 10, 2)],
)
def test_connectivity_equals_an_independent_autograd_computation(kind, task_name, seq_len, layers) -> None:
    task = make_task(task_name, seq_len, distance=3)
    model = build_model(ModelConfig(kind=kind, hidden=5, layers=layers), task.input_size, task.output_size, 1)
    model = model.double()
    x, y = task.generate(3, torch.Generator().manual_seed(2))
    x = x.double()
    expected = reference_matrix(model, task, x, y)
    for max_sequences in (3, 1024):  # one output step per chunk, and all in one
        result = connectivity(model, task, x, y, max_sequences=max_sequences)
        assert result.matrix.shape == expected.shape
        np.testing.assert_array_equal(np.isnan(result.matrix), np.isnan(expected))  # NaN exactly where t > s
        np.testing.assert_allclose(result.matrix, expected, rtol=1e-9, atol=1e-300)
    assert result.output_steps.tolist() == ([task.total_steps - 1] if task.kind == MANY_TO_ONE
                                            else list(range(task.total_steps)))
    # Something reaches back: the earliest step of the last output gets a nonzero gradient.
    assert result.matrix[-1, -1, 0] > 0


def test_the_one_row_of_a_many_to_one_task_is_the_training_probe() -> None:
    """What the app plots (the per-sequence decision gradient, grad_h) is this row."""
    model = ModelSetup(label="tanh RNN", model=ModelConfig(kind="rnn", hidden=8))
    config = RunConfig(task=TaskConfig(name="adding", seq_len=12, batch=16), models=(model,), seed=4)
    run = Run(config)
    x, y = run.task.generate(16, torch.Generator().manual_seed(4))
    before = [p.detach().clone() for p in run.learners[0].model.parameters()]
    matrix = connectivity(run.learners[0].model, run.task, x, y).matrix
    assert all(torch.equal(a, b) for a, b in zip(before, run.learners[0].model.parameters(), strict=True))
    probes = run.train_step(record=True).models[0].probes  # the first batch: the same x, y
    assert matrix.shape == (1, 1, 12)
    np.testing.assert_allclose(matrix[0, 0], probes.grad_h[-1], rtol=1e-4)


def test_truncated_bptt_cuts_the_rows_where_training_does() -> None:
    task = make_task("copy", 4)
    model = build_model(ModelConfig(kind="lstm", hidden=6), task.input_size, task.output_size, 0)
    x, y = task.generate(4, torch.Generator().manual_seed(0))
    matrix = connectivity(model, task, x, y, tbptt=5).matrix[0]
    last = task.total_steps - 1  # windows of 5 end at the last step: it reaches back to t = last - 4
    assert (matrix[last, last - 4 :] > 0).all() and (matrix[last, : last - 4] == 0).all()


def test_the_cost_script_runs_and_counts_the_rows() -> None:
    from gradviz.bench_connectivity import measure

    result = measure("gru", "copy", seq_len=3, batch=2, hidden=3, repeats=1)
    assert result["rows"] == 23 and result["connectivity_s"] > 0 and result["recorded_step_s"] > 0


@pytest.mark.parametrize(("kind", "task_name"), [("lstm", "copy"), ("gru", "names")])
def test_connectivity_on_every_device_equals_the_float64_reference(device: str, kind: str, task_name: str) -> None:
    task = make_task(task_name, 4, distance=2)
    model = build_model(ModelConfig(kind=kind, hidden=5), task.input_size, task.output_size, 1)
    x, y = task.generate(3, torch.Generator().manual_seed(2))
    reference = copy.deepcopy(model).double()
    expected = reference_matrix(reference, task, x.double(), y)
    matrix = connectivity(model.to(device), task, x.to(device), y.to(device)).matrix
    np.testing.assert_array_equal(np.isnan(matrix), np.isnan(expected))
    assert_close(np.nan_to_num(matrix), np.nan_to_num(expected), device)
