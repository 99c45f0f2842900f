"""gradviz sweep: a tiny grid end to end, resume, Ctrl-C, refusals (each run in a real process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gradviz.cli import main
from gradviz.sweep.grid import SweepConfig, Threshold
from gradviz.sweep.job import train_one
from gradviz.sweep.results import SweepResults
from gradviz.tasks import make_task

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--models", "rnn,lstm", "--seq-lens", "10,5", "--seeds", "2", "--steps", "12", "--hidden", "4",
        "--batch", "8", "--jobs", "2"]


def sweep(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["sweep", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def tiny_config(**change) -> SweepConfig:
    settings = dict(models=("rnn", "lstm"), seq_lens=(5, 10), seeds=2, steps=12, hidden=4, batch=8)
    return SweepConfig(**{**settings, **change})


def test_a_tiny_sweep_writes_every_run_with_its_real_final_loss(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.npz"
    code, stdout, err = sweep(capsys, *TINY, "--threshold", "0.3", "--out", str(out))
    assert code == 0, err
    with np.load(out, allow_pickle=False) as npz:
        data = {name: npz[name] for name in npz.files}
    assert list(data["models"]) == ["rnn", "lstm"] and list(data["labels"]) == ["tanh RNN", "LSTM"]
    assert list(data["seq_lens"]) == [5, 10]  # ascending, whatever order they were given in
    assert data["final_loss"].shape == (2, 2, 2) and data["done"].all()
    assert SweepConfig.from_json(str(data["config_json"])) == tiny_config(threshold=Threshold(0.3, False))
    # The child's number is what training that run in this process gives.
    config = tiny_config()
    for cell in [(0, 0, 1), (1, 1, 0)]:
        model, length, seed = cell
        expected, _ = train_one(config.run_config(config.models[model], config.seq_lens[length], seed).to_json(), 12)
        assert data["final_loss"][cell] == pytest.approx(expected, rel=1e-5)
    # success: the fraction of seeds whose final loss is below the threshold.
    expected_success = (data["final_loss"] < 0.3).mean(axis=2)
    np.testing.assert_array_equal(data["success"], expected_success)
    assert 0 < expected_success.sum() < expected_success.size, "pick a threshold that splits the runs"
    assert "tanh RNN" in stdout and "8/8 runs" in err


def test_the_default_threshold_is_a_tenth_of_each_tasks_baseline() -> None:
    results = SweepResults(tiny_config(task="copy", seq_lens=(5, 20)))
    for seq_len, threshold in zip((5, 20), results.threshold, strict=True):
        assert threshold == pytest.approx(0.1 * make_task("copy", seq_len).baseline().loss)
    assert Threshold.parse("0.02") == Threshold(0.02, relative=False)
    assert Threshold.parse("0.5x").loss(0.2) == pytest.approx(0.1)


def test_a_partial_sweep_resumes_only_the_missing_runs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.npz"
    assert sweep(capsys, *TINY, "--out", str(out))[0] == 0
    complete = SweepResults.load(out)
    partial = SweepResults.load(out)
    missing = [(0, 1, 1), (1, 0, 0)]
    for cell in missing:
        partial.done[cell], partial.final_loss[cell] = False, np.nan
    partial.save(out)
    code, _, err = sweep(capsys, *TINY, "--resume", "--out", str(out))
    assert code == 0, err
    assert "resuming" in err and "2 runs of 12 steps" in err
    resumed = SweepResults.load(out)
    assert resumed.done.all()
    np.testing.assert_allclose(resumed.final_loss, complete.final_loss, rtol=1e-5)
    # Complete and run again: nothing trains, the results stay.
    code, _, err = sweep(capsys, *TINY, "--out", str(out))
    assert code == 0 and "runs of" not in err
    np.testing.assert_array_equal(SweepResults.load(out).final_loss, resumed.final_loss)


def test_a_file_from_another_sweep_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.npz"
    SweepResults(tiny_config()).save(out)
    before = out.read_bytes()
    changed = [arg if arg != "12" else "13" for arg in TINY]  # --steps 13
    code, _, err = sweep(capsys, *changed, "--out", str(out))
    assert code == 2
    assert err.count("\n") == 1 and "steps is 12 there, 13 here" in err and "--force" in err
    assert out.read_bytes() == before
    code, _, err = sweep(capsys, *TINY, "--resume", "--out", str(tmp_path / "none.npz"))
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize(
    ("argv", "bad"),
    [
        (["--models", "rnn,transformer"], "transformer"),
        (["--models", "rnn,rnn"], "twice"),
        (["--seq-lens", "5,ten"], "ten"),
        (["--task", "names", "--seq-lens", "5,20"], "T=5"),
        (["--task", "order", "--seq-lens", "5"], "T=5"),
        (["--threshold", "-1"], "positive"),
        (["--seeds", "0"], "seeds"),
        (["--jobs", "0"], "--jobs"),
        (["--plot", "fig.gif"], "fig.gif"),
    ],
)
def test_mistakes_are_one_line_and_write_nothing(argv: list[str], bad: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.npz"
    code, _, err = sweep(capsys, *argv, "--steps", "2", "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and bad in err, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.processes  # run again under spawn by .ci/run
def test_ctrl_c_keeps_the_finished_runs(tmp_path: Path) -> None:
    """SIGINT to a real `gradviz sweep`: exit 130, finished runs kept, the file still resumable."""
    out = tmp_path / "s.npz"
    argv = [sys.executable, "-m", "gradviz", "sweep", "--models", "rnn", "--seq-lens", "5", "--seeds", "40",
            "--steps", "200", "--hidden", "4", "--batch", "8", "--jobs", "1", "--out", str(out)]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    done = 0
    while done < 1 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if out.exists():
            try:
                done = int(SweepResults.load(out).done.sum())
            except ValueError:
                pass  # between two writes: never half-written, but may not exist yet
    assert done >= 1 and process.poll() is None, "the sweep should be under way"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "run the same command again to resume" in err
    kept = SweepResults.load(out)
    assert 1 <= kept.done.sum() < 40
    assert np.isfinite(kept.final_loss[kept.done]).all() and np.isnan(kept.final_loss[~kept.done]).all()
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no temporary file left behind


def test_the_figure_is_written_in_each_format(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from gradviz.sweep.plot import plot_sweep

    results = SweepResults(tiny_config())
    results.record((0, 0, 0), 0.001, 1.0)
    results.record((1, 1, 1), 0.5, 1.0)
    svg = plot_sweep(results, tmp_path / "f.svg").read_text()
    assert "success rate" in svg and "partial: 2 of 8 runs" in svg
    assert plot_sweep(results, tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    assert plot_sweep(results, tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.processes  # run again under spawn by .ci/run
def test_a_run_whose_process_dies_ends_the_sweep_with_a_message(tmp_path: Path) -> None:
    """A child killed (as the out-of-memory killer would) must not leave the sweep waiting for
    a result that never comes: SweepRunError, the finished runs kept, no process left."""
    from gradviz.sweep.runner import SweepPool, SweepRunError

    config = tiny_config(models=("rnn",), seq_lens=(5,), seeds=6, steps=100_000)
    pool = SweepPool(SweepResults(config), tmp_path / "s.npz", jobs=2)
    deadline = time.monotonic() + 60
    while len(pool.processes()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    children = pool.processes()
    assert children and pool.collect(timeout=0) == []  # nothing finished yet, and no waiting
    os.kill(children[0].pid, signal.SIGKILL)
    with pytest.raises(SweepRunError, match="killed by signal 9"):
        pool.collect(timeout=60)
    assert not pool.running and all(not child.is_alive() for child in children)
    assert SweepResults.load(tmp_path / "s.npz").done.sum() == 0
