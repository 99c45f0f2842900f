"""Ctrl+E never blocks the window (issue 25 case 9, issue 22's house): with a trainer that is
stopped (SIGSTOP) or busy, the Export dialog opens and its Save returns to the event loop at
once; the file is written when the session answers, from what the window holds, and the
status bar says so."""

from __future__ import annotations

import os
import signal
import time

from PySide6.QtWidgets import QFileDialog

from tests.gui.conftest import steps_done

RETURNS_S = 0.1  # Ctrl+E and the dialog's Save each give the event loop back within this


def _hold_a_recorded_run(qtbot, window) -> None:
    window.session.start()
    qtbot.waitUntil(lambda: steps_done(window) >= 4, timeout=60000)
    window.session.ask_arrays()
    qtbot.waitUntil(lambda: window.session.held_steps > 0, timeout=20000)


def _ctrl_e_and_save(qtbot, window, target, monkeypatch) -> tuple[float, float]:
    """Ctrl+E, choose the loss plot as PNG, Save: the seconds each took to return."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(target), "")))
    window.board.draw_all_pending()  # what Ctrl+E draws first is the painting's time, not the export's
    started = time.perf_counter()
    window.export_action.trigger()
    opened = time.perf_counter() - started
    dialog = window.exporter.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    dialog.target.setCurrentIndex(dialog.target.findData("loss"))
    dialog.file_type.setCurrentIndex(dialog.file_type.findData("png"))
    started = time.perf_counter()
    dialog._save()
    return opened, time.perf_counter() - started


def test_ctrl_e_with_a_stopped_trainer_returns_at_once_and_exports_what_the_window_holds(qtbot, make_window,
                                                                                        tmp_path, monkeypatch):
    window = make_window(record_every=1)
    _hold_a_recorded_run(qtbot, window)
    pid = window.session.trainer.pid
    os.kill(pid, signal.SIGSTOP)  # stopped, and not yet known silent: the session asks and waits for no one
    target = tmp_path / "loss.png"
    try:
        opened, saved = _ctrl_e_and_save(qtbot, window, target, monkeypatch)
        assert opened < RETURNS_S and saved < RETURNS_S
        assert not target.exists()  # not yet: asked of the trainer
        qtbot.waitUntil(target.exists, timeout=20000)  # the session's answer time, then what the window holds
        message = window.statusBar().currentMessage()
        assert message.startswith(f"Exported {target} (the trainer is not answering: exported the run as the "
                                  "window holds it, recorded up to step ")
    finally:
        os.kill(pid, signal.SIGCONT)


def test_ctrl_e_with_a_training_trainer_writes_its_fresh_arrays(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window(record_every=1)
    _hold_a_recorded_run(qtbot, window)  # still training: busy, and answering between two steps
    target = tmp_path / "loss.png"
    opened, saved = _ctrl_e_and_save(qtbot, window, target, monkeypatch)
    assert opened < RETURNS_S and saved < RETURNS_S
    qtbot.waitUntil(target.exists, timeout=20000)
    assert window.statusBar().currentMessage() == f"Exported {target}"
    assert window.export_note == ""
