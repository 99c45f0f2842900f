"""Start the app: a QApplication, the main window on a preset, and the --screenshot mode."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gradviz.config import RunConfig
from gradviz.gui.theme import DARK, apply_theme
from gradviz.presets import DEFAULT_PRESET, load_preset

SCREENSHOT_TIMEOUT_S = 600


class NoDisplayError(RuntimeError):
    """There is no screen to open a window on."""


def _has_display() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def application(offscreen: bool = False) -> QApplication:
    """The QApplication; ``offscreen`` renders without a screen (screenshots, tests)."""
    if QApplication.instance() is None:
        if offscreen and not _has_display():
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        elif not _has_display():
            raise NoDisplayError(
                "no screen found (DISPLAY is not set): run gradviz on a desktop, or use "
                "'gradviz --screenshot FILE.png' or the headless commands (gradviz train --help)"
            )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("gradviz")
    app.setOrganizationName("gradviz")
    return app


def share_cores_with_painting() -> None:
    """Leave one CPU core to the GUI thread: on a 2-core laptop, torch's second intra-op
    thread gains training little and starves painting (measured: 18 vs 13 frames/s)."""
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


def run_app(
    config: RunConfig | None = None,
    preset: str | None = None,
    screenshot: Path | None = None,
    steps: int = 300,
    size: tuple[int, int] | None = None,
    presentation: bool = False,
    theme: str | None = None,
    layout: Path | None = None,
) -> int:
    """Open the window (training at once); with ``screenshot``, save it after ``steps`` and exit,
    at ``size`` (the screen it stands for), in presentation mode and ``theme`` if asked, and
    with ``layout`` write the layout report of that moment."""
    app = application(offscreen=screenshot is not None)
    apply_theme(DARK)
    share_cores_with_painting()
    from gradviz.gui.main_window import MainWindow  # after the theme: plots read it when built

    chosen = load_preset(preset or DEFAULT_PRESET) if config is None or preset else None
    window = MainWindow(chosen.config if chosen else config, preset=chosen)
    window.ask_before_discard = screenshot is None
    if size:
        window.resize(*size)
    if theme:
        window.theme_name = theme  # for this picture only: the user's saved choice stays
        window.apply_style()
    window.show()
    if screenshot is None:
        return app.exec()
    if presentation:
        window.full_screen = False  # the picture stands for a screen of --size: fill that
        window.toggle_presentation()
    return _screenshot(app, window, screenshot, steps, layout)


def _screenshot(app: QApplication, window, path: Path, steps: int, layout: Path | None = None) -> int:
    started = time.monotonic()
    result = {"code": 0}

    def check() -> None:
        frame = window.last_frame
        refused = window.banner.isVisible() and window.worker.run is None  # e.g. a bad text file
        # Failed, diverged, or paused because one model diverged: training will not go on by itself.
        failed = window.banner.isVisible() and window.worker.state != "running"
        done = frame is not None and frame.steps_done >= steps
        if refused:
            print(f"gradviz: error: {window.banner.text()}", file=sys.stderr)
            result["code"] = 2
        elif not (done or failed or time.monotonic() - started > SCREENSHOT_TIMEOUT_S):
            return
        else:
            write()
        timer.stop()
        window.close()
        app.quit()

    def write() -> None:
        window.worker.pause()
        window.paint_now()
        window.board.hide_readouts()
        app.processEvents()
        window.board.arrange()
        app.processEvents()
        if not window.grab().save(str(path)):
            print(f"gradviz: error: could not write {path}", file=sys.stderr)
            result["code"] = 2
            return
        print(f"wrote {path} at step {window.last_frame.steps_done if window.last_frame else 0}")
        if layout is not None:
            from gradviz.gui.layout_report import layout_report
            from gradviz.io.atomic import atomic_write

            report = json.dumps(layout_report(window), indent=1).encode()
            try:
                atomic_write(layout, lambda stream: stream.write(report), force=True)
            except OSError as exc:
                print(f"gradviz: error: could not write {layout}: {exc}", file=sys.stderr)
                result["code"] = 2
                return
            print(f"wrote {layout}")

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(check)
    timer.start()
    app.exec()
    return result["code"]
