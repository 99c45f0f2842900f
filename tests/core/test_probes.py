"""The probes report what autograd says, checked against an independent hand-written BPTT.

The reference below is a plain float64 loop over timesteps, written from the equations of
LECTURE.md (not from gradviz's cells), with ``retain_grad()`` on every h_t and c_t; the
numbers gradviz records (through ``Run.train_step`` and through ``probe_arrays``) must equal
it. The plotted gradient is per sequence, of each sequence's decision loss (written out here
from the task definitions, not from gradviz's tasks). Then the facts a lecture shows: the tanh
RNN's gradient vanishes, the LSTM's lasts longer; and the half-life a lecturer can quote.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run
from gradviz.engine.probe import probe_arrays
from gradviz.models import GATE_NAMES
from gradviz.probes import DecimatingBuffer, ModelRecord, Probes, StepRecord, half_life
from gradviz.probes.gradients import norms_over_time
from gradviz.probes.history import RunHistory
from gradviz.tasks import make_task
from tests.devices import assert_close, rtol

# ---- the independent reference ----------------------------------------------------------


def reference_decision_loss(task_name: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of each sequence's decision loss, from the task definitions: one
    output per sequence: its loss; copy: cross-entropy summed over the 10 answer steps; names:
    cross-entropy summed over the positions whose label is "a name"."""
    if task_name in ("adding", "adding1997"):
        return ((prediction - target) ** 2).sum()
    log_p = torch.log_softmax(prediction, dim=-1)
    picked = log_p.gather(-1, target.unsqueeze(-1)).squeeze(-1)  # log p(target), (T, B) or (B,)
    if task_name == "copy":
        return -picked[-10:].sum()
    if task_name == "names":
        return -picked[target == 1].sum()
    return -picked.sum()


