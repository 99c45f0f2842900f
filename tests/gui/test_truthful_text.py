"""What a column says matches the model: the header's half-life, its counts of empty steps by
cause, the hover text, the legend, the factor plot; and a diverged model reads "overflowed"
while the others train on in the window."""

import dataclasses
import html
import math

import numpy as np

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run
from gradviz.gui.plots.column import ModelColumn
from gradviz.probes.history import RunHistory
from gradviz.session.frames import frame_from_history
from gradviz.session.protocol import RUNNING
from tests.configs import EXPLODING

BOOM = dataclasses.replace(EXPLODING.models[0], label="boom")


def columns_after(config: RunConfig, steps: int, qtbot) -> tuple[list[ModelColumn], object]:
    run = Run(config)
    history = RunHistory(len(config.models))
    latest = [None] * len(config.models)
    for record in run.steps(steps):
        history.add(record)
        for index, model in enumerate(record.models):
            if model.probes is not None:
                latest[index] = model
    frame = frame_from_history(history, config, latest, 1, run.step, "running", 0.0)
    columns = []
    for index, view in enumerate(frame.models):
        column = ModelColumn(index)
        qtbot.addWidget(column)
        column.resize(600, 900)
        column.show_frame(view, frame.scalars, run.task.baseline(), 1.0, {
            "loss": (-2.0, 0.0), "profile": (-10.0, 1.0), "gradient_levels": (-10.0, 1.0)})
        columns.append(column)
    return columns, frame


def legend_names(column: ModelColumn) -> list[str]:
    return column.gradient.key_names()


def test_truncation_is_named_in_header_heatmap_and_hover(qtbot) -> None:
    config = RunConfig(
        task=TaskConfig("adding", seq_len=12, batch=8),
        models=(ModelSetup("rnn", ModelConfig(kind="rnn", hidden=8), TrainConfig(tbptt=4)),
                ModelSetup("lstm", ModelConfig(kind="lstm", hidden=8))),
        record_every=1, device="cpu",
    )
    (rnn, lstm), frame = columns_after(config, 3, qtbot)
    header = rnn.header.text()
    assert "8 steps cut by truncation" in header and "underflow" not in header
    assert "the gradient" in header
    assert rnn._describe_profile(2.0, 0.0).endswith("none (cut by truncation)")
    history = rnn.history.data
    step = float(history["step"][-1])
    assert "cut by truncation" in rnn._describe_history(2.0, step)
    assert "cut by truncation" not in rnn._describe_history(11.0, step)
    # The RNN has no cell state: its legend does not list one; the LSTM's does.
    assert legend_names(rnn) == ["|dL/dh_t|"]
    assert legend_names(lstm) == ["|dL/dh_t|", "|dL/dC_t|"]
    assert "through C_t" in lstm.header.text() and "gain x" in lstm.header.text()
    assert "|dC_t/dC_t-1|" not in lstm.header.text()  # the largest f_t is a bound, not the gain
    # The factor plot: the measured gain, and thin beside it rho(W_hh) for the vanilla RNN, the
    # bound max f_t for the LSTM.
    assert "rho(W_hh)" in rnn.spectral.caption_text and "not the gain" in rnn.spectral.caption_text
    assert "max f_t, the carousel path's factor alone" in lstm.spectral.caption_text
    from tests.core.test_labels import independent_gain

    gains = [independent_gain(profile) for profile in frame.models[1].history["grad_c"][:, -1]]
    np.testing.assert_allclose(lstm.spectral.data["gain"], gains, rtol=1e-5)  # the thick line
    np.testing.assert_array_equal(lstm.spectral.data["layer0"], frame.models[1].history["step_factor"][:, 0])
    np.testing.assert_array_equal(rnn.spectral.data["layer0"], frame.models[0].history["spectral_radius"][:, 0])


def test_copy_task_shows_the_whole_loss_line_and_a_diverged_model_overflowed(qtbot) -> None:
    config = RunConfig(
        task=TaskConfig("copy", seq_len=10, batch=8),
        models=(BOOM, ModelSetup("gru", ModelConfig(kind="gru", hidden=8))),
        record_every=1, device="cpu",
    )
    (boom, gru), frame = columns_after(config, 6, qtbot)
    assert frame.models[0].latest.diverged
    assert "overflowed (inf/NaN) at step" in boom.header.text() and "DIVERGED" in boom.header.text()
    assert "no gradient reaches" not in boom.header.text() and "underflow" not in boom.header.text()
    # Its gradient plot shows its last finite profile, and the key says from which step.
    history = frame.models[0].history
    finite = [row for row in range(len(history["step"]))
              if np.all(np.isfinite(history["grad_h"][row, -1])) and np.any(history["grad_h"][row, -1] > 0)]
    row = finite[-1]
    step = int(history["step"][row])
    assert boom.gradient.data["step"] == step
    recorded = history["grad_h"][row, -1].astype(np.float64)
    np.testing.assert_allclose(boom.gradient.data["log10_grad_h"],
                               np.log10(np.where(recorded > 0, recorded, np.nan)), rtol=1e-6)
    assert f"|dL/dh_t| at step {step}, its last finite" in legend_names(boom)
    assert legend_names(gru) == ["|dL/dh_t|", "|dL/dh_t|, whole loss"]
    whole = gru.gradient.data["log10_grad_h_all"]
    assert np.all(np.isfinite(whole)) and whole[0] > gru.gradient.data["log10_grad_h"][0]
    assert "whole loss" in gru._describe_profile(1.0, 0.0)
    np.testing.assert_array_equal(gru.spectral.data["layer0"], frame.models[1].history["step_factor"][:, 0])
    assert math.isfinite(float(gru.spectral.data["layer0"][-1]))


