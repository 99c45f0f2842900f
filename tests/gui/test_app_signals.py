"""Signals to the real app while its "How far back?" tab runs a sweep (issue 25, case 4): the
gradviz command starts offscreen in a process of its own, its tab starts a tiny sweep, and
SIGHUP (a closed terminal), SIGTERM or SIGKILL reaches the app mid-sweep. No run, no trainer and
no fork server may be left. The processes are found by a tag in their environment
(tests/core/test_processes.py), so a child that outlived the app is found whoever its parent is."""

from __future__ import annotations

import select
import signal
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.core.test_processes import assert_all_gone, launch, needs_proc, processes, tagged

START_S = 90  # the app up and both runs training: 10-20 s on a loaded 2-core machine

# The gradviz command (gradviz.cli.main), with one addition: once its window is up, its sweep
# tab starts a sweep of runs far too long to finish, and the pids of the window's trainer and
# of the runs in flight are printed once both exist.
APP = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from gradviz.cli import main
    from gradviz.sweep.grid import SweepConfig

    def window():
        return next((w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"), None)

    def begin():
        found = window()
        if found is None:
            return
        sweep = found.sweep
        if sweep.pool is None:
            sweep.set_form(SweepConfig(models=("rnn",), seq_lens=(5,), seeds=4, steps=100_000, hidden=4, batch=8),
                           jobs=2)
            if not sweep.start():
                print("the sweep did not start", file=sys.stderr, flush=True)
                sys.exit(3)
            return
        runs = [child.pid for child in sweep.pool.processes() if child.pid is not None and child.is_alive()]
        trainer = found.session.trainer.pid
        if len(runs) == 2 and trainer is not None:
            print(trainer, *runs, flush=True)
            timer.stop()

    if __name__ == "__main__":
        app = QApplication(sys.argv[:1])  # first: a timer needs the application's event loop
        timer = QTimer()
        timer.setInterval(100)
        timer.timeout.connect(begin)
        timer.start()
        sys.exit(main(["--config", sys.argv[1]]))
""")


SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL)


def _start_app(tmp_path: Path, name: str) -> tuple[subprocess.Popen, str]:
    config = tmp_path / "tiny.json"
    config.write_text('{"hidden": 4, "seq_len": 5, "batch": 8, "device": "cpu"}')
    home = tmp_path / name
    tag = uuid.uuid4().hex
    app = launch(["-c", APP, str(config)], tag, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(home / "cfg"),
                 XDG_DATA_HOME=str(home / "data"), HOME=str(home))
    return app, tag


@processes
@needs_proc
@pytest.mark.parametrize("sent", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_to_the_app_mid_sweep_leaves_no_run_training(sent: int, tmp_path: Path) -> None:
    app, tag = _start_app(tmp_path, "app")
    try:
        ready, _, _ = select.select([app.stdout], [], [], START_S)
        line = app.stdout.readline() if ready else ""
        assert line.strip(), f"no sweep within {START_S} s"
        pids = [int(pid) for pid in line.split()]
        assert set(pids) <= set(tagged(tag)), "the trainer and both runs should be running"
        app.send_signal(sent)
        app.wait(30)
        gone_by = time.monotonic()
        assert_all_gone(tag, timeout=5)  # within a few seconds of the app's end, nothing of it trains
        assert time.monotonic() - gone_by < 5
    finally:
        app.kill()
        app.communicate(timeout=30)


class _Closable:
    """What _CloseOnSignals needs of a window and an app: it records the calls."""

    def __init__(self):
        self.ask_before_discard, self.closed, self.quit_called = True, False, False

    def close(self) -> None:
        self.closed = True

    def quit(self) -> None:
        self.quit_called = True


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_a_closed_terminal_sighup_closes_the_window_like_sigterm(qapp, qtbot) -> None:
    """SIGHUP used to kill the app at once (a save in progress was lost); now it closes the window as
    SIGTERM does, from the event loop, without a question, and the handlers are put back after."""
    from gradviz.gui.app import _CloseOnSignals

    window, app = _Closable(), _Closable()
    before = signal.getsignal(signal.SIGHUP)
    with _CloseOnSignals(app, window) as signals:
        signal.raise_signal(signal.SIGHUP)
        qtbot.waitUntil(lambda: window.closed, timeout=2000)
    assert signals.received == signal.SIGHUP and app.quit_called and window.ask_before_discard is False
    assert signal.getsignal(signal.SIGHUP) == before
