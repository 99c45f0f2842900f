"""Colours, colour maps and pens: one place, so every plot looks like every other.

Curves use the Okabe-Ito palette (safe for colour-blind viewers and legible on a washed-out
projector); heatmaps use perceptually uniform maps with fixed levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg

# Okabe & Ito (2008), minus black and yellow, which vanish on dark or light backgrounds.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00")
MODEL_COLOURS = ("#D55E00", "#0072B2", "#009E73")  # model 1, 2, 3 in every plot
GATE_COLOURS = {
    "forget": "#009E73",
    "input": "#0072B2",
    "output": "#CC79A7",
    "cell": "#E69F00",
    "update": "#009E73",
    "reset": "#0072B2",
    "new": "#E69F00",
    "cell_state": "#56B4E9",
    "hidden": "#D55E00",
}
GRADIENT_MAP = "inferno"  # log10 |dL/dh_t| over training
GATE_MAP = "viridis"  # activations


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    grid_alpha: float
    baseline: str


DARK = Theme("dark", "#16181d", "#e8e8e8", 0.25, "#bbbbbb")
LIGHT = Theme("light", "#ffffff", "#111111", 0.3, "#444444")


def apply_theme(theme: Theme) -> None:
    """Set pyqtgraph's defaults; call before plots are created."""
    pg.setConfigOptions(antialias=True, background=theme.background, foreground=theme.foreground)


def model_pen(index: int, width: float = 2.0, dashed: bool = False) -> pg.QtGui.QPen:
    pen = pg.mkPen(MODEL_COLOURS[index % len(MODEL_COLOURS)], width=width)
    if dashed:
        pen.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
    return pen
