"""``gradviz doctor``: the facts it prints are this machine's, its self-check passes here and
says why when a number is wrong, and a device that is not here is one line and exit 2."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from gradviz import doctor, selfcheck
from gradviz.cli import main
from gradviz.forkserver import start_method
from gradviz.presets import DEFAULT_PRESET, load_preset
from gradviz.threads import torch_threads


def test_doctor_prints_this_machine_and_its_cpu_check_passes(tmp_path, capsys):
    report = tmp_path / "doctor.json"
    assert main(["doctor", "--device", "cpu", "--quick", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    lines = {line.split("  ", 1)[0].strip(): line for line in out.splitlines()}
    assert torch.__version__ in lines["torch"] and "CPU build" in lines["torch"]
    assert sys.executable in lines["python"]
    assert lines["start method"].split()[2] == start_method()
    assert f"the default demo's trainer {torch_threads(load_preset(DEFAULT_PRESET).config, reserve=1)}" \
        in lines["threads"]
    assert "cores for gradviz" in lines["device cpu"]
    for name in ("qt", "settings", "sweeps", "platform"):
        assert lines[name].split("  ", 1)[1].strip()
    written = json.loads(report.read_text())
    names = [check["name"] for check in written["checks"]]
    assert names == ["recorded steps, rnn", "recorded steps, lstm", "recorded steps, gru", "trainer process",
                     "run file and figure"]
    assert written["ok"] is True and all(check["ok"] for check in written["checks"])
    assert all(check["device"] == "cpu" for check in written["checks"])
    assert f"{doctor.QUICK_STEPS} steps match float64" in out
    assert "5 of 5 checks passed" in out


def test_a_wrong_number_fails_its_check_with_the_reason_and_exit_1(monkeypatch, capsys):
    honest = selfcheck.reference

    def off_by_a_percent(kind, params, x, y):
        expected = honest(kind, params, x, y)
        if kind == "gru":
            expected["grad_h"] = expected["grad_h"] * 1.01
        return expected

    monkeypatch.setattr(selfcheck, "reference", off_by_a_percent)
    for name in ("check_trainer", "check_figure"):  # tested above: here only the numbers
        monkeypatch.setattr(selfcheck, name, lambda device, *args, name=name: selfcheck.Check(
            device, name, True, "not run here", 0.0))
    assert main(["doctor", "--device", "cpu", "--quick"]) == doctor.EXIT_FAILED
    out = capsys.readouterr().out
    gru = next(line for line in out.splitlines() if "recorded steps, gru" in line)
    assert "FAILED: step 0: grad_h differs from the float64 reference by 0.0099" in gru
    assert next(line for line in out.splitlines() if "recorded steps, lstm" in line).split()[3] == "ok"
    assert "4 of 5 checks passed; please paste all of the above into a bug report" in out


def test_the_reference_is_independent_of_the_cells():
    """The reference is the lecture's equations: at zero weights and biases every h_t is 0, and
    a tanh RNN's loss is the mean of y^2 (the prediction is the head's bias, 0)."""
    params = {name: np.zeros(shape) for name, shape in {
        "weight_ih_l0": (4, 2), "weight_hh_l0": (4, 4), "bias_ih_l0": (4,), "bias_hh_l0": (4,),
        "head.weight": (1, 4), "head.bias": (1,)}.items()}
    x, y = torch.rand(5, 3, 2), torch.rand(3, 1)
    result = selfcheck.reference("rnn", params, x, y)
    assert result["loss"] == pytest.approx(float((y.double() ** 2).mean()))
    np.testing.assert_array_equal(result["grad_h"], np.zeros(5))  # a zero head passes no gradient back


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_a_device_that_is_not_here_is_one_line_and_exit_2(capsys):
    assert main(["doctor", "--device", "mps"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "mps was requested but Apple MPS is not available" in captured.err


def test_without_qt_the_doctor_says_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "gradviz.gui.environment", None)  # importing it raises ImportError
    found = doctor.qt_facts()
    assert found["qt"].startswith("not installed")
    assert "not installed" in found["settings"] and "not installed" in found["sweeps"]
