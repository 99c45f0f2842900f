"""Plot building blocks: a ``Panel`` is one plot with its caption underneath, the unit that
gradviz styles (desk or projector), exports (PNG, SVG, CSV, NPZ) and tests.

Images use row-major arrays (rows are y) and fixed colour levels: no autolevel search on
every frame, and a colour means the same value from frame to frame.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem

from gradviz.gui.theme import PlotStyle

pg.setConfigOptions(imageAxisOrder="row-major")
LEFT_AXIS_CHARS = 6  # the left axis is this many tick characters wide, whatever the values
QWIDGETSIZE_MAX = 16777215


class Caption(pg.LabelItem):
    """A one-line caption that wraps instead of forcing its plot to be wide."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.item.document().setDocumentMargin(1)  # Qt's default 4 px is empty space above and below
        self.shown = True  # its own choice; isVisible() is also False while its plot is hidden

    def _update_min(self) -> None:
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

    def set_shown(self, shown: bool) -> None:
        """Show or hide; hidden, it takes no room (a graphics layout keeps a hidden item's)."""
        self.shown = shown
        self.setVisible(shown)
        self.setMaximumHeight(QWIDGETSIZE_MAX if shown else 0)
        self.setMinimumHeight(self._sizeHint.get(Qt.SizeHint.MinimumSize, (0, 0))[1] if shown else 0)
        self.updateGeometry()

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph's name
        self._update_min()
        if not getattr(self, "shown", True):
            self.setMinimumHeight(0)
            self.setMaximumHeight(0)

    def sizeHint(self, hint, constraint=None):  # noqa: N802 - Qt's name
        # pyqtgraph asks before __init__ is done, and Qt while it destroys the item, when its
        # Python attributes may be gone already: no size then.
        if not getattr(self, "shown", True) or "_sizeHint" not in self.__dict__:
            return QSizeF(0, 0)
        return QSizeF(*self._sizeHint.get(hint, (0, 0)))


def space_tick_labels(axis: pg.AxisItem) -> None:
    """Make ``axis`` drop any tick label that would touch one already placed.

    pyqtgraph draws every label of the first tick level, however crowded (a log axis with set
    ticks, a short plot with projector-sized text): the labels then print on top of each other.
    Labels are kept in pyqtgraph's order (major ticks first), each a quarter line clear of the
    others.
    """
    generate = axis.generateDrawSpecs

    def spaced(painter):
        specs = generate(painter)
        if specs is None:
            return specs
        axis_spec, tick_specs, text_specs = specs
        font = axis.style.get("tickFont") or QFont()
        gap = 0.25 * QFontMetricsF(font).height()
        kept: list[tuple] = []
        for rect, flags, text in text_specs:
            padded = rect.adjusted(-gap, -gap, gap, gap)
            if not any(padded.intersects(other[0]) for other in kept):
                kept.append((rect, flags, text))
        return axis_spec, tick_specs, kept

    axis.generateDrawSpecs = spaced


def fitting_label(font: QFont, room: float, *choices: str) -> str:
    """The first of ``choices`` that is at most ``room`` pixels long in ``font`` ('' if none):
    a rotated axis label longer than its axis runs into the captions above and below."""
    metrics = QFontMetricsF(font)
    for text in choices:
        if text and metrics.horizontalAdvance(text) <= room:
            return text
    return ""


def _shows(item) -> bool:
    """A curve with data, or a reference line that is shown."""
    if isinstance(item, pg.InfiniteLine):
        return item.isVisible()
    return item.xData is not None and len(item.xData) > 0


def clearance(style: PlotStyle) -> int:
    """Space above a data area for the top tick label, which reaches half a line above it."""
    return math.ceil(0.5 * style.font_px)


def pixel_font(pixels: int) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    return font


KEY_SAMPLES = {Qt.PenStyle.SolidLine: "\u2501\u2501\u2501", Qt.PenStyle.DashLine: "\u2501 \u2501",
               Qt.PenStyle.DotLine: "\u2505\u2505"}


