"""A paper's result beside gradviz's, in the "How far back?" tab: a file of ``gradviz reproduce``.

"Open reproduction..." reads the file with the reproduce package's own reader (a file it
refuses is said in one line and changes nothing, and is never remembered); the figure then
takes the sweep figure's place until "Back to the sweep" ("Export figure..." writes the figure
``gradviz reproduce --plot`` draws). What it draws is
``gradviz.reproduce.points``: the paper's number as a star labelled with the paper, and
gradviz's measured ones (every seed, their median and range), on the axes of what the paper
measured: success against T for Bengio et al. 1994, one score per arm for the others.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from gradviz.gui.plots.base import Panel
from gradviz.gui.theme import PlotStyle, model_colour
from gradviz.palette import OKABE_ITO
from gradviz.reproduce import points
from gradviz.reproduce.papers import SUCCESS
from gradviz.reproduce.results import ReproductionFileError, ReproductionResults
from gradviz.reproduce.scoring import SOLVED
from gradviz.sweep.plot import FORMATS

PAPER_COLOUR = OKABE_ITO[5]  # orange: no model's colour
LOST_COLOUR = "#e05050"
SPREAD = 0.12  # the paper's star and gradviz's points sit this far either side of an arm's place
SETTING = "reproduction/last"  # the last reproduction opened: the dialog starts in its folder


class ReproductionView(QWidget):
    """A reproduction's figure, shown in place of ``replaces`` (the sweep's figure and table)."""

    said = Signal(str, bool)  # a line for the tab's message (text, is an error)

    def __init__(self, replaces: tuple[QWidget, ...] = (), settings=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.replaces = replaces
        self.settings = settings
        self.results: ReproductionResults | None = None
        self.path: Path | None = None
        self.items: dict[str, list] = {}  # what is drawn, by role: tests read the plotted data here
        self.style = PlotStyle()
        self.open_button = QPushButton("Open reproduction...")
        self.open_button.setToolTip("Show a file of `gradviz reproduce NAME`: the paper's numbers beside "
                                    "gradviz's, seed by seed")
        self.open_button.clicked.connect(self.open_dialog)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.back_button = QPushButton("Back to the sweep")
        self.back_button.setToolTip("Show the sweep's figure and table again")
        self.back_button.clicked.connect(self.leave)
        # The sweep's Export... writes the sweep: this one, the figure `gradviz reproduce --plot` draws.
        self.export_button = QPushButton("Export figure...")
        self.export_button.setToolTip("This reproduction's figure as PNG, SVG or PDF (as `gradviz reproduce --plot`)")
        self.export_button.clicked.connect(self.export_dialog)
        header.addWidget(self.title, 1)
        header.addWidget(self.export_button)
        header.addWidget(self.back_button)
        layout.addLayout(header)
        self.graphics = pg.GraphicsLayoutWidget()
        self.figure = Panel("reproduction", "", "", "")
        self.figure.add_legend()
        self.figure.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.graphics.addItem(self.figure)
        layout.addWidget(self.graphics, 1)
        self.setVisible(False)

    # ---- files --------------------------------------------------------------------------------

    def open_file(self, path: str | Path) -> bool:
        """Show the reproduction in ``path``; a file the reader refuses is said, and nothing changes."""
        try:
            results = ReproductionResults.open(path)
        except Exception as exc:  # noqa: BLE001 - whatever a file holds, one line and nothing changed
            said = str(exc) if isinstance(exc, ReproductionFileError) else f"{type(exc).__name__}: {exc}"
            said = said.split("; use --force")[0]  # the command line's advice, not the window's
            self.said.emit(f"Not opened: {_short(said.replace(str(path), Path(path).name))}", True)
            return False
        self.results, self.path = results, Path(path)
        if self.settings is not None:
            self.settings.setValue(SETTING, str(self.path))
        self.draw()
        self.show_view()
        finished, total = len(results.runs), len(results.reproduction.arms) * results.seeds
        runs = (f"{finished} of {total} runs" if finished else
                "no run finished yet (the same `gradviz reproduce` command resumes it)")
        self.said.emit(f"Opened {self.path.name}: {points.cite(results)}, {runs}.", False)
        return True

    def open_dialog(self) -> None:
        last = self.settings.value(SETTING) if self.settings is not None else None
        folder = str(Path(last).parent) if isinstance(last, str) and last else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Open reproduction", folder,
                                              "gradviz reproductions (*.json)")
        if path:
            self.open_file(path)

    def export(self, path: str | Path) -> Path:
        """Write the reproduction's figure (``gradviz.reproduce.plot``: .png, .svg or .pdf)."""
        from gradviz.reproduce.plot import plot_reproduction

        if self.results is None:
            raise ValueError("open a reproduction first")
        return plot_reproduction(self.results, path)

    def export_dialog(self) -> None:
        if self.results is None or self.path is None:
            return
        target = str(self.path.with_suffix(".png"))
        path, chosen = QFileDialog.getSaveFileName(self, "Export reproduction", target,
                                                   "PNG figure (*.png);;SVG figure (*.svg);;PDF figure (*.pdf)")
        if not path:
            return
        if Path(path).suffix.lower() not in FORMATS:
            path += chosen[chosen.index("*") + 1:chosen.index(")")]
        try:
            written = self.export(path)
        except (OSError, ValueError) as exc:
            self.said.emit(f"Not written: {_short(str(exc))}", True)
            return
        self.said.emit(f"Wrote {written}", False)

    # ---- showing ------------------------------------------------------------------------------

    def show_view(self) -> None:
        for widget in self.replaces:
            widget.setVisible(False)
        self.setVisible(True)

    def leave(self) -> None:
        """Back to the sweep (a sweep started or opened: its figure is what the tab is for)."""
        self.setVisible(False)
        for widget in self.replaces:
            widget.setVisible(True)

    def apply_style(self, style: PlotStyle) -> None:
        self.style = style
        self.graphics.setBackground(style.theme.background)
        self.figure.apply_style(style)
        self.draw()

    # ---- drawing ------------------------------------------------------------------------------

    def _clear(self) -> None:
        for items in self.items.values():
            for item in items:
                self.figure.plot.removeItem(item)
        self.items = {}

    def _add(self, role: str, item) -> None:
        self.figure.plot.addItem(item)
        self.items.setdefault(role, []).append(item)

    def _scatter(self, role: str, x, y, symbol: str, colour: str, size: float, filled: bool = True) -> None:
        brush = pg.mkBrush(colour) if filled else pg.mkBrush(None)
        self._add(role, pg.PlotDataItem(np.asarray(x, float), np.asarray(y, float), pen=None, symbol=symbol,
                                        symbolSize=size, symbolBrush=brush, symbolPen=pg.mkPen(colour, width=1.5)))

    def draw(self) -> None:
        self._clear()
        results = self.results
        if results is None:
            return
        reproduction = results.reproduction
        quick = " (--quick: small, short runs: the machinery, not the paper's numbers)" if reproduction.quick else ""
        self.title.setText(f"<b>{html.escape(reproduction.title)}</b> &middot; {html.escape(self.path.name)}"
                           f"{html.escape(quick)}")
        self.title.setToolTip(f"{reproduction.source}: {reproduction.found}\n{self.path}")
        if points.success_against_t(results):
            self._draw_success(results)
        else:
            self._draw_scores(results)
        for side in ("bottom", "left"):  # pyqtgraph places a label on resize only: the new one, now
            self.figure.plot.getAxis(side).resizeEvent()

    def _key(self, entries: list[tuple[str, str, str]]) -> None:
        """The key above the plot: (symbol, colour, what it marks)."""
        text = " &nbsp; ".join(f"<span style='color:{colour}'><b>{symbol}</b></span>&nbsp;{html.escape(name)}"
                               for symbol, colour, name in entries)
        self.figure.key.html_text = text
        self.figure.key.setText(text, color=self.style.theme.foreground, size=f"{self.style.font_px}px")
        self.figure.key.updateMin()

    def _draw_success(self, results: ReproductionResults) -> None:
        """Bengio et al. 1994: per model, the fraction of seeds that learned, against T."""
        figure, plot = self.figure, self.figure.plot
        figure.x_label, figure.y_label, figure.y_short = "sequence length T (steps the dependency spans)", \
            "success rate", "success"
        figure.set_axis_labels()
        plot.setLogMode(x=True, y=False)
        plot.getAxis("left").setTicks(None)  # pyqtgraph's own, not a log axis's of another reproduction
        size = max(6, self.style.font_px)
        entries, papers, lengths = [], False, []
        every = points.success_series(results)
        for index, series in enumerate(every):
            colour = model_colour(index)
            shown = ~np.isnan(series.success)
            # Later lines thinner, with smaller markers (as the sweep's): where two score the same, both show.
            marker = max(6, round(size * (1.1 - 0.25 * index)))
            self._add("success", pg.PlotDataItem(series.lengths[shown], series.success[shown],
                                                 pen=pg.mkPen(colour, width=max(1, self.style.line_width + 1 - index)),
                                                 symbol="os"[index % 2], symbolSize=marker,
                                                 symbolBrush=colour, symbolPen=pg.mkPen(colour)))
            entries.append(("\u25cf" if index % 2 == 0 else "\u25a0", colour, f"gradviz, {series.label}"))
            given = np.isfinite(series.paper)
            if given.any():
                papers = True
                self._scatter("paper", series.lengths[given], series.paper[given], "star", PAPER_COLOUR, 2 * size)
            lengths.extend(series.lengths.tolist())
        if papers:
            entries.append(("\u2605", PAPER_COLOUR, points.cite(results)))
        self._key(entries)
        lengths = sorted(set(lengths))
        plot.getAxis("bottom").setTicks([[(math.log10(t), f"{t:g}") for t in lengths]])
        plot.setXRange(math.log10(lengths[0]) - 0.15, math.log10(lengths[-1]) + 0.15, padding=0)
        plot.setYRange(-0.04, 1.04, padding=0)
        finished = min((int(series.finished.min()) for series in every), default=0)
        said = results.reproduction.arms[0].paper
        figure.set_caption(
            f"{points.cite(results)}: {said}" + ("" if papers else " (the paper gives no number to plot here)")
            + f". gradviz: a run learned when its final loss is below {SUCCESS:g}x the memoryless "
            + (f"baseline; at least {finished} seed{'s' if finished != 1 else ''} per point." if finished else
               "baseline; no run finished yet."))

    def _draw_scores(self, results: ReproductionResults) -> None:
        """One score per arm: every seed, the median and range, and the paper's star."""
        figure, plot = self.figure, self.figure.plot
        arms = points.arm_points(results)
        solved = results.reproduction.arms[0].score == SOLVED
        figure.x_label, figure.y_label = "", points.score_name(results)
        figure.y_short = "sequences" if solved else "loss / baseline"
        figure.set_axis_labels()
        plot.setLogMode(x=False, y=True)
        finite = [value for arm in arms for value in (*arm.seeds, arm.paper) if math.isfinite(value) and value > 0]
        top = max(finite) * 2 if finite else 10.0  # where a lost seed is drawn: above every number
        size = max(6, self.style.font_px)
        colour = model_colour(1)
        lost_all = sum(self._draw_arm(index, arm, top, size, colour) for index, arm in enumerate(arms))
        if not solved:
            # At log10(1) = 0: the y axis is in log10 units, and an InfiniteLine is not transformed.
            pen = pg.mkPen(self.style.theme.muted, width=self.style.thin_width, style=Qt.PenStyle.DotLine)
            baseline = pg.InfiniteLine(pos=0.0, angle=0, pen=pen)
            self._add("baseline", baseline)
        plot.getAxis("bottom").setTicks([[(index, arm.label) for index, arm in enumerate(arms)]])
        plot.setXRange(-0.6, len(arms) - 0.4, padding=0)
        low = min(finite) if finite else 0.1
        high = top if lost_all or not finite else max(finite)
        plot.setYRange(math.log10(low) - 0.2, math.log10(high) + 0.2, padding=0)
        plot.getAxis("left").setTicks([log_ticks(low / 1.6, high * 1.6)])
        self._key_and_caption(results, arms, solved, lost_all, colour)

    def _draw_arm(self, index: int, arm: points.ArmPoints, top: float, size: float, colour: str) -> int:
        """One arm at ``index``: its seeds (a lost one at ``top``), median, range and the paper's
        star. Returns how many of its seeds were lost."""
        x = index - SPREAD if math.isfinite(arm.paper) else index
        # Seeds side by side (a little apart), so that equal scores do not hide each other.
        spread = x + SPREAD * 0.5 * (np.arange(arm.seeds.size) - (arm.seeds.size - 1) / 2) / max(arm.seeds.size, 1)
        finite_seeds = np.isfinite(arm.seeds)
        if finite_seeds.any():
            self._scatter("seeds", spread[finite_seeds], arm.seeds[finite_seeds], "o", colour, 0.6 * size,
                          filled=False)
        lost = int((~finite_seeds).sum())
        if lost:
            self._scatter("lost", spread[~finite_seeds], np.full(lost, top), "x", LOST_COLOUR, size)
        if math.isfinite(arm.low):
            self._add("range", pg.PlotDataItem([x, x], [arm.low, arm.high],
                                               pen=pg.mkPen(colour, width=self.style.line_width)))
        if math.isfinite(arm.median):
            self._scatter("median", [x], [arm.median], "d", colour, 1.4 * size)
        if math.isfinite(arm.paper):
            self._scatter("paper", [index + SPREAD], [arm.paper], "star", PAPER_COLOUR, 2 * size)
        return lost

    def _key_and_caption(self, results: ReproductionResults, arms: list[points.ArmPoints], solved: bool, lost_all: int,
                         colour: str) -> None:
        """The key (only what is drawn) and the caption: the paper's numbers and what gradviz ran."""
        figure = self.figure
        entries = [("\u2605", PAPER_COLOUR, points.cite(results))] if "paper" in self.items else []
        if "median" in self.items:
            entries.append(("\u25c6", colour, "gradviz, median (bar: range over seeds)"))
        if "seeds" in self.items:
            entries.append(("\u25cb", colour, "one seed"))
        if lost_all:
            entries.append(("\u00d7", LOST_COLOUR, f"{'not solved' if solved else 'diverged'} ({lost_all} "
                                                  f"seed{'s' if lost_all != 1 else ''})"))
        self._key(entries)
        counts = sorted({len(arm.seeds) for arm in arms})
        seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
        papers = "; ".join(f"{arm.label}: {arm.paper_said}" for arm in arms if arm.paper_said)
        cap = results.reproduction.arms[0].steps * results.config((0, 0)).task.batch
        limit = (f" A seed not solved within {cap:,} sequences is drawn at the top."
                 if solved else (" The dotted line is the memoryless baseline (1x)."
                                 + (" A diverged seed is drawn at the top." if lost_all else "")))
        seeds = f"{seeds} seed{'s' if counts != [1] else ''} per arm" if counts[-1] else "no run finished yet"
        figure.set_caption(f"{points.cite(results)}: {papers}. gradviz: {seeds}.{limit}")


def log_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Ticks at 1, 2 and 5 times a power of ten from ``low`` to ``high``, placed in log10 units
    (the axis is logarithmic) and written as numbers are said: 0.5, 1, 20, 50k, 200k; every
    digit (and 1.2, 1.5) where those would be fewer than three."""
    for factors in ((1, 2, 5), (1, 1.2, 1.5, 2, 3, 4, 5, 6, 7, 8, 9)):  # finer where 1, 2, 5 leave under three
        ticks = []
        for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
            for factor in factors:
                value = factor * 10.0**power
                if low <= value <= high:
                    text = f"{value / 1000:g}k" if value >= 10_000 else f"{value:g}"
                    ticks.append((math.log10(value), text))
        if len(ticks) >= 3:
            break
    return ticks


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
