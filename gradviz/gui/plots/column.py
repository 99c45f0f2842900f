"""One model's column of live plots (``ModelColumn``): each frame painted into the plots that
``column_plots.py`` builds and arranges. The loss curves and the header change every frame;
the plots fed by recorded probes (the gradient's profile and history, gates, norms, gain,
half-life) only when a new record arrives, one group at a time (``draw_probes``).

Each plot is a ``Panel`` whose ``data`` holds exactly the arrays it shows, for export and tests.
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QRectF

from gradviz.gui.plots.column_plots import FACTOR_CAPTIONS, GATE_TITLES, PANEL_NAMES, ColumnPlots
from gradviz.gui.plots.header import FACT_SEPARATOR, HEADER_GAP_PX, HeaderLabel, unbroken_symbols
from gradviz.gui.plots.note import DIVERGED_COLOUR
from gradviz.gui.plots.ranges import gate_levels, log_ticks, nice_upper, stepped_range
from gradviz.gui.theme import GATE_COLOURS, OKABE_ITO, PlotStyle
from gradviz.plotmath import FLAT_MARK_DEPTH, finite_or_nan, log10_or_nan
from gradviz.probes.causes import TRUNCATED
from gradviz.probes.records import Probes
from gradviz.session.frames import ModelView, ShownProfile, last_finite_profile
from gradviz.session.headline import diverged_note, divergence_fact, has_diverged, headline
from gradviz.tasks import Baseline

# The share of a training-step axis left of step 0 while step 0 is all there is: more than the
# radius of the dot that shows it, at the narrowest plot width (tests/gui/test_main_window.py).
LONE_POINT_ROOM = 0.04

# Names callers import from here (the board, the transport bar, the layout report, tests).
__all__ = ["FACT_SEPARATOR", "GATE_TITLES", "HEADER_GAP_PX", "PANEL_NAMES", "HeaderLabel", "ModelColumn",
           "log_ticks", "nice_upper", "unbroken_symbols"]


class ModelColumn(ColumnPlots):
    """All plots of one model; ``show_frame`` updates them from a ModelView."""

    def __init__(self, index: int, metric_name: str = "metric", parent=None):
        super().__init__(index, metric_name, parent)
        self.gate = "forget"
        self._drawn_probes: tuple[int, bool] | None = None
        self._diverged = False  # the model diverged: its gradient plot shows its last finite profile
        self._divergence = ""  # what overflowed, and when (``headline.divergence_fact``)
        self._drawn_history: tuple = (-1, -1)
        self._probe_work: tuple | None = None  # (view, ranges, clip) not drawn yet
        self._gate_title: tuple | None = None
        self._last_group = ""  # which group of probe plots draw_probes drew last
        self._baseline: Baseline | None = None

    def apply_style(self, style: PlotStyle) -> None:
        super().apply_style(style)
        self.redraw_probes()

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
        norms = scalars["grad_norm"][:, self.index] if len(losses) and "grad_norm" in scalars else None
        self._diverged = has_diverged(view, losses, norms)
        self._divergence = divergence_fact(losses, norms, scalars.get("step")) if self._diverged else ""
        self._set_log_range(self.loss, ranges["loss"])
        steps_done = int(scalars["step"][-1]) + 1 if len(scalars.get("step", ())) else 1
        upper = nice_upper(steps_done)
        # Step 0 alone is a dot at x = 0 (``mark_lone_point``): the range starts left of it, or
        # the plot's edge would cut the dot in half.
        span = (-LONE_POINT_ROOM * upper if steps_done == 1 else 0.0, upper)
        for panel in (self.loss, self.metric_panel, self.grad_norms, self.spectral, self.half_life):
            if self._ranges.get((panel.name, "x")) != span and panel in self.narrow:
                panel.plot.getAxis("bottom").setTickSpacing(upper / 2, upper / 10)  # two labels fit
            self._set_range(panel, "x", span)
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
        self.loss.mark_lone_point(self.loss_curve, loss)
        self.metric_panel.mark_lone_point(self.metric_curve, metric)
        if self._baseline != baseline:
            self._baseline = baseline
            self.baseline_line.setValue(math.log10(baseline.loss) if baseline.loss > 0 else 0)
            self.loss.set_line_label(self.baseline_line, f"baseline {baseline.loss:.3g}")
            self.metric_baseline.setValue(baseline.metric)
        self.loss.refresh_key()  # names the loss once it is drawn (sets the text only when it changes)

    def _show_latest(self, view: ModelView) -> None:
        """The newest record: the gradient's profile, one sequence's gate, the gates' means."""
        probes = view.latest.probes
        timesteps = np.arange(1, probes.grad_h.shape[1] + 1)
        self._show_profile(view, timesteps)
        self._show_gate(probes, timesteps)
        self._show_gate_means(probes, timesteps)

    def _show_profile(self, view: ModelView, timesteps: np.ndarray) -> None:
        """The gradient through time: h_t (a diverged model's last finite), C_t, the whole loss."""
        probes = view.latest.probes
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
        self._show_divergence(shown, profile)
        self.gradient.refresh_key()

    def _show_divergence(self, shown, profile: np.ndarray) -> None:
        """A diverged model's plot says so beside the newest value it draws (often one dot: its
        last finite record, every other step saturated), and why the rest is empty."""
        if not self._diverged:
            self.diverged_note.hide()
            return
        drawn = np.flatnonzero(np.isfinite(profile))
        at = (float(drawn[-1] + 1), float(profile[drawn[-1]])) if drawn.size else (float(len(profile)), 0.0)
        self.diverged_note.show(diverged_note(self._divergence, shown), at)

    def _show_gate(self, probes: Probes, timesteps: np.ndarray) -> None:
        """The gate chosen (or the cell's first) of one sequence: a unit x timestep heatmap."""
        gate = self.gate if self.gate in probes.gates else next(iter(probes.gates))
        values = probes.gates[gate][-1].T  # (H, T): units along y
        self.gates.data = {"t": timesteps, "unit": np.arange(values.shape[0]), "activation": values}
        title = (GATE_TITLES.get(gate, gate), self.style.theme.foreground, self.style.font_px)
        if title != self._gate_title:  # a new label re-lays the axis out: only when it changes
            self._gate_title = title
            # Named along the colour bar, its symbol alone where the bar is short: a title row
            # above the plot cost a projector's third plot its place at 1024x768, and in the x
            # label's line ("timestep t · hidden state h_t") it ran off the window at 1280x800.
            self.gate_map.bar_label, self.gate_map.bar_short = title[0], title[0].split()[-1]
            self.gate_map.set_bar_label()
        self.gate_map.value_name = GATE_TITLES.get(gate, gate)
        self.gate_map.set(values, QRectF(0.5, -0.5, values.shape[1], values.shape[0]), gate_levels(gate, values))
        self._set_range(self.gates, "y", (-0.5, values.shape[0] - 0.5))

    def _show_gate_means(self, probes: Probes, timesteps: np.ndarray) -> None:
        """Every gate's mean per timestep (C_t and h_t left to their heatmap beside gates)."""
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
        self.gate_means.refresh_key()
        shown = [means[-1] for name, means in probes.gate_means.items() if name in self.gate_means.data]
        if shown:
            self._set_range(self.gate_means, "y", stepped_range(np.concatenate(shown), 0.5, 0.0, 1.0))

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
        """Everything over training: the gradient's heatmap, the norms, the gain, the half-life."""
        steps = view.history.get("step", np.empty(0))
        if len(steps) == 0:  # a new run: none of the old run's training steps on the axis
            self._set_range(self.history, "y", (0.0, nice_upper(1)))
            return
        self._show_history_map(view, steps, levels)
        self._show_norms(view, steps, clip)
        self._show_factor(view, steps)
        self._show_half_life(view, steps)

    def _show_history_map(self, view: ModelView, steps: np.ndarray, levels: tuple[float, float]) -> None:
        """Training step x timestep heatmap of log10 |dL/dh_t| (top layer)."""
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

    def _show_norms(self, view: ModelView, steps: np.ndarray, clip: float) -> None:
        """Each parameter's gradient norm before clipping, and the clip."""
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
        self.grad_norms.refresh_key()

    def _show_factor(self, view: ModelView, steps: np.ndarray) -> None:
        """The measured gain per step back, beside rho(W_hh) or the bound on the gain."""
        radius = self._factor_series(view)  # (N, L)
        while len(self.radius_curves) < radius.shape[1]:
            self.radius_curves.append(self.spectral.curve(self.colour, role="thin", dashed=len(self.radius_curves) > 0))
        gains = view.recorded_gains
        self.spectral.data = {"step": steps, "gain": gains}
        self.gain_curve.setData(steps, finite_or_nan(gains), connect="finite")
        for layer, curve in enumerate(self.radius_curves):
            self.spectral.data[f"layer{layer}"] = radius[:, layer]
            curve.setData(steps, radius[:, layer])
        shown = np.concatenate([finite_or_nan(radius).ravel(), finite_or_nan(gains)])
        self._set_range(self.spectral, "y", stepped_range(shown, 0.5, 0.0, 1.5))

    def _show_half_life(self, view: ModelView, steps: np.ndarray) -> None:
        """The gradient's half-life in timesteps (negative: exploding; flat: marked on top)."""
        flat = np.isposinf(np.asarray(view.history["half_life"], dtype=np.float64))
        half = finite_or_nan(view.history["half_life"])
        self.half_life.data = {"step": steps, "half_life": half, "flat": flat}
        self.half_life_curve.setData(steps, half, connect="finite")
        half = half[np.isfinite(half)]
        # Negative half-lives are exploding gradients (doubling every |h| steps back): in range.
        low = -nice_upper(-half.min()) if half.size and half.min() < 0 else 0.0
        high = nice_upper(half.max()) if half.size and half.max() > 0 else 10.0
        self._set_range(self.half_life, "y", (low, high))
        self.half_life_flat.setData(steps[flat], np.full(np.count_nonzero(flat), high - FLAT_MARK_DEPTH * (high - low)))

    def _show_header(self, view: ModelView, scalars: dict[str, np.ndarray], baseline: Baseline) -> None:
        steps = scalars.get("step", np.empty(0))
        losses = scalars["loss"][:, self.index] if len(steps) else np.empty(0)
        norms = scalars["grad_norm"][:, self.index] if len(steps) and "grad_norm" in scalars else None
        facts = headline(view, losses, baseline.loss, norms, steps)
        parts = [f"<span style='color:{self.colour}; font-size:{self.style.header_px}px'><b>{view.label}</b></span>"]
        facts_html = [html.escape(fact) for fact in facts.facts]
        diverged = [f"<span style='color:{DIVERGED_COLOUR}'><b>DIVERGED</b></span>"] if facts.diverged else []
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
                      self.half_life_flat, self.gain_curve):
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
        self.diverged_note.hide()
        self.header.setText("")
        self._ranges.clear()
        self._baseline = None
        self._probe_work = None
        self.redraw_probes()

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
