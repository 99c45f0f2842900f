"""One model's column of live plots, top to bottom:

1. loss and task metric over training, with the task's memoryless baseline;
2. gradient through time now: log10 |dL/dh_t| of each sequence's decision loss against
   timestep t (and C_t for an LSTM; a thin line for the whole loss where it differs);
3. its history: training step x timestep heatmap of the same log norm;
4. a gate (or C_t, h_t) of one sample as a timestep x unit heatmap, and every gate's mean
   per timestep;
5. per-parameter gradient norms before clipping, the measured gain per step back beside
   the spectral radius of W_hh (vanilla RNN) or the per-step Jacobian norm that bounds the
   gain (gated cells), and half-life.

Each plot is a ``Panel`` whose ``data`` holds exactly the arrays it shows, for export and tests.
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gradviz.gui.plots.base import Heatmap, HoverReadout, Panel, clearance, pixel_font
from gradviz.gui.plots.ranges import stepped_range
from gradviz.gui.theme import GATE_COLOURS, GATE_MAP, GRADIENT_MAP, OKABE_ITO, PlotStyle, model_colour
from gradviz.plotmath import finite_or_nan, log10_or_nan
from gradviz.probes.causes import TRUNCATED, describe_cause
from gradviz.session.frames import ModelView, ShownProfile, last_finite_profile
from gradviz.session.headline import has_diverged, headline, recorded_gains
from gradviz.tasks import Baseline

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
# Fixed colour levels: sigmoid gates live in [0, 1], tanh outputs in [-1, 1].
GATE_LEVELS = {name: (0.0, 1.0) for name in ("forget", "input", "output", "update", "reset")}
GATE_LEVELS.update({name: (-1.0, 1.0) for name in ("cell", "new")})
DOT = Qt.PenStyle.DotLine
LOG_LABELS = 6  # at most about this many labels on a log axis
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
# Between a header's facts: bound to the fact before it (a no-break space), a break allowed after
# it: a wrapped header's line ends with the dot and never starts with one.
FACT_SEPARATOR = "&nbsp;· "
HEADER_GAP_PX = 10  # right of a header's text: the next column's header begins 6 px further on
# A symbol (|dL/dh_t|, C_t, W_hh, dh_t/dh_{t-1}) is never broken across lines.
SYMBOL = re.compile(r"[^\s]*[|_/][^\s]*")


WORD_JOINER = "\u2060"  # no line break on either side; drawn as nothing


def unbroken_symbols(text: str) -> str:
    """``text`` (html, no tags) with every symbol kept on one line: Qt breaks a line after "/"
    and "-" and before "|" (and <nobr> only keeps spaces), so word joiners bind its characters."""
    return SYMBOL.sub(lambda match: WORD_JOINER.join(match.group(0)), text)


class HeaderLabel(QLabel):
    """A column's header: rich text whose symbols never break across lines. ``text()`` is the
    text as set; ``shown_text()`` the html Qt lays out (``set_header``: symbols bound together)."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self.set_header(text, text)

    def set_header(self, text: str, shown: str) -> None:
        self._source = text
        super().setText(shown)

    def text(self) -> str:
        return getattr(self, "_source", "")

    def shown_text(self) -> str:
        return super().text()


PANEL_NAMES = ("loss", "metric", "gradient", "history", "gates", "gate_means", "grad_norms", "spectral_radius",
               "half_life")


def nice_upper(value: float) -> float:
    """The smallest of 10, 20, 50, 100, 200, 500, ... at or above ``value`` (at least 10)."""
    value = max(float(value), 10.0)
    decade = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * decade >= value:
            return factor * decade
    return 10.0 * decade


def log_ticks(low: float, high: float, most: int = LOG_LABELS) -> list[list[tuple[float, str]]]:
    """Tick labels for a log10 axis: 1-3-10 steps over a few decades, every k-th decade over
    many (a diverged loss spans 30), never pyqtgraph's crowded minor labels; about ``most``
    labels at most (a short plot holds fewer)."""
    span = high - low
    factors = (1, 3) if 2 * span <= most else (1,)
    stride = max(1, math.ceil(span / most))
    ticks = []
    for decade in range(math.floor(low), math.ceil(high) + 1):
        if decade % stride:
            continue
        for factor in factors:
            value = math.log10(factor) + decade
            if low <= value <= high:
                ticks.append((value, f"{factor * 10.0 ** decade:g}"))
    return [ticks, []]


