"""Gradients over words: one review, shaded word by word by how much gradient reaches it.

``WordGradientView`` shows what ``gradviz.engine.words.word_gradients`` measures:

1. log10 |dL/dh_t| against the review's words (the words are the x tick labels, thinned to
   what fits), each point coloured like its word below;
2. optionally the mean gate activation per word (forget, input, ... in the app's gate colours);
3. the review's text with every word on a background from the gradient colour map (inferno:
   perceptually uniform, dark = little gradient, bright = much), with a small legend.

For an RNN the shading fades to black a few words before the end; for an LSTM that has learned
to hold its forget gates open it stays bright back to the decisive word. The view only draws:
pass it the real words (padding already left out) and their measurements.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QLabel, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from gradviz.gui.plots.base import fitting_label, pixel_font, space_tick_labels
from gradviz.gui.plots.ranges import value_span
from gradviz.gui.theme import GATE_COLOURS, GRADIENT_MAP, PlotStyle
from gradviz.plotmath import log10_or_nan  # zeros (underflow) become NaN: no colour

LEGEND_SWATCHES = 9
GRADIENT_LABEL = "log10 |dL/dh_t|"
GRADIENT_SHORT = "log10 |grad|"  # the y title where the full one is longer than the plot is high
GATE_LABEL, GATE_SHORT = "mean gate", "gate"
DECIDING = "deciding word"
PLOT_STRETCH, GATE_STRETCH = 5, 4  # the gate plot is 4/5 as high as the gradient plot above it


def _text_colour(rgb: np.ndarray) -> str:
    """Black or white, whichever reads better on a background of ``rgb`` (0-255)."""
    r, g, b = (rgb[:3] / 255.0).tolist()
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 0.45 else "#ffffff"


class WordGradientView(QWidget):
    """Per-word gradient norm (plot and shaded text) and optional gate means of one review.

    ``show_review(tokens, grad_norms, gates)`` draws; ``data`` holds the plotted arrays by name
    (``t``, ``log10_grad``, ``gate/<name>``) and ``html`` the shaded text, for export and tests.
    ``show(tokens, grad_norms, gates)`` is the same call; ``show()`` with no arguments is still
    QWidget.show. ``apply_style`` sets the fonts and colours (presentation mode's too).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.colour_map = pg.colormap.get(GRADIENT_MAP)
        self.style = PlotStyle()
        self.tokens: list[str] = []
        self.tick_stride = 1  # one word label every this many words
        self.ticks: list[tuple[float, str]] = []  # the word labels on the x axis
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.data: dict[str, np.ndarray] = {}
        self.html = ""
        self.marked: int | None = None
        self.gate_bottom = 0.0  # the gate axis's lowest tick: 0, or -1 with a tanh candidate

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self._build_word_plot(layout)
        self._build_gate_plot(layout)

        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        # The review is read, not scrolled: the box is as high as its text (``_fit_text``), the
        # plots take what is left.
        self.text.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.text, 0)
        self.apply_style(self.style)

    def _build_word_plot(self, layout: QVBoxLayout) -> None:
        """The gradient reaching each word, a dot per word, and the deciding word's marker."""
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.curve = self.plot.plot(pen=pg.mkPen("#888888", width=1), symbol="o", symbolSize=7)
        # The deciding word, marked where it is whatever the labels around it (a line, labelled).
        self.marker = pg.InfiniteLine(angle=90, movable=False, label=DECIDING,
                                      labelOpts={"position": 0.98, "anchors": [(0, 0), (0, 0)]})
        self.marker.setVisible(False)
        self.plot.addItem(self.marker, ignoreBounds=True)
        layout.addWidget(self.plot, PLOT_STRETCH)

    def _build_gate_plot(self, layout: QVBoxLayout) -> None:
        """Below it, the gates' means per word (gated cells only) and their key above it."""
        self.gate_plot = pg.PlotWidget()
        self.gate_plot.setMenuEnabled(False)
        self.gate_plot.hideButtons()
        self.gate_plot.showGrid(x=False, y=True, alpha=0.25)
        self.gate_plot.setMouseEnabled(x=True, y=False)
        self.gate_plot.setXLink(self.plot)
        self.gate_curves: dict[str, pg.PlotDataItem] = {}
        self.gate_marker = pg.InfiniteLine(angle=90, movable=False)
        self.gate_marker.setVisible(False)
        self.gate_plot.addItem(self.gate_marker, ignoreBounds=True)
        self.gate_plot.setVisible(False)
        for plot in (self.plot, self.gate_plot):
            space_tick_labels(plot.getAxis("left"))  # projector-sized ticks on a short plot never overprint
            # The data area settles after the widget's resize: fit the titles and gate range to it then.
            plot.getViewBox().sigResized.connect(self._data_area_resized)
        # The key above the plot, not a legend in it: a short plot has no room for one.
        self.gate_key = QLabel("")
        self.gate_key.setWordWrap(True)  # one line of it held the Words tab wider than a 1024-pixel screen
        self.gate_key.setVisible(False)
        layout.addWidget(self.gate_key)
        layout.addWidget(self.gate_plot, GATE_STRETCH)

    # ---- style --------------------------------------------------------------------------

    def apply_style(self, style: PlotStyle) -> None:
        """Fonts, colours and line widths of ``style`` (the desk's or the projector's)."""
        self.style = style
        font = pixel_font(style.font_px)
        theme = style.theme
        for plot in (self.plot, self.gate_plot):
            plot.setBackground(theme.background)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(theme.foreground))
                axis.setTextPen(pg.mkPen(theme.foreground))
                axis.setTickFont(font)
            # pyqtgraph sizes the axes for its default font: room for the ticks and the title.
            line = QFontMetricsF(font).height()
            plot.getAxis("left").setWidth(math.ceil(QFontMetricsF(font).horizontalAdvance("-10.0") + 1.4 * line + 10))
        for marker in (self.marker, self.gate_marker):
            marker.setPen(pg.mkPen(theme.foreground, width=style.thin_width, style=Qt.PenStyle.DashLine))
        self.marker.label.setColor(theme.foreground)
        self.marker.label.setFont(font)
        for name, curve in self.gate_curves.items():
            curve.setPen(pg.mkPen(GATE_COLOURS.get(name, "#aaaaaa"), width=style.line_width))
        for widget in (self.caption, self.gate_key, self.text):
            widget.setFont(font)
        self.text.document().setDefaultFont(font)
        self._set_axis_titles()
        self._update_ticks()
        if self.tokens:
            self.text.setHtml(self.html)
        self._fit_text()

    def _set_axis_titles(self) -> None:
        """The y titles at the style's size, shortened where the plot is not high enough for
        the whole title (a clipped title reads as another word)."""
        label_style = {"color": self.style.theme.foreground, "font-size": f"{self.style.font_px}px"}
        font = pixel_font(self.style.font_px)
        titles = ((self.plot, GRADIENT_LABEL, GRADIENT_SHORT), (self.gate_plot, GATE_LABEL, GATE_SHORT))
        for plot, title, short in titles:
            room = plot.getViewBox().height() or plot.height()
            text = fitting_label(font, room, title, short)
            plot.getAxis("left").setLabel(text, **label_style)
            plot.getAxis("left").showLabel(bool(text))

    def _x_title(self) -> str:
        return "word" if self.tick_stride == 1 else f"word (one label every {self.tick_stride} words)"

    def fixed_height(self) -> int:
        """The height of what is not a plot's data (caption, gate key, review text, the x axes,
        margins): what this view needs before its plots' data areas get any."""
        layout = self.layout()
        parts = [self.caption, self.gate_key, self.text]
        shown = [part for part in parts if part.isVisibleTo(self)]
        margins = layout.contentsMargins()
        spacing = layout.spacing() * (len(shown) + 1)
        heights = [part.height() if part is self.text else part.heightForWidth(max(self.width(), 100))
                   for part in shown]
        axes = sum(plot.getAxis("bottom").height() for plot in (self.plot, self.gate_plot) if plot.isVisibleTo(self))
        return sum(max(height, 0) for height in heights) + margins.top() + margins.bottom() + spacing + round(axes)

    def _fit_text(self) -> None:
        """The review box as high as its text at the current width (a scroll bar only past
        two thirds of the view's height: the plots keep a third)."""
        document = self.text.document()
        document.setTextWidth(self.text.viewport().width())
        needed = math.ceil(document.size().height() + 2 * self.text.frameWidth() + 4)
        self.text.setFixedHeight(max(40, min(needed, max(80, 2 * self.height() // 3))))

    # ---- drawing ------------------------------------------------------------------------

    def show(self, tokens: list[str] | None = None, grad_norms: np.ndarray | None = None,
             gates: dict[str, np.ndarray] | None = None, **options) -> None:
        """``show(tokens, grad_norms, gates)`` draws a review; plain ``show()`` shows the widget."""
        if tokens is None and grad_norms is None:
            super().show()
            return
        self.show_review(tokens or [], grad_norms if grad_norms is not None else np.empty(0), gates, **options)

    def show_review(
        self,
        tokens: list[str],
        grad_norms: np.ndarray,
        gates: dict[str, np.ndarray] | None = None,
        levels: tuple[float, float] | None = None,
        caption: str = "",
        marked: int | None = None,
    ) -> None:
        """Draw one review: ``tokens`` (n words), ``grad_norms`` (n,) |dL/dh_t| per word,
        ``gates`` name -> (n,) mean activation. ``levels`` fixes the colour range in log10
        (to compare two models on one scale); by default it spans this review's values.
        ``marked`` is the synthetic review's deciding word: underlined in the text, and
        labelled on the x axis and by a line in the plots whatever the labels around it."""
        grad_norms = np.asarray(grad_norms, dtype=np.float64).ravel()
        if len(tokens) != len(grad_norms):
            raise ValueError(f"{len(tokens)} tokens but {len(grad_norms)} gradient norms")
        self.tokens = list(tokens)
        self.marked = marked if marked is not None and 0 <= marked < len(tokens) else None
        logs = log10_or_nan(grad_norms)
        steps = np.arange(1, len(tokens) + 1, dtype=np.float64)
        self.levels = levels if levels is not None else value_span(logs)
        colours = self._colours(logs)
        self.data = {"t": steps, "log10_grad": logs}

        brushes = [pg.mkBrush(*c) if c is not None else pg.mkBrush(0, 0, 0, 0) for c in colours]
        self.curve.setData(steps, logs, symbolBrush=brushes, connect="finite")
        self.plot.setXRange(0.5, max(1.5, len(tokens) + 0.5), padding=0)
        finite = logs[np.isfinite(logs)]
        if len(finite):
            low, high = float(finite.min()), float(finite.max())
            margin = max(0.2, 0.05 * (high - low))
            self.plot.setYRange(low - margin, high + margin, padding=0)
        for marker in (self.marker, self.gate_marker):
            marker.setVisible(self.marked is not None)
            if self.marked is not None:
                marker.setValue(self.marked + 1.0)
        self._show_gates(steps, gates or {})
        self._update_ticks()
        self.caption.setText(caption)
        self.caption.setVisible(bool(caption))
        self.html = self._review_html(colours) + self._legend_html()
        self.text.setHtml(self.html)
        self._fit_text()

    def _colours(self, logs: np.ndarray) -> list[np.ndarray | None]:
        """RGBA (0-255) per word from the colour map at fixed levels; None where NaN."""
        low, high = self.levels
        scaled = np.clip((logs - low) / (high - low), 0.0, 1.0)
        mapped = self.colour_map.map(np.nan_to_num(scaled), mode="byte")
        return [None if math.isnan(v) else mapped[i] for i, v in enumerate(logs)]

    def _show_gates(self, steps: np.ndarray, gates: dict[str, np.ndarray]) -> None:
        for name in list(self.gate_curves):
            if name not in gates:
                self.gate_plot.removeItem(self.gate_curves.pop(name))
        lowest = 0.0
        for name, values in gates.items():
            values = np.asarray(values, dtype=np.float64).ravel()
            if len(values) != len(steps):
                raise ValueError(f"gate {name!r} has {len(values)} values for {len(steps)} tokens")
            curve = self.gate_curves.get(name)
            if curve is None:
                colour = GATE_COLOURS.get(name, "#aaaaaa")
                curve = self.gate_plot.plot(pen=pg.mkPen(colour, width=self.style.line_width), name=name)
                self.gate_curves[name] = curve
            curve.setData(steps, values)
            self.data[f"gate/{name}"] = values
            if len(values):
                lowest = min(lowest, float(np.nanmin(values)))
        # Gates live in [0, 1] (a tanh candidate in [-1, 1]): three ticks say all of it, and do
        # not overprint on a short plot with projector-sized text.
        self.gate_bottom = -1.0 if lowest < 0 else 0.0
        ticks = ([(-1.0, "-1"), (0.0, "0"), (1.0, "1")] if self.gate_bottom < 0
                 else [(0.0, "0"), (0.5, "0.5"), (1.0, "1")])
        self.gate_plot.getAxis("left").setTicks([ticks, []])
        self._fit_gate_range()
        self.gate_plot.setVisible(bool(gates))
        swatches = [f"<span style='color:{GATE_COLOURS.get(name, '#aaaaaa')}'>&#9644;&nbsp;{html.escape(name)}</span>"
                    for name in gates]
        key = " &nbsp; ".join(swatches)
        self.gate_key.setText(f"mean gate per word: {key}")
        self.gate_key.setVisible(bool(gates))

    def _data_area_resized(self, *_) -> None:
        self._set_axis_titles()
        self._fit_gate_range()

    def _fit_gate_range(self) -> None:
        """The gate axis from its lowest tick to 1, with half a text line to spare at each end:
        pyqtgraph leaves out a tick label that would stick out of the plot."""
        height = max(self.gate_plot.getViewBox().height(), 1.0)
        share = min(0.3, 0.6 * QFontMetricsF(pixel_font(self.style.font_px)).height() / height)
        span = 1.0 - self.gate_bottom
        pad = span * share / (1.0 - 2.0 * share)
        self.gate_plot.setYRange(self.gate_bottom - pad, 1.0 + pad, padding=0)

    def _update_ticks(self) -> None:
        """Word labels on the x axis, every k-th one so that they do not overlap, and the
        deciding word's always (its neighbours' labels make room)."""
        count = len(self.tokens)
        if not count:
            self.ticks = []
            self._arrange_x_axes()
            return
        metrics = QFontMetricsF(pixel_font(self.style.font_px))
        width = max(100, self.plot.getViewBox().width() or self.plot.width())
        shown = [token[:12] for token in self.tokens]
        typical = float(np.percentile([metrics.horizontalAdvance(t) for t in shown], 90))
        label_px = typical + metrics.horizontalAdvance("  ")
        stride = max(1, math.ceil(count * label_px / width))
        chosen = list(range(0, count, stride))
        if self.marked is not None:
            chosen = sorted([i for i in chosen if abs(i - self.marked) >= stride] + [self.marked])
        self.ticks = [(i + 1.0, shown[i]) for i in chosen]
        self.tick_stride = stride
        self._arrange_x_axes()

    def _arrange_x_axes(self) -> None:
        """The words under the lowest plot only (the gate plot, where there is one: it shares
        the gradient plot's x), with the x title at the desk; the plot above keeps its tick
        marks and gives the labels' height to its data. In presentation mode the words say
        what the axis is, and the title's line goes to the plots."""
        line = QFontMetricsF(pixel_font(self.style.font_px)).height()
        lowest = self.gate_plot if self.gate_plot.isVisibleTo(self) else self.plot
        for plot in (self.plot, self.gate_plot):
            axis = plot.getAxis("bottom")
            axis.setTicks([self.ticks, []])
            words = plot is lowest
            axis.setStyle(showValues=words)
            titled = words and not self.style.lecture
            axis.setHeight(math.ceil((2 * line + 3) if titled else (line + 6) if words else 4))
            plot.setLabel("bottom", self._x_title() if titled else None, color=self.style.theme.foreground,
                          **{"font-size": f"{self.style.font_px}px"})
            axis.showLabel(titled)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_text()
        self._update_ticks()
        self._set_axis_titles()
        self._fit_gate_range()

    # ---- the shaded text ----------------------------------------------------------------

    def _review_html(self, colours: list[np.ndarray | None]) -> str:
        spans = []
        for index, (token, colour) in enumerate(zip(self.tokens, colours, strict=True)):
            text = html.escape(token)
            if index == self.marked:
                text = f"<b><u>{text}</u></b>"
            value = self.data["log10_grad"][index]
            if colour is None:
                spans.append(f"<span style='color:#888888' title='no gradient (0)'>{text}</span>")
                continue
            background = "#{:02x}{:02x}{:02x}".format(*colour[:3].tolist())
            spans.append(
                f"<span style='background-color:{background}; color:{_text_colour(colour)}' "
                f"title='{GRADIENT_LABEL} = {value:.2f}'>&nbsp;{text}&nbsp;</span>"
            )
        return "<p style='line-height:150%'>" + " ".join(spans) + "</p>"

    def _legend_html(self) -> str:
        low, high = self.levels
        cells = []
        for i in range(LEGEND_SWATCHES):
            colour = self.colour_map.map(np.array([i / (LEGEND_SWATCHES - 1)]), mode="byte")[0]
            background = "#{:02x}{:02x}{:02x}".format(*colour[:3].tolist())
            cells.append(f"<span style='background-color:{background}'>&nbsp;&nbsp;&nbsp;</span>")
        return (
            f"<p style='font-size:small'>{GRADIENT_LABEL}: {low:.1f} {''.join(cells)} {high:.1f}"
            f" &nbsp; (dark: little gradient reaches the word; grey: none)</p>"
        )
