"""Colours, colour maps, fonts and pens: one place, so every plot looks like every other.

Curves use the Okabe-Ito palette (safe for colour-blind viewers and legible on a washed-out
projector); heatmaps use perceptually uniform maps (inferno, viridis) with fixed levels. A
``PlotStyle`` bundles a theme with font sizes and line widths; presentation mode is the same
plots with a high-contrast theme, text at least 1/50 of the screen's height (readable from
the back row: 16 px at 800 lines, 22 px at 1080) and lines at least 3 px.

Sizes are in pixels, not points: the lecture's rule is a fraction of the screen's lines, and
a pixel size means the same on every screen's DPI setting.
"""

from __future__ import annotations

import math
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
    font_px: int = 12  # tick labels, axis labels, legends
    caption_px: int = 11
    header_px: int = 15
    line_width: int = 2  # the curves a lecture points at
    thin_width: int = 1  # secondary curves and reference lines
    lecture: bool = False  # presentation mode: only the plots a lecture points at

    def presentation(self, screen_height: int = 1080) -> PlotStyle:
        """The projector's style for a screen ``screen_height`` pixels high."""
        contrast = CONTRAST_LIGHT if self.theme.name == "light" else CONTRAST_DARK
        text = lecture_text_px(screen_height)
        return replace(self, theme=contrast, font_px=text, caption_px=text, header_px=text + 4,
                       line_width=max(4, 2 * self.line_width), thin_width=max(3, 3 * self.thin_width), lecture=True)


def lecture_text_px(screen_height: int) -> int:
    """The smallest text a back row reads: 1/50 of the screen's height, never below 16 px."""
    return max(16, math.ceil(screen_height / 50))


def style_for(theme_name: str, presentation: bool = False, screen_height: int = 1080) -> PlotStyle:
    style = PlotStyle(theme=THEMES.get(theme_name, DARK))
    return style.presentation(screen_height) if presentation else style


def apply_theme(theme: Theme) -> None:
    """pyqtgraph's defaults for plots created from now on."""
    pg.setConfigOptions(antialias=True, background=theme.background, foreground=theme.foreground)


def apply_widget_palette(app: QApplication, theme: Theme, font_px: int) -> None:
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
    # In points at the screen's resolution: a pixel-sized application font leaves some of
    # Qt's own widgets (a dock's title) at a size of their own.
    screen = app.primaryScreen()
    dpi = screen.logicalDotsPerInchY() if screen is not None else 96.0
    font.setPointSizeF(font_px * 72.0 / dpi)
    app.setFont(font)


def model_colour(index: int) -> str:
    return MODEL_COLOURS[index % len(MODEL_COLOURS)]
