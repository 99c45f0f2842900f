"""A launch never looks like nothing happened: a splash is painted before the heavy imports
(pyqtgraph, the window's modules; torch never, in the window's process), and the window's empty
plots say "starting the trainer… N s" until its first frame, then never again."""

import json
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from gradviz.gui.startup import STARTING_TRAINER, TrainerStartNote

ROOT = Path(__file__).resolve().parents[2]


def test_the_splash_is_painted_long_before_the_window(tmp_path):
    # One cold start, timed by the script the coordinator runs alone (busy machines stretch
    # every phase alike: the facts are the order and the ratio, not seconds).
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "time_to_window.py"), "--runs", "1"],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = json.loads(done.stdout)[0]
    # Only Qt's widgets were loaded when the splash was painted: no pyqtgraph, no torch.
    assert report["imported_at_splash"] == [""]
    assert 0 < report["splash_median_s"] < 0.5 * report["window_median_s"], report
    assert report["torch_in_window"] is False


def test_the_plots_say_the_trainer_is_starting_until_the_first_frame(qtbot, make_window):
    window = make_window()  # built, not training: no frame yet
    note = TrainerStartNote(window, since=time.monotonic() - 3.2)
    QApplication.processEvents()
    assert window.last_frame is None or window.last_frame.steps_done == 0  # the built run's empty frame
    assert note.shown and note.text() == f"{STARTING_TRAINER} 3 s"
    board = window.board.rect()
    assert board.contains(note.label.geometry())  # over the plots, whole
    qtbot.waitUntil(lambda: note.text() == f"{STARTING_TRAINER} 4 s", timeout=3000)  # it counts on
    window.step_once()
    qtbot.waitUntil(lambda: window.last_frame is not None and window.last_frame.steps_done > 0, timeout=30000)
    qtbot.waitUntil(lambda: not note.shown, timeout=2000)
    note.update()  # later ticks never bring it back
    assert not note.shown


def test_a_failed_start_takes_the_note_away(qtbot, make_window):
    window = make_window()
    note = TrainerStartNote(window, since=time.monotonic())
    assert note.shown
    window.session.banner = "the trainer stopped: it could not import the trainer"
    note.update()
    assert not note.shown  # the red banner says why; "starting" would be false


def test_a_pause_while_starting_takes_the_note_away(qtbot, make_window):
    from gradviz.session.protocol import PAUSED

    window = make_window()
    note = TrainerStartNote(window, since=time.monotonic())
    window.session.trainer_state = PAUSED  # as the trainer reports Space pressed before its first step
    note.update()
    assert not note.shown
