"""Text tasks in the window: the file settings, reading a file, the Words tab and the scores,
each checked against the core computing the same thing on the same model."""

import csv
import time

import numpy as np
from PySide6.QtCore import Qt

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine.evaluate import evaluate_model
from gradviz.engine.words import word_gradients
from gradviz.session import protocol
from gradviz.session.protocol import PAUSED
from tests.gui.conftest import steps_done, trainer_run

ROWS = [(f"{'a great film' if i % 2 else 'a dull film'} seen on day {i}, " + "and then " * (i % 5),
         "positive" if i % 2 else "negative") for i in range(40)]


def text_config(task: TaskConfig) -> RunConfig:
    setups = (ModelSetup("tanh RNN", ModelConfig(kind="rnn", hidden=8), TrainConfig(lr=0.01)),
              ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=8), TrainConfig(lr=0.01)))
    return RunConfig(task=task, models=setups, record_every=2, device="cpu")


def reviews_config() -> RunConfig:
    return text_config(TaskConfig(name="reviews", seq_len=12, distance=4, batch=8))


def write_reviews(path, rows=ROWS, header=("review", "sentiment")):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _pause(qtbot, window):
    window.session.pause()
    qtbot.waitUntil(lambda: window.session.trainer_state in (PAUSED, "idle"), timeout=10000)


def test_words_tab_shows_the_review_as_the_models_see_it(qtbot, make_window, tmp_path):
    window = make_window(reviews_config())
    assert window.views.isTabEnabled(1)
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=20000)
    qtbot.keyClick(window, Qt.Key.Key_W)
    assert window.views.currentIndex() == 1
    window.reviews.example.setValue(3)
    qtbot.waitUntil(lambda: window.reviews.report is not None and window.reviews.report.example == 3,
                    timeout=20000)
    report, run = window.reviews.report, trainer_run(qtbot, window, tmp_path / "run.npz")
    ids, label = run.task.example(3)
    for view, learner in zip(window.reviews.views, run.learners, strict=True):
        alone = word_gradients(learner.model, run.task, ids, label)
        assert view.tokens == alone.tokens == run.task.tokens(ids.tolist())
        np.testing.assert_allclose(view.data["log10_grad"], np.log10(alone.grad_norms), rtol=1e-6)
        # Its own colour scale, holding at least its own words (steady: it may be wider).
        low, high = view.levels
        assert low <= np.nanmin(view.data["log10_grad"]) and high >= np.nanmax(view.data["log10_grad"])
        assert "<u>" in view.html and report.classes[label] in view.caption.text()
    window.reviews.shared.setChecked(True)  # one colour scale for both models, at once
    assert window.reviews.views[0].levels == window.reviews.views[1].levels == window.reviews.common
    # The decisive word is underlined, 4 words before the end.
    assert view.tokens[report.decisive] in view.html and report.decisive == 12 - 1 - 4
    qtbot.keyClick(window, Qt.Key.Key_W)
    assert window.views.currentIndex() == 0


def test_evaluation_table_matches_the_core(qtbot, make_window, tmp_path):
    window = make_window(reviews_config())
    qtbot.keyClick(window, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: window.reviews.evaluation is not None, timeout=30000)
    run = trainer_run(qtbot, window, tmp_path / "run.npz")
    expected = [evaluate_model(learner.model, run.task) for learner in run.learners]
    shown = window.reviews.evaluation.evaluations
    for got, want in zip(shown, expected, strict=True):
        np.testing.assert_array_equal(got.confusion, want.confusion)
    assert window.reviews.table.toPlainText() == window.reviews.evaluation.table()
    assert "tanh RNN after 0 steps" in window.reviews.table.toPlainText()


def test_the_evaluation_table_is_as_large_as_the_rest_of_the_text_in_presentation(qtbot, make_window):
    from PySide6.QtGui import QFontDatabase, QFontInfo

    window = make_window(reviews_config())
    window.full_screen = False  # the room's screen is the window's 1280x800
    window.toggle_presentation()
    window.views.setCurrentIndex(1)
    qtbot.wait(50)  # the application's font reaches the widgets through posted events
    px = window.board.style.font_px
    assert px >= 15  # 1/50 of the height
    assert QFontInfo(window.reviews.table.font()).pixelSize() == px
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    assert window.reviews.table.font().family() == fixed  # still columns that line up
    assert QFontInfo(window.reviews.status.font()).pixelSize() == px
    window.toggle_presentation()
    assert QFontInfo(window.reviews.table.font()).pixelSize() == window.board.style.font_px < px


