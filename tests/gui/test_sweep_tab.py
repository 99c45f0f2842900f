"""Key T, "How far back?": a sweep of real runs in child processes fills the trainability map in
as they finish; what the figure and table show is the sweep file's; Stop, Resume and closing
leave no process behind; mistakes start nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from gradviz.gui.panels.sweep import dodge_factor
from gradviz.gui.panels.sweep_estimate import Timing, estimate_seconds, say_duration
from gradviz.session.protocol import PAUSED, RUNNING
from gradviz.sweep.grid import SweepConfig
from gradviz.sweep.job import train_one
from gradviz.sweep.results import SweepResults
from tests.gui.conftest import process_exists, steps_done


def fill(panel, models=("rnn", "lstm"), lengths="6,4", seeds=2, steps=15, jobs=2, threshold="0.3"):
    for kind, check in panel.model_checks.items():
        check.setChecked(kind in models)
    panel.lengths.setText(lengths)
    panel.seeds.setValue(seeds)
    panel.steps.setValue(steps)
    panel.jobs.setValue(jobs)
    panel.threshold.setText(threshold)
    panel.kept.update(hidden=4, batch=8)  # the CLI's --hidden/--batch: small, for speed


def pool_pids(qtbot, panel) -> list[int]:
    """The sweep's child processes, once it has started them."""
    qtbot.waitUntil(lambda: bool(panel.pool.processes()), timeout=30000)
    return [process.pid for process in panel.pool.processes()]


def test_key_t_runs_a_sweep_and_draws_what_its_file_holds(qtbot, make_window, tmp_path):
    window = make_window(autostart=True)
    qtbot.waitUntil(lambda: steps_done(window) >= 2, timeout=30000)
    assert not window.views.tabBar().isVisible()  # one tab: no tab bar until the sweep's is opened
    qtbot.keyClick(window, Qt.Key.Key_T)
    panel = window.sweep
    assert window.views.currentWidget() is panel and window.views.tabBar().isVisible()
    fill(panel)
    panel.start_button.click()
    assert panel.running and not panel.form.isEnabled()
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)  # the cores go to the sweep
    qtbot.waitUntil(lambda: not panel.running, timeout=120000)

    assert panel.path.parent == tmp_path / "sweeps" and "Done: 8 runs" in panel.message.text()
    assert panel.path.name in panel.message.text() and str(panel.path) in panel.message.toolTip()
    saved = SweepResults.load(panel.path)
    assert saved.complete and saved.config == panel.results.config
    np.testing.assert_array_equal(saved.final_loss, panel.results.final_loss)
    # The figure: one line per model, the success rate of the file at each T.
    assert [label for label in panel.figure.key_names()] == ["tanh RNN", "LSTM"]
    for index, curve in enumerate(panel.curves):  # drawn beside each other about the true T
        np.testing.assert_allclose(curve.xData / dodge_factor((4, 6), index, 2), [4, 6])
        np.testing.assert_array_equal(curve.yData, saved.success[index])
    # The table: learned/finished seeds of every cell, and the threshold row.
    for model in range(2):
        for length in range(2):
            learned = int((saved.final_loss[model, length] < 0.3).sum())
            assert panel.table.item(model, length).text() == f"{learned}/2 learned"
    assert panel.table.item(2, 0).text() == "0.3"
    # A number the window shows is the real run's: training that cell here gives the same loss.
    config = saved.config
    expected, _ = train_one(config.run_config("lstm", 6, 1).to_json(), 15)
    assert saved.final_loss[1, 1, 1] == pytest.approx(expected, rel=1e-5)

    qtbot.keyClick(window, Qt.Key.Key_T)  # T again: back to the training plots
    assert window.views.currentIndex() == 0 and window.views.tabBar().isVisible()


@pytest.mark.processes  # run again under spawn by .ci/run
def test_stop_keeps_the_finished_runs_and_resume_trains_the_rest(qtbot, make_window):
    window = make_window()
    window.show_sweep_tab()
    panel = window.sweep
    fill(panel, models=("rnn",), lengths="5", seeds=30, steps=300, jobs=1)
    assert panel.start()
    pids = pool_pids(qtbot, panel)
    qtbot.waitUntil(lambda: panel.results.done.sum() >= 1, timeout=120000)
    panel.stop_button.click()
    assert not panel.running and not any(process_exists(pid) for pid in pids)
    kept = SweepResults.load(panel.path)
    done = int(kept.done.sum())
    assert 1 <= done < 30 and "kept in" in panel.message.text()
    assert panel.start_button.text().replace("&", "") == f"Resume ({30 - done} runs left)"

    path = panel.path
    panel.start_button.click()  # resumes into the same file
    assert panel.running and panel.path == path
    pids = pool_pids(qtbot, panel)
    qtbot.waitUntil(lambda: panel.results.done.sum() > done, timeout=120000)
    window.ask_before_discard = False
    window.close()  # a running sweep ends with the window
    assert not panel.running and not any(process_exists(pid) for pid in pids)
    assert SweepResults.load(path).done.sum() > done


