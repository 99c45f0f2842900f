"""How long gradviz takes from a cold ``python`` to its window's first paint, and whether the
window's process imported torch: run each source tree given (the current one by default)
``--runs`` times, interleaved, and print the median of each.

    .venv/bin/python scripts/time_to_window.py --runs 7 [--tree OTHER_SOURCE_TREE ...]

One run is a fresh interpreter that does what ``gradviz`` does up to its window's first paint
(start the fork server, the QApplication and the theme, import and build the MainWindow on the
default preset, show it) and exits at that paint, on Qt's offscreen platform unless
QT_QPA_PLATFORM says otherwise (``xcb`` under Xvfb: a real window). The time is the wall clock
of the whole child, interpreter start included, as a user waits for it. Timings beside other
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
if os.environ.get("GRADVIZ_TREE"):  # that tree's gradviz, not the editable install's
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__ + repr(f)]
    sys.path.insert(0, os.environ["GRADVIZ_TREE"])
from PySide6.QtCore import QEvent, QObject, QTimer
from gradviz.forkserver import warm_up
warm_up()
from gradviz.gui.app import application
from gradviz.gui.theme import DARK, apply_theme
app = application(offscreen=True)
apply_theme(DARK)
from gradviz.gui.main_window import MainWindow
from gradviz.presets import DEFAULT_PRESET, load_preset
preset = load_preset(DEFAULT_PRESET)
window = MainWindow(preset.config, preset=preset)
window.ask_before_discard = False

class FirstPaint(QObject):
    # The window's first UpdateRequest paints every widget in it: leave once it is handled.

    def eventFilter(self, watched, event):
        if watched is window and event.type() == QEvent.Type.UpdateRequest:
            QTimer.singleShot(0, painted_now)
        return False

def painted_now():
    print("TORCH_IN_WINDOW=%d" % ("torch" in sys.modules), flush=True)
    os._exit(0)  # the window is on screen: the time the user waits ends here

painted = FirstPaint()
window.installEventFilter(painted)
window.show()
app.exec()
"""


def one_run(tree: Path | None) -> tuple[float, bool]:
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
    return elapsed, "TORCH_IN_WINDOW=1" in text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", type=Path, action="append", default=[],
                        help="another gradviz source tree (its folder holding gradviz/) to time beside this one")
    args = parser.parse_args()
    trees: list[Path | None] = [None, *args.tree]
    times: dict[int, list[float]] = {i: [] for i in range(len(trees))}
    torch_seen: dict[int, bool] = {}
    for _ in range(args.runs):
        for i, tree in enumerate(trees):
            elapsed, torch_in = one_run(tree)
            times[i].append(elapsed)
            torch_seen[i] = torch_in
    report = [{"tree": str(tree or "this checkout"), "median_s": round(statistics.median(times[i]), 3),
               "runs_s": [round(t, 3) for t in times[i]], "torch_in_window": torch_seen[i]}
              for i, tree in enumerate(trees)]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
