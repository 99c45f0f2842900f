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
