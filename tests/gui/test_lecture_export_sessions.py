"""Presentation mode, figure and data export, and saved runs, through the real window."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer

from gradviz.plotmath import log10_or_nan
from gradviz.session.protocol import PAUSED
from tests.gui.conftest import export_dialog_on, small_config, steps_done, train_and_pause, trainer_arrays


def test_presentation_mode_doubles_fonts_thickens_lines_and_hides_the_panel(qtbot, make_window):
    window = make_window()
    column = window.columns[1]
    normal_font = column.gradient.plot.getAxis("bottom").style["tickFont"].pointSize()
    normal_pen = column.profile_h.opts["pen"].width()
    assert window.presentation_action.shortcut().toString() == "F5"
    window.presentation_action.trigger()  # a key click needs window focus, which a test run may not give
    assert window.presentation and window.presentation_action.isChecked()
    assert not window.settings_dock.isVisible()
    assert window.start_action in window.toolbar.actions()
    assert column.gradient.plot.getAxis("bottom").style["tickFont"].pointSize() >= 2 * normal_font
    assert column.profile_h.opts["pen"].width() >= 3 and column.profile_h.opts["pen"].width() > normal_pen
    assert column.graphics.backgroundBrush().color().name() in ("#000000", "#ffffff")
    window.toggle_presentation()  # what F5 again or Esc does
    assert not window.presentation and not window.isFullScreen()
    assert column.gradient.plot.getAxis("bottom").style["tickFont"].pointSize() == normal_font


def test_light_and_dark_themes(qtbot, make_window):
    window = make_window()
    window.set_theme("light")
    assert window.columns[0].graphics.backgroundBrush().color().name() == "#ffffff"
    assert window.settings.value("theme") == "light"
    window.set_theme("dark")
    assert window.columns[0].graphics.backgroundBrush().color().name() != "#ffffff"


def test_png_exports_at_1x_and_2x(qtbot, make_window, tmp_path):
    window = train_and_pause(qtbot, make_window())
    one = window.export("0:gradient", tmp_path / "one.png", scale=1)
    two = window.export("0:gradient", tmp_path / "two.png", scale=2)
    a, b = QImage(str(one)), QImage(str(two))
    assert a.width() > 100 and (b.width(), b.height()) == (2 * a.width(), 2 * a.height())
    whole = QImage(str(window.export("window", tmp_path / "window.png", scale=2)))
    assert (whole.width(), whole.height()) == (2 * window.width(), 2 * window.height())


def test_svg_keeps_axis_labels_and_renders(qtbot, make_window, tmp_path):
    window = train_and_pause(qtbot, make_window())
    path = window.export("gradient", tmp_path / "gradient.svg")
    text = path.read_text()
    assert "timestep t" in text and "|∂ℓᵢ/∂hₜ|" in text and "tanh RNN" in text and "LSTM" in text
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid() and renderer.defaultSize().width() > 200
    board = window.export("board", tmp_path / "board.svg").read_text()
    assert "training step" in board and "baseline" in board
    assert window.export("board", tmp_path / "board.pdf").read_bytes().startswith(b"%PDF")


def test_csv_and_npz_hold_the_plotted_data(qtbot, make_window, tmp_path):
    window = train_and_pause(qtbot, make_window())
    shown = window.columns[1].gradient.data["log10_grad_h"]
    npz = np.load(window.export("gradient", tmp_path / "gradient.npz"), allow_pickle=False)
    np.testing.assert_allclose(np.log10(npz["LSTM/grad_h"]), shown)  # the window's curve, NaN where 0
    rows = list(csv.reader(open(window.export("1:loss", tmp_path / "loss.csv"))))
    assert rows[0] == ["LSTM/step", "LSTM/loss", "baseline"]
    assert len(rows) - 1 == len(window.columns[1].loss.data["step"])


def test_export_dialog_greys_out_what_does_not_apply_and_remembers(qtbot, make_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = train_and_pause(qtbot, make_window())
    dialog = export_dialog_on(qtbot, window, tmp_path, "gradient", "svg")
    assert not dialog.scale.isEnabled() and dialog.figure_format.isEnabled()
    dialog.file_type.setCurrentIndex(dialog.file_type.findData("png"))
    assert dialog.scale.isEnabled()
    dialog.target.setCurrentIndex(dialog.target.findData("window"))
    assert not dialog.file_type.model().item(dialog.file_type.findData("pdf")).isEnabled()
    assert not dialog.figure_format.isEnabled()

    dialog.target.setCurrentIndex(dialog.target.findData("1:history"))
    dialog.file_type.setCurrentIndex(dialog.file_type.findData("pdf"))
    dialog.figure_format.setCurrentIndex(dialog.figure_format.findData("paper"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    out = tmp_path / "history.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(out), ""))
    dialog._save()  # written when the trainer's arrays arrive (an event), not waited for in the dialog
    qtbot.waitUntil(lambda: out.exists(), timeout=20000)
    assert out.read_bytes().startswith(b"%PDF")
    assert window.statusBar().currentMessage() == f"Exported {out}"  # the trainer answered: nothing to add

    from gradviz.gui.export_dialog import ExportDialog

    again = ExportDialog(window, window.board, str(tmp_path), window.settings)
    qtbot.addWidget(again)
    assert again.target.currentData() == "1:history" and again.file_type.currentData() == "pdf"
    assert again.figure_format.currentData() == "paper" and again.theme.currentData() == "dark"
    assert not again.scale.isEnabled()


def test_copy_plot_puts_an_image_on_the_clipboard(qtbot, make_window):
    from PySide6.QtWidgets import QApplication

    window = train_and_pause(qtbot, make_window())
    window.copy_plot()
    assert not QApplication.clipboard().image().isNull()


def _plotted(window):
    return {
        (i, name, key): np.array(value)
        for i, column in enumerate(window.columns)
        for name, panel in column.panels.items()
        for key, value in panel.data.items()
    }


def test_save_and_open_reproduce_every_plotted_array(qtbot, make_window, tmp_path):
    window = train_and_pause(qtbot, make_window(), steps=9)
    before = _plotted(window)
    path = tmp_path / "session.npz"
    window.session.save(path)
    qtbot.waitUntil(lambda: window.session.run_path == path, timeout=20000)
    assert not window.has_unsaved_run()

    other = make_window(config=small_config(1))
    assert other.open_run(path)
    qtbot.waitUntil(lambda: other.session.active == window.session.active
                    and other.session.steps_done == window.session.steps_done, timeout=20000)
    qtbot.waitUntil(lambda: other.session.trainer_state == PAUSED and other.last_frame is not None, timeout=10000)
    assert other.run_path == path
    other.paint_now()
    after = _plotted(other)
    assert set(after) == set(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=str(key))
    # ... and training continues from the end of the saved run.
    steps = steps_done(other)
    other.toggle_running()
    qtbot.waitUntil(lambda: steps_done(other) > steps + 2, timeout=20000)
    assert other.controls.config() == window.session.active


def test_the_title_names_the_preset_and_an_opened_run_of_it_keeps_its_name_and_story(qtbot, make_window, tmp_path):
    from gradviz.presets import load_preset

    window = make_window()
    assert window.windowTitle() == "gradviz - custom run"
    window.load_preset("copy")
    copy = load_preset("copy")
    assert window.windowTitle() == f"gradviz - {copy.title}"
    qtbot.waitUntil(lambda: window.session.active == copy.config, timeout=60000)
    window.session.pause()
    path = tmp_path / "copy.npz"
    window.session.save(path, force=True)
    qtbot.waitUntil(lambda: window.session.run_path == path, timeout=30000)

    other = make_window()
    assert other.open_run(path)
    qtbot.waitUntil(lambda: other.session.active == copy.config, timeout=60000)
    assert other.preset.name == "copy" and other.windowTitle() == f"gradviz - {copy.title}"
    assert other.description.text().startswith(f"<b>{copy.title}</b>") and copy.description in other.description.text()
    assert other.preset_box.currentData() == "copy"
    other.controls.forms[0].hidden.setValue(20)
    other.reset()
    qtbot.waitUntil(lambda: other.session.active.models[0].model.hidden == 20, timeout=60000)
    assert other.windowTitle() == f"gradviz - {copy.title}, changed"


def test_history_slider_moves_every_plot_to_a_recorded_step(qtbot, make_window):
    window = train_and_pause(qtbot, make_window(), steps=9)
    arrays = trainer_arrays(qtbot, window)
    window.history_slider.setValue(0)
    qtbot.waitUntil(lambda: window.history_label.text() == "Step 0", timeout=10000)  # the trainer sent its arrays
    first = arrays["model1/grad_h"][0, -1]
    np.testing.assert_array_equal(window.columns[1].gradient.data["log10_grad_h"], log10_or_nan(first))
    assert window.session.mode == "replay"
    window.follow_live()
    window.paint_now()
    assert window.history_label.text() == "Live"


def test_live_resumes_the_training_that_looking_back_paused(qtbot, make_window):
    from gradviz.session.protocol import RUNNING

    window = make_window(autostart=True)
    # The slider must have somewhere to go back to: setValue(0) on a slider already at 0 emits nothing.
    qtbot.waitUntil(lambda: steps_done(window) >= 4 and window.session.trainer_state == RUNNING
                    and window.history_slider.maximum() > 0, timeout=30000)
    window.history_slider.setValue(0)  # what dragging it does
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED and window.history_label.text() == "Step 0",
                    timeout=10000)
    window.live_button.click()
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING, timeout=10000)
    assert window.session.mode == "live"
    resumed_at = steps_done(window)
    qtbot.waitUntil(lambda: steps_done(window) > resumed_at, timeout=10000)
    # Paused before looking back: Live only goes back to the newest step.
    window.session.pause()
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    window.history_slider.setValue(0)
    qtbot.waitUntil(lambda: window.history_label.text() == "Step 0", timeout=10000)
    window.live_button.click()
    qtbot.wait(300)
    window.session.poll()
    assert window.session.mode == "live" and window.session.trainer_state == PAUSED


def test_presentation_mode_shows_the_room_that_b_paused_training(qtbot, make_window):
    from PySide6.QtCore import QPoint, Qt

    from gradviz.session.protocol import RUNNING

    window = make_window(autostart=True)
    window.full_screen = False
    window.toggle_presentation()
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING, timeout=30000)
    assert not window.pause_badge.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_B)  # trains one step, shows its backward pass, pauses
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=30000)
    badge = window.pause_badge
    assert badge.isVisible() and badge.text() == "paused · Space trains on"
    top_left = badge.mapTo(window, QPoint(0, 0))
    assert top_left.y() < window.height() // 10 and top_left.x() + badge.width() <= window.width()
    assert badge.fontInfo().pixelSize() == window.board.style.font_px  # as large as the rest
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING, timeout=10000)
    assert not badge.isVisible()
    window.session.pause()
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    window.toggle_presentation()  # at the desk the status bar says it
    assert not badge.isVisible() and window.state_label.text().strip() == "paused"


def test_a_reset_says_it_is_building_in_place_of_the_old_runs_step_and_rate(qtbot, make_window):
    from gradviz.session.protocol import RUNNING

    window = make_window(autostart=True)
    qtbot.waitUntil(lambda: steps_done(window) >= 3 and window.rate_label.text().strip()[0] != "0", timeout=30000)
    window.full_screen = False
    window.toggle_presentation()  # no status bar there: the note is at the top
    window.reset()
    window._show_progress()  # what the next paint tick does, before the trainer can answer
    assert window.step_label.text().strip() == "building the run · 0 s"
    assert window.rate_label.text().strip().startswith("– steps/s")
    assert window.pause_badge.isVisible() and window.pause_badge.text() == "building the run · 0 s"
    # Nothing of the old run stays on show: its curves and its equations' numbers are gone.
    assert all(column.loss_curve.yData is None or not len(column.loss_curve.yData) for column in window.columns)
    assert window.explanation.toPlainText() == ""
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING and window.session.progress() is None
                    and window.step_label.text().strip().startswith("step"), timeout=30000)
    assert not window.pause_badge.isVisible()


def test_no_presentation_text_is_flush_against_the_screens_edge(qtbot, make_window):
    from PySide6.QtCore import QPoint

    window = make_window()
    window.full_screen = False
    window.toggle_presentation()
    first, last = window.columns[0].header, window.columns[-1].header
    assert first.mapTo(window, QPoint(0, 0)).x() >= 8
    assert last.mapTo(window, QPoint(last.width(), 0)).x() <= window.width() - 8
    assert window.description.mapTo(window, QPoint(0, 0)).x() >= 8


def test_opening_a_broken_file_changes_nothing(qtbot, make_window, tmp_path, answers):
    window = make_window()
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip")
    run_before = window.session.active
    assert not window.open_run(bad)
    assert any("not an npz" in q for q in answers["questions"])
    assert window.session.active is run_before and window.session.mode == "live"


def test_closing_an_unsaved_run_asks_first(qtbot, make_window, answers):
    from PySide6.QtWidgets import QMessageBox

    window = train_and_pause(qtbot, make_window())  # no preset behind it: settings the user chose
    answers["answer"] = QMessageBox.StandardButton.Cancel
    window.close()
    assert window.isVisible() and "with settings you chose. Discard it?" in answers["questions"][-1]
    answers["answer"] = QMessageBox.StandardButton.Discard


def test_a_preset_key_asks_before_discarding_work_and_a_fresh_preset_quits_without_asking(
        qtbot, make_window, answers):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    window = train_and_pause(qtbot, make_window())
    mine = window.session.active
    answers["answer"] = QMessageBox.StandardButton.Cancel
    qtbot.keyClick(window, Qt.Key.Key_7)
    assert len(answers["questions"]) == 1 and "Discard it?" in answers["questions"][0]
    assert window.preset is None and window.preset_box.currentIndex() == -1
    qtbot.wait(200)
    window.session.poll()
    assert window.session.shown == mine and window.session.active == mine  # nothing was thrown away
    answers["answer"] = QMessageBox.StandardButton.Discard
    qtbot.keyClick(window, Qt.Key.Key_7)
    assert window.preset.name == "reviews" and len(answers["questions"]) == 2
    qtbot.waitUntil(lambda: window.session.active == window.preset.config, timeout=60000)
    window.session.pause()
    # The preset just opened is not work to keep: quitting asks nothing.
    window.close()
    assert not window.isVisible() and len(answers["questions"]) == 2


@pytest.mark.parametrize("args,suffix", [(["--plot", "gradient", "--scale", "2"], ".png"), ([], ".svg"),
                                         (["--format", "paper"], ".pdf")])
def test_headless_export_command(tmp_path, args, suffix):
    out = tmp_path / f"figure{suffix}"
    command = [sys.executable, "-m", "gradviz", "export", "--preset", "vanishing", "--steps", "12", "--quiet",
               "--out", str(out), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 1000
    again = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert again.returncode == 2 and "--force" in again.stderr
