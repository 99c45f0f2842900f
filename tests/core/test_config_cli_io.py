"""Settings, presets, the ``gradviz`` command and run files: the ways a user hands gradviz
something, and what they get back when it is wrong (one clear line, nothing half-written)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gradviz.cli import main
from gradviz.config import (
    ConfigError,
    ModelConfig,
    ModelSetup,
    RunConfig,
    TaskConfig,
    TrainConfig,
    with_overrides,
)
from gradviz.engine import Run
from gradviz.io.atomic import FileExistsRefused, atomic_write
from gradviz.io.runfile import FORMAT, RunFileError, load_run, read_npz, run_arrays, save_arrays, save_run
from gradviz.models import build_model
from gradviz.presets import PRESET_ORDER, load_preset, preset_dir, preset_names
from gradviz.probes.history import RunHistory
from gradviz.tasks import make_task

# ---- RunConfig --------------------------------------------------------------------------


def rich_config() -> RunConfig:
    return RunConfig(
        task=TaskConfig(name="names", seq_len=30, batch=16, distance=7),
        models=(
            ModelSetup("IRNN", ModelConfig(kind="rnn", nonlinearity="relu", init="identity", hidden=12),
                       TrainConfig(optimizer="sgd", lr=0.5, momentum=0.0, clip=0.0, tbptt=5)),
            ModelSetup("LSTM 1997", ModelConfig(kind="lstm", layers=2, forget_gate=False, forget_bias=-1.5),
                       TrainConfig(optimizer="rmsprop", lr=1e-4)),
            ModelSetup("GRU", ModelConfig(kind="gru", init="orthogonal", spectral_radius=1.5)),
        ),
        seed=123,
        device="cpu",
        record_every=7,
        probe_sample=15,
    )


def test_run_config_round_trips() -> None:
    config = rich_config()
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig.from_json(config.to_json()) == config
    assert json.loads(config.to_json()) == json.loads(json.dumps(config.to_dict()))
    assert RunConfig.from_dict({}) == RunConfig()
    # Integral floats are accepted for whole numbers, ints for floats (as JSON writes them).
    assert RunConfig.from_dict({"seed": 3.0, "models": [{"train": {"lr": 1}}]}).models[0].train.lr == 1.0


@pytest.mark.parametrize(
    "change,message",
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"task": {"colour": "red"}}, "unknown key 'task.colour'"),
        ({"models": [{"model": {"size": 3}}]}, "unknown key 'models[0].model.size'"),
        ({"task": {"seq_len": "long"}}, "task.seq_len must be a whole number, got 'long'"),
        ({"task": {"seq_len": 2.5}}, "task.seq_len must be a whole number, got 2.5"),
        ({"seed": True}, "seed must be a whole number, got True"),
        ({"models": [{"train": {"lr": "fast"}}]}, "models[0].train.lr must be a number, got 'fast'"),
        ({"models": [{"model": {"forget_gate": 1}}]}, "models[0].model.forget_gate must be true or false, got 1"),
        ({"models": [{"train": {"clip": float("nan")}}]}, "models[0].train.clip must be finite, got nan"),
        ({"models": [{"model": {"hidden": 0}}]}, "models[0].model.hidden must be between 1 and 1024, got 0"),
        ({"models": [{"train": {"lr": 0}}]}, "models[0].train.lr must be between 1e-06 and 10, got 0.0"),
        ({"task": {"seq_len": 1}}, "task.seq_len must be between 2 and 10000, got 1"),
        ({"models": [{"model": {"kind": "cnn"}}]}, "models[0].model.kind must be one of rnn, lstm, gru, got 'cnn'"),
        (
            {"task": {"name": "sort"}},
            "task.name must be one of adding, adding1997, copy, order, names, reviews, text, got 'sort'",
        ),
        ({"device": "tpu"}, "device must be one of auto, cpu, cuda, mps, got 'tpu'"),
        ({"models": [{}, {}, {}, {}]}, "models must be a list of 1 to 3 models"),
        ({"models": []}, "models must be a list of 1 to 3 models, got []"),
        ({"task": {"name": "names", "seq_len": 10, "distance": 10}},
         "task.distance must be smaller than task.seq_len (10), got 10"),
        ({"task": {"batch": 4}, "probe_sample": 4}, "probe_sample must be smaller than task.batch (4), got 4"),
        ({"task": []}, "task must be a mapping, got list"),
    ],
)
def test_config_errors_name_the_field_and_the_value(change: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        RunConfig.from_dict(change)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_flat_overrides() -> None:
    config = with_overrides(RunConfig(), {"model": "rnn", "seq-len": 20, "lr": 0.1, "seed": 4})
    assert config.models[0].model.kind == "rnn" and config.models[0].label == "tanh RNN"
    assert config.task.seq_len == 20 and config.models[0].train.lr == 0.1 and config.seed == 4
    two = with_overrides(load_preset("vanishing").config, {"hidden": 8})
    assert [s.model.hidden for s in two.models] == [8, 8]
    assert [s.label for s in two.models] == ["tanh RNN", "LSTM"]  # labels of a comparison stay
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        with_overrides(RunConfig(), {"colour": 1})


# ---- presets ----------------------------------------------------------------------------


def test_every_preset_loads_validates_and_runs_a_step() -> None:
    files = sorted(entry.name.removesuffix(".json") for entry in preset_dir().iterdir() if entry.name.endswith(".json"))
    assert files, "no presets found"
    assert set(PRESET_ORDER) <= set(files)
    assert sorted(preset_names()) == files
    assert preset_names()[: len(PRESET_ORDER)] == list(PRESET_ORDER)
    for name in files:
        preset = load_preset(name)
        assert preset.title and preset.description
        assert RunConfig.from_dict(preset.config.to_dict()) == preset.config
        small = with_overrides(preset.config, {"hidden": 4, "batch": 4})
        record = Run(small).train_step(record=True)
        assert len(record.models) == len(preset.config.models)
        assert all(np.isfinite(m.loss) and m.probes is not None for m in record.models)


def test_unknown_preset_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'nope'; choose one of vanishing"):
        load_preset("nope")


# ---- the command line -------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    """Run ``gradviz ARGV``; returns (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors exit from inside
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


SMALL = ("--hidden", "4", "--seq-len", "6", "--batch", "4", "--device", "cpu", "--quiet")


def test_train_writes_a_run_file_of_the_documented_shapes(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.npz"
    code, stdout, _ = cli(capsys, "train", "--model", "lstm", "--layers", "2", *SMALL, "--steps", "12",
                          "--record-every", "5", "--out", out)
    assert code == 0
    assert f"wrote {out}" in stdout
    saved = load_run(out)
    arrays = saved.arrays
    assert str(arrays["format"]) == FORMAT
    assert RunConfig.from_json(str(arrays["config_json"])) == saved.config
    assert saved.config.models[0].model.layers == 2 and saved.labels == ["LSTM"]
    assert float(arrays["baseline"]) == pytest.approx(1 / 6)
    np.testing.assert_array_equal(arrays["step"], [0, 5, 10])
    np.testing.assert_array_equal(arrays["train_step"], np.arange(12))
    n, steps, layers, hidden = 3, 6, 2, 4
    for name in ("loss", "metric", "grad_norm"):
        assert arrays[name].shape == (1, n)
        assert arrays[f"train_{name}"].shape == (1, 12)
    np.testing.assert_array_equal(arrays["loss"][0], arrays["train_loss"][0, [0, 5, 10]])
    assert arrays["model0/grad_h"].shape == (n, layers, steps)
    assert arrays["model0/grad_c"].shape == (n, layers, steps)
    for gate in ("input", "forget", "cell", "output", "cell_state"):
        assert arrays[f"model0/gate/{gate}"].shape == (n, layers, steps, hidden)
        assert arrays[f"model0/mean/{gate}"].shape == (n, layers, steps)
    assert arrays["model0/spectral_radius"].shape == (n, layers)
    assert arrays["model0/half_life"].shape == (n,)
    assert arrays["model0/underflow_steps"].shape == (n,)
    names = list(arrays["model0/param_names"])
    assert names[-2:] == ["head.weight", "head.bias"] and len(names) == 4 * layers + 2
    assert arrays["model0/param_grad_norms"].shape == (n, len(names))
    assert all(value.dtype != object for value in arrays.values())


def test_train_refuses_to_overwrite_without_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.npz"
    assert cli(capsys, "train", *SMALL, "--steps", "2", "--out", out)[0] == 0
    before = out.read_bytes()
    code, _, err = cli(capsys, "train", *SMALL, "--steps", "2", "--seed", "9", "--out", out)
    assert code == 2
    assert err == f"gradviz: error: {out} already exists (use --force to overwrite)\n"
    assert out.read_bytes() == before
    assert cli(capsys, "train", *SMALL, "--steps", "2", "--seed", "9", "--out", out, "--force")[0] == 0
    assert out.read_bytes() != before
    assert load_run(out).config.seed == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no temporary files left


@pytest.mark.parametrize(
    "argv,bad",
    [
        (["--seq-len", "1"], "task.seq_len must be between 2 and 10000, got 1"),
        (["--hidden", "0"], "hidden must be between 1 and 1024, got 0"),
        (["--lr", "0"], "lr must be between 1e-06 and 10, got 0.0"),
        (["--model", "cnn"], "invalid choice: 'cnn'"),
        (["--task", "sorting"], "invalid choice: 'sorting'"),
        (["--hidden", "many"], "invalid int value: 'many'"),
        (["--steps", "0"], "--steps must be at least 1, got 0"),
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--task", "names", "--seq-len", "5", "--distance", "5"], "got 5"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(argv: list[str], bad: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.npz"
    code, stdout, err = cli(capsys, "train", *argv, "--quiet", "--out", out)
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert bad in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    "name,text,bad",
    [
        ("missing.json", None, "cannot read config"),
        ("unknown.json", '{"hidden": 4, "colour": "red"}', "unknown setting 'colour'"),
        ("nested.json", '{"models": [{"model": {"colour": 1}}]}', "unknown key 'models[0].model.colour'"),
        ("bad.toml", "hidden = = 4\n", "is not valid toml"),
        ("bad.json", '{"hidden": 4,', "is not valid json"),
        ("list.json", "[1, 2]", "must hold a mapping"),
        ("range.toml", "hidden = 0\n", "hidden must be between 1 and 1024, got 0"),
    ],
)
def test_bad_config_files_are_one_line_and_exit_2(name: str, text: str | None, bad: str, tmp_path: Path,
                                                  capsys) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    code, _, err = cli(capsys, "train", "--config", path, "--steps", "1", "--quiet")
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert bad in err and str(path) in err and "Traceback" not in err


def test_config_files_json_toml_and_nested(tmp_path: Path, capsys) -> None:
    flat_json = tmp_path / "flat.json"
    flat_json.write_text(json.dumps({"model": "gru", "hidden": 5, "seq_len": 7, "batch": 3, "lr": 0.02}))
    flat_toml = tmp_path / "flat.toml"
    flat_toml.write_text('model = "rnn"\nnonlinearity = "relu"\nhidden = 3\nseq-len = 6\nbatch = 2\nclip = 0.5\n')
    nested = tmp_path / "nested.json"
    nested.write_text(rich_config().to_json())
    expected = {
        flat_json: lambda c: (c.models[0].model.kind, c.models[0].model.hidden, c.task.seq_len, c.models[0].train.lr)
        == ("gru", 5, 7, 0.02),
        flat_toml: lambda c: (c.models[0].label, c.models[0].model.hidden, c.task.seq_len, c.models[0].train.clip)
        == ("relu RNN", 3, 6, 0.5),
        nested: lambda c: c == rich_config(),
    }
    for path, check in expected.items():
        out = tmp_path / f"{path.name}.npz"
        code, _, err = cli(capsys, "train", "--config", path, "--steps", "1", "--quiet", "--out", out)
        assert code == 0, err
        assert check(load_run(out).config), path
    # Flags override the file.
    out = tmp_path / "override.npz"
    assert cli(capsys, "train", "--config", flat_toml, "--hidden", "2", "--steps", "1", "--quiet", "--out", out)[0] == 0
    assert load_run(out).config.models[0].model.hidden == 2


def test_train_summary_describes_each_model_even_with_equal_labels(tmp_path: Path, capsys) -> None:
    from gradviz.probes import describe_half_life
    from gradviz.probes.halflife import gain_half_life, measured_gains

    twins = RunConfig(
        task=TaskConfig(seq_len=30, batch=4),
        models=(ModelSetup("twin", ModelConfig(kind="rnn", hidden=4)), ModelSetup("twin", ModelConfig(kind="lstm"))),
        device="cpu",
    )
    path, out = tmp_path / "twins.json", tmp_path / "twins.npz"
    path.write_text(twins.to_json())
    code, stdout, _ = cli(capsys, "train", "--config", path, "--steps", "1", "--quiet", "--out", out)
    assert code == 0
    arrays = load_run(out).arrays
    lines = [line for line in stdout.splitlines() if line.startswith("  twin: ")]
    assert len(lines) == 2
    for line, index in zip(lines, (0, 1), strict=True):
        # The window's header facts: the loss against the baseline, the rate and the gain beside
        # it (the rate is the gain's own: one record, so no range), ...
        profile = arrays[f"model{index}/grad_c" if index else f"model{index}/grad_h"][-1][-1]  # top layer
        half_life = gain_half_life(float(measured_gains(profile)[0]), 30)
        assert describe_half_life(half_life) in line and "baseline" in line, line
    assert lines[0] != lines[1]


@pytest.mark.parametrize("kind", ["lstm", "rnn", "gru"])
def test_probe_writes_everything_needed_to_check_it(kind: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "probe.npz"
    code, stdout, err = cli(capsys, "probe", "--model", kind, "--layers", "2", "--hidden", "4", "--seq-len", "6",
                            "--batch", "3", "--seed", "2", "--device", "cpu", "--out", out)
    assert code == 0, err
    assert "wrote" in stdout
    arrays = read_npz(out)
    task = make_task("adding", 6)
    x, y = task.generate(3, torch.Generator().manual_seed(2))
    assert arrays["x"].shape == (3, 6, 2)
    np.testing.assert_array_equal(arrays["x"], x.transpose(0, 1).numpy())
    np.testing.assert_array_equal(arrays["y"], y.numpy())
    assert arrays["loss"].shape == () and np.isfinite(arrays["loss"])
    model = build_model(ModelConfig(kind=kind, hidden=4, layers=2), 2, 1, seed=2)
    params = model.torch_parameter_names()
    assert {"head.weight", "head.bias"} <= set(params)
    assert {k for k in arrays if k.startswith("param/")} == {f"param/{name}" for name in params}
    for name, value in params.items():
        np.testing.assert_array_equal(arrays[f"param/{name}"], value.detach().numpy())
    assert arrays["grad_h"].shape == (2, 6)
    assert ("grad_c" in arrays) == (kind == "lstm")
    if kind == "lstm":
        assert arrays["grad_c"].shape == (2, 6)
    for gate in model.gate_names:
        assert arrays[f"gate/{gate}"].shape == (2, 6, 3, 4)


def test_probe_needs_an_output_file(capsys) -> None:
    code, _, err = cli(capsys, "probe", "--hidden", "4")
    assert code == 2 and err == "gradviz: error: probe needs --out FILE.npz\n"


def test_output_folder_and_device_mistakes(tmp_path: Path, capsys) -> None:
    code, _, err = cli(capsys, "train", *SMALL, "--steps", "1", "--out", tmp_path / "no" / "run.npz")
    assert code == 2 and err == f"gradviz: error: folder {tmp_path / 'no'} does not exist\n"
    if not torch.cuda.is_available():
        code, _, err = cli(capsys, "train", "--hidden", "4", "--device", "cuda", "--steps", "1", "--quiet")
        assert code == 2 and len(err.splitlines()) == 1
        assert "device cuda was requested but no CUDA GPU is available" in err


def test_a_diverging_train_exits_3_and_still_writes_its_run_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "boom.npz"
    code, stdout, err = cli(capsys, "train", "--model", "rnn", "--nonlinearity", "relu", "--spectral-radius", "5",
                            "--optimizer", "sgd", "--lr", "10", "--clip", "0", "--hidden", "8", "--seq-len", "20",
                            "--batch", "8", "--steps", "200", "--device", "cpu", "--quiet", "--out", out)
    assert code == 3
    assert "training diverged at step" in err and "Traceback" not in err
    assert "DIVERGED" in stdout
    saved = load_run(out)
    assert len(saved.arrays["train_step"]) < 200
    assert not np.isfinite(saved.arrays["train_loss"][0, -1]) or not np.isfinite(saved.arrays["train_grad_norm"][0, -1])


# ---- run files --------------------------------------------------------------------------


def short_history(config: RunConfig, steps: int) -> tuple[Run, RunHistory]:
    run, history = Run(config), RunHistory(len(config.models))
    for record in run.steps(steps):
        history.add(record)
    return run, history


def small_compare_config() -> RunConfig:
    return RunConfig(
        task=TaskConfig(seq_len=6, batch=4),
        models=(ModelSetup("a", ModelConfig(kind="rnn", hidden=3)), ModelSetup("b", ModelConfig(kind="gru", hidden=5))),
        record_every=2,
        device="cpu",
    )


def test_load_run_returns_what_save_run_wrote(tmp_path: Path) -> None:
    config = small_compare_config()
    run, history = short_history(config, 7)
    baseline = run.task.baseline()
    path = save_run(tmp_path / "r.npz", config, history, (baseline.loss, baseline.metric))
    saved = load_run(path)
    assert saved.config == config
    assert saved.labels == ["a", "b"]
    expected = run_arrays(config, history, (baseline.loss, baseline.metric))
    assert set(saved.arrays) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(saved.arrays[name], value, err_msg=name)
        assert saved.arrays[name].dtype == value.dtype
    np.testing.assert_array_equal(saved.arrays["step"], [0, 2, 4, 6])
    assert saved.arrays["model1/gate/update"].shape == (4, 1, 6, 5)


def test_a_run_with_one_diverged_model_saves(tmp_path: Path) -> None:
    config = RunConfig(
        task=TaskConfig(seq_len=20, batch=8),
        models=(
            ModelSetup("boom", ModelConfig(kind="rnn", nonlinearity="relu", hidden=8, spectral_radius=5.0),
                       TrainConfig(optimizer="sgd", lr=10.0, clip=0.0)),
            ModelSetup("calm", ModelConfig(kind="lstm", hidden=8)),
        ),
        record_every=2,
        device="cpu",
    )
    run, history = short_history(config, 30)
    assert run.learners[0].diverged and not run.learners[1].diverged
    saved = load_run(save_run(tmp_path / "r.npz", config, history, (1 / 6, 0.0)))
    steps = saved.arrays["step"]
    np.testing.assert_array_equal(steps, np.arange(0, 30, 2))
    assert saved.arrays["model0/grad_h"].shape[0] == saved.arrays["model1/grad_h"].shape[0] == len(steps)
    assert np.isnan(saved.arrays["model0/half_life"][-1]) and np.isfinite(saved.arrays["model1/half_life"][-1])


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def valid_run_bytes(tmp_path: Path) -> bytes:
    config = small_compare_config()
    _, history = short_history(config, 3)
    return save_run(tmp_path / "valid.npz", config, history, (0.1, 0.2)).read_bytes()


def test_damaged_run_files_raise_run_file_error(tmp_path: Path) -> None:
    good = valid_run_bytes(tmp_path)
    corrupted = bytearray(good)
    for offset in range(100, 140):  # inside the first compressed member
        corrupted[offset] ^= 0xFF
    arrays = dict(read_npz(tmp_path / "valid.npz"))
    cases = {
        "truncated.npz": (good[: len(good) // 2], "not an npz file"),
        "empty.npz": (b"", "not an npz file"),
        "text.npz": (b"step,loss\n0,0.16\n", "not an npz file"),
        "corrupted.npz": (bytes(corrupted), "is damaged"),
    }
    for name, (data, message) in cases.items():
        path = write_bytes(tmp_path / name, data)
        with pytest.raises(RunFileError, match=message) as error:
            load_run(path)
        assert str(path) in str(error.value)

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{**arrays, "labels": np.array([{"a": 1}, None], dtype=object)})
    with pytest.raises(RunFileError, match="contains pickled objects, which gradviz never loads"):
        load_run(pickled)

    wrong_format = tmp_path / "wrong.npz"
    np.savez(wrong_format, **{**arrays, "format": np.array("something-else/2")})
    with pytest.raises(RunFileError, match="is not a gradviz run file \\(format 'something-else/2'\\)"):
        load_run(wrong_format)

    no_format = tmp_path / "probe-like.npz"
    np.savez(no_format, **{k: v for k, v in arrays.items() if k != "format"})
    with pytest.raises(RunFileError, match="format 'missing'"):
        load_run(no_format)

    bad_config = tmp_path / "bad_config.npz"
    np.savez(bad_config, **{**arrays, "config_json": np.array('{"seed": -1}')})
    with pytest.raises(RunFileError, match="bad config: seed must be between"):
        load_run(bad_config)

    bad_shape = tmp_path / "bad_shape.npz"
    np.savez(bad_shape, **{**arrays, "loss": arrays["loss"][:, :1]})
    with pytest.raises(RunFileError, match="loss must have shape"):
        load_run(bad_shape)

    with pytest.raises(RunFileError, match="does not exist"):
        load_run(tmp_path / "absent.npz")


def test_zip_bombs_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gradviz.io.runfile as runfile

    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("format.npy", b"\0" * 10_000)
    monkeypatch.setattr(runfile, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(RunFileError, match="refusing to unpack it"):
        read_npz(path)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "run.npz"
    path.write_bytes(b"old contents")

    def failing_writer(stream) -> None:
        stream.write(b"half of the new contents")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, failing_writer, force=True)
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]

    def failing_savez(stream, **arrays) -> None:
        stream.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", failing_savez)
    with pytest.raises(KeyboardInterrupt):
        save_arrays(path, {"a": np.zeros(3)}, force=True)
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]

    with pytest.raises(FileExistsRefused, match="already exists"):
        atomic_write(path, lambda stream: stream.write(b"new"))
    assert path.read_bytes() == b"old contents"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "no" / "such.npz", lambda stream: None)


def test_saved_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "shared.npz", lambda stream: stream.write(b"data"))
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # readable by others, like any saved file


def test_an_automatic_label_names_the_new_cell_and_a_typed_one_stays():
    from gradviz.config import ModelConfig, label_for

    rnn, gru = ModelConfig(kind="rnn"), ModelConfig(kind="gru")
    assert label_for("tanh RNN", rnn, gru) == "GRU"
    assert label_for("IRNN", ModelConfig(kind="rnn", nonlinearity="relu"), rnn) == "tanh RNN"
    assert label_for("LSTM + forget gate", ModelConfig(kind="lstm"), ModelConfig(kind="lstm", forget_gate=False)) \
        == "LSTM 1997"
    assert label_for("IRNN", rnn, ModelConfig(kind="rnn", hidden=99)) == "IRNN"  # the cell is the same
    assert label_for("my net", rnn, gru, typed=True) == "my net"
