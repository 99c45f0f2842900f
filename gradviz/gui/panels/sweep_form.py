"""The "How far back?" tab's form: which task, cells, lengths T, seeds, steps, jobs and
threshold a sweep trains, read as a ``SweepConfig`` (``sweep_config``) and filled from one
(``set_form``). What the form does not show (H, batch, Adam's rate, clipping, distance) is
kept from the defaults or from the sweep file opened, so that Resume continues that sweep.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gradviz.config import MODEL_KINDS, ModelConfig, default_label
from gradviz.sweep.grid import MAX_JOBS, MAX_SEEDS, MAX_STEPS, SWEEP_TASKS, SweepConfig, Threshold, parse_lengths

DEFAULTS = SweepConfig(models=("rnn", "lstm"), seq_lens=(10, 20, 50), seeds=2, steps=1000)
KEPT = ("hidden", "batch", "lr", "clip", "distance")  # settings the form does not show: a sweep's own, or the defaults


class SweepForm(QWidget):
    """The sweep's settings in two rows: one would hold the window wider than a 1024-pixel
    screen beside the settings."""

    edited = Signal()  # the grid changed (task, cells, lengths, seeds, steps, threshold): not the jobs

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # What the form does not show: gradviz's defaults, or those of the sweep file opened.
        self.kept = {name: getattr(DEFAULTS, name) for name in KEPT}
        # Its width never holds the window wide: leaving presentation mode, where it was hidden
        # while the font shrank, it still asked for the large font's width (1082 px on a
        # 1024-pixel screen) until its widgets caught up.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        first, second = QHBoxLayout(), QHBoxLayout()
        rows.addLayout(first)
        rows.addLayout(second)
        self.task_box = QComboBox()
        self.task_box.addItems(SWEEP_TASKS)
        self.task_box.setToolTip("The task every run trains on (names and reviews: T must exceed their distance, 10)")
        self.model_checks: dict[str, QCheckBox] = {}
        self.lengths = QLineEdit()
        self.lengths.setToolTip("The sequence lengths T to try, comma-separated, e.g. 5,10,20,50,100")
        self.lengths.setMaximumWidth(150)
        self.seeds = _spin(1, MAX_SEEDS, "Runs per (model, T), seeds 0..N-1: the success rate is the fraction learned")
        self.steps = _spin(1, MAX_STEPS, "Training steps of every run", step=100)
        self.jobs = _spin(1, MAX_JOBS, "Runs training at a time, each in a process of its own (default: the cores)")
        self.threshold = QLineEdit()
        self.threshold.setMaximumWidth(70)
        self.threshold.setToolTip("A run learned when its final loss is below this: '0.1x' is a tenth of the "
                                  "task's memoryless loss at that T, '0.02' a loss")
        first.addWidget(QLabel("Task"))
        first.addWidget(self.task_box)
        for kind in MODEL_KINDS:
            check = QCheckBox(default_label(ModelConfig(kind=kind)))
            check.setToolTip(f"Sweep the {check.text()}")
            self.model_checks[kind] = check
            first.addWidget(check)
        first.addWidget(QLabel("Lengths T"))
        first.addWidget(self.lengths)
        first.addStretch(1)
        for label, widget in (("Seeds", self.seeds), ("Steps", self.steps), ("Jobs", self.jobs),
                              ("Learned if loss <", self.threshold)):
            second.addWidget(QLabel(label))
            second.addWidget(widget)
        second.addStretch(1)
        for check in self.model_checks.values():
            check.toggled.connect(self.edited)
        for edit in (self.lengths, self.threshold):
            edit.textChanged.connect(self.edited)
        for spin in (self.seeds, self.steps):
            spin.valueChanged.connect(self.edited)
        self.task_box.currentIndexChanged.connect(self.edited)

    def set_form(self, config: SweepConfig, jobs: int | None = None) -> None:
        """Fill the form with ``config`` (quietly: the buttons are updated by the caller)."""
        widgets = (self.task_box, *self.model_checks.values(), self.lengths, self.seeds, self.steps, self.threshold)
        blockers = [QSignalBlocker(widget) for widget in widgets]  # noqa: F841 - held until the form is full
        self.task_box.setCurrentText(config.task)
        for kind, check in self.model_checks.items():
            check.setChecked(kind in config.models)
        self.lengths.setText(",".join(str(t) for t in config.seq_lens))
        self.seeds.setValue(config.seeds)
        self.steps.setValue(config.steps)
        if jobs is not None:
            self.jobs.setValue(jobs)
        self.threshold.setText(f"{config.threshold.value:g}" + ("x" if config.threshold.relative else ""))
        self.kept = {name: getattr(config, name) for name in KEPT}
        self.setToolTip(f"Every run also has {shared_settings(config)}: gradviz's defaults, or those of the "
                        "sweep file opened (the figure's caption says them)")

    def sweep_config(self) -> SweepConfig:
        """The form's sweep; raises ConfigError naming the first mistake."""
        lengths = parse_lengths("T", self.lengths.text())
        models = tuple(kind for kind, check in self.model_checks.items() if check.isChecked())
        return SweepConfig(task=self.task_box.currentText(), models=models, seq_lens=lengths,
                           seeds=self.seeds.value(), steps=self.steps.value(),
                           threshold=Threshold.parse(self.threshold.text()), **self.kept)


def shared_settings(config: SweepConfig) -> str:
    """What every run of ``config`` shares besides the grid, in a few words."""
    text = f"H = {config.hidden}, batch {config.batch}, Adam {config.lr:g}, clipping {config.clip:g}"
    return text + (f", distance {config.distance}" if config.task in ("names", "reviews") else "")


def _spin(low: int, high: int, tip: str, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setToolTip(tip)
    return spin
