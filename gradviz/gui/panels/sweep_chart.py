"""The trainability map of the "How far back?" tab: the figure of Bengio, Simard and Frasconi
(1994), the fraction of seeds that learn against the length T, one line per cell on a log
axis of T; and below it a table of learned/finished seeds with each run's final loss."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from gradviz.gui.panels.sweep_form import shared_settings
from gradviz.gui.plots.base import Panel
from gradviz.gui.theme import PlotStyle, model_colour
from gradviz.sweep.results import SweepResults

# Models side by side at each T, this fraction of the axis's width apart (about 30 px on a
# 1024-pixel screen): where two cells score the same, neither marker hides the other (the RNN's
# T=10 marker was behind the LSTM's). The ticks, the table and the data stay at the true T.
DODGE = 0.035
MARGIN = 0.15  # log10 units of T beside the shortest and the longest length
SYMBOLS = ("o", "s", "t")  # pyqtgraph's names for the file figure's markers (o, s, ^): told apart without colour


class SweepChart:
    """The sweep's figure (``graphics`` holding the ``figure`` panel) and its ``table``: two
    widgets the panel lays out, drawn here from a sweep's results."""

    def __init__(self):
        self.graphics = pg.GraphicsLayoutWidget()
        self.figure = Panel("sweep", "Start a sweep, or open one.", "sequence length T (steps the dependency spans)",
                            "success rate", "success")
        self.figure.add_legend()
        self.figure.plot.setLogMode(x=True, y=False)
        self.figure.plot.setYRange(-0.04, 1.04, padding=0)
        self.figure.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.graphics.addItem(self.figure)
        self.curves: list[pg.PlotDataItem] = []
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Seeds that learned / seeds finished, for each model and T (hover for the losses)")

    def clear(self) -> None:
        """No sweep: no curves, an empty table (the axis is the caller's: the form's lengths)."""
        self._remove_curves()
        self.figure.refresh_key()
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)

    def draw(self, results: SweepResults, style: PlotStyle) -> None:
        """A line per cell (success rate against T), the axis, the caption and the table."""
        self._remove_curves()
        config = results.config
        lengths = results.seq_lens.astype(float)
        success = results.success
        self.figure.data = {"seq_lens": results.seq_lens, "success": success}
        for index, label in enumerate(config.labels):
            colour = model_colour(index)
            curve = self.figure.curve(colour, name=label)
            shown = ~np.isnan(success[index])
            # Later lines thinner, with smaller markers: where two cells score the same, both show.
            size = max(6, round(style.font_px * (1.1 - 0.25 * index)))
            curve.setSymbol(SYMBOLS[index % len(SYMBOLS)])
            curve.setSymbolSize(size)
            curve.setSymbolBrush(colour)
            curve.setSymbolPen(pg.mkPen(colour))
            curve.setPen(pg.mkPen(colour, width=max(1, style.line_width + 1 - index)))
            if shown.any():
                curve.setData(lengths[shown] * dodge_factor(config.seq_lens, index, len(config.models)),
                              success[index][shown])
            self.curves.append(curve)
        self.figure.refresh_key()
        self.draw_axis(config.seq_lens)
        self.figure.set_caption(
            f"{config.task} task, {config.steps} steps per run, {config.seeds} seeds per point. A run learned when "
            f"its final loss (mean of its last 5% of steps) is below {config.threshold.describe()}. Every run: "
            f"{shared_settings(config)}, in a process of its own.")
        self._fill_table(results)

    def _remove_curves(self) -> None:
        for curve in self.curves:
            self.figure.remove_curve(curve)
        self.curves = []
        self.figure.data = {}

    def draw_axis(self, lengths: tuple[int, ...]) -> None:
        """T's axis labelled with the lengths swept, never pyqtgraph's 2..9 of an empty plot."""
        ordered = sorted(lengths)
        self.figure.plot.getAxis("bottom").setTicks([[(math.log10(t), str(int(t))) for t in ordered]])
        self.figure.plot.setXRange(math.log10(ordered[0]) - MARGIN, math.log10(ordered[-1]) + MARGIN, padding=0)

    def _fill_table(self, results: SweepResults) -> None:
        config = results.config
        self.table.setRowCount(len(config.models) + 1)
        self.table.setColumnCount(len(config.seq_lens))
        self.table.setHorizontalHeaderLabels([f"T = {t}" for t in config.seq_lens])
        self.table.setVerticalHeaderLabels([*config.labels, "learned if loss <"])
        for row, label in enumerate(config.labels):
            for column, length in enumerate(config.seq_lens):
                finished, learned = results.done[row, column], results.learned[row, column]
                text = f"{learned.sum()}/{finished.sum()} learned" if finished.any() else "-"
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                losses = ", ".join(f"seed {seed}: {'not run' if not done else f'{loss:.3g}'}"
                                   for seed, (done, loss) in enumerate(zip(finished, results.final_loss[row, column],
                                                                           strict=True)))
                item.setToolTip(f"{label} at T = {length}, final loss (learned below "
                                f"{results.threshold[column]:.3g}): {losses}")
                self.table.setItem(row, column, item)
        for column, threshold in enumerate(results.threshold):
            item = QTableWidgetItem(f"{threshold:.3g}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip(f"memoryless loss at this T: {results.baseline[column]:.3g}")
            self.table.setItem(len(config.models), column, item)

    def fit_table(self) -> None:
        """The table shows every row at the font of the moment."""
        self.table.resizeRowsToContents()
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(row) for row in range(self.table.rowCount()))
        self.table.setFixedHeight(height)

    def apply_style(self, style: PlotStyle) -> None:
        self.graphics.setBackground(style.theme.background)
        self.figure.apply_style(style)


def dodge_factor(lengths: tuple[int, ...], index: int, count: int) -> float:
    """The factor model ``index`` of ``count`` is drawn at (its T times this, on the log axis):
    the models spread about T, ``DODGE`` of the axis's width apart."""
    span = math.log10(max(lengths) / min(lengths)) + 2 * MARGIN
    return 10 ** (DODGE * span * (index - (count - 1) / 2))