def test_a_file_loads_with_progress_and_trains(qtbot, make_window, tmp_path):
    path = write_reviews(tmp_path / "imdb.csv")
    window = make_window(text_config(TaskConfig(name="text", data=str(path), batch=4, max_len=10)))
    progress = []
    window.session.loadProgressed.connect(lambda done, total: progress.append((done, total)))
    assert window.views.isTabEnabled(1)
    run = trainer_run(qtbot, window, tmp_path / "run.npz")
    assert run.task.seq_len == 10
    assert window.reviews.example.maximum() == len(run.task.test_ids) - 1 == 7
    controls = window.controls
    assert controls.data_row.isVisibleTo(controls) and not controls.seq_len.isVisibleTo(controls)
    controls.max_len.setValue(6)  # a structural change: read again on Reset, with progress
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.session.active.task.max_len == 6, timeout=20000)
    assert progress and progress[-1][0] == progress[-1][1]
    assert trainer_run(qtbot, window, tmp_path / "run.npz").task.seq_len == 6
    assert not window.load_bar.isVisible()
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=20000)
    window.paint_now()
    assert window.columns[1].profile_h.getData()[0] is not None


def test_a_bad_file_is_named_and_changes_nothing(qtbot, make_window, tmp_path):
    window = make_window(reviews_config())
    before = window.session.active
    bad = write_reviews(tmp_path / "bad.csv", header=("text", "label"))
    controls = window.controls
    controls.task.setCurrentIndex(controls.task.findData("text"))
    controls.data.setText(str(bad))
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=20000)
    assert "Cannot use this text file" in window.banner.text() and "'review'" in window.banner.text()
    assert window.session.active is before and window.session.trainer_state != "failed"
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=20000)  # the old run goes on


def test_task_settings_show_what_the_task_uses(qtbot, make_window):
    window = make_window()
    controls = window.controls
    controls.task.setCurrentIndex(controls.task.findData("reviews"))
    assert controls.distance.isEnabled() and not controls.data_row.isVisibleTo(controls)
    controls.task.setCurrentIndex(controls.task.findData("adding"))
    assert not controls.distance.isEnabled()
    assert not window.views.isTabEnabled(1)
    qtbot.keyClick(window, Qt.Key.Key_W)  # not a text task: a note, no switch
    assert window.views.currentIndex() == 0


def test_typing_a_column_name_is_text_not_shortcuts(qtbot, make_window):
    window = make_window(reviews_config())
    controls = window.controls
    controls.task.setCurrentIndex(controls.task.findData("text"))
    controls.text_column.clear()
    controls.text_column.setFocus()
    qtbot.keyClicks(controls.text_column, "review words")  # e, w and r are shortcuts elsewhere
    assert controls.text_column.text() == "review words"
    assert window.views.currentIndex() == 0 and window.reviews.evaluate_button.isEnabled()
    assert window.session.active.task.name == "reviews"  # no Reset either


def test_a_saved_text_run_reopens_and_a_missing_file_changes_nothing(qtbot, make_window, tmp_path, answers):
    path = write_reviews(tmp_path / "imdb.csv")
    window = make_window(text_config(TaskConfig(name="text", data=str(path), batch=4, max_len=8)))
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=20000)
    saved = tmp_path / "text_run.npz"
    window.session.save(saved)
    qtbot.waitUntil(lambda: window.session.run_path == saved, timeout=20000)

    other = make_window(reviews_config())
    assert other.open_run(saved)  # the file is there: it continues
    qtbot.waitUntil(lambda: other.session.active.task.name == "text" and steps_done(other) == 1,
                    timeout=20000)
    assert other.views.isTabEnabled(1) and other.reviews.example.maximum() == 7

    third = make_window(reviews_config())
    before = third.session.active
    path.rename(tmp_path / "moved.csv")
    assert not third.open_run(saved)
    assert any("does not exist here" in question for question in answers["questions"])
    assert third.session.active is before and third.board.config == before

    # Another file at that path that no longer fits (no 'sentiment' column): refused by the trainer.
    write_reviews(path, header=("review", "stars"))
    assert third.open_run(saved)
    qtbot.waitUntil(lambda: third.banner.isVisible(), timeout=20000)
    assert "Cannot continue this run" in third.banner.text() and "'sentiment'" in third.banner.text()
    assert third.session.active is before and third.board.config == before and third.run_path is None
    assert third.session.mode == "live"