class Panel(pg.GraphicsLayout):
    """A PlotItem with a caption below it, an optional key above it (a legend that never
    covers a curve), styled curves and reference lines, and ``data``: the arrays it shows, by
    name, for export and tests."""

    def __init__(self, name: str, caption: str, x_label: str, y_label: str, y_short: str = ""):
        super().__init__()
        self.name = name
        self.x_label, self.y_label, self.y_short = x_label, y_label, y_short
        self.plot = pg.PlotItem()
        # Plots here have no title (the key and the caption say what they show). PlotItem's own
        # title LabelItem, left in its layout, was asked for its size while Qt destroyed a
        # closed window, after Python had cleared it: an AttributeError in the event loop.
        self.plot.layout.removeItem(self.plot.titleLabel)
        self.plot.titleLabel.setParentItem(None)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.enableAutoSIPrefix(False)  # no "(x0.001)": values are shown as they are
            # Axes repaint whenever a curve next to them does; replaying their text costs
            # ~1 ms each, blitting a cached pixmap almost nothing.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            space_tick_labels(axis)
            axis.label.document().setDocumentMargin(1)  # Qt's 4 px would push the label into the ticks
        self.key: Caption | None = None  # the legend, a line of text above the plot
        self.addItem(self.plot, 1, 0)
        self.caption = Caption(caption, justify="center")
        self.addItem(self.caption, 2, 0)
        self.layout.setRowStretchFactor(1, 1)
        self.layout.setRowStretchFactor(2, 0)
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.layout.setVerticalSpacing(0)
        self.caption_text = caption
        self.data: dict[str, np.ndarray] = {}
        self._curves: list[tuple[pg.PlotDataItem, str | None, str, Qt.PenStyle]] = []
        self._named: list[list] = []  # what the key lists: [item, colour, pen style, name]
        self._lines: list[tuple[pg.InfiniteLine, str | None, Qt.PenStyle]] = []
        self.style = PlotStyle()
        self.max_labels = 6  # y tick labels that fit the data area's height
        self.bottom_height = 40

    # ---- building -----------------------------------------------------------------------------

    def curve(self, colour: str | None, role: str = "main", dashed: bool = False, name: str | None = None,
              pen_style: Qt.PenStyle | None = None) -> pg.PlotDataItem:
        """A curve whose width follows the style: ``main`` curves thick, ``thin`` ones thin;
        solid, ``dashed``, or ``pen_style`` (dotted); colour None follows the theme (muted).
        A named curve is listed in the key (once it has data: a key names what is drawn)."""
        item = self.plot.plot()
        item.setClipToView(True)
        item.setDownsampling(auto=True, method="mean")
        pen_style = pen_style or (Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        self._curves.append((item, colour, role, pen_style))
        self._pen(item, colour, role, pen_style)
        if name is not None:
            self._named.append([item, colour, pen_style, name])
        return item

    def remove_curve(self, item: pg.PlotDataItem) -> None:
        """Take a curve off the plot and out of the key (a model without that gate)."""
        self.plot.removeItem(item)
        self._curves = [entry for entry in self._curves if entry[0] is not item]
        self._named = [entry for entry in self._named if entry[0] is not item]

    def line(self, angle: int = 0, colour: str | None = None, style=Qt.PenStyle.DashLine,
             label: str | None = None) -> pg.InfiniteLine:
        """A reference line (baseline, clipping threshold); colour None follows the theme.
        A ``label`` goes in the key above the plot: on the line it was cut off at the plot's
        edge or covered the curve it explains."""
        line = pg.InfiniteLine(angle=angle)
        self.plot.addItem(line)
        self._lines.append((line, colour, style))
        self._line_pen(line, colour, style)
        if label is not None:
            self.add_legend()
            self._named.append([line, colour, style, label])
        return line

    def set_line_label(self, line: pg.InfiniteLine, label: str) -> None:
        for entry in self._named:
            if entry[0] is line:
                entry[3] = label
        self.refresh_key()

    def add_legend(self, columns: int = 1) -> None:
        """A key above the plot (``columns`` is kept for callers; the key wraps as it must)."""
        if self.key is None:
            self.key = Caption("", justify="left")
            self.addItem(self.key, 0, 0)
            self.layout.setRowStretchFactor(0, 0)

    def refresh_key(self) -> bool:
        """List the named curves that have data; True if the key's text changed."""
        if self.key is None:
            return False
        entries = []
        for item, colour, pen_style, name in self._named:
            if not _shows(item):
                continue
            colour = colour or self.style.theme.muted
            sample = KEY_SAMPLES.get(pen_style, KEY_SAMPLES[Qt.PenStyle.SolidLine])
            entries.append(f"<span style='color:{colour}'><b>{sample}</b></span>&nbsp;{html.escape(name)}")
        text = " &nbsp; ".join(entries) or "&nbsp;"
        if text == getattr(self.key, "html_text", None):
            return False
        self.key.html_text = text
        self.key.setText(text, color=self.style.theme.foreground, size=f"{self.style.font_px}px")
        self.key.updateMin()
        return True

    def key_names(self) -> list[str]:
        """The names the key shows now."""
        return [name for item, _, _, name in self._named if _shows(item)]

    # ---- style --------------------------------------------------------------------------------

    def apply_style(self, style: PlotStyle) -> None:
        self.style = style
        theme = style.theme
        font = pixel_font(style.font_px)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(theme.foreground))
            axis.setTextPen(pg.mkPen(theme.foreground))
            axis.setTickFont(font)
        self.set_axis_labels()
        # Tick labels, then the x label clear of them (pyqtgraph's own height lets a large
        # label run into the tick labels).
        line = QFontMetricsF(font).height()
        self.bottom_height = math.ceil(2 * line + 3)
        self.plot.getAxis("bottom").setHeight(self.bottom_height)
        # Room for six tick characters and the rotated label: every plot's data area starts
        # at the same x, so the columns' plots line up.
        self.plot.getAxis("left").setWidth(math.ceil(0.62 * style.font_px * LEFT_AXIS_CHARS + 1.4 * style.font_px + 10))
        # Room for what the axes draw past their ends: the top tick label reaches half a line
        # above the data area, the x label 5 px below its axis.
        clear = clearance(style)
        self.layout.setContentsMargins(0, 0 if self.key is not None else clear, 0, 0)
        self.layout.setRowSpacing(0, clear)
        self.show_caption(self.caption.shown)
        self.set_caption(self.caption_text)
        for item, colour, role, pen_style in self._curves:
            self._pen(item, colour, role, pen_style)
        for line, colour, pen_style in self._lines:
            self._line_pen(line, colour, pen_style)
        if self.key is not None:
            self.key.html_text = None
            self.refresh_key()

    def show_caption(self, shown: bool) -> None:
        """Show or hide the caption; a hidden one takes no room. A shown one keeps at least 6 px
        under the x label, which pyqtgraph draws about a third of a line past the axis's bottom
        (the sweep's caption in presentation mode sat 2 px under it: the lesson's scene 8)."""
        self.caption.set_shown(shown)
        self.layout.setRowSpacing(1, 6 + math.ceil(0.35 * self.style.font_px) if shown else 0)

    def set_caption(self, text: str) -> None:
        """The caption under the plot, in the style's colour and size."""
        self.caption_text = text
        self.caption.setText(html.escape(text), color=self.style.theme.muted, size=f"{self.style.caption_px}px")
        self.caption.updateMin()

    def set_axis_labels(self, room: float | None = None) -> None:
        """Axis labels at the style's size; the y label shortened (or left out) where it is
        longer than ``room``, the data area's height."""
        label_style = {"color": self.style.theme.foreground, "font-size": f"{self.style.font_px}px"}
        font = pixel_font(self.style.font_px)
        y_label = self.y_label if room is None else fitting_label(font, room, self.y_label, self.y_short)
        self.plot.getAxis("bottom").setLabel(self.x_label, **label_style)
        left = self.plot.getAxis("left")
        left.setLabel(y_label, **label_style)
        left.showLabel(bool(y_label))

    def _pen(self, item: pg.PlotDataItem, colour: str | None, role: str, pen_style: Qt.PenStyle) -> None:
        width = self.style.line_width if role == "main" else self.style.thin_width
        item.setPen(pg.mkPen(colour or self.style.theme.muted, width=width, style=pen_style))
        # A curve of one point draws no line: ``mark_lone_point`` shows it as a dot of this look.
        item.opts.update(symbolBrush=pg.mkBrush(colour or self.style.theme.muted), symbolPen=None,
                         symbolSize=3 * width)

    @staticmethod
    def mark_lone_point(item: pg.PlotDataItem, values: np.ndarray) -> None:
        """A dot where ``values`` has one finite point (a line needs two: the loss at step 0)."""
        symbol = "o" if np.count_nonzero(np.isfinite(values)) == 1 else None
        if item.opts["symbol"] != symbol:
            item.setSymbol(symbol)

    def _line_pen(self, line: pg.InfiniteLine, colour: str | None, style: Qt.PenStyle) -> None:
        colour = colour or self.style.theme.muted
        line.setPen(pg.mkPen(colour, width=self.style.thin_width, style=style))


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
        self.font_px = 12

    def hide(self) -> None:
        """Clear the read-out (a reset, or a picture being taken: it belongs to the cursor)."""
        self.text.setVisible(False)

    def connect(self, scene) -> None:
        """Listen to the mouse in ``scene`` (the plot may join it later)."""
        if self._proxy is None:
            self._proxy = pg.SignalProxy(scene.sigMouseMoved, rateLimit=30, slot=self._moved)

    def _moved(self, event) -> None:
        (position,) = event
        if not self.plot.isVisible() or not self.plot.sceneBoundingRect().contains(position):
            self.text.setVisible(False)
            return
        point = self.plot.vb.mapSceneToView(position)
        message = self.describe(point.x(), point.y())
        if not message:
            self.text.setVisible(False)
            return
        (x0, _), (_, y1) = self.plot.vb.viewRange()
        self.text.setFont(pixel_font(self.font_px))
        self.text.setText(message)
        self.text.setPos(QPointF(x0, y1))
        self.text.setVisible(True)


