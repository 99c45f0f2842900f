"""Keys a new user tries in the real window (a walk found them doing nothing, or too much):
"?" for help, Q for the equations where the room sees them, R asking before it throws a run away."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


def test_question_mark_opens_the_same_keyboard_help_as_f1(qtbot, make_window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda parent, title, text: shown.append(text)))
    window = make_window()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    assert len(shown) == 1 and "F1: this list (also ?)" in shown[0]
    qtbot.keyClick(window, Qt.Key.Key_Question)
    assert shown == [shown[0], shown[0]]
    window.toggle_presentation()  # the menu bar is hidden there: the key still works
    qtbot.keyClick(window, Qt.Key.Key_Question)
    assert len(shown) == 3


def test_a_paused_trainer_shows_no_rate_in_the_status_bar(qtbot):
    """Looking back with the history slider pauses the trainer and paints no live frame: the
    bar said "paused · 62 steps/s", the rate of the steps before the pause."""
    from types import SimpleNamespace

    from PySide6.QtWidgets import QStatusBar

    from gradviz.gui.status import StatusRoom
    from gradviz.session.protocol import PAUSED, RUNNING

    session = SimpleNamespace(trainer_state=RUNNING)
    bar = QStatusBar()
    qtbot.addWidget(bar)
    status = StatusRoom(bar, lambda: session)
    status.show_frame(120, 62.0)
    assert status.rate_label.text().strip().startswith("62 steps/s")
    session.trainer_state = PAUSED
    status.show_state(PAUSED)
    assert status.rate_label.text().strip().startswith("0 steps/s"), status.rate_label.text()
    status.show_frame(121, 62.0)  # the paused step's frame, with the rate of the steps before it
    assert status.rate_label.text().strip().startswith("0 steps/s"), status.rate_label.text()
    session.trainer_state = RUNNING
    status.show_state(RUNNING)
    status.show_frame(150, 58.0)
    assert status.rate_label.text().strip().startswith("58 steps/s")


def test_the_preset_box_at_1024_pixels_shows_whole_words_and_its_tooltip_the_whole_title(qtbot, make_window):
    """At 1024 px the box cut its title: "Vanishing gradients: ta"."""
    from gradviz.presets import load_preset, preset_names

    window = make_window()
    window.resize(1008, 730)  # a 1024x768 screen's window, inside the window manager's frame
    qtbot.wait(50)
    box = window.preset_box
    room = box._text_room()[1]  # the style's text field: the box less its arrow and margins
    assert room < box.fontMetrics().horizontalAdvance(load_preset("vanishing").title)  # too narrow for it
    metrics = box.fontMetrics()
    for name in preset_names():
        window.toolbar.show_preset(name)
        title = load_preset(name).title
        shown = box.shown_text()
        assert metrics.horizontalAdvance(shown) <= room, (shown, room)
        assert shown == title or shown == title.split(":")[0] or shown.endswith("\u2026"), shown
        assert title in box.toolTip()
    window.toolbar.show_preset("vanishing")
    assert box.shown_text() in ("Vanishing gradients", "Vanishing gradients: tanh RNN vs LSTM")


ORIGINAL_QUESTION = QMessageBox.question  # before the ``answers`` fixture replaces it


def test_r_asks_before_it_throws_away_a_run_worth_keeping_and_cancel_keeps_it(qtbot, make_window, answers):
    from tests.gui.conftest import paused_after, steps_done

    window = make_window()  # a custom run (no preset): worth a question once it has trained
    qtbot.keyClick(window, Qt.Key.Key_R)  # nothing trained yet: nothing to lose, no question
    qtbot.waitUntil(lambda: window.session.building_since is None, timeout=30000)
    assert answers["questions"] == []
    paused_after(qtbot, window, 3)
    trained = steps_done(window)
    answers["answer"] = QMessageBox.StandardButton.Cancel
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert len(answers["questions"]) == 1
    assert f"It trained {trained} steps with settings you chose." in answers["questions"][0]
    assert window.session.building_since is None and steps_done(window) == trained  # kept
    answers["answer"] = QMessageBox.StandardButton.Discard
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert len(answers["questions"]) == 2
    qtbot.waitUntil(lambda: window.session.building_since is None and steps_done(window) == 0, timeout=30000)


def test_the_question_counts_the_steps_when_it_opens_not_at_the_last_paint(qtbot, make_window, answers):
    window = make_window()
    window.timer.stop()  # no paint (and no poll) between the training and the question
    window.session.start()
    qtbot.wait(3000)  # it trains, and what it sends waits in the queue (the session reads it on a poll)
    assert window.session.steps_done == 0
    assert not window.files.confirm_discard() or answers["questions"]
    assert len(answers["questions"]) == 1 and "with settings you chose" in answers["questions"][0]
    window.timer.start()


def test_the_open_question_follows_the_run_training_behind_it(qtbot, make_window, monkeypatch):
    import re

    from PySide6.QtCore import QTimer

    window = make_window(autostart=True)
    qtbot.waitUntil(lambda: window.session.steps_done >= 2, timeout=30000)
    monkeypatch.setattr(QMessageBox, "question", ORIGINAL_QUESTION)  # the real question box
    seen: list[str] = []

    def look() -> None:
        box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
        seen.append(box.text())
        if len(seen) < 4:
            QTimer.singleShot(700, look)
        else:
            box.button(QMessageBox.StandardButton.Cancel).click()

    QTimer.singleShot(200, look)
    try:
        assert not window.files.confirm_discard()
    finally:
        window.ask_before_discard = False  # pytest-qt closes the window before the fixtures' teardown
    counts = [int(re.search(r"trained (\d+) steps?", text)[1]) for text in seen]
    assert counts[-1] > counts[0], seen
    assert counts[-1] <= window.session.steps_done


def test_q_shows_the_equations_with_live_values_where_the_room_sees_them(qtbot, make_window):
    """Presentation mode hides the settings dock and its equations: Q shows them beside the
    plots, at the projector's text size, whole (nothing to scroll) at 1024x768 and 1280x800."""
    from gradviz.gui.theme import lecture_text_px
    from tests.gui.conftest import small_config, train_and_pause

    window = make_window(small_config())  # the default demo's shape: a tanh RNN and an LSTM
    pane = window.central.equations
    train_and_pause(qtbot, window, 4)
    assert not pane.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Q)  # at the desk too
    assert pane.isVisible() and window.equations_action.isChecked()
    assert "measured gain" in pane.panel.toPlainText()
    window.full_screen = False  # offscreen: the window stands for the screen
    window.toggle_presentation()
    for width, height in ((1024, 768), (1280, 800)):
        window.resize(width, height)
        qtbot.waitUntil(lambda h=height: window.presentation_room.styled_height == window.height(), timeout=5000)
        window.paint_now()
        qtbot.wait(50)
        assert not window.settings_dock.isVisible() and pane.isVisible()
        assert pane.panel.font().pixelSize() == lecture_text_px(window.height()) >= 16
        text = pane.panel.toPlainText()
        assert "tanh RNN" in text and "LSTM" in text and "measured gain" in text
        assert "mean f" in text  # live values, not the equations alone
        assert pane.panel.horizontalScrollBar().maximum() == 0  # no line cut at the side
        right = pane.mapTo(window, pane.rect().bottomRight())
        assert right.x() <= window.width() and right.y() <= window.height()
        assert window.board.width() >= 0.55 * window.width()  # the plots keep most of the screen
        assert pane.panel.verticalScrollBar().maximum() == 0  # whole: nothing below the screen's edge
    qtbot.keyClick(window, Qt.Key.Key_Q)
    assert not pane.isVisible() and not window.equations_action.isChecked()


