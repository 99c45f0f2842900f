"""The backward pass, animated, for slides: an animated GIF or a numbered PNG sequence.

Every model's ``BackwardWave`` is drawn side by side, in sync, on one shared log axis: the
gradient arrives at t = T, T-1, ..., 1, and the newest point carries what multiplies it on
its way one step further back: the measured gain, with the Jacobian's factor beside it (the
tanh RNN's ||dh_t/dh_{t-1}||, the LSTM's f_t on the cell path, the GRU's z_t). Drawn with
matplotlib (Agg), assembled with Pillow (a matplotlib dependency); no Qt.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

from gradviz.io.atomic import atomic_write, check_output
from gradviz.probes.extras import BackwardWave

COLOURS = ("#D55E00", "#0072B2", "#009E73")  # model 1, 2, 3: the app's colours (gui/theme.py)
HOLD_SECONDS = 1.5  # the finished wave stays on screen before a GIF loops


def frame_steps(steps: int, duration: float, fps: float) -> list[int]:
    """How many timesteps the wave has reached in each frame: about ``duration`` seconds at
    ``fps``, at least one new step per frame, ending with all ``steps``."""
    count = max(1, min(steps, round(duration * fps)))
    return [math.ceil((k + 1) * steps / count) for k in range(count)]


class WaveFigure:
    """One figure, built once, whose lines and labels each frame updates (a figure per frame
    would spend most of an export laying out axes)."""

    def __init__(self, waves: list[tuple[str, BackwardWave]], size: tuple[int, int] = (1280, 720)):
        from matplotlib.figure import Figure

        self.waves = waves
        dpi = 100
        self.figure = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
        axes_row = self.figure.subplots(1, len(waves), sharey=True, squeeze=False)[0]
        self.figure.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.1, wspace=0.08)
        finite = np.concatenate([w.arrival[np.isfinite(w.arrival) & (w.arrival > 0)] for _, w in waves])
        low, high = (finite.min() / 3, finite.max() * 3) if len(finite) else (1e-10, 1.0)
        self.lines, self.titles, self.notes = [], [], []
        for index, (axes, (label, wave)) in enumerate(zip(axes_row, waves, strict=True)):
            colour = COLOURS[index % len(COLOURS)]
            (line,) = axes.plot([], [], marker="o", markersize=3, color=colour, linewidth=2)
            self.lines.append(line)
            self.titles.append(axes.set_title(label, fontsize=11))
            self.notes.append(axes.annotate("", (1, low), textcoords="offset points", xytext=(-8, 10), ha="right",
                                            fontsize=12, color=colour))
            axes.set_yscale("log")
            axes.set_ylim(low, high)
            axes.set_xlim(0.5, wave.steps + 0.5)
            axes.set_xlabel("timestep t (the loss is at the right)")
            axes.grid(True, alpha=0.3)
        axes_row[0].set_ylabel("gradient norm arriving at t (batch mean)")

    def frame(self, reached: int) -> bytes:
        """PNG bytes: every model's wave after ``reached`` steps of the backward pass."""
        for (label, wave), line, title, note in zip(self.waves, self.lines, self.titles, self.notes, strict=True):
            shown = wave.revealed(reached - 1)
            line.set_data(np.arange(1, wave.steps + 1), np.where(shown > 0, shown, np.nan))
            newest = wave.steps - reached  # 0-based: the step the wave has just reached
            value = wave.arrival[newest]
            symbol = "dL/dc_t" if wave.path == "c" else "dL/dh_t"
            text = f"{label}\nt = {newest + 1}: |{symbol}| = {value:.2g}"
            note.set_text("")
            if newest > 0 and np.isfinite(wave.gain[newest]):
                text += f"\nnext step back: x {wave.gain[newest]:.3g}  ({wave.factor_name} = {wave.factor[newest]:.3g})"
                if value > 0:
                    note.xy = (newest + 1, value)
                    note.set_text(f"x {wave.gain[newest]:.2f}")
            title.set_text(text)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()


def write_animation(
    waves: list[tuple[str, BackwardWave]],
    path: str | os.PathLike,
    duration: float = 3.0,
    fps: float = 15.0,
    size: tuple[int, int] = (1280, 720),
    force: bool = False,
) -> list[Path]:
    """Write ``path``: a looping ``.gif``, or for ``.png`` a sequence stem_000.png, stem_001.png,
    ... beside it (every frame, the last one once). Returns the files written.

    The folder is checked before anything is drawn (drawing takes seconds); a sequence whose
    writing fails part-way (a full disk) removes the frames it wrote: all of it, or none.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".gif", ".png"):
        raise ValueError(f"the animation must be .gif or .png (a numbered sequence), got {target.name!r}")
    lengths = {wave.steps for _, wave in waves}
    if len(lengths) != 1:
        raise ValueError(f"the models' waves must have one length to run in sync, got {sorted(lengths)}")
    steps = frame_steps(lengths.pop(), duration, fps)
    names = ([target.with_name(f"{target.stem}_{index:03d}.png") for index in range(len(steps))]
             if suffix == ".png" else [target])
    for name in names:
        check_output(name, force=force, what="the animation")
    figure = WaveFigure(waves, size)
    frames = [figure.frame(reached) for reached in steps]
    if suffix == ".png":
        written: list[Path] = []
        try:
            for name, frame in zip(names, frames, strict=True):
                written.append(atomic_write(name, lambda stream, data=frame: stream.write(data), force=force))
        except BaseException:
            for done in written:  # frames of a sequence that cannot be finished are no use
                done.unlink(missing_ok=True)
            raise
        return written
    from PIL import Image

    images = [Image.open(io.BytesIO(frame)).convert("RGB") for frame in frames]
    per_frame_ms = round(1000 * duration / len(images))
    durations = [per_frame_ms] * (len(images) - 1) + [round(1000 * HOLD_SECONDS)]

    def write(stream) -> None:
        images[0].save(stream, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)

    return [atomic_write(target, write, force=force)]
