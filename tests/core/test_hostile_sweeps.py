"""Hostile sweep files and hostile sweep commands (issue 25, cases 1, 2, 6, 7, 11, 12): each file
made for real; `gradviz sweep` on it gives one line and exit 2, never a traceback; values out
of range are refused, never drawn; a second writer on the same file is refused."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradviz.cli import main
from gradviz.io import atomic
from gradviz.io.filelock import FileLock, LockedError, lock_path
from gradviz.sweep.grid import MAX_RUNS, MAX_STEPS, SweepConfig
from gradviz.sweep.results import SweepFileError, SweepResults

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--models", "rnn,lstm", "--seq-lens", "5,10", "--seeds", "2", "--steps", "3", "--hidden", "4",
        "--batch", "8", "--jobs", "1", "--quiet"]


def tiny() -> SweepConfig:
    return SweepConfig(models=("rnn", "lstm"), seq_lens=(5, 10), seeds=2, steps=3, hidden=4, batch=8)


def good_members() -> dict[str, np.ndarray]:
    """A real sweep file's arrays: two runs finished."""
    results = SweepResults(tiny())
    results.record((0, 0, 0), 0.01, 1.5)
    results.record((1, 1, 1), 0.5, 2.0)
    return results.arrays()


def npy(value) -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array(stream, np.asarray(value), allow_pickle=True)
    return stream.getvalue()


