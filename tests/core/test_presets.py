"""Every preset does what its description says, headless, in as few steps as show it.

A preset's story is about training (which model leaves the memoryless baseline) and about
gradients (whose gradient reaches further back). Models of one run never interact, so each
claim trains only the model it is about, with the preset's own settings, batches and seed,
and takes gradients from a recorded step, as the window does. The step counts are measured
(the LSTMs at H = 32 leave the baseline after 350-450 steps, the reviews LSTM reaches 100%
after 300) with some room, and well within what the window trains in 60 s on 2 cores
(the default demo: about 31 steps/s with the window open, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import math

import numpy as np

from gradviz.config import RunConfig
from gradviz.engine import Run
from gradviz.presets import load_preset, preset_names
from gradviz.probes import Probes
from gradviz.probes.causes import TRUNCATED


def preset_run(name: str, models: tuple[int, ...], record_every: int = 100_000) -> Run:
    """The preset's run with only ``models`` (by index): same settings, batches and seed."""
    data = load_preset(name).config.to_dict()
    data["models"] = [data["models"][index] for index in models]
    data["record_every"] = record_every
    return Run(RunConfig.from_dict(data))


def trained(name: str, models: tuple[int, ...], steps: int, tail: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Per model: (mean loss / baseline, mean metric) over the last ``tail`` of ``steps`` steps."""
    run = preset_run(name, models)
    records = list(run.steps(steps))[-tail:]
    losses = np.array([[m.loss for m in r.models] for r in records]).mean(axis=0)
    metrics = np.array([[m.metric for m in r.models] for r in records]).mean(axis=0)
    return losses / run.task.baseline().loss, metrics


def probes_at_start(name: str) -> list[Probes]:
    """Every model's first recorded step (the initialisation)."""
    run = preset_run(name, tuple(range(len(load_preset(name).config.models))), record_every=1)
    return [model.probes for model in run.train_step(record=True).models]


def test_every_preset_has_a_claim_here() -> None:
    claimed = {"vanishing", "exploding", "irnn", "lstm1997", "copy", "tbptt", "reviews"}
    assert set(preset_names()) == claimed


def test_vanishing_the_lstm_leaves_the_baseline_and_the_tanh_rnn_does_not() -> None:
    rnn, lstm = probes_at_start("vanishing")
    assert lstm.half_life > 2 * rnn.half_life > 0
    (rnn_loss, lstm_loss), _ = trained("vanishing", (0, 1), 800)
    assert lstm_loss < 0.5 and rnn_loss > 0.9


# exploding: tests/core/test_decision.py::test_exploding_preset_exits_3_and_the_clipped_model_trains_on
# runs the preset through `gradviz train`: the unclipped model diverges, the clipped one trains on.


def test_irnn_keeps_the_gradient_alive_at_first() -> None:
    tanh, irnn = probes_at_start("irnn")
    # W_hh = I and ReLU: the Jacobian is 1 on every active unit, so the gradient reaches the
    # first timestep undiminished, where the tanh RNN's falls by orders of magnitude.
    assert math.isinf(irnn.half_life) or irnn.half_life > 10 * tanh.half_life
    assert irnn.top_grad_h[0] > 100 * tanh.top_grad_h[0]
    assert irnn.spectral_radius[0] == 1.0 or abs(irnn.spectral_radius[0] - 1.0) < 1e-5


def test_lstm1997_carousel_never_shrinks_and_the_forget_gate_lstm_learns_first() -> None:
    carousel, gated = probes_at_start("lstm1997")
    assert carousel.step_factor[0] == 1.0  # dC_t/dC_{t-1} = I: the constant error carousel
    assert not carousel.half_life > 0  # flat or growing going back: it never vanishes
    assert gated.half_life > 0 and carousel.headline[0] > 1000 * gated.headline[0]
    (carousel_loss, gated_loss), _ = trained("lstm1997", (0, 1), 800)
    assert gated_loss < 0.5 and carousel_loss > 5 * gated_loss  # the forget-gate LSTM learns first


def test_copy_the_gru_recalls_above_chance_and_its_gradient_fades_towards_the_symbols() -> None:
    gru, _ = probes_at_start("copy")
    profile = gru.top_grad_h
    assert profile[:10].max() < 0.01 * profile[-10:].min()  # the symbols get little of the answers' gradient
    run = preset_run("copy", (0,))
    records = list(run.steps(1200))
    baseline = run.task.baseline().loss
    early, late = records[350:400], records[-50:]
    recall = np.mean([r.models[0].metric for r in early])
    assert recall > 0.15 and np.mean([r.models[0].loss for r in early]) > 0.8 * baseline  # chance is 1/8
    # Within a minute in the window (about 1200 steps headless in 30 s on 2 cores): below the baseline.
    assert np.mean([r.models[0].loss for r in late]) < 0.9 * baseline


def test_tbptt_cuts_the_gradient_yet_weight_sharing_learns_the_task() -> None:
    full, truncated = probes_at_start("tbptt")
    steps = len(truncated.top_grad_h)
    assert truncated.truncated_steps == steps - 20 and truncated.underflow_steps == 0
    assert np.all(truncated.grad_cause[: steps - 20] == TRUNCATED)
    assert np.all(truncated.top_grad_h[: steps - 20] == 0) and np.all(full.top_grad_h > 0)
    (loss,), _ = trained("tbptt", (1,), 800)
    assert loss < 0.5  # the first marker is learned all the same


def test_reviews_the_lstm_finds_the_deciding_word_and_the_rnn_stays_at_chance() -> None:
    rnn, lstm = probes_at_start("reviews")
    assert lstm.top_grad_h[10] > 100 * rnn.top_grad_h[10]  # 20 words before the end
    _, (rnn_accuracy, lstm_accuracy) = trained("reviews", (0, 1), 350)
    assert lstm_accuracy > 0.9 and rnn_accuracy < 0.65


def test_a_run_of_a_presets_own_settings_is_known_by_its_preset():
    import dataclasses

    from gradviz.presets import load_preset, preset_names, preset_of

    for name in preset_names():
        assert preset_of(load_preset(name).config).name == name
    copy = load_preset("copy").config
    assert preset_of(dataclasses.replace(copy, seed=copy.seed + 1)) is None
