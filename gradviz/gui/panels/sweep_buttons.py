"""The "How far back?" tab's row of run controls: Start (or Resume), Stop, Open, Export, the
progress bar of runs finished, and the one-line message that says what happened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget


class SweepButtons(QHBoxLayout):
    """The row (a layout in the panel's, not a widget of its own): each button calls the
    panel's handler of the same name."""

    def __init__(self, start: Callable, stop: Callable, open_dialog: Callable, export_dialog: Callable):
        super().__init__()
        self.start_button = QPushButton("&Start sweep")
        self.start_button.setToolTip("Train every (model, T, seed) of the form; the figure fills in as runs finish "
                                     "(Alt+S)")
        self.start_button.clicked.connect(start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the runs in flight; the finished ones stay in the sweep file")
        self.stop_button.clicked.connect(stop)
        self.open_button = QPushButton("Open...")
        self.open_button.setToolTip("Show a sweep file (from here or `gradviz sweep`); Resume trains its missing runs")
        self.open_button.clicked.connect(open_dialog)
        self.export_button = QPushButton("Export...")
        self.export_button.setToolTip("The figure as PNG, SVG or PDF (the figure `gradviz sweep --plot` draws), "
                                      "or the sweep's data as .npz")
        self.export_button.clicked.connect(export_dialog)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m runs")
        self.progress.setToolTip("Runs finished (saved) of the whole grid")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        for widget in (self.start_button, self.stop_button, self.open_button, self.export_button, self.progress):
            self.addWidget(widget)
        self.addWidget(self.message, 1)

    def insert_before_export(self, widget: QWidget) -> None:
        self.insertWidget(self.indexOf(self.export_button), widget)

    def say(self, text: str, error: bool, path: Path | None) -> None:
        """One line beside the buttons (red and bold for an error); its tooltip names the sweep file."""
        self.message.setText(text)
        self.message.setToolTip(f"The sweep file, saved after every finished run: {path}" if path is not None else "")
        self.message.setStyleSheet("QLabel { color: #e05050; font-weight: bold; }" if error else "")

    def fit_progress(self, parent: QWidget) -> None:
        """The progress bar wide enough for its text at ``parent``'s font of the moment."""
        self.progress.setFixedWidth(parent.fontMetrics().horizontalAdvance("9999 of 9999 runs") + 24)
