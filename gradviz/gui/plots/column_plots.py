"""One model's column of plots, built and arranged (``ColumnPlots``); ``column.py`` paints
frames into them. Top to bottom:

1. loss and task metric over training, with the task's memoryless baseline;
2. gradient through time now: log10 |dL/dh_t| of each sequence's decision loss against
   timestep t (and C_t for an LSTM; a thin line for the whole loss where it differs), with
   the timesteps truncation cut off shaded and named;
3. its history: training step x timestep heatmap of the same log norm;
4. a gate (or C_t, h_t) of one sample as a timestep x unit heatmap, and every gate's mean
   per timestep;
5. per-parameter gradient norms before clipping, the measured gain per step back beside
   the spectral radius of W_hh (vanilla RNN) or the per-step Jacobian norm that bounds the
   gain (gated cells), and half-life.

Here: the panels, their style, which rows show at what height, the range of each axis, and
the hover text. Each plot is a ``Panel`` whose ``data`` holds exactly the arrays it shows.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from gradviz.gui.plots.base import Heatmap, HoverReadout, Panel, clearance, pixel_font
from gradviz.gui.plots.header import HEADER_GAP_PX, HeaderLabel
from gradviz.gui.plots.note import PlotNote
from gradviz.gui.plots.ranges import log_ticks
from gradviz.gui.theme import GATE_MAP, GRADIENT_MAP, PlotStyle, model_colour
from gradviz.probes.causes import TRUNCATED, describe_cause

GATE_TITLES = {
    "forget": "forget gate f_t",
    "input": "input gate i_t",
    "output": "output gate o_t",
    "cell": "candidate C~_t",
    "cell_state": "cell state C_t",
    "update": "update gate z_t",
    "reset": "reset gate r_t",
    "new": "candidate n_t",
    "hidden": "hidden state h_t",
}
DOT = Qt.PenStyle.DotLine
GRADIENT_TOOLTIP = (
    "Mean over the batch of |dl_i/dh_t|: the gradient of each sequence's own decision loss l_i "
    "(the outputs that need memory: the final output; the copy task's answer steps; the names "
    "task's name positions), not of the batch-mean loss. It is B times the batch-mean loss's "
    "gradient, so batch size does not move the curve."
)
# The thick line is the gain the plotted gradient took per step back (measured); the thin one
# only bounds it (a 2.7 bound beside a 1.04 gain), or is the lecture's criterion (rho(W_hh)),
# or the factor of the LSTM's carousel path alone (C_t's gradient also flows through h_t).
FACTOR_CAPTIONS = {
    "rnn": "Thick: measured gain per step back. Thin: rho(W_hh), > 1 can explode; not the gain.",
    "lstm": "Thick: measured gain per step back on C_t. Thin: max f_t, the carousel path's factor alone.",
    "gru": "Thick: measured gain per step back. Thin: the bound |dh_t/dh_{t-1}| per step.",
}

PANEL_NAMES = ("loss", "metric", "gradient", "history", "gates", "gate_means", "grad_norms", "spectral_radius",
               "half_life")


def _panel_overhead(panel: Panel) -> float:
    """A panel's height beyond its data area, from its parts' minimum heights."""
    parts = [panel.bottom_height, clearance(panel.style)]
    if panel.caption.shown:
        parts += [panel.caption.minimumHeight(), 6]
    if panel.key is not None:
        parts.append(panel.key.minimumHeight())
    return sum(parts) + 2


class ColumnPlots(QWidget):
    """The plots of one model's column, built and arranged: header, panels, rows and their
    heights, style, axis ranges and hover text. ``ModelColumn`` (column.py) paints into them.

    The header is a plain QLabel outside the plot scene: changing its text every frame must
    not re-run the layout of every plot.
    """

    def __init__(self, index: int, metric_name: str = "metric", parent=None):
        super().__init__(parent)
        self.index = index
        self.colour = model_colour(index)
        self.style = PlotStyle()
        self._ranges: dict[tuple[str, str], tuple[float, float]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.header = HeaderLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)  # a long header must wrap, not widen the window
        # Clear of the next column's header: two headers ran into each other ("halves every LSTM").
        # A layout's margin, not the label's: the label's own contents margins were reset to 0.
        header_row = QHBoxLayout()
        header_row.setContentsMargins(0, 0, HEADER_GAP_PX, 0)
        header_row.addWidget(self.header)
        layout.addLayout(header_row)
        self.graphics = pg.GraphicsLayoutWidget()
        layout.addWidget(self.graphics, 1)
        self.panels: dict[str, Panel] = {}
        self._build(metric_name)
        self.apply_style(self.style)

    def _panel(self, name: str, caption: str, x_label: str, y_label: str, y_short: str = "") -> Panel:
        panel = Panel(name, caption, x_label, y_label, y_short)
        self.panels[name] = panel
        return panel

    def _build(self, metric_name: str) -> None:
        self.top = self._build_loss_row(metric_name)
        self._build_gradient()
        self._build_heatmaps()
        bottom = self._build_diagnostics()
        # Axis labels reach 5 px past their axes (pyqtgraph's nudge): room for it on the edges.
        self.graphics.ci.layout.setContentsMargins(6, 2, 6, 6)
        self.graphics.ci.layout.setVerticalSpacing(4)

        self.narrow = (self.metric_panel, self.spectral, self.half_life)
        self.rows = {"loss": self.top, "gradient": self.gradient, "history": self.history, "gates": self.gates,
                     "gate_means": self.gate_means, "diagnostics": bottom}
        self.row_panels = {"loss": [self.loss, self.metric_panel], "gradient": [self.gradient],
                           "history": [self.history], "gates": [self.gates], "gate_means": [self.gate_means],
                           "diagnostics": [self.grad_norms, self.spectral, self.half_life]}
        self.shown_rows: tuple[str, ...] = ()
        self.beside: str | None = None
        self.set_rows({"loss": 100.0, "gradient": 100.0}, beside="metric")
        for readout in self.readouts():
            readout.connect(self.graphics.scene())

    def _build_loss_row(self, metric_name: str) -> pg.GraphicsLayout:
        """Row 1: the loss with its baseline, and beside it the metric (or a third plot)."""
        colour = self.colour
        top = pg.GraphicsLayout()
        self.loss = self._panel("loss", "Loss; dashed: memoryless baseline. Below it, the model remembers.",
                                "training step", "loss")
        self.loss.plot.setLogMode(y=True)
        self.loss_curve = self.loss.curve(colour, name="loss")
        self.baseline_line = self.loss.line(label="baseline")
        self.metric_panel = self._panel("metric", f"{metric_name}", "training step", "metric")
        self.metric_curve = self.metric_panel.curve(colour, role="thin")
        self.metric_baseline = self.metric_panel.line()
        self.metric_panel.plot.setYRange(0, 1)
        top.addItem(self.loss, 0, 0)  # and beside it the metric, or a third plot (set_rows)
        top.layout.setContentsMargins(0, 0, 0, 0)
        top.layout.setColumnStretchFactor(0, 2)
        top.layout.setColumnStretchFactor(1, 1)
        return top

    def _build_gradient(self) -> None:
        """Row 2: the gradient through time now, and the shade of the timesteps truncation cut."""
        colour = self.colour
        self.gradient = self._panel(
            "gradient", "How much gradient of the decision reaches step t, per sequence.",
            "timestep t", "log10 |dL/dh_t|", "log10")
        self.gradient.plot.getAxis("left").setToolTip(GRADIENT_TOOLTIP)
        self.gradient.add_legend()
        self.profile_h = self.gradient.curve(colour, name="|dL/dh_t|")
        # The key lists a line only while it has data: C_t (LSTM), the whole loss (copy, names).
        self.profile_c = self.gradient.curve(colour, dashed=True, name="|dL/dC_t|")
        # The whole loss's line must not pass for the answers' one: grey, dotted, as thick.
        self.profile_all = self.gradient.curve(None, pen_style=Qt.PenStyle.DotLine, name="|dL/dh_t|, whole loss")
        self.profile_readout = HoverReadout(self.gradient.plot, self._describe_profile)
        # Timesteps truncation cut off: shaded and named in the plot (they were blank, and looked
        # like a gradient that vanished), below the curves.
        self.cut_region = pg.LinearRegionItem(values=(0, 0), movable=False)
        self.cut_region.setZValue(-20)
        self.cut_region.setVisible(False)
        self.gradient.plot.addItem(self.cut_region, ignoreBounds=True)
        self.cut_label = pg.TextItem(anchor=(0.5, 0))
        self.cut_label.setVisible(False)
        self.gradient.plot.addItem(self.cut_label, ignoreBounds=True)
        self.gradient.plot.vb.sigResized.connect(self._place_cut_label)
        self.gradient.plot.vb.sigYRangeChanged.connect(self._place_cut_label)
        self.diverged_note = PlotNote(self.gradient.plot)  # a diverged model: when, and why one dot

    def _build_heatmaps(self) -> None:
        """Rows 3 and 4: the gradient's history, one sequence's gate, and the gates' means."""
        self.history = self._panel("history", "The same over training: where the model can learn.",
                                   "timestep t", "training step", "step")
        self.history_map = Heatmap(self.history, GRADIENT_MAP, "log10 |dL/dh_t|", "log10 |dL/dh_t|", "log10")
        self.history_map.readout.describe = self._describe_history  # says why a cell is empty

        self.gates = self._panel("gates", "One sequence's activations, per unit and timestep.", "timestep t",
                                 "unit")
        self.gate_map = Heatmap(self.gates, GATE_MAP, "activation", "activation")

        self.gate_means = self._panel("gate_means", "Means over batch and units, per timestep.",
                                      "timestep t", "mean")
        self.gate_means.add_legend(columns=4)
        self.gate_means_curves: dict[str, pg.PlotDataItem] = {}

    def _build_diagnostics(self) -> pg.GraphicsLayout:
        """Row 5: gradient norms with the clip, the gain per step back (or its bound), the half-life."""
        colour = self.colour
        bottom = pg.GraphicsLayout()
        self.grad_norms = self._panel("grad_norms", "Norms before clipping; dotted: clip.",
                                      "training step", "|grad|")
        self.grad_norms.plot.setLogMode(y=True)
        self.grad_norms.add_legend()
        self.norm_curves: dict[str, pg.PlotDataItem] = {}
        self.clip_line = self.grad_norms.line(style=DOT, label="clip")
        self.spectral = self._panel("spectral_radius", FACTOR_CAPTIONS["rnn"], "training step", "rho")
        self._factor_kind = "rnn"
        self.spectral.line(style=DOT).setValue(1.0)
        self.gain_curve = self.spectral.curve(colour)
        self.radius_curves: list[pg.PlotDataItem] = []
        self.half_life = self._panel("half_life", "Gradient half-life, steps; \u25b2 on top: flat, no decay.",
                                     "training step", "timesteps", "steps")
        self.half_life_curve = self.half_life.curve(colour, role="thin")
        # Records whose profile is flat (an infinite half-life: the LSTM's cell path once it has
        # learned) have no point on the scale: marks along the plot's top, not a gap.
        self.half_life_flat = self.half_life.curve(colour, role="thin", pen_style=Qt.PenStyle.NoPen)
        self.half_life_flat.setSymbol("t1")
        for position, panel in enumerate((self.grad_norms, self.spectral, self.half_life)):
            bottom.addItem(panel, 0, position)
        bottom.layout.setContentsMargins(0, 0, 0, 0)
        bottom.layout.setColumnStretchFactor(0, 2)
        return bottom

    # ---- style --------------------------------------------------------------------------------

    def apply_style(self, style: PlotStyle) -> None:
        """Fonts, colours and widths of ``style``; ``ModelColumn`` then redraws what it painted."""
        self.style = style
        self.graphics.setBackground(style.theme.background)
        for panel in self.panels.values():
            panel.apply_style(style)
        for heatmap in (self.history_map, self.gate_map):
            heatmap.apply_style(style)
        # A font, not a style sheet: a rich-text QLabel kept laying its text out in the style
        # sheet's previous size (a header twice as high after leaving presentation mode).
        self.header.setFont(pixel_font(style.font_px))
        self.header.setMinimumHeight(0)  # measured again at the new size
        self.header.setMaximumHeight(16777215)
        for panel in self.panels.values():
            panel.show_caption(not style.lecture)  # the key and the lecturer say it
        shade = QColor(style.theme.muted)
        shade.setAlpha(60)
        self.cut_region.setBrush(pg.mkBrush(shade))
        for line in self.cut_region.lines:
            line.setPen(pg.mkPen(style.theme.muted, width=style.thin_width, style=DOT))
        self.cut_label.setColor(style.theme.foreground)
        self.cut_label.setFont(pixel_font(style.font_px))
        self._place_cut_label()
        self.diverged_note.apply_style(style)

    # ---- rows -------------------------------------------------------------------------------

    def row_overheads(self) -> dict[str, float]:
        """Each row's height beyond its data area (key, axis, caption, title): its minimum
        height as laid out now for the rows shown (a data area's minimum is 0), estimated from
        its parts for the others."""
        overheads = {}
        for row, item in self.rows.items():
            if row in self.shown_rows:
                overheads[row] = item.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
            else:
                overheads[row] = max(_panel_overhead(panel) for panel in self._row_members(row, self.beside))
        return overheads

    def _row_members(self, row: str, beside: str | None) -> list[Panel]:
        """The panels a row shows: the loss row holds the loss and what stands beside it."""
        if row == "loss":
            return [self.loss] + ([self._beside_panel(beside)] if beside else [])
        return self.row_panels[row]

    def _beside_panel(self, beside: str | None) -> Panel | None:
        return None if beside is None else self.metric_panel if beside == "metric" else self.rows[beside]

    def set_rows(self, heights: dict[str, float], beside: str | None = "metric") -> None:
        """Show the rows in ``heights`` (name: data-area height), top to bottom, and no other,
        with ``beside`` (the metric, or in presentation the third plot) next to the loss:
        hidden rows leave the layout instead of keeping a squashed sliver of it."""
        grid = self.graphics.ci
        shown = tuple(heights)
        if shown != self.shown_rows or beside != self.beside:
            # Out of the loss row first (it is in the scene while shown: always), then out of
            # the grid: a panel moves between the two when presentation changes its place.
            old = self._beside_panel(self.beside)
            if old is not None:
                self.top.removeItem(old)
            for row in self.shown_rows:
                grid.removeItem(self.rows[row])
            for index in range(grid.layout.rowCount()):
                grid.layout.setRowFixedHeight(index, 0)
                grid.layout.setRowStretchFactor(index, 0)
            for index, row in enumerate(shown):
                grid.addItem(self.rows[row], row=index, col=0)
            new = self._beside_panel(beside)
            if new is not None:
                self.top.addItem(new, 0, 1)
            self.beside = beside
            members = {panel for row in shown for panel in self._row_members(row, beside)}
            for row, item in self.rows.items():
                item.setVisible(row in shown or row == beside)
            for panel in self.panels.values():
                panel.setVisible(panel in members)
            self.shown_rows = shown
        # Split the loss row by width, not by stretch: stretch only shares what is left after
        # each plot's preferred width, and a heatmap with its colour bar prefers more.
        left, _, right, _ = grid.layout.getContentsMargins()
        width = self.graphics.viewport().width() - left - right - 2
        if beside:
            width -= self.top.layout.horizontalSpacing()
        share = 2 / 3 if beside == "metric" else 1 / 2 if beside else 1.0
        for index, part in enumerate((share, 1 - share)):
            # Preferred and maximum, not fixed: a fixed width would keep the plots this wide
            # when the window shrinks, before the next arrangement.
            self.top.layout.setColumnMinimumWidth(index, 0)
            self.top.layout.setColumnPreferredWidth(index, math.floor(width * part))
            self.top.layout.setColumnMaximumWidth(index, math.floor(width * part))
        overheads = self.row_overheads()
        for index, row in enumerate(shown):
            grid.layout.setRowFixedHeight(index, heights[row] + overheads[row])
            for panel in self._row_members(row, beside):
                panel.set_axis_labels(room=heights[row] - 4)
                panel.max_labels = max(2, int(heights[row] // (1.9 * self.style.font_px)))
        for heatmap in (self.history_map, self.gate_map):
            if heatmap.panel.isVisible():
                room = heights["loss"] if heatmap.panel.name == beside else heights.get(heatmap.panel.name, 0)
                heatmap.set_bar_label(room=room - 4)
        self._ranges = {key: span for key, span in self._ranges.items() if key[1] != "y"}  # re-tick the y axes
        grid.setGeometry(self.graphics.range)  # the view sizes its central item only when it is resized

    def label_height(self, row: str) -> float:
        """The data height a row needs to show its axis titles whole, as the room reads them
        ("training step", "log10 |dL/dh_t|"), not shortened to "step" and "log10"."""
        metrics = QFontMetricsF(pixel_font(self.style.font_px))
        titles = [panel.y_label for panel in self.row_panels.get(row, [])]
        titles += [heatmap.bar_label for heatmap in (self.history_map, self.gate_map) if heatmap.panel.name == row]
        return max((metrics.horizontalAdvance(title) for title in titles if title), default=0.0) + 4

    def data_heights(self) -> dict[str, float]:
        """The data-area height of each row shown, as laid out now."""
        return {row: min(panel.plot.vb.geometry().height() for panel in self._row_members(row, self.beside))
                for row in self.shown_rows}

    # ---- axis ranges and the truncation shade ------------------------------------------------

    def _set_range(self, panel: Panel, axis: str, span: tuple[float, float]) -> None:
        """Change a range only when it really changes: a new range regenerates the axis."""
        if self._ranges.get((panel.name, axis)) != span:
            self._ranges[(panel.name, axis)] = span
            (panel.plot.setXRange if axis == "x" else panel.plot.setYRange)(*span, padding=0)

    def _set_log_range(self, panel: Panel, span: tuple[float, float]) -> None:
        """A log10 y range, labelled 1-3-10 (pyqtgraph's minor labels crowd a short plot)."""
        if self._ranges.get((panel.name, "y")) != span:
            panel.plot.getAxis("left").setTicks(log_ticks(*span, most=panel.max_labels))
        self._set_range(panel, "y", span)

    def _show_cut(self, causes: np.ndarray | None, steps: int) -> None:
        """Shade the timesteps truncation cut off and say so: "cut by truncation at k steps",
        k being the steps back the gradient still reaches (T minus the last one cut)."""
        cut = np.flatnonzero(causes == TRUNCATED) + 1 if causes is not None and len(causes) == steps else []
        if len(cut) == 0:
            self.cut_region.setVisible(False)
            self.cut_label.setVisible(False)
            self.gradient.data.pop("cut", None)
            return
        first, last = int(cut[0]), int(cut[-1])
        self.gradient.data["cut"] = (first, last)
        self.cut_region.setRegion((first - 0.5, last + 0.5))
        self.cut_region.setVisible(True)
        k = steps - last
        # The number and its unit on one line.
        self.cut_label.setText(f"cut by truncation at {k}\u00a0step{'s' if k != 1 else ''}")
        self._place_cut_label()

    def _place_cut_label(self, *_args) -> None:
        """The label at the top of the shaded steps, wrapped to their width; left out where they
        are too narrow for a word of it (the hover text still says why they are empty)."""
        if "cut" not in self.gradient.data or not self.cut_region.isVisible():
            self.cut_label.setVisible(False)
            return
        first, last = self.gradient.data["cut"]
        vb = self.gradient.plot.vb
        (_, _), (low, high) = vb.viewRange()
        left = vb.mapViewToScene(pg.Point(first - 0.5, high)).x()
        right = vb.mapViewToScene(pg.Point(last + 0.5, high)).x()
        room = right - left - 8
        words = QFontMetricsF(pixel_font(self.style.font_px))
        widest = max(words.horizontalAdvance(word) for word in self.cut_label.textItem.toPlainText().split())
        fits = room >= widest + 4
        self.cut_label.setVisible(fits)
        if fits:
            self.cut_label.textItem.setTextWidth(-1)
            natural = self.cut_label.textItem.boundingRect().width()
            self.cut_label.textItem.setTextWidth(min(natural, room))
            self.cut_label.setPos((first + last) / 2, high)

    # ---- hover text -----------------------------------------------------------------------------

    def readouts(self) -> list[HoverReadout]:
        return [self.profile_readout, self.history_map.readout, self.gate_map.readout]

    def hide_readouts(self) -> None:
        for readout in self.readouts():
            readout.hide()

    def _describe_profile(self, x: float, y: float) -> str | None:
        profile = self.gradient.data.get("log10_grad_h")
        t = int(round(x))
        if profile is None or not 1 <= t <= len(profile):
            return None
        value = profile[t - 1]
        causes = self.gradient.data.get("cause")
        if np.isnan(value):
            cause = describe_cause(causes[t - 1]) if causes is not None else ""
            shown = f"none ({cause or 'no value'})"
        else:
            shown = f"{10 ** value:.3g} (log10 {value:.2f})"
        text = f"t = {t}: |dl/dh_t| = {shown}"
        whole = self.gradient.data.get("log10_grad_h_all")
        if whole is not None and np.isfinite(whole[t - 1]):
            text += f"; whole loss {10 ** whole[t - 1]:.3g}"
        return text

    def _describe_history(self, x: float, y: float) -> str | None:
        """The history heatmap's hover text: the value, or why there is none."""
        logs, causes, steps = (self.history.data.get(key) for key in ("log10_grad_h", "cause", "step"))
        value = self.history_map.value_at(x, y)
        if value is None or logs is None or steps is None or not len(steps):
            return None
        t = min(max(int(round(x)), 1), logs.shape[1])
        row = int(np.clip(np.searchsorted(steps, y, side="right") - 1, 0, len(steps) - 1))
        cause = describe_cause(causes[row, t - 1]) if causes is not None and causes.shape == logs.shape else ""
        shown = cause if cause else f"{10 ** logs[row, t - 1]:.3g}" if np.isfinite(logs[row, t - 1]) else "no value"
        return f"step {int(steps[row])}, t {t}: |dl/dh_t| {shown}"
