"""The backward pass, animated in the window (key B).

On one recorded step, the trainer measures each model's ``BackwardWave`` (the gradient of each
sequence's decision loss arriving at every timestep, and what multiplies it on the way one step
further back: ||dh_t/dh_{t-1}|| for the RNN, f_t on the LSTM's cell path, z_t for the GRU).
Here every model's gradient plot draws its wave growing from the loss at t = T back to t = 1,
all in sync, over a few seconds, with the factor of the newest step written at the wave's front:
the room watches one wave die and the other arrive. The drawn values are the wave's, which are
the probe's of that step (a test compares them).
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QColor

from gradviz.gui.plots.base import Panel
from gradviz.gui.theme import PlotStyle
from gradviz.plotmath import log10_or_nan
from gradviz.probes.extras import BackwardWave

TICK_MS = 30
HOLD_S = 2.0  # the finished wave stays this long before the plot is the live one again
SPEEDS_S = (1.5, 3.0, 6.0)  # the choices of the animation's length (View menu)


class WaveOverlay:
    """One model's share: a thick curve over its gradient plot and a label at the wave's front."""

    def __init__(self, panel: Panel, colour: str):
        self.panel = panel
        self.colour = colour
        self.curve = pg.PlotDataItem([], [], symbol="o", connect="finite")
        self.label = pg.TextItem("", anchor=(1.0, 1.0))
        self.curve.setZValue(50)
        self.label.setZValue(51)
        self.shown = False

    def apply_style(self, style: PlotStyle) -> None:
        width = 2 * style.line_width
        self.curve.setPen(pg.mkPen(style.theme.foreground, width=width))
        self.curve.setSymbolSize(width + 6)
        self.curve.setSymbolBrush(pg.mkBrush(self.colour))
        self.curve.setSymbolPen(pg.mkPen(style.theme.foreground, width=1))
        font = self.label.textItem.font()
        font.setPixelSize(style.header_px)
        font.setBold(True)
        self.label.setFont(font)
        self.label.setColor(self.colour)
        # Over the curve where the wave rises towards it: on a backing of the plot's colour.
        backing = QColor(style.theme.background)
        backing.setAlpha(210)
        self.label.fill = pg.mkBrush(backing)

    def show(self, wave: BackwardWave, reached: int) -> None:
        """The wave after ``reached`` timesteps of the backward pass (1 = only t = T)."""
        if not self.shown:
            self.panel.plot.addItem(self.curve)
            self.panel.plot.addItem(self.label)
            self.shown = True
        shown = wave.revealed(reached - 1)
        steps = np.arange(1, wave.steps + 1)
        logs = log10_or_nan(shown)
        self.curve.setData(steps, logs, connect="finite")
        front = wave.steps - reached  # index of the newest step reached
        words = front_words(wave, front)
        value = logs[front]
        if not np.isfinite(value):  # underflowed to 0: the wave has died here
            words = f"0 (underflow) · {words}"
            value = self.panel.plot.viewRange()[1][0]
        self.label.setText(words)
        self.place_label(steps, logs, front, float(value))

    def place_label(self, steps: np.ndarray, logs: np.ndarray, front: int, value: float) -> None:
        """Beside the front, where it covers none of the wave's markers: above it first (its
        anchor sliding from the label's left end at t = 1 to its right end at t = T, so that it
        never leaves the plot), then below it, then in a corner of the plot; the placement that
        covers the fewest markers where none is free. The wave rises towards the loss, so above
        the front at t = 1 sat on the markers of t = 2, 3, ... (the lesson's scene 2)."""
        vb = self.panel.plot.vb
        slide = front / max(len(steps) - 1, 1)
        (left, right), (low, high) = vb.viewRange()
        x, y = float(steps[front]), value
        inset_x = 6 * (right - left) / max(vb.width(), 1.0)  # the corners: 6 px in from the edges
        inset_y = 6 * (high - low) / max(vb.height(), 1.0)
        left, right, low, high = left + inset_x, right - inset_x, low + inset_y, high - inset_y
        candidates = [((slide, 1.0), (x, y)), ((slide, 0.0), (x, y)), ((0.0, 0.0), (left, high)),
                      ((1.0, 0.0), (right, high)), ((0.0, 1.0), (left, low)), ((1.0, 1.0), (right, low))]
        drawn = np.isfinite(logs)
        markers = [vb.mapViewToScene(QPointF(float(t), float(v)))
                   for t, v in zip(steps[drawn], logs[drawn], strict=True)]
        radius = self.curve.opts["symbolSize"] / 2 + 2
        area = vb.sceneBoundingRect()
        best = None
        for anchor, at in candidates:
            box = self._box_at(anchor, at)
            if not area.contains(box):
                continue
            covered = sum(1 for point in markers if box.adjusted(-radius, -radius, radius, radius).contains(point))
            if best is None or covered < best[0]:
                best = (covered, anchor, at)
            if covered == 0:
                break
        anchor, at = (best[1], best[2]) if best is not None else candidates[0]
        self.label.setAnchor(anchor)
        self.label.setPos(*at)

    def _box_at(self, anchor: tuple[float, float], at: tuple[float, float]) -> QRectF:
        """The label's rectangle in scene pixels were it anchored at ``anchor`` on the data point
        ``at`` (a TextItem keeps its size in pixels, whatever the view's scale)."""
        size = self.label.textItem.boundingRect()
        point = self.panel.plot.vb.mapViewToScene(QPointF(*at))
        return QRectF(point.x() - anchor[0] * size.width(), point.y() - anchor[1] * size.height(),
                      size.width(), size.height())

    def clear(self) -> None:
        if self.shown:
            self.panel.plot.removeItem(self.curve)
            self.panel.plot.removeItem(self.label)
            self.shown = False

    def drawn(self) -> np.ndarray:
        """The drawn curve's values, as gradient norms (NaN where not reached yet)."""
        _, logs = self.curve.getData()
        return np.power(10.0, logs) if logs is not None else np.empty(0)


def front_words(wave: BackwardWave, front: int) -> str:
    """What the label at the wave's front says: the gain the gradient really took from the step
    after (x0.83), then the measured factor of this step's Jacobian (a bound: a tanh RNN's can
    exceed 1 while its gradient shrinks, because the gradient is not along the direction the
    Jacobian stretches most)."""
    factor = wave.factor[front]
    parts = []
    if front + 1 < wave.steps and np.isfinite(wave.gain[front + 1]):
        parts.append(f"x{wave.gain[front + 1]:.2g}")
    parts.append(f"{wave.factor_name} {factor:.2f}" if np.isfinite(factor) else "t = 1")
    return " · ".join(parts)


class BackwardAnimation(QObject):
    """Plays the waves of one step on every column at once, in ``seconds``."""

    finished = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.overlays: list[WaveOverlay] = []
        self.waves: list[BackwardWave | None] = []
        self.step = -1
        self._reached = 1  # timesteps of the backward pass drawn so far
        self._started = 0.0
        self._seconds = 3.0
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self.stop)

    @property
    def running(self) -> bool:
        return self._timer.isActive() or self._hold.isActive()

    def play(self, overlays: list[WaveOverlay], waves: list[BackwardWave | None], step: int, seconds: float) -> None:
        self.stop()
        self.overlays, self.waves, self.step = overlays, waves, step
        self._seconds = max(0.1, seconds)
        self._started = time.perf_counter()
        self._tick()
        self._timer.start()

    def _tick(self) -> None:
        steps = max((wave.steps for wave in self.waves if wave is not None), default=0)
        if not steps:
            self.stop()
            return
        progress = min(1.0, (time.perf_counter() - self._started) / self._seconds)
        self._draw(max(1, math.ceil(progress * steps)))
        if progress >= 1.0:
            self._timer.stop()
            self._hold.start(round(1000 * HOLD_S))

    def _draw(self, reached: int) -> None:
        self._reached = reached
        for overlay, wave in zip(self.overlays, self.waves, strict=False):
            if wave is not None:
                overlay.show(wave, min(reached, wave.steps))

    def apply_style(self, style: PlotStyle) -> None:
        """A theme or presentation switch while a wave is shown: its curve, markers and label
        follow at once, drawn again where the wave is (the curve kept the old theme's colour,
        dark on dark after light to dark, and the label its old size)."""
        for overlay in self.overlays:
            overlay.apply_style(style)
        if self.running:
            self._draw(self._reached)

    def finish_now(self) -> None:
        """Jump to the whole wave (a screenshot, an export, a test)."""
        if self._timer.isActive():
            self._started -= self._seconds
            self._tick()

    def stop(self) -> None:
        was_running = self.running
        self._timer.stop()
        self._hold.stop()
        for overlay in self.overlays:
            overlay.clear()
        if was_running:
            self.finished.emit()


