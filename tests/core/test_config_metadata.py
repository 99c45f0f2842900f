"""A setting's label, help, tooltip, range, choices, when it applies and whether it applies
live are its field's metadata in config.py, read as data: the validation, the command line,
and (tests/gui/test_settings_form.py) the settings form all read the same entry, and an
install without source files (frozen, or compiled only) reads it too."""

from __future__ import annotations

import compileall
import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gradviz
from gradviz.cli import build_parser
from gradviz.config import RANGES, ConfigError, ModelConfig, RunConfig, TrainConfig
from gradviz.schema import by_flat, settings


def test_every_setting_carries_its_metadata_on_its_field():
    for setting in settings():
        assert setting.doc and setting.tip and setting.label, setting.flat
        if setting.type in (int, float) and setting.type is not bool:
            assert setting.range == RANGES[setting.name], setting.flat  # validation's table is the fields'
    assert {s.flat for s in settings() if s.live} == {f.name for f in dataclasses.fields(TrainConfig)}
    assert by_flat("forget_bias").applies({"kind": "lstm", "forget_gate": True})
    assert not by_flat("forget_bias").applies({"kind": "lstm", "forget_gate": False})
    assert not by_flat("nonlinearity").applies({"kind": "lstm"}) and by_flat("nonlinearity").applies({"kind": "rnn"})
    assert by_flat("data").hidden_otherwise and by_flat("data").applies({"name": "text"})


def test_validation_and_the_command_line_read_the_same_range(capsys):
    field = next(f for f in dataclasses.fields(ModelConfig) if f.name == "hidden")
    low, high = field.metadata["bounds"]
    data = RunConfig().to_dict()
    data["models"][0]["model"]["hidden"] = high + 1
    with pytest.raises(ConfigError, match=f"between {low:g} and {high:g}"):
        RunConfig.from_dict(data)
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    assert field.metadata["doc"] in " ".join(train.format_help().split())


def test_settings_are_read_from_an_install_with_no_source_files(tmp_path: Path):
    copy = tmp_path / "gradviz"
    shutil.copytree(Path(gradviz.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert compileall.compile_dir(copy, quiet=1, legacy=True)  # x.pyc beside x.py, importable alone
    for source in copy.rglob("*.py"):
        source.unlink()
    script = ("import gradviz.schema as s, gradviz, sys; assert gradviz.__file__.endswith('.pyc'); "
              "print(len(s.settings()), s.by_flat('lr').label, s.by_flat('lr').live)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(len(settings())), "Learning", "rate", "True"]
