"""The layout report of a file figure: where every plot and text is, from matplotlib's renderer.

Like the window's (``gradviz --screenshot --layout``, gui/layout_report.py), so that tests and
authors can prove a figure shows its data: ``gradviz export ... --layout REPORT.json`` writes

    {"size": [w, h],
     "plots": [{"kind", "model", "rect": [x, y, w, h], "visible", "xlim": [a, b], "ylim": [a, b],
                "yscale", "data": [min, max], "xticks": [labels], "yticks": [labels]}],
     "texts": [{"text", "rect": [x, y, w, h], "px"}]}

in pixels of the written image (a PNG's, scale included; top-left origin). A plot's rect is its
data area; ``data`` the min and max of the finite y values it draws (positive ones on a log
axis; None if none). Texts are every visible text: titles, axis titles, legend entries, colour
bar labels, and the tick labels really drawn (visible, labelled, inside the view).
"""

from __future__ import annotations

import re

from matplotlib.figure import Figure
from matplotlib.text import Text

from gradviz.figures.fit import Fitting, shown_tick_labels
from gradviz.figures.ticks import data_range


def layout_report(fitting: Fitting, scale: float = 1.0) -> dict:
    """The report of ``fitting``'s figure as drawn now, at ``scale`` times its own pixels."""
    figure = fitting.figure
    figure.draw_without_rendering()  # where everything is, as the file's own draw puts it
    renderer = fitting.renderer()
    height = figure.bbox.height

    def rect(box) -> list[float]:
        return [round(float(v) * scale, 2) for v in (box.x0, height - box.y1, box.width, box.height)]

    plots = []
    for entry in fitting.plots:
        ax = entry.ax
        visible = ax.get_visible() and ax.get_window_extent(renderer).width > 0
        plots.append({
            "kind": entry.kind, "model": entry.model, "rect": rect(ax.get_window_extent(renderer)),
            "visible": bool(visible), "xlim": sorted(map(float, ax.get_xlim())),
            "ylim": sorted(map(float, ax.get_ylim())), "yscale": ax.get_yscale(),
            "data": [float(v) for v in data_range(ax, "y") or ()] or None,
            "xticks": [readable(label.get_text()) for label in shown_tick_labels(ax, "x")],
            "yticks": [readable(label.get_text()) for label in shown_tick_labels(ax, "y")],
        })
    texts = [{"text": readable(text.get_text()), "rect": rect(text.get_window_extent(renderer)),
              "px": round(text.get_fontsize() * figure.dpi / 72 * scale, 2)} for text in shown_texts(figure)]
    return {"size": [round(figure.bbox.width * scale), round(height * scale)], "plots": plots, "texts": texts}


def shown_texts(figure: Figure) -> list[Text]:
    """Every text the figure draws: tick labels only where drawn (visible, labelled, in view)."""
    ticks, shown = set(), []
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update((id(tick.label1), id(tick.label2)))
        for name in ("x", "y"):
            shown += shown_tick_labels(ax, name)
    for text in figure.findobj(Text):
        if id(text) in ticks or not text.get_text().strip() or not _drawn(text):
            continue
        shown.append(text)
    return shown


def _drawn(text: Text) -> bool:
    """Visible, in a visible axes (findobj walks only what the figure holds: a removed legend's
    texts are not found)."""
    return text.get_visible() and (text.axes is None or text.axes.get_visible())


def readable(text: str) -> str:
    """Mathtext as a reader sees it: '$\\mathdefault{10^{-3}}$' -> '10^-3'."""
    text = text.replace(r"\mathdefault", "").replace(r"\times", "×").replace("$", "")
    text = re.sub(r"\^\{([^{}]*)\}", r"^\1", text)
    return text.replace("{", "").replace("}", "")
