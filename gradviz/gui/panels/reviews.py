"""The Words tab of a text task: one held-out review through every model, and their scores.

``ReviewsPanel`` draws what the worker measures between steps (``gradviz.engine.reports``):
a ``WordGradientView`` per model and the evaluation table (accuracy, precision, recall and F1
per class, confusion matrix) on the held-out set. It only draws and asks: ``exampleChanged``
and ``evaluateRequested`` go to the window, which sends them on to the worker.

Colour scales: each model on its own by default. A trained LSTM carries gradients orders of
magnitude smaller than an untrained RNN's, and on one shared scale its whole review was black
(its deciding word 4.7e-07 darker than the RNN's 6.1e-06): the shape of each model's profile,
which is the lesson, was lost. The shared scale (same shade, same gradient in every model) is
a check box away. Either scale holds still between refreshes (``SteadyLevels``): it widens at
once to hold a new value and narrows by at most ``NARROW_PER_REFRESH`` decades per refresh, so
a word whose gradient is steady keeps its shade.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gradviz.engine.text_reports import EvaluationReport, WordReport
from gradviz.gui.panels.words import GATE_STRETCH, PLOT_STRETCH, WordGradientView
from gradviz.gui.plots.ranges import finite_logs, value_span
from gradviz.gui.theme import PlotStyle

TABLE_CHARS = 56  # the widest row of Evaluation.table()

GATE_SHARE = GATE_STRETCH / PLOT_STRETCH  # a gate plot's height, as a share of a gradient plot's
NARROW_PER_REFRESH = 0.5  # decades a colour scale may narrow per refresh of the words


class SteadyLevels:
    """A log10 colour range that holds still between refreshes: a running minimum and maximum
    that widen at once (no word is ever off the scale) and decay toward the newest span by at
    most ``narrow`` decades per update (an old extreme does not hold the scale forever)."""

    def __init__(self, narrow: float = NARROW_PER_REFRESH):
        self.narrow = narrow
        self.levels: tuple[float, float] | None = None

    def update(self, logs: np.ndarray) -> tuple[float, float]:
        """The range after seeing ``logs`` (log10 values; NaN and inf are left out)."""
        logs = np.asarray(logs, dtype=np.float64)
        if not np.isfinite(logs).any():  # nothing measurable (all underflowed): keep the scale
            return self.levels if self.levels is not None else (0.0, 1.0)
        low, high = value_span(logs)
        if self.levels is not None:
            old_low, old_high = self.levels
            low, high = min(low, old_low + self.narrow), max(high, old_high - self.narrow)
        self.levels = (low, high)
        return self.levels


def model_logs(report: WordReport, index: int) -> np.ndarray:
    return finite_logs([report.words[index].grad_norms])


def shared_logs(report: WordReport) -> np.ndarray:
    """log10 of every model's word gradients together (the shared scale's values)."""
    return finite_logs([words.grad_norms for words in report.words])


CHANCE_MARGIN = 0.05  # a top probability this close to 1/classes is a guess, right or wrong


def describe(report: WordReport, index: int) -> str:
    """One model's line: its prediction for the review against the truth."""
    words = report.words[index]
    predicted, truth = report.classes[words.predicted], report.classes[words.label]
    confidence = words.probabilities[words.predicted]
    verdict = "right" if words.predicted == words.label else "wrong"
    if confidence < 1 / len(words.probabilities) + CHANCE_MARGIN:
        verdict = "at chance"  # a coin flip that lands on the truth is not a model that knows it
    text = (f"<b>{html.escape(report.labels[index])}</b>: predicts <b>{predicted}</b> "
            f"(p = {confidence:.2f}), truth {truth}: {verdict}")
    if report.decisive is not None and 0 <= report.decisive < len(words.tokens):
        back = len(words.tokens) - 1 - report.decisive
        text += (f" · the deciding word <u>{html.escape(words.tokens[report.decisive])}</u> is {back} words "
                 "before the end; "
                 f"<span style='white-space:nowrap'>|dL/dh_t|</span> there {words.grad_norms[report.decisive]:.2g}, "
                 "at the last word "
                 f"{words.grad_norms[-1]:.2g}")
    return text


