"""The window's process never imports torch: torch (and, on a GPU, CUDA) lives in the trainer
and sweep children only. That keeps CUDA-after-fork impossible by construction and the window
quick to show.

Checked in fresh interpreters (this test process has imported torch long ago): importing the
GUI, and a window whose trainer trains and sends it everything it can send (frames, the
baseline, the backward wave, the connectivity matrices, a review's words, the evaluation).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(script: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_importing_the_gui_leaves_torch_out():
    result = run_fresh("""
        import sys
        import gradviz.cli, gradviz.gui.app, gradviz.gui.main_window, gradviz.gui.export_dialog
        import gradviz.figures, gradviz.io.backward_animation, gradviz.sweep.runner
        print("TORCH", "torch" in sys.modules)
        import gradviz.session.trainer  # the check can fail: the trainer's module does import torch
        print("TORCH", "torch" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["TORCH", "False", "TORCH", "True"]


def test_a_window_with_a_trainer_running_leaves_torch_out(tmp_path):
    result = run_fresh("""
        import dataclasses, sys, time
        from PySide6.QtCore import QSettings
        from gradviz.config import TaskConfig
        from gradviz.gui.app import application
        from gradviz.gui.theme import DARK, apply_theme
        from tests.configs import small_config

        app = application(offscreen=True)
        apply_theme(DARK)
        from gradviz.gui.main_window import MainWindow
        from gradviz.session import protocol as p

        # A text task, so that a review's words and the evaluation can be asked for too.
        config = dataclasses.replace(small_config(), task=TaskConfig("reviews", seq_len=8, batch=8, distance=3))
        settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)  # not the user's settings
        window = MainWindow(config, autostart=True, settings=settings)
        window.ask_before_discard = False
        window.show()
        session, seen = window.session, set()
        session.waveReady.connect(lambda step, waves: seen.add(type(waves[0]).__name__))
        session.wordsReady.connect(lambda report: seen.add(type(report).__name__))
        session.evaluated.connect(lambda report: seen.add(type(report).__name__))
        session.connectivityReady.connect(lambda step, matrices: seen.add(type(matrices[0]).__name__))
        session.reportFailed.connect(lambda name, message: print("FAILED", name, message))
        asked = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            app.processEvents()
            session.poll()
            if session.steps_done >= 2 and not asked:
                session.ask_wave()
                session.trainer.send(p.AskWords(0))
                session.evaluate()
                asked.add("first")
            if "BackwardWave" in seen and "connectivity" not in asked:
                session.ask_connectivity()
                asked.add("connectivity")
            if {"Connectivity", "WordReport", "EvaluationReport"} <= seen:
                break
            time.sleep(0.02)
        seen.add(type(session.baseline).__name__)
        print("SEEN", " ".join(sorted(seen)))
        print("PAINTED", window.frames_painted > 0)
        print("TORCH", "torch" in sys.modules)
        window.close()
        session.trainer.settle()
    """, str(tmp_path / "settings.ini"), timeout=150)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    # Everything the trainer sends arrived, unpickled in the window's process:
    assert lines["SEEN"].split() == ["BackwardWave", "Baseline", "Connectivity", "EvaluationReport", "WordReport"]
    assert lines["PAINTED"] == "True"
    assert lines["TORCH"] == "False"
