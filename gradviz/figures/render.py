"""Lay plots out for a destination and write them: PNG, SVG, PDF, or the data as CSV/NPZ.

The figure is exactly ``size`` pixels at ``fmt.dpi`` (times ``scale`` for a PNG); an SVG or
PDF has the same size in inches, so rendered at the PNG's size it draws the same picture.
Files are written atomically: a failed export leaves no half-written file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from gradviz.figures.data import RunView
from gradviz.figures.fit import Fitting
from gradviz.figures.layout import layout_report
from gradviz.figures.plots import FLAT_LABEL, GATE_TITLES, GRAD_H, PLOTS, draw
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


def _caption(text: str) -> str:
    return text[0].upper() + text[1:]


def _ylabel(fitting: Fitting, ax) -> None:
    """The y title and its shorter wordings: without ", log scale" (the ticks say it), then
    its first words."""
    label = ax.get_ylabel()
    if label:
        plain = label.removesuffix(", log scale")
        fitting.ylabel(ax, [label, plain, plain.split(",")[0], plain.split(" (")[0]])


def _models_label(view: RunView, models: list[int]) -> str:
    return ", ".join(view.models[m].label for m in models)


def single_plot(view: RunView, kind: str, size: tuple[int, int], fmt: FigureFormat, theme: FigureTheme,
                models: list[int] | None = None) -> tuple[Figure, dict, Fitting]:
    """Plot ``kind`` of ``models`` (default all): together in one axes, or side by side."""
    models = list(range(len(view.models))) if models is None else models
    figure = _figure(size, fmt)
    fitting = Fitting(figure)
    plot = PLOTS[kind]
    data: dict = {}
    if plot.together:
        ax = figure.subplots()
        data = draw(ax, kind, view, models, theme)
        fitting.plot(ax, kind, _models_label(view, models))
        _ylabel(fitting, ax)
        if ax.get_legend():
            fitting.legend(ax.get_legend(), lambda: _legend_below(figure, [ax], fitting))
    else:
        axes = figure.subplots(1, len(models), squeeze=False)[0]
        for ax, m in zip(axes, models, strict=True):
            drawn = draw(ax, kind, view, [m], theme, colourbar=False)
            data |= {f"{view.models[m].label}/{key}": value for key, value in drawn.items()}
            titles = _model_titles(view, kind, m)
            ax.set_title(titles[0], color=model_colour(m), fontweight="bold")
            fitting.plot(ax, kind, view.models[m].label)
            fitting.title(ax.title, titles)
            if kind == "gates":  # gates and states have scales of their own: a bar under each
                _colour_bar(figure, ax.images[0], ax, fitting, _row_titles(view, "gates", m), "bottom")
        if kind == "history":
            _history_bars(figure, list(axes), view, models, fitting, [f"log10 {GRAD_H}", "log10"], "bottom")
        _ylabel(fitting, axes[0])
        for ax in axes[1:]:
            ax.set_ylabel("")  # the same quantity as the first plot's, which names it
        if kind in ("grad_norms", "gate_means"):
            fitting.share_y(_still_training(list(axes), view, models))  # one height, one value
        _legend_below(figure, axes, fitting)
    title = f"{plot.title}, step {view.step}"
    figure.suptitle(title, color=theme.foreground)
    # A paper's caption belongs under the figure: where the caption does not fit in two lines, it goes.
    fitting.title(figure._suptitle, [f"{title}: {plot.caption}", title])
    return figure, data, fitting


def _legend_below(figure: Figure, axes, fitting: Fitting) -> None:
    """One legend below the plots instead of one inside each (or one that covers a line)."""
    entries: dict[str, object] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        entries |= {label: handle for handle, label in zip(handles, labels, strict=True) if label not in entries}
        if ax.get_legend():
            ax.get_legend().remove()
    if entries:
        fitting.figure_legend(lambda columns: figure.legend(list(entries.values()), list(entries), frameon=False,
                                                            loc="outside lower center", ncols=columns),
                              min(6, len(entries)))


def _legend_above(ax, fitting: Fitting) -> None:
    """A legend that covered a line, moved above its plot: the plot's title becomes its title
    (the layout makes room; beside the plot it would narrow the whole column)."""
    handles, labels = ax.get_legend_handles_labels()
    ax.get_legend().remove()
    title = ax.get_title()
    ax.set_title("")
    fitting.forget(ax.title)
    fitting.figure_legend(
        lambda columns: ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), borderaxespad=0.2,
                                  ncols=columns, fontsize="small", handlelength=1.2, columnspacing=0.8, frameon=False,
                                  title=title, title_fontsize="medium"),
        len(labels), room=lambda: ax.get_window_extent().width)


def full_figure(view: RunView, size: tuple[int, int], fmt: FigureFormat,
                theme: FigureTheme) -> tuple[Figure, Fitting]:
    """Every model's column of plots, as the window shows them (the rows of ``fmt``). The loss
    and the gradient rows share one y range that holds every model's data (the history its
    colour bar), so the same height means the same value in every column; only the first
    column names the y axis."""
    figure = _figure(size, fmt)
    fitting = Fitting(figure)
    rows, count = fmt.full_rows, len(view.models)
    # The diagnostics row holds three plots per model, each with a title: it needs the height.
    # The loss and the gradient carry the story: they get the height first.
    heights = [{"loss": 1.2, "gradient": 1.3, "gates": 0.85, "gate_means": 0.9, "diagnostics": 1.6}.get(row, 1.0)
               for row in rows]
    grid = figure.add_gridspec(len(rows), count, height_ratios=heights)
    row_axes: list[list] = []
    for r, row in enumerate(rows):
        if row == "diagnostics":
            for m in range(count):
                cells = grid[r, m].subgridspec(1, 3, wspace=0.08)
                for c, kind in enumerate(DIAGNOSTICS):
                    ax = figure.add_subplot(cells[0, c])
                    draw(ax, kind, view, [m], theme)
                    _tidy(ax, keep_y=False)
                    ax.set_xlabel("")  # the title says it: three small plots need the height
                    titles = _diagnostic_titles(ax, kind)
                    ax.set_title(titles[0], fontsize="medium")
                    fitting.plot(ax, kind, view.models[m].label)
                    fitting.title(ax.title, titles)
            continue
        axes = [figure.add_subplot(grid[r, m]) for m in range(count)]
        row_axes.append(axes)
        images = []
        for m, ax in enumerate(axes):
            draw(ax, row, view, [m], theme, colourbar=False)
            images += ax.images
            titles = _column_titles(view, m) if r == 0 else _row_titles(view, row, m)
            _tidy(ax, keep_y=m == 0, legend=row == "gate_means")
            fitting.plot(ax, row, view.models[m].label)
            if row == "gates":  # a bar above each (gates and states have scales of their own), named
                _colour_bar(figure, ax.images[0], ax, fitting, titles)
            elif row != "history":  # the history's bar above the row names it
                ax.set_title(titles[0], fontsize="medium")
                fitting.title(ax.title, titles)
            if m == 0:
                _ylabel(fitting, ax)
            if row == "gate_means" and ax.get_legend():
                fitting.legend(ax.get_legend(), lambda ax=ax: _legend_above(ax, fitting))
            if r == 0:
                ax.title.set_color(model_colour(m))
                ax.title.set_fontweight("bold")
        if row in ("loss", "gradient", "gate_means"):  # one height, one value in every column
            fitting.share_y(_still_training(axes, view, range(count)))
        if row == "history" and images:
            _history_bars(figure, axes, view, range(count), fitting,
                          [f"gradient history: log10 {GRAD_H}", f"history: log10 {GRAD_H}", f"log10 {GRAD_H}"])
    if fmt.name != "screen":  # rows over one x axis: the lowest names it (no height to spare)
        for upper, lower in zip(row_axes, row_axes[1:], strict=False):
            if upper[0].get_xlabel() == lower[0].get_xlabel():
                for ax in upper:
                    ax.set_xlabel("")
    trained = max((int(series.train_step[-1]) + 1 for series in view.models if len(series.train_step)), default=0)
    task = f"{view.task_title}, T = {view.timesteps}"
    figure.suptitle(task)
    fitting.title(figure._suptitle, [f"{task}: {trained} training steps, gradients at step {view.step}",
                                     f"{task}: gradients at step {view.step}",
                                     f"T = {view.timesteps}, step {view.step}"])
    return figure, fitting


def _still_training(axes: list, view: RunView, models) -> list:
    """The plots of ``models`` that did not diverge: they share a scale; a diverged model's 1e35
    would flatten theirs, so its plots keep their own (as in the window)."""
    return [ax for ax, m in zip(axes, models, strict=True) if not view.models[m].diverged]


def _history_bars(figure: Figure, axes: list, view: RunView, models, fitting: Fitting, titles: list[str],
                  where: str = "top") -> None:
    """The gradient history's colour bars: one for the models that still train (one scale), and
    one of its own beside each model that diverged (``plots.gradient_levels``)."""
    models = list(models)
    shared = _still_training(axes, view, models)
    if shared:
        _colour_bar(figure, shared[0].images[0], shared, fitting, titles, where)
    for ax, m in zip(axes, models, strict=True):
        if view.models[m].diverged:
            _colour_bar(figure, ax.images[0], ax, fitting, [f"{titles[-1]}, own scale", titles[-1]], where)


def _colour_bar(figure: Figure, image, axes, fitting: Fitting, titles: list[str], where: str = "top") -> None:
    """A colour bar above (or below) ``axes``, named by the first of ``titles`` that fits:
    beside them it would take width from every row of a column (a paper column has none)."""
    spans = len(axes) if isinstance(axes, list) else 1
    bar = figure.colorbar(image, ax=axes, location=where, pad=0.03, fraction=0.08, aspect=60 * spans, shrink=0.9)
    bar.outline.set_visible(False)
    bar.set_label(titles[0], fontsize="medium")
    fitting.colourbar(bar.ax)
    fitting.title(bar.ax.xaxis.label, titles, width=lambda: bar.ax.get_window_extent().width)


def _tidy(ax, keep_y: bool, legend: bool = False) -> None:
    """A cell of the full figure: a title instead of a legend (unless ``legend``: the gate
    means' colours need their names), the y title on the first column only."""
    if ax.get_legend() and legend:
        ax.legend(ncols=2, fontsize="small", loc="best", handlelength=1.2, columnspacing=0.8)
    elif ax.get_legend():
        ax.get_legend().remove()
    if not keep_y:
        ax.set_ylabel("")
    if ax.get_xlabel().startswith("timestep"):
        ax.set_xlabel("timestep t")


ONE_RECORD = ("gradient", "gates", "gate_means")  # plots of the record shown, not of the history


def _at_shown_step(titles: list[str], view: RunView, kind: str, m: int) -> list[str]:
    """``titles`` (longest first), with the step a plot of one record is of where that is not
    the figure's (a diverged model's last finite record)."""
    shown = view.models[m].shown_step
    if kind not in ONE_RECORD or shown == view.step:
        return titles
    return [f"{titles[0]}, step {shown}, its last finite", *(f"{title}, step {shown}" for title in titles)]


def _model_titles(view: RunView, kind: str, m: int) -> list[str]:
    """A per-model plot's title: the model, and the step of a plot of one record (above)."""
    return _at_shown_step([view.models[m].label], view, kind, m)


def _diagnostic_titles(ax, kind: str) -> list[str]:
    """A small plot's title, then shorter; the half-life's says what its marks along the top
    are where it has any (flat records: no key fits in these plots)."""
    title = SHORT_TITLES[kind]
    titles = [title, title.split(" (")[0]]
    if kind == "half_life" and any(line.get_label().endswith(FLAT_LABEL) for line in ax.get_lines()):
        titles = [f"{title}; \u25b2 flat", f"{titles[1]}; \u25b2 flat", titles[1]]
    return titles


def _row_titles(view: RunView, row: str, m: int) -> list[str]:
    """A row's title in a cell, then shorter; for a model that diverged before the step shown,
    with the step its profile, gates and means are of (its last finite record)."""
    return _at_shown_step(_plain_row_titles(view, row, m), view, row, m)


def _plain_row_titles(view: RunView, row: str, m: int) -> list[str]:
    if row == "gates":
        gates = view.models[m].gates
        title = GATE_TITLES.get("forget" if "forget" in gates else next(iter(gates)), "gates")
        return [title, title.split()[-1]]  # "forget gate fₜ", "fₜ"
    if row == "gradient" and view.models[m].grad_c is not None:
        return ["gradient through time; dashed: Cₜ", "gradient; dashed: Cₜ", "dashed: Cₜ"]
    return [SHORT_TITLES[row], SHORT_TITLES[row].split()[0]]


def _column_titles(view: RunView, m: int) -> list[str]:
    """The model's name and its verdict (the loss against the memoryless baseline), then shorter."""
    series = view.models[m]
    loss = recent_loss(series.loss)
    if loss is None:
        return [f"{series.label}: diverged"]
    facts = f"loss {loss:.3g}, {verdict(loss, view.baseline_loss)} baseline {view.baseline_loss:.3g}"
    return [f"{series.label}: {facts}", f"{series.label}\n{facts}", f"{series.label}\nloss {loss:.3g}", series.label]


def render(view: RunView, plot: str | None, theme: FigureTheme, form: FigureFormat, size: tuple[int, int],
           models: list[int] | None = None) -> tuple[Figure, dict, Fitting]:
    """The figure, laid out and fitted to its data (call inside ``rc_context(rc_params(...))``)."""
    if plot:
        figure, data, fitting = single_plot(view, plot, size, form, theme, models)
    else:
        (figure, fitting), data = full_figure(view, size, form, theme), {}
    fitting.fit()
    return figure, data, fitting


def figure_bytes(view: RunView, suffix: str, plot: str | None = None, theme: str = "light",
                 fmt: str = "screen", size: tuple[int, int] | None = None, scale: int = 1,
                 models: list[int] | None = None) -> bytes:
    """The figure as the bytes of a .png, .svg or .pdf file."""
    return figure_and_layout(view, suffix, plot, theme, fmt, size, scale, models, layout=False)[0]


def figure_and_layout(view: RunView, suffix: str, plot: str | None = None, theme: str = "light",
                      fmt: str = "screen", size: tuple[int, int] | None = None, scale: int = 1,
                      models: list[int] | None = None, layout: bool = True) -> tuple[bytes, dict | None]:
    """The figure's bytes and (with ``layout``) its layout report (``layout.layout_report``)."""
    if suffix not in FIGURE_SUFFIXES:
        raise FigureError(f"a figure goes to {', '.join('.' + s for s in FIGURE_SUFFIXES)}, not .{suffix}")
    if scale not in SCALES:
        raise FigureError(f"scale must be one of {', '.join(map(str, SCALES))}, got {scale}")
    if plot is not None and plot not in PLOTS:
        raise FigureError(f"unknown plot {plot!r}; choose one of {', '.join(PLOTS)}")
    form, colours = FORMATS[fmt], FIGURE_THEMES[theme]
    size = size or (form.plot_size if plot else form.size)
    with rc_context(rc_params(colours, form)):
        figure, _, fitting = render(view, plot, colours, form, size, models)
        buffer = io.BytesIO()
        # No creation date in the file: the same run gives the same bytes.
        metadata = {"Date": None} if suffix == "svg" else {"CreationDate": None} if suffix == "pdf" else {}
        figure.savefig(buffer, format=suffix, dpi=form.dpi * (scale if suffix == "png" else 1),
                       metadata=metadata)
        report = layout_report(fitting, scale if suffix == "png" else 1) if layout else None
    return buffer.getvalue(), report


def plot_data(view: RunView, plot: str, models: list[int] | None = None) -> dict[str, np.ndarray]:
    """The arrays plot ``plot`` draws, by '<model label>/<name>'."""
    form, colours = FORMATS["screen"], FIGURE_THEMES["light"]
    with rc_context(rc_params(colours, form)):
        _, data, _ = single_plot(view, plot, form.plot_size, form, colours, models)
    return {key: np.asarray(value) for key, value in data.items()}


def write_figure(view: RunView, path: str | Path, plot: str | None = None, theme: str = "light",
                 fmt: str = "screen", size: tuple[int, int] | None = None, scale: int = 1,
                 models: list[int] | None = None, force: bool = False, layout: str | Path | None = None) -> Path:
    """Write a figure (.png/.svg/.pdf) or, for one plot, its data (.csv/.npz), atomically; with
    ``layout`` also the figure's layout report (JSON, replaced if it exists, as the window's)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise FigureError(f"cannot export to '.{suffix}': use one of {', '.join('.' + s for s in SUFFIXES)}")
    if suffix in ("csv", "npz"):
        if layout is not None:
            raise FigureError("a layout report is made of a figure (.png/.svg/.pdf), not of data")
        if plot is None:
            raise FigureError("data export (.csv/.npz) is per plot: name the plot")
        data = plot_data(view, plot, models)
        if suffix == "npz":
            return save_arrays(path, data, force=force)
        text = table_csv(data)
        return atomic_write(path, lambda stream: stream.write(text.encode("utf-8")), force=force)
    data, report = figure_and_layout(view, suffix, plot, theme, fmt, size, scale, models, layout=layout is not None)
    written = atomic_write(path, lambda stream: stream.write(data), force=force)
    if layout is not None:
        text = json.dumps(report, indent=1, ensure_ascii=False).encode("utf-8")
        atomic_write(layout, lambda stream: stream.write(text), force=True)
    return written


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
