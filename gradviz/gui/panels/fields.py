"""Settings fields that behave as a student expects while a run trains beside them.

- The mouse wheel over a box the user has not clicked scrolls the panel instead of changing
  the box: scrolling down the settings once silently switched Adam to RMSprop.
- Space in a spin box or combo box is the app's Space (start / pause), not a keystroke the box
  swallows; text fields keep their spaces.
- Esc leaves the field, so that the next key is the window's again.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QWidget

BOXES = (QAbstractSpinBox, QComboBox)
GUARDED = "gradviz_field_guarded"


class FieldKeys(QObject):
    """An event filter for every box and text field under a widget (``guard`` it again after
    new fields appear); ``spacePressed`` is Space typed into a box."""

    spacePressed = Signal()

    def guard(self, root: QWidget) -> None:
        for widget in root.findChildren(QWidget):
            if isinstance(widget, (*BOXES, QLineEdit)) and not widget.property(GUARDED):
                if isinstance(widget, BOXES):
                    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel does not focus it
                widget.installEventFilter(self)
                widget.setProperty(GUARDED, True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind == QEvent.Type.Wheel and isinstance(watched, BOXES) and not watched.hasFocus():
            area = _scroll_area(watched)
            if area is not None:
                QApplication.sendEvent(area.verticalScrollBar(), event)
            return True
        if kind == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()  # the Esc shortcut (leave presentation) must not take it: it comes as a key
            return True
        if kind == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Escape:
                watched.clearFocus()
                return True
            if (event.key() == Qt.Key.Key_Space and isinstance(watched, BOXES)
                    and event.modifiers() == Qt.KeyboardModifier.NoModifier):
                self.spacePressed.emit()
                return True
        return False


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent
