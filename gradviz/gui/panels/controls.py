"""The settings panel: a form over RunConfig, one tab per model, generated from the schema.

Every row comes from ``gradviz.schema``, which reads each field's metadata in ``config.py``:
a combo box for a setting with choices, a spin box with its range for a number, a check box
for a switch, a line edit for text, its label and tooltip, and when it applies (greyed out or
hidden where it does not: "LSTM only", "text task only"). A new setting in ``config.py``
appears here with no edit in this file.

The form never changes the model itself. Training settings (optimiser, learning rate,
momentum, clipping, truncation) are sent live through ``trainChanged``; everything else is
structural and waits for Reset, which the panel says with its ``pending`` notice.

The fields behave as in a long scrolled form: the mouse wheel scrolls the panel unless the
field under it was clicked first, Esc (or Enter) leaves a field, and Space over a box that
is not for typing text still starts and pauses training.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gradviz.config import (
    MAX_MODELS,
    ModelConfig,
    ModelSetup,
    RunConfig,
    TaskConfig,
    TrainConfig,
    default_label,
    label_for,
)
from gradviz.gui.panels.fields import FieldKeys
from gradviz.schema import Setting, by_flat, metadata, section
from gradviz.tasks import TASKS


def attribute(setting: Setting) -> str:
    """The form's attribute for a setting: its field name, but ``task`` for the task's name."""
    return "task" if (setting.section, setting.name) == ("task", "name") else setting.name


def _decimals(low: float, high: float) -> int:
    """Enough decimals to reach both ends of a range (lr: 1e-6 needs 6)."""
    digits = 2
    for value in (low, high):
        if value != int(value):
            digits = max(digits, len(f"{abs(value):.10f}".rstrip("0").split(".")[1]))
    return min(digits, 8)


# Rows 4 px apart, not the style's 6: at 1280x800 the model's rows down to Initialisation fit
# above the equations (settings_layout.py).
FORM_ROW_SPACING = 4


class FieldManners(QObject):
    """Wheel, Esc and Space for the fields of a scrolled form (an event filter).

    A wheel over a field the user has not clicked scrolls the panel instead of changing the
    value; Esc leaves the field; Space over a combo or spin box goes to the window's Space
    shortcut (start / pause) instead of opening the list or being typed.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind == QEvent.Type.Wheel and not watched.hasFocus():
            event.ignore()  # to the scroll area around the form
            return True
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                watched.clearFocus()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and kind == QEvent.Type.KeyPress:
                watched.clearFocus()  # done: the value is taken (editingFinished) and the keys are the window's
                return False
            if key == Qt.Key.Key_Space and not isinstance(watched, QLineEdit):
                if kind == QEvent.Type.ShortcutOverride:
                    event.ignore()  # not for this box: let the window's shortcut have it
                    return True
        return False


MANNERS = FieldManners()


def _mannered(widget: QWidget) -> QWidget:
    widget.installEventFilter(MANNERS)
    if not isinstance(widget, QLineEdit):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel never gives focus
    return widget


def make_field(setting: Setting) -> QWidget:
    """The widget for one setting, with its range or choices and its tooltip."""
    if setting.type is bool:
        widget: QWidget = QCheckBox(setting.label)
    elif setting.choices:
        widget = QComboBox()
        widget.addItems(list(setting.choices))
        widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        widget.setMinimumContentsLength(6)  # long choices do not widen the panel
    elif setting.type in (int, float):
        low, high = setting.range or (-1e9, 1e9)
        if setting.type is int:
            widget = QSpinBox()
            widget.setRange(int(low), int(min(high, 2**31 - 1)))
        else:
            widget = QDoubleSpinBox()
            widget.setDecimals(_decimals(low, high))
            widget.setRange(low, high)
            widget.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        widget.setKeyboardTracking(False)  # emit when the user is done typing, not per digit
        if setting.at_minimum:  # a spectral radius of 0 is "not rescaled", not a radius of 0.00
            widget.setSpecialValueText(setting.at_minimum)
    else:
        widget = QLineEdit()
        widget.setMinimumWidth(60)
    widget.setToolTip(setting.tip)
    return _mannered(widget)


def field_value(widget: QWidget):
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        data = widget.currentData()
        return data if data is not None else widget.currentText()
    if isinstance(widget, QAbstractSpinBox):
        return widget.value()
    return widget.text().strip()


def set_field(widget: QWidget, value) -> None:
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        index = widget.findData(value)
        widget.setCurrentIndex(index if index >= 0 else widget.findText(str(value)))
    elif isinstance(widget, QAbstractSpinBox):
        widget.setValue(value)
    else:
        widget.setText(str(value))


