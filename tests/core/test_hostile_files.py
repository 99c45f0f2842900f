"""Hostile input, made for real in each test: files that lie about their sizes, damaged run
files, configs nested thousands deep, sizes the machine cannot hold, unwritable outputs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradviz import budget
from gradviz.budget import MemoryRefused, check_image, check_run, estimate_run
from gradviz.cli import main
from gradviz.config import RunConfig, with_overrides
from gradviz.engine.run import Run
from gradviz.io.checkpoint import history_from_arrays, restore_run, state_arrays
from gradviz.io.runfile import RunFileError, load_run, run_arrays, save_arrays
from gradviz.probes.history import RunHistory

GB = 2**30
TINY = {"hidden": 4, "seq_len": 6, "batch": 4, "device": "cpu", "record_every": 2}


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def run_file_arrays(config: RunConfig, steps: int) -> dict[str, np.ndarray]:
    run = Run(config)
    history = RunHistory(len(config.models))
    for record in run.steps(steps):
        history.add(record)
    baseline = run.task.baseline()
    return {**run_arrays(config, history, (baseline.loss, baseline.metric)), **state_arrays(run)}


def npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    """The bytes of an npy header alone: what a bomb needs to declare any size it likes."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": dtype, "fortran_order": False, "shape": shape})
    return stream.getvalue()


