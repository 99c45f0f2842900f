"""The "How far back?" tab shows a file of ``gradviz reproduce``: the paper's number (a star,
labelled with the paper) beside gradviz's seeds, median and range, each plotted value the
file's; a file the reader refuses is one line, changes nothing and is not remembered."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from gradviz.cli import main
from gradviz.gui.panels.reproduction import log_ticks
from gradviz.gui.panels.sweep import SweepPanel
from gradviz.gui.settings import AppSettings
from gradviz.reproduce.papers import SUCCESS, TABLE7_SEQUENCES, reproduction
from gradviz.reproduce.results import ReproductionResults
from gradviz.reproduce.scoring import RunScore


def written(path: Path, name: str, values: dict[tuple[int, int], float], quick: bool = True) -> Path:
    """A reproduction file written by the reproduce package itself, with these scores."""
    results = ReproductionResults(reproduction(name, quick), 1 + max(seed for _, seed in values))
    for run, value in values.items():
        results.record(run, RunScore(value, 0.01, 0.17, False, 10, 640, 1.0))
    results.save(path)
    return path


def plotted(view, role: str) -> tuple[np.ndarray, np.ndarray]:
    """Every point drawn in one role (seeds, median, range, paper, lost, success), x and y."""
    items = view.items.get(role, [])
    if not items:
        return np.array([]), np.array([])
    return (np.concatenate([item.xData for item in items]), np.concatenate([item.yData for item in items]))


@pytest.fixture
def panel(qtbot, tmp_path):
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    panel = SweepPanel(tmp_path / "sweeps", settings)
    qtbot.addWidget(panel)
    panel.resize(1024, 700)
    panel.show()
    return panel


def test_table7_shows_the_papers_74000_beside_the_seeds_median_and_range(qtbot, make_window, tmp_path):
    path = written(tmp_path / "t7.json", "table7", {(0, 0): 90_000.0, (0, 1): 120_000.0, (0, 2): math.nan})
    window = make_window()
    window.show_sweep_tab()
    sweep = window.sweep
    view = sweep.reproduction
    assert sweep.reproduction.open_button.isVisible() and not view.isVisible()
    assert view.open_file(path)
    assert view.isVisible() and not sweep.graphics.isVisible() and not sweep.table.isVisible()
    assert not sweep.summary.isVisible()  # what the sweep sweeps: not what is shown now
    # Every number plotted is the file's, read back independently of the reader.
    runs = json.loads(path.read_text())["runs"]
    assert sorted(plotted(view, "seeds")[1]) == sorted(r["value"] for r in runs if math.isfinite(r["value"]))
    assert plotted(view, "median")[1].tolist() == [120_000.0]  # the lost seed counts as the slowest
    assert plotted(view, "range")[1].tolist() == [90_000.0, 120_000.0]
    lost_y = plotted(view, "lost")[1]
    assert len(lost_y) == 1 and lost_y[0] > 120_000  # never solved: drawn above every number
    assert plotted(view, "paper")[1].tolist() == [TABLE7_SEQUENCES] == [74_000]
    key = view.figure.key.html_text
    assert "Hochreiter &amp; Schmidhuber 1997, Table 7" in key and "not solved (1 seed)" in key
    assert view.figure.y_label == "training sequences until solved"
    assert "Opened t7.json" in sweep.message.text() and "3 of 3 runs" in sweep.message.text()
    assert window.settings.value("reproduction/last") == str(path)

    figure = view.export(tmp_path / "t7.png")  # the figure `gradviz reproduce --plot` draws
    assert figure.read_bytes().startswith(b"\x89PNG")
    window.resize(1024, 768)  # the button it adds, and the figure, fit a 1024-pixel screen
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1024

    view.back_button.click()
    assert not view.isVisible() and sweep.graphics.isVisible() and sweep.table.isVisible() and sweep.summary.isVisible()


def test_a_real_quick_le2015_file_is_plotted_as_written(panel, tmp_path, capsys):
    path = tmp_path / "le.json"
    assert main(["reproduce", "le2015", "--quick", "--seeds", "1", "--quiet", "--out", str(path)]) == 0
    capsys.readouterr()
    view = panel.reproduction
    assert view.open_file(path)
    runs = json.loads(path.read_text())["runs"]
    x, y = plotted(view, "seeds")
    arms = [arm.label for arm in reproduction("le2015", quick=True).arms]
    for run in runs:  # each seed at its arm's place, at the file's value (final loss / baseline)
        index = arms.index(run["arm"])
        assert y[np.abs(x - index) < 0.3].tolist() == [run["value"]]
    np.testing.assert_array_equal(plotted(view, "median")[1], [run["value"] for run in runs])
    # The paper's one number (the tanh RNN stays on the baseline: 1.0x), beside the tanh RNN.
    px, py = plotted(view, "paper")
    assert py.tolist() == [1.0] and abs(px[0] - arms.index("tanh RNN, T=10")) < 0.3
    assert "Le, Jaitly &amp; Hinton 2015, Figure 2" in view.figure.key.html_text
    assert view.figure.y_label == "final loss / memoryless baseline"
    assert "--quick" in view.title.text()
    panel.set_lecture(True)  # presentation: the figure and Back; opening and exporting stay at the desk
    assert view.back_button.isVisible() and not view.export_button.isVisible() and not view.open_button.isVisible()
    panel.set_lecture(False)
    assert view.export_button.isVisible() and view.open_button.isVisible()


def test_bengio1994_is_success_against_t(panel, tmp_path):
    # tanh RNN (arms 0, 1: T=5, 20) learns at T=5 in one seed of two; the LSTM (arms 2, 3) always.
    values = {(0, 0): 0.05, (0, 1): 0.5, (1, 0): 0.9, (1, 1): 1.0, (2, 0): 0.01, (2, 1): 0.02,
              (3, 0): 0.03, (3, 1): 0.04}
    view = panel.reproduction
    assert view.open_file(written(tmp_path / "b.json", "bengio1994", values))
    rnn, lstm = view.items["success"]
    assert rnn.xData.tolist() == [5, 20] and rnn.yData.tolist() == [0.5, 0.0]
    assert lstm.xData.tolist() == [5, 20] and lstm.yData.tolist() == [1.0, 1.0]
    assert SUCCESS == 0.1 and "below 0.1x" in view.figure.caption_text
    assert "paper" not in view.items and "gives no number" in view.figure.caption_text
    assert view.figure.x_label.startswith("sequence length T")


@pytest.mark.parametrize("text, said", [
    ("not json", "not a readable reproduction file"),
    ('{"format": "something else"}', "not a gradviz reproduction file"),
    ('{"format": "gradviz-reproduction/1", "name": "nope", "quick": true, "runs": []}', "unknown reproduction"),
    ('{"format": "gradviz-reproduction/1", "name": "le2015", "quick": true, "runs": [{"arm": "IRNN, T=10"}]}',
     "damaged run"),
    ("other settings", "made with other settings (IRNN, T=10, seed 0)"),
])
def test_a_bad_file_is_one_line_and_changes_nothing(panel, tmp_path, text, said):
    good = written(tmp_path / "t7.json", "table7", {(0, 0): 90_000.0})
    view = panel.reproduction
    assert view.open_file(good)
    before = {role: plotted(view, role)[1].tolist() for role in view.items}
    bad = tmp_path / "bad.json"
    if text == "other settings":  # a real file of the same reproduction, one run's settings changed
        data = json.loads(written(bad, "le2015", {(1, 0): 0.5}).read_text())
        data["runs"][0]["config"]["models"][0]["train"]["lr"] = 0.5
        text = json.dumps(data)
    bad.write_text(text)
    assert not view.open_file(bad)
    message = panel.message.text()
    assert message.startswith("Not opened: bad.json") and said in message and "\n" not in message
    assert str(tmp_path) not in message and "--force" not in message  # its name; no command line advice
    assert view.path == good and view.isVisible()
    assert {role: plotted(view, role)[1].tolist() for role in view.items} == before
    assert panel.settings.value("reproduction/last") == str(good)  # never the refused file


def test_log_ticks_are_round_numbers_written_as_said():
    assert [text for _, text in log_ticks(30_000, 600_000)] == ["50k", "100k", "200k", "500k"]
    assert [text for _, text in log_ticks(0.5, 1.6)] == ["0.5", "0.6", "0.7", "0.8", "0.9", "1", "1.2", "1.5"]
    assert all(abs(10**place - float(text.rstrip("k")) * (1000 if "k" in text else 1)) < 1e-6 * 10**place
               for place, text in log_ticks(0.01, 300_000))


def test_a_file_with_no_finished_run_shows_the_paper_and_says_so(panel, tmp_path):
    path = tmp_path / "t7.json"
    path.write_text(json.dumps({"format": "gradviz-reproduction/1", "name": "table7", "quick": True, "runs": []}))
    view = panel.reproduction
    assert view.open_file(path)
    assert "no run finished yet" in panel.message.text() and "no run finished yet" in view.figure.caption_text
    assert set(view.items) == {"paper"} and plotted(view, "paper")[1].tolist() == [74_000]