def test_words_are_asked_at_most_once_a_second(qtbot, make_window):
    window = make_window(reviews_config())
    asked = []
    session = window.session
    send = session.trainer.send

    def count(command):  # count the questions instead of sending them
        if isinstance(command, protocol.AskWords):
            asked.append(command)
        else:
            send(command)

    session.trainer.send = count
    window.views.setCurrentIndex(1)
    session.start()
    qtbot.waitUntil(lambda: steps_done(window) >= 5, timeout=20000)
    qtbot.wait(300)
    session.pause()
    qtbot.waitUntil(lambda: session.trainer_state == PAUSED, timeout=10000)
    assert len(asked) == 1  # the question is open: no second one until it is answered
    session._words_asked = time.perf_counter()  # as if asked just now (training may take over a second)
    session._words_open = False  # and answered at once
    session.steps_done += 1  # the models changed
    window.paint_now()
    assert len(asked) == 1  # the models changed, but the last question is under a second old
    session._words_asked -= 1.1  # a second later
    window.paint_now()
    assert len(asked) == 2
    session.trainer.send = send


def test_leaving_a_text_task_from_the_words_tab_goes_back_to_the_training_plots(qtbot, make_window):
    """Not on to the sweep's tab, which Qt would pick as the next tab once Words goes."""
    window = make_window(reviews_config())
    qtbot.keyClick(window, Qt.Key.Key_W)
    assert window.views.currentIndex() == 1 and window.views.tabBar().isVisible()
    window.controls.task.setCurrentIndex(window.controls.task.findData("adding"))
    window.reset()
    qtbot.waitUntil(lambda: window.session.active.task.name == "adding", timeout=30000)
    assert window.views.currentIndex() == 0 and not window.views.tabBar().isVisible()
    assert window.history_slider.isVisible() and not window.sweep_seen


def test_words_tab_reads_in_presentation_mode(qtbot, make_window):
    """At 1280x800 in presentation mode: each model on its own colour scale, the deciding word
    labelled under the plots, y titles whole or left out (never cut), gate tick labels apart,
    every review box showing its whole text (no scroll bar)."""
    from PySide6.QtGui import QFontMetricsF

    from gradviz.gui.plots.base import pixel_font
    from gradviz.gui.plots.ranges import value_span

    window = make_window(reviews_config())
    window.full_screen = False
    window.toggle_presentation()
    window.resize(1280, 800)
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=20000)
    qtbot.keyClick(window, Qt.Key.Key_W)
    qtbot.waitUntil(lambda: window.reviews.report is not None, timeout=20000)
    qtbot.wait(100)
    report = window.reviews.report
    font = pixel_font(window.board.style.font_px)
    metrics = QFontMetricsF(font)
    for view, words in zip(window.reviews.views, report.words, strict=True):
        assert view.levels == value_span(np.log10(words.grad_norms))  # its own scale, from its own words
        assert (report.decisive + 1.0, words.tokens[report.decisive]) in view.ticks
        assert not view.text.verticalScrollBar().isVisible()
        assert view.text.height() >= view.text.document().size().height()
        for plot in (view.plot, view.gate_plot):
            axis = plot.getAxis("left")
            title = axis.labelText if axis.label.isVisible() else ""
            assert metrics.horizontalAdvance(title) <= plot.getViewBox().height()
        assert axis.style["tickFont"].pixelSize() == window.board.style.font_px
    lstm = window.reviews.views[1]
    assert lstm.gate_plot.isVisibleTo(lstm)
    # The gradient plots are as high as each other, the LSTM's gate plot besides.
    heights = [view.plot.getViewBox().height() for view in window.reviews.views]
    assert abs(heights[0] - heights[1]) <= 0.1 * max(heights)
    assert min(heights) >= 3 * metrics.height()
