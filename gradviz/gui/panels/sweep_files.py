"""The "How far back?" tab's files: where a new sweep file goes, asking where to export and
writing the sweep out (a figure, or its data), and a reader's message said in one short line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from gradviz.io.atomic import atomic_write, unused_path
from gradviz.sweep.plot import FORMATS
from gradviz.sweep.results import SweepResults


def new_sweep_path(folder: Path) -> Path:
    """A file name in ``folder`` for a sweep started now, never one that exists."""
    return unused_path(folder, f"sweep-{datetime.now():%Y%m%d-%H%M%S}", ".npz")  # two in one second: two names


def export_sweep(results: SweepResults, path: str | Path) -> Path:
    """Write the figure (.png, .svg, .pdf, drawn by ``gradviz.sweep.plot``) or the data (.npz)."""
    from gradviz.sweep.plot import plot_sweep

    target = Path(path)
    if target.suffix.lower() == ".npz":  # where asked, or an error: no fallback file for an export
        arrays = results.arrays()
        return atomic_write(target, lambda stream: np.savez(stream, **arrays), force=True)
    return plot_sweep(results, target)


def ask_export_path(parent: QWidget, folder: Path) -> str:
    """The file to export to, asked in a dialog, with the suffix of the format chosen where
    none was typed; empty if cancelled."""
    filters = "PNG figure (*.png);;SVG figure (*.svg);;PDF figure (*.pdf);;Sweep data (*.npz)"
    path, chosen = QFileDialog.getSaveFileName(parent, "Export sweep", str(folder / "sweep.png"), filters)
    if path and Path(path).suffix.lower() not in (*FORMATS, ".npz"):
        path += chosen[chosen.index("*") + 1:chosen.index(")")]
    return path


def named(message: str, path: str | Path) -> str:
    """A reader's message with the file named by its name, not its whole path (one short line)."""
    return message.replace(str(path), Path(path).name)


def clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
