"""A stopped sweep leaves no run behind, whatever moment the signal picks (issue 25, case 4).

CI's spawn pass once saw `gradviz sweep` print "interrupted; 0 of 20 runs are kept" and then
hang: the first stop signal set the sweep's handlers to SIG_IGN, a run spawned just then
inherited SIG_IGN for SIGTERM through exec, and stop() waited forever for it to end. A signal
held over the first run's start was also raised from the pool's constructor, where nothing
stopped the run that had started.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

from gradviz.sweep import command, runner
from gradviz.sweep.grid import SweepConfig
from gradviz.sweep.results import SweepResults


class FakeProcess:
    """A run's process that ignores SIGTERM (``stubborn``) or ends on it."""

    def __init__(self, stubborn: bool = False, starts: bool = True):
        self.stubborn, self.starts = stubborn, starts
        self.pid: int | None = None
        self.exitcode: int | None = None
        self.calls: list[str] = []

    def start(self) -> None:
        if not self.starts:
            raise command.SweepStopped(signal.SIGINT)  # a signal held over this start
        self.pid = 12345

    def terminate(self) -> None:
        self.calls.append("terminate")
        if not self.stubborn:
            self.exitcode = -signal.SIGTERM

    def kill(self) -> None:
        self.calls.append("kill")
        self.exitcode = -signal.SIGKILL

    def join(self, timeout: float | None = None) -> None:
        self.calls.append("join")
        assert self.exitcode is not None or timeout is not None, "a join without timeout would hang here"


class FakePipe:
    def close(self) -> None:
        pass


def test_the_handlers_after_a_stop_signal_are_not_inherited_as_ignored_by_a_spawned_run() -> None:
    with command._StopOnSignals():
        with pytest.raises(command.SweepStopped):
            signal.raise_signal(signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
        # What a run spawned now (a fresh interpreter, through exec) starts with:
        probe = "import signal; print(signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)"
        seen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout.strip()
    assert seen == "True"


def test_stop_kills_a_run_that_ignores_sigterm(monkeypatch) -> None:
    monkeypatch.setattr(runner, "STOP_GRACE_S", 0.01)
    pool = runner.SweepPool.__new__(runner.SweepPool)
    stubborn, obliging = FakeProcess(stubborn=True), FakeProcess()
    stubborn.pid = obliging.pid = 1
    pool._waiting = deque([(0, 0, 5)])
    pool._running = {(0, 0, 0): (stubborn, FakePipe()), (0, 0, 1): (obliging, FakePipe())}
    pool.stop()
    assert stubborn.calls == ["terminate", "join", "kill", "join"] and stubborn.exitcode == -signal.SIGKILL
    assert obliging.calls == ["terminate", "join"]
    assert not pool.running and not pool._waiting


def test_a_signal_held_over_a_start_in_the_constructor_stops_the_run_that_started(monkeypatch,
                                                                                   tmp_path: Path) -> None:
    started: list[FakeProcess] = []

    class FakeContext:
        def Pipe(self, duplex: bool = False):  # noqa: N802 - multiprocessing's name
            return FakePipe(), FakePipe()

        def Process(self, **kwargs):  # noqa: N802 - multiprocessing's name
            process = FakeProcess(starts=not started)  # the second start is cut by the signal
            started.append(process)
            return process

    monkeypatch.setattr(runner, "context", lambda method=None: FakeContext())
    results = SweepResults(SweepConfig(models=("rnn",), seq_lens=(5,), seeds=2, steps=12, hidden=4, batch=8))
    with pytest.raises(command.SweepStopped):
        runner.SweepPool(results, tmp_path / "s.npz", jobs=2)
    assert started[0].calls[:2] == ["terminate", "join"] and started[0].exitcode is not None
    assert started[1].pid is None and started[1].calls == []  # never began: nothing to end
