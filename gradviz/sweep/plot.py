"""The trainability figure: success rate against sequence length T, one line per cell.

Drawn with matplotlib's object API on the Agg/SVG/PDF canvases (no pyplot, no GUI backend),
so it works headless and without Qt; the format follows the file's suffix.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from gradviz.io.atomic import atomic_write
from gradviz.palette import MODEL_COLOURS
from gradviz.sweep.results import SweepResults

FORMATS = (".png", ".svg", ".pdf")
MARKERS = ("o", "s", "^")  # told apart without colour too


def plot_sweep(results: SweepResults, path: str | os.PathLike, force: bool = True) -> Path:
    """Write the figure to ``path`` (.png, .svg or .pdf), atomically."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"the figure must be .png, .svg or .pdf, got {target.name!r}")
    config = results.config
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    axes = figure.add_subplot()
    lengths = results.seq_lens
    finished = results.done.sum(axis=2)
    for index, (label, rates) in enumerate(zip(config.labels, results.success, strict=True)):
        shown = ~np.isnan(rates)
        # Later lines are thinner with smaller markers: where two cells score the same, both show.
        axes.plot(lengths[shown], rates[shown], marker=MARKERS[index], markersize=10 - 2.5 * index,
                  linewidth=3.5 - index, color=MODEL_COLOURS[index % len(MODEL_COLOURS)], label=label)
    axes.set_xscale("log")
    axes.set_xticks(lengths, [str(t) for t in lengths])
    axes.minorticks_off()
    axes.set_ylim(-0.04, 1.04)
    axes.set_xlabel("sequence length T (steps the dependency spans)")
    axes.set_ylabel("success rate")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", frameon=False)
    partial = "" if results.complete else f"  (partial: {int(finished.sum())} of {results.done.size} runs)"
    axes.set_title(
        f"{config.task} task, {config.steps} training steps, {config.seeds} seeds per point{partial}\n"
        f"success: final loss below {config.threshold.describe()}",
        fontsize=9,
    )
    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):  # text stays editable text
        figure.savefig(buffer, format=suffix.lstrip("."), dpi=150)
    data = buffer.getvalue()
    return atomic_write(target, lambda stream: stream.write(data), force=force)
