"""Themes and the named figure formats of file figures (the palette is gradviz/palette.py,
shared with the window, so a figure and the window colour each model alike).

A ``FigureFormat`` fixes what a destination needs: the default size in pixels, the dots per
inch that turn pixels into inches (and so point sizes into pixels), and the text size.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradviz.palette import MODEL_COLOURS


def model_colour(index: int) -> str:
    return MODEL_COLOURS[index % len(MODEL_COLOURS)]


@dataclass(frozen=True)
class FigureTheme:
    name: str
    background: str
    foreground: str
    muted: str  # baselines, reference lines, captions
    grid: str


FIGURE_THEMES = {
    "light": FigureTheme("light", "#ffffff", "#111111", "#555555", "#dddddd"),
    "dark": FigureTheme("dark", "#16181d", "#e8e8e8", "#aaaaaa", "#3a3d44"),
}


@dataclass(frozen=True)
class FigureFormat:
    """A destination: ``size`` and ``plot_size`` are the default pixel sizes (at scale 1) of
    the full figure and of one plot; ``full_rows`` the plots a full figure shows per model."""

    name: str
    size: tuple[int, int]
    plot_size: tuple[int, int]
    dpi: float
    font_pt: float
    line_width: float
    full_rows: tuple[str, ...]
    description: str


EVERY_ROW = ("loss", "gradient", "history", "gates", "gate_means", "diagnostics")
LECTURE_ROWS = ("loss", "gradient", "history", "gates")
# What presentation mode shows (the gradient profile, the loss, one more plot): a 16:9 slide's
# height holds three rows of plots at a text size the back row reads, not four.
SLIDE_ROWS = ("loss", "gradient", "history")

FORMATS = {
    "screen": FigureFormat("screen", (1600, 1000), (1200, 500), 100.0, 10.0, 1.8, EVERY_ROW,
                           "every plot, 100 dpi, 10 pt text"),
    # 1920x1080 at 160 dpi is 12 x 6.75 in: 15 pt text is 33 px, readable from the back row.
    "slide": FigureFormat("slide", (1920, 1080), (1920, 1080), 160.0, 15.0, 3.0, SLIDE_ROWS,
                          "16:9, large text, the three plots a lecture points at"),
    # One journal column: 3.5 in at 300 dpi, 8 pt text.
    "paper": FigureFormat("paper", (1050, 1500), (1050, 720), 300.0, 8.0, 1.0, LECTURE_ROWS,
                          "one column, 3.5 in wide at 300 dpi, 8 pt text"),
}


def rc_params(theme: FigureTheme, fmt: FigureFormat) -> dict:
    """matplotlib settings for one figure: fonts, colours, and text kept as text in vector files."""
    small = fmt.font_pt if fmt.name == "paper" else fmt.font_pt * 0.9
    return {
        "font.family": "DejaVu Sans",  # ships with matplotlib and with most Linux desktops
        "font.size": fmt.font_pt,
        "axes.titlesize": fmt.font_pt + (1 if fmt.name == "paper" else 2),
        "axes.labelsize": fmt.font_pt,
        "xtick.labelsize": small,
        "ytick.labelsize": small,
        "legend.fontsize": small,
        "figure.titlesize": fmt.font_pt + (1 if fmt.name == "paper" else 3),
        "lines.linewidth": fmt.line_width,
        "axes.linewidth": max(0.6, fmt.line_width / 2),
        "figure.facecolor": theme.background,
        "axes.facecolor": theme.background,
        "savefig.facecolor": theme.background,
        "axes.edgecolor": theme.muted,
        "axes.labelcolor": theme.foreground,
        "axes.titlecolor": theme.foreground,
        "text.color": theme.foreground,
        "xtick.color": theme.foreground,
        "ytick.color": theme.foreground,
        "grid.color": theme.grid,
        "legend.facecolor": theme.background,
        "legend.edgecolor": theme.grid,
        "legend.framealpha": 0.85,
        "svg.fonttype": "none",  # text stays <text>: searchable, editable, drawn in the reader's font
        "svg.hashsalt": "gradviz",  # the same figure gives the same file
        "pdf.fonttype": 42,  # TrueType fonts embedded: what journals ask for
        # The PNG drawn like a vector renderer draws the SVG or PDF: no pixel snapping of lines,
        # no hinting of glyphs (cairo, librsvg and poppler do neither).
        "path.snap": False,
        "text.hinting": "none",
    }
