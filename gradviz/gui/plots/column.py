"""One model's column of live plots, top to bottom:

1. loss and task metric over training, with the task's memoryless baseline;
2. gradient through time now: log10 |dL/dh_t| against timestep t (and c_t for an LSTM);
3. its history: training step x timestep heatmap of the same log norm;
4. a gate (or c_t, h_t) for one sample as a timestep x unit heatmap, and every gate's mean
   per timestep;
5. per-parameter gradient norms before clipping, spectral radius of W_hh, and half-life.

Every array a plot shows is kept on the object (``shown``) so tests can compare it with the
worker's records.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gradviz.gui.plots.base import Heatmap, HoverReadout, finite_or_nan, log10_or_nan, make_plot
from gradviz.gui.theme import GATE_COLOURS, GATE_MAP, GRADIENT_MAP, OKABE_ITO, model_pen
from gradviz.gui.worker import ModelView
from gradviz.probes import describe_half_life
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
DASH, DOT = Qt.PenStyle.DashLine, Qt.PenStyle.DotLine  # decades of log10 |dL/dh_t| the colour bar spans below its top


def nice_upper(value: float) -> float:
    """The smallest of 10, 20, 50, 100, 200, 500, ... at or above ``value`` (at least 10)."""
    value = max(float(value), 10.0)
    decade = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * decade >= value:
            return factor * decade
    return 10.0 * decade


def gate_levels(name: str, values: np.ndarray) -> tuple[float, float]:
    """Fixed levels for bounded gates; symmetric levels for C_t and h_t (tanh h: [-1, 1])."""
    if name in GATE_LEVELS:
        return GATE_LEVELS[name]
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 1.0
    top = max(top, 1e-6)
    return (0.0, top) if finite.size and finite.min() >= 0 else (-top, top)


class ModelColumn(QWidget):
    """All plots of one model; ``show_frame`` updates them from a ModelView.

    The header is a plain QLabel outside the plot scene: changing its text every frame must
    not re-run the layout of every plot.
    """

    def __init__(self, index: int, parent=None):
        super().__init__(parent)
        self.index = index
        self.shown: dict[str, np.ndarray] = {}
        self.gate = "forget"
        self._drawn_probe_step: int | None = None
        self._drawn_history_rows = -1
        self._ranges: dict[tuple[int, str], tuple[float, float]] = {}
        self._baseline: Baseline | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)  # a long header must wrap, not widen the window
        layout.addWidget(self.header)
        self.graphics = pg.GraphicsLayoutWidget()
        layout.addWidget(self.graphics, 1)
        self.addItem = self.graphics.addItem
        self.addLayout = self.graphics.addLayout

        self.loss_plot = make_plot("Loss against the memoryless baseline", "training step", "loss")
        self.loss_plot.setLogMode(y=True)
        self.loss_curve = self.loss_plot.plot(pen=model_pen(index), name="loss")
        self.loss_curve.setClipToView(True)
        self.loss_curve.setDownsampling(auto=True, method="mean")
        self.baseline_line = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen("#999999", width=2, style=DASH),
            label="baseline",
            labelOpts={"position": 0.08, "color": "#bbbbbb", "anchors": [(0, 1), (0, 1)]},
        )
        self.loss_plot.addItem(self.baseline_line, ignoreBounds=False)
        self.metric_plot = make_plot("Task metric", "training step", "metric")
        self.metric_curve = self.metric_plot.plot(pen=model_pen(index, width=1))
        self.metric_curve.setClipToView(True)
        self.metric_curve.setDownsampling(auto=True, method="mean")
        self.metric_baseline = pg.InfiniteLine(angle=0, pen=pg.mkPen("#999999", width=1, style=DASH))
        self.metric_plot.addItem(self.metric_baseline)
        self.metric_plot.setYRange(0, 1)
        row = self.addLayout(row=1, col=0, colspan=3)
        row.addItem(self.loss_plot, 0, 0)
        row.addItem(self.metric_plot, 0, 1)
        row.layout.setColumnStretchFactor(0, 3)
        row.layout.setColumnStretchFactor(1, 1)

        self.profile_plot = make_plot(
            "Gradient through time: learning signal reaching step t",
            "timestep t",
            "log10 |dL/dh_t|",
        )
        self.profile_plot.addLegend(offset=(-10, 10))
        self.profile_h = self.profile_plot.plot(pen=model_pen(index, width=2), name="|dL/dh_t|")
        self.profile_c = self.profile_plot.plot(pen=model_pen(index, width=2, dashed=True), name="|dL/dC_t|")
        self.addItem(self.profile_plot, row=2, col=0, colspan=3)
        self.profile_readout = HoverReadout(self.profile_plot, self._describe_profile)

        self.history_plot = make_plot("Gradient through time over training", "timestep t", "training step")
        self.addItem(self.history_plot, row=3, col=0, colspan=3)
        self.history_map = Heatmap(self.history_plot, GRADIENT_MAP, "log10 |dL/dh_t|", "log10 |dL/dh_t|")

        self.gate_plot = make_plot("Gate for one sample", "timestep t", "unit")
        self.addItem(self.gate_plot, row=4, col=0, colspan=3)
        self.gate_map = Heatmap(self.gate_plot, GATE_MAP, "activation", "activation")
        self.gate_means_plot = make_plot("Means over batch and units", "timestep t", "mean")
        self.gate_means_plot.addLegend(offset=(-10, 5), colCount=4)
        self.gate_means_curves: dict[str, pg.PlotDataItem] = {}
        self.addItem(self.gate_means_plot, row=5, col=0, colspan=3)

        self.norms_plot = make_plot("Gradient norms before clipping", "training step", "|grad|")
        self.norms_plot.setLogMode(y=True)
        self.norms_plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
        self.norm_curves: dict[str, pg.PlotDataItem] = {}
        self.clip_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#bbbbbb", width=1, style=DOT), label="clip",
            labelOpts={"position": 0.05, "color": "#bbbbbb"},
        )
        self.norms_plot.addItem(self.clip_line)
        self.radius_plot = make_plot("Spectral radius of W_hh", "training step", "rho")
        self.radius_curves: list[pg.PlotDataItem] = []
        self.radius_one = pg.InfiniteLine(pos=1.0, angle=0, pen=pg.mkPen("#777777", width=1, style=DOT))
        self.radius_plot.addItem(self.radius_one)
        self.half_life_plot = make_plot("Gradient half-life", "training step", "timesteps")
        self.half_life_curve = self.half_life_plot.plot(pen=model_pen(index, width=1), symbol=None)
        row = self.addLayout(row=6, col=0, colspan=3)
        row.addItem(self.norms_plot, 0, 0)
        row.addItem(self.radius_plot, 0, 1)
        row.addItem(self.half_life_plot, 0, 2)

        grid = self.graphics.ci.layout
        for row_index, stretch in enumerate((0, 4, 4, 4, 4, 2, 3)):
            grid.setRowStretchFactor(row_index, stretch)

    def set_timesteps(self, steps: int) -> None:
        """Fix the x range of the per-timestep plots to 1..T (no autorange jumps)."""
        for plot in (self.profile_plot, self.history_plot, self.gate_plot, self.gate_means_plot):
            plot.setXRange(0.5, steps + 0.5, padding=0)

    # ---- updates -------------------------------------------------------------------------

    def show_frame(
        self,
        view: ModelView,
        scalars: dict[str, np.ndarray],
        baseline: Baseline,
        clip: float,
        ranges: dict[str, tuple[float, float]],
    ) -> None:
        """Paint one frame. Plots fed by recorded probes are only redrawn when a new record
        arrived: between records only the loss curve and the header change."""
        self._show_scalars(scalars, baseline)
        self._set_range(self.loss_plot, "y", ranges["loss"])
        self._set_step_range(int(scalars["step"][-1]) + 1 if len(scalars.get("step", ())) else 1)
        recorded = view.history.get("step", np.empty(0))
        history_rows = (len(recorded), int(recorded[-1]) if len(recorded) else -1)
        if history_rows != self._drawn_history_rows:
            self._drawn_history_rows = history_rows
            self._show_history(view, ranges["gradient_levels"], clip)
        latest = view.latest
        if latest is not None and latest.probes is not None and self._drawn_probe_step != id(latest):
            self._drawn_probe_step = id(latest)
            self._show_latest(view)
        self._set_range(self.profile_plot, "y", ranges["profile"])
        self._show_header(view, scalars, baseline)

    def _set_range(self, plot: pg.PlotItem, axis: str, span: tuple[float, float]) -> None:
        """Change a range only when it really changes: a new range regenerates the axis."""
        key = (id(plot), axis)
        if self._ranges.get(key) != span:
            self._ranges[key] = span
            (plot.setXRange if axis == "x" else plot.setYRange)(*span, padding=0)

    def _set_step_range(self, steps_done: int) -> None:
        """Training-step axes grow in 1-2-5 jumps, not every step: their ticks stay cached."""
        upper = nice_upper(steps_done)
        for plot in (self.loss_plot, self.metric_plot, self.norms_plot, self.radius_plot, self.half_life_plot):
            self._set_range(plot, "x", (0.0, upper))

    def redraw_probes(self) -> None:
        """Forget what was drawn, so the next frame redraws everything (new gate chosen)."""
        self._drawn_probe_step = None
        self._drawn_history_rows = -1

    def _show_scalars(self, scalars: dict[str, np.ndarray], baseline: Baseline) -> None:
        steps = scalars.get("step", np.empty(0))
        loss = finite_or_nan(scalars["loss"][:, self.index]) if len(steps) else np.empty(0)
        metric = finite_or_nan(scalars["metric"][:, self.index]) if len(steps) else np.empty(0)
        loss = np.where(loss > 0, loss, np.nan)  # log axis
        self.shown["loss_step"], self.shown["loss"], self.shown["metric"] = steps, loss, metric
        self.loss_curve.setData(steps, loss, connect="finite")
        self.metric_curve.setData(steps, metric, connect="finite")
        if self._baseline != baseline:
            self._baseline = baseline
            self.baseline_line.setValue(math.log10(baseline.loss) if baseline.loss > 0 else 0)
            self.baseline_line.label.setFormat(f"baseline {baseline.loss:.3g}")
            self.metric_baseline.setValue(baseline.metric)

    def _show_latest(self, view: ModelView) -> None:
        probes = view.latest.probes
        steps = np.arange(1, probes.grad_h.shape[1] + 1)
        profile = log10_or_nan(probes.top_grad_h)
        self.shown["profile_h"] = profile
        self.profile_h.setData(steps, profile, connect="finite")
        if probes.grad_c is not None:
            profile_c = log10_or_nan(probes.grad_c[-1])
            self.shown["profile_c"] = profile_c
            self.profile_c.setData(steps, profile_c, connect="finite")
        else:
            self.profile_c.setData([], [])

        gate = self.gate if self.gate in probes.gates else next(iter(probes.gates))
        values = probes.gates[gate][-1].T  # (H, T): units along y
        self.shown["gate"] = values
        self.gate_plot.setTitle(f"{GATE_TITLES.get(gate, gate)}, one sample")
        units = values.shape[0]
        self.gate_map.set(values, QRectF(0.5, -0.5, values.shape[1], units), gate_levels(gate, values))

        for name, means in probes.gate_means.items():
            if name in ("cell_state", "hidden") and len(probes.gate_means) > 2:
                continue  # unbounded; their own heatmap shows them
            curve = self.gate_means_curves.get(name)
            if curve is None:
                colour = GATE_COLOURS.get(name, OKABE_ITO[len(self.gate_means_curves) % len(OKABE_ITO)])
                curve = self.gate_means_plot.plot(pen=pg.mkPen(colour, width=2), name=GATE_TITLES.get(name, name))
                self.gate_means_curves[name] = curve
            self.shown[f"mean/{name}"] = means[-1]
            curve.setData(steps, means[-1])

    def _show_history(self, view: ModelView, levels: tuple[float, float], clip: float) -> None:
        steps = view.history.get("step", np.empty(0))
        if len(steps) == 0:
            return
        grad_h = view.history["grad_h"][:, -1, :]  # (N, T) top layer
        logs = log10_or_nan(grad_h)
        self.shown["history"] = logs
        height = max(float(steps[-1] - steps[0]), 1.0)
        # Underflowed (exactly 0) gradients take the bottom colour of the bar.
        rect = QRectF(0.5, float(steps[0]), logs.shape[1], height)
        self.history_map.set(np.where(np.isnan(logs), levels[0], logs), rect, levels)

        norms = view.history["param_grad_norms"]  # (N, P)
        for position, name in enumerate(view.param_names):
            curve = self.norm_curves.get(name)
            if curve is None:
                colour = OKABE_ITO[position % len(OKABE_ITO)]
                curve = self.norms_plot.plot(pen=pg.mkPen(colour, width=1), name=name)
                self.norm_curves[name] = curve
            values = finite_or_nan(norms[:, position])
            curve.setData(steps, np.where(values > 0, values, np.nan), connect="finite")
        self.shown["param_grad_norms"] = norms
        self.clip_line.setVisible(clip > 0)
        if clip > 0:
            self.clip_line.setValue(math.log10(clip))

        radius = view.history["spectral_radius"]  # (N, L)
        while len(self.radius_curves) < radius.shape[1]:
            layer = len(self.radius_curves)
            self.radius_curves.append(self.radius_plot.plot(pen=model_pen(self.index, width=2, dashed=layer > 0)))
        for layer, curve in enumerate(self.radius_curves):
            curve.setData(steps, radius[:, layer])
        half = finite_or_nan(view.history["half_life"])
        self.shown["half_life"] = half
        self.half_life_curve.setData(steps, half, connect="finite")

    def _show_header(self, view: ModelView, scalars: dict[str, np.ndarray], baseline: Baseline) -> None:
        colour = model_pen(self.index).color().name()
        parts = [f"<span style='color:{colour}; font-size:13pt'><b>{view.label}</b></span>"]
        if len(scalars.get("step", ())):
            loss = float(scalars["loss"][-1, self.index])
            verdict = "below" if loss < 0.9 * baseline.loss else "at"
            parts.append(f"loss {loss:.3g} ({verdict} baseline {baseline.loss:.3g})")
        if view.latest is not None and view.latest.probes is not None:
            probes = view.latest.probes
            parts.append(describe_half_life(probes.half_life))
            if probes.underflow_steps:
                parts.append(f"{probes.underflow_steps} steps underflow to 0")
            if "forget" in probes.gate_means:
                parts.append(f"mean f_t {float(np.mean(probes.gate_means['forget'][-1])):.2f}")
        if view.latest is not None and view.latest.diverged:
            parts.append("<span style='color:#ff5555'><b>DIVERGED</b></span>")
        text = " &nbsp;·&nbsp; ".join(parts)
        if text != self.header.text():
            self.header.setText(text)

    def reset_plots(self) -> None:
        """Empty every plot (not ``clear``: GraphicsLayoutWidget binds that to removing items)."""
        self.shown.clear()
        for curve in (self.loss_curve, self.metric_curve, self.profile_h, self.profile_c, self.half_life_curve):
            curve.setData([], [])
        for curve in [*self.gate_means_curves.values(), *self.norm_curves.values(), *self.radius_curves]:
            curve.setData([], [])
        self.history_map.clear()
        self.gate_map.clear()
        self.header.setText("")
        self._ranges.clear()
        self._baseline = None
        self.redraw_probes()

    def _describe_profile(self, x: float, y: float) -> str | None:
        profile = self.shown.get("profile_h")
        if profile is None or not 1 <= round(x) <= len(profile):
            return None
        value = profile[int(round(x)) - 1]
        shown = "0 (underflow)" if np.isnan(value) else f"{10 ** value:.3g} (log10 {value:.2f})"
        return f"t = {int(round(x))}: |dL/dh_t| = {shown}"
