"""Plot building blocks: a ``Panel`` is one plot with its caption underneath, the unit that
gradviz styles (desk or projector), exports (PNG, SVG, CSV, NPZ) and tests.

Images use row-major arrays (rows are y) and fixed colour levels: no autolevel search on
every frame, and a colour means the same value from frame to frame.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem

from gradviz.gui.theme import PlotStyle

pg.setConfigOptions(imageAxisOrder="row-major")
LEFT_AXIS_CHARS = 6  # the left axis is this many tick characters wide, whatever the values


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """float copy with inf replaced by NaN, so curves break instead of blowing up the range."""
    values = np.array(values, dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def log10_or_nan(values: np.ndarray) -> np.ndarray:
    """log10 of a norm; exact zeros (underflow) and non-finite values become NaN."""
    values = np.array(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    good = np.isfinite(values) & (values > 0)
    out[good] = np.log10(values[good])
    return out


class Caption(pg.LabelItem):
    """A one-line caption that wraps instead of forcing its plot to be wide."""

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph's name
        width = max(self.size().width(), 50.0)
        self.item.setTextWidth(width)
        height = self.item.boundingRect().height()
        self.setMinimumWidth(0)
        self.setMinimumHeight(height)
        self._sizeHint = {
            Qt.SizeHint.MinimumSize: (0, height),
            Qt.SizeHint.PreferredSize: (width, height),
            Qt.SizeHint.MaximumSize: (-1, height),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event is not None and abs(event.newSize().width() - event.oldSize().width()) > 1:
            self.updateMin()
        super().resizeEvent(event)

    def sizeHint(self, hint, constraint=None):  # noqa: N802 - Qt's name
        return QSizeF(*self._sizeHint.get(hint, (0, 0)))


class Panel(pg.GraphicsLayout):
    """A PlotItem with a caption below it, styled curves and reference lines, and ``data``:
    the arrays it shows, by name, for export and tests."""

    def __init__(self, name: str, caption: str, x_label: str, y_label: str):
        super().__init__()
        self.name = name
        self.x_label, self.y_label = x_label, y_label
        self.plot = pg.PlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.enableAutoSIPrefix(False)  # no "(x0.001)": values are shown as they are
            # Axes repaint whenever a curve next to them does; replaying their text costs
            # ~1 ms each, blitting a cached pixmap almost nothing.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.addItem(self.plot, 0, 0)
        self.caption = Caption(caption, justify="center")
        self.addItem(self.caption, 1, 0)
        self.layout.setRowStretchFactor(0, 1)
        self.layout.setRowStretchFactor(1, 0)
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.layout.setVerticalSpacing(0)
        self.caption_text = caption
        self.data: dict[str, np.ndarray] = {}
        self._curves: list[tuple[pg.PlotDataItem, str, str, bool]] = []
        self._lines: list[tuple[pg.InfiniteLine, str | None, Qt.PenStyle]] = []
        self.legend: pg.LegendItem | None = None
        self.style = PlotStyle()

    # ---- building -----------------------------------------------------------------------------

    def curve(self, colour: str, role: str = "main", dashed: bool = False, name: str | None = None) -> pg.PlotDataItem:
        """A curve whose width follows the style: ``main`` curves thick, ``thin`` ones thin."""
        item = self.plot.plot(name=name)
        item.setClipToView(True)
        item.setDownsampling(auto=True, method="mean")
        self._curves.append((item, colour, role, dashed))
        self._pen(item, colour, role, dashed)
        return item

    def line(self, angle: int = 0, colour: str | None = None, style=Qt.PenStyle.DashLine, label: str | None = None,
             position: float = 0.08) -> pg.InfiniteLine:
        """A reference line (baseline, clipping threshold); colour None follows the theme."""
        line = pg.InfiniteLine(angle=angle, label=label,
                               labelOpts={"position": position, "anchors": [(0, 1), (0, 1)]} if label else None)
        self.plot.addItem(line)
        self._lines.append((line, colour, style))
        self._line_pen(line, colour, style)
        return line

    def add_legend(self, columns: int = 1) -> None:
        self.legend = self.plot.addLegend(offset=(-5, 5), colCount=columns)

    # ---- style --------------------------------------------------------------------------------

    def apply_style(self, style: PlotStyle) -> None:
        self.style = style
        theme = style.theme
        font = QFont()
        font.setPointSize(style.font_pt)
        label_style = {"color": theme.foreground, "font-size": f"{style.font_pt}pt"}
        for side, text in (("left", self.y_label), ("bottom", self.x_label)):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(theme.foreground))
            axis.setTextPen(pg.mkPen(theme.foreground))
            axis.setTickFont(font)
            axis.setLabel(text, **label_style)
        self.plot.getAxis("left").setWidth(int(style.font_pt * LEFT_AXIS_CHARS + 2.2 * style.font_pt + 8))
        self.caption.setText(html.escape(self.caption_text), color=theme.muted, size=f"{style.caption_pt}pt")
        self.caption.updateMin()
        for item, colour, role, dashed in self._curves:
            self._pen(item, colour, role, dashed)
        for line, colour, pen_style in self._lines:
            self._line_pen(line, colour, pen_style)
        if self.legend is not None:
            self.legend.setLabelTextColor(theme.foreground)
            self.legend.setLabelTextSize(f"{max(7, style.font_pt - 1)}pt")
            self.legend.setBrush(pg.mkBrush(theme.background + "70"))  # curves stay visible behind it
            for _, label in self.legend.items:
                label.setText(label.text, color=theme.foreground, size=f"{max(7, style.font_pt - 1)}pt")

    def _pen(self, item: pg.PlotDataItem, colour: str, role: str, dashed: bool) -> None:
        width = self.style.line_width if role == "main" else self.style.thin_width
        item.setPen(pg.mkPen(colour, width=width, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine))

    def _line_pen(self, line: pg.InfiniteLine, colour: str | None, style: Qt.PenStyle) -> None:
        colour = colour or self.style.theme.muted
        line.setPen(pg.mkPen(colour, width=self.style.thin_width, style=style))
        if getattr(line, "label", None) is not None:
            line.label.setColor(colour)
            line.label.setFont(_font(self.style.font_pt))


def _font(points: int) -> QFont:
    font = QFont()
    font.setPointSize(points)
    return font


class HoverReadout:
    """Shows the value under the cursor in a small text in the plot's top-left corner."""

    def __init__(self, plot: pg.PlotItem, describe: Callable[[float, float], str | None]):
        self.plot = plot
        self.describe = describe
        self.text = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(0, 0, 0, 160), color="#ffffff")
        self.text.setZValue(100)
        self.text.setVisible(False)
        plot.addItem(self.text, ignoreBounds=True)
        self._proxy = None

    def connect(self) -> None:
        """Listen to the mouse once the plot is in a scene."""
        if self._proxy is None and self.plot.scene() is not None:
            self._proxy = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._moved)

    def _moved(self, event) -> None:
        (position,) = event
        if not self.plot.sceneBoundingRect().contains(position):
            self.text.setVisible(False)
            return
        point = self.plot.vb.mapSceneToView(position)
        message = self.describe(point.x(), point.y())
        if not message:
            self.text.setVisible(False)
            return
        (x0, _), (_, y1) = self.plot.vb.viewRange()
        self.text.setText(message)
        self.text.setPos(QPointF(x0, y1))
        self.text.setVisible(True)


