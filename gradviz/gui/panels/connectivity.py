"""Which step teaches which (key C): the itemized gradients of one recorded step.

For each model side by side, the matrix ||d l_s / d h_t|| (rows: the output step s whose loss
sends the gradient back; columns: the timestep t it reaches, t <= s; batch mean of each
sequence's own loss, top layer), on one log colour scale shared by the models
(``probes.connectivity``, after RNNbow, Cashman et al. 2019). A one-output task has one row;
the copy task's answer rows show whether the answers reach the data steps. The trainer measures
it on the step C trains, before that step's update, and only when asked: for the copy task at
T = 100 it costs about 20-27 recorded steps (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from gradviz.config import TaskConfig
from gradviz.gui.theme import GRADIENT_MAP, PlotStyle, model_colour
from gradviz.plotmath import GRADIENT_DECADES, decade_levels, log10_or_nan
from gradviz.probes.extras import Connectivity
from gradviz.tasks import CopyTask, make_task


def copy_landmarks(task: TaskConfig) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The copy task's data steps (columns t) and answer steps (rows s), first and last, from
    1; None for other tasks. Where the answer rows reach the data columns is what recall needs."""
    if task.name != CopyTask.name:
        return None
    length, total = CopyTask.copy_length, make_task(task.name, task.seq_len).total_steps
    return (1, length), (total - length + 1, total)


class ConnectivityDialog(QDialog):
    """A window of its own beside the plots, so the lecture's layout is untouched."""

    again = Signal()  # the user asks to measure again (on the next step)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Which step teaches which: itemized gradients")
        self.resize(1000, 520)
        layout = QVBoxLayout(self)
        self.summary = QLabel("Measuring one step...")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.graphics = pg.GraphicsLayoutWidget()
        layout.addWidget(self.graphics, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.again_button = QPushButton("Measure again (C)")
        self.again_button.setToolTip("Train one more step, pause, and measure it")
        self.again_button.clicked.connect(self.again.emit)
        row.addWidget(self.again_button)
        layout.addLayout(row)
        self.images: list[np.ndarray] = []  # what each model's heatmap draws: log10 (S, T)
        self.levels = (-GRADIENT_DECADES, 0.0)
        self.step = -1
        self.marks: list[tuple[int, float]] = []  # (angle, position) of each landmark line drawn

    def show_matrices(self, step: int, labels: list[str], matrices: list[Connectivity | None],
                      style: PlotStyle, landmarks: tuple[tuple[int, int], tuple[int, int]] | None = None) -> None:
        """Draw every model's matrix of recorded step ``step``; ``landmarks`` (the copy
        task's data steps and answer rows) are marked with dashed lines."""
        self.graphics.clear()
        self.graphics.setBackground(style.theme.background)
        self.step = step
        self.levels = decade_levels([m.matrix[-1] for m in matrices if m is not None])
        self.images = []
        self.marks = []
        items = []
        for index, (label, found) in enumerate(zip(labels, matrices, strict=True)):
            plot = self.graphics.addPlot(row=0, col=index)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            colour = model_colour(index)
            if found is None:
                plot.setTitle(f"<span style='color:{colour}'>{label}</span>: diverged, nothing to measure")
                self.images.append(np.empty((0, 0)))
                continue
            logs = log10_or_nan(found.matrix[-1])  # (S, T), top layer; NaN where t > s
            self.images.append(logs)
            rows, steps = logs.shape
            image = pg.ImageItem(logs.astype(np.float32), axisOrder="row-major")
            image.setRect(QRectF(0.5, 0.5, steps, rows))  # t and s from 1, as every timestep axis
            image.setLevels(self.levels)
            image.setColorMap(pg.colormap.get(GRADIENT_MAP))
            plot.addItem(image)
            items.append(image)
            plot.setTitle(f"<span style='color:{colour}'><b>{label}</b></span> &nbsp; log10 ||dl_s/dh_t||")
            plot.setLabel("bottom", "timestep t reached")
            plot.setLabel("left", "output step s" if rows > 1 else "the output")
            plot.getViewBox().invertY(False)
            if landmarks is not None and rows > 1:
                self._mark(plot, landmarks, style)
            if rows == 1:
                plot.getAxis("left").setTicks([[(1, f"s = {int(found.output_steps[0]) + 1}")]])
        if items:
            bar = pg.ColorBarItem(values=self.levels, colorMap=pg.colormap.get(GRADIENT_MAP), interactive=False,
                                  label="log10 ||dl_s/dh_t||")
            bar.setImageItem(items, insert_in=None)
            self.graphics.addItem(bar, row=0, col=len(labels))
        many = any(m is not None and m.matrix.shape[1] > 1 for m in matrices)
        what = ("Each row: the loss at output step s, and how much gradient it sends to every timestep t "
                "up to s." if many else
                "One output: the row is the gradient of the final loss reaching each timestep t.")
        where = ""
        if landmarks is not None:
            (first, last), (answer_first, answer_last) = landmarks
            where = (f" Copy task: steps {first}-{last} hold the data, rows {answer_first}-{answer_last} are the "
                     "answers (dashed lines); to recall, the answer rows must reach the data columns.")
        self.summary.setText(f"Step {step + 1}: {what} Batch mean of each sequence's own loss, top layer; one "
                             f"colour scale for every model, {GRADIENT_DECADES:.0f} decades; empty: no path "
                             f"(t > s).{where}")

    def _mark(self, plot: pg.PlotItem, landmarks: tuple[tuple[int, int], tuple[int, int]], style: PlotStyle) -> None:
        """Dashed lines after the last data step (a column) and before the first answer (a row)."""
        (_, last_data), (first_answer, _) = landmarks
        pen = pg.mkPen(style.theme.foreground, width=style.thin_width, style=Qt.PenStyle.DashLine)
        options = {"color": style.theme.foreground, "fill": style.theme.text_fill}
        for position, angle, label, where in ((last_data + 0.5, 90, "data ←", 0.12),
                                              (first_answer - 0.5, 0, "answers ↑", 0.5)):
            line = pg.InfiniteLine(pos=position, angle=angle, pen=pen, movable=False, label=label,
                                   labelOpts={**options, "position": where})
            plot.addItem(line)
            self.marks.append((angle, position))
