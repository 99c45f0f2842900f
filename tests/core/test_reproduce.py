"""``gradviz reproduce``: the paper's number beside gradviz's, resumable, one line for a mistake."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gradviz.cli import main
from gradviz.io.filelock import FileLock
from gradviz.reproduce import scoring
from gradviz.reproduce.papers import REPRODUCTIONS, reproduction
from gradviz.reproduce.results import describe


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_every_reproduction_builds_full_and_quick() -> None:
    for name in REPRODUCTIONS:
        for quick in (False, True):
            chosen = reproduction(name, quick)
            assert chosen.arms and all(arm.config(0).models[0].label for arm in chosen.arms)
    table7 = reproduction("table7").arms[0].config(2)
    assert (table7.task.name, table7.task.seq_len, table7.seed) == ("adding1997", 100, 2)


def test_quick_le2015_prints_the_paper_beside_gradviz_and_resumes(tmp_path: Path, capsys) -> None:
    out = tmp_path / "le.json"
    code, stdout, err = cli(capsys, "reproduce", "le2015", "--quick", "--seeds", "1", "--out", out)
    assert code == 0, err
    saved = json.loads(out.read_text())
    assert [run["arm"] for run in saved["runs"]] == ["tanh RNN, T=10", "IRNN, T=10"]
    for run in saved["runs"]:
        assert run["steps"] == 60 and run["sequences"] == 60 * 64
        assert run["value"] == pytest.approx(run["final_loss"] / run["baseline"])
        line = next(line for line in stdout.splitlines() if line.startswith(f"  {run['arm']}:"))
        assert "paper " in line and f"gradviz final loss median {run['value']:.3g}x baseline over 1 seed" in line
    # Again: nothing left to train; the same summary from the file.
    code, again, err = cli(capsys, "reproduce", "le2015", "--quick", "--seeds", "1", "--out", out)
    assert code == 0 and "resuming" in err and "2 of 2 runs done" in err and again == stdout


def test_ctrl_c_keeps_finished_runs_and_the_same_command_resumes(tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "p.json"
    real = scoring.train_and_score
    calls = []

    def interrupted_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring, "train_and_score", interrupted_second)
    code, _, err = cli(capsys, "reproduce", "pascanu2013", "--quick", "--seeds", "1", "--quiet", "--out", out)
    assert code == 130
    assert err.strip().splitlines() == [f"gradviz: interrupted; 1 of 4 runs are kept in {out} (run the same "
                                        "command again to resume)"]
    assert len(json.loads(out.read_text())["runs"]) == 1
    monkeypatch.setattr(scoring, "train_and_score", real)
    plot = tmp_path / "p.png"
    code, stdout, err = cli(capsys, "reproduce", "pascanu2013", "--quick", "--seeds", "1", "--quiet", "--out", out,
                            "--plot", plot)
    assert code == 0 and "1 of 4 runs done" in err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {plot}" in stdout
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 4 and "RNN, no clipping: paper diverges" in stdout


@pytest.mark.parametrize("argv,message", [
    (("reproduce", "table8"), "unknown reproduction 'table8'; choose one of table7, bengio1994, le2015, pascanu2013"),
    (("reproduce", "le2015", "--seeds", "0"), "--seeds must be between 1 and 100, got 0"),
    (("reproduce", "le2015", "--out", "x.npz"), "--out must end in .json, got 'x.npz'"),
    (("reproduce", "le2015", "--plot", "x.gif"),
     "--plot must be a .png, .svg or .pdf file in a folder that exists, got x.gif"),
])
def test_mistakes_are_one_line_and_exit_2(argv, message: str, capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, *argv)
    assert code == 2 and err.strip().splitlines() == [f"gradviz: error: {message}"] and not out
    assert not list(tmp_path.iterdir())  # nothing written


def test_damaged_other_and_locked_files_are_refused_and_kept(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.json"
    for text, message in (("{not json", "is not a readable reproduction file"),
                          ('{"format": "gradviz-sweep/1"}', "is not a gradviz reproduction file"),
                          ('{"format": "gradviz-reproduction/1", "name": "le2015", "quick": true, "runs": []}',
                           "holds the reproduction le2015 --quick, not le2015"),
                          ('{"format": "gradviz-reproduction/1", "name": "le2015", "quick": false, "runs": '
                           '[{"arm": "IRNN, T=50", "seed": 0}]}', "has a damaged run")):
        out.write_text(text)
        code, _, err = cli(capsys, "reproduce", "le2015", "--out", out)
        assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
        assert out.read_text() == text
    with FileLock(out, what="gradviz reproduce"):
        code, _, err = cli(capsys, "reproduce", "le2015", "--force", "--out", out)
    assert code == 2 and "is being written by" in err and len(err.strip().splitlines()) == 1


def test_a_run_made_with_other_settings_is_not_mixed_in(tmp_path: Path, capsys) -> None:
    out = tmp_path / "le.json"
    assert cli(capsys, "reproduce", "le2015", "--quick", "--seeds", "1", "--quiet", "--out", out)[0] == 0
    data = json.loads(out.read_text())
    data["runs"][0]["config"]["models"][0]["train"]["lr"] = 0.5
    out.write_text(json.dumps(data))
    code, _, err = cli(capsys, "reproduce", "le2015", "--quick", "--seeds", "1", "--out", out)
    assert code == 2 and "was made with other settings (tanh RNN, T=10, seed 0)" in err


def test_median_and_range_over_seeds_in_words() -> None:
    solved = np.array([121_536.0, math.nan, 98_304.0])
    assert describe(solved, scoring.SOLVED, "table7") == (
        "median 121,536 sequences (solved: 98,304 to 121,536) over 3 seeds, solved in 2 of 3, "
        "within 148,000 (2x the paper) in 2 of 3")
    assert describe(np.array([math.nan, math.nan, 5.0]), scoring.SOLVED).startswith("median: not solved")
    losses = np.array([0.08, math.inf, 0.02])
    assert describe(losses, scoring.FINAL_LOSS) == (
        "final loss median 0.08x baseline (range 0.02x baseline to 0.08x baseline) over 3 seeds, diverged in 1 of 3")
    assert "learned (below 0.1x) in 2 of 3" in describe(np.array([0.05, 0.5, 0.01]), scoring.FINAL_LOSS,
                                                        "bengio1994")
