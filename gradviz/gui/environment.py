"""The Qt side of this machine: Qt's version, and where the app keeps its settings and the
sweeps the window saves.

Both places are Qt's per-platform ones (``QSettings`` and ``QStandardPaths``), so that they sit
where each system expects them; ``gradviz doctor`` prints all three for bug reports.
"""

from __future__ import annotations

from pathlib import Path

import PySide6
from PySide6.QtCore import QSettings, QStandardPaths, qVersion


def qt_version() -> str:
    """PySide6's version and the Qt it runs, with pyqtgraph's (the window's whole stack)."""
    import pyqtgraph

    return f"PySide6 {PySide6.__version__} (Qt {qVersion()}), pyqtgraph {pyqtgraph.__version__}"


def user_settings() -> QSettings:
    """The user's settings (theme, last folders, ...): ~/.config/gradviz/gradviz.conf on Linux,
    a plist on macOS, the registry on Windows."""
    return QSettings("gradviz", "gradviz")


def sweep_folder(settings: QSettings) -> Path:
    """Where the window's sweeps are saved: gradviz's data folder, ~/.local/share/gradviz/sweeps
    on Linux, unless ``settings`` names another (the tests do)."""
    folder = settings.value("sweep_folder")
    if folder:
        return Path(str(folder))
    data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(data) / "gradviz" / "sweeps"
