"""The real window, driven as a user would: what the plots hold is what the trainer measured."""

import os
import signal
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gradviz.plotmath import log10_or_nan
from gradviz.session.protocol import DEAD, PAUSED, RUNNING
from tests.gui.conftest import process_exists, small_config, steps_done, trainer_arrays, trainer_frame


def _wait_steps(qtbot, window, count, timeout=30000):
    qtbot.waitUntil(lambda: steps_done(window) >= count, timeout=timeout)


def _pause_and_paint(qtbot, window):
    window.session.pause()
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    # The frame of the paused step has arrived (its steps match the trainer's arrays).
    qtbot.waitUntil(lambda: window.last_frame is not None and window.last_frame.state == PAUSED, timeout=10000)
    window.paint_now()


def test_plots_hold_exactly_what_the_trainer_recorded(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 9)
    _pause_and_paint(qtbot, window)
    recorded = trainer_frame(qtbot, window)
    arrays = window.session.arrays
    assert len(window.columns) == 2
    for index, column in enumerate(window.columns):
        latest = recorded.models[index].latest.probes
        x, y = column.profile_h.getData()
        np.testing.assert_array_equal(x, np.arange(1, 13))
        np.testing.assert_array_equal(y, log10_or_nan(latest.top_grad_h))
        np.testing.assert_array_equal(column.loss_curve.yData, arrays["train_loss"][index])  # raw, not log10
        logs = log10_or_nan(arrays[f"model{index}/grad_h"][:, -1, :])
        bottom = column.history_map.image.levels[0]
        shown = column.history_map.image.image
        np.testing.assert_array_equal(shown, np.nan_to_num(logs, nan=bottom).astype(np.float32))
        gate = "hidden" if index == 0 else "forget"
        np.testing.assert_array_equal(column.gate_map.image.image, latest.gates[gate][-1].T)
        # yData: what was set (getData() is the display's, averaged down to the plot's pixels).
        np.testing.assert_array_equal(column.half_life_curve.yData, arrays[f"model{index}/half_life"])
    assert window.columns[1].profile_c.getData()[1] is not None  # LSTM shows dL/dC_t too
    assert "LSTM" in window.columns[1].header.text()


def test_a_flat_gradient_is_marked_on_the_half_life_plot_not_left_out(qtbot, make_window):
    """A flat profile has an infinite half-life (the LSTM's cell path once it has learned: the
    lesson's result), which the plot left out: its line simply ended. Flat records are marked
    along the plot's top, and the caption says what the marks are."""
    from types import SimpleNamespace

    window = make_window()
    column = window.columns[1]
    steps = np.array([0, 10, 20, 30, 40])
    half_life = np.array([3.0, 39.0, np.inf, np.inf, np.nan])
    column._show_half_life(SimpleNamespace(history={"half_life": half_life}), steps)
    x, y = column.half_life_flat.xData, column.half_life_flat.yData  # as set (getData: the display's)
    np.testing.assert_array_equal(x, [20, 30])
    (_, _), (low, high) = column.half_life.plot.vb.viewRange()
    assert np.all((high > y) & (y > high - 0.1 * (high - low))) and high >= 39.0  # along the top, inside
    assert np.isnan(column.half_life_curve.yData[2:]).all()  # no value on the scale
    assert "flat" in column.half_life.caption_text


def test_gate_selector_switches_the_heatmap(qtbot, make_window):
    window = make_window()
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=20000)
    window.gate_box.setCurrentIndex(window.gate_box.findData("input"))
    window.paint_now()
    latest = trainer_frame(qtbot, window).models[1].latest.probes
    np.testing.assert_array_equal(window.columns[1].gate_map.image.image, latest.gates["input"][-1].T)


def test_pause_stops_growth_and_step_advances_exactly_one(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 3)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    qtbot.waitUntil(lambda: window.last_frame.state == PAUSED, timeout=10000)
    paused_at = steps_done(window)
    qtbot.wait(400)
    assert steps_done(window) == paused_at
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: steps_done(window) == paused_at + 1, timeout=10000)
    qtbot.wait(400)
    assert steps_done(window) == paused_at + 1
    # The stepped record carries probes, so the plots show that very step.
    qtbot.waitUntil(lambda: window.last_frame is not None and window.last_frame.steps_done == paused_at + 1)
    assert trainer_arrays(qtbot, window)["step"][-1] == paused_at


def test_reset_clears_and_applies_structural_changes(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 4)
    form = window.controls.forms[1]
    form.hidden.setValue(5)
    assert window.controls.pending.isVisibleTo(window.controls)
    assert window.session.active.models[1].model.hidden == 8  # not before Reset
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.session.active.models[1].model.hidden == 5, timeout=20000)
    # The trainer's own record: the LSTM's forget gate now has 5 units.
    qtbot.waitUntil(lambda: steps_done(window) >= 1, timeout=20000)
    assert trainer_frame(qtbot, window).models[1].latest.probes.gates["forget"].shape[-1] == 5
    assert window.session.trainer_state == RUNNING
    assert not window.controls.pending.isVisibleTo(window.controls)


def test_a_reset_takes_the_old_runs_training_steps_off_the_history_axis(qtbot, make_window):
    """Found in a walk: after Reset the history heatmap's axis still ran to the old run's 4000 steps."""
    from gradviz.gui.plots.ranges import nice_upper

    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 60)
    history = window.board.columns[0].history.plot.vb
    qtbot.waitUntil(lambda: history.viewRange()[1][1] >= nice_upper(50), timeout=20000)
    window.session.reset(window.board.config, start=False)
    qtbot.waitUntil(lambda: window.session.frame is not None and window.session.frame.steps_done == 0, timeout=20000)
    window.paint_now()
    qtbot.waitUntil(lambda: history.viewRange()[1][1] == nice_upper(1), timeout=10000)
    assert history.viewRange()[1][0] == 0.0


