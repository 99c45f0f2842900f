"""The settings panel's layout at the desk: the same form before and after presentation mode,
and the rows a lecture changes in view.

Two things went wrong there, each fixed here:

- Leaving presentation mode (a larger font) the form re-flowed: "Task" and "Device" moved
  above their fields. A QComboBox forgets its size hint when its font changes but keeps its
  minimum size hint (Qt 6), so the combos kept the large font's minimum width and the form
  wrapped their rows. A style change makes a combo forget both: sent after every font change.
- At 1280x800 the model's Nonlinearity row hid under the splitter between the form and the
  equations. On a resize of the window, the splitter gives the form the height that shows
  every row down to ``SHOWN_THROUGH`` (when the equations keep ``EQUATIONS_MIN_PX``: 1024x768
  has not the height, and there the form scrolls); a splitter the user drags stays where it
  is put until the next resize.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QFormLayout, QLabel, QScrollArea, QSplitter, QWidget

SHOWN_THROUGH = "Initialisation"  # the model's rows down to this one stay in view at the desk
EQUATIONS_MIN_PX = 150  # the equations under the form keep this much at least
FORM_SHARE = 0.5  # the form's share of the splitter when it needs less (the equations get the other half)


class SettingsLayout(QObject):
    """Keeps ``controls`` (in ``scroll``, the top of ``splitter``) laid out as at the start."""

    def __init__(self, splitter: QSplitter, scroll: QScrollArea, controls: QWidget):
        super().__init__(splitter)
        self.splitter, self.scroll, self.controls = splitter, scroll, controls
        self._fit_later = QTimer(self)
        self._fit_later.setSingleShot(True)
        self._fit_later.setInterval(0)  # once this pass of resizes and layouts is done
        self._fit_later.timeout.connect(self.fit)
        splitter.installEventFilter(self)
        controls.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if watched is self.controls and kind == QEvent.Type.FontChange:
            QTimer.singleShot(0, self.forget_combo_hints)  # after every child has the new font
            self._fit_later.start()
        elif watched is self.splitter and kind in (QEvent.Type.Resize, QEvent.Type.Show):
            self._fit_later.start()
        return False

    def forget_combo_hints(self) -> None:
        for combo in self.controls.findChildren(QComboBox):
            QApplication.sendEvent(combo, QEvent(QEvent.Type.StyleChange))
            combo.updateGeometry()
        # The forms keep the rows they wrapped until told their sizes changed.
        for form in self.controls.findChildren(QFormLayout):
            form.invalidate()
        if self.controls.layout() is not None:
            self.controls.layout().invalidate()
            self.controls.layout().activate()

    def wanted_height(self) -> int | None:
        """The scroll area's height that shows the form down to the row ``SHOWN_THROUGH``."""
        row = shown_through(self.controls)
        if row is None:
            return None
        bottom = row.mapTo(self.controls, QPoint(0, row.height())).y()
        return bottom + 2 * self.scroll.frameWidth() + 6

    def fit(self) -> None:
        total = sum(self.splitter.sizes())
        wanted = self.wanted_height()
        if total <= 0 or wanted is None or not self.splitter.isVisible():
            return
        form = min(max(wanted, round(FORM_SHARE * total)), total - EQUATIONS_MIN_PX)
        if form > 0 and self.splitter.sizes()[0] != form:
            self.splitter.setSizes([form, total - form])


def shown_through(controls: QWidget) -> QWidget | None:
    """The field of the current model's row ``SHOWN_THROUGH`` (or its label: the lower)."""
    tabs = getattr(controls, "tabs", None)
    page = tabs.currentWidget() if tabs is not None else None
    if page is None:
        return None
    form = page.layout()
    if not isinstance(form, QFormLayout):
        return None
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label is not None and isinstance(label.widget(), QLabel) and label.widget().text() == SHOWN_THROUGH:
            widgets = [item.widget() for item in (label, field) if item is not None and item.widget() is not None]
            return max(widgets, key=lambda widget: widget.mapTo(controls, QPoint(0, widget.height())).y())
    return None


def rows_out_of_view(scroll: QScrollArea, controls: QWidget) -> list[str]:
    """The labels of the current model's rows down to ``SHOWN_THROUGH`` that the scroll area
    does not show whole (for the layout report)."""
    tabs = getattr(controls, "tabs", None)
    page = tabs.currentWidget() if tabs is not None else None
    form = page.layout() if page is not None else None
    if not isinstance(form, QFormLayout) or not scroll.isVisible():
        return []
    viewport = scroll.viewport()
    cut = []
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        widgets = [item.widget() for item in (label, field) if item is not None and item.widget() is not None]
        widgets = [widget for widget in widgets if widget.isVisible()]
        if not widgets:
            continue
        name = label.widget().text() if label is not None and isinstance(label.widget(), QLabel) else ""
        for widget in widgets:
            top = widget.mapTo(viewport, QPoint(0, 0)).y()
            if top < 0 or top + widget.height() > viewport.height():
                cut.append(name or type(widget).__name__)
                break
        if name == SHOWN_THROUGH:
            break
    return cut
