"""Saving a run after its trainer died (issue 25): the window's process writes the copy it holds
in a thread, so the window keeps painting; the status bar says so as it goes; the file is whole;
and closing the window waits for it."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from gradviz.io.runfile import load_run
from gradviz.session.protocol import DEAD
from tests.gui.conftest import steps_done, trainer_arrays

WRITE_S = 1.0  # the write is made to take this long: a large run's compression (about 1 s measured)


@pytest.fixture
def slow_write(monkeypatch):
    """``save_arrays_kept`` as a large run makes it: ``WRITE_S`` longer than a small one."""
    from gradviz.io import runfile

    real = runfile.save_arrays_kept

    def slow(*args, **kwargs):
        time.sleep(WRITE_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(runfile, "save_arrays_kept", slow)


def _dead_with_a_held_run(qtbot, window) -> dict:
    """Train, let the window hold the run's arrays, kill the trainer; returns what it holds."""
    window.session.start()
    qtbot.waitUntil(lambda: steps_done(window) >= 4, timeout=60000)
    trainer_arrays(qtbot, window)  # the window holds the run up to now (as its periodic copy does)
    held = window.session.held
    assert window.session.held_steps >= 4
    os.kill(window.session.trainer.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.session.trainer_state == DEAD, timeout=10000)
    return held


def _assert_whole(path, held: dict) -> None:
    saved = load_run(path)  # the recorded history the window held, step for step
    for name in ("step", "loss", "grad_norm"):
        if name in held:
            np.testing.assert_array_equal(saved.arrays[name], held[name])


def test_saving_after_the_trainer_died_keeps_the_window_painting(qtbot, make_window, tmp_path, slow_write):
    window = make_window(record_every=1)
    held = _dead_with_a_held_run(qtbot, window)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    said: list[str] = []
    window.statusBar().messageChanged.connect(said.append)
    saved: list[str] = []
    window.session.runSaved.connect(lambda path: saved.append(path) or ticks.append(-time.monotonic()))
    path = tmp_path / "run.npz"

    began = time.monotonic()
    window.session.save(path, force=True)
    assert time.monotonic() - began < 0.5  # handed to a thread (it took WRITE_S on the GUI thread)
    qtbot.waitUntil(lambda: bool(saved), timeout=30000)
    timer.stop()
    ended = -min(t for t in ticks if t < 0)
    during = [t for t in ticks if began < t < ended]
    # The GUI thread's timer went on ticking while the file was written (none with the old code).
    assert ended - began >= WRITE_S and len(during) >= 10, (ended - began, len(during))
    assert any(text.startswith("Saving run.npz (the run as the window holds it) · ") for text in said), said
    assert window.statusBar().currentMessage() == f"Saved {path}"
    assert f"(recorded up to step {int(held['step'][-1]) + 1}; " in window.banner.text()
    assert "replays but cannot train on" in window.banner.text()
    assert window.session.saving is None and window.session.save_progress() is None
    _assert_whole(path, held)


def test_closing_while_a_dead_trainers_run_is_written_waits_for_the_file(qtbot, make_window, tmp_path,
                                                                         slow_write):
    window = make_window(record_every=1)
    held = _dead_with_a_held_run(qtbot, window)
    said: list[str] = []
    window.statusBar().messageChanged.connect(said.append)
    path = tmp_path / "run.npz"
    window.session.save(path, force=True)
    window.ask_before_discard = False
    began = time.monotonic()
    window.close()
    assert time.monotonic() - began >= WRITE_S * 0.8  # it waited for the write
    assert any(text.startswith("Closing once run.npz is written") for text in said), said
    _assert_whole(path, held)
    assert not list(tmp_path.glob(".*.part"))


def test_a_failed_save_of_a_dead_trainers_run_is_said(qtbot, make_window, tmp_path, monkeypatch):
    from gradviz.io import runfile

    def full(*args, **kwargs):  # here and in the fallback folder: nothing could be written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runfile, "save_arrays_kept", full)
    window = make_window(record_every=1)
    _dead_with_a_held_run(qtbot, window)
    path = tmp_path / "run.npz"
    window.session.save(path, force=True)
    qtbot.waitUntil(lambda: window.session.saving is None, timeout=20000)
    assert window.banner.text() == f"Could not save {path}: [Errno 28] No space left on device"
    assert window.session.run_path is None and not path.exists()


def test_the_save_dialog_offers_the_preset_and_step_never_an_existing_file(qtbot, make_window, tmp_path,
                                                                            monkeypatch):
    """It offered "run.npz" every time: the second save proposed overwriting the first run."""
    from PySide6.QtWidgets import QFileDialog

    from gradviz.presets import load_preset

    window = make_window()
    folder = tmp_path / "runs"
    folder.mkdir()
    window.settings.setValue("folder", str(folder))
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=30000)
    offered = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, *args, **kwargs: (offered.append(start), "")[1:] + ("",))
    window.files.save_run(ask=True)  # cancelled: nothing written
    assert offered[-1] == str(folder / "run-step1.npz") and not list(folder.iterdir())
    (folder / "run-step1.npz").write_bytes(b"a run saved before")
    window.files.save_run(ask=True)
    assert offered[-1] == str(folder / "run-step1-2.npz")
    preset = load_preset("vanishing")
    window.set_preset(preset, window.board.config)
    window.files.save_run(ask=True)
    assert offered[-1] == str(folder / f"{preset.name}-step1.npz")
