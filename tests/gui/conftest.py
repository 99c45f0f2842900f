"""Fixtures for driving the real window offscreen (QT_QPA_PLATFORM is set in tests/conftest.py)."""

import dataclasses
import gc
import os

import pytest
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from gradviz.config import RunConfig
from gradviz.gui.theme import DARK, apply_theme
from gradviz.io.runfile import SavedRun
from gradviz.session.frames import Frame, frame_from_saved
from tests.configs import small_config  # noqa: F401 - the GUI tests import it from here too


def process_exists(pid: int) -> bool:
    """Whether process ``pid`` is running (a zombie, ended but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def trainer_arrays(qtbot, window, timeout: int = 20000) -> dict:
    """The run file's arrays of the trainer's history so far, asked of the trainer process."""
    window.session.ask_arrays()

    def arrived() -> bool:
        window.session.poll()  # here too: some tests stop the window's paint timer, which polls
        return window.session.arrays is not None

    qtbot.waitUntil(arrived, timeout=timeout)
    return window.session.arrays


def trainer_frame(qtbot, window) -> Frame:
    """What the trainer recorded, as the frame of its last recorded step (from its arrays)."""
    return frame_from_saved(SavedRun(window.session.active, trainer_arrays(qtbot, window)))


def steps_done(window) -> int:
    """Steps the trainer reported (polling the session, for tests that stopped the paint timer)."""
    window.session.poll()
    return window.session.steps_done


def trainer_run(qtbot, window, path):
    """The trainer's run, rebuilt here from a run file it saves to ``path``: same weights, same
    task, so a test can compute what the window shows with the core, independently."""
    from gradviz.io.checkpoint import restore_run
    from gradviz.io.runfile import load_run

    saved_paths: list[str] = []
    window.session.runSaved.connect(saved_paths.append)
    window.session.save(path, force=True)
    qtbot.waitUntil(lambda: str(path) in saved_paths, timeout=20000)
    saved = load_run(path)
    return restore_run(saved.config, saved.arrays)


def paused_after(qtbot, window, steps: int = 6):
    """Train at least ``steps`` steps and pause; the paused step's frame has arrived (not painted)."""
    from gradviz.session.protocol import PAUSED

    window.session.start()
    qtbot.waitUntil(lambda: steps_done(window) >= steps, timeout=30000)
    window.session.pause()
    qtbot.waitUntil(lambda: steps_done(window) >= 0 and window.session.frame.state == PAUSED, timeout=10000)
    return window


def train_and_pause(qtbot, window, steps: int = 6):
    """Train at least ``steps`` steps, pause, and paint the paused step's frame."""
    paused_after(qtbot, window, steps)
    window.paint_now()
    return window


def export_dialog_on(qtbot, window, folder, target: str, file_type: str):
    """The export dialog of ``window`` saving into ``folder``, with ``target`` and ``file_type`` chosen."""
    from gradviz.gui.export_dialog import ExportDialog

    dialog = ExportDialog(window, window.board, str(folder), window.settings)
    qtbot.addWidget(dialog)
    dialog.target.setCurrentIndex(dialog.target.findData(target))
    dialog.file_type.setCurrentIndex(dialog.file_type.findData(file_type))
    return dialog


@pytest.fixture
def answers(monkeypatch):
    """What the window's question boxes answer (Discard unless a test says otherwise)."""
    asked = {"answer": QMessageBox.StandardButton.Discard, "questions": []}

    def question(parent, title, text, *args, **kwargs):
        asked["questions"].append(text)
        return asked["answer"]

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: asked["questions"].append(a[2])))
    return asked


@pytest.fixture
def make_window(qtbot, tmp_path, answers):
    """Build a MainWindow (not started unless asked) with its own settings file; every window
    is closed at the end and its trainer process must have ended."""
    from gradviz.gui.main_window import MainWindow

    apply_theme(DARK)
    windows = []

    def make(config: RunConfig | None = None, autostart: bool = False, **changes):
        config = config or small_config()
        if changes:
            config = dataclasses.replace(config, **changes)
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("sweep_folder", str(tmp_path / "sweeps"))  # not the user's data folder
        window = MainWindow(config, autostart=autostart, settings=settings)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        # Shortcuts go to the active window: make it this one, not whatever a test left active.
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        windows.append(window)
        qtbot.waitUntil(lambda: window.session.active is not None, timeout=60000)
        return window

    yield make
    for window in windows:
        window.ask_before_discard = False  # no modal question may block a teardown
        window.close()
        assert not window.session.trainer.alive
        window.deleteLater()
    # Delete the windows' Qt objects now, while their Python wrappers are whole. Left to the
    # cycle collector, a wrapper's attributes are cleared before Qt deletes its item, and a
    # layout asking a half-cleared LabelItem for its size raised in a later test's event loop
    # (a suite of hundreds of windows; the app has one).
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
