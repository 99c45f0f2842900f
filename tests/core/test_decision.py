"""Numbers that tell the truth: the gradient of the decision, per sequence; zeros with their
causes; a half-life a lecturer can quote; the measured per-step factor; and a divergence that
stops only the model that diverged. Checked against independent computations and through the
command line, as a user runs it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradviz.boundary import host_arrays
from gradviz.cli import main
from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run
from gradviz.io.runfile import load_run, read_npz
from gradviz.probes import describe_decay, fit_decay, half_life
from gradviz.probes.causes import FINITE, OVERFLOW, PADDING, TRUNCATED, UNDERFLOW, classify, cut_by_truncation
from gradviz.probes.halflife import describe_half_life, stable_decay
from gradviz.probes.jacobian import jacobian_inputs, jacobian_layers, layer_jacobian_norms
from tests.core.test_probes import hand_bptt, reference_norms

# ---- the gradient of the decision ---------------------------------------------------------


def test_probe_copy_task_is_the_answer_steps_gradient_and_vanishes_towards_the_data(tmp_path) -> None:
    out = tmp_path / "copy.npz"
    code = main(["probe", "--task", "copy", "--model", "rnn", "--seq-len", "20", "--hidden", "16",
                 "--batch", "6", "--out", str(out)])
    assert code == 0
    arrays = read_npz(out)
    config = RunConfig.from_json(str(arrays["config_json"]))
    x = torch.from_numpy(arrays["x"]).transpose(0, 1)  # (T + 20, B, 10)
    y = torch.from_numpy(arrays["y"]).transpose(0, 1)  # (T + 20, B)
    params = {name.removeprefix("param/"): value for name, value in arrays.items() if name.startswith("param/")}
    ref = hand_bptt(params, x, y, config, decision=True)  # float64, answer steps only
    np.testing.assert_allclose(arrays["grad_h"], reference_norms(ref["hidden"]), rtol=2e-5, atol=0)
    profile = arrays["grad_h"][-1]
    # The answer steps are the last 10; the data symbols the first 10: the gradient that
    # reaches them is orders of magnitude smaller (the tanh RNN cannot learn to copy).
    assert profile[:10].max() < 1e-3 * profile[-10:].min()
    # The whole loss, dominated by each step's own prediction, does not show that.
    whole = arrays["grad_h_all"][-1]
    assert whole[:10].min() > 10 * profile[:10].max()


def test_the_plotted_gradient_does_not_move_with_batch_size() -> None:
    def profile(batch: int) -> np.ndarray:
        config = RunConfig(
            task=TaskConfig(name="adding", seq_len=30, batch=batch),
            models=(ModelSetup("m", ModelConfig(kind="rnn", hidden=16)),),
            device="cpu",
        )
        return Run(config).train_step(record=True).models[0].probes.top_grad_h

    small, large = profile(8), profile(64)
    # Batch-mean gradients would differ by log10(8) = 0.9 decades; per sequence they agree
    # up to which sequences were drawn.
    assert abs(np.median(np.log10(large) - np.log10(small))) < 0.3


def test_probe_on_text_leaves_padding_out(tmp_path) -> None:
    data = tmp_path / "reviews.csv"
    rows = ["review,sentiment"] + [
        f"{'a fine film ' * (1 + i % 4)}the end,{'positive' if i % 2 else 'negative'}" for i in range(40)
    ]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "probe.npz"
    assert main(["probe", "--task", "text", "--data", str(data), "--max-len", "20", "--model", "rnn",
                 "--batch", "8", "--out", str(out)]) == 0
    arrays = read_npz(out)
    x = arrays["x"]  # (B, T) token ids, padding (0) on the left
    padded = (x == 0).all(axis=0)
    assert padded.any()
    grad = arrays["grad_h"][-1]
    assert np.all(np.isnan(grad[padded])) and np.all(arrays["grad_cause"][padded] == PADDING)
    assert np.all(grad[~padded] > 0)


# ---- zeros keep their causes ---------------------------------------------------------------


def test_causes_of_empty_steps() -> None:
    profile = np.array([0.0, 0.0, np.nan, np.nan, np.inf, 0.0, 1.0])
    truncated = np.array([True, False, False, False, False, False, False])
    padding = np.array([False, False, True, False, False, False, False])
    np.testing.assert_array_equal(
        classify(profile, truncated, padding),
        [TRUNCATED, UNDERFLOW, PADDING, OVERFLOW, OVERFLOW, UNDERFLOW, FINITE],
    )
    one_output = np.zeros(12, bool)
    one_output[-1] = True
    np.testing.assert_array_equal(cut_by_truncation(one_output, 4), [True] * 8 + [False] * 4)
    assert not cut_by_truncation(one_output, 0).any()
    answers = np.zeros(12, bool)
    answers[-3:] = True  # a loss in the last window only: the earlier windows are cut
    np.testing.assert_array_equal(cut_by_truncation(answers, 5), [True] * 7 + [False] * 5)
    everywhere = np.ones(12, bool)
    assert not cut_by_truncation(everywhere, 5).any()


def test_truncated_training_records_no_underflow_and_a_half_life_inside_the_window(tmp_path) -> None:
    out = tmp_path / "tbptt.npz"
    assert main(["train", "--tbptt", "5", "--seq-len", "20", "--steps", "21", "--quiet", "--out", str(out)]) == 0
    arrays = load_run(out).arrays
    assert np.all(arrays["model0/underflow_steps"] == 0)
    assert np.all(arrays["model0/truncated_steps"] == 15)
    assert np.all(arrays["model0/grad_cause"][:, :15] == TRUNCATED)
    half_lives = arrays["model0/half_life"]
    assert np.all(np.isfinite(half_lives)) and np.all(half_lives > 0)


# ---- a half-life a lecturer can quote --------------------------------------------------------


def test_a_flat_noisy_profile_is_flat() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        profile = 0.3 * (1 + 0.01 * rng.standard_normal(50))
        assert math.isinf(half_life(profile))
    assert describe_half_life(math.inf) == "the gradient is flat through time"


def test_steep_falls_are_described_in_words_one_can_picture() -> None:
    assert describe_half_life(5.0) == "the gradient halves every 5 timesteps back"
    assert describe_half_life(1.0) == "the gradient falls 10x every 3.3 timesteps back"
    assert describe_half_life(0.131) == "the gradient shrinks x0.005 per timestep back"
    assert describe_half_life(0.3) == "the gradient shrinks x0.099 per timestep back"  # not "10x every 1 timesteps"
    assert describe_half_life(-0.3) == "the gradient grows x10 per timestep back"
    assert describe_half_life(-0.5) == "the gradient grows x4 per timestep back"
    assert describe_half_life(-0.8) == "the gradient grows 10x every 2.7 timesteps back"
    assert describe_half_life(math.nan) == "no gradient reaches the sequence"


def test_two_regimes_are_reported_apart() -> None:
    t = np.arange(60, dtype=np.float64)
    # Falls 10x per 2 steps over the first 20 timesteps, flat over the 40 nearest the loss.
    profile = np.where(t < 20, 10.0 ** ((t - 20) / 2), 1.0)
    decay = fit_decay(profile)
    assert decay.half_life == pytest.approx(2 * math.log10(2), rel=0.05)
    assert math.isinf(decay.near_half_life) and decay.near_steps == 40
    assert describe_decay(decay) == (
        "the gradient is flat over the last 40 timesteps, then falls 10x every 2 timesteps back"
    )
    # One straight fall stays one regime.
    assert fit_decay(2 ** (t / 5)).near_steps == 0


def test_the_header_half_life_is_the_median_of_recent_records() -> None:
    swinging = np.array([3.0, 0.58, 19.5, 0.13, 2.0, 2.5, 2.2])
    assert stable_decay(swinging).half_life == 2.2
    assert stable_decay(np.array([np.nan, 4.0])).half_life == 4.0
    two = stable_decay(np.full(5, 2.0), np.array([np.nan, 8.0, 8.0, 9.0, np.nan]), np.array([0, 10, 12, 10, 0]))
    assert two.near_steps == 10 and two.near_half_life == 8.0


# ---- what multiplies the gradient ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_step_factor_is_the_norm_of_the_autograd_jacobian(kind: str) -> None:
    config = RunConfig(
        task=TaskConfig(name="adding", seq_len=6, batch=3),
        models=(ModelSetup("m", ModelConfig(kind=kind, hidden=5)),),
        device="cpu",
    )
    run = Run(config)
    model = run.learners[0].model
    x, _ = run.task.generate(3, torch.Generator().manual_seed(0))
    _, _, traces = model(x, observe=True)
    layer0 = jacobian_layers(host_arrays(jacobian_inputs(model, traces)))[0]
    measured = layer_jacobian_norms(kind, layer0).numpy()  # (T,)
    cells = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn": torch.nn.RNNCell}
    cell = cells[kind](2, 5)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data.copy_(getattr(model.rnn, f"{name}_l0").detach())
    expected = np.zeros(6)
    for b in range(3):
        h, c = torch.zeros(1, 5), torch.zeros(1, 5)
        for t in range(6):
            x_t = x[t, b : b + 1]
            if kind == "lstm":  # the cell path: C_t as a function of C_{t-1}
                jacobian = torch.autograd.functional.jacobian(lambda c_prev, x_t=x_t, h=h: cell(x_t, (h, c_prev))[1], c)
                h, c = cell(x_t, (h, c))
            else:
                jacobian = torch.autograd.functional.jacobian(lambda h_prev, x_t=x_t: cell(x_t, h_prev), h)
                h = cell(x_t, h)
            expected[t] += torch.linalg.matrix_norm(jacobian[0, :, 0, :], ord=2).item() / 3
    np.testing.assert_allclose(measured, expected, rtol=1e-4)


def test_the_1997_lstm_carries_its_cell_gradient_unchanged() -> None:
    config = RunConfig(
        task=TaskConfig(name="adding", seq_len=30, batch=8),
        models=(ModelSetup("m", ModelConfig(kind="lstm", hidden=8, forget_gate=False)),),
        device="cpu",
    )
    probes = Run(config).train_step(record=True).models[0].probes
    assert probes.step_factor[-1] == pytest.approx(1.0)  # dC_t/dC_{t-1} = I
    assert math.isinf(probes.half_life) or probes.half_life > 30  # its C_t line is flat


# ---- divergence stops only the diverged model --------------------------------------------------


def test_exploding_preset_exits_3_and_the_clipped_model_trains_on(tmp_path) -> None:
    out = tmp_path / "exploding.npz"
    assert main(["train", "--preset", "exploding", "--steps", "200", "--quiet", "--out", str(out)]) == 3
    arrays = load_run(out).arrays
    assert len(arrays["train_step"]) == 200 and arrays["train_step"][-1] == 199
    losses = arrays["train_loss"]  # (M, S): model 0 has no clipping, model 1 clips at 1
    assert not np.isfinite(losses[0, -1])
    assert np.all(np.isfinite(losses[1]))
    assert arrays["step"][-1] == 190  # recorded to the end, NaN rows for the diverged model
    assert np.isnan(arrays["model0/half_life"][-1]) and np.isfinite(arrays["loss"][1, -1])


def test_a_divergence_message_names_only_the_diverged_model() -> None:
    boom = ModelSetup("boom", ModelConfig(kind="rnn", nonlinearity="relu", hidden=8, spectral_radius=5.0),
                      TrainConfig(optimizer="sgd", lr=10.0, clip=0.0))
    calm = ModelSetup("calm", ModelConfig(kind="lstm", hidden=8))
    run = Run(RunConfig(task=TaskConfig(name="adding", seq_len=20, batch=8), models=(boom, calm), device="cpu"))
    messages = [m for m in (run.divergence_message(record) for record in run.steps(60)) if m]
    assert len(messages) == 1
    assert "boom" in messages[0] and "calm" not in messages[0] and "the others train on" in messages[0]
    assert run.step == 60 and not run.all_diverged
