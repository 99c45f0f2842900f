"""The plot board: one ``ModelColumn`` per model, side by side, fed one ``Frame`` at a time.

Used by the main window (live or replayed runs) and by headless figure export, so a figure
in a paper is pixel for pixel what the lecture showed.
"""

from __future__ import annotations

import math

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from gradviz.config import RunConfig
from gradviz.gui.plots import rows
from gradviz.gui.plots.base import Panel
from gradviz.gui.plots.column import ModelColumn
from gradviz.gui.plots.header import HEADER_GAP_PX
from gradviz.gui.plots.ranges import shared_ranges
from gradviz.gui.theme import PlotStyle
from gradviz.session.frames import Frame
from gradviz.tasks import Baseline, metric_and_steps

METRIC_MIN_COLUMN = 700  # below this column width the metric plot would be a sliver beside the loss


def _text_height(label: QLabel, width: int) -> int:
    """The height ``label``'s text needs at ``width``, measured afresh: a QLabel that has shown
    larger text keeps answering with the larger text's layout."""
    shown = label.shown_text() if hasattr(label, "shown_text") else label.text()  # as Qt lays it out
    if not shown:
        return 0
    document = QTextDocument()
    document.setDefaultFont(label.font())
    document.setDocumentMargin(0)
    document.setHtml(shown)
    document.setTextWidth(max(width, 1))
    return math.ceil(document.size().height())


def header_width(column: ModelColumn) -> int:
    """The width a column's header lays its text out in (the column's, less the gap to the next)."""
    return column.width() - HEADER_GAP_PX