def on_edit(widget: QWidget, slot) -> None:
    """Call ``slot`` when the user changes the field."""
    if isinstance(widget, QCheckBox):
        widget.toggled.connect(slot)
    elif isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(slot)
    elif isinstance(widget, QAbstractSpinBox):
        widget.valueChanged.connect(slot)
    else:
        widget.textChanged.connect(slot)


class ModelForm(QWidget):
    """The fields of one ModelSetup."""

    changed = Signal()
    trainChanged = Signal()

    def __init__(self, setup: ModelSetup):
        super().__init__()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setVerticalSpacing(FORM_ROW_SPACING)
        self.label = _mannered(QLineEdit())
        self.label.setToolTip(metadata(ModelSetup, "label")["tip"])
        self.label.setMaxLength(40)
        form.addRow("Label", self.label)
        self._typed: str | None = None  # the label the user typed (kept through cell changes)
        self.fields: dict[Setting, QWidget] = {}
        for setting in section("model") + section("train"):
            widget = make_field(setting)
            self.fields[setting] = widget
            setattr(self, attribute(setting), widget)
            form.addRow("" if setting.type is bool else setting.label, widget)
        self.set_setup(setup)
        for setting, widget in self.fields.items():
            on_edit(widget, self._train_changed if setting.live else self._structural_changed)
        self.label.textEdited.connect(self._label_typed)
        self.label.editingFinished.connect(self.changed)

    def set_setup(self, setup: ModelSetup) -> None:
        widgets = [self.label, *self.fields.values()]
        for widget in widgets:
            widget.blockSignals(True)  # setting the form must not echo back as user edits
        self.label.setText(setup.label)
        self._before = setup  # an automatic label names this model's cell (config.label_for)
        if setup.label != self._typed:
            self._typed = None
        for setting, widget in self.fields.items():
            set_field(widget, getattr(setup.model if setting.section == "model" else setup.train, setting.name))
        for widget in widgets:
            widget.blockSignals(False)
        self._update_enabled()

    def setup(self) -> ModelSetup:
        model = ModelConfig(**{s.name: field_value(w) for s, w in self.fields.items() if s.section == "model"})
        text = self.label.text().strip()
        typed = self._typed is not None and text == self._typed
        label = label_for(text if typed else self._before.label, self._before.model, model, typed)
        return ModelSetup(label=label or default_label(model), model=model, train=self.train())

    def _label_typed(self, text: str) -> None:
        self._typed = text.strip() or None  # emptied: the automatic label again

    def train(self) -> TrainConfig:
        return TrainConfig(**{s.name: field_value(w) for s, w in self.fields.items() if s.section == "train"})

    def _structural_changed(self) -> None:
        self._update_enabled()
        if self._typed is None:  # the automatic label follows the cell, on screen too
            self.label.blockSignals(True)
            self.label.setText(self.setup().label)
            self.label.blockSignals(False)
        self.changed.emit()

    def _train_changed(self) -> None:
        self._update_enabled()
        self.trainChanged.emit()

    def _update_enabled(self) -> None:
        """Grey out what does not apply to this model (its field's ``when``: LSTM only, SGD only...)."""
        values = {setting.name: field_value(widget) for setting, widget in self.fields.items()}
        for setting, widget in self.fields.items():
            widget.setEnabled(setting.applies(values))


