"""The settings panel: a form over RunConfig, one tab per model.

The form never changes the model itself. Training settings (optimiser, learning rate,
momentum, clipping, truncation) are sent live through ``trainChanged``; everything else is
structural and waits for Reset, which the panel says with its ``pending`` notice.
Ranges come from ``gradviz.config.RANGES``, so the widgets cannot hold a value the core
would reject.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
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
    DEVICES,
    INITS,
    MAX_MODELS,
    MODEL_KINDS,
    NONLINEARITIES,
    OPTIMIZERS,
    RANGES,
    TASK_NAMES,
    ModelConfig,
    ModelSetup,
    RunConfig,
    TaskConfig,
    TrainConfig,
    default_label,
)
from gradviz.gui.panels.fields import FieldKeys
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
    "or identity W_hh with zero biases (IRNN, Le et al. 2015).",
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
LIVE_FIELDS = {"optimizer", "lr", "momentum", "clip", "tbptt"}


def _spin(key: str, decimals: int | None = None) -> QSpinBox | QDoubleSpinBox:
    low, high = RANGES[key]
    if decimals is None:
        spin = QSpinBox()
        spin.setRange(int(low), int(high))
    else:
        spin = QDoubleSpinBox()
        spin.setDecimals(decimals)
        spin.setRange(low, high)
        spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
    spin.setKeyboardTracking(False)  # emit when the user is done typing, not per digit
    return spin


def _combo(choices) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(choices))
    return combo


def _tip(widget: QWidget, key: str) -> QWidget:
    widget.setToolTip(TOOLTIPS[key])
    return widget


class ModelForm(QWidget):
    """The fields of one ModelSetup."""

    changed = Signal()
    trainChanged = Signal()

    def __init__(self, setup: ModelSetup):
        super().__init__()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.label = _tip(QLineEdit(), "label")
        self.label.setMaxLength(40)
        self.kind = _tip(_combo(MODEL_KINDS), "kind")
        self.hidden = _tip(_spin("hidden"), "hidden")
        self.layers = _tip(_spin("layers"), "layers")
        self.nonlinearity = _tip(_combo(NONLINEARITIES), "nonlinearity")
        self.init = _tip(_combo(INITS), "init")
        self.spectral_radius = _tip(_spin("spectral_radius", 2), "spectral_radius")
        self.forget_bias = _tip(_spin("forget_bias", 2), "forget_bias")
        self.forget_gate = _tip(QCheckBox("forget gate"), "forget_gate")
        self.optimizer = _tip(_combo(OPTIMIZERS), "optimizer")
        self.lr = _tip(_spin("lr", 6), "lr")
        self.momentum = _tip(_spin("momentum", 3), "momentum")
        self.clip = _tip(_spin("clip", 2), "clip")
        self.tbptt = _tip(_spin("tbptt"), "tbptt")
        rows = [
            ("Label", self.label),
            ("Cell", self.kind),
            ("Hidden units H", self.hidden),
            ("Layers", self.layers),
            ("Nonlinearity", self.nonlinearity),
            ("Initialisation", self.init),
            ("Spectral radius", self.spectral_radius),
            ("Forget bias b_f", self.forget_bias),
            ("", self.forget_gate),
            ("Optimiser", self.optimizer),
            ("Learning rate", self.lr),
            ("Momentum", self.momentum),
            ("Clip norm", self.clip),
            ("Truncate BPTT k", self.tbptt),
        ]
        for text, widget in rows:
            form.addRow(text, widget)
        self.set_setup(setup)
        for widget in (self.kind, self.nonlinearity, self.init):
            widget.currentIndexChanged.connect(self._structural_changed)
        for widget in (self.hidden, self.layers, self.spectral_radius, self.forget_bias):
            widget.valueChanged.connect(self._structural_changed)
        self.forget_gate.toggled.connect(self._structural_changed)
        self.label.editingFinished.connect(self.changed)
        self.optimizer.currentIndexChanged.connect(self._train_changed)
        for widget in (self.lr, self.momentum, self.clip, self.tbptt):
            widget.valueChanged.connect(self._train_changed)

    def set_setup(self, setup: ModelSetup) -> None:
        model, train = setup.model, setup.train
        widgets = [self.label, self.kind, self.nonlinearity, self.init, self.optimizer, self.hidden, self.layers,
                   self.spectral_radius, self.forget_bias, self.forget_gate, self.lr, self.momentum, self.clip,
                   self.tbptt]
        for widget in widgets:
            widget.blockSignals(True)  # setting the form must not echo back as user edits
        self.label.setText(setup.label)
        self.kind.setCurrentText(model.kind)
        self.nonlinearity.setCurrentText(model.nonlinearity)
        self.init.setCurrentText(model.init)
        self.optimizer.setCurrentText(train.optimizer)
        self.hidden.setValue(model.hidden)
        self.layers.setValue(model.layers)
        self.spectral_radius.setValue(model.spectral_radius)
        self.forget_bias.setValue(model.forget_bias)
        self.forget_gate.setChecked(model.forget_gate)
        self.lr.setValue(train.lr)
        self.momentum.setValue(train.momentum)
        self.clip.setValue(train.clip)
        self.tbptt.setValue(train.tbptt)
        for widget in widgets:
            widget.blockSignals(False)
        self._update_enabled()

    def setup(self) -> ModelSetup:
        model = ModelConfig(
            kind=self.kind.currentText(),
            hidden=self.hidden.value(),
            layers=self.layers.value(),
            nonlinearity=self.nonlinearity.currentText(),
            init=self.init.currentText(),
            spectral_radius=self.spectral_radius.value(),
            forget_bias=self.forget_bias.value(),
            forget_gate=self.forget_gate.isChecked(),
        )
        return ModelSetup(label=self.label.text().strip() or default_label(model), model=model, train=self.train())

    def train(self) -> TrainConfig:
        return TrainConfig(
            optimizer=self.optimizer.currentText(),
            lr=self.lr.value(),
            momentum=self.momentum.value(),
            clip=self.clip.value(),
            tbptt=self.tbptt.value(),
        )

    def _structural_changed(self) -> None:
        self._update_enabled()
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
        self.task = _tip(QComboBox(), "task")
        for name in TASK_NAMES:
            self.task.addItem(TASKS[name].title, name)
            self.task.setItemData(self.task.count() - 1, TASKS[name].description, Qt.ItemDataRole.ToolTipRole)
        self.seq_len = _tip(_spin("seq_len"), "seq_len")
        self.distance = _tip(_spin("distance"), "distance")
        self.batch = _tip(_spin("batch"), "batch")
        self.seed = _tip(_spin("seed"), "seed")
        self.device = _tip(_combo(DEVICES), "device")
        self.record_every = _tip(_spin("record_every"), "record_every")
        self.probe_sample = _tip(_spin("probe_sample"), "probe_sample")
        self.model_count = _tip(QSpinBox(), "models")
        self.model_count.setRange(1, MAX_MODELS)
        self.data = _tip(QLineEdit(), "data")
        self.data.setPlaceholderText("reviews.csv")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose the CSV or TSV file")
        browse.clicked.connect(self._browse)
        self.data_row = QWidget()
        data_layout = QHBoxLayout(self.data_row)
        data_layout.setContentsMargins(0, 0, 0, 0)
        data_layout.addWidget(self.data, 1)
        data_layout.addWidget(browse)
        self.text_column = _tip(QLineEdit(), "text_column")
        self.label_column = _tip(QLineEdit(), "label_column")
        self.vocab_size = _tip(_spin("vocab_size"), "vocab_size")
        self.max_len = _tip(_spin("max_len"), "max_len")
        self.test_fraction = _tip(_spin("test_fraction", 2), "test_fraction")
        self.text_rows = (self.data_row, self.text_column, self.label_column, self.vocab_size, self.max_len,
                          self.test_fraction)
        for text, widget in [
            ("Task", self.task),
            ("File", self.data_row),
            ("Text column", self.text_column),
            ("Label column", self.label_column),
            ("Vocabulary", self.vocab_size),
            ("Words per review T", self.max_len),
            ("Test share", self.test_fraction),
            ("Sequence length T", self.seq_len),
            ("Distance", self.distance),
            ("Batch", self.batch),
            ("Seed", self.seed),
            ("Device", self.device),
            ("Record every", self.record_every),
            ("Gate sample", self.probe_sample),
            ("Models", self.model_count),
        ]:
            form.addRow(text, widget)
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
        self.task.currentIndexChanged.connect(self._structural_changed)
        self.device.currentIndexChanged.connect(self._structural_changed)
        for spin in (self.seq_len, self.distance, self.batch, self.seed, self.record_every, self.probe_sample,
                     self.vocab_size, self.max_len, self.test_fraction):
            spin.valueChanged.connect(self._structural_changed)
        for edit in (self.data, self.text_column, self.label_column):
            edit.textChanged.connect(self._structural_changed)
        self.model_count.valueChanged.connect(self._count_changed)

    # ---- reading and writing the form ---------------------------------------------------

    def set_config(self, config: RunConfig, active: bool = True) -> None:
        """Show ``config``; with ``active`` it is also what the worker now runs."""
        if active:
            self.active = config
        run_widgets = [self.task, self.device, self.seq_len, self.distance, self.batch, self.seed,
                       self.record_every, self.probe_sample, self.model_count, self.data, self.text_column,
                       self.label_column, self.vocab_size, self.max_len, self.test_fraction]
        for widget in run_widgets:
            widget.blockSignals(True)
        self.task.setCurrentIndex(TASK_NAMES.index(config.task.name))
        self.device.setCurrentText(config.device)
        self.seq_len.setValue(config.task.seq_len)
        self.distance.setValue(config.task.distance)
        self.batch.setValue(config.task.batch)
        self.seed.setValue(config.seed)
        self.record_every.setValue(config.record_every)
        self.probe_sample.setValue(config.probe_sample)
        self.model_count.setValue(len(config.models))
        self.data.setText(config.task.data)
        self.text_column.setText(config.task.text_column)
        self.label_column.setText(config.task.label_column)
        self.vocab_size.setValue(config.task.vocab_size)
        self.max_len.setValue(config.task.max_len)
        self.test_fraction.setValue(config.task.test_fraction)
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
        task = TaskConfig(
            name=self.task.currentData(),
            seq_len=self.seq_len.value(),
            batch=self.batch.value(),
            distance=self.distance.value(),
            data=self.data.text().strip(),
            text_column=self.text_column.text().strip(),
            label_column=self.label_column.text().strip(),
            vocab_size=self.vocab_size.value(),
            max_len=self.max_len.value(),
            test_fraction=self.test_fraction.value(),
        )
        config = RunConfig(
            task=task,
            models=tuple(form.setup() for form in self.forms),
            seed=self.seed.value(),
            device=self.device.currentText(),
            record_every=self.record_every.value(),
            probe_sample=self.probe_sample.value(),
        )
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