def test_closing_during_a_sweep_asks_first(qtbot, make_window, answers):
    window = make_window()
    panel = window.sweep
    fill(panel, models=("rnn",), lengths="5", seeds=30, steps=300, jobs=1)
    assert panel.start()
    answers["answer"] = QMessageBox.StandardButton.Cancel
    window.close()
    assert window.isVisible() and panel.running
    assert any("sweep is still running" in question for question in answers["questions"])
    answers["answer"] = QMessageBox.StandardButton.Discard
    window.close()
    assert not panel.running


@pytest.mark.parametrize("field, value, said", [
    ("lengths", "ten,20", "T must be comma-separated whole numbers"),
    ("threshold", "low", "threshold must be a loss"),
    ("models", (), "models must name at least one"),
    ("lengths", "20,20", "lists a length twice"),
])
def test_a_mistake_in_the_form_is_said_and_starts_nothing(qtbot, make_window, tmp_path, field, value, said):
    window = make_window(autostart=True)
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING, timeout=30000)
    panel = window.sweep
    fill(panel, **{field: value})
    assert not panel.start()
    assert not panel.running and panel.results is None and said in panel.message.text()
    assert not (tmp_path / "sweeps").exists()
    assert window.session.trainer_state == RUNNING  # the run in the window is left alone


def test_a_sweep_file_opens_resumes_in_place_and_exports(qtbot, make_window, tmp_path, answers):
    from xml.etree import ElementTree

    config = SweepConfig(models=("rnn", "gru"), seq_lens=(4, 6), seeds=1, steps=10, hidden=4, batch=8)
    partial = SweepResults(config)
    partial.record((1, 0, 0), 0.001, 1.0)  # as `gradviz sweep` left it, interrupted after one run
    path = partial.save(tmp_path / "cli.npz")
    window = make_window()
    panel = window.sweep
    (tmp_path / "junk.npz").write_bytes(b"not a sweep")
    assert not panel.open_file(tmp_path / "junk.npz") and panel.results is None  # said, nothing changed
    assert panel.open_file(path)
    assert [kind for kind, check in panel.model_checks.items() if check.isChecked()] == ["rnn", "gru"]
    assert panel.lengths.text() == "4,6" and panel.steps.value() == 10
    assert panel.table.item(1, 0).text() == "1/1 learned" and panel.table.item(0, 0).text() == "-"
    assert panel.start_button.text().replace("&", "") == "Resume (3 runs left)"
    panel.start_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=120000)
    resumed = SweepResults.load(path)
    assert panel.path == path and resumed.complete and resumed.final_loss[1, 0, 0] == 0.001

    for name in ("map.png", "map.svg", "map.pdf", "copy.npz"):
        assert panel.export(tmp_path / name).stat().st_size > 0
    ElementTree.parse(tmp_path / "map.svg")  # a plain SVG, readable outside Qt
    np.testing.assert_array_equal(SweepResults.load(tmp_path / "copy.npz").final_loss, resumed.final_loss)
    assert make_window().sweep.path == path  # the next session shows the last sweep again


def test_a_folder_that_cannot_be_written_starts_nothing_and_keeps_the_sweep_shown(qtbot, make_window, tmp_path):
    window = make_window()
    panel = window.sweep
    fill(panel, models=("rnn",), lengths="4", seeds=1, steps=5)
    assert panel.start()
    qtbot.waitUntil(lambda: not panel.running, timeout=60000)
    shown, path = panel.results, panel.path
    (tmp_path / "blocked").write_text("a file where the folder should be")
    panel.folder = tmp_path / "blocked" / "sweeps"
    fill(panel, models=("rnn",), lengths="5", seeds=1, steps=5)
    assert not panel.start()
    assert "Not started" in panel.message.text() and not panel.running
    assert panel.results is shown and panel.path == path


def test_the_tab_fits_a_1024_screen_after_presentation_mode(qtbot, make_window):
    """The form, hidden in presentation, must not keep the large font's width at the desk."""
    window = make_window()
    window.full_screen = False  # offscreen: the sizes are set here
    window.show_sweep_tab()
    window.toggle_presentation()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.width() == 1920, timeout=5000)
    window.toggle_presentation()
    window.resize(1024, 768)
    qtbot.wait(100)
    assert window.width() == 1024 and window.minimumSizeHint().width() <= 1024