def test_in_the_window_a_divergence_stops_only_that_model(qtbot, make_window) -> None:
    calm = ModelSetup("calm", ModelConfig(kind="lstm", hidden=8))
    config = RunConfig(task=TaskConfig("adding", 20, 8), models=(BOOM, calm), record_every=1, device="cpu")
    window = make_window(config=config, autostart=True)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=60000)
    assert "boom" in window.banner.text() and "calm" not in window.banner.text().split(":")[1]
    session = window.session
    diverged_at = session.steps_done
    qtbot.waitUntil(lambda: session.steps_done > diverged_at + 5, timeout=60000)
    assert session.trainer_state == RUNNING
    # The trainer process trains on: the diverged model's later losses are NaN, the other's finite.
    last_loss = session.frame.scalars["loss"][-1]
    assert not np.isfinite(last_loss[0]) and np.isfinite(last_loss[1])


def test_a_model_that_diverged_between_records_reads_overflowed(qtbot) -> None:
    config = RunConfig(task=TaskConfig("adding", 20, 8), models=(BOOM,), record_every=50, device="cpu")
    (boom,), frame = columns_after(config, 20, qtbot)
    assert not frame.models[0].latest.diverged  # its last record (step 0) was before the divergence
    assert "overflowed (inf/NaN) at step" in boom.header.text() and "DIVERGED" in boom.header.text()


def test_saturation_is_named_in_header_and_hover_not_underflow(qtbot) -> None:
    """The exploding preset's unclipped RNN after its first update: every unit saturated, the
    through-time gradient exactly 0 because tanh' = 0; the window says so, not "underflow"."""
    from tests.core.test_presets import preset_run

    run = preset_run("exploding", (0,), record_every=1)
    (column,), frame = columns_after(run.config, 3, qtbot)
    header = html.unescape(column.header.text())
    assert "saturated (tanh' = 0)" in header and "underflow" not in header
    assert column._describe_profile(1.0, 0.0).endswith("none (saturated: tanh' = 0)")
    step = float(column.history.data["step"][-1])
    assert column._describe_history(1.0, step).endswith("saturated: tanh' = 0")


def test_the_exploding_presets_diverged_model_says_so_beside_its_one_dot(qtbot) -> None:
    """The exploding preset's unclipped RNN: after its divergence its gradient plot draws one dot
    (step 30, its last finite record: every other step saturated). The plot says when it
    diverged and why the rest is empty, beside the dot, inside the plot (a lone dot said nothing)."""
    from gradviz.presets import load_preset

    config = load_preset("exploding").config
    (unclipped, clipped), frame = columns_after(config, 40, qtbot)
    unclipped.show()
    qtbot.waitExposed(unclipped)
    profile = unclipped.gradient.data["log10_grad_h"]
    drawn = np.flatnonzero(np.isfinite(profile))
    assert list(drawn) == [len(profile) - 1]  # one dot, at t = T
    note = unclipped.diverged_note
    text = note.text()
    assert text.startswith("Diverged: the ") and "overflowed (inf/NaN) at step 31." in text, text
    assert not clipped.diverged_note.text()
    saturated = int(np.count_nonzero(frame.models[0].history["grad_cause"][3] == 5))  # the step-30 record
    assert f"Drawn: step 30, its last finite record: 1 step with a gradient, {saturated} steps saturated (tanh' = 0)." \
        in text and saturated == 49, text
    # Beside the dot, in the plot as the board sets it up (x from 1 to T): the note's right
    # end left of the dot, the dot within its height, the whole note inside the plot.
    from PySide6.QtCore import QPointF

    unclipped.set_timesteps(len(profile))
    unclipped.gradient.plot.setYRange(profile[-1] - 1.5, profile[-1] + 1.5, padding=0)
    qtbot.wait(50)
    vb = unclipped.gradient.plot.vb
    box, plot = note.item.sceneBoundingRect(), vb.sceneBoundingRect()
    dot = vb.mapViewToScene(QPointF(len(profile), profile[-1]))
    assert box.right() < dot.x() and box.top() <= dot.y() <= box.bottom(), (box, dot)
    assert plot.contains(box), (box, plot)