def bar_ticks(low: float, high: float, most: int = 5) -> list[tuple[float, str]]:
    """At most ``most`` round tick values from ``low`` to ``high`` (a colour bar's labels)."""
    span = high - low
    if not math.isfinite(span) or span <= 0:
        return [(low, f"{low:g}")]
    for step in (10.0 ** e * f for e in range(math.floor(math.log10(span / most)) - 1, 20) for f in (1, 2, 5)):
        first = math.ceil(low / step - 1e-9)
        last = math.floor(high / step + 1e-9)
        if last - first + 1 <= most:
            return [(k * step, f"{k * step:.6g}") for k in range(first, last + 1)]
    return [(low, f"{low:g}"), (high, f"{high:g}")]


class Heatmap:
    """An ImageItem in a panel with a colour bar, fixed levels and a hover read-out.

    ``set(values, rect, levels)`` shows ``values`` (rows along y, columns along x) stretched
    over the data rectangle ``rect``.
    """

    def __init__(self, panel: Panel, colour_map: str, bar_label: str, value_name: str, bar_short: str = ""):
        self.panel = panel
        self.bar_label, self.bar_short = bar_label, bar_short
        self.room: float | None = None  # the bar's length at the last arrangement
        self.image = pg.ImageItem(axisOrder="row-major")
        self.values = np.zeros((0, 0), dtype=np.float32)
        self.rect = QRectF(0, 0, 1, 1)
        panel.plot.addItem(self.image)
        self.style = PlotStyle()
        self.bar = pg.ColorBarItem(
            values=(0, 1), colorMap=pg.colormap.get(colour_map), interactive=False, width=14
        )  # its label is set on its one axis with ticks (``set_bar_label``), not on both sides
        self.bar.setImageItem(self.image, insert_in=panel.plot)
        self.bar.axis.enableAutoSIPrefix(False)  # "(x0.001)" on a colour bar reads as part of the label
        space_tick_labels(self.bar.axis)
        self.levels = (0.0, 1.0)
        self.value_name = value_name
        self.readout = HoverReadout(panel.plot, self._describe)

    def set(self, values: np.ndarray, rect: QRectF, levels: tuple[float, float]) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.rect = rect
        self.image.setImage(self.values, autoLevels=False, levels=levels)
        self.image.setRect(rect)
        if levels != self.levels:
            self.levels = levels
            self.bar.setLevels(levels)
            self.bar.axis.setTicks([bar_ticks(*levels), []])

    def clear(self) -> None:
        self.values = np.zeros((0, 0), dtype=np.float32)
        self.image.clear()

    def apply_style(self, style: PlotStyle) -> None:
        self.style = style
        for side in ("left", "right", "top", "bottom"):
            self.bar.getAxis(side).setPen(pg.mkPen(style.theme.foreground))
        axis = self.bar.axis
        axis.setTextPen(pg.mkPen(style.theme.foreground))
        axis.setTickFont(pixel_font(style.font_px))
        axis.setWidth(math.ceil(0.62 * style.font_px * 4 + 1.4 * style.font_px + 8))
        self.readout.font_px = style.font_px
        self.set_bar_label()

    def set_bar_label(self, room: float | None = None) -> None:
        """The colour bar's label, shortened or left out where the bar is shorter than it."""
        font = pixel_font(self.style.font_px)
        self.room = room if room is not None else self.room
        text = self.bar_label if self.room is None else fitting_label(font, self.room, self.bar_label, self.bar_short)
        self.bar.axis.setLabel(text, color=self.style.theme.foreground, **{"font-size": f"{self.style.font_px}px"})
        self.bar.axis.showLabel(bool(text))

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