class ReviewsPanel(QWidget):
    """Review selector, one word view per model, evaluation table."""

    exampleChanged = Signal(int)
    evaluateRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Held-out review"))
        self.example = QSpinBox()
        self.example.setRange(0, 0)
        self.example.setToolTip("Which review of the held-out set to follow (the models never train on it)")
        self.example.valueChanged.connect(self.exampleChanged)
        row.addWidget(self.example)
        self.evaluate_button = QPushButton("Evaluate on the held-out set")
        self.evaluate_button.setToolTip(
            "Accuracy, and precision, recall and F1 per class, and the confusion matrix of every model now")
        self.evaluate_button.clicked.connect(self.request_evaluation)
        row.addWidget(self.evaluate_button)
        self.shared = QCheckBox("One colour scale for all models")
        self.shared.setToolTip(
            "Off: each model's words on its own colour scale (the shape of each profile). On: one scale, the same "
            "shade meaning the same gradient in every model. Either holds steady between refreshes: it widens at "
            f"once for a new value and narrows by at most {NARROW_PER_REFRESH:g} decade a refresh.")
        self.shared.toggled.connect(self._redraw)
        row.addWidget(self.shared)
        self.status = QLabel("Words appear at the next recorded step.")
        self.status.setWordWrap(True)  # one line of it held the Words tab wider than a 1024-pixel screen
        row.addWidget(self.status, 1)
        layout.addLayout(row)

        # Word views stacked (a review reads best full width), the scores beside them.
        beside = QSplitter(Qt.Orientation.Horizontal)
        layout.addWidget(beside, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.splitterMoved.connect(self._dragged)
        beside.addWidget(self.splitter)
        self.views: list[WordGradientView] = []
        self.table = QPlainTextEdit()
        self.table.setReadOnly(True)
        self.table.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        # Shown once scores are asked for (E): until then the reviews have the whole width (at a
        # projector's font the table's columns took half of a 1024-pixel screen, and the views,
        # squeezed, ran off its bottom).
        self.table.setVisible(False)
        beside.addWidget(self.table)
        self.set_font_size(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).pixelSize())
        beside.setStretchFactor(0, 3)
        beside.setStretchFactor(1, 1)
        self.report: WordReport | None = None
        self.evaluation: EvaluationReport | None = None
        self.scales: list[SteadyLevels] = []  # per model
        self._user_sized = False  # the user dragged a divider between the views: their sizes stay
        self.shared_scale = SteadyLevels()
        self.style = PlotStyle()

    def set_font_size(self, pixels: int) -> None:
        """The table in a fixed-width font as large as the window's text (presentation mode's
        too): it sets its own font, so the application's does not reach it."""
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if pixels > 0:
            font.setPixelSize(pixels)
        self.table.setFont(font)
        # Wide enough for the table's rows ("negative   0.491   0.573 ..."): no sideways scrolling.
        self.table.setMinimumWidth(self.table.fontMetrics().horizontalAdvance("x" * TABLE_CHARS) + 30)

    def apply_style(self, style: PlotStyle) -> None:
        """The window's style (desk or projector, dark or light) for the table and the views."""
        self.style = style
        self.set_font_size(style.font_px)
        for view in self.views:
            view.apply_style(style)

    def set_models(self, count: int, examples: int) -> None:
        """A view per model (a new run), reviews 0 .. examples - 1 to choose from."""
        while len(self.views) > count:
            self.views.pop().deleteLater()
        while len(self.views) < count:
            view = WordGradientView()
            view.apply_style(self.style)
            self.splitter.addWidget(view)
            self.views.append(view)
        self.example.blockSignals(True)
        self.example.setRange(0, max(0, examples - 1))
        self.example.blockSignals(False)
        self.report, self.evaluation = None, None
        self.scales = [SteadyLevels() for _ in range(count)]  # a new run: scales from its own words
        self.shared_scale = SteadyLevels()
        self.table.setPlainText("")
        self.table.setVisible(False)
        self.evaluate_button.setEnabled(True)
        self.status.setText("Words appear at the next recorded step.")
        for view in self.views:
            view.show_review([], np.empty(0))

    def show_words(self, report: WordReport) -> None:
        if len(report.words) != len(self.views):
            return  # from a run that has since been reset
        self.report = report
        # Both kinds of scale follow every report, so switching between them shows a steady one.
        self.levels = [scale.update(model_logs(report, index)) for index, scale in enumerate(self.scales)]
        self.common = self.shared_scale.update(shared_logs(report))
        self._redraw()
        self._share_height()

    def _share_height(self) -> None:
        """Each view its text and caption, and the rest shared so that every gradient plot is
        as high as every other (a gate plot counts as ``GATE_SHARE`` of one): the LSTM's view,
        which has a gate plot, is higher. Until the user drags a divider."""
        if self._user_sized or not self.views or self.report is None:
            return
        fixed = [view.fixed_height() for view in self.views]
        weights = [1.0 + (GATE_SHARE if view.gate_plot.isVisibleTo(view) else 0.0) for view in self.views]
        handles = self.splitter.handleWidth() * (len(self.views) - 1)
        room = max(self.splitter.height() - handles - sum(fixed), 0)
        sizes = [height + round(room * weight / sum(weights)) for height, weight in zip(fixed, weights, strict=True)]
        if sizes != self.splitter.sizes():
            self.splitter.blockSignals(True)
            self.splitter.setSizes(sizes)
            self.splitter.blockSignals(False)

    def _dragged(self) -> None:
        self._user_sized = True

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._share_height()

    def _redraw(self) -> None:
        """Draw the last report on the scale chosen (the check box), saying which."""
        report = self.report
        if report is None:
            return
        shared = self.shared.isChecked()
        for index, (view, words) in enumerate(zip(self.views, report.words, strict=True)):
            view.show_review(words.tokens, words.grad_norms, words.gates,
                             levels=self.common if shared else self.levels[index],
                             caption=describe(report, index), marked=report.decisive)
        steps = f"{report.step} training step{'s' if report.step != 1 else ''}"
        scale = "one colour scale for all models" if shared else "each model on its own colour scale"
        self.status.setText(f"Review {report.example} after {steps}; {scale}, held steady.")

    def show_evaluation(self, report: EvaluationReport) -> None:
        self.evaluation = report
        self.evaluate_button.setEnabled(True)
        self.table.setPlainText(report.table())
        self.table.setVisible(True)

    def show_failure(self, message: str) -> None:
        """A words or evaluate question the worker could not answer (training goes on)."""
        self.evaluate_button.setEnabled(True)
        self.status.setText(message)

    def request_evaluation(self) -> None:
        self.evaluate_button.setEnabled(False)  # until the answer arrives
        self.table.setPlainText("Evaluating every model on the held-out set ...")
        self.table.setVisible(True)
        self.evaluateRequested.emit()
