"""Lay plots out for a destination and write them: PNG, SVG, PDF, or the data as CSV/NPZ.

The figure is exactly ``size`` pixels at ``fmt.dpi`` (times ``scale`` for a PNG); an SVG or
PDF has the same size in inches, so rendered at the PNG's size it draws the same picture.
Files are written atomically: a failed export leaves no half-written file.
"""

from __future__ import annotations

import csv
import io
import textwrap
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gradviz.figures.data import RunView
from gradviz.figures.plots import GATE_TITLES, GRAD_H, PLOTS, draw
from gradviz.figures.style import FIGURE_THEMES, FORMATS, FigureFormat, FigureTheme, model_colour, rc_params
from gradviz.io.atomic import atomic_write
from gradviz.io.runfile import save_arrays
from gradviz.plotmath import recent_loss, verdict

FIGURE_SUFFIXES = ("png", "svg", "pdf")
SUFFIXES = (*FIGURE_SUFFIXES, "csv", "npz")
SCALES = (1, 2, 4)
# Never let the last pixel round away: matplotlib truncates width x dpi to whole pixels.
_EPSILON_PX = 1e-3
DIAGNOSTICS = ("grad_norms", "spectral_radius", "half_life")
SHORT_TITLES = {"loss": "loss", "gradient": "gradient through time", "history": "gradient history",
                "gates": "gate activations", "gate_means": "gate means", "grad_norms": "gradient norms (log)",
                "spectral_radius": "gradient factor per step", "half_life": "half-life (timesteps)"}


class FigureError(ValueError):
    """A figure that cannot be made as asked; the message says why."""


def _figure(size: tuple[int, int], fmt: FigureFormat) -> Figure:
    width, height = size
    inches = ((width + _EPSILON_PX) / fmt.dpi, (height + _EPSILON_PX) / fmt.dpi)
    figure = Figure(figsize=inches, dpi=fmt.dpi, layout="constrained")
    pad = 4 / 72 if fmt.name == "paper" else 6 / 72
    figure.get_layout_engine().set(w_pad=pad, h_pad=pad, wspace=0.04, hspace=0.04)
    return figure


def _wrap(text: str, figure: Figure, font_pt: float) -> str:
    """Wrap a title to the figure's width (about 0.55 em per character)."""
    characters = max(20, int(figure.get_figwidth() * 72 / (font_pt * 0.55)))
    return "\n".join(textwrap.wrap(text, characters))


def _caption(text: str) -> str:
    return text[0].upper() + text[1:]


def single_plot(view: RunView, kind: str, size: tuple[int, int], fmt: FigureFormat, theme: FigureTheme,
                models: list[int] | None = None) -> tuple[Figure, dict]:
    """Plot ``kind`` of ``models`` (default all): together in one axes, or side by side."""
    models = list(range(len(view.models))) if models is None else models
    figure = _figure(size, fmt)
    plot = PLOTS[kind]
    data: dict = {}
    if plot.together:
        ax = figure.subplots()
        data = draw(ax, kind, view, models, theme)
    else:
        axes = figure.subplots(1, len(models), squeeze=False)[0]
        for ax, m in zip(axes, models, strict=True):
            drawn = draw(ax, kind, view, [m], theme)
            data |= {f"{view.models[m].label}/{key}": value for key, value in drawn.items()}
            ax.set_title(view.models[m].label, color=model_colour(m), fontweight="bold")
        for ax in axes[1:]:
            ax.set_ylabel("")  # the same quantity as the first plot's, which names it
            if kind == "grad_norms":
                ax.sharey(axes[0])
        _shared_legend(figure, axes, fmt)
    title = f"{plot.title}, step {view.step}: {plot.caption}"
    figure.suptitle(_wrap(title, figure, fmt.font_pt + 2), color=theme.foreground)
    return figure, data


