"""The lecture stage: at the screens a lecturer meets, every plot shown is tall enough to read,
no two texts overlap, nothing leaves the window, and the layout survives every transition.

The facts come from the layout report (``gradviz --screenshot ... --layout``), which reads Qt's
own geometry: the view boxes, the labels, and the tick labels pyqtgraph really draws.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication

from gradviz.gui.layout_report import layout_report, overlapping
from gradviz.gui.plots import rows
from tests.gui.conftest import small_config

# screen: (least height of the gradient and loss plots, of every plot shown) in presentation
SCREENS = {(1024, 768): (180, 100), (1280, 800): (200, 120), (1920, 1080): (300, 150)}
DESK_MIN_PLOT = 100


def _report(qtbot, window, size, presentation=False, theme="dark") -> dict:
    window.full_screen = False  # offscreen there is no real screen to fill: the window stands for it
    if window.presentation != presentation:
        window.toggle_presentation()
    if window.theme_name != theme:
        window.theme_name = theme
        window.apply_style()
    window.resize(*size)
    try:
        qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    except Exception:
        raise AssertionError(f"{window.size()} min {window.minimumSizeHint()} {window.minimumSize()}") from None
    QApplication.processEvents()
    window.board.arrange()
    window.paint_now()
    QApplication.processEvents()
    return layout_report(window)


def _trained_window(qtbot, make_window, steps: int = 6):
    window = make_window()
    for _ in range(steps):
        window.step_once()
    qtbot.waitUntil(lambda: window.session.steps_done >= steps, timeout=30000)

    def painted() -> bool:
        window.paint_now()
        return window.last_frame is not None and window.last_frame.steps_done >= steps

    qtbot.waitUntil(painted, timeout=30000)
    return window


def _problems(report: dict) -> list[str]:
    """What breaks the rules that hold at every size and in both modes."""
    width, height = report["size"]
    window = QRect(0, 0, width, height)
    problems = [f"overlap: {a!r} / {b!r}" for a, b in overlapping(report["texts"])]
    plots = [QRect(*plot["rect"]) for plot in report["plots"] if plot["visible"]]
    for text in report["texts"]:
        box = QRect(*text["rect"])
        if not window.contains(box):
            problems.append(f"leaves the window: {text['text']!r} at {text['rect']}")
        for plot in plots:  # inside a data area (a read-out) or clear of it, never cut by its edge
            if box.adjusted(1, 1, -1, -1).intersects(plot) and not plot.contains(box):
                problems.append(f"cut by a plot's edge: {text['text']!r} at {text['rect']}")
    for plot in report["plots"]:
        if plot["visible"] and not window.contains(QRect(*plot["rect"])):
            problems.append(f"plot leaves the window: {plot}")
    problems += [f"not in view: {thing}" for thing in report["hidden"]]
    problems += [f"text: {fault}" for fault in report["text_faults"]]
    models = {plot["model"] for plot in report["plots"]}
    for model in models:
        for kind in ("gradient", "loss"):
            shown = [p for p in report["plots"] if p["model"] == model and p["kind"] == kind and p["visible"]]
            if not shown:
                problems.append(f"{model}: no {kind} plot")
    return problems


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_screen_at_the_desk(qtbot, make_window, theme):
    window = _trained_window(qtbot, make_window)
    for size in SCREENS:
        report = _report(qtbot, window, size, theme=theme)
        assert report["size"] == list(size) and report["presentation"] is False
        assert _problems(report) == [], size
        short = [p for p in report["plots"] if p["visible"] and p["rect"][3] < DESK_MIN_PLOT]
        assert short == [], size
    assert len([p for p in report["plots"] if p["visible"]]) >= 8  # 1920x1080 holds more than the minimum


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_screen_in_presentation(qtbot, make_window, theme):
    window = _trained_window(qtbot, make_window)
    for size, (main, other) in SCREENS.items():
        report = _report(qtbot, window, size, presentation=True, theme=theme)
        assert report["presentation"] is True
        assert _problems(report) == [], size
        for plot in (p for p in report["plots"] if p["visible"]):
            least = main if plot["kind"] in ("gradient", "loss") else other
            assert plot["rect"][3] >= least, (size, plot)
        shown = {p["kind"] for p in report["plots"] if p["visible"]}
        assert shown <= {"gradient", "loss", "history", "gates"}, size
        small = [t for t in report["texts"] if t["px"] * 50 < size[1]]
        assert small == [], size
        # A plot the room is shown has its axis titles whole ("training step", not "step").
        squeezed = [(p["kind"], p["short_labels"]) for p in report["plots"] if p["visible"] and p["short_labels"]]
        assert squeezed == [], size
        gradient = [p["rect"][3] for p in report["plots"] if p["visible"] and p["kind"] == "gradient"]
        others = [p["rect"][3] for p in report["plots"] if p["visible"] and p["kind"] != "gradient"]
        assert min(gradient) >= max(others), size  # the profile is the largest plot


def test_f5_then_esc_gives_the_layout_back(qtbot, make_window):
    window = _trained_window(qtbot, make_window)
    before = _report(qtbot, window, (1280, 800))
    window.full_screen = True
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.presentation
    QApplication.processEvents()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presentation
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1280, 800), timeout=5000)
    after = _report(qtbot, window, (1280, 800))
    # The same plots in the same places. board.arrange settles its measured overheads to within
    # a pixel per row, and after some test orders plots and labels came back up to 4 px off
    # (not yet explained): up to 6 px is allowed, a lost, resized or misplaced plot is not.
    assert [(p["kind"], p["model"], p["visible"]) for p in after["plots"]] == \
        [(p["kind"], p["model"], p["visible"]) for p in before["plots"]]
    for a, b in zip(after["plots"], before["plots"], strict=True):
        assert all(abs(x - y) <= 6 for x, y in zip(a["rect"], b["rect"], strict=True)), (a, b)
    assert [(t["text"], t["px"]) for t in after["texts"]] == [(t["text"], t["px"]) for t in before["texts"]]
    moved = [(a, b) for a, b in zip(before["texts"], after["texts"], strict=True)
             if any(abs(x - y) > 6 for x, y in zip(a["rect"], b["rect"], strict=True))]
    assert moved == []


def test_the_lecturer_picks_the_third_plot(qtbot, make_window):
    window = _trained_window(qtbot, make_window)
    report = _report(qtbot, window, (1280, 800), presentation=True)
    column = window.board.columns[0]
    assert column.shown_rows == ("loss", "gradient") and column.beside == "history"  # beside the loss
    assert {p["kind"] for p in report["plots"] if p["visible"]} == {"loss", "gradient", "history"}
    qtbot.keyClick(window, Qt.Key.Key_H)
    report = _report(qtbot, window, (1280, 800), presentation=True)
    assert {p["kind"] for p in report["plots"] if p["visible"]} == {"loss", "gradient", "gates"}
    assert _problems(report) == []
    report = _report(qtbot, window, (1024, 768), presentation=True)  # too narrow side by side: stacked
    # Below the two, where it reaches its floor; with a two-line header at 768 lines it does
    # not, and is left out rather than squashed.
    assert column.beside is None and column.shown_rows in (("loss", "gradient"), ("loss", "gradient", "gates"))
    assert {p["kind"] for p in report["plots"] if p["visible"]} == set(column.shown_rows)
    assert _problems(report) == []
    qtbot.keyClick(window, Qt.Key.Key_H)  # presentation offers history and gates only
    assert window.board.extra == "history"


def test_keys_belong_to_their_model_after_a_switch(qtbot, make_window):
    from gradviz.config import ModelConfig, ModelSetup, TrainConfig

    window = _trained_window(qtbot, make_window, steps=2)
    lstm_gates = set(window.columns[1].gate_means.key_names())
    assert "forget gate f_t" in lstm_gates
    config = small_config()
    gru = ModelSetup("GRU", ModelConfig(kind="gru", hidden=8), TrainConfig(lr=0.02))
    window.controls.set_config(type(config)(task=config.task, models=(config.models[0], gru),
                                            record_every=config.record_every, device="cpu"))
    window.reset()
    qtbot.waitUntil(lambda: window.session.active is not None and window.session.active.models[1].label == "GRU",
                    timeout=20000)
    window.step_once()
    qtbot.waitUntil(lambda: window.session.steps_done >= 1, timeout=20000)
    qtbot.waitUntil(lambda: window.refresh() or bool(window.columns[1].gate_means.key_names()), timeout=20000)
    window.paint_now()
    names = set(window.columns[1].gate_means.key_names())
    assert "update gate z_t" in names and "forget gate f_t" not in names
    assert window.columns[0].gradient.key_names() == ["|dL/dh_t|"]  # an RNN has no cell state


def test_hover_readout_clears_on_reset_and_stays_out_of_pictures(qtbot, make_window):
    window = _trained_window(qtbot, make_window, steps=2)
    readout = window.columns[0].profile_readout
    readout.text.setText("t = 3: |dL/dh_t| = 0.1")
    readout.text.setVisible(True)
    window.copy_plot()
    assert not readout.text.isVisible()
    readout.text.setVisible(True)
    window.reset()
    qtbot.waitUntil(lambda: not readout.text.isVisible(), timeout=20000)


def test_description_follows_the_settings(qtbot, make_window):
    import dataclasses

    window = make_window()
    window.load_preset("vanishing")
    assert "T = 50" in window.description.text()
    config = window.controls.config()
    window.controls.set_config(dataclasses.replace(config, task=dataclasses.replace(config.task, seq_len=20)))
    window.reset()
    qtbot.waitUntil(lambda: window.session.active is not None and window.session.active.task.seq_len == 20,
                    timeout=20000)
    qtbot.waitUntil(lambda: "T = 20" in window.description.text(), timeout=5000)
    assert "T = 50" not in window.description.text()
    window.session.pause()


def test_description_collapses_in_presentation_and_opens_on_demand(qtbot, make_window):
    window = make_window()
    window.full_screen = False
    window.toggle_presentation()
    assert not window.description.open
    assert window.description.label.height() <= 2 * window.description.label.fontMetrics().height()
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.description.open


def test_window_opens_inside_the_screen(qtbot, tmp_path, answers):
    from PySide6.QtCore import QSettings

    from gradviz.gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(small_config(), autostart=False, settings=settings)
    qtbot.addWidget(window)
    area = window.screen().availableGeometry()
    try:
        assert window.width() <= area.width() and window.height() <= area.height()
        assert area.contains(window.geometry())
    finally:
        window.ask_before_discard = False
        window.close()
        assert not window.session.trainer.alive


def test_rows_plan_keeps_priority_and_floors():
    floor = rows.floors(True, 800)
    overheads = dict.fromkeys(rows.ROWS, 60.0)
    order = rows.priority("gates", True, 500)
    heights = rows.plan(800, overheads, order, True, floor, 4)
    assert list(heights) == ["loss", "gradient", "gates"]
    assert heights["gradient"] >= heights["loss"] >= floor.main and heights["gates"] >= floor.other
    squeezed = rows.plan(500, overheads, order, True, floor, 4)
    assert list(squeezed) == ["loss", "gradient"]  # the third gives way, the two never do
    featured = rows.plan(500, overheads, rows.priority("gates", True, 500, featured="gates"), True, floor, 4)
    assert list(featured) == ["gradient", "gates"]  # a lesson's highlighted third plot before the loss
    desk = rows.plan(2000, overheads, rows.priority("history", False, 800), False, rows.floors(False, 1080), 4)
    assert list(desk) == list(rows.ROWS)


def test_screenshot_writes_the_layout_report(tmp_path):
    picture, report = tmp_path / "shot.png", tmp_path / "layout.json"
    done = subprocess.run(
        [sys.executable, "-m", "gradviz", "--screenshot", str(picture), "--steps", "3", "--size", "1024x768",
         "--presentation", "--theme", "light", "--layout", str(report)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    assert set(data) == {"size", "presentation", "plots", "texts", "hidden", "text_faults"}
    assert data["size"] == [1024, 768] and data["presentation"] is True
    assert {p["kind"] for p in data["plots"]} == {"loss", "metric", "gradient", "history", "gates", "gate_means",
                                                 "grad_norms", "spectral_radius", "half_life"}
    assert all(set(t) == {"text", "rect", "px"} for t in data["texts"])
    assert _problems(data) == []


# A real window on these screens: _fit_to_screen leaves room for the window manager's frame.
REAL_WINDOWS = {(1024, 768): (1008, 728), (1280, 800): (1264, 760)}


@pytest.mark.parametrize("screen", list(REAL_WINDOWS))
def test_the_desk_window_of_a_small_screen_shows_its_toolbar_and_model_rows(qtbot, make_window, screen):
    window = make_window()
    report = _report(qtbot, window, REAL_WINDOWS[screen])
    QApplication.processEvents()
    report = layout_report(window)
    # "Gate shown" stays on the toolbar (it went into the overflow menu at 1008 px), and from
    # 1280x800 up the model's rows down to Initialisation (Nonlinearity hid under the splitter
    # there; 1024x768 has not the height for them beside the equations: the form scrolls).
    hidden = [thing for thing in report["hidden"] if screen[1] >= 800 or thing.startswith("toolbar")]
    assert hidden == [], screen
    assert window.gate_box.isVisible()


def _form_rows(window) -> list[tuple[str, bool, int]]:
    """Each settings row: its label, whether it is wrapped under its label, its field's width."""
    from PySide6.QtWidgets import QFormLayout

    rows = []
    for form in window.controls.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is None or field is None or not label.widget().isVisible():
                continue
            wrapped = label.geometry().bottom() <= field.geometry().top()
            rows.append((label.widget().text(), wrapped, field.geometry().width()))
    return rows