class PlotBoard(QWidget):
    """Columns of plots for the models of one RunConfig."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.columns: list[ModelColumn] = []
        # Columns removed and waiting for Qt to delete them: referenced until then, so the cycle
        # collector never clears the attributes of an item Qt can still ask for its size.
        self._retired: list[ModelColumn] = []
        self.style = PlotStyle()
        self.gate = "forget"
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(6)
        self.config: RunConfig | None = None
        self.current_panel: Panel | None = None  # the last plot clicked: what "Copy plot" copies
        self._turn = 0  # the column draw_pending serves first
        self.extra = "history"  # the lecturer's third plot (after the gradient profile and the loss)
        self.featured: str | None = None  # the plot a lesson's scene highlights: kept before the loss
        self.screen_height = 1080  # the screen presentation mode fills: its floors scale with it
        self._arranging = False
        self._arrange_timer = QTimer(self)
        self._arrange_timer.setSingleShot(True)
        self._arrange_timer.setInterval(0)
        self._arrange_timer.timeout.connect(self.arrange)

    def set_config(self, config: RunConfig) -> None:
        """Columns for ``config``'s models, emptied, with timestep axes of its task."""
        self.config = config
        self._turn = 0
        metric_name, steps = metric_and_steps(config.task)  # never reads a text file
        self.current_panel = None
        self._retired = [column for column in self._retired if shiboken6.isValid(column)]
        while len(self.columns) > len(config.models):
            column = self.columns.pop()
            self.layout_.removeWidget(column)
            column.deleteLater()
            self._retired.append(column)
        while len(self.columns) < len(config.models):
            column = ModelColumn(len(self.columns), metric_name)
            column.gate = self.gate
            column.apply_style(self.style)
            column.graphics.scene().sigMouseClicked.connect(lambda event, c=column: self._clicked(c, event))
            column.graphics.installEventFilter(self)
            self.columns.append(column)
            self.layout_.addWidget(column)
        for column in self.columns:
            column.metric_panel.caption_text = f"{metric_name}; dashed: no memory"
            column.metric_panel.apply_style(self.style)
            column.reset_plots()
            column.set_timesteps(steps)
        self.arrange()

    def show_frame(self, frame: Frame, baseline: Baseline, spread: bool = False) -> None:
        """Paint ``frame``; with ``spread``, the plots of new records are drawn a group of one
        column now and the rest by ``draw_pending`` on the next timer ticks."""
        if self.config is None or len(frame.models) != len(self.columns):
            return
        ranges = shared_ranges(frame, baseline.loss)
        for index, (column, view) in enumerate(zip(self.columns, frame.models, strict=True)):
            clip = self.config.models[index].train.clip
            column.show_frame(view, frame.scalars, baseline, clip, ranges[index], defer_probes=spread)
        self._align_headers(shrink=False)
        if spread:
            self.draw_pending()

    def draw_pending(self) -> bool:
        """Draw one group of one column's new record at most; True if it drew. Every model
        records in the same step: drawn all at once, the columns would hold the window for one
        long frame, while a group per timer tick keeps each frame short (30 ms apart)."""
        count = len(self.columns)
        for offset in range(count):  # the columns in turn: frames faster than ticks starve none
            index = (self._turn + offset) % count
            if self.columns[index].draw_probes():
                self._turn = (index + 1) % count
                return True
        return False

    def draw_all_pending(self) -> None:
        """Draw what every column still has pending (before an export or a screenshot)."""
        for column in self.columns:
            column.draw_all_probes()

    def set_gate(self, gate: str) -> None:
        self.gate = gate
        for column in self.columns:
            column.gate = gate
            column.redraw_probes()

    def apply_style(self, style: PlotStyle) -> None:
        self.style = style
        for column in self.columns:
            column.apply_style(style)
        self.arrange()

    def set_extra(self, view: str) -> None:
        """The third plot of every column: the history heatmap, the gates, ..."""
        self.extra = view
        self.arrange()

    # ---- layout -------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self._arrange_timer.start()  # once the resizes of this pass are done
        return super().eventFilter(watched, event)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._arrange_timer.start()

    def arrange(self) -> None:
        """Choose every column's rows and their heights for the space there is now. All columns
        get the same rows at the same heights, so that their plots line up."""
        if not self.columns or self._arranging:
            return
        self._arranging = True
        try:
            self._align_headers()
            self.layout_.activate()
            for column in self.columns:
                column.layout().activate()
            lecture = self.style.lecture
            width = min(column.graphics.viewport().width() for column in self.columns)
            grid = self.columns[0].graphics.ci.layout
            margins = grid.getContentsMargins()
            available = min(column.graphics.viewport().height() for column in self.columns) - margins[1] - margins[3]
            order = rows.priority(self.extra, lecture, width, self.featured)
            beside = "metric" if not lecture and width >= METRIC_MIN_COLUMN else None
            if lecture and width >= rows.SIDE_BY_SIDE_MIN_WIDTH:
                # The third plot beside the loss, both at a lecture's height (wherever a featured
                # plot put it in the order: the loss beside itself crashed Qt).
                beside = next(row for row in reversed(order) if row not in ("gradient", "loss"))
                order.remove(beside)
            floor = rows.floors(lecture, self.screen_height)
            if lecture and beside is None:
                # Stacked under the two, the third plot is worth its place only with its axis
                # titles whole: shortened to "step" and "log10" it was a squeezed sliver at 1024x768.
                third = order[2] if len(order) > 2 else None
                if third is not None:
                    need = max(column.label_height(third) for column in self.columns)
                    floor = rows.Floors(main=floor.main, other=max(floor.other, need))
            for _ in range(3):  # overheads are measured from the last layout: settle them
                overheads = {row: max(column.row_overheads()[row] for column in self.columns) for row in rows.ROWS}
                heights = rows.plan(available, overheads, order, lecture, floor, grid.verticalSpacing())
                for column in self.columns:
                    column.set_rows(heights, beside)
                    column.graphics.ci.layout.activate()
                measured = {row: max(column.row_overheads()[row] for column in self.columns) for row in heights}
                if all(abs(measured[row] - overheads[row]) <= 1 for row in heights):
                    break
        finally:
            self._arranging = False

    def _align_headers(self, shrink: bool = True) -> None:
        """Every column's header as high as the highest: the plots below start at one height.
        Between layouts (``shrink`` False, a new frame) a header only grows: a header wrapping
        onto one line fewer would resize the plots below it, and a resized plot regenerates
        every axis (tens of ms on each change) and makes the room's eyes jump."""
        if not self.columns:
            return
        needed = max(_text_height(column.header, header_width(column)) for column in self.columns)
        if not shrink:
            needed = max(needed, max(column.header.minimumHeight() for column in self.columns))
        if any(column.header.minimumHeight() != needed or column.header.maximumHeight() != needed
               for column in self.columns):
            for column in self.columns:
                column.header.setFixedHeight(needed)
            self._arrange_timer.start()

    def hide_readouts(self) -> None:
        """Clear every hover read-out (before a picture is taken, after a reset)."""
        for column in self.columns:
            column.hide_readouts()

    def _clicked(self, column: ModelColumn, event) -> None:
        for panel in column.panels.values():
            if panel.sceneBoundingRect().contains(event.scenePos()):
                self.current_panel = panel

    def panels(self, name: str) -> list[Panel]:
        """The panel called ``name`` of every model, left to right."""
        return [column.panels[name] for column in self.columns]
