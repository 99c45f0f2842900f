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