class WaveExport(QObject):
    """Writes an animation (``io.backward_animation``) in a thread: a GIF of a long sequence
    takes seconds, and the window must not freeze meanwhile. ``done`` or ``failed`` carries the
    message, emitted in the GUI thread."""

    done = Signal(str)
    failed = Signal(str)

    def __init__(self, waves: list, path: Path, seconds: float, parent: QObject | None = None):
        super().__init__(parent)
        self.waves, self.path, self.seconds = waves, path, seconds
        self.result: list[Path] | Exception | None = None
        self._thread = threading.Thread(target=self._write, name="gradviz-wave-export", daemon=True)
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check)

    def start(self) -> None:
        self._thread.start()
        self._poll.start()

    def _write(self) -> None:
        from gradviz.io.backward_animation import write_animation

        try:
            self.result = write_animation(self.waves, self.path, duration=self.seconds, force=True)
        except (OSError, ValueError) as exc:
            self.result = exc

    def _check(self) -> None:
        if self._thread.is_alive():
            return
        self._poll.stop()
        if isinstance(self.result, Exception):
            self.failed.emit(f"Could not write {self.path}: {self.result}")
        elif self.result:
            written = self.result
            where = written[0].name if len(written) == 1 else f"{len(written)} PNGs ({written[0].name}, ...)"
            self.done.emit(f"Wrote the backward pass: {where}")

    def wait(self, timeout_s: float = 60.0) -> None:
        """Block until written (tests, a closing window)."""
        self._thread.join(timeout_s)
        self._check()
