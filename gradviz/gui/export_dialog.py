"""File > Export: what (the window, all plots, one plot of every model or of one), the file type
(PNG, SVG, PDF, or the plot's data as CSV/NPZ), the figure's format (screen, slide, paper) and
theme, the PNG's resolution, and where. Choices that do not apply are greyed out, and the
dialog opens with the choices made last time (kept in QSettings)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout

from gradviz.figures import FORMATS, PLOT_TITLES
from gradviz.gui.environment import user_settings
from gradviz.gui.export import SCALES
from gradviz.gui.settings import AppSettings

FILE_TYPES = (("PNG image", "png"), ("SVG vector figure", "svg"), ("PDF vector figure (LaTeX)", "pdf"),
              ("CSV data", "csv"), ("NPZ data (numpy)", "npz"))
DATA_TYPES = ("csv", "npz")
SETTINGS = "export/"  # QSettings keys: export/target, export/type, export/format, export/theme, export/scale


def _select(combo: QComboBox, value) -> None:
    """Select the item whose data is ``value`` (as text: QSettings may hand back strings)."""
    for index in range(combo.count()):
        if str(combo.itemData(index)) == str(value) and combo.model().item(index).isEnabled():
            combo.setCurrentIndex(index)
            return


class ExportDialog(QDialog):
    """Asks what to export and where, then hands it to ``window.start_export``."""

    def __init__(self, window, board, folder: str, settings: AppSettings | None = None):
        super().__init__(window)
        self.setWindowTitle("Export")
        self.window_, self.folder = window, folder
        self.settings = AppSettings(user_settings()) if settings is None else settings
        form = QFormLayout(self)
        self.target = QComboBox()
        self.target.addItem("The whole window, as on screen", "window")
        self.target.addItem("All plots of every model (figure)", "board")
        labels = [setup.label for setup in board.config.models]
        for name, title in PLOT_TITLES.items():
            self.target.addItem(f"{title}, every model", name)
            for index, label in enumerate(labels):
                self.target.addItem(f"{title}, {label}", f"{index}:{name}")
        self.file_type = QComboBox()
        for text, suffix in FILE_TYPES:
            self.file_type.addItem(text, suffix)
        self.figure_format = QComboBox()
        for name, form_ in FORMATS.items():
            self.figure_format.addItem(f"{name.capitalize()}: {form_.description}", name)
        self.theme = QComboBox()
        self.theme.addItem("Light (paper, slides on white)", "light")
        self.theme.addItem("Dark", "dark")
        self.scale = QComboBox()
        for scale in SCALES:
            self.scale.addItem(f"{scale}x", scale)
        form.addRow("What", self.target)
        form.addRow("File type", self.file_type)
        form.addRow("Figure for", self.figure_format)
        form.addRow("Theme", self.theme)
        form.addRow("Resolution", self.scale)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._restore()
        self.target.currentIndexChanged.connect(self._update)
        self.file_type.currentIndexChanged.connect(self._update)
        self._update()

    def _restore(self) -> None:
        for combo, key in self._remembered():
            value = self.settings.value(SETTINGS + key)
            if value is not None:
                _select(combo, value)

    def _remembered(self):
        return ((self.target, "target"), (self.file_type, "type"), (self.figure_format, "format"),
                (self.theme, "theme"), (self.scale, "scale"))

    def _update(self) -> None:
        """Grey out what does not apply: the window is a PNG; data is per plot and has no look."""
        whole = self.target.currentData() in ("window", "board")
        window = self.target.currentData() == "window"
        types = self.file_type.model()
        for index, (_, suffix) in enumerate(FILE_TYPES):
            allowed = suffix == "png" if window else not (whole and suffix in DATA_TYPES)
            types.item(index).setEnabled(allowed)
        if not types.item(self.file_type.currentIndex()).isEnabled():
            self.file_type.setCurrentIndex(0)  # PNG applies to everything
        suffix = self.file_type.currentData()
        figure = suffix not in DATA_TYPES and not window
        self.figure_format.setEnabled(figure)
        self.theme.setEnabled(figure)
        self.scale.setEnabled(suffix == "png")  # a vector figure has no resolution

    def allowed_types(self) -> list[str]:
        """The file types (suffixes) that apply to what is chosen now."""
        types = self.file_type.model()
        return [suffix for index, (_, suffix) in enumerate(FILE_TYPES) if types.item(index).isEnabled()]

    def _save(self) -> None:
        suffix = self.file_type.currentData()
        default = str(Path(self.folder) / f"gradviz-{self.target.currentData().replace(':', '-')}.{suffix}")
        filters = ";;".join(f"{text} (*.{kind})" for text, kind in FILE_TYPES if kind in self.allowed_types())
        path, _ = QFileDialog.getSaveFileName(self, "Export to", default, filters,
                                              f"{self.file_type.currentText()} (*.{suffix})")
        if not path:
            return
        path, suffix = file_and_type(path, suffix, self.allowed_types())
        self.file_type.setCurrentIndex(self.file_type.findData(suffix))  # remembered as the type written
        for combo, key in self._remembered():
            self.settings.setValue(SETTINGS + key, combo.currentData())
        # Written when the run's arrays arrive (never waited for here): the status bar says when,
        # and what was used if the trainer did not answer; a failure comes as a warning.
        self.window_.start_export(self.target.currentData(), path, self.scale.currentData(),
                                  figure_format=self.figure_format.currentData(), theme=self.theme.currentData())
        self.accept()


def file_and_type(path: str, chosen: str, allowed: list[str]) -> tuple[str, str]:
    """The file to write and its type, from the name typed and the type chosen: a typed
    extension that names a type that applies is that type ("fig.svg" with PNG chosen writes an
    SVG); another known type's extension is replaced by the chosen one ("fig.svg" for the
    window, a PNG only, is "fig.png"), and any other name gets the chosen one added."""
    typed = Path(path).suffix.lower().lstrip(".")
    if typed in allowed:
        return path, typed
    if typed in {kind for _, kind in FILE_TYPES}:
        return str(Path(path).with_suffix("." + chosen)), chosen
    return f"{path}.{chosen}", chosen