def write_npz(path: Path, members: dict[str, bytes | np.ndarray]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            if not isinstance(value, bytes):
                stream = io.BytesIO()
                np.lib.format.write_array(stream, np.asarray(value), allow_pickle=False)
                value = stream.getvalue()
            archive.writestr(name + ".npy", value)
    return path


# ---- memory estimates -----------------------------------------------------------------------


def test_a_run_too_big_for_memory_is_refused_with_the_estimate_and_what_to_lower() -> None:
    config = with_overrides(RunConfig(), {"seq_len": 10000, "hidden": 1024, "batch": 64})
    with pytest.raises(MemoryRefused) as refused:
        check_run(config, available=8 * GB)
    message = str(refused.value)
    assert "T=10000, batch 64, hidden 1024" in message
    assert f"{estimate_run(config).total / GB:.1f} GB" in message and "only 8.0 GB is available" in message
    assert "lower the sequence length T (T=" in message
    # The suggested T does fit, with every other setting kept.
    suggested = int(message.split("T (T=")[1].split(" ")[0])
    check_run(with_overrides(config, {"seq_len": suggested}), available=8 * GB)
    with pytest.raises(MemoryRefused):
        check_run(with_overrides(config, {"seq_len": suggested + 1}), available=8 * GB)
    # Recorded activations grow with T, B, H, layers; models train one after another.
    small = with_overrides(RunConfig(), {"seq_len": 100, "hidden": 64, "batch": 32})
    assert estimate_run(with_overrides(small, {"seq_len": 200})).activations == pytest.approx(
        2 * estimate_run(small).activations, rel=0.01)
    assert estimate_run(with_overrides(small, {"layers": 2})).activations > 1.9 * estimate_run(small).activations


def test_the_estimate_covers_the_measured_peak_of_a_recorded_step(tmp_path: Path) -> None:
    """Calibration, measured: the peak RSS a first recorded LSTM step adds is within a factor
    of 2 of the estimate, either way."""
    script = tmp_path / "peak.py"
    script.write_text(
        "import os, resource, torch\n"
        "from gradviz.config import RunConfig, with_overrides\n"
        "from gradviz.engine.run import Run\n"
        "torch.set_num_threads(1)\n"
        "config = with_overrides(RunConfig(), dict(seq_len=300, hidden=128, batch=64, device='cpu'))\n"
        "run = Run(config)\n"
        # The resident size now, before any step: the peak of a first step measured from an
        # earlier peak could read 0 when the allocator reuses that step's freed memory.
        "before = int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
        "run.train_step(record=True)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before)\n"
    )
    grown = int(subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout)
    config = with_overrides(RunConfig(), {"seq_len": 300, "hidden": 128, "batch": 64})
    estimate = estimate_run(config).activations
    # Measured alone: 267-277 MB against an estimate of 302 MB; inside the full suite's run of a
    # fresh clone the same script once grew 491 MB. The estimate is a guard, not a prediction:
    # it must stay within a factor of 2 of the measured peak either way.
    assert estimate / 2 < grown < 2 * estimate, (grown, estimate)


def test_cli_refuses_a_run_this_machine_cannot_hold_in_under_5_s_and_1_gb(tmp_path: Path) -> None:
    available = budget.available_bytes()
    assert available is not None
    # T and H at their maxima; a batch big enough for any machine this runs on.
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "gradviz", "train", "--seq-len", "10000", "--hidden", "1024",
                              "--batch", "4096", "--layers", "4", "--out", tmp_path / "big.npz"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    err = child.stderr.read()
    assert os.waitstatus_to_exitcode(status) == 2, err
    assert "needs" in err and "lower the sequence length" in err and len(err.splitlines()) == 1
    assert elapsed < 5, elapsed
    assert usage.ru_maxrss * 1024 < GB
    assert not (tmp_path / "big.npz").exists()


def test_export_sizes_are_checked_against_memory(capsys, monkeypatch, tmp_path: Path) -> None:
    assert check_image(1600, 1000, 1, available=8 * GB) < 100 * 2**20
    with pytest.raises(MemoryRefused, match="a 10000x10000 figure at scale 4 .* lower --size or --scale"):
        check_image(10000, 10000, 4, available=8 * GB)
    monkeypatch.setattr(budget, "available_bytes", lambda: 8 * GB)
    code, _, err = cli(capsys, "export", "--size", "10000x10000", "--scale", "4", "--out", tmp_path / "f.png")
    assert code == 2 and "lower --size or --scale" in err
    assert not (tmp_path / "f.png").exists()


def test_a_text_file_too_big_for_memory_is_refused_while_it_is_read(capsys, monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    row = "a review of a film that goes on and on with words,positive\nanother one that is bad,negative\n"
    path.write_text("review,sentiment\n" + row * 100_000)  # 9 MB
    monkeypatch.setattr(budget, "available_bytes", lambda: 20 * 2**20)
    monkeypatch.setattr(budget, "check_run", lambda config, available=None: None)  # the file alone
    code, _, err = cli(capsys, "train", "--task", "text", "--data", path, "--max-len", "200", "--steps", "1",
                       "--device", "cpu")
    assert code == 2, err
    assert "projected over the whole file" in err and "lower the max length" in err
    assert "% read" in err and "big.csv" in err


# ---- run files ------------------------------------------------------------------------------


def refuse_quickly(path: Path) -> str:
    """load_run's refusal of ``path``, checked to take under 2 s and 20 MB."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(RunFileError) as refused:
            load_run(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 2
    assert peak < 20 * 2**20, peak
    assert str(path) in str(refused.value)
    return str(refused.value)


def test_a_small_npz_declaring_gigabytes_is_refused_before_any_data_is_read(tmp_path: Path) -> None:
    config = with_overrides(RunConfig(), TINY)
    good = run_file_arrays(config, 3)
    members: dict[str, bytes | np.ndarray] = dict(good)
    # 96 GB of gates declared by headers of 128 bytes each, with a step array to match.
    members["step"] = npy_header("<i8", (2**20,))
    members["model0/gate/input"] = npy_header("<f4", (2**20, 1, 6, 4096))
    path = write_npz(tmp_path / "bomb.npz", members)
    assert path.stat().st_size < 1_000_000
    assert "declares 96.0 GiB of data; refusing to unpack it" in refuse_quickly(path)

    # Under the 4 GiB cap of any npz, but more rows than a history holds.
    members["model0/gate/input"] = npy_header("<f4", (2**20, 1, 6, 4))
    assert "step declares 1048576 rows" in refuse_quickly(write_npz(tmp_path / "rows.npz", members))

    # Gates far wider than the config's H: refused by shape.
    members["step"] = good["step"]
    members["model0/gate/input"] = npy_header("<f4", (len(good["step"]), 1, 6, 2**24))
    assert "model0/gate/input must have shape (2, 1, 6, 4)" in refuse_quickly(write_npz(tmp_path / "wide.npz",
                                                                                           members))

    # A state array (not fixed by the probe shapes) that declares gigabytes.
    members["model0/gate/input"] = good["model0/gate/input"]
    members["state/model0/param/weight_hh_l0"] = npy_header("<f4", (2**14, 2**14))
    assert "this config's parameters are at most" in refuse_quickly(write_npz(tmp_path / "state.npz", members))

    # Every shape consistent with a (rewritten) config of T=2000, H=256, but 200 recorded rows
    # of gates: 2.5 GB that such a run never holds at once (its history keeps ~48 MB).
    big = with_overrides(config, {"seq_len": 2000, "hidden": 256})
    rows, layers, steps, hidden = 200, 1, 2000, 256
    members = {name: value for name, value in good.items() if not name.startswith(("state/", "model0/"))}
    members["config_json"] = np.array(big.to_json())
    members["step"] = np.arange(rows)
    for name in ("loss", "metric", "grad_norm"):
        members[name] = np.zeros((1, rows))
    for name in ("grad_h", "grad_c", *(f"mean/{g}" for g in ("input", "forget", "cell", "output"))):
        members[f"model0/{name}"] = npy_header("<f4", (rows, layers, steps))
    for gate in ("input", "forget", "cell", "output", "cell_state", "hidden"):
        members[f"model0/gate/{gate}"] = npy_header("<f4", (rows, layers, steps, hidden))
    members["model0/spectral_radius"] = np.zeros((rows, layers))
    members["model0/half_life"] = members["model0/underflow_steps"] = np.zeros(rows)
    members["model0/param_grad_norms"] = np.zeros((rows, 6))
    members["model0/param_names"] = good["model0/param_names"]
    message = refuse_quickly(write_npz(tmp_path / "history.npz", members))
    assert "of arrays, more than its config can produce" in message


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda a: a.update(loss=np.array([["x", "y"]])), "loss must hold numbers"),
        (lambda a: a.pop("model0/grad_h"), "model0/grad_h is missing"),
        (lambda a: a.update({"model0/half_life": np.zeros((2, 3))}), r"model0/half_life must have shape \(2,\)"),
        (lambda a: a.update({"state/model0/diverged": np.float64(1.5)}), "must hold true/false"),
        (lambda a: a.update(extra=np.zeros(3)), "unexpected array 'extra'"),
        (lambda a: a.update(labels=np.array(["a", "b", "c"])), r"labels must have shape \(1,\)"),
        (lambda a: a.update(solved_at_sequences=np.zeros(3)), r"solved_at_sequences must have shape \(1,\)"),
        (lambda a: a.update(solved_at_sequences=np.array(["soon"])), "solved_at_sequences must hold numbers"),
        (lambda a: a.update(solved_at_sequences=np.array([-64.0])), "solved_at_sequences must be sequence counts"),
        (lambda a: a.update(solved_at_sequences=np.array([np.inf])), "solved_at_sequences must be sequence counts"),
        (lambda a: a.update(config_json=np.array('{"seed": ' + "9" * 5000 + "}")),
         "bad config: config is not valid JSON: Exceeds the limit"),
        (lambda a: a.update(config_json=np.array("[" * 100_000 + "]" * 100_000)), "nested too deeply"),
        (lambda a: a.update(config_json=np.array('{"models": ' + "[" * 50 + "]" * 50 + "}")),
         "nested more than 32 levels"),
        (lambda a: a.update(config_json=np.array('{"task": {"seq_len": ' + "7" * 4000 + "}}")),
         "seq_len must be between 2 and 10000, got a number with about 4000 digits"),
        (lambda a: a.update(config_json=np.array('{"models": [{"train": {"lr": ' + "7" * 400 + "}}]}")),
         "lr must be finite"),
    ],
)
def test_damaged_run_files_are_one_clear_error(change, message: str, tmp_path: Path, capsys) -> None:
    config = with_overrides(RunConfig(), TINY)
    arrays = run_file_arrays(config, 3)
    assert len(arrays["step"]) == 2
    change(arrays)
    path = tmp_path / "damaged.npz"
    np.savez(path, **arrays)
    with pytest.raises(RunFileError, match=message) as refused:
        load_run(path)
    assert len(str(refused.value)) < 400
    code, _, err = cli(capsys, "export", "--run", path, "--out", tmp_path / "f.png")
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "f.png").exists()


def test_a_file_saved_at_step_0_opens_and_export_says_there_is_nothing_to_draw(tmp_path: Path, capsys) -> None:
    config = with_overrides(RunConfig(), TINY)
    path = save_arrays(tmp_path / "step0.npz", run_file_arrays(config, 0))
    saved = load_run(path)
    assert "step" not in saved.arrays and int(saved.arrays["state/step"]) == 0
    run = restore_run(saved.config, saved.arrays)
    assert run.step == 0 and len(history_from_arrays(saved.config, saved.arrays).scalars) == 0
    code, _, err = cli(capsys, "export", "--run", path, "--out", tmp_path / "f.png")
    assert code == 2
    assert "saved at step 0, before any probes were recorded: there is nothing to draw yet" in err


def test_export_run_refuses_model_flags_it_would_ignore(tmp_path: Path, capsys) -> None:
    config = with_overrides(RunConfig(), TINY)
    path = save_arrays(tmp_path / "run.npz", run_file_arrays(config, 3))
    code, _, err = cli(capsys, "export", "--run", path, "--hidden", "32", "--lr", "0.1", "--out", tmp_path / "f.png")
    assert code == 2
    assert "--hidden, --lr cannot change it" in err


# ---- config files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,text,message",
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("deep2.json", '{"hidden": ' + "[" * 900 + "]" * 900 + "}", "nested more than 32 levels"),
        ("deep.toml", "x = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ("label.json", json.dumps({"models": [{"label": "L" * 100_000}]}), "must be 1 to 40 characters"),
        ("key.json", json.dumps({"k" * 100_000: 1}), "unknown setting 'kkkk"),
        ("huge.json", '{"seed": ' + "1" * 6000 + "}", "is not valid json: Exceeds the limit"),
        ("run.yaml", "hidden: 4\n", "YAML is not supported; write the same keys as JSON or TOML"),
    ],
)
def test_hostile_config_files_give_one_short_line(name: str, text: str, message: str, tmp_path: Path,
                                                  capsys) -> None:
    path = tmp_path / name
    path.write_text(text)
    code, _, err = cli(capsys, "train", "--config", path, "--steps", "1", "--quiet")
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert message in err, err
    assert len(err) < 600, len(err)  # the known keys are listed; the hostile value is cut


def test_preset_takes_only_names(tmp_path: Path, capsys) -> None:
    preset_dir = Path(__file__).resolve().parents[2] / "resources" / "presets"
    for given in (str(preset_dir / "vanishing"), "../presets/vanishing", str(tmp_path / "mine")):
        code, _, err = cli(capsys, "train", "--preset", given, "--steps", "1", "--quiet")
        assert code == 2
        assert "unknown preset" in err and "a file goes with --config" in err


# ---- outputs --------------------------------------------------------------------------------


def test_outputs_that_cannot_be_written_are_refused_before_training(tmp_path: Path, capsys, monkeypatch) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    started = time.monotonic()
    code, _, err = cli(capsys, "train", "--steps", "100000", "--out", blocker / "run.npz")
    assert code == 2 and "is a file, not a folder" in err
    code, _, err = cli(capsys, "probe", "--out", tmp_path / "missing" / "p.npz")
    assert code == 2 and "does not exist" in err
    import gradviz.io.atomic as atomic

    class Full:
        free = 100_000

    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda folder: Full)
    code, _, err = cli(capsys, "train", "--steps", "100000", "--out", tmp_path / "run.npz")
    assert code == 2 and "has only 0.1 MB free" in err
    assert time.monotonic() - started < 5  # 100000 steps were never begun


@contextlib.contextmanager
def tmpfs(folder: Path, options: str):
    """A real small or read-only filesystem at ``folder`` (needs root and mount rights); as a
    plain user, a folder made read-only with chmod serves for "ro"."""
    folder.mkdir()
    if os.geteuid() != 0:
        if "ro" not in options.split(","):
            pytest.skip("a full filesystem needs root (mount -t tmpfs)")
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_folder_is_refused_before_training_starts(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "readonly", "ro,size=64k") as folder:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "gradviz", "train", "--steps", "100000", "--out",
                                 str(folder / "run.npz")], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert f"cannot write to folder {folder}" in result.stderr
        assert time.monotonic() - started < 30  # 100000 steps were never begun
        assert list(folder.iterdir()) == []


def test_a_full_output_folder_is_refused_before_training_and_a_full_disk_after_keeps_the_result(
        tmp_path: Path, capsys, monkeypatch) -> None:
    import tempfile

    from gradviz.io.atomic import write_with_fallback

    with tmpfs(tmp_path / "full", "size=64k") as folder:
        code, _, err = cli(capsys, "train", "--steps", "100000", "--out", folder / "run.npz")
        assert code == 2 and f"folder {folder} has only" in err and "MB free" in err
        # The disk fills during the work: the result goes to the temp folder, and says so.
        spare = tmp_path / "spare"
        spare.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(spare))
        result = os.urandom(1 << 20)
        written, note = write_with_fallback(folder / "run.npz", lambda stream: stream.write(result))
        assert written.parent == spare and written.name.startswith("run.unsaved-")
        assert written.read_bytes() == result
        assert note is not None and "No space left on device" in note and str(written) in note
        assert not [p.name for p in folder.iterdir()]  # no part file left on the full disk


def test_a_write_failing_after_the_work_keeps_the_result(tmp_path: Path, monkeypatch) -> None:
    import errno

    import gradviz.io.atomic as atomic

    real = atomic.atomic_write
    target = tmp_path / "run.npz"

    def full_disk(path, write, force=False):
        if Path(path) == target:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write, force)

    monkeypatch.setattr(atomic, "atomic_write", full_disk)
    written, note = atomic.write_with_fallback(target, lambda stream: stream.write(b"result"))
    assert written.parent == tmp_path and written.name.startswith("run.unsaved-") and written.suffix == ".npz"
    assert written.read_bytes() == b"result"
    assert note is not None and "No space left on device" in note and str(written) in note


def test_stale_part_files_of_a_killed_writer_are_removed_by_the_next_write(tmp_path: Path) -> None:
    from gradviz.io.atomic import atomic_write

    # A real writer, killed with SIGKILL in the middle of writing.
    script = (
        "import sys, time\n"
        "from gradviz.io.atomic import atomic_write\n"
        "def write(stream):\n"
        "    stream.write(b'half'); stream.flush(); print('writing', flush=True); time.sleep(60)\n"
        f"atomic_write({str(tmp_path / 'run.npz')!r}, write)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    parts = list(tmp_path.glob(".run.npz.*.part"))
    assert len(parts) == 1
    # While its writer lives, the part file is kept.
    os.utime(parts[0], (time.time() - 60, time.time() - 60))
    atomic_write(tmp_path / "other.npz", lambda stream: stream.write(b"x"))
    assert parts[0].exists()
    child.kill()
    child.wait()
    os.utime(parts[0], (time.time() - 60, time.time() - 60))
    unrelated = tmp_path / ".notes.txt.part"  # not gradviz's naming: left alone
    unrelated.write_text("mine")
    atomic_write(tmp_path / "third.npz", lambda stream: stream.write(b"x"))
    assert not parts[0].exists() and unrelated.exists()


def test_a_copy_run_file_opens_again(tmp_path: Path) -> None:
    # The copy task's sequences are T + 20 steps long: the layout check once expected T and
    # refused every saved copy run ("model0/grad_h must have shape (N, 1, 10), got (N, 1, 30)").
    out = tmp_path / "copy.npz"
    assert main(["train", "--preset", "copy", "--steps", "2", "--hidden", "4", "--batch", "4", "--quiet",
                 "--out", str(out)]) == 0
    saved = load_run(out)
    assert saved.arrays["model0/grad_h"].shape[-1] == saved.config.task.seq_len + 20