def test_the_loss_of_one_step_is_a_dot_not_an_empty_plot(qtbot, make_window):
    """Found in the lesson's walk: a scene at initialisation (one step) showed an empty loss plot
    beside a header quoting that loss: one point draws no line."""
    window = make_window()
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=30000)
    window.paint_now()
    column = window.board.columns[0]
    qtbot.waitUntil(lambda: column.loss_curve.opts["symbol"] == "o", timeout=10000)
    x, y = column.loss_curve.getData()
    assert len(x) == 1 and np.isfinite(y[0])
    # The whole dot, not half of it: the plot's left edge lies left of it by more than its
    # radius (before, the range began at step 0 itself), at the window's narrowest layout.
    for size in ((1024, 768), (1920, 1080)):
        window.resize(*size)
        window.paint_now()
        for panel, curve in ((column.loss, column.loss_curve), (column.metric_panel, column.metric_curve)):
            view = panel.plot.vb
            (left, right), _ = view.viewRange()
            pixels_per_step = view.width() / (right - left)
            assert (x[0] - left) * pixels_per_step > curve.opts["symbolSize"] / 2, (size, panel.name)
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 2, timeout=30000)
    window.paint_now()
    qtbot.waitUntil(lambda: column.loss_curve.opts["symbol"] is None, timeout=10000)  # a line from two


def test_learning_rate_and_clipping_apply_live(qtbot, make_window):
    window = make_window()
    form = window.controls.forms[0]
    form.lr.setValue(0.005)
    form.clip.setValue(0.25)
    applied = window.session.train_applied
    # Each edit is its own command to the trainer, which answers with what its optimiser now uses.
    qtbot.waitUntil(lambda: 0 in applied and applied[0].lr == 0.005 and applied[0].train.clip == 0.25,
                    timeout=10000)
    assert not window.controls.pending.isVisibleTo(window.controls)


def test_a_bad_setting_changes_nothing_and_says_why(qtbot, make_window):
    window = make_window()
    window.controls.task.setCurrentIndex(window.controls.task.findData("names"))
    window.controls.seq_len.setValue(12)
    window.controls.distance.setValue(30)
    run_before = window.session.active
    window.reset()
    assert window.banner.isVisibleTo(window)
    assert "distance" in window.banner.text() and "distance" in window.session.banner
    qtbot.wait(300)
    assert window.session.active is run_before


@pytest.mark.parametrize("name", ["vanishing", "exploding", "lstm1997", "hochreiter1997"])
def test_a_preset_sets_the_controls_and_runs(qtbot, make_window, name):
    from gradviz.presets import load_preset

    window = make_window()
    preset = load_preset(name)
    window.load_preset(name)
    assert window.controls.config() == preset.config
    assert [form.setup().label for form in window.controls.forms] == [s.label for s in preset.config.models]
    assert preset.title in window.description.text()
    qtbot.waitUntil(lambda: window.session.active == preset.config, timeout=20000)
    window.session.pause()


def test_compare_mode_three_models(qtbot, make_window):
    window = make_window(config=small_config(3))
    window.controls.model_count.setValue(1)
    window.reset()
    qtbot.waitUntil(lambda: len(window.session.active.models) == 1, timeout=20000)
    qtbot.waitUntil(lambda: len(window.columns) == 1, timeout=10000)
    window.controls.model_count.setValue(3)
    window.reset()
    qtbot.waitUntil(lambda: len(window.columns) == 3, timeout=20000)
    assert window.session.active.models[0].model.kind == "rnn"


@pytest.mark.processes  # run again under spawn by .ci/run
def test_closing_during_training_ends_the_trainer_process(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 2)
    pid = window.session.trainer.pid
    assert pid != os.getpid() and process_exists(pid)  # training runs in a process of its own
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 2.5
    assert not process_exists(pid)
    assert not window.session.trainer.alive


@pytest.mark.processes  # run again under spawn by .ci/run
def test_killing_the_trainer_leaves_a_responsive_window_and_reset_trains_again(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 4)
    frame_before = window.last_frame
    os.kill(window.session.trainer.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.session.trainer_state == DEAD, timeout=10000)
    assert window.banner.isVisible() and "killed" in window.banner.text() and "SIGKILL" in window.banner.text()
    assert "dead" in window.state_label.text()
    # The last frame and its history stay on screen; the window still answers.
    assert window.last_frame is frame_before or window.last_frame.steps_done >= frame_before.steps_done
    shown = len(window.columns[0].loss_curve.yData)
    assert shown >= 4
    window.toggle_running()  # Space: nothing to start (the banner says Reset)
    window.paint_now()
    assert len(window.columns[0].loss_curve.yData) == shown
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.session.trainer.alive and window.session.active is not None, timeout=60000)
    qtbot.waitUntil(lambda: steps_done(window) > 2, timeout=60000)
    assert window.session.trainer_state == RUNNING and not window.banner.isVisible()


def test_status_bar_names_device_and_state(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 3)
    qtbot.waitUntil(lambda: "CPU" in window.device_label.text(), timeout=10000)
    assert "running" in window.state_label.text()
    qtbot.waitUntil(lambda: "steps/s" in window.rate_label.text(), timeout=10000)