def hand_bptt(
    params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, config: RunConfig, decision: bool = False
) -> dict:
    """Forward and backward of model 0 of ``config`` in float64, one timestep at a time.

    ``params`` are torch-named weights (copied, never shared). Returns the loss, the
    per-layer lists of h_t / c_t (with .grad), the gates per layer, and the parameter grads:
    of the batch-mean training loss, or with ``decision`` of the summed decision loss.
    """
    model = config.models[0].model
    task = make_task(config.task.name, config.task.seq_len, config.task.distance)
    p = {name: torch.tensor(np.asarray(v), dtype=torch.float64, requires_grad=True) for name, v in params.items()}
    steps, batch = x.shape[0], x.shape[1]
    layer_input = [x[t].double() for t in range(steps)]
    hidden, cells, gates = [], [], []
    for layer in range(model.layers):
        w_ih, w_hh = p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"]
        b_ih, b_hh = p[f"bias_ih_l{layer}"], p[f"bias_hh_l{layer}"]
        h = torch.zeros(batch, model.hidden, dtype=torch.float64)
        c = torch.zeros_like(h)
        hs, cs, gs = [], [], {}
        for t in range(steps):
            if model.kind == "rnn":
                pre = layer_input[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
                h = torch.relu(pre) if model.nonlinearity == "relu" else torch.tanh(pre)
                values = {}
            elif model.kind == "lstm":
                z = layer_input[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
                z_i, z_f, z_g, z_o = z.split(model.hidden, dim=1)
                i, f, g, o = torch.sigmoid(z_i), torch.sigmoid(z_f), torch.tanh(z_g), torch.sigmoid(z_o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                c.retain_grad()
                cs.append(c)
                values = {"input": i, "forget": f, "cell": g, "output": o, "cell_state": c}
            else:
                x_r, x_z, x_n = (layer_input[t] @ w_ih.T + b_ih).split(model.hidden, dim=1)
                h_r, h_z, h_n = (h @ w_hh.T + b_hh).split(model.hidden, dim=1)
                r = torch.sigmoid(x_r + h_r)
                u = torch.sigmoid(x_z + h_z)
                n = torch.tanh(x_n + r * h_n)
                h = (1 - u) * n + u * h
                values = {"reset": r, "update": u, "new": n}
            h.retain_grad()
            hs.append(h)
            values["hidden"] = h
            for name, value in values.items():
                gs.setdefault(name, []).append(value.detach())
        hidden.append(hs)
        cells.append(cs)
        gates.append({name: torch.stack(v) for name, v in gs.items()})  # (T, B, H)
        layer_input = hs
    readout = layer_input[-1] if task.kind == "many-to-one" else torch.stack(layer_input)
    prediction = readout @ p["head.weight"].T + p["head.bias"]
    target = y.double() if y.is_floating_point() else y
    loss = task.loss(prediction, target)
    (reference_decision_loss(task.name, prediction, target) if decision else loss).backward()
    return {
        "loss": loss.item(),
        "hidden": hidden,
        "cells": cells,
        "gates": gates,
        "param_grads": {name: value.grad for name, value in p.items()},
    }


def reference_norms(states: list[list[torch.Tensor]], scale: float = 1.0) -> np.ndarray:
    """(L, T): mean over the batch of each sample's L2 norm of dL/dh_t (times ``scale``), in float64."""
    return np.array([[scale * s.grad.norm(dim=1).mean().item() for s in layer] for layer in states])


def small_config(kind: str, layers: int = 1, device: str = "cpu", **train) -> RunConfig:
    return RunConfig(
        task=TaskConfig(name="adding", seq_len=9, batch=5),
        models=(ModelSetup("m", ModelConfig(kind=kind, hidden=6, layers=layers), TrainConfig(**train)),),
        seed=3,
        device=device,
        probe_sample=2,
    )


def first_batch(config: RunConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The run's first batch, regenerated from the seed the way the docs say it is made."""
    task = make_task(config.task.name, config.task.seq_len, config.task.distance)
    return task.generate(config.task.batch, torch.Generator().manual_seed(config.seed))


def weights_of(run: Run) -> dict[str, np.ndarray]:
    return {n: p.detach().cpu().numpy().copy() for n, p in run.learners[0].model.torch_parameter_names().items()}


KINDS = ["rnn", "lstm", "gru"]


# ---- per-timestep gradients, gates, parameter norms ---------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_recorded_gradient_norms_equal_a_hand_written_bptt(kind: str, layers: int, device: str) -> None:
    config = small_config(kind, layers, device)
    run = Run(config)
    weights = weights_of(run)
    probes = run.train_step(record=True).models[0].probes
    assert probes is not None
    x, y = first_batch(config)
    ref = hand_bptt(weights, x, y, config, decision=True)

    assert probes.grad_h.shape == (layers, 9)
    assert_close(probes.grad_h, reference_norms(ref["hidden"]), device)
    assert np.all(probes.grad_h > 0)
    if kind == "lstm":
        assert_close(probes.grad_c, reference_norms(ref["cells"]), device)
    else:
        assert probes.grad_c is None
    assert probes.grad_h_all is None  # one output per sequence: the decision loss is the loss
    assert probes.half_life == half_life(probes.headline)
    assert probes.underflow_steps == 0 and probes.truncated_steps == 0
    np.testing.assert_array_equal(probes.grad_cause, np.zeros(9))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_probe_arrays_equal_a_hand_written_bptt(kind: str, layers: int, device: str) -> None:
    config = small_config(kind, layers, device)
    arrays = probe_arrays(config)
    x, y = first_batch(config)
    # The probe is taken on the run's first batch, stored batch-first.
    np.testing.assert_array_equal(arrays["x"], x.transpose(0, 1).numpy())
    np.testing.assert_array_equal(arrays["y"], y.numpy())
    params = {name.removeprefix("param/"): value for name, value in arrays.items() if name.startswith("param/")}
    ref = hand_bptt(params, x, y, config)  # the batch-mean loss's gradient
    batch = config.task.batch

    assert float(arrays["loss"]) == pytest.approx(ref["loss"], rel=rtol(device) / 10)
    # Per sequence: B times the batch-mean loss's gradient, every layer and timestep.
    assert_close(arrays["grad_h"], reference_norms(ref["hidden"], batch), device)
    if kind == "lstm":
        assert_close(arrays["grad_c"], reference_norms(ref["cells"], batch), device)
    for name in GATE_NAMES[kind]:
        expected = np.stack([g[name].numpy() for g in ref["gates"]])  # (L, T, B, H)
        assert arrays[f"gate/{name}"].shape == (layers, 9, 5, 6)
        np.testing.assert_allclose(arrays[f"gate/{name}"], expected, rtol=0, atol=rtol(device) / 10)


@pytest.mark.parametrize("kind", KINDS)
def test_gates_of_the_probe_sample_and_their_means(kind: str) -> None:
    config = small_config(kind, layers=2)
    run = Run(config)
    weights = weights_of(run)
    probes = run.train_step(record=True).models[0].probes
    x, y = first_batch(config)
    ref = hand_bptt(weights, x, y, config)

    assert set(GATE_NAMES[kind]) <= set(probes.gates)
    if kind == "lstm":
        assert "cell_state" in probes.gates
    assert set(probes.gate_means) == set(probes.gates)
    for name, values in probes.gates.items():
        assert name in ref["gates"][0], f"unexpected gate {name!r}"
        expected = np.stack([g[name] for g in ref["gates"]])  # (L, T, B, H)
        assert values.shape == (2, 9, 6)
        np.testing.assert_allclose(values, expected[:, :, config.probe_sample], rtol=0, atol=1e-6)
        # Another sample's gates differ: the record really is sample 2's.
        assert not np.allclose(values, expected[:, :, 0], atol=1e-6)
        np.testing.assert_allclose(probes.gate_means[name], expected.mean(axis=(2, 3)), rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_gradient_norms_are_taken_before_clipping(kind: str) -> None:
    config = small_config(kind, layers=2, optimizer="sgd", lr=1.0, momentum=0.0, clip=0.01)
    run = Run(config)
    weights = weights_of(run)
    record = run.train_step(record=True).models[0]
    x, y = first_batch(config)
    ref = hand_bptt(weights, x, y, config)
    expected = {name: grad.norm().item() for name, grad in ref["param_grads"].items()}

    assert list(record.probes.param_grad_norms) == list(weights)
    assert {"head.weight", "head.bias", "weight_hh_l1"} <= set(record.probes.param_grad_norms)
    for name, norm in expected.items():
        assert record.probes.param_grad_norms[name] == pytest.approx(norm, rel=1e-5), name
    total = math.sqrt(sum(n**2 for n in expected.values()))
    assert total > 10 * config.models[0].train.clip  # so clipping did act
    assert record.grad_norm == pytest.approx(total, rel=1e-5)
    assert record.loss == pytest.approx(ref["loss"], rel=1e-6)
    # ... and the update itself was clipped: SGD without momentum moves lr * clip.
    clipped = [p.grad for p in run.learners[0].model.parameters()]
    assert torch.linalg.vector_norm(torch.cat([g.flatten() for g in clipped])).item() == pytest.approx(0.01, rel=1e-5)
    after = weights_of(run)
    step = math.sqrt(sum(float(((after[n] - weights[n]).astype(np.float64) ** 2).sum()) for n in weights))
    assert step == pytest.approx(1.0 * 0.01, rel=1e-3)


@pytest.mark.parametrize("kind", KINDS)
def test_unrecorded_steps_train_on_the_same_gradient(kind: str) -> None:
    # Steps that record nothing take torch's fused kernel: same loss and gradient norm.
    config = small_config(kind, layers=2)
    run = Run(config)
    weights = weights_of(run)
    record = run.train_step(record=False).models[0]
    assert record.probes is None
    x, y = first_batch(config)
    ref = hand_bptt(weights, x, y, config)
    total = math.sqrt(sum(grad.norm().item() ** 2 for grad in ref["param_grads"].values()))
    assert record.loss == pytest.approx(ref["loss"], rel=1e-5)
    assert record.grad_norm == pytest.approx(total, rel=1e-4)


def test_many_to_many_gradients_equal_the_hand_written_bptt() -> None:
    config = RunConfig(
        task=TaskConfig(name="names", seq_len=8, batch=4, distance=3),
        models=(ModelSetup("m", ModelConfig(kind="lstm", hidden=5)),),
        seed=1,
        device="cpu",
    )
    run = Run(config)
    weights = weights_of(run)
    probes = run.train_step(record=True).models[0].probes
    x, y = first_batch(config)
    ref = hand_bptt(weights, x, y, config, decision=True)  # the name positions only
    np.testing.assert_allclose(probes.grad_h, reference_norms(ref["hidden"]), rtol=1e-5, atol=0)
    np.testing.assert_allclose(probes.grad_c, reference_norms(ref["cells"]), rtol=1e-5, atol=0)
    # The whole loss's gradient, per sequence (T B times the batch-and-time-mean loss's).
    whole = hand_bptt(weights, x, y, config)
    np.testing.assert_allclose(probes.grad_h_all, reference_norms(whole["hidden"], 8 * 4), rtol=1e-5, atol=0)


# ---- the vanishing gradient -------------------------------------------------------------


def probes_at_init(kind: str, seq_len: int, hidden: int = 64, batch: int = 64) -> Probes:
    config = RunConfig(
        task=TaskConfig(name="adding", seq_len=seq_len, batch=batch),
        models=(ModelSetup("m", ModelConfig(kind=kind, hidden=hidden)),),
        device="cpu",
    )
    return Run(config).train_step(record=True).models[0].probes


def test_the_tanh_rnn_gradient_vanishes_and_the_lstm_gradient_lasts_longer() -> None:
    rnn = probes_at_init("rnn", seq_len=100)
    profile = rnn.top_grad_h
    assert profile[-1] > 0
    # At t = 1 the gradient is at least 1000 times smaller than at t = T (or has underflowed).
    assert profile[0] <= profile[-1] / 1000
    assert rnn.underflow_steps == np.count_nonzero(profile == 0)
    assert 0 < rnn.half_life < 5

    lstm = probes_at_init("lstm", seq_len=100)
    assert lstm.underflow_steps == 0
    assert lstm.half_life > 2 * rnn.half_life
    assert lstm.top_grad_h[0] > 1e6 * rnn.top_grad_h[0]


def test_tiny_gradients_are_measured_not_rounded_to_zero() -> None:
    # A float32 norm squares its elements: 1e-21 ** 2 is below float32's range.
    grad = torch.full((1, 3, 64), 1e-21)
    grad[0, 1] *= 2
    norms = norms_over_time(grad, 1, grad)
    assert norms[0].item() == pytest.approx(8e-21 * (1 + 2 + 1) / 3, rel=1e-6)
    assert norms_over_time(None, 2, grad).tolist() == [0.0, 0.0]  # steps the loss never reaches
    overflowed = torch.ones(1, 2, 4)
    overflowed[0, 0, 1] = math.inf
    assert norms_over_time(overflowed, 1, grad).item() == math.inf
    overflowed[0, 0, 2] = math.nan
    assert math.isnan(norms_over_time(overflowed, 1, grad).item())
    # At T = 100 the tanh RNN's earliest gradients are ~1e-23: small, but not zero.
    assert probes_at_init("rnn", seq_len=100).underflow_steps == 0


def test_underflow_steps_count_the_exact_zeros() -> None:
    # Far enough back the gradient really is below float32's range and becomes 0.
    probes = probes_at_init("rnn", seq_len=300, hidden=32, batch=8)
    profile = probes.top_grad_h
    zeros = np.count_nonzero(profile == 0)
    assert zeros > 0
    assert probes.underflow_steps == zeros
    assert np.all(profile[zeros:] > 0)  # the zeros are the earliest steps
    assert np.isfinite(probes.half_life) and probes.half_life > 0


# ---- half-life --------------------------------------------------------------------------


def test_half_life_of_synthetic_profiles() -> None:
    t = np.arange(40, dtype=np.float64)
    assert half_life(2 ** (t / 5)) == pytest.approx(5.0, rel=1e-9)
    assert half_life(2 ** (-t / 3)) == pytest.approx(-3.0, rel=1e-9)  # grows going back: exploding
    assert math.isnan(half_life(np.zeros(40)))
    assert math.isnan(half_life(np.array([0.0, 0.0, 1.0])))  # one usable step
    assert math.isinf(half_life(np.full(40, 0.25)))
    # Zeros (underflow) and non-finite values are left out of the fit.
    profile = 2 ** (t / 5)
    profile[:7] = 0.0
    profile[10] = np.inf
    assert half_life(profile) == pytest.approx(5.0, rel=1e-9)


# ---- bounded history --------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [64, 7, 2])
def test_decimating_buffer_keeps_evenly_spaced_steps_within_capacity(capacity: int) -> None:
    buffer = DecimatingBuffer(capacity)
    for step in range(10_000):
        kept = buffer.append(step=step, value=np.full(3, step, dtype=np.float32))
        assert len(buffer) <= capacity
        if kept:
            assert buffer.column("step")[-1] == step
    steps = buffer.column("step")
    assert steps[0] == 0
    stride = steps[1] - steps[0]
    assert stride == buffer.stride
    np.testing.assert_array_equal(steps, np.arange(len(steps)) * stride)
    assert steps[-1] > 10_000 - 2 * stride  # it covers the whole run
    assert len(steps) > capacity // 2
    np.testing.assert_array_equal(buffer.column("value")[:, 0], steps)


def test_decimating_buffer_columns_are_copies() -> None:
    buffer = DecimatingBuffer(4)
    buffer.append(step=0)
    column = buffer.column("step")
    column[0] = 99
    assert buffer.column("step")[0] == 0
    with pytest.raises(ValueError):
        DecimatingBuffer(1)


def fake_record(step: int, hiddens: tuple[int, ...], steps: int = 20, diverged: tuple[int, ...] = ()) -> StepRecord:
    """A StepRecord with Probes shaped like an LSTM's of hidden size ``hiddens[m]``."""
    models = []
    for index, hidden in enumerate(hiddens):
        if index in diverged:
            models.append(ModelRecord(math.nan, math.nan, math.nan, diverged=True))
            continue
        gates = {name: np.full((1, steps, hidden), step, np.float32) for name in ("input", "forget", "cell", "output")}
        probes = Probes(
            grad_h=np.full((1, steps), step, np.float32),
            grad_c=np.full((1, steps), step, np.float32),
            gates=gates,
            gate_means={name: np.zeros((1, steps), np.float32) for name in gates},
            param_grad_norms={"weight_ih_l0": 1.0, "head.bias": 2.0},
            spectral_radius=np.ones(1),
            half_life=3.0,
            underflow_steps=0,
        )
        models.append(ModelRecord(loss=1.0 / (step + 1), metric=0.5, grad_norm=2.0, probes=probes))
    return StepRecord(step, tuple(models))


def test_run_history_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import gradviz.probes.history as history_module

    monkeypatch.setattr(history_module, "SCALAR_CAPACITY", 256)
    monkeypatch.setattr(history_module, "PROBE_BUDGET_BYTES", 64 * 1024)
    history = RunHistory(2)
    history.add(fake_record(0, (8, 8)))
    start = history.nbytes()
    sizes = []
    for step in range(1, 3000):
        history.add(fake_record(step, (8, 8)))
        sizes.append(history.nbytes())
    assert sizes[-1] == sizes[0] == start  # columns are allocated once, at their capacity
    assert len(history.scalars) <= 256 and history.scalars.stride > 1
    for buffer in history.probes:
        assert buffer is not None and len(buffer) <= buffer.capacity < 3000 // 2
    assert history.nbytes() <= 2 * 64 * 1024 + 256 * 4 * 8 * 3
    assert history.probe_column(0, "step")[-1] >= 3000 - 2 * history.probes[0].stride


def test_run_history_keeps_every_model_on_the_same_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    # Models of different sizes thin their probes in lockstep, and a diverged model keeps
    # getting (NaN) rows, so row n of every model is the same training step.
    import gradviz.probes.history as history_module

    monkeypatch.setattr(history_module, "PROBE_BUDGET_BYTES", 32 * 1024)
    history = RunHistory(3)
    for step in range(0, 4000, 10):
        history.add(fake_record(step, (4, 32, 8), diverged=(2,) if step >= 2000 else ()))
    steps = [history.probe_column(m, "step") for m in range(3)]
    assert len(steps[0]) > 10
    for other in steps[1:]:
        np.testing.assert_array_equal(other, steps[0])
    np.testing.assert_array_equal(history.probe_column(1, "grad_h")[:, 0, 0], steps[0])
    half_lives = history.probe_column(2, "half_life")
    after = steps[0] >= 2000
    assert after.any() and np.all(np.isnan(half_lives[after])) and np.all(half_lives[~after] == 3.0)
    assert np.all(np.isnan(history.probe_column(2, "gate/forget")[after]))
