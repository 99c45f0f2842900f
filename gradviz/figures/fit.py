"""Fit a drawn figure to its data and to its size, measured with matplotlib's own renderer.

The plot functions draw; a ``Fitting`` then makes the figure read well at the size it will be
written, by measuring rather than guessing (a 3.5-inch paper column has room for less than a
1920-pixel slide, and only the renderer knows how wide "3000" is at 8 pt):

- each plot's y range holds all of its finite data (``ticks.data_range``); plots of one row that
  compare models share one range that holds every one of them;
- each axis gets as many round, labelled ticks (3 to 6) as fit without touching;
- titles take the longest of their wordings that wraps into at most two lines, y titles the
  longest that fits beside their plot (so titles of neighbouring rows never overlap);
- a legend inside a plot that covers a line moves outside the data.

    fitting = Fitting(figure)
    fitting.plot(ax, "loss", "tanh RNN, LSTM")    # what the layout report calls each axes
    fitting.title(ax.title, [long, short])
    fitting.fit()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FixedLocator, LogLocator, NullFormatter, NullLocator
from matplotlib.transforms import Bbox

from gradviz.figures.ticks import MAX_TICKS, MIN_TICKS, data_range, limits, nice_ticks, tick_label

MAX_TITLE_LINES = 2
_ROUNDS = 3  # ticks change label widths, which move the layout: measure again, at most this often


@dataclass
class PlotAxes:
    """One plot of the figure: its axes, what it shows and whose data (for the layout report)."""

    ax: Axes
    kind: str
    model: str
    fixed_y: bool = False  # a heatmap: its extent is its range
    most: dict = field(default_factory=lambda: {"x": MAX_TICKS, "y": MAX_TICKS})


@dataclass
class Wording:
    """A text with its wordings, longest first; ``width`` gives the room it has (pixels)."""

    text: Text
    candidates: list[str]
    width: Callable[[], float]
    rotated: bool = False


class Fitting:
    """The plots of one figure and their texts' wordings; ``fit`` lays them out."""

    def __init__(self, figure: Figure):
        self.figure = figure
        FigureCanvasAgg(figure)  # the renderer that measures; savefig switches canvases as it needs
        self.plots: list[PlotAxes] = []
        self.shared: list[list[Axes]] = []
        self.bars: list[PlotAxes] = []
        self.wordings: list[Wording] = []
        self.legends: list[tuple[Legend, Callable[[], None]]] = []
        self.figure_legends: list[list] = []  # [legend, make(columns) -> legend, room() -> pixels]

    # ---- what the figure holds ------------------------------------------------------------

    def plot(self, ax: Axes, kind: str, model: str) -> PlotAxes:
        entry = PlotAxes(ax, kind, model, fixed_y=bool(ax.images))
        self.plots.append(entry)
        return entry

    def colourbar(self, ax: Axes) -> None:
        """A horizontal colour bar: as many round ticks as fit its width."""
        self.bars.append(PlotAxes(ax, "colourbar", "", fixed_y=True, most={"x": MAX_TICKS, "y": 0}))

    def share_y(self, axes: list[Axes]) -> None:
        """These plots show one quantity side by side: one y range that holds all of them."""
        self.shared.append(list(axes))

    def title(self, text: Text, candidates: list[str], width: Callable[[], float] | None = None) -> None:
        """``text`` takes the first of ``candidates`` that wraps into two lines of ``width``
        pixels (default: its axes' width, or the figure's)."""
        if width is None:
            axes = text.axes
            width = (lambda: axes.get_window_extent().width) if axes is not None else self._figure_width
        self.wordings.append(Wording(text, [c for c in candidates if c], width))

    def forget(self, text: Text) -> None:
        """``text`` is no longer shown (its content moved elsewhere): leave it empty."""
        self.wordings = [wording for wording in self.wordings if wording.text is not text]

    def ylabel(self, ax: Axes, candidates: list[str]) -> None:
        """A y title: the first of ``candidates`` that fits along the plot's height."""
        self.wordings.append(Wording(ax.yaxis.label, [c for c in candidates if c],
                                     lambda: ax.get_window_extent().height, rotated=True))

    def legend(self, legend: Legend, move_out: Callable[[], None]) -> None:
        """A legend inside a plot; ``move_out`` puts it outside the data if it covers a line."""
        self.legends.append((legend, move_out))

    def figure_legend(self, make: Callable[[int], Legend], columns: int,
                      room: Callable[[], float] | None = None) -> None:
        """A legend outside the plots, made by ``make(columns)``: in as many columns (up to
        ``columns``) as its room (default: the figure's width) holds."""
        self.figure_legends.append([make(columns), make, room or self._figure_width])

    # ---- fitting --------------------------------------------------------------------------

    def fit(self) -> None:
        self._ranges()
        self._draw()
        for _ in range(_ROUNDS):
            self._ticks()
            self._words()
            self._legend_columns()
            self._draw()
            if self._move_legends():
                self._legend_columns()
                self._draw()
            crowded = self._crowded_axes()
            if not crowded:
                return
            for entry, axis in crowded:
                entry.most[axis] = max(MIN_TICKS, entry.most[axis] - 1)

    def renderer(self):
        return self.figure.canvas.get_renderer()

    def _draw(self) -> None:
        """Lay the figure out (the layout engine runs at each draw) without painting a pixel."""
        self.figure.draw_without_rendering()

    def _figure_width(self) -> float:
        return self.figure.bbox.width * 0.96

    def _groups(self) -> list[list[PlotAxes]]:
        by_ax = {id(entry.ax): entry for entry in self.plots}
        grouped = [[by_ax[id(ax)] for ax in axes if id(ax) in by_ax] for axes in self.shared]
        inside = {id(entry.ax) for group in grouped for entry in group}
        return [group for group in grouped if group] + [[e] for e in self.plots if id(e.ax) not in inside]

    def _ranges(self) -> None:
        """Every plot's y limits from its own data (a shared row's from all of its plots')."""
        for group in self._groups():
            if any(entry.fixed_y for entry in group):
                continue
            log = group[0].ax.get_yscale() == "log"
            ranges = [r for entry in group if (r := data_range(entry.ax, "y")) is not None]
            if not ranges:
                continue
            low, high = limits(min(r[0] for r in ranges), max(r[1] for r in ranges), log)
            for entry in group:
                entry.ax.set_ylim(low, high)

    def _ticks(self) -> None:
        renderer = self.renderer()
        for group in self._groups():
            # A shared row: one set of y ticks, as many as its shortest plot holds.
            most = min(entry.most["y"] for entry in group)
            height = min(entry.ax.get_window_extent(renderer).height for entry in group)
            ticks = self._axis_ticks(group[0].ax, "y", most, renderer, height)
            for entry in group:
                _apply(entry.ax, "y", *ticks)
        for entry in self.plots + self.bars:
            _apply(entry.ax, "x", *self._axis_ticks(entry.ax, "x", entry.most["x"], renderer,
                                                    entry.ax.get_window_extent(renderer).width))

    def _axis_ticks(self, ax: Axes, axis: str, most: int, renderer, length: float):
        """The most round ticks (up to ``most``) whose labels fit ``length`` pixels without touching."""
        log = (ax.get_yscale() if axis == "y" else ax.get_xscale()) == "log"
        low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
        low, high = min(low, high), max(low, high)
        sample = (ax.yaxis if axis == "y" else ax.xaxis).get_major_ticks()[0].label1
        prop = sample.get_fontproperties()
        em = prop.get_size_in_points() * self.figure.dpi / 72
        chosen = None
        for count in range(most, MIN_TICKS - 1, -1):
            ticks, lims = nice_ticks(low, high, log, count)
            labels = [tick_label(t, ticks, log) for t in ticks]
            chosen = ticks, labels, lims, log
            sizes = [renderer.get_text_width_height_descent(s, prop, ismath="$" in s) for s in labels]
            extent = [size[1] if axis == "y" else size[0] for size in sizes]
            where = _positions(ticks, lims, log, length)
            gap = (0.4 if axis == "y" else 1.0) * em  # a word space between numbers
            if all(where[i + 1] - where[i] >= (extent[i] + extent[i + 1]) / 2 + gap for i in range(len(ticks) - 1)):
                break
        return chosen

    def _words(self) -> None:
        renderer = self.renderer()
        for wording in self.wordings:
            room = wording.width()
            if wording.rotated:
                _fit_line(wording, room, renderer)
            else:
                _fit_title(wording, room, renderer)

    def _legend_columns(self) -> None:
        renderer = self.renderer()
        for entry in self.figure_legends:
            legend, make, room = entry
            columns = legend._ncols
            while columns > 1 and legend.get_window_extent(renderer).width > room():
                columns -= 1
                legend.remove()  # a legend lays its entries out once, when made
                legend = entry[0] = make(columns)

    def _move_legends(self) -> bool:
        renderer, moved = self.renderer(), False
        for legend, move_out in list(self.legends):
            if legend.axes is not None and legend.get_visible() and covers(legend, legend.axes, renderer):
                move_out()
                self.legends.remove((legend, move_out))
                moved = True
        return moved

    def _crowded_axes(self) -> list[tuple[PlotAxes, str]]:
        """Axes whose tick labels touch after layout (they are measured before it)."""
        renderer, crowded = self.renderer(), []
        for entry in self.plots + self.bars:
            for axis in ("x", "y") if entry.most["y"] else ("x",):
                boxes = [label.get_window_extent(renderer) for label in shown_tick_labels(entry.ax, axis)]
                if entry.most[axis] > MIN_TICKS and any(a.overlaps(b) for i, a in enumerate(boxes)
                                                       for b in boxes[i + 1:]):
                    crowded.append((entry, axis))
        return crowded