def gate_levels(name: str, values: np.ndarray) -> tuple[float, float]:
    """Fixed levels for bounded gates; symmetric levels for C_t and h_t."""
    if name in GATE_LEVELS:
        return GATE_LEVELS[name]
    finite = values[np.isfinite(values)]
    top = max(float(np.abs(finite).max()) if finite.size else 1.0, 1e-6)
    return (0.0, top) if finite.size and finite.min() >= 0 else (-top, top)


def _panel_overhead(panel: Panel) -> float:
    """A panel's height beyond its data area, from its parts' minimum heights."""
    parts = [panel.bottom_height, clearance(panel.style)]
    if panel.caption.shown:
        parts += [panel.caption.minimumHeight(), 6]
    if panel.key is not None:
        parts.append(panel.key.minimumHeight())
    return sum(parts) + 2


class ModelColumn(QWidget):
    """All plots of one model; ``show_frame`` updates them from a ModelView.

    The header is a plain QLabel outside the plot scene: changing its text every frame must
    not re-run the layout of every plot.
    """

    def __init__(self, index: int, metric_name: str = "metric", parent=None):
        super().__init__(parent)
        self.index = index
        self.colour = model_colour(index)
        self.gate = "forget"
        self.style = PlotStyle()
        self._drawn_probes: tuple[int, bool] | None = None
        self._diverged = False  # the model diverged: its gradient plot shows its last finite profile
        self._drawn_history: tuple = (-1, -1)
        self._probe_work: tuple | None = None  # (view, ranges, clip) not drawn yet
        self._gate_title: tuple | None = None
        self._last_group = ""  # which group of probe plots draw_probes drew last
        self._ranges: dict[tuple[str, str], tuple[float, float]] = {}
        self._baseline: Baseline | None = None
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
        self.top = top

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
        self.half_life = self._panel("half_life", "Gradient half-life, steps.", "training step",
                                     "timesteps", "steps")
        self.half_life_curve = self.half_life.curve(colour, role="thin")
        for position, panel in enumerate((self.grad_norms, self.spectral, self.half_life)):
            bottom.addItem(panel, 0, position)
        bottom.layout.setContentsMargins(0, 0, 0, 0)
        bottom.layout.setColumnStretchFactor(0, 2)
        # Axis labels reach 5 px past their axes (pyqtgraph's nudge): room for it on the edges.
        self.graphics.ci.layout.setContentsMargins(6, 2, 6, 6)
        self.graphics.ci.layout.setVerticalSpacing(4)

        self.narrow = (self.metric_panel, self.spectral, self.half_life)
        self.rows = {"loss": top, "gradient": self.gradient, "history": self.history, "gates": self.gates,
                     "gate_means": self.gate_means, "diagnostics": bottom}
        self.row_panels = {"loss": [self.loss, self.metric_panel], "gradient": [self.gradient],
                           "history": [self.history], "gates": [self.gates], "gate_means": [self.gate_means],
                           "diagnostics": [self.grad_norms, self.spectral, self.half_life]}
        self.shown_rows: tuple[str, ...] = ()
        self.beside: str | None = None
        self.set_rows({"loss": 100.0, "gradient": 100.0}, beside="metric")
        for readout in self.readouts():
            readout.connect(self.graphics.scene())

    # ---- style --------------------------------------------------------------------------------

    def apply_style(self, style: PlotStyle) -> None:
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
            panel.caption.set_shown(not style.lecture)  # the key and the lecturer say it
        shade = QColor(style.theme.muted)
        shade.setAlpha(60)
        self.cut_region.setBrush(pg.mkBrush(shade))
        for line in self.cut_region.lines:
            line.setPen(pg.mkPen(style.theme.muted, width=style.thin_width, style=DOT))
        self.cut_label.setColor(style.theme.foreground)
        self.cut_label.setFont(pixel_font(style.font_px))
        self._place_cut_label()
        self.redraw_probes()

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

    # ---- updates ------------------------------------------------------------------------------

    def set_timesteps(self, steps: int) -> None:
        """Fix the x range of the per-timestep plots to 1..T (no autorange jumps)."""
        for panel in (self.gradient, self.history, self.gates, self.gate_means):
            panel.plot.setXRange(0.5, steps + 0.5, padding=0)

    def show_frame(
        self,
        view: ModelView,
        scalars: dict[str, np.ndarray],
        baseline: Baseline,
        clip: float,
        ranges: dict[str, tuple[float, float]],
        defer_probes: bool = False,
    ) -> None:
        """Paint one frame: the loss curves and the header at once, and the plots fed by
        recorded probes too unless ``defer_probes`` (then ``draw_probes`` does them later)."""
        self._show_scalars(scalars, baseline)
        losses = scalars["loss"][:, self.index] if len(scalars.get("step", ())) else np.empty(0)
        self._diverged = has_diverged(view, losses)
        self._set_log_range(self.loss, ranges["loss"])
        steps_done = int(scalars["step"][-1]) + 1 if len(scalars.get("step", ())) else 1
        upper = nice_upper(steps_done)
        for panel in (self.loss, self.metric_panel, self.grad_norms, self.spectral, self.half_life):
            if self._ranges.get((panel.name, "x")) != (0.0, upper) and panel in self.narrow:
                panel.plot.getAxis("bottom").setTickSpacing(upper / 2, upper / 10)  # two labels fit
            self._set_range(panel, "x", (0.0, upper))
        self._probe_work = (view, ranges, clip)  # the newest frame's replaces any not yet drawn
        if not defer_probes:
            self.draw_all_probes()
        self._show_header(view, scalars, baseline)

    def draw_probes(self) -> bool:
        """Redraw, if the last frame brought a new record, one of the two groups of plots fed
        by recorded probes: the history (heatmap, norms, radius, half-life) or the newest
        record (gradient profile, gates). True if it drew; call again for the other group.
        The group not drawn last time goes first, so that when records come faster than
        they are drawn neither group starves. Between records only the loss curves and the
        header change."""
        if self._probe_work is None:
            return False
        groups = [self._draw_history_group, self._draw_latest_group]
        if self._last_group == "history":
            groups.reverse()
        for group in groups:
            if group(*self._probe_work):
                return True
        self._probe_work = None
        return False

    def _draw_history_group(self, view: ModelView, ranges: dict, clip: float) -> bool:
        recorded = view.history.get("step", np.empty(0))
        # New levels redraw it too: when a model diverges the others' shared levels change
        # (its 1e35 gradients leave them) without a new record of theirs.
        history_key = (len(recorded), int(recorded[-1]) if len(recorded) else -1, tuple(ranges["gradient_levels"]))
        if history_key == self._drawn_history:
            return False
        self._drawn_history = history_key
        self._show_history(view, ranges["gradient_levels"], clip)
        self._last_group = "history"
        return True

    def _draw_latest_group(self, view: ModelView, ranges: dict, clip: float) -> bool:
        self._set_range(self.gradient, "y", ranges["profile"])
        latest = view.latest
        if latest is None or latest.probes is None or self._drawn_probes == (id(latest), self._diverged):
            return False
        self._drawn_probes = (id(latest), self._diverged)
        self._show_latest(view)
        self._last_group = "latest"
        return True

    def draw_all_probes(self) -> None:
        """Both groups now (an export, a screenshot, a replayed step)."""
        while self.draw_probes():
            pass

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

    def redraw_probes(self) -> None:
        """Forget what was drawn, so the next frame redraws everything (new gate, new style)."""
        self._drawn_probes = None
        self._drawn_history = (-1, -1)
        self._gate_title = None

    def _show_scalars(self, scalars: dict[str, np.ndarray], baseline: Baseline) -> None:
        steps = scalars.get("step", np.empty(0))
        loss = finite_or_nan(scalars["loss"][:, self.index]) if len(steps) else np.empty(0)
        metric = finite_or_nan(scalars["metric"][:, self.index]) if len(steps) else np.empty(0)
        loss = np.where(loss > 0, loss, np.nan)  # log axis
        self.loss.data = {"step": steps, "loss": loss, "baseline": np.full(len(steps), baseline.loss)}
        self.metric_panel.data = {"step": steps, "metric": metric, "baseline": np.full(len(steps), baseline.metric)}
        self.loss_curve.setData(steps, loss, connect="finite")
        self.metric_curve.setData(steps, metric, connect="finite")
        if self._baseline != baseline:
            self._baseline = baseline
            self.baseline_line.setValue(math.log10(baseline.loss) if baseline.loss > 0 else 0)
            self.loss.set_line_label(self.baseline_line, f"baseline {baseline.loss:.3g}")
            self.metric_baseline.setValue(baseline.metric)
        self.loss.refresh_key()  # names the loss once it is drawn (sets the text only when it changes)

    def _show_latest(self, view: ModelView) -> None:
        probes = view.latest.probes
        timesteps = np.arange(1, probes.grad_h.shape[1] + 1)
        shown = self._profile_to_show(view)
        profile = log10_or_nan(shown.grad_h) if shown is not None else np.full(len(timesteps), np.nan)
        self.gradient.data = {"t": timesteps, "log10_grad_h": profile}
        # A few isolated values (a saturated model's last step or two) are no line: mark them.
        sparse = np.count_nonzero(np.isfinite(profile)) <= 3
        self.profile_h.setData(timesteps, profile, connect="finite", symbol="o" if sparse else None,
                               symbolSize=6, symbolPen=None, symbolBrush=self.colour)
        # A diverged model shows its last finite profile, and the key says from which step.
        last = f" at step {shown.step}, its last finite" if self._diverged and shown is not None else ""
        self.gradient.set_line_label(self.profile_h, f"|dL/dh_t|{last}")
        if shown is not None:
            self.gradient.data["step"] = shown.step
        if shown is not None and shown.grad_c is not None:
            profile_c = log10_or_nan(shown.grad_c)
            self.gradient.data["log10_grad_c"] = profile_c
            self.profile_c.setData(timesteps, profile_c, connect="finite")
        else:
            self.profile_c.setData([], [])
        if probes.grad_h_all is not None and not self._diverged:
            profile_all = log10_or_nan(probes.grad_h_all[-1])
            self.gradient.data["log10_grad_h_all"] = profile_all
            self.profile_all.setData(timesteps, profile_all, connect="finite")
        else:
            self.profile_all.setData([], [])
        if shown is not None and shown.causes is not None:
            self.gradient.data["cause"] = shown.causes
        self._show_cut(shown.causes if shown is not None else None, len(timesteps))

        gate = self.gate if self.gate in probes.gates else next(iter(probes.gates))
        values = probes.gates[gate][-1].T  # (H, T): units along y
        self.gates.data = {"t": timesteps, "unit": np.arange(values.shape[0]), "activation": values}
        title = (GATE_TITLES.get(gate, gate), self.style.theme.foreground, self.style.font_px)
        if title != self._gate_title:  # a new label re-lays the axis out: only when it changes
            self._gate_title = title
            # Named under the plot, in the x label's line: a title row above it cost a
            # projector's third plot its place at 1024x768.
            self.gates.x_label = f"timestep t · {title[0]}"
            self.gates.set_axis_labels()
        self.gate_map.value_name = GATE_TITLES.get(gate, gate)
        self.gate_map.set(values, QRectF(0.5, -0.5, values.shape[1], values.shape[0]), gate_levels(gate, values))
        self._set_range(self.gates, "y", (-0.5, values.shape[0] - 0.5))

        self.gate_means.data = {"t": timesteps}
        for name, means in probes.gate_means.items():
            if name in ("cell_state", "hidden") and len(probes.gate_means) > 2:
                continue  # unbounded states: their own heatmap shows them
            curve = self.gate_means_curves.get(name)
            if curve is None:
                colour = GATE_COLOURS.get(name, OKABE_ITO[len(self.gate_means_curves) % len(OKABE_ITO)])
                curve = self.gate_means.curve(colour, name=GATE_TITLES.get(name, name))
                self.gate_means.apply_style(self.style)
                self.gate_means_curves[name] = curve
            self.gate_means.data[name] = means[-1]
            curve.setData(timesteps, means[-1])
        self.gradient.refresh_key()
        self.gate_means.refresh_key()
        shown = [means[-1] for name, means in probes.gate_means.items() if name in self.gate_means.data]
        if shown:
            self._set_range(self.gate_means, "y", stepped_range(np.concatenate(shown), 0.5, 0.0, 1.0))

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

    def _profile_to_show(self, view: ModelView) -> ShownProfile | None:
        """The latest record's profile; a diverged model's last finite one."""
        if self._diverged:
            return last_finite_profile(view)
        probes = view.latest.probes
        recorded = view.history.get("step", ())
        step = int(recorded[-1]) if len(recorded) else 0
        cell = probes.grad_c[-1] if probes.grad_c is not None else None
        return ShownProfile(step, probes.top_grad_h, cell, probes.grad_cause)

    def _show_history(self, view: ModelView, levels: tuple[float, float], clip: float) -> None:
        steps = view.history.get("step", np.empty(0))
        if len(steps) == 0:
            return
        raw = view.history["grad_h"][:, -1, :]  # (N, T) top layer
        logs = log10_or_nan(raw)
        self.history.data = {"step": steps, "t": np.arange(1, logs.shape[1] + 1), "log10_grad_h": logs}
        height = max(float(steps[-1] - steps[0]), 1.0)
        # Underflowed (exactly 0) gradients take the bottom colour of the bar, overflowed (inf)
        # ones the top; steps cut by truncation, padding and NaN stay transparent: no value
        # there, rather than a vanished gradient (the hover text names the cause).
        rect = QRectF(0.5, float(steps[0]), logs.shape[1], height)
        causes = view.history.get("grad_cause")
        cut = causes == TRUNCATED if causes is not None and causes.shape == raw.shape else np.zeros(raw.shape, bool)
        shown = np.where(raw == 0, levels[0], np.where(np.isposinf(raw), levels[1], logs))
        shown = np.where(cut, np.nan, shown)
        self.history.data["cause"] = causes if causes is not None else np.zeros(raw.shape, np.int8)
        self.history_map.set(shown, rect, levels)
        # Fixed ranges that change in steps (training steps on the loss plot's scale): with
        # autorange every new record would regenerate the axes of every panel below.
        self._set_range(self.history, "y", (0.0, nice_upper(steps[-1] + 1)))

        norms = view.history["param_grad_norms"]  # (N, P)
        self.grad_norms.data = {"step": steps}
        for position, name in enumerate(view.param_names):
            curve = self.norm_curves.get(name)
            if curve is None:
                curve = self.grad_norms.curve(OKABE_ITO[position % len(OKABE_ITO)], role="thin", name=name)
                self.grad_norms.apply_style(self.style)
                self.norm_curves[name] = curve
            values = finite_or_nan(norms[:, position])
            values = np.where(values > 0, values, np.nan)
            self.grad_norms.data[name] = values
            curve.setData(steps, values, connect="finite")
        self.clip_line.setVisible(clip > 0)
        if clip > 0:
            self.clip_line.setValue(math.log10(clip))
        clip_log = math.log10(clip) if clip > 0 else None
        self._set_log_range(self.grad_norms, stepped_range(norms, 1.0, clip_log, clip_log, log=True))

        radius = self._factor_series(view)  # (N, L)
        while len(self.radius_curves) < radius.shape[1]:
            self.radius_curves.append(self.spectral.curve(self.colour, role="thin", dashed=len(self.radius_curves) > 0))
        gains = recorded_gains(view)
        self.spectral.data = {"step": steps, "gain": gains}
        self.gain_curve.setData(steps, finite_or_nan(gains), connect="finite")
        for layer, curve in enumerate(self.radius_curves):
            self.spectral.data[f"layer{layer}"] = radius[:, layer]
            curve.setData(steps, radius[:, layer])
        shown = np.concatenate([finite_or_nan(radius).ravel(), finite_or_nan(gains)])
        self._set_range(self.spectral, "y", stepped_range(shown, 0.5, 0.0, 1.5))
        half = finite_or_nan(view.history["half_life"])
        self.half_life.data = {"step": steps, "half_life": half}
        self.half_life_curve.setData(steps, half, connect="finite")
        half = half[np.isfinite(half)]
        # Negative half-lives are exploding gradients (doubling every |h| steps back): in range.
        low = -nice_upper(-half.min()) if half.size and half.min() < 0 else 0.0
        high = nice_upper(half.max()) if half.size and half.max() > 0 else 10.0
        self._set_range(self.half_life, "y", (low, high))
        self.grad_norms.refresh_key()

    def _show_header(self, view: ModelView, scalars: dict[str, np.ndarray], baseline: Baseline) -> None:
        steps = scalars.get("step", np.empty(0))
        losses = scalars["loss"][:, self.index] if len(steps) else np.empty(0)
        norms = scalars["grad_norm"][:, self.index] if len(steps) and "grad_norm" in scalars else None
        facts = headline(view, losses, baseline.loss, norms, steps)
        parts = [f"<span style='color:{self.colour}; font-size:{self.style.header_px}px'><b>{view.label}</b></span>"]
        facts_html = [html.escape(fact) for fact in facts.facts]
        diverged = ["<span style='color:#ff5555'><b>DIVERGED</b></span>"] if facts.diverged else []
        text = FACT_SEPARATOR.join(parts + facts_html + diverged)
        if text != self.header.text():
            shown = FACT_SEPARATOR.join(parts + [unbroken_symbols(fact) for fact in facts_html] + diverged)
            self.header.set_header(text, shown)
            # Grow, never shrink: a header wrapping onto one line fewer would resize the plots
            # below it, and a resized plot regenerates every axis (tens of ms on each change).
            needed = self.header.heightForWidth(max(self.header.width(), 1))
            if needed > self.header.minimumHeight():
                self.header.setMinimumHeight(needed)

    def reset_plots(self) -> None:
        """Empty every plot (not ``clear``: GraphicsLayoutWidget binds that to removing items)."""
        for panel in self.panels.values():
            panel.data = {}
        for curve in (self.loss_curve, self.metric_curve, self.profile_h, self.profile_c, self.half_life_curve,
                      self.gain_curve):
            curve.setData([], [])
        # The next model in this column may have other gates and parameters: its key must not
        # keep this one's names.
        for curve in self.gate_means_curves.values():
            self.gate_means.remove_curve(curve)
        for curve in self.norm_curves.values():
            self.grad_norms.remove_curve(curve)
        self.gate_means_curves.clear()
        self.norm_curves.clear()
        for curve in self.radius_curves:
            curve.setData([], [])
        for panel in self.panels.values():
            panel.refresh_key()
        self.hide_readouts()
        self.history_map.clear()
        self.gate_map.clear()
        self.cut_region.setVisible(False)
        self.cut_label.setVisible(False)
        self.header.setText("")
        self._ranges.clear()
        self._baseline = None
        self._probe_work = None
        self.redraw_probes()

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

    def _factor_series(self, view: ModelView) -> np.ndarray:
        """(N, L) the factor plot's thin lines: rho(W_hh) for the vanilla RNN (the lecture's
        criterion), the per-step Jacobian norm for gated cells, a bound on their gain (rho of
        one block says nothing there)."""
        gated = view.kind != "rnn" and "step_factor" in view.history and len(view.history["step_factor"])
        kind = view.kind if gated else "rnn"
        if kind != self._factor_kind:
            self._factor_kind = kind
            self.spectral.caption_text = FACTOR_CAPTIONS[kind]
            self.spectral.y_label = "factor" if gated else "rho"
            self.spectral.apply_style(self.style)
        return view.history["step_factor"] if gated else view.history["spectral_radius"]
