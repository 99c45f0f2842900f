"""Start the app: a QApplication, the main window on a preset, and the --screenshot mode."""

from __future__ import annotations

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


def run_app(
    config: RunConfig | None = None,
    preset: str | None = None,
    screenshot: Path | None = None,
    steps: int = 300,
    size: tuple[int, int] | None = None,
) -> int:
    """Open the window (training at once); with ``screenshot``, save it after ``steps`` and exit."""
    app = application(offscreen=screenshot is not None)
    apply_theme(DARK)
    from gradviz.gui.main_window import MainWindow  # after the theme: plots read it when built

    chosen = load_preset(preset or DEFAULT_PRESET) if config is None or preset else None
    window = MainWindow(chosen.config if chosen else config, preset=chosen)
    window.ask_before_discard = screenshot is None
    if size:
        window.resize(*size)
    window.show()
    if screenshot is None:
        return app.exec()
    return _screenshot(app, window, screenshot, steps)


def _screenshot(app: QApplication, window, path: Path, steps: int) -> int:
    started = time.monotonic()
    result = {"code": 0}

    def check() -> None:
        frame = window.last_frame
        session = window.session
        session.poll()
        refused = session.banner is not None and session.active is None  # e.g. a bad text file
        # Failed, diverged, dead, or paused because one model diverged: training will not go on by itself.
        failed = session.banner is not None and session.trainer_state != "running"
        done = frame is not None and frame.steps_done >= steps
        if refused:
            print(f"gradviz: error: {session.banner}", file=sys.stderr)
            result["code"] = 2
        elif not (done or failed or time.monotonic() - started > SCREENSHOT_TIMEOUT_S):
            return
        else:
            write()
        timer.stop()
        window.close()
        app.quit()

    def write() -> None:
        window.session.pause()
        window.paint_now()
        app.processEvents()
        if not window.grab().save(str(path)):
            print(f"gradviz: error: could not write {path}", file=sys.stderr)
            result["code"] = 2
        else:
            print(f"wrote {path} at step {window.last_frame.steps_done if window.last_frame else 0}")

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(check)
    timer.start()
    app.exec()
    return result["code"]
