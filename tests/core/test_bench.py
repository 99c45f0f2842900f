"""The pieces of ``gradviz bench`` on tiny sizes: they measure what they say, and quickly.

The bench itself (``gradviz bench --quick``, about two minutes) is not run here: timing is no
test. These check that each measurement runs, returns finite positive numbers, compares like
with like (the plain PyTorch reference trains the very same function), and that the table
judges the targets the way the issue states them.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from gradviz import bench
from gradviz.bench_stats import insight_reached
from gradviz.cli import main
from gradviz.engine import Run


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    """Tiny models gain nothing from a second thread, and lose much on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # for the child interpreters
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_fused_reference_trains_the_same_function(kind: str) -> None:
    run = Run(bench.case_config(kind, 4, 7, 5, "cpu"))
    learner = run.learners[0]
    reference = bench.FusedReference(learner.model, learner.train, run.task)
    generator = torch.Generator().manual_seed(0)
    for _ in range(3):  # same weights, same batch, same optimiser: the same losses step by step
        x, y = run.task.generate(4, generator)
        ours = learner.step(x, y, record=True).loss
        assert reference.step(x, y) == pytest.approx(ours, rel=1e-5)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_step_ratios_are_finite_and_positive(kind: str) -> None:
    for measured in (
        bench.instrumented_over_fused(kind, 4, 6, 4, rounds=2),
        bench.training_over_fused(kind, 4, 6, 4, rounds=1),
    ):
        assert set(measured) == {"ratio", "gradviz_ms", "fused_ms"}
        assert all(math.isfinite(v) and v > 0 for v in measured.values())
        assert measured["ratio"] == pytest.approx(measured["gradviz_ms"] / measured["fused_ms"])


def test_alternate_takes_turns() -> None:
    calls: list[str] = []
    first, second = bench.alternate(lambda: calls.append("a"), lambda: calls.append("b"), 3, torch.device("cpu"))
    assert calls == ["a", "b"] * 4  # one warm-up round, then three timed ones
    assert len(first) == len(second) == 3


def test_insight_needs_twenty_steps_below_half_the_baseline() -> None:
    assert not insight_reached([0.01] * 19, 0.1)
    assert insight_reached([1.0] * 5 + [0.01] * 20, 0.1)
    assert not insight_reached([0.01] * 19 + [10.0], 0.1)
    tiny = bench.case_config("lstm", 4, 6, 4)
    result = bench.seconds_to_insight(tiny, limit_s=0.5)
    assert result["seconds"] is None or result["seconds"] <= 0.5  # an untrained model: not yet
    assert result["steps"] >= 1


def test_memory_measurements_are_finite() -> None:
    grown = bench.rss_growth(bench.case_config("lstm", 4, 6, 4), steps=30, warmup=10)
    assert grown["steps"] == 30 and grown["rss_start_mb"] > 0
    assert math.isfinite(grown["rss_growth_mb"]) and grown["history_mb"] > 0
    long = bench.long_sequence("gru", 30, batch=2, hidden=3)
    assert long["recorded_s"] > 0 and long["fused_s"] > 0 and long["peak_mb"] >= 0


def test_a_child_interpreter_reports_back() -> None:
    spec = {"config": bench.case_config("rnn", 2, 5, 3).to_dict(), "steps": 12}
    result = bench.run_child("rss", spec, timeout_s=120)
    assert result["steps"] == 12 and math.isfinite(result["rss_growth_mb"])


def test_the_table_judges_each_target() -> None:
    results = {
        "quick": True, "device": "CPU", "torch": "x", "torch_threads": 2, "cpu_count": 2,
        "instrumented_over_fused": {"lstm_B64_T200_H128": 1.4, "lstm_B32_T50_H32": 3.5},
        "training_over_fused": {"lstm_B64_T200_H128": 1.1},
        "gui_frame_ms_p50": 10.0, "gui_frame_ms_p95": 40.0, "gui_training_slowdown": 1.1,
        "rss_growth_mb": 3.0, "rss_steps": 2000, "seconds_to_insight": {"headless": 12.0, "window": None},
        "notes": ["quick: fewer steps"],
    }
    lines = {line.split()[0] + " " + line.split()[1]: line for line in bench.table(results).splitlines()[2:]
             if not line.startswith("note")}
    assert lines["instrumented_over_fused lstm_B64_T200_H128"].endswith("yes")  # 1.4 <= 1.5
    assert lines["instrumented_over_fused lstm_B32_T50_H32"].endswith("NO")  # 3.5 > 3
    assert lines["gui_frame_ms_p95 40"].endswith("NO")
    assert lines["seconds_to_insight window"].endswith("n/a")
    assert "note: quick: fewer steps" in bench.table(results)
    json.dumps(results)


def test_bench_command_rejects_a_missing_json_folder(tmp_path, capsys) -> None:
    code = main(["bench", "--quick", "--json", str(tmp_path / "missing" / "out.json")])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"gradviz: error: folder {tmp_path / 'missing'} does not exist"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_bench_on_a_missing_device_is_a_one_line_error(capsys) -> None:
    assert main(["bench", "--quick", "--device", "cuda"]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err
