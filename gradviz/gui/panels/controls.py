"""The settings panel: a form over RunConfig, one tab per model, generated from the schema.

Every row comes from ``gradviz.schema``: a combo box for a setting with choices, a spin box
with ``RANGES`` for a number, a check box for a switch, a line edit for text, and the field's
docstring as its tooltip (``TOOLTIPS`` gives a few settings a longer teaching text). A new
setting in ``config.py`` appears here with no edit in this file.

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
from gradviz.schema import Setting, by_flat, section
from gradviz.tasks import TASKS

TOOLTIPS = {
    "task": "The long-range task the models learn; each has a baseline: what a model with no memory scores.",
    "seq_len": "Sequence length T: how many steps back the gradient must reach to connect cause and effect.",
    "batch": "Sequences per training step; every model sees the same batch.",
    "distance": "The memory gap. Names: the name comes this many words after its title word. Reviews: "
    "the one word that decides the sentiment sits this many words before the end.",
    "data": "Text task: a CSV or TSV file you bring (IMDB's has 'review' and 'sentiment' columns); "
    "gradviz never downloads anything.",
    "text_column": "Text task: the header name of the column holding the text.",
    "label_column": "Text task: the header name of the column holding the class (2 or more values).",
    "vocab_size": "Text task: words in the vocabulary, <pad> and <unk> included; rarer words become <unk>.",
    "max_len": "Text task: the last this many words of each review are fed to the model (T); shorter "
    "reviews are padded, and the padding is left out of the loss and of the plots.",
    "test_fraction": "Text task: share of the reviews held out for the evaluation table.",
    "seed": "Seeds the initial weights and the batches: the same seed gives the same run.",
    "device": "auto trains on a CUDA GPU, else Apple MPS, else the CPU.",
    "record_every": "Measure gradients through time and gates every this many steps (others run torch's fused kernel).",
    "probe_sample": "Which sequence of the batch the gate heatmaps show.",
    "models": "Train 1 to 3 models side by side on identical batches.",
    "label": "The model's name in legends and headers.",
    "kind": "RNN: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b). LSTM: gated cell C_t = f_t*C_{t-1} + i_t*C~_t. "
    "GRU: h_t = (1 - z_t)*n_t + z_t*h_{t-1}.",
    "hidden": "Units per layer H: the size of h_t (and C_t).",
    "layers": "Stacked recurrent layers; each reads the h_t of the layer below.",
    "nonlinearity": "Vanilla RNN activation: tanh squashes (its derivative 1 - h^2 < 1 shrinks gradients); "
    "relu with identity init is the IRNN.",
    "init": "Initial weights: PyTorch's uniform default, orthogonal W_hh (singular values 1), "
    "identity W_hh with zero biases (IRNN, Le et al. 2015), or 1997: every weight in [-0.1, 0.1] and "
    "the LSTM's input gates biased shut, -3 and -6 (Hochreiter and Schmidhuber 1997).",
    "spectral_radius": "Rescale W_hh to this largest |eigenvalue| (0 = leave it): below 1 the product "
    "of Jacobians shrinks (vanishing), above 1 it can grow (exploding).",
    "forget_bias": "Initial b_f of the LSTM forget gate f_t = sigmoid(W_f [h_{t-1}, x_t] + b_f); "
    "+1 keeps the cell open from the start (Jozefowicz et al. 2015).",
    "forget_gate": "Off gives the 1997 LSTM: f_t = 1, C_t = C_{t-1} + i_t*C~_t.",
    "optimizer": "SGD with momentum, Adam or RMSprop (applies live).",
    "lr": "Learning rate (applies live, from the next step).",
    "momentum": "SGD momentum (applies live).",
    "clip": "Gradient-norm clipping threshold, 0 = off: rescale the gradient when its norm exceeds it "
    "(Pascanu et al. 2013). Applies live.",
    "tbptt": "Truncated BPTT window k, 0 = full BPTT: the chain rule stops k steps back. Applies live.",
}


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
    else:
        widget = QLineEdit()
        widget.setMinimumWidth(60)
    widget.setToolTip(TOOLTIPS.get(attribute(setting), setting.doc))
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
        self.label.setToolTip(TOOLTIPS["label"])
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
        kind = self.kind.currentText()
        self.nonlinearity.setEnabled(kind == "rnn")
        self.forget_bias.setEnabled(kind == "lstm" and self.forget_gate.isChecked())
        self.forget_gate.setEnabled(kind == "lstm")
        self.momentum.setEnabled(self.optimizer.currentText() == "sgd")


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
        self.model_count.setToolTip(TOOLTIPS["models"])
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
        # The settings only the text task uses say so first in their docstrings ("text task: ...").
        self.text_fields = tuple(w for s, w in self.fields.items()
                                 if s.section == "task" and s.doc.startswith("text task"))
        self.text_rows = tuple(self.data_row if w is self.data else w for w in self.text_fields)
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
        task = self.task.currentData()
        self.distance.setEnabled(task in ("names", "reviews"))
        for widget in self.text_rows:
            self.run_form.setRowVisible(widget, task == "text")
        self.run_form.setRowVisible(self.seq_len, task != "text")  # a file's T is its max length
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
