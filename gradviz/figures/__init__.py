"""File figures: a run drawn with matplotlib for papers and slides, without Qt.

The live window draws with pyqtgraph; figures that go into files are drawn here instead, from a
run's recorded arrays (``SavedRun``), so that ``gradviz export`` needs no display and no Qt, and
the SVG and PDF are made by a library built for them (curves as device-space paths, text as
text) rather than by Qt's SVG generator, whose output only Qt draws correctly (PITFALLS.md).

    view = run_view(saved)                   # what a figure shows (data.py)
    write_figure(view, "f.pdf", plot="gradient", fmt="paper")   # render.py
"""

from gradviz.figures.data import RunView, run_view
from gradviz.figures.plots import PLOT_NAMES, PLOT_TITLES
from gradviz.figures.render import FIGURE_SUFFIXES, SUFFIXES, FigureError, figure_bytes, plot_data, write_figure
from gradviz.figures.style import FORMATS, FigureFormat

__all__ = [
    "FIGURE_SUFFIXES", "FORMATS", "PLOT_NAMES", "PLOT_TITLES", "SUFFIXES", "FigureError", "FigureFormat",
    "RunView", "figure_bytes", "plot_data", "run_view", "write_figure",
]
