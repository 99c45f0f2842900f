"""Plot building blocks shared by every panel: labelled plots, hover read-outs, heatmaps.

Images use row-major arrays (rows are y) and fixed colour levels: no autolevel search on
every frame, and a colour means the same value from frame to frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QGraphicsItem

pg.setConfigOptions(imageAxisOrder="row-major")
LEFT_AXIS_WIDTH = 56


def make_plot(title: str, x_label: str, y_label: str, x_units: str | None = None) -> pg.PlotItem:
    """A PlotItem with a caption-like title and both axes labelled."""
    plot = pg.PlotItem(title=title)
    plot.setLabel("bottom", x_label, units=x_units)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    # A fixed axis width: otherwise new tick labels change the width, which re-lays out and
    # repaints every plot of the column on every frame.
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)  # no "(x0.001)": values are shown as they are
        # Axes repaint whenever a curve next to them does; replaying their text costs ~1 ms
        # each, blitting a cached pixmap almost nothing.
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    return plot


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


class HoverReadout:
    """Shows the value under the cursor in a small text in the plot's top-left corner."""

    def __init__(self, plot: pg.PlotItem, describe: Callable[[float, float], str | None]):
        self.plot = plot
        self.describe = describe
        self.text = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(0, 0, 0, 150), color="#ffffff")
        self.text.setZValue(100)
        self.text.setVisible(False)
        plot.addItem(self.text, ignoreBounds=True)
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=30, slot=self._moved)

    def _moved(self, event) -> None:
        (position,) = event
        view = self.plot.vb
        if not self.plot.sceneBoundingRect().contains(position):
            self.text.setVisible(False)
            return
        point = view.mapSceneToView(position)
        message = self.describe(point.x(), point.y())
        if not message:
            self.text.setVisible(False)
            return
        (x0, x1), (y0, y1) = view.viewRange()
        self.text.setText(message)
        self.text.setPos(QPointF(x0, y1))
        self.text.setVisible(True)


class Heatmap:
    """An ImageItem in a plot with a colour bar, fixed levels and a hover read-out.

    ``set(values, x0, x1, y0, y1, levels)`` shows ``values`` (rows along y, columns along x)
    stretched over the given data rectangle.
    """

    def __init__(self, plot: pg.PlotItem, colour_map: str, bar_label: str, value_name: str):
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="row-major")
        self.values = np.zeros((1, 1), dtype=np.float32)
        self.rect = QRectF(0, 0, 1, 1)
        plot.addItem(self.image)
        self.bar = pg.ColorBarItem(
            values=(0, 1), colorMap=pg.colormap.get(colour_map), label=bar_label, interactive=False, width=14
        )
        self.bar.setImageItem(self.image, insert_in=plot)
        self.value_name = value_name
        self.readout = HoverReadout(plot, self._describe)

    def set(self, values: np.ndarray, rect: QRectF, levels: tuple[float, float]) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.rect = rect
        self.image.setImage(self.values, autoLevels=False, levels=levels)
        self.image.setRect(rect)
        self.bar.setLevels(levels)

    def clear(self) -> None:
        self.values = np.zeros((1, 1), dtype=np.float32)
        self.image.clear()

    def value_at(self, x: float, y: float) -> float | None:
        rows, cols = self.values.shape
        if not self.rect.contains(QPointF(x, y)) or rows == 0 or cols == 0:
            return None
        col = int((x - self.rect.left()) / self.rect.width() * cols)
        row = int((y - self.rect.top()) / self.rect.height() * rows)
        return float(self.values[min(row, rows - 1), min(col, cols - 1)])

    def _describe(self, x: float, y: float) -> str | None:
        value = self.value_at(x, y)
        if value is None:
            return None
        shown = "0 (underflow)" if np.isnan(value) else f"{value:.3g}"
        return f"x {x:.0f}, y {y:.0f}: {self.value_name} {shown}"
