"""The real window, driven as a user would: what the plots hold is what the worker measured."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gradviz.gui.worker import PAUSED, RUNNING
from gradviz.plotmath import log10_or_nan
from tests.gui.conftest import small_config


def _wait_steps(qtbot, window, count, timeout=30000):
    qtbot.waitUntil(lambda: window.worker.run.step >= count, timeout=timeout)


def _pause_and_paint(qtbot, window):
    window.worker.pause()
    qtbot.waitUntil(lambda: window.worker.state == PAUSED, timeout=10000)
    window.paint_now()


def test_plots_hold_exactly_what_the_worker_recorded(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 9)
    _pause_and_paint(qtbot, window)
    history = window.worker.history
    scalars = history.scalars
    assert len(window.columns) == 2
    for index, column in enumerate(window.columns):
        latest = window.worker._latest[index].probes
        x, y = column.profile_h.getData()
        np.testing.assert_array_equal(x, np.arange(1, 13))
        np.testing.assert_array_equal(y, log10_or_nan(latest.top_grad_h))
        np.testing.assert_array_equal(column.loss_curve.yData, scalars.column("loss")[:, index])  # raw, not log10
        logs = log10_or_nan(history.probe_column(index, "grad_h")[:, -1, :])
        bottom = column.history_map.image.levels[0]
        shown = column.history_map.image.image
        np.testing.assert_array_equal(shown, np.nan_to_num(logs, nan=bottom).astype(np.float32))
        gate = "hidden" if index == 0 else "forget"
        np.testing.assert_array_equal(column.gate_map.image.image, latest.gates[gate][-1].T)
        _, half = column.half_life_curve.getData()
        np.testing.assert_array_equal(half, history.probe_column(index, "half_life"))
    assert window.columns[1].profile_c.getData()[1] is not None  # LSTM shows dL/dC_t too
    assert "LSTM" in window.columns[1].header.text()


def test_gate_selector_switches_the_heatmap(qtbot, make_window):
    window = make_window()
    window.step_once()
    qtbot.waitUntil(lambda: window.worker.run.step == 1, timeout=20000)
    window.gate_box.setCurrentIndex(window.gate_box.findData("input"))
    window.paint_now()
    latest = window.worker._latest[1].probes
    np.testing.assert_array_equal(window.columns[1].gate_map.image.image, latest.gates["input"][-1].T)


def test_pause_stops_growth_and_step_advances_exactly_one(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 3)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.worker.state == PAUSED, timeout=10000)
    paused_at = window.worker.run.step
    qtbot.wait(400)
    assert window.worker.run.step == paused_at
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.worker.run.step == paused_at + 1, timeout=10000)
    qtbot.wait(400)
    assert window.worker.run.step == paused_at + 1
    # The stepped record carries probes, so the plots show that very step.
    qtbot.waitUntil(lambda: window.last_frame is not None and window.last_frame.steps_done == paused_at + 1)
    assert window.worker.history.probe_column(0, "step")[-1] == paused_at


def test_reset_clears_and_applies_structural_changes(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 4)
    form = window.controls.forms[1]
    form.hidden.setValue(5)
    assert window.controls.pending.isVisibleTo(window.controls)
    assert window.worker.run.trainers[1].model.config.hidden == 8  # not before Reset
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.worker.run.trainers[1].model.config.hidden == 5, timeout=20000)
    assert window.worker.run.step < 4 or window.worker.state == RUNNING
    assert not window.controls.pending.isVisibleTo(window.controls)


def test_learning_rate_and_clipping_apply_live(qtbot, make_window):
    window = make_window()
    form = window.controls.forms[0]
    form.lr.setValue(0.005)
    form.clip.setValue(0.25)
    trainer = window.worker.run.trainers[0]
    # Each edit is its own command to the worker; wait until both have been applied.
    qtbot.waitUntil(lambda: trainer.optimizer.param_groups[0]["lr"] == 0.005 and trainer.train.clip == 0.25,
                    timeout=10000)
    assert not window.controls.pending.isVisibleTo(window.controls)


def test_a_bad_setting_changes_nothing_and_says_why(qtbot, make_window):
    window = make_window()
    window.controls.task.setCurrentIndex(window.controls.task.findData("names"))
    window.controls.seq_len.setValue(12)
    window.controls.distance.setValue(30)
    run_before = window.worker.run
    window.reset()
    assert window.banner.isVisibleTo(window)
    assert "distance" in window.banner.text()
    qtbot.wait(300)
    assert window.worker.run is run_before


@pytest.mark.parametrize("name", ["vanishing", "exploding", "lstm1997"])
def test_a_preset_sets_the_controls_and_runs(qtbot, make_window, name):
    from gradviz.presets import load_preset

    window = make_window()
    preset = load_preset(name)
    window.load_preset(name)
    assert window.controls.config() == preset.config
    assert [form.setup().label for form in window.controls.forms] == [s.label for s in preset.config.models]
    assert preset.title in window.description.text()
    qtbot.waitUntil(lambda: window.worker.run.config == preset.config, timeout=20000)
    window.worker.pause()


def test_compare_mode_three_models(qtbot, make_window):
    window = make_window(config=small_config(3))
    window.controls.model_count.setValue(1)
    window.reset()
    qtbot.waitUntil(lambda: len(window.worker.run.trainers) == 1, timeout=20000)
    qtbot.waitUntil(lambda: len(window.columns) == 1, timeout=10000)
    window.controls.model_count.setValue(3)
    window.reset()
    qtbot.waitUntil(lambda: len(window.columns) == 3, timeout=20000)
    assert [t.model.config.kind for t in window.worker.run.trainers][0] == "rnn"


def test_closing_during_training_stops_the_thread(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 2)
    before = threading.active_count()
    window.close()
    assert window.worker.thread.wait(10000)
    assert window.worker.thread.isFinished()
    assert threading.active_count() <= before


def test_status_bar_names_device_and_state(qtbot, make_window):
    window = make_window(autostart=True)
    _wait_steps(qtbot, window, 3)
    qtbot.waitUntil(lambda: "CPU" in window.device_label.text(), timeout=10000)
    assert "running" in window.state_label.text()
    qtbot.waitUntil(lambda: "steps/s" in window.rate_label.text(), timeout=10000)
