"""Settings fields while a run trains beside them: the wheel, Space and Esc (gui/panels/fields.py)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication


def _wheel(widget, steps: int = -3) -> None:
    """Turn the mouse wheel over the middle of ``widget`` (negative: towards the user)."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unclicked_box_changes_nothing(qtbot, make_window):
    window = make_window()
    form = window.controls.forms[0]
    optimizer, lr = form.optimizer.currentText(), form.lr.value()
    seq_len = window.controls.seq_len.value()
    for box in (form.optimizer, form.lr, window.controls.seq_len):
        assert not box.hasFocus()
        _wheel(box)
    QApplication.processEvents()
    assert (form.optimizer.currentText(), form.lr.value(), window.controls.seq_len.value()) == (optimizer, lr, seq_len)
    # A box the user clicked into takes the wheel as usual.
    window.controls.seq_len.setFocus()
    qtbot.waitUntil(window.controls.seq_len.hasFocus, timeout=2000)
    _wheel(window.controls.seq_len, steps=1)
    assert window.controls.seq_len.value() != seq_len


def test_space_after_editing_a_field_still_starts_and_pauses(qtbot, make_window):
    window = make_window()
    spin = window.controls.seq_len
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    qtbot.keyClicks(spin.lineEdit(), "7")
    assert window.session.trainer_state != "running"
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.trainer_state == "running", timeout=10000)
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.trainer_state != "running", timeout=10000)
    qtbot.keyClick(spin, Qt.Key.Key_Escape)  # Esc leaves the field: keys are the window's again
    qtbot.waitUntil(lambda: not spin.hasFocus(), timeout=2000)


def test_the_settings_panel_fits_its_dock_without_scrolling_sideways(qtbot, make_window):
    window = make_window()
    scroll = window.controls.parentWidget().parentWidget()  # the scroll area's viewport, then the area
    QApplication.processEvents()
    assert window.controls.minimumSizeHint().width() <= scroll.viewport().width()
    assert window.controls.width() <= scroll.viewport().width()