def _shared_legend(figure: Figure, axes, fmt: FigureFormat) -> None:
    """One legend below side-by-side axes instead of one inside each (they crowd a narrow plot)."""
    entries: dict[str, object] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        entries |= {label: handle for handle, label in zip(handles, labels, strict=True) if label not in entries}
        if ax.get_legend():
            ax.get_legend().remove()
    if entries:
        columns = 2 if fmt.name == "paper" else 6
        figure.legend(list(entries.values()), list(entries), loc="outside lower center",
                      ncols=min(columns, len(entries)), frameon=False)


def full_figure(view: RunView, size: tuple[int, int], fmt: FigureFormat, theme: FigureTheme) -> Figure:
    """Every model's column of plots, as the window shows them (the rows of ``fmt``). Rows share
    their y axis (and the gradient history its colour bar), so the same height means the same
    value in every column; only the first column names the y axis."""
    figure = _figure(size, fmt)
    rows, count = fmt.full_rows, len(view.models)
    heights = [{"gate_means": 0.9, "diagnostics": 1.2}.get(row, 1.0) for row in rows]
    grid = figure.add_gridspec(len(rows), count, height_ratios=heights)
    compact = fmt.name == "paper"
    for r, row in enumerate(rows):
        if row == "diagnostics":
            for m in range(count):
                cells = grid[r, m].subgridspec(1, 3, wspace=0.08)
                for c, kind in enumerate(DIAGNOSTICS):
                    ax = figure.add_subplot(cells[0, c])
                    draw(ax, kind, view, [m], theme)
                    _tidy(ax, SHORT_TITLES[kind], keep_y=False, nbins=3)
                    ax.set_xlabel("")  # the title says it: three small plots need the height
                    if ax.get_yscale() == "linear":
                        ax.yaxis.set_major_locator(MaxNLocator(nbins=3))
            continue
        axes = [figure.add_subplot(grid[r, m]) for m in range(count)]
        images = []
        for m, ax in enumerate(axes):
            draw(ax, row, view, [m], theme, colourbar=row == "gates")
            if row == "gates":
                figure.axes[-1].set_ylabel("")  # its colour bar: the title names the gate
            images += ax.images
            if m and row in ("loss", "gradient", "history"):
                ax.sharey(axes[0])  # the same height means the same value in every column
            title = _column_title(view, m, compact) if r == 0 else _row_title(view, row, m)
            _tidy(ax, title, keep_y=m == 0, nbins=3 if compact else None, legend=row == "gate_means")
            if r == 0:
                ax.title.set_color(model_colour(m))
                ax.title.set_fontweight("bold")
        if row == "history" and images:
            bar = figure.colorbar(images[0], ax=axes, pad=0.02, fraction=0.04, aspect=20)
            bar.set_label(f"log10 {GRAD_H}")
            bar.outline.set_visible(False)
    trained = max((int(series.train_step[-1]) + 1 for series in view.models if len(series.train_step)), default=0)
    title = f"{view.task_title}, T = {view.timesteps}: {trained} training steps, gradients at step {view.step}"
    figure.suptitle(_wrap(title, figure, fmt.font_pt + 3))
    return figure


def _tidy(ax, title: str, keep_y: bool, nbins: int | None, legend: bool = False) -> None:
    """A cell of the full figure: a title instead of a legend (unless ``legend``: the gate means'
    colours need their names), y label on the first column only."""
    if ax.get_legend() and legend:
        ax.legend(ncols=4, fontsize="small", loc="best", handlelength=1.2, columnspacing=0.8)
    elif ax.get_legend():
        ax.get_legend().remove()
    ax.set_title(title, fontsize="medium")
    if not keep_y:
        ax.set_ylabel("")
    if ax.get_xlabel().startswith("timestep"):
        ax.set_xlabel("timestep t")
    if nbins:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=nbins, integer=True))


def _row_title(view: RunView, row: str, m: int) -> str:
    if row == "gates":
        gates = view.models[m].gates
        return GATE_TITLES.get("forget" if "forget" in gates else next(iter(gates)), "gates")
    if row == "gradient" and view.models[m].grad_c is not None:
        return "gradient; dashed: Cₜ"
    return SHORT_TITLES[row]


