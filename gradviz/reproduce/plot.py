"""A reproduction's figure: per arm, every seed's number (dots), their median (a bar) and the
paper's number (a star) where the paper gives one.

Drawn with matplotlib's object API, headless (as ``sweep/plot.py``); the format follows the
file's suffix. Table 7's axis is training sequences; the others' is the final loss over the
task's memoryless baseline, both on log scales (a diverged run is drawn as an x at the top).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

from gradviz.io.atomic import atomic_write
from gradviz.reproduce.papers import SUCCESS
from gradviz.reproduce.results import ReproductionResults
from gradviz.reproduce.scoring import SOLVED
from gradviz.sweep.plot import FORMATS


def plot_reproduction(results: ReproductionResults, path: str | os.PathLike) -> Path:
    """Write the figure to ``path`` (.png, .svg or .pdf), atomically, replacing it."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"the figure must be .png, .svg or .pdf, got {target.name!r}")
    reproduction = results.reproduction
    arms = reproduction.arms
    figure = Figure(figsize=(max(4.8, 1.1 * len(arms) + 2), 4.0), layout="constrained")
    axes = figure.add_subplot()
    solved = arms[0].score == SOLVED
    values = [results.values(index) for index in range(len(arms))]
    finite = np.concatenate([v[np.isfinite(v)] for v in values] + [np.array([a.paper_value for a in arms])])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    top = float(finite.max()) * 3 if finite.size else 10.0
    for index, (arm, seeds) in enumerate(zip(arms, values, strict=True)):
        shown = np.where(np.isfinite(seeds), seeds, top)  # never solved or diverged: at the top
        axes.scatter(np.full(len(seeds), index), shown, marker="o", color="#1f77b4", zorder=3,
                     label="gradviz, one seed")
        lost = ~np.isfinite(seeds)
        if lost.any():
            axes.scatter(np.full(int(lost.sum()), index), shown[lost], marker="x", s=80, color="#d62728", zorder=4,
                         label="not solved" if solved else "diverged")  # the legend keeps one of each
        if len(seeds):
            median = float(np.median(np.where(np.isfinite(seeds), seeds, math.inf)))
            if math.isfinite(median):
                axes.hlines(median, index - 0.3, index + 0.3, color="#1f77b4", linewidth=3, label="gradviz, median")
        if math.isfinite(arm.paper_value):
            axes.scatter([index], [arm.paper_value], marker="*", s=220, color="#ff7f0e", zorder=5, label="paper")
    if not solved:
        axes.axhline(1.0, color="grey", linestyle=":", linewidth=1)  # the memoryless baseline
        if reproduction.name == "bengio1994":
            axes.axhline(SUCCESS, color="grey", linestyle="--", linewidth=1)
    axes.set_yscale("log")
    axes.set_xticks(range(len(arms)), [arm.label for arm in arms], rotation=30 if len(arms) > 3 else 0,
                    ha="right" if len(arms) > 3 else "center", fontsize=8)
    axes.set_xlim(-0.6, len(arms) - 0.4)
    axes.set_ylabel("training sequences until solved" if solved else "final loss / memoryless baseline")
    axes.grid(True, axis="y", alpha=0.3)
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    axes.legend(unique.values(), unique.keys(), loc="best", frameon=False, fontsize=8)
    seeds = results.seeds
    quick = " (--quick)" if reproduction.quick else ""
    axes.set_title(f"{reproduction.title}{quick}\n{seeds} seed{'s' if seeds > 1 else ''} per arm", fontsize=9)
    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        figure.savefig(buffer, format=suffix.lstrip("."), dpi=150)
    data = buffer.getvalue()
    return atomic_write(target, lambda stream: stream.write(data), force=True)
