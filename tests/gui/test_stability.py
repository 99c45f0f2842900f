"""Guards against stack bugs that crash the app rather than fail a test, and the
``--screenshot`` command end to end."""

import json
import os
import subprocess
import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage


def test_painting_does_not_leak_references_to_none(qtbot):
    """PySide6 6.12.0 drops a reference to None on every paint; on Python 3.11 (None is not
    immortal) the app then aborts with 'none_dealloc' within seconds. pyproject pins it out."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    curve = widget.plot(np.arange(10), np.arange(10))
    widget.resize(400, 300)
    widget.show()
    before = sys.getrefcount(None)
    for _ in range(30):
        curve.setData(np.arange(10), np.random.default_rng(0).random(10))
        widget.grab()
    assert sys.getrefcount(None) >= before - 100


def test_screenshot_command_saves_the_window(tmp_path):
    out = tmp_path / "window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "gradviz", "--screenshot", str(out), "--steps", "12", "--size", "1280x800"],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    assert "wrote" in result.stdout


def test_screenshot_with_a_bad_size_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gradviz", "--screenshot", str(tmp_path / "x.png"), "--size", "huge"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["gradviz: error: --size must look like 1920x1080, got 'huge'"]
    assert not (tmp_path / "x.png").exists()


def test_screenshot_smaller_than_the_minimum_says_the_limits(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gradviz", "--screenshot", str(tmp_path / "x.png"), "--size", "100x100"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gradviz: error: --size must be between 320x240 and 10000x10000, got '100x100'"]


def test_screenshot_of_a_text_run_without_its_file_is_one_clear_line(tmp_path):
    config = tmp_path / "text.json"
    config.write_text('{"task": {"name": "text", "data": "%s"}}' % (tmp_path / "missing.csv"))
    result = subprocess.run(
        [sys.executable, "-m", "gradviz", "--config", str(config), "--screenshot", str(tmp_path / "x.png")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("gradviz")]
    assert len(lines) == 1 and "missing.csv does not exist" in lines[0]
    assert not (tmp_path / "x.png").exists()


def test_screenshot_when_one_of_two_models_diverges_is_taken(tmp_path):
    model = {"kind": "rnn", "nonlinearity": "relu", "hidden": 8, "spectral_radius": 6.0}
    config = {"task": {"name": "adding", "seq_len": 20, "batch": 8}, "record_every": 1, "models": [
        {"label": "no clipping", "model": model, "train": {"optimizer": "sgd", "lr": 10.0, "clip": 0.0}},
        {"label": "clipped", "model": model, "train": {"optimizer": "sgd", "lr": 0.001, "clip": 0.1}}]}
    path = tmp_path / "one_diverges.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(  # the clipped model trains on past the other's divergence
        [sys.executable, "-m", "gradviz", "--config", str(path), "--screenshot", str(tmp_path / "x.png"),
         "--steps", "40"], capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and (tmp_path / "x.png").exists()


def test_log_axis_labels_thin_out_over_many_decades():
    from gradviz.gui.plots.column import log_ticks

    assert [label for _, label in log_ticks(-3.0, 0.0)[0]] == ["0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1"]
    many = log_ticks(-1.0, 35.0)[0]
    assert 2 <= len(many) <= 7 and all(float(label) >= 1 for _, label in many)
