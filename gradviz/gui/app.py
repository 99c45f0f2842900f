"""Start the app: a QApplication, the main window on a preset, and the --screenshot mode.

Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal it was started from closed) closes the window as
its close button would (a save in progress is finished first), without asking about
unsaved work, and the app exits with 128 + the signal's number (before the window is up, the
command line's handler ends the process at once: nothing is open yet). Python's handlers only run
between bytecodes, so the signal is also written to a socket the Qt event loop watches
(``signal.set_wakeup_fd``), which wakes the loop at once even while nothing else happens.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSocketNotifier, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gradviz.assets import icon_path
from gradviz.config import RunConfig
from gradviz.forkserver import warm_up
from gradviz.gui.startup import StartSplash, TrainerStartNote
from gradviz.io.atomic import write_with_fallback
from gradviz.presets import DEFAULT_PRESET, Preset, load_preset

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
    app.setDesktopFileName("gradviz")  # Wayland and taskbars match the window to gradviz.desktop
    app.setWindowIcon(QIcon(str(icon_path())))
    return app


def run_app(
    config: RunConfig | None = None,
    preset: str | None = None,
    screenshot: Path | None = None,
    steps: int = 300,
    size: tuple[int, int] | None = None,
    force: bool = False,
    presentation: bool = False,
    theme: str | None = None,
    layout: Path | None = None,
    lesson=None,
) -> int:
    """Open the window (training at once), in presentation mode if asked (full screen); with
    ``screenshot``, save it after ``steps`` and exit, at ``size`` (the screen it stands for), in
    presentation mode and ``theme`` if asked, and with ``layout`` write the layout report of
    that moment."""
    started = time.monotonic()
    warm_up()  # the trainers' fork server imports torch while the window is built
    app = application(offscreen=screenshot is not None)
    chosen = load_preset(preset or DEFAULT_PRESET) if config is None or preset else None
    # -- lesson (gradviz/gui/lesson/): the window opens on the scene's run, which the lesson starts --
    if lesson is not None:
        scene = lesson[0].scenes[lesson[1] - 1]
        chosen, config, steps = None, scene.config(), scene.steps
    # -- end lesson --
    # A picture needs no splash: nobody waits in front of it.
    window = open_window(chosen.config if chosen else config, chosen, started, splash=screenshot is None,
                         size=size, theme=theme, autostart=lesson is None)
    window.ask_before_discard = screenshot is None
    if presentation:  # F5 at once: a lecturer's --lesson rnn --presentation, or a picture in it
        if screenshot is not None:
            window.full_screen = False  # the picture stands for a screen of --size: fill that
        window.toggle_presentation()
    # -- lesson --
    if lesson is not None:
        from gradviz.gui.lesson import attach

        attach(window, *lesson)
    # -- end lesson --
    with _CloseOnSignals(app, window) as signals:
        code = app.exec() if screenshot is None else _screenshot(app, window, screenshot, steps, force, layout)
    if signals.received is not None:
        print(f"gradviz: {signal.Signals(signals.received).name}: closed", file=sys.stderr)
        code = 128 + signals.received
    _stop_trainer(window)
    return code


def open_window(config: RunConfig, preset: Preset | None, started: float, splash: bool = True,
                size: tuple[int, int] | None = None, theme: str | None = None, autostart: bool = True):
    """The main window on ``config`` (``preset``'s, if given), shown at ``size`` in ``theme``
    (for a picture only: the user's saved theme stays) if given. With ``splash``, a splash
    is on screen first, before pyqtgraph and the window's modules are imported (seconds on a
    busy machine); the window's plots then say that the trainer is starting until its first
    frame, in seconds since ``started`` (``time.monotonic()`` at launch)."""
    app = QApplication.instance()
    shown = StartSplash(app.windowIcon()) if splash else None
    if shown is not None:
        shown.show()
        shown.say("opening the window…")
    from gradviz.gui.theme import DARK, apply_theme

    apply_theme(DARK)
    if shown is not None:
        shown.say("building the window…")  # no seconds: nothing can count them on until it is built
    from gradviz.gui.main_window import MainWindow  # after the theme: plots read it when built

    window = MainWindow(config, preset=preset, autostart=autostart)  # a lesson starts its scene itself
    window.start_note = TrainerStartNote(window, started)
    if size:
        window.resize(*size)
    if theme:
        window.theme_name = theme
        window.apply_style()
    window.show()
    if shown is not None:
        shown.finish(window)
    return window


def _stop_trainer(window) -> None:
    """Closing the window stops its trainer process; if the window did not close (or the
    trainer outlived that wait, or was still starting), end the child here, so that no orphan
    process remains and none dies with a traceback as this process exits."""
    session = window.session
    if session.trainer.alive:
        session.close()
    session.trainer.settle()
    window.settings.sync()


class _CloseOnSignals:
    """While active, SIGINT, SIGTERM and (where it exists) SIGHUP close ``window`` and quit ``app``
    from the event loop."""

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __init__(self, app: QApplication, window):
        self.app, self.window = app, window
        self.received: int | None = None

    def __enter__(self) -> _CloseOnSignals:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._old = {number: signal.signal(number, self._note) for number in self.SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._woken)
        return self

    def __exit__(self, *exc) -> None:
        self._notifier.setEnabled(False)
        for number, handler in self._old.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._old_fd)
        self._reader.close()
        self._writer.close()

    def _note(self, number: int, frame) -> None:
        # Runs in the main thread between bytecodes; closing happens in _woken, from the loop.
        if self.received is None:
            self.received = number

    def _woken(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except OSError:
            pass
        if self.received is not None:
            self.window.ask_before_discard = False  # the user asked to quit: no dialog to block it
            self.window.close()
            self.app.quit()


def png_bytes(pixmap) -> bytes:
    """A pixmap as PNG bytes, so that the file can be written atomically."""
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buffer, "PNG")
    buffer.close()
    return bytes(array.data())


def _write_layout(window, layout: Path) -> int:
    """--layout: where every plot and text of ``window`` is, as JSON; the exit code."""
    from gradviz.gui.layout_report import layout_report
    from gradviz.gui.lesson.report import with_lesson  # lesson: its panel's texts too
    from gradviz.io.atomic import atomic_write

    report = json.dumps(with_lesson(window, layout_report(window)), indent=1).encode()
    try:
        atomic_write(layout, lambda stream: stream.write(report), force=True)
    except OSError as exc:
        print(f"gradviz: error: could not write {layout}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {layout}")
    return 0


def _screenshot(app: QApplication, window, path: Path, steps: int, force: bool = False,
                layout: Path | None = None) -> int:
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
        window.board.hide_readouts()
        app.processEvents()
        window.board.arrange()
        app.processEvents()
        data = png_bytes(window.grab())
        try:
            written, note = write_with_fallback(path, lambda stream: stream.write(data), force=force)
        except OSError as exc:
            print(f"gradviz: error: could not write {path}: {exc}", file=sys.stderr)
            result["code"] = 2
            return
        if note:
            print(f"gradviz: {note}", file=sys.stderr)
        print(f"wrote {written} at step {window.last_frame.steps_done if window.last_frame else 0}")
        if layout is not None:
            result["code"] = _write_layout(window, layout)

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(check)
    timer.start()
    app.exec()
    return result["code"]
