"""How long gradviz takes from a cold ``python`` to its window's first paint, and whether the
window's process imported torch: run each source tree given (the current one by default)
``--runs`` times, interleaved, and print the median of each.

    .venv/bin/python scripts/time_to_window.py --runs 7 [--tree OTHER_SOURCE_TREE ...]

One run is a fresh interpreter that does what ``gradviz`` does up to its window's first paint
(start the fork server and the QApplication, show the splash, import and build the MainWindow on
the default preset, show it: ``gradviz.gui.app.open_window``) and exits at that paint, on Qt's offscreen platform unless
QT_QPA_PLATFORM says otherwise (``xcb`` under Xvfb: a real window). The time is the wall clock
of the whole child, interpreter start included, as a user waits for it; the splash's first
paint is timed from the child's first line (``splash_s``), as is the window's (``window_s``). Timings beside other
work are disturbed: compare trees measured in one call (their runs alternate).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import os, sys, time
started = time.monotonic()
if os.environ.get("GRADVIZ_TREE"):  # that tree's gradviz, not the editable install's
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__ + repr(f)]
    sys.path.insert(0, os.environ["GRADVIZ_TREE"])
from PySide6.QtCore import QEvent, QObject, QTimer
from gradviz.forkserver import warm_up
warm_up()
from gradviz.gui import app as gui_app
from gradviz.presets import DEFAULT_PRESET, load_preset
app = gui_app.application(offscreen=True)
preset = load_preset(DEFAULT_PRESET)
seen = {}

class FirstPaint(QObject):
    # The splash's first paint, and the window's first UpdateRequest (it paints every widget
    # in the window): leave once that is handled.

    def eventFilter(self, watched, event):
        kind = type(watched).__name__
        if kind == "StartSplash" and event.type() == QEvent.Type.Paint and "splash" not in seen:
            seen["splash"] = time.monotonic() - started
            seen["heavy"] = [name for name in ("pyqtgraph", "torch") if name in sys.modules]
        if kind == "MainWindow" and event.type() == QEvent.Type.UpdateRequest and "window" not in seen:
            seen["window"] = time.monotonic() - started
            QTimer.singleShot(0, painted_now)
        return False

def painted_now():
    print("SPLASH_AT=%s" % seen.get("splash", -1), flush=True)
    print("HEAVY_AT_SPLASH=%s" % ",".join(seen.get("heavy", ["?"])), flush=True)
    print("WINDOW_AT=%s" % seen["window"], flush=True)
    print("TORCH_IN_WINDOW=%d" % ("torch" in sys.modules), flush=True)
    os._exit(0)  # the window is on screen: the time the user waits ends here

painted = FirstPaint()
app.installEventFilter(painted)
if hasattr(gui_app, "open_window"):
    window = gui_app.open_window(preset.config, preset, started, splash=True)
else:  # a tree from before the splash: what its run_app did
    from gradviz.gui.theme import DARK, apply_theme
    apply_theme(DARK)
    from gradviz.gui.main_window import MainWindow
    window = MainWindow(preset.config, preset=preset)
    window.show()
window.ask_before_discard = False
app.exec()
"""

def one_run(tree: Path | None) -> dict:
    """One cold start: its wall time, when the splash and the window were first painted (s
    from the child's first line; -1: no splash), what was imported at the splash's paint, and
    whether the window's process had imported torch."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if tree is not None:
        env["GRADVIZ_TREE"] = str(tree)
    # Output to a file, not a pipe: the fork server outlives the child for a moment, holding
    # the pipe open, and waiting for the pipe's end would time that instead.
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        code = subprocess.run([sys.executable, "-c", CHILD], env=env, stdout=out, stderr=subprocess.STDOUT,
                              timeout=120).returncode
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if "TORCH_IN_WINDOW=" not in text:
        raise SystemExit(f"the window did not paint (exit {code}):\n{text[-2000:]}")
    facts = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {"wall": elapsed, "splash": float(facts.get("SPLASH_AT", -1)), "window": float(facts["WINDOW_AT"]),
            "heavy_at_splash": facts.get("HEAVY_AT_SPLASH", "?"), "torch": facts["TORCH_IN_WINDOW"] == "1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", type=Path, action="append", default=[],
                        help="another gradviz source tree (its folder holding gradviz/) to time beside this one")
    args = parser.parse_args()
    trees: list[Path | None] = [None, *args.tree]
    runs: dict[int, list[dict]] = {i: [] for i in range(len(trees))}
    for _ in range(args.runs):
        for i, tree in enumerate(trees):
            runs[i].append(one_run(tree))

    def median(i: int, key: str) -> float:
        return round(statistics.median(run[key] for run in runs[i]), 3)

    report = [{"tree": str(tree or "this checkout"), "median_s": median(i, "wall"),
               "splash_median_s": median(i, "splash"), "window_median_s": median(i, "window"),
               "runs_s": [round(run["wall"], 3) for run in runs[i]],
               "imported_at_splash": sorted({run["heavy_at_splash"] for run in runs[i]}),
               "torch_in_window": any(run["torch"] for run in runs[i])}
              for i, tree in enumerate(trees)]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