def header_only(dtype: str, shape: tuple[int, ...]) -> bytes:
    """An npy header declaring any size, with no data behind it: a bomb's opening."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": dtype, "fortran_order": False, "shape": shape})
    return stream.getvalue() + b"\0" * 64


def write(path: Path, members: dict) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            archive.writestr(name + ".npy", value if isinstance(value, bytes) else npy(value))
    return path


def with_config(**change) -> dict:
    members = good_members()
    data = json.loads(str(members["config_json"]))
    data.update(change)
    members["config_json"] = np.array(json.dumps(data))
    return members


def with_array(name: str, value) -> dict:
    members = good_members()
    members[name] = value
    return members


def deep_json(depth: int) -> dict:
    members = good_members()
    members["config_json"] = np.array("[" * depth + "]" * depth)
    return members


def digits_json() -> dict:
    members = good_members()
    text = str(members["config_json"]).replace('"steps": 3', '"steps": ' + "9" * 5000)
    members["config_json"] = np.array(text)
    return members


def loss_at_done(value: float) -> dict:
    members = good_members()
    members["final_loss"] = members["final_loss"].copy()
    members["final_loss"][0, 0, 0] = value
    return members


def seconds_at_done(value: float) -> dict:
    members = good_members()
    members["seconds"] = members["seconds"].copy()
    members["seconds"][1, 1, 1] = value
    return members


def structured_loss() -> dict:
    return with_array("final_loss", np.zeros((2, 2, 2), dtype=[("a", "f8"), ("b", "i4")]))


def huge_zero_member() -> dict:
    members = good_members()
    members["zeros"] = header_only("<f8", (490_000_000,))  # declares 3.9 GB
    return members


def huge_loss_member() -> dict:
    members = good_members()
    members["final_loss"] = header_only("<f8", (490_000_000,))
    return members


def six_million_cells() -> dict:
    return with_config(seq_lens=list(range(10, 2010)), seeds=1000, models=["rnn", "lstm", "gru"])


VARIANTS = {  # name: (members, words the one line must hold)
    "steps over 2^31": (lambda: with_config(steps=3_000_000_000), "steps must be between 1 and"),
    "fractional seeds": (lambda: with_config(seeds=2.5), "seeds must be a whole number"),
    "boolean seeds": (lambda: with_config(seeds=True), "seeds must be a whole number"),
    "text in the loss": (lambda: with_array("final_loss", np.full((2, 2, 2), "x")), "final_loss must hold"),
    "structure in the loss": (structured_loss, "final_loss must hold"),
    "JSON 100,000 deep": (lambda: deep_json(100_000), "nested"),
    "5000-digit number": (digits_json, "digits"),
    "-inf loss": (lambda: loss_at_done(-np.inf), "final_loss of tanh RNN T=5 seed 0 is -inf"),
    "negative loss": (lambda: loss_at_done(-0.5), "must be 0 or more"),
    "NaN loss of a finished run": (lambda: loss_at_done(np.nan), "final_loss of tanh RNN T=5 seed 0 is nan"),
    "negative seconds": (lambda: seconds_at_done(-1e308), "seconds of LSTM T=10 seed 1"),
    "infinite seconds": (lambda: seconds_at_done(np.inf), "finite, 0 or more"),
    'done = "yes"': (lambda: with_array("done", np.full((2, 2, 2), "yes")), "done must hold true/false"),
    "done as numbers": (lambda: with_array("done", np.ones((2, 2, 2))), "done must hold true/false"),
    "a 3.9 GB member of zeros": (huge_zero_member, "unexpected array 'zeros'"),
    "a 3.9 GB loss": (huge_loss_member, "final_loss must have shape (2, 2, 2)"),
    "6 million cells": (six_million_cells, "lengths; at most 64"),
    "text lengths": (lambda: with_config(seq_lens=["5", "10"]), "seq_lens must be a whole number"),
    "models as text": (lambda: with_config(models="rnn"), "models must be a list"),
    "lr as text": (lambda: with_config(lr="fast"), "lr must be a number"),
    "pickled loss": (lambda: with_array("final_loss", np.array([{"a": 1}], dtype=object)), "pickled"),
    "no done": (lambda: {k: v for k, v in good_members().items() if k != "done"}, "done is missing"),
}


@pytest.fixture(params=sorted(VARIANTS))
def hostile(request, tmp_path: Path) -> tuple[Path, str]:
    make, words = VARIANTS[request.param]
    return write(tmp_path / "s.npz", make()), words


def test_each_hostile_sweep_file_is_one_refusal_naming_what_is_wrong(hostile) -> None:
    path, words = hostile
    with pytest.raises(SweepFileError) as refused:
        SweepResults.load(path)
    message = str(refused.value)
    assert words in message and str(path) in message
    assert "\n" not in message and len(message) < 700


def test_gradviz_sweep_on_each_hostile_file_is_one_line_and_exit_2(hostile, capsys) -> None:
    path, words = hostile
    before = path.read_bytes()
    code = main(["sweep", *ARGS, "--out", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gradviz: error: cannot resume:") and words in err
    assert path.read_bytes() == before  # nothing changed
    assert not lock_path(path).exists()


def test_a_diverged_run_loads_as_not_learned_and_unfinished_cells_hold_nothing(tmp_path: Path) -> None:
    members = good_members()
    members["final_loss"] = members["final_loss"].copy()
    members["final_loss"][1, 1, 1] = np.inf
    members["final_loss"][0, 1, 0] = -7.0  # not finished: whatever is there is no result
    loaded = SweepResults.load(write(tmp_path / "s.npz", members))
    assert loaded.done.sum() == 2 and loaded.succeeded((0, 0, 0)) and not loaded.succeeded((1, 1, 1))
    assert np.isnan(loaded.final_loss[0, 1, 0]) and loaded.success[1, 1] == 0.0


def test_the_huge_member_is_refused_from_its_header_in_milliseconds(tmp_path: Path) -> None:
    path = write(tmp_path / "s.npz", huge_zero_member())
    started = time.perf_counter()
    with pytest.raises(SweepFileError):
        SweepResults.load(path)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("argv", "words"), [
    (["--steps", "3000000000"], f"steps must be between 1 and {MAX_STEPS:,}"),
    (["--jobs", "1000"], "--jobs must be between 1 and 256"),
    (["--seeds", "1000", "--seq-lens", ",".join(str(t) for t in range(10, 40))],
     f"at most {MAX_RUNS:,} in one sweep"),
    (["--seq-lens", ",".join(str(t) for t in range(10, 110))], "at most 64 fit"),
])
def test_the_command_line_has_the_files_bounds(argv, words, tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.npz"
    code = main(["sweep", "--out", str(out), *argv])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert list(tmp_path.iterdir()) == []


def test_jobs_that_memory_cannot_hold_are_refused(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr("gradviz.budget.available_bytes", lambda: 200 * 2**20)
    code = main(["sweep", *ARGS[:-3], "--jobs", "16", "--out", str(tmp_path / "s.npz")])
    _, err = capsys.readouterr()
    assert code == 2 and "16 jobs need about 0.6 GB" in err and "use at most 5" in err


# ---- one writer per file (case 6) ------------------------------------------------------------


def test_a_second_gradviz_sweep_on_the_same_out_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    """Two real `gradviz sweep` on one --out. The first is held still (SIGSTOP) once it holds the
    lock, so the second surely meets it under way, then goes on and finishes as if alone."""
    out = tmp_path / "s.npz"
    argv = [sys.executable, "-m", "gradviz", "sweep", "--models", "rnn", "--seq-lens", "5", "--seeds", "2",
            "--steps", "300", "--hidden", "4", "--batch", "8", "--jobs", "1", "--quiet", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "first.txt"
    with open(log, "w") as stream:  # a file, not a pipe: nothing the first leaves can hold the test up
        first = subprocess.Popen(argv, cwd=ROOT, stdout=stream, stderr=stream, env=env)
    try:
        deadline = time.monotonic() + 60
        while not lock_path(out).exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)
        second = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
        assert second.returncode == 2 and second.stdout == ""
        assert second.stderr.count("\n") == 1 and f"is being written by process {first.pid}" in second.stderr
        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=120) == 0, log.read_text()
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGCONT)
            first.wait(timeout=120)
    assert "wrote" in log.read_text() and SweepResults.load(out).done.sum() == 2  # every run, written once
    assert not lock_path(out).exists()  # released at the end


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    target = tmp_path / "s.npz"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[2]); from gradviz.io.filelock import FileLock; "
        "FileLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)"), str(target), str(ROOT)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"process {holder.pid}"):
            FileLock(target).acquire()
    finally:
        holder.kill()  # dies holding it: the lock file stays, the OS lock does not
        holder.wait()
    assert lock_path(target).exists()
    with FileLock(target) as lock:
        assert lock.held
    assert not lock_path(target).exists()


# ---- a full or read-only disk (case 7) ---------------------------------------------------------


def test_a_sweep_whose_disk_fills_keeps_every_run_in_a_fallback_file(monkeypatch, tmp_path: Path, capsys) -> None:
    """The disk refuses --out after the first save (ENOSPC, then EROFS: root ignores a read-only
    folder's permission bits, so the refusal is simulated where atomic_write writes)."""
    out = tmp_path / "s.npz"
    real = atomic.atomic_write
    calls = {"n": 0}

    def refusing(path, write, force=False):
        calls["n"] += 1
        if Path(path) == out and calls["n"] > 1:
            raise OSError(errno.ENOSPC if calls["n"] % 2 else errno.EROFS, "No space left on device", str(path))
        return real(path, write, force=force)

    monkeypatch.setattr(atomic, "atomic_write", refusing)
    monkeypatch.setattr("gradviz.sweep.results.atomic_write", refusing)
    code = main(["sweep", *ARGS[2:], "--models", "rnn", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    fallback = [p for p in tmp_path.iterdir() if ".unsaved-" in p.name]
    assert len(fallback) == 1, "every later save follows the first fallback file"
    assert f"the result was saved to {fallback[0]} instead" in err and err.count("saved to") == 1
    assert SweepResults.load(fallback[0]).done.all()  # every run, none lost
    assert SweepResults.load(out).done.sum() == 0  # --out kept its last good version


def test_a_read_only_folder_is_refused_before_training(monkeypatch, tmp_path: Path, capsys) -> None:
    def read_only(directory, name):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(atomic, "_create_temp", read_only)
    code = main(["sweep", *ARGS, "--out", str(tmp_path / "s.npz")])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "Read-only file system" in err
    assert list(tmp_path.iterdir()) == []


# ---- names and paths the system refuses (case 12) ----------------------------------------------


def test_an_out_name_of_250_characters_is_written(tmp_path: Path, capsys) -> None:
    out = tmp_path / ("b" * 246 + ".npz")
    code = main(["sweep", "--models", "rnn", "--seq-lens", "5", "--seeds", "1", "--steps", "2", "--hidden", "4",
                 "--batch", "8", "--jobs", "1", "--quiet", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


@pytest.mark.parametrize("command", ["sweep", "train"])
def test_a_path_over_path_max_is_one_line(command: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / ("a/" * 2100 + "x.npz")
    code = main([command, "--steps", "2", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "too long" in err and "Traceback" not in err


FAKE_MSVCRT = '''
import fcntl, os, types
def locking(fd, mode, count):  # msvcrt.locking from the current position, as POSIX record locks
    where = os.lseek(fd, 0, os.SEEK_CUR)
    fcntl.lockf(fd, fcntl.LOCK_UN if mode == 0 else fcntl.LOCK_EX | fcntl.LOCK_NB, count, where)
fake = types.SimpleNamespace(LK_UNLCK=0, LK_NBLCK=2, locking=locking)
'''


def test_the_windows_lock_path_refuses_a_second_writer_and_names_it(tmp_path: Path, monkeypatch) -> None:
    """Simulated: filelock's msvcrt branch (no fcntl), with msvcrt.locking played by POSIX
    record locks of the same byte, in two real processes."""
    from gradviz.io import filelock

    space: dict = {}
    exec(FAKE_MSVCRT, space)  # noqa: S102 - the fake, shared with the holder process below
    monkeypatch.setattr(filelock, "fcntl", None)
    monkeypatch.setattr(filelock, "msvcrt", space["fake"])
    target = tmp_path / "s.npz"
    holder = subprocess.Popen([sys.executable, "-c", FAKE_MSVCRT + (
        "import sys, time; sys.path.insert(0, sys.argv[2]); from gradviz.io import filelock; "
        "filelock.fcntl = None; filelock.msvcrt = fake; filelock.FileLock(sys.argv[1]).acquire(); "
        "print('held', flush=True); time.sleep(60)"), str(target), str(ROOT)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"process {holder.pid}"):
            FileLock(target).acquire()
    finally:
        holder.kill()
        holder.wait()
    with FileLock(target) as lock:  # the dead holder's lock went with it
        assert lock.held and lock_path(target).read_bytes()[1:].decode().strip() == str(os.getpid())
    assert not lock_path(target).exists()


def test_a_plot_the_full_disk_refuses_after_the_sweep_keeps_the_runs_and_says_so(monkeypatch, tmp_path: Path,
                                                                                  capsys) -> None:
    pytest.importorskip("matplotlib")

    def full(results, path, force=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("gradviz.sweep.plot.plot_sweep", full)
    out = tmp_path / "s.npz"
    code = main(["sweep", *ARGS[2:], "--models", "rnn", "--out", str(out), "--plot", str(tmp_path / "s.png")])
    _, err = capsys.readouterr()
    assert code == 1 and "could not write" in err and "No space left" in err and "Traceback" not in err
    assert SweepResults.load(out).done.all()
