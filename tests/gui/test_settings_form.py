"""The settings form: generated from config.py's schema, and polite in a scrolled panel
(the wheel scrolls unless a field was clicked, Esc leaves a field, Space still trains)."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

import gradviz
from gradviz.gui.panels.controls import ControlPanel
from gradviz.schema import settings
from gradviz.session.protocol import PAUSED, RUNNING
from tests.gui.conftest import small_config, steps_done

NEW_FIELD = '''    warmup: int = setting(5, label="Warmup", bounds=(0, 1000),
                          doc="Steps to train before the first probes are recorded.")
'''


def test_every_setting_of_the_schema_has_a_row_with_its_label_and_tooltip(qtbot):
    panel = ControlPanel(small_config())
    qtbot.addWidget(panel)
    for setting in settings():
        owner = panel if setting.section in ("task", "run") else panel.forms[0]
        widget = owner.fields[setting]
        assert widget.toolTip() == setting.tip and setting.tip, setting.flat
        if setting.range and hasattr(widget, "minimum") and setting.flat != "probe_sample":  # that one: < batch
            assert (widget.minimum(), widget.maximum()) == (
                setting.type(setting.range[0]), setting.type(min(setting.range[1], 2**31 - 1)))
    assert panel.config() == small_config()


def test_a_new_config_field_appears_in_the_form_and_the_cli_with_no_other_edit(tmp_path):
    copy = tmp_path / "gradviz"
    shutil.copytree(Path(gradviz.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    source = (copy / "config.py").read_text()
    anchor = '        tip="Text task: share of the reviews held out for the evaluation table.")\n'
    assert anchor in source
    source = source.replace(anchor, anchor + NEW_FIELD)  # the one edit: a field with its metadata
    (copy / "config.py").write_text(source)
    script = textwrap.dedent("""
        import gradviz, sys
        assert gradviz.__file__.startswith(sys.argv[1]), gradviz.__file__
        from gradviz.cli import build_parser, config_from_args
        parser = build_parser()
        train = parser._subparsers._group_actions[0].choices["train"]
        assert "--warmup" in train.format_help() and "first probes are recorded" in train.format_help()
        assert config_from_args(parser.parse_args(["train", "--warmup", "7"])).task.warmup == 7
        from PySide6.QtWidgets import QApplication, QSpinBox
        app = QApplication([])
        from gradviz.config import RunConfig
        from gradviz.gui.panels.controls import ControlPanel
        panel = ControlPanel(RunConfig())
        assert isinstance(panel.warmup, QSpinBox) and (panel.warmup.minimum(), panel.warmup.maximum()) == (0, 1000)
        assert panel.warmup.toolTip() == "Steps to train before the first probes are recorded."
        assert panel.run_form.labelForField(panel.warmup).text() == "Warmup"
        assert panel.warmup.value() == 5
        panel.warmup.setValue(9)
        assert panel.config().task.warmup == 9 and panel.has_pending()
        print("seen")
    """)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", script, str(copy)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "seen"


def _wheel(widget, clicks: int = -1) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(QPoint(5, 5))), QPoint(0, 0), QPoint(0, 120 * clicks),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_a_box_not_clicked_changes_nothing(qtbot):
    panel = ControlPanel(small_config())
    scroll = QScrollArea()
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    qtbot.addWidget(scroll)
    scroll.resize(330, 400)
    scroll.show()
    qtbot.waitExposed(scroll)
    form = panel.forms[0]
    combo, spin = form.optimizer, form.hidden
    before = (combo.currentIndex(), spin.value(), panel.config())
    _wheel(combo)
    _wheel(spin)
    assert (combo.currentIndex(), spin.value(), panel.config()) == before
    assert not panel.has_pending()
    # Clicked first (focused), the wheel is the box's again: the test can see a change.
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    _wheel(spin, clicks=1)
    assert spin.value() == before[1] + 1


def test_space_after_editing_a_field_still_starts_and_pauses(qtbot, make_window):
    window = make_window(small_config())
    spin = window.controls.forms[0].hidden
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    spin.selectAll()
    qtbot.keyClicks(spin, "9")
    qtbot.keyClick(spin, Qt.Key.Key_Return)  # done editing: the field lets go
    assert spin.value() == 9 and not spin.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING, timeout=20000)
    qtbot.waitUntil(lambda: steps_done(window) >= 1, timeout=30000)
    # A combo box clicked and chosen from: Space is the window's, not the box's.
    combo = window.controls.forms[0].optimizer
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    qtbot.keyClick(combo, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=20000)
    # Esc leaves a text field, and then the window's keys work again.
    label = window.controls.forms[0].label
    label.setFocus()
    qtbot.waitUntil(label.hasFocus, timeout=2000)
    qtbot.keyClicks(label, "a b")  # typed text keeps its space
    assert label.text().endswith("a b")
    qtbot.keyClick(label, Qt.Key.Key_Escape)
    assert not label.hasFocus()
    assert window.session.trainer_state == PAUSED


def test_the_panel_fits_its_dock_without_scrolling_sideways(qtbot):
    panel = ControlPanel(small_config(3))
    scroll = QScrollArea()
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # as the window's dock does
    qtbot.addWidget(scroll)
    scroll.resize(300, 600)  # the dock's minimum width
    scroll.show()
    qtbot.waitExposed(scroll)
    panel.task.setCurrentIndex(panel.task.findData("text"))  # the longest rows
    QApplication.processEvents()
    assert panel.minimumSizeHint().width() <= scroll.viewport().width()
    assert panel.width() <= scroll.viewport().width()
    for owner in (panel, panel.forms[0]):
        for widget in owner.fields.values():
            if widget.isVisibleTo(panel):
                right = widget.mapTo(panel, widget.rect().topRight()).x()
                assert right <= panel.width(), widget


def test_an_automatic_label_follows_the_cell_and_a_typed_one_stays(qtbot, make_window):
    window = make_window()  # model 1: "tanh RNN"
    form = window.controls.forms[0]
    form.kind.setCurrentText("gru")  # as the user picks it
    assert form.label.text() == "GRU" and window.controls.tabs.tabText(0) == "1: GRU"
    window.reset()
    qtbot.waitUntil(lambda: window.session.active.models[0].model.kind == "gru", timeout=60000)
    assert window.session.active.models[0].label == "GRU"
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) >= 1, timeout=30000)
    window.paint_now()
    shown = " ".join([window.columns[0].header.text(), window.description.plain_text(),
                      window.explanation.toPlainText()])
    assert "GRU" in shown and "tanh RNN" not in shown
    # A label the user typed names the model whatever its cell.
    form.label.setFocus()
    form.label.selectAll()
    qtbot.keyClicks(form.label, "mine")
    form.kind.setCurrentText("lstm")
    assert form.label.text() == "mine" and form.setup().label == "mine"
    window.reset()
    qtbot.waitUntil(lambda: window.session.active.models[0].model.kind == "lstm", timeout=60000)
    form.kind.setCurrentText("rnn")  # still typed after the Reset set the form again
    assert window.controls.config().models[0].label == "mine"


def test_a_setting_is_greyed_out_or_hidden_where_its_fields_metadata_says_it_does_not_apply(qtbot):
    import dataclasses

    from gradviz.config import ModelConfig, ModelSetup, TaskConfig, TrainConfig

    config = dataclasses.replace(small_config(), models=(ModelSetup("LSTM", ModelConfig(kind="lstm"),
                                                                    TrainConfig(optimizer="adam")),))
    panel = ControlPanel(config)
    qtbot.addWidget(panel)
    form = panel.forms[0]
    assert form.forget_bias.isEnabled() and form.forget_gate.isEnabled() and not form.nonlinearity.isEnabled()
    assert not form.momentum.isEnabled()  # SGD only
    form.forget_gate.setChecked(False)  # no forget gate: no forget bias
    assert not form.forget_bias.isEnabled()
    form.kind.setCurrentText("rnn")  # LSTM only / RNN only
    assert not form.forget_gate.isEnabled() and form.nonlinearity.isEnabled()
    form.optimizer.setCurrentText("sgd")
    assert form.momentum.isEnabled()
    panel.set_config(dataclasses.replace(config, task=TaskConfig(name="text", data="reviews.csv")))
    assert panel.data_row.isVisibleTo(panel) and panel.vocab_size.isVisibleTo(panel)
    assert not panel.seq_len.isVisibleTo(panel)  # a file's T is its max length


def test_a_setting_at_its_no_amount_minimum_says_what_it_means_not_zero(qtbot):
    """A spectral radius of 0 is "not rescaled" (as the equations panel says), not a radius of 0.00."""
    import dataclasses

    config = small_config()
    config = dataclasses.replace(config, models=tuple(
        dataclasses.replace(setup, model=dataclasses.replace(setup.model, spectral_radius=0.0))
        for setup in config.models))
    panel = ControlPanel(config)
    qtbot.addWidget(panel)
    by_name = {setting.name: setting for setting in settings()}
    radius = panel.forms[0].fields[by_name["spectral_radius"]]
    assert radius.value() == 0.0
    assert radius.text() == "not rescaled"
    radius.setValue(0.9)
    assert radius.text() == "0.90" and panel.forms[0].setup().model.spectral_radius == 0.9
    radius.setValue(0.0)
    assert radius.text() == "not rescaled" and panel.config().models[0].model.spectral_radius == 0.0