def _positions(ticks: list[float], lims: tuple[float, float], log: bool, length: float) -> list[float]:
    low, high = lims
    if log:
        low, high = np.log10(low), np.log10(high)
        ticks = list(np.log10(ticks))
    return [(t - low) / (high - low) * length for t in ticks]


def _apply(ax: Axes, axis: str, ticks, labels, lims, log) -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    if _widened(ax, axis, lims):  # too narrow a range for three round ticks: widened, never cut
        (ax.set_ylim if axis == "y" else ax.set_xlim)(*lims)
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(FixedFormatter(labels))
    target.set_minor_formatter(NullFormatter())
    decades = log and len(ticks) > 1 and np.isclose(np.log10(ticks[1]) - np.log10(ticks[0]), 1)
    target.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10)) if decades else NullLocator())


def _widened(ax: Axes, axis: str, lims) -> bool:
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    return (min(low, high), max(low, high)) != tuple(lims)


def _wrap(text: Text, words: str, room: float, renderer) -> list[str]:
    """Greedy wrap of ``words`` into lines at most ``room`` pixels wide, measured in ``text``'s
    font; a line break in ``words`` is kept."""
    prop, lines = text.get_fontproperties(), []
    for paragraph in words.split("\n"):
        start = len(lines)
        for word in paragraph.split():
            trial = f"{lines[-1]} {word}" if len(lines) > start else word
            if len(lines) > start and _width(trial, prop, renderer) <= room:
                lines[-1] = trial
            else:
                lines.append(word)
    return lines


