"""Colours, colour maps, fonts and pens: one place, so every plot looks like every other.

Curves use the Okabe-Ito palette (safe for colour-blind viewers and legible on a washed-out
projector); heatmaps use perceptually uniform maps (inferno, viridis) with fixed levels. A
``PlotStyle`` bundles a theme with font sizes and line widths; presentation mode is the same
plots with a high-contrast theme, fonts twice as large and lines at least 3 px.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# One palette for the window and for file figures (Okabe-Ito curves, inferno/viridis maps).
from gradviz.palette import GATE_COLOURS, GATE_MAP, GRADIENT_MAP, MODEL_COLOURS, OKABE_ITO  # noqa: F401


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    muted: str  # baselines, reference lines, captions
    panel: str  # Qt widgets' window colour
    text_fill: str  # behind hover read-outs


DARK = Theme("dark", "#16181d", "#e8e8e8", "#aaaaaa", "#23262d", "#000000b0")
LIGHT = Theme("light", "#ffffff", "#111111", "#555555", "#f0f0f0", "#ffffffd0")
# Presentation: pure black on white (or white on black) survives a washed-out projector.
CONTRAST_DARK = Theme("dark", "#000000", "#ffffff", "#d0d0d0", "#101010", "#000000d0")
CONTRAST_LIGHT = Theme("light", "#ffffff", "#000000", "#333333", "#ffffff", "#ffffffe0")
THEMES = {"dark": DARK, "light": LIGHT}


@dataclass(frozen=True)
class PlotStyle:
    """Everything that changes between the desk and the projector."""

    theme: Theme = DARK
    font_pt: int = 9  # tick labels, axis labels, legends
    caption_pt: int = 8
    header_pt: int = 12
    line_width: int = 2  # the curves a lecture points at
    thin_width: int = 1  # secondary curves and reference lines
    lecture: bool = False  # presentation mode: only the plots a lecture points at

    def presentation(self) -> PlotStyle:
        contrast = CONTRAST_LIGHT if self.theme.name == "light" else CONTRAST_DARK
        return replace(self, theme=contrast, font_pt=2 * self.font_pt, caption_pt=2 * self.caption_pt,
                       header_pt=2 * self.header_pt, line_width=max(4, 2 * self.line_width),
                       thin_width=max(3, 3 * self.thin_width), lecture=True)


def style_for(theme_name: str, presentation: bool = False) -> PlotStyle:
    style = PlotStyle(theme=THEMES.get(theme_name, DARK))
    return style.presentation() if presentation else style


def apply_theme(theme: Theme) -> None:
    """pyqtgraph's defaults for plots created from now on."""
    pg.setConfigOptions(antialias=True, background=theme.background, foreground=theme.foreground)


def apply_widget_palette(app: QApplication, theme: Theme, font_pt: int) -> None:
    """Qt widgets (panels, menus, status bar) in the theme's colours and size."""
    app.setStyle("Fusion")
    palette = QPalette()
    window, text = QColor(theme.panel), QColor(theme.foreground)
    base = QColor(theme.background)
    for role, colour in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.ToolTipBase, base),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Highlight, QColor(MODEL_COLOURS[1])),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
    ):
        palette.setColor(role, colour)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(theme.muted))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(theme.muted))
    app.setPalette(palette)
    font = app.font()
    font.setPointSize(font_pt)
    app.setFont(font)


def model_colour(index: int) -> str:
    return MODEL_COLOURS[index % len(MODEL_COLOURS)]