def _column_title(view: RunView, m: int, compact: bool = False) -> str:
    """The model's name and its verdict: the loss against the memoryless baseline."""
    series = view.models[m]
    if compact:
        return series.label
    loss = recent_loss(series.loss)
    if loss is None:
        return f"{series.label}: diverged"
    return f"{series.label}: loss {loss:.3g}, {verdict(loss, view.baseline_loss)} baseline {view.baseline_loss:.3g}"


def figure_bytes(view: RunView, suffix: str, plot: str | None = None, theme: str = "light",
                 fmt: str = "screen", size: tuple[int, int] | None = None, scale: int = 1,
                 models: list[int] | None = None) -> bytes:
    """The figure as the bytes of a .png, .svg or .pdf file."""
    if suffix not in FIGURE_SUFFIXES:
        raise FigureError(f"a figure goes to {', '.join('.' + s for s in FIGURE_SUFFIXES)}, not .{suffix}")
    if scale not in SCALES:
        raise FigureError(f"scale must be one of {', '.join(map(str, SCALES))}, got {scale}")
    if plot is not None and plot not in PLOTS:
        raise FigureError(f"unknown plot {plot!r}; choose one of {', '.join(PLOTS)}")
    form, colours = FORMATS[fmt], FIGURE_THEMES[theme]
    size = size or (form.plot_size if plot else form.size)
    with rc_context(rc_params(colours, form)):
        if plot:
            figure, _ = single_plot(view, plot, size, form, colours, models)
        else:
            figure = full_figure(view, size, form, colours)
        buffer = io.BytesIO()
        # No creation date in the file: the same run gives the same bytes.
        metadata = {"Date": None} if suffix == "svg" else {"CreationDate": None} if suffix == "pdf" else {}
        figure.savefig(buffer, format=suffix, dpi=form.dpi * (scale if suffix == "png" else 1),
                       metadata=metadata)
    return buffer.getvalue()


def plot_data(view: RunView, plot: str, models: list[int] | None = None) -> dict[str, np.ndarray]:
    """The arrays plot ``plot`` draws, by '<model label>/<name>'."""
    form, colours = FORMATS["screen"], FIGURE_THEMES["light"]
    with rc_context(rc_params(colours, form)):
        _, data = single_plot(view, plot, form.plot_size, form, colours, models)
    return {key: np.asarray(value) for key, value in data.items()}


def write_figure(view: RunView, path: str | Path, plot: str | None = None, theme: str = "light",
                 fmt: str = "screen", size: tuple[int, int] | None = None, scale: int = 1,
                 models: list[int] | None = None, force: bool = False) -> Path:
    """Write a figure (.png/.svg/.pdf) or, for one plot, its data (.csv/.npz), atomically."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise FigureError(f"cannot export to '.{suffix}': use one of {', '.join('.' + s for s in SUFFIXES)}")
    if suffix in ("csv", "npz"):
        if plot is None:
            raise FigureError("data export (.csv/.npz) is per plot: name the plot")
        data = plot_data(view, plot, models)
        if suffix == "npz":
            return save_arrays(path, data, force=force)
        text = table_csv(data)
        return atomic_write(path, lambda stream: stream.write(text.encode("utf-8")), force=force)
    data = figure_bytes(view, suffix, plot, theme, fmt, size, scale, models)
    return atomic_write(path, lambda stream: stream.write(data), force=force)


def table_csv(data: dict[str, np.ndarray]) -> str:
    """1-D arrays as columns (padded to the longest); 2-D arrays as their own blocks below."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = {k: np.ravel(v) for k, v in data.items() if np.ndim(v) <= 1}
    if columns:
        writer.writerow(list(columns))
        rows = max(len(v) for v in columns.values())
        for i in range(rows):
            writer.writerow(["" if i >= len(v) else _cell(v[i]) for v in columns.values()])
    for key, matrix in data.items():
        if np.ndim(matrix) == 2:
            writer.writerow([])
            writer.writerow([f"{key} ({matrix.shape[0]} rows x {matrix.shape[1]} columns)"])
            writer.writerows([[_cell(x) for x in row] for row in matrix])
    return out.getvalue()


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    return str(value)
