"""scripts/busy_bench.py's verdict: which thread policy meets issue 20's targets, from its
measurements (faked here; the script itself is run alone by hand)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "busy_bench.py"


def load():
    spec = importlib.util.spec_from_file_location("busy_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_verdict_names_each_policy_that_misses_and_why() -> None:
    bench = load()
    levels = (0, 1, 2)
    found = {}
    for case in bench.CASES:
        found[case, "old", 0] = (2.0, 2)
        found.update({(case, "one", 0): (3.0, 1), (case, "one", 1): (3.3, 1), (case, "one", 2): (4.0, 1)})
        found.update({(case, "cores", 0): (2.0, 2), (case, "cores", 1): (3.2, 2), (case, "cores", 2): (4.5, 2)})
        found.update({(case, "adaptive", 0): (2.05, 2), (case, "adaptive", 1): (2.9, 1),
                      (case, "adaptive", 2): (3.9, 1)})
    verdicts = bench.verdicts(found, levels)
    assert verdicts["adaptive"] == []
    assert all("alone 1.50x old" in line for line in verdicts["one"]) and len(verdicts["one"]) == 3
    assert any("beside 1 busy 1.60x > 1.5x" in line for line in verdicts["cores"])
    assert any("beside 2 busy 2.25x > 2.0x" in line for line in verdicts["cores"])
    text = bench.table(found, levels)
    assert "adaptive: meets every target" in text and "one: misses" in text
    assert "| LSTM H=128 | adaptive | 2 | 2.05 | 1.41 | 1.90 | 1.02 |" in text