def _width(line: str, prop, renderer) -> float:
    return renderer.get_text_width_height_descent(line, prop, ismath="$" in line)[0]


def _fit_title(wording: Wording, room: float, renderer) -> None:
    prop = wording.text.get_fontproperties()
    wording.text.set_multialignment("center")  # two lines of a title centred under each other
    for candidate in wording.candidates:
        lines = _wrap(wording.text, candidate, room, renderer)
        head, comma, tail = candidate.partition(", ")
        if len(lines) == 2 and comma and "\n" not in candidate:
            halves = sorted((_width(head + ",", prop, renderer), _width(tail, prop, renderer)))
            if halves[1] <= room and halves[0] >= 0.4 * halves[1]:
                lines = [head + ",", tail]  # two lines break at the comma, where the sentence pauses
        if len(lines) <= MAX_TITLE_LINES and all(_width(line, prop, renderer) <= room for line in lines):
            wording.text.set_text("\n".join(lines))
            return
    # Nothing fits: the shortest wording in two lines split at its middle word (wider than its
    # room, never cut short).
    words = (wording.candidates[-1] if wording.candidates else "").split()
    half = (len(words) + 1) // 2
    wording.text.set_text("\n".join(part for part in (" ".join(words[:half]), " ".join(words[half:])) if part))


def _fit_line(wording: Wording, room: float, renderer) -> None:
    prop = wording.text.get_fontproperties()
    for candidate in wording.candidates:
        if _width(candidate, prop, renderer) <= room:
            wording.text.set_text(candidate)
            return
    wording.text.set_text(wording.candidates[-1] if wording.candidates else "")


def shown_tick_labels(ax: Axes, axis: str) -> list[Text]:
    """The tick labels ``ax`` draws on ``axis``: visible, with text, inside the view."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    low, high = sorted(target.get_view_interval())
    slack = (high - low) * 1e-6
    shown = []
    for tick in target.get_major_ticks():
        loc = tick.get_loc()
        if loc is None or not (low - slack <= loc <= high + slack):
            continue
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text().strip():
                shown.append(label)
    return shown


def covers(legend: Legend, ax: Axes, renderer) -> bool:
    """Does ``legend`` lie over any line that ``ax`` draws (data or reference line)?"""
    box = legend.get_window_extent(renderer)
    box = Bbox.from_extents(box.x0 - 1, box.y0 - 1, box.x1 + 1, box.y1 + 1)
    for line in ax.lines:
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
        finite = np.isfinite(xy).all(axis=1)
        # Each unbroken run of the line (NaN breaks it, as it breaks the drawn line).
        edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            run = xy[start:stop]
            if len(run) == 1:
                if box.contains(*run[0]):
                    return True
            elif MplPath(run).intersects_bbox(box, filled=False):
                return True
    return False