def test_with_the_equations_pane_open_at_the_desk_the_equations_show_once(qtbot, make_window):
    """Q at the desk showed the pane beside the plots while the settings dock still showed the
    same equations below the form: twice on one screen. The pane shows them, the dock gives the
    form its room, and closing the pane brings the dock's back."""
    from tests.gui.conftest import small_config, train_and_pause

    window = make_window(small_config())
    train_and_pause(qtbot, window, 4)
    pane, dock_equations = window.central.equations, window.explanation
    assert window.settings_dock.isVisible() and dock_equations.isVisible() and not pane.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Q)
    window.paint_now()
    shown = [panel for panel in (pane.panel, dock_equations) if panel.isVisible()]
    assert shown == [pane.panel] and "measured gain" in pane.panel.toPlainText()
    assert window.settings_dock.isVisible()  # the form stays
    window.full_screen = False
    window.toggle_presentation()
    window.toggle_presentation()  # back at the desk, the pane still open: still once
    assert [panel for panel in (pane.panel, dock_equations) if panel.isVisible()] == [pane.panel]
    qtbot.keyClick(window, Qt.Key.Key_Q)
    assert dock_equations.isVisible() and not pane.isVisible()


def test_the_presentation_flag_opens_the_lesson_window_in_presentation_mode(qtbot, qapp, monkeypatch, tmp_path):
    """`gradviz --lesson rnn --presentation`: the window a lecturer gets is in presentation mode
    (full screen, the dock hidden) with the lesson attached, before its event loop runs."""
    from PySide6.QtCore import QEvent, QSettings

    import gradviz.gui.app as app_module
    import gradviz.gui.main_window as main_window
    from gradviz.lesson import find_lesson

    seen, windows = [], []

    class Loop:
        """The application, whose event loop only looks at the window and returns."""

        def __getattr__(self, name):
            return getattr(qapp, name)

        def exec(self):
            window = next(w for w in qapp.topLevelWidgets() if type(w).__name__ == "MainWindow" and w.isVisible())
            windows.append(window)
            seen.append((window.presentation, window.isFullScreen(), window.settings_dock.isVisible(),
                         getattr(window, "lesson", None) is not None))
            window.ask_before_discard = False
            window.close()
            return 0

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(main_window, "user_settings", lambda: settings)  # not the user's own
    monkeypatch.setattr(app_module, "application", lambda offscreen=False: Loop())
    assert app_module.run_app(presentation=True, lesson=(find_lesson("rnn"), 1)) == 0
    presentation, full_screen, dock, lesson = seen[0]
    assert presentation and full_screen and not dock and lesson
    windows[0].deleteLater()  # the lesson's key filter on the application goes with its window
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
