"""The window's part of ``gradviz bench``: frame times and training speed of the real window,
offscreen, under full training load (run by ``gradviz.bench`` in a child interpreter of its
own, since it builds a QApplication and sets torch's thread count as the app does)."""

from __future__ import annotations

import functools
import math
import statistics
import time
from collections.abc import Callable

import torch

from gradviz.bench import insight_reached, lstm_index, percentile
from gradviz.config import RunConfig
from gradviz.engine import Run
from gradviz.probes.history import RunHistory


def gui_numbers(config: RunConfig, seconds: float, insight: RunConfig | None = None,
                insight_limit_s: float = 120.0, cycles: int = 3) -> dict:
    """Frame times and training speed of the real window under full training load.

    Call in a process of its own (``gui_child``): it builds a QApplication, sets torch's thread
    count as the app does, and leaves both behind.
    """
    import pyqtgraph as pg

    from gradviz.gui.app import application, share_cores_with_painting
    from gradviz.gui.theme import DARK, apply_theme

    app = application(offscreen=True)
    apply_theme(DARK)
    share_cores_with_painting()  # what the app does: the headless comparison runs the same way
    from gradviz.gui.main_window import MainWindow

    result: dict = {"gui_torch_threads": torch.get_num_threads()}
    headless = Run(config)
    history = RunHistory(len(config.models))

    def train_headless(duration: float) -> float:
        for _ in range(2):  # warm-up
            history.add(headless.train_step())
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < duration:
            history.add(headless.train_step())
            done += 1
        return done / (time.perf_counter() - started)

    window = MainWindow(config, autostart=False)
    window.ask_before_discard = False
    window.show()
    frames: list[float] = []
    original = window.refresh

    # A frame: the refresh slot, plus the paint events of the plots that it caused (Qt runs
    # them right after the slot; timed by wrapping each plot view's paintEvent).
    painting = [0.0]

    def timed_paint(event, paint) -> None:
        started = time.perf_counter()
        paint(event)
        painting[0] += time.perf_counter() - started

    for view in window.findChildren(pg.GraphicsView):
        view.paintEvent = functools.partial(timed_paint, paint=view.paintEvent)

    def timed_refresh() -> None:
        if frames:
            frames[-1] += painting[0]
        painting[0] = 0.0
        started = time.perf_counter()
        if original():
            frames.append(time.perf_counter() - started)

    window.timer.timeout.disconnect()
    window.timer.timeout.connect(timed_refresh)
    _spin(app, 0.5, lambda: window.worker.run is not None)
    # Warm-up: the first frames lay the plots out once; a user sees that as the window opening.
    window.worker.start()
    _spin(app, 2.0)
    window.worker.pause()
    _spin(app, 2.0, lambda: window.worker.state != "running")
    frames.clear()
    # Headless and windowed phases take turns, so that load drifting on the machine hits both.
    headless_rates, window_rates = [], []
    for _ in range(cycles):
        headless_rates.append(train_headless(seconds / cycles / 2))
        window.timer.start()
        window.worker.start()
        first_step, started = window.worker.run.step, time.perf_counter()
        _spin(app, seconds / cycles / 2)
        window_rates.append((window.worker.run.step - first_step) / (time.perf_counter() - started))
        window.worker.pause()
        window.timer.stop()
        _spin(app, 2.0, lambda: window.worker.state != "running")
    window.close()
    headless_rate, window_rate = statistics.mean(headless_rates), statistics.mean(window_rates)
    result.update(
        gui_frames=len(frames),
        gui_frame_ms_p50=percentile(frames, 50) * 1000 if frames else None,
        gui_frame_ms_p95=percentile(frames, 95) * 1000 if frames else None,
        headless_steps_per_s=headless_rate,
        window_steps_per_s=window_rate,
        gui_training_slowdown=headless_rate / window_rate if window_rate > 0 else math.inf,
    )
    if insight is not None:
        result["seconds_to_insight_window"] = _window_insight(app, MainWindow, insight, insight_limit_s)
    return result


def _spin(app, seconds: float, done: Callable[[], bool] | None = None) -> None:
    """Run an event loop as ``app.exec()`` does, for ``seconds`` or until ``done()``.

    A local QEventLoop: ending ``app.exec()`` would emit aboutToQuit (pyqtgraph and Qt clean
    up on it), and a loop of processEvents and sleeps would take the GIL from the training
    thread every few milliseconds, far more often than the app ever does.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    end = time.perf_counter() + seconds
    loop = QEventLoop()

    def check() -> None:
        if time.perf_counter() >= end or (done is not None and done()):
            loop.quit()

    poll = QTimer()
    poll.setInterval(50)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()


def _window_insight(app, window_class, config: RunConfig, limit_s: float) -> float | None:
    """Seconds from opening the window until a painted frame shows the insight."""
    started = time.perf_counter()
    window = window_class(config, autostart=True)
    window.ask_before_discard = False
    window.show()
    index = lstm_index(config)
    reached: list[float] = []

    def check() -> bool:
        frame, baseline = window.last_frame, window.worker.baseline
        if frame is None or baseline is None or reached:
            return bool(reached)
        if insight_reached(frame.scalars["loss"][:, index], baseline.loss / 2):
            reached.append(time.perf_counter() - started)
        return bool(reached)

    _spin(app, limit_s, check)
    window.close()
    return reached[0] if reached else None