class ControlPanel(QWidget):
    """Run settings plus one ModelForm tab per model."""

    trainChanged = Signal(int, object)  # model index, TrainConfig: apply now
    pendingChanged = Signal(bool)  # structural edits that wait for Reset

    def __init__(self, config: RunConfig):
        super().__init__()
        self.active = config
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        run_box = QGroupBox("Task and run")
        form = QFormLayout(run_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setVerticalSpacing(FORM_ROW_SPACING)
        self.fields: dict[Setting, QWidget] = {}
        for setting in section("task") + section("run"):
            widget = make_field(setting)
            self.fields[setting] = widget
            setattr(self, attribute(setting), widget)
        # The task box shows each task's title, with its description as the item's tooltip.
        self.task.clear()
        for name in by_flat("task").choices:
            self.task.addItem(TASKS[name].title, name)
            self.task.setItemData(self.task.count() - 1, TASKS[name].description, Qt.ItemDataRole.ToolTipRole)
        self.model_count = _mannered(QSpinBox())
        self.model_count.setToolTip(metadata(RunConfig, "models")["tip"])
        self.model_count.setRange(1, MAX_MODELS)
        self.data.setPlaceholderText("reviews.csv")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose the CSV or TSV file")
        browse.clicked.connect(self._browse)
        self.data_row = QWidget()
        data_layout = QHBoxLayout(self.data_row)
        data_layout.setContentsMargins(0, 0, 0, 0)
        data_layout.addWidget(self.data, 1)
        data_layout.addWidget(browse)
        for setting, widget in self.fields.items():
            form.addRow("" if setting.type is bool else setting.label, self.data_row if widget is self.data else widget)
        form.addRow("Models", self.model_count)
        self.run_form = form
        layout.addWidget(run_box)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        self.pending = QLabel("Structural changes apply on Reset (R).")
        self.pending.setWordWrap(True)
        self.pending.setStyleSheet("QLabel { background: #7a5a00; color: white; padding: 4px; border-radius: 3px; }")
        self.pending.setVisible(False)
        layout.addWidget(self.pending)
        layout.addStretch(1)
        self.forms: list[ModelForm] = []
        self.field_keys = FieldKeys(self)  # wheel, Space and Esc as a student expects (fields.py)
        self.set_config(config)
        self.field_keys.guard(self)
        for widget in self.fields.values():
            on_edit(widget, self._structural_changed)
        self.model_count.valueChanged.connect(self._count_changed)

    # ---- reading and writing the form ---------------------------------------------------

    def set_config(self, config: RunConfig, active: bool = True) -> None:
        """Show ``config``; with ``active`` it is also what the trainer now runs."""
        if active:
            self.active = config
        run_widgets = [self.model_count, *self.fields.values()]
        for widget in run_widgets:
            widget.blockSignals(True)
        for setting, widget in self.fields.items():
            set_field(widget, getattr(config.task if setting.section == "task" else config, setting.name))
        self.model_count.setValue(len(config.models))
        for widget in run_widgets:
            widget.blockSignals(False)
        self._set_forms(config.models)
        self._update_enabled()
        self._refresh_pending()

    def _set_forms(self, setups: tuple[ModelSetup, ...]) -> None:
        while len(self.forms) > len(setups):
            form = self.forms.pop()
            self.tabs.removeTab(len(self.forms))
            form.deleteLater()
        for index, setup in enumerate(setups):
            if index < len(self.forms):
                self.forms[index].set_setup(setup)
            else:
                form = ModelForm(setup)
                form.changed.connect(self._structural_changed)
                form.trainChanged.connect(lambda form=form: self._train_changed(form))
                self.forms.append(form)
                self.tabs.addTab(form, "")
                self.field_keys.guard(form)
        self._retitle_tabs()

    def _retitle_tabs(self) -> None:
        for index, form in enumerate(self.forms):
            self.tabs.setTabText(index, f"{index + 1}: {form.setup().label}")

    def config(self) -> RunConfig:
        """The form's settings as a validated RunConfig (the widgets enforce every range)."""
        values = {setting: field_value(widget) for setting, widget in self.fields.items()}
        task = TaskConfig(**{s.name: value for s, value in values.items() if s.section == "task"})
        config = RunConfig(task=task, models=tuple(form.setup() for form in self.forms),
                           **{s.name: value for s, value in values.items() if s.section == "run"})
        return RunConfig.from_dict(config.to_dict())

    # ---- reacting to edits --------------------------------------------------------------

    def _count_changed(self, count: int) -> None:
        setups = [form.setup() for form in self.forms[:count]]
        defaults = [ModelSetup("LSTM", ModelConfig(kind="lstm")), ModelSetup("GRU", ModelConfig(kind="gru")),
                    ModelSetup("tanh RNN", ModelConfig(kind="rnn"), TrainConfig(lr=0.001))]
        while len(setups) < count:
            setups.append(next(d for d in defaults if d.label not in {s.label for s in setups}))
        self._set_forms(tuple(setups))
        self._structural_changed()

    def _structural_changed(self) -> None:
        self._update_enabled()
        self._retitle_tabs()
        self._refresh_pending()

    def _train_changed(self, form: ModelForm) -> None:
        index = self.forms.index(form)
        if index < len(self.active.models):
            train = form.train()
            models = list(self.active.models)
            models[index] = dataclasses.replace(models[index], train=train)
            self.active = dataclasses.replace(self.active, models=tuple(models))
            self.trainChanged.emit(index, train)
        self._refresh_pending()

    def _update_enabled(self) -> None:
        """Hide or grey out what does not apply to the task (its field's ``when``: a file's T is its
        max length, the text task's settings only for it)."""
        values = {setting.name: field_value(widget) for setting, widget in self.fields.items()}
        for setting, widget in self.fields.items():
            applies = setting.applies(values)
            if setting.hidden_otherwise:
                self.run_form.setRowVisible(self.data_row if widget is self.data else widget, applies)
            else:
                widget.setEnabled(applies)
        self.probe_sample.setMaximum(self.batch.value() - 1)

    def _browse(self) -> None:
        start = self.data.text().strip() or ""
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a labelled text file", start, "Text tables (*.csv *.tsv *.txt);;All files (*)"
        )
        if path:
            self.data.setText(path)

    def has_pending(self) -> bool:
        try:
            return self.config() != self.active
        except ValueError:
            return True

    def _refresh_pending(self) -> None:
        pending = self.has_pending()
        self.pending.setVisible(pending)
        self.pendingChanged.emit(pending)
