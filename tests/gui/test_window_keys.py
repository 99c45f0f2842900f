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