class Heatmap:
    """An ImageItem in a panel with a colour bar, fixed levels and a hover read-out.

    ``set(values, rect, levels)`` shows ``values`` (rows along y, columns along x) stretched
    over the data rectangle ``rect``.
    """

    def __init__(self, panel: Panel, colour_map: str, bar_label: str, value_name: str):
        self.panel = panel
        self.image = pg.ImageItem(axisOrder="row-major")
        self.values = np.zeros((0, 0), dtype=np.float32)
        self.rect = QRectF(0, 0, 1, 1)
        panel.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(
            values=(0, 1), colorMap=pg.colormap.get(colour_map), label=bar_label, interactive=False, width=14
        )
        self.bar.setImageItem(self.image, insert_in=panel.plot)
        self.value_name = value_name
        self.readout = HoverReadout(panel.plot, self._describe)

    def set(self, values: np.ndarray, rect: QRectF, levels: tuple[float, float]) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.rect = rect
        self.image.setImage(self.values, autoLevels=False, levels=levels)
        self.image.setRect(rect)
        self.bar.setLevels(levels)

    def clear(self) -> None:
        self.values = np.zeros((0, 0), dtype=np.float32)
        self.image.clear()

    def apply_style(self, style: PlotStyle) -> None:
        for side in ("left", "right", "top", "bottom"):
            self.bar.getAxis(side).setPen(pg.mkPen(style.theme.foreground))
        axis = self.bar.axis
        axis.setTextPen(pg.mkPen(style.theme.foreground))
        axis.setTickFont(_font(style.font_pt))
        axis.setWidth(int(style.font_pt * 4 + 2.2 * style.font_pt + 6))
        axis.setLabel(axis.labelText, color=style.theme.foreground, **{"font-size": f"{style.font_pt}pt"})

    def value_at(self, x: float, y: float) -> float | None:
        rows, cols = self.values.shape
        if rows == 0 or cols == 0 or not self.rect.contains(QPointF(x, y)):
            return None
        col = int((x - self.rect.left()) / self.rect.width() * cols)
        row = int((y - self.rect.top()) / self.rect.height() * rows)
        return float(self.values[min(row, rows - 1), min(col, cols - 1)])

    def _describe(self, x: float, y: float) -> str | None:
        value = self.value_at(x, y)
        if value is None:
            return None
        return f"t {x:.0f}, {self.panel.y_label} {y:.0f}: {self.value_name} {value:.3g}"
