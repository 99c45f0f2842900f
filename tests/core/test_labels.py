"""Labels that say no more than is true: a zero gradient cut by a zero Jacobian is saturation
(or a dead ReLU), not underflow; the headline factor is the gain the plotted gradient really
took per step back, computed here independently from the recorded profile; an unsteady
half-life is shown as a range."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run
from gradviz.probes.causes import (
    DEAD_RELU,
    FINITE,
    SATURATED,
    TRUNCATED,
    UNDERFLOW,
    classify,
    count,
    cut_by_zero_jacobian,
)
from gradviz.probes.halflife import describe_decay, stable_decay
from gradviz.probes.history import RunHistory
from gradviz.session.frames import ModelView, frame_from_history
from gradviz.session.headline import headline


def test_a_zero_is_a_cut_chain_only_where_every_sequence_is_cut() -> None:
    # Two sequences, one decision at the last step (t = 5). Sequence 0's Jacobian is zero at t = 3.
    zero = np.zeros((6, 2), dtype=bool)
    zero[3, 0] = True
    assert not cut_by_zero_jacobian(zero, np.eye(6, dtype=bool)[-1]).any()  # sequence 1 still reaches
    zero[4, 1] = True  # sequence 1's chain is cut before t = 4: both are cut before t = 3
    np.testing.assert_array_equal(cut_by_zero_jacobian(zero, np.eye(6, dtype=bool)[-1]),
                                  [True, True, True, False, False, False])
    # A decision term before the zeros (copy, names) reaches the earlier steps afresh.
    decisions = np.zeros(6, dtype=bool)
    decisions[[1, 5]] = True
    np.testing.assert_array_equal(cut_by_zero_jacobian(zero, decisions), [False, False, True, False, False, False])
    # Only the sequences a step counts (text: not padding) matter.
    counted = np.ones((6, 2), dtype=bool)
    counted[:, 1] = False
    zero[4, 1] = False
    assert cut_by_zero_jacobian(zero, np.eye(6, dtype=bool)[-1], counted=counted)[:3].all()
    # classify: the cut zeros are saturation, the other zeros underflow, a truncation stays one.
    profile = np.array([0.0, 0.0, 1e-3, 0.0, 0.5, 1.0])
    causes = classify(profile, np.array([True, False, False, False, False, False]), np.zeros(6, bool),
                      np.array([True, True, False, False, False, False]), SATURATED)
    np.testing.assert_array_equal(causes, [TRUNCATED, SATURATED, FINITE, UNDERFLOW, FINITE, FINITE])


def test_dead_relus_cut_the_chain_and_are_named_so() -> None:
    config = RunConfig(task=TaskConfig("adding", seq_len=10, batch=8),
                       models=(ModelSetup("relu", ModelConfig(kind="rnn", nonlinearity="relu", hidden=8)),),
                       record_every=1, device="cpu")
    run = Run(config)
    rnn = run.learners[0].model.rnn
    with torch.no_grad():
        rnn.bias_hh_l0.fill_(-1e3)  # every unit off at every step: h_t = 0, ReLU' = 0
    probes = run.train_step(record=True).models[0].probes
    assert np.all(probes.top_grad_h[:-1] == 0) and probes.top_grad_h[-1] > 0
    assert count(probes.grad_cause, DEAD_RELU) == 9 and probes.underflow_steps == 0


def exploding_unclipped(steps: int) -> list:
    from tests.core.test_presets import preset_run

    run = preset_run("exploding", (0,), record_every=1)
    return [record.models[0].probes for record in run.steps(steps)]


def test_the_exploding_preset_saturates_and_nothing_underflows() -> None:
    """The unclipped RNN's first update saturates its units: from step 1 to its divergence its
    through-time gradient is exactly 0 because tanh' = 1 - h^2 is 0, not by underflow."""
    records = exploding_unclipped(32)
    assert records[0].underflow_steps == 0 and count(records[0].grad_cause, SATURATED) == 0  # step 0
    for step in range(1, 32):
        probes = records[step]
        assert probes.underflow_steps == 0 and count(probes.grad_cause, UNDERFLOW) == 0, step
        assert count(probes.grad_cause, SATURATED) >= 45, step


def recorded_view(config: RunConfig, steps: int):
    run = Run(config)
    history = RunHistory(len(config.models))
    latest = [None] * len(config.models)
    for record in run.steps(steps):
        history.add(record)
        latest = [m if m.probes is not None else old for m, old in zip(record.models, latest, strict=True)]
    return run, frame_from_history(history, config, latest, 1, run.step, "done", 0.0)


def independent_gain(profile: np.ndarray) -> float:
    """exp(mean(log(p_t / p_t+1))) over neighbours that both carry a positive, finite value."""
    logs = []
    for t in range(len(profile) - 1):
        a, b = float(profile[t]), float(profile[t + 1])
        if a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b):
            logs.append(math.log(a / b))
    return math.exp(sum(logs) / len(logs)) if logs else math.nan


