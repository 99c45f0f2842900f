"""File > Export: choose what (the window, the plots, one plot of one model or of all),
the format (PNG at 1x/2x/4x, SVG, or the data as CSV/NPZ) and where."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QMessageBox

from gradviz.gui.export import SCALES, ExportError

PANEL_TITLES = {
    "loss": "Loss",
    "metric": "Task metric",
    "gradient": "Gradient through time",
    "history": "Gradient history",
    "gates": "Gate heatmap",
    "gate_means": "Gate means",
    "grad_norms": "Gradient norms",
    "spectral_radius": "Spectral radius",
    "half_life": "Half-life",
}


class ExportDialog(QDialog):
    """Asks what to export and where, then calls ``window.export``; errors change nothing."""

    def __init__(self, window, board, folder: str):
        super().__init__(window)
        self.setWindowTitle("Export")
        self.window_, self.folder = window, folder
        form = QFormLayout(self)
        self.target = QComboBox()
        self.target.addItem("The whole window", "window")
        self.target.addItem("All plots", "board")
        labels = [setup.label for setup in board.config.models]
        for name, title in PANEL_TITLES.items():
            self.target.addItem(f"{title}, every model side by side", name)
            for index, label in enumerate(labels):
                self.target.addItem(f"{title}, {label}", f"{index}:{name}")
        self.format = QComboBox()
        for text, suffix in (("PNG image", "png"), ("SVG vector figure", "svg"), ("CSV data", "csv"),
                             ("NPZ data (numpy)", "npz")):
            self.format.addItem(text, suffix)
        self.scale = QComboBox()
        for scale in SCALES:
            self.scale.addItem(f"{scale}x", scale)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.target.currentIndexChanged.connect(self._format_changed)
        form.addRow("What", self.target)
        form.addRow("Format", self.format)
        form.addRow("Resolution", self.scale)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _format_changed(self) -> None:
        suffix = self.format.currentData()
        self.scale.setEnabled(suffix == "png")
        whole = self.target.currentData() in ("window", "board")
        if whole and suffix in ("csv", "npz"):
            self.format.setCurrentIndex(0)  # data export is per plot

    def _save(self) -> None:
        suffix = self.format.currentData()
        default = str(Path(self.folder) / f"gradviz-{self.target.currentData().replace(':', '-')}.{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, "Export to", default, f"{suffix.upper()} (*.{suffix})")
        if not path:
            return
        if not path.lower().endswith("." + suffix):
            path += "." + suffix
        try:
            self.window_.export(self.target.currentData(), path, self.scale.currentData())
        except (ExportError, OSError) as exc:
            QMessageBox.warning(self, "Export failed", f"Nothing was written: {exc}")
            return
        self.window_.statusBar().showMessage(f"Exported {path}", 5000)
        self.accept()
