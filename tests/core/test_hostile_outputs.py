"""Outputs on a full disk or a missing folder, and a text file that grows while it is read
(issue 25, case 12): a PNG sequence is all or nothing, a GIF's folder is checked before seconds
of drawing, a growing CSV is projected at its real size (its progress never past 100%)."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
import torch

from gradviz.budget import MemoryRefused
from gradviz.config import ModelConfig
from gradviz.io import backward_animation
from gradviz.io.atomic import OutputError
from gradviz.models import build_model
from gradviz.probes.backward_wave import backward_wave
from gradviz.tasks import make_task, textdata


@pytest.fixture
def waves():
    pytest.importorskip("matplotlib")
    task = make_task("adding", 6)
    batch = task.generate(4, torch.Generator().manual_seed(0))
    return [(kind, backward_wave(build_model(ModelConfig(kind=kind, hidden=3), 2, 1, 0), task, *batch))
            for kind in ("rnn", "lstm")]


def test_a_png_sequence_that_fills_the_disk_leaves_no_frame_behind(waves, tmp_path: Path, monkeypatch) -> None:
    real = backward_animation.atomic_write
    count = {"n": 0}

    def filling(path, write, force=False):
        count["n"] += 1
        if count["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write, force=force)

    monkeypatch.setattr(backward_animation, "atomic_write", filling)
    with pytest.raises(OSError, match="No space left"):
        backward_animation.write_animation(waves, tmp_path / "wave.png", size=(240, 160))
    assert count["n"] == 4 and list(tmp_path.iterdir()) == []  # three frames had been written


def test_a_gif_into_a_missing_folder_is_refused_before_any_drawing(waves, tmp_path: Path, monkeypatch) -> None:
    drawn = []
    monkeypatch.setattr(backward_animation, "WaveFigure", lambda *a, **k: drawn.append(1))
    with pytest.raises(OutputError, match="does not exist"):
        backward_animation.write_animation(waves, tmp_path / "gone" / "wave.gif")
    assert drawn == []


def test_a_csv_growing_while_it_is_read_is_projected_at_its_real_size(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "reviews.csv"
    row = "great fun and a lovely film to watch again,pos\n"
    path.write_text("text,label\n" + row * 2000)
    monkeypatch.setattr(textdata, "PROGRESS_EVERY_BYTES", 20_000)
    monkeypatch.setattr(textdata, "MEMORY_CHECK_BYTES", 20_000)
    fractions, checks = [], []

    def grow(done: int, total: int) -> None:  # a writer appending while gradviz reads
        fractions.append(done / total)
        with path.open("a") as stream:
            stream.write(row * 2000)

    def check(read, total, projected, available=None, path=""):
        checks.append((read, total, projected))
        if len(checks) == 12:
            raise MemoryRefused("refused: the file keeps growing")

    monkeypatch.setattr(textdata, "check_text", check)
    with pytest.raises(textdata.TextDataError, match="the file keeps growing"):
        textdata._read_rows(path, "text", "label", grow)
    assert max(fractions) <= 1.0  # was 2355% in the issue
    for read, total, _ in checks:
        assert total >= read  # the size now, not the size when it was opened
    # Projected from the size now: at least what is already held, and growing with the file.
    projections = np.array([projected for _, _, projected in checks])
    assert (np.diff(projections) > 0).all()


def test_a_name_offered_for_a_new_file_is_never_an_existing_files(tmp_path):
    from gradviz.io.atomic import unused_path

    assert unused_path(tmp_path, "run-step5", ".npz") == tmp_path / "run-step5.npz"
    (tmp_path / "run-step5.npz").write_bytes(b"")
    (tmp_path / "run-step5-2.npz").write_bytes(b"")
    assert unused_path(tmp_path, "run-step5", ".npz") == tmp_path / "run-step5-3.npz"
    assert unused_path(tmp_path, "run-step5", ".json") == tmp_path / "run-step5.json"
