"""Headless figures: a saved (or just trained) run rendered by the same plot board the window
uses, offscreen, to PNG/SVG or to the data behind one plot. ``gradviz export`` calls this."""

from __future__ import annotations

import os
from pathlib import Path

from gradviz.gui.plots.column import PANEL_NAMES
from gradviz.io.runfile import SavedRun
from gradviz.tasks import Baseline

__all__ = ["PANEL_NAMES", "export_figure"]


def export_figure(
    saved: SavedRun,
    out: str | Path,
    scale: int = 1,
    plot: str | None = None,
    theme: str = "light",
    size: tuple[int, int] = (1600, 1000),
    force: bool = False,
    index: int = -1,
) -> Path:
    """Render recorded step ``index`` of ``saved`` (default: the last) to ``out``."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a figure needs no screen
    from gradviz.gui.app import application
    from gradviz.gui.export import export_panels, export_widget
    from gradviz.gui.frames import frame_from_saved
    from gradviz.gui.plots.board import PlotBoard
    from gradviz.gui.theme import apply_theme, style_for

    app = application(offscreen=True)
    style = style_for(theme)
    apply_theme(style.theme)
    board = PlotBoard()
    board.apply_style(style)
    board.set_config(saved.config)
    board.resize(*size)
    board.show()
    app.processEvents()
    baseline = Baseline(float(saved.arrays["baseline"]), float(saved.arrays["baseline_metric"]), "")
    board.show_frame(frame_from_saved(saved, index), baseline)
    app.processEvents()
    try:
        if plot:
            labels = [setup.label for setup in saved.config.models]
            return export_panels(board.panels(plot), out, scale, force=force, labels=labels)
        return export_widget(board, out, scale, force=force)
    finally:
        board.close()
        board.deleteLater()