def test_the_headline_gain_is_the_measured_gain_of_the_plotted_profile() -> None:
    setups = (ModelSetup("rnn", ModelConfig(kind="rnn", hidden=8), TrainConfig(lr=0.02)),
              ModelSetup("lstm", ModelConfig(kind="lstm", hidden=8), TrainConfig(lr=0.02)),
              ModelSetup("gru", ModelConfig(kind="gru", hidden=8), TrainConfig(lr=0.02)))
    config = RunConfig(task=TaskConfig("adding", seq_len=12, batch=8), models=setups, record_every=1, device="cpu")
    run, frame = recorded_view(config, 7)
    for index, view in enumerate(frame.models):
        profiles = view.history["grad_c" if view.kind == "lstm" else "grad_h"][-5:, -1]  # the last 5 records
        gain = float(np.median([independent_gain(p) for p in profiles]))
        text = headline(view, frame.scalars["loss"][:, index], run.task.baseline().loss).text()
        assert f"gain x{gain:.3g} per step back" in text, text
        assert "|dC_t" not in text and "|dh_t" not in text  # a bound is not the headline


def test_an_unsteady_half_life_is_a_range_not_one_number() -> None:
    # The tanh RNN's late records in the issue: x0.017, x0.11 and x0.37 per step.
    swinging = np.log10(2.0) / -np.log10(np.array([0.11, 0.017, 0.37, 0.11, 0.2]))
    decay = stable_decay(swinging, span=50)
    assert decay.spread is not None
    assert describe_decay(decay) == "the gradient is unsteady: x0.017 to x0.37 per timestep back"
    steady = stable_decay(np.array([10.0, 11.0, 9.5, 10.5, 10.0]), span=50)
    assert steady.spread is None and describe_decay(steady) == "the gradient halves every 10 timesteps back"
    # A latest record with no gradient at all quotes none, whatever came before.
    assert math.isnan(stable_decay(np.array([5.0, 5.0, np.nan]), span=50).half_life)