def tick_labels(panel) -> list[str]:
    return [label for _, label in panel.figure.plot.getAxis("bottom")._tickLevels[0]]


def test_the_room_sees_what_is_swept_before_it_starts(qtbot, make_window):
    window = make_window()
    window.full_screen = False
    window.show_sweep_tab()
    panel = window.sweep
    assert tick_labels(panel) == ["10", "20", "50"]  # the default form's lengths, not an empty plot's 2..9
    panel.lengths.setText("5,100,20")
    assert tick_labels(panel) == ["5", "20", "100"]
    window.toggle_presentation()  # the form is hidden there: the summary says it
    assert not panel.form.isVisible() and panel.summary.isVisible()
    text = panel.summary.text()
    assert "tanh RNN, LSTM</b>" in text and "T = 5, 20, 100" in text and "2 seeds × 1000 steps" in text
    window.toggle_presentation()


def test_the_estimate_is_arithmetic_on_times_measured_here():
    config = SweepConfig(models=("rnn", "lstm"), seq_lens=(10, 20, 50), seeds=2, steps=1000)
    # 1 ms per step at T=10, 3 ms at T=50 (so 1.5 ms at T=20) for the RNN; the LSTM twice that.
    timing = Timing({("rnn", 10): 1e-3, ("rnn", 50): 3e-3, ("lstm", 10): 2e-3, ("lstm", 50): 6e-3}, start_s=0.5,
                    jobs=2)
    per_seed = 1000 * (1e-3 + 1.5e-3 + 3e-3 + 2e-3 + 3e-3 + 6e-3) + 6 * 0.5
    assert estimate_seconds(config, timing, jobs=2) == pytest.approx(2 * per_seed / 2)
    assert estimate_seconds(config, timing, jobs=1, cells=[(1, 2, 0)]) == pytest.approx(6.5)
    assert [say_duration(s) for s in (7, 42, 230, 9000)] == ["about 7 s", "about 40 s", "about 4 min", "about 2.5 h"]


def test_the_estimate_is_measured_here_and_holds(qtbot, make_window):
    window = make_window()
    window.show_sweep_tab()
    panel = window.sweep
    fill(panel, lengths="4,8", steps=40, jobs=2)
    config = panel.sweep_config()
    qtbot.waitUntil(lambda: panel.timing.timing(config, 2) is not None, timeout=60000)
    timing = panel.timing.timing(config, 2)
    assert set(timing.per_step) == {("rnn", 4), ("rnn", 8), ("lstm", 4), ("lstm", 8)}
    estimate = estimate_seconds(config, timing, 2)
    assert f"8 runs, {say_duration(estimate)} on this machine" in panel.summary.text()
    assert panel.start()
    qtbot.waitUntil(lambda: not panel.running, timeout=120000)
    took = panel._elapsed()
    # Busy machines stretch both alike; a constant, or a wrong formula, misses by more.
    assert took / 3 < estimate < took * 3, (estimate, took)
    # Where both cells score the same, both markers show: their centres are apart by more than
    # half their sizes (the RNN's T = 4 marker was hidden behind the LSTM's).
    window.resize(1024, 768)
    qtbot.wait(200)
    vb = panel.figure.plot.vb
    for length in range(2):
        points = [vb.mapViewToScene(pg.Point(np.log10(curve.xData[length]), curve.yData[length]))
                  for curve in panel.curves]
        sizes = [curve.opts["symbolSize"] for curve in panel.curves]
        assert abs(points[0].x() - points[1].x()) >= sum(sizes) / 2


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1920, 1080)])
def test_the_sweep_figures_x_label_keeps_room_above_its_caption_in_presentation(qtbot, make_window, size):
    """The lesson's scene 8 (presentation, the shipped sweep): the x-axis title sat 2 px above
    the figure's caption, which presentation mode keeps here (the training plots hide theirs)."""
    from gradviz.lesson.library import lesson_dir

    window = make_window()
    window.full_screen = False
    window.toggle_presentation()
    window.resize(*size)
    assert window.sweep.open_file(Path(str(lesson_dir() / "rnn-sweep.npz")))
    window.show_sweep_tab()
    qtbot.waitUntil(lambda: window.presentation_room.styled_height == window.height(), timeout=5000)
    qtbot.wait(100)
    figure = window.sweep.chart.figure
    assert figure.caption.isVisible()
    title = figure.plot.getAxis("bottom").label.sceneBoundingRect()
    caption = figure.caption.item.mapRectToScene(figure.caption.item.boundingRect())
    assert caption.top() - title.bottom() >= 6, (title, caption)
