"""The window's part of ``gradviz bench``: frame times and training speed of the real window,
offscreen, under full training load, against the same training headless.

Run by ``gradviz bench`` as a module of its own (``python -m gradviz.gui.window_bench gui
SPEC``), in a fresh interpreter: it builds a QApplication. The window trains in its trainer
process; the headless phases train in this process with the trainer's thread count, and the
two take turns so that load drifting on the machine hits both.
"""

from __future__ import annotations

import functools
import json
import math
import statistics
import sys
import time
from collections.abc import Callable

import torch

from gradviz.bench_stats import CHILD_MARK, insight_reached, lstm_index, percentile
from gradviz.config import RunConfig
from gradviz.engine import Run
from gradviz.probes.history import RunHistory
from gradviz.session.protocol import RUNNING
from gradviz.threads import apply_threads, torch_threads


def gui_numbers(config: RunConfig, seconds: float, demo: RunConfig | None = None, insight: RunConfig | None = None,
                insight_limit_s: float = 120.0, cycles: int = 3) -> dict:
    """Frame times and training speed of the real window under full training load, and the
    default demo's steps/s in the window against headless. Call in a process of its own."""
    from gradviz.gui.app import application
    from gradviz.gui.theme import DARK, apply_theme

    app = application(offscreen=True)
    apply_theme(DARK)
    from gradviz.gui.main_window import MainWindow

    apply_threads(torch_threads(config, reserve=1))  # as the trainer process does for this run
    result: dict = {"gui_torch_threads": torch.get_num_threads()}
    frames, headless, window = _rates(app, MainWindow, config, seconds, cycles)
    result.update(
        gui_frames=len(frames),
        gui_frame_ms_p50=percentile(frames, 50) * 1000 if frames else None,
        gui_frame_ms_p95=percentile(frames, 95) * 1000 if frames else None,
        headless_steps_per_s=headless,
        window_steps_per_s=window,
        gui_training_slowdown=headless / window if window > 0 else math.inf,
    )
    if demo is not None:
        _, headless, window = _rates(app, MainWindow, demo, seconds, cycles)
        result.update(demo_headless_steps_per_s=headless, demo_window_steps_per_s=window,
                      demo_window_slowdown=headless / window if window > 0 else math.inf)
    if insight is not None:
        result["seconds_to_insight_window"] = _window_insight(app, MainWindow, insight, insight_limit_s)
    return result


def _rates(app, window_class, config: RunConfig, seconds: float, cycles: int) -> tuple[list[float], float, float]:
    """(frame seconds, headless steps/s, window steps/s), headless and windowed phases in turn."""
    headless_run = Run(config)
    history = RunHistory(len(config.models))

    def train_headless(duration: float) -> float:
        for _ in range(2):  # warm-up
            history.add(headless_run.train_step())
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < duration:
            history.add(headless_run.train_step())
            done += 1
        return done / (time.perf_counter() - started)

    window = window_class(config, autostart=False)
    window.ask_before_discard = False
    window.show()
    session = window.session
    frames = _time_frames(window)
    _spin(app, 120.0, lambda: session.active is not None)  # the trainer process starts and builds
    # Warm-up: the first frames lay the plots out once; a user sees that as the window opening.
    session.start()
    _spin(app, 2.0)
    session.pause()
    _spin(app, 2.0, lambda: session.trainer_state != RUNNING)
    frames.clear()
    headless_rates, window_rates = [], []
    for _ in range(cycles):
        headless_rates.append(train_headless(seconds / cycles / 2))
        session.start()
        # Counted from the first frame after the start to the last frame of the phase.
        _spin(app, 5.0, lambda: session.frame is not None and session.frame.state == RUNNING)
        first_step, started = session.steps_done, time.perf_counter()
        _spin(app, seconds / cycles / 2)
        window_rates.append((session.steps_done - first_step) / (time.perf_counter() - started))
        session.pause()
        _spin(app, 2.0, lambda: session.trainer_state != RUNNING)
    window.close()
    return frames, statistics.mean(headless_rates), statistics.mean(window_rates)


def _time_frames(window) -> list[float]:
    """The window's frames, timed from now on: each the refresh slot plus the paint events of
    the plots it caused (Qt runs them right after the slot; timed by wrapping each plot view's
    paintEvent). The list fills as the window paints."""
    import pyqtgraph as pg

    frames: list[float] = []
    original = window.refresh
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
    return frames


def _spin(app, seconds: float, done: Callable[[], bool] | None = None) -> None:
    """Run an event loop as ``app.exec()`` does, for ``seconds`` or until ``done()``.

    A local QEventLoop: ending ``app.exec()`` would emit aboutToQuit (pyqtgraph and Qt clean
    up on it), and the window's own timer keeps polling the session as it does in the app.
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
        frame, baseline = window.last_frame, window.session.baseline
        if frame is None or baseline is None or reached:
            return bool(reached)
        if insight_reached(frame.scalars["loss"][:, index], baseline.loss / 2):
            reached.append(time.perf_counter() - started)
        return bool(reached)

    _spin(app, limit_s, check)
    window.close()
    return reached[0] if reached else None


def main(argv: list[str]) -> int:
    task, spec = argv[0], json.loads(argv[1])
    if task != "gui":
        raise SystemExit(f"unknown window bench {task!r}")
    demo = RunConfig.from_dict(spec["demo"]) if spec.get("demo") else None
    insight = RunConfig.from_dict(spec["insight"]) if spec.get("insight") else None
    out = gui_numbers(RunConfig.from_dict(spec["config"]), spec["seconds"], demo, insight, spec["insight_limit_s"])
    print(CHILD_MARK + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