def test_the_settings_form_comes_back_as_it_was_after_presentation(qtbot, make_window):
    window = make_window()
    _report(qtbot, window, (1024, 768))
    before = _form_rows(window)
    assert before and not any(wrapped for _, wrapped, _ in before)
    _report(qtbot, window, (1920, 1080), presentation=True)  # the largest font hides the form
    _report(qtbot, window, (1024, 768))
    qtbot.waitUntil(lambda: _form_rows(window) == before, timeout=3000)  # "Task" and "Device" wrapped


@pytest.mark.parametrize("trained", [False, True])
def test_a_third_plot_in_presentation_has_its_titles_whole_or_is_left_out(qtbot, make_window, trained):
    # Before the first frame the headers are empty: the rows had room for a third plot at
    # 1024x768, squeezed to short titles ("step", "log10").
    window = _trained_window(qtbot, make_window) if trained else make_window()
    for size in SCREENS:
        report = _report(qtbot, window, size, presentation=True)
        assert [(p["kind"], p["short_labels"]) for p in report["plots"] if p["visible"] and p["short_labels"]] == []
        assert _problems(report) == [], size


def test_header_lines_never_start_with_a_dot_nor_break_a_symbol(qtbot):
    from gradviz.gui.layout_report import _line_faults, label_lines
    from gradviz.gui.plots.column import FACT_SEPARATOR, HeaderLabel, unbroken_symbols

    facts = ["loss 0.183 (above baseline 0.167)", "through C_t, |dL/dC_t| falls 10x every 6.8 timesteps back",
             "the bound |dh_t/dh_{t-1}| 0.88 per step back", "30 steps cut by truncation", "mean f_t 0.60"]
    name = "<span style='font-size:20px'><b>LSTM, k = 20</b></span>"
    from gradviz.gui.plots.base import pixel_font

    label = HeaderLabel()
    label.setFont(pixel_font(16))  # the widths below hold every symbol whole at this size
    label.setWordWrap(True)
    qtbot.addWidget(label)
    label.show()

    def faults(text: str, shown: str) -> list[str]:
        found = []
        for width in range(200, 520, 7):
            label.resize(width, 400)
            label.set_header(text, shown)
            found += _line_faults(label_lines(label)[0], "header")
        return found

    # The way headers were joined before: lines began with "·" and broke inside symbols.
    old = " &nbsp;·&nbsp; ".join([name, *facts])
    found = faults(old, old)
    assert any("starts with '·'" in fault for fault in found) and any("inside a word" in fault for fault in found)
    text = FACT_SEPARATOR.join([name, *facts])
    assert faults(text, FACT_SEPARATOR.join([name, *map(unbroken_symbols, facts)])) == []
    assert label.text() == text  # what the window's callers read: the text, not the layout's markup