@pytest.mark.parametrize("preset", ["exploding"])
def test_gradviz_train_counts_no_underflow_in_the_exploding_preset(preset, tmp_path, capsys) -> None:
    from gradviz.cli import main
    from gradviz.io.runfile import load_run

    out = tmp_path / "run.npz"
    assert main(["train", "--preset", preset, "--steps", "31", "--quiet", "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    unclipped = next(line for line in summary.splitlines() if "no clipping" in line)
    assert "underflow" not in unclipped and "saturated (tanh' = 0)" in unclipped
    arrays = load_run(out).arrays
    steps = arrays["step"]
    assert list(steps) == [0, 10, 20, 30]
    assert np.all(arrays["model0/underflow_steps"] == 0)
    assert np.all([count(row, SATURATED) >= 45 for row in arrays["model0/grad_cause"][1:]])


# ---- the header's rate agrees with its gain and with the plotted profile (issue 22 walk) ---------

RATE = re.compile(r"(shrinks|grows) x([\d.e+-]+) per timestep back|(halves|doubles) every ([\d.e+-]+) timesteps back"
                  r"|(falls|grows) 10x every ([\d.e+-]+) timesteps back")


def claimed_factors(text: str) -> list[float]:
    """Every per-step factor the header's decay sentence states ("x0.64 to x0.68", "halves
    every 4.5 timesteps back" -> 2^(-1/4.5), "is flat" -> 1)."""
    sentence = text.split(" · ")[1] if " · " in text else text
    unsteady = re.search(r"unsteady: x([\d.e+-]+) to x([\d.e+-]+)", sentence)
    if unsteady:
        return [float(unsteady[1]), float(unsteady[2])]
    factors = [1.0] * (sentence.count("flat"))
    for match in RATE.finditer(sentence):
        if match[1]:
            factors.append(float(match[2]))
        elif match[3]:
            factors.append(2.0 ** ((1 if match[3] == "doubles" else -1) / float(match[4])))
        else:
            factors.append(10.0 ** ((1 if match[5] == "grows" else -1) / float(match[6])))
    return factors


def assert_rate_agrees_with_gain(text: str, plotted_gain: float, span: int) -> None:
    """The decay sentence and the gain beside it: a range contains the gain (and the gain of the
    profile on screen, one of the recent records), one rate is the gain's own (to its 2 or 3
    digits), two regimes enclose it, "flat" changes it less than 1.25x over the span."""
    gain = float(re.search(r"gain x([\d.e+-]+) per step back", text)[1])
    factors = claimed_factors(text)
    assert factors, text
    low, high = min(factors), max(factors)
    slack = 0.03  # the sentence rounds to 2 or 3 digits
    if "unsteady" in text:
        assert low * (1 - slack) <= gain <= high * (1 + slack), text
        assert low * (1 - slack) <= plotted_gain <= high * (1 + slack), (text, plotted_gain)
    else:
        if factors == [1.0]:
            assert abs(math.log10(gain)) * (span - 1) < math.log10(1.25) + 0.01, text
        else:
            assert low * (1 - slack) <= gain <= high * (1 + slack), text
        # Steady: the profile on screen ends within a decade (and rounding) of what the quoted gain says.
        assert abs(math.log10(plotted_gain / gain)) * (span - 1) <= 1.0 + (span - 1) * math.log10(1 + slack), \
            (text, plotted_gain)


def synthetic_view(profiles: list[np.ndarray], causes: np.ndarray) -> ModelView:
    """A tanh RNN's view whose records carry ``profiles`` (T,), the latest with ``causes``."""
    from gradviz.probes.halflife import fit_decay

    fits = [fit_decay(profile) for profile in profiles]
    history = {"step": np.arange(len(profiles)) * 10, "grad_h": np.stack(profiles)[:, None, :],
               "half_life": np.array([fit.half_life for fit in fits]),
               "near_half_life": np.array([fit.near_half_life for fit in fits]),
               "near_steps": np.array([fit.near_steps for fit in fits]),
               "grad_cause": np.stack([causes] * len(profiles))}
    probes = SimpleNamespace(grad_h=np.stack([profiles[-1]]), grad_c=None, grad_cause=causes, gate_means={},
                             underflow_steps=count(causes, UNDERFLOW), decay=fits[-1], top_grad_h=profiles[-1])
    return ModelView("tanh RNN", "rnn", SimpleNamespace(probes=probes, diverged=False), history, [])


def test_a_gradient_at_the_float32_floor_gives_no_gain_and_no_unsteady_range() -> None:
    """A gradient that falls 10x per step back from the loss to float32's floor (1.18e-38) and
    wobbles there (subnormals and zeros, as a device that keeps subnormals gives them): the
    header measures its rate only on the measurable steps and says where it reached the floor."""
    steps = 50
    t = np.arange(steps)
    rng = np.random.default_rng(0)
    profiles = []
    for _ in range(5):
        profile = 10.0 ** -(steps - 1 - t).astype(np.float64)  # 1 at t = T, 10x less per step back
        floor = profile < 1.1754944e-38  # t = 1 ... 12 (1e-38 is below the smallest normal)
        profile[floor] = 10.0 ** rng.uniform(-45, -39, floor.sum())  # subnormal wobble ...
        profile[rng.choice(np.flatnonzero(floor), 3, replace=False)] = 0.0  # ... and flushed zeros
        profiles.append(profile)
    causes = np.where(profiles[-1] == 0, UNDERFLOW, FINITE).astype(np.int8)
    view = synthetic_view(profiles, causes)
    text = headline(view, np.full(20, 0.2), 1 / 6).text()
    assert "unsteady" not in text, text
    assert "the gradient shrinks x0.1 per timestep back" in text and "gain x0.1 per step back" in text, text
    assert "reaches the float32 floor at t = 12" in text, text
    assert_rate_agrees_with_gain(text, 0.1, steps)


def test_the_default_demo_header_agrees_with_its_gain_and_the_plotted_profile() -> None:
    """Every record of the default demo's first 400 steps: the tanh RNN's and the LSTM's rate
    (a range, one rate, two regimes or flat) agrees with the gain beside it and with the gain of
    the profile the gradient plot draws; the walk saw "unsteady x0.76 to x0.97 · gain x0.757"
    beside a straight line of x0.75 per step."""
    from gradviz.presets import load_preset
    from gradviz.probes.halflife import measured_gain
    from gradviz.session.headline import headline_profile

    config = load_preset("vanishing").config
    run = Run(config)
    history = RunHistory(len(config.models))
    latest = [None] * len(config.models)
    baseline = run.task.baseline().loss
    checked = 0
    for record in run.steps(400):
        history.add(record)
        latest = [m if m.probes is not None else old for m, old in zip(record.models, latest, strict=True)]
        if record.models[0].probes is None or record.step < 50:
            continue
        frame = frame_from_history(history, config, latest, 0, run.step, "done", 0.0)
        for index, view in enumerate(frame.models):
            text = headline(view, frame.scalars["loss"][:, index], baseline).text()
            plotted = measured_gain(headline_profile(view))
            assert_rate_agrees_with_gain(text, plotted, config.task.seq_len)
            checked += 1
    assert checked == 2 * 35


def test_close_gains_are_steady_and_an_unsteady_range_is_the_gains_own() -> None:
    """Review: gains of x0.79 and x0.81 on T = 50 (half a decade apart at t = 1) read
    "unsteady: x0.79 to x1": a gain within 0.8-1.25 counted as flat without the span."""
    from gradviz.probes.halflife import Decay, agreeing_decay, gain_half_life, per_step_factor

    fitted = Decay(gain_half_life(0.8, 50))
    steady = agreeing_decay(fitted, np.array([0.79, 0.81, 0.8]), span=50)
    assert steady.spread is None and per_step_factor(steady.half_life) == pytest.approx(0.8)
    unsteady = agreeing_decay(fitted, np.array([0.5, 0.9, 0.7]), span=50)
    assert unsteady.spread is not None
    assert sorted(per_step_factor(value) for value in unsteady.spread) == pytest.approx([0.5, 0.9])
