"""Painting stays short under training: new records are drawn one column per timer tick, and
axes are only regenerated when a range crosses a step."""

import numpy as np

from gradviz.gui.plots.ranges import stepped_range
from tests.gui.conftest import paused_after, small_config, steps_done, trainer_frame


def test_a_new_record_is_drawn_a_group_per_tick(qtbot, make_window):
    window = make_window(small_config(models=3))
    window.timer.stop()  # the test plays the timer
    paused_after(qtbot, window, 3)
    columns = window.columns

    def drawn() -> list[tuple[bool, bool]]:  # (history group, newest-record group) per column
        return [(bool(c.history_map.values.size), bool(c.gate_map.values.size)) for c in columns]

    assert window.refresh()  # a new frame: the loss curves of all, one group of the first column
    assert all(len(column.loss_curve.yData) == window.session.steps_done for column in columns)
    seen = [drawn()]
    while window.refresh():  # no new frame: what the last one left, a group per tick
        seen.append(drawn())
        assert len(seen) <= 6
    assert [sum(map(sum, state)) for state in seen] == [1, 2, 3, 4, 5, 6]  # one group at a time
    recorded = trainer_frame(qtbot, window)
    for index, column in enumerate(columns):
        latest = recorded.models[index].latest.probes
        gate = column.gate if column.gate in latest.gates else next(iter(latest.gates))
        np.testing.assert_array_equal(column.gate_map.values, latest.gates[gate][-1].T)


def test_export_draws_what_is_pending(qtbot, make_window, tmp_path):
    window = make_window(small_config(models=3))
    window.timer.stop()
    paused_after(qtbot, window, 3)
    window.refresh()
    assert not window.columns[2].gate_map.values.size
    window.export("2:gates", tmp_path / "gates.png")
    assert window.columns[2].gate_map.values.size


def test_a_header_never_shrinks_the_plots_below_it(qtbot, make_window):
    window = make_window(autostart=True)
    qtbot.waitUntil(lambda: steps_done(window) >= 6, timeout=30000)
    header = window.columns[1].header
    tallest = header.minimumHeight()
    assert tallest > 0
    header.setText("short")  # as a later frame's shorter text would
    window.paint_now()
    assert header.minimumHeight() >= tallest


def test_stepped_range_moves_only_when_data_crosses_a_step():
    assert stepped_range(np.array([0.3, 0.9, 1.2]), 0.5, 0.0, 1.5) == (0.0, 1.5)
    assert stepped_range(np.array([0.3, 0.9, 1.6]), 0.5, 0.0, 1.5) == (0.0, 2.0)
    assert stepped_range(np.array([1e-3, 4.0]), 1.0, log=True) == (-3.0, 1.0)
    assert stepped_range(np.array([0.0, np.nan, 20.0]), 1.0, log=True) == (1.0, 2.0)  # 0 has no log
    assert stepped_range(np.array([np.nan]), 0.5) == (0.0, 1.0)  # nothing finite: a default
    assert stepped_range(np.array([2.0, 2.0]), 0.5) == (2.0, 2.5)  # never empty


def test_a_sequence_of_2000_steps_trains_and_plots(qtbot, make_window):
    window = make_window(small_config(), task=small_config().task.__class__("adding", seq_len=2000, batch=2))
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=60000)
    window.paint_now()
    for column in window.columns:
        x, y = column.profile_h.getData()
        assert len(x) == 2000 and np.isfinite(y).sum() > 0
        assert column.history_map.values.shape == (1, 2000)
        assert column.gate_map.values.shape == (8, 2000)


def test_records_faster_than_ticks_starve_no_column_and_no_group(qtbot, make_window):
    window = make_window(small_config(models=3), record_every=1)
    window.timer.stop()
    columns = window.columns
    for step in range(1, 7):  # a new record before every tick: the columns and groups take turns
        window.step_once()
        qtbot.waitUntil(lambda step=step: steps_done(window) == step, timeout=20000)
        qtbot.waitUntil(lambda: steps_done(window) >= 0 and window.session.frame.version != window.frame_version,
                        timeout=5000)
        assert window.refresh()
    for column in columns:
        assert column.history_map.values.size and column.gate_map.values.size


def test_the_whole_loss_line_is_told_apart_from_the_answers_line_and_is_in_view(qtbot, make_window):
    """Copy task: two gradient lines per model, once with identical keys and the second off the plot."""
    import dataclasses

    from PySide6.QtCore import Qt

    from gradviz.config import TaskConfig
    from tests.gui.conftest import train_and_pause

    config = dataclasses.replace(small_config(), task=TaskConfig("copy", seq_len=5, batch=8))
    window = train_and_pause(qtbot, make_window(config), steps=2)
    window.board.draw_all_pending()
    for column in window.columns:
        answers, whole = column.profile_h.opts["pen"], column.profile_all.opts["pen"]
        assert whole.style() == Qt.PenStyle.DotLine and answers.style() == Qt.PenStyle.SolidLine
        assert whole.color() != answers.color() and whole.widthF() >= answers.widthF()
        key = column.gradient.key.html_text
        entries = key.split(" &nbsp; ")
        answers_entry = next(e for e in entries if e.endswith("|dL/dh_t|"))
        whole_entry = next(e for e in entries if e.endswith("whole loss"))
        assert answers_entry.split("&nbsp;")[0] != whole_entry.split("&nbsp;")[0]  # swatch and colour
        low, high = column.gradient.plot.viewRange()[1]
        values = column.gradient.data["log10_grad_h_all"]
        values = values[np.isfinite(values)]
        assert values.size and low <= values.min() and values.max() <= high