def test_the_report_flags_a_count_with_the_wrong_number():
    from gradviz.gui.layout_report import WRONG_NUMBER

    assert WRONG_NUMBER.search("1 steps cut by truncation") and WRONG_NUMBER.search("over the last 1 timesteps")
    assert not WRONG_NUMBER.search("1 step cut by truncation") and not WRONG_NUMBER.search("21 steps")
    assert not WRONG_NUMBER.search("0.1 steps")


def test_truncated_steps_are_shaded_and_named_in_the_gradient_plot(qtbot, make_window):
    import dataclasses

    config = small_config()
    k = 5
    truncated = dataclasses.replace(config.models[1], train=dataclasses.replace(config.models[1].train, tbptt=k))
    window = make_window(dataclasses.replace(config, models=(config.models[0], truncated)))
    window = _trained_window(qtbot, lambda: window, steps=4)
    full, cut = window.columns
    steps = config.task.seq_len
    for size, presentation in (((1280, 800), False), ((1024, 768), True), ((1920, 1080), True)):
        report = _report(qtbot, window, size, presentation=presentation)
        assert not full.cut_region.isVisible() and not full.cut_label.isVisible()
        assert cut.cut_region.isVisible() and cut.cut_region.getRegion() == (0.5, steps - k + 0.5)
        # The shaded steps are the ones the plot has no value for, as the trainer said why.
        causes = cut.gradient.data["cause"]
        from gradviz.probes.causes import TRUNCATED

        assert list(np.flatnonzero(causes == TRUNCATED) + 1) == list(range(1, steps - k + 1))
        assert np.isnan(cut.gradient.data["log10_grad_h"][: steps - k]).all()
        said = [t for t in report["texts"] if t["text"].startswith("cut by truncation")]
        assert [t["text"] for t in said] == [f"cut by truncation at {k} steps"], size
        assert _problems(report) == [], size  # inside the plot, over no other text
    window.reset()
    qtbot.waitUntil(lambda: not cut.cut_region.isVisible(), timeout=20000)


def test_two_full_headers_keep_apart(qtbot, make_window):
    from gradviz.gui.layout_report import HEADER_GAP_PX
    from gradviz.gui.plots.column import FACT_SEPARATOR

    window = _trained_window(qtbot, make_window, steps=2)
    window.timer.stop()  # the next frame would write the headers again
    long = FACT_SEPARATOR.join(["loss 0.172 (at baseline 0.167)", "the gradient halves every 9.6 timesteps back"] * 3)
    for size in ((1024, 768), (1280, 800)):
        _report(qtbot, window, size, presentation=True)
        for column in window.columns:
            column.header.setText(long)
        window.board.arrange()
        QApplication.processEvents()
        report = layout_report(window)
        assert not [fault for fault in report["text_faults"] if "headers" in fault], size
        left, right = window.columns
        assert right.header.mapTo(window, right.header.rect().topLeft()).x() - \
            left.header.mapTo(window, left.header.rect().topRight()).x() >= HEADER_GAP_PX
