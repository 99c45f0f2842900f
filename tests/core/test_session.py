"""The Session and its trainer process, without a window (no Qt anywhere in this file):
transitions between live, paused, replay and opening, refusals, divergence, a killed trainer,
and the shared-memory frames."""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import threading
import time

import numpy as np
import pytest

# torch imports torch._dynamo on the first optimiser step; the trainer's fork server imports it
# up front, and so does this file: imported in a test's trainer thread, it crashed in
# torch.distributed (seen when GUI tests ran first in the same process).
import torch._dynamo  # noqa: F401

from gradviz.config import RunConfig, TaskConfig
from gradviz.engine import Run
from gradviz.io.runfile import SavedRun
from gradviz.session import protocol as p
from gradviz.session import trainer as trainer_module
from gradviz.session.framebuf import FrameReader, FrameWriter
from gradviz.session.state import LIVE, OPENING, REPLAY, Session
from gradviz.session.trainer import TrainerLoop
from tests.configs import EXPLODING, small_config

SMALL = small_config()


def wait(session: Session, done, timeout: float = 60.0) -> None:
    """Poll the session (as the window's timer does) until ``done()``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        session.poll()
        if done():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out; state {session.trainer_state}, mode {session.mode}, banner {session.banner}")


@pytest.fixture
def sessions():
    made: list[Session] = []

    def make(config: RunConfig = SMALL, autostart: bool = False) -> Session:
        session = Session(config, autostart=autostart)
        made.append(session)
        wait(session, lambda: session.active is not None)
        return session

    yield make
    for session in made:
        assert session.close()


@pytest.mark.processes  # run again under spawn by .ci/run
def test_live_pause_step_replay_and_back(sessions):
    session = sessions(autostart=True)
    seen_modes: list[str] = []
    session.modeChanged.connect(seen_modes.append)
    wait(session, lambda: session.steps_done >= 5 and session.trainer_state == p.RUNNING)
    assert session.mode == LIVE and session.frame.state == p.RUNNING
    session.toggle_running()
    wait(session, lambda: session.trainer_state == p.PAUSED and session.frame.state == p.PAUSED)
    paused_at = session.steps_done
    time.sleep(0.3)
    session.poll()
    assert session.steps_done == paused_at  # paused means no more steps
    session.step()
    wait(session, lambda: session.steps_done == paused_at + 1)
    # A stepped step is recorded: the frame's newest probes are that step's.
    assert session.frame.models[0].history["step"][-1] == paused_at
    # Looking back: the trainer's arrays come over, the frame of recorded step 0 is shown.
    shown = []
    session.replayChanged.connect(shown.append)
    session.look_back(0)
    assert session.mode == REPLAY
    wait(session, lambda: bool(shown))
    assert shown[-1].steps_done == 1 and session.replay_step == 0
    np.testing.assert_array_equal(shown[-1].models[1].latest.probes.grad_h,
                                  session.replay.arrays["model1/grad_h"][0])
    session.follow_live()
    assert session.mode == LIVE and session.replay is None
    assert seen_modes == [REPLAY, LIVE]
    import torch

    assert not torch.cuda.is_initialized()  # training happened elsewhere: no CUDA context here


def test_start_until_pauses_at_exactly_that_step(sessions):
    """A lesson's "train to step N" ran on a window timer and stopped 30-40 steps late (74 for 40)."""
    session = sessions()
    session.start(until=40)
    wait(session, lambda: session.trainer_state == p.PAUSED and session.steps_done >= 40)
    time.sleep(0.3)
    session.poll()
    assert session.steps_done == 40 and session.trainer_state == p.PAUSED
    session.start()  # a plain start trains on past it
    wait(session, lambda: session.steps_done > 45 and session.trainer_state == p.RUNNING)
    session.start(until=150)  # asked while running: it bounds the running
    wait(session, lambda: session.trainer_state == p.PAUSED and session.steps_done >= 150)
    time.sleep(0.3)
    session.poll()
    assert session.steps_done == 150
    session.start(until=10)  # already past: nothing to train
    time.sleep(0.3)
    session.poll()
    assert session.trainer_state == p.PAUSED


def test_an_opened_run_that_does_not_fit_is_refused_and_nothing_changes(sessions, tmp_path):
    session = sessions()
    session.step()
    wait(session, lambda: session.steps_done == 1)
    path = tmp_path / "run.npz"
    session.save(path)
    wait(session, lambda: session.run_path == path)
    assert not session.has_unsaved_run()
    from gradviz.io.runfile import load_run

    saved = load_run(path)
    # The same state under a configuration whose LSTM is wider: its weights do not fit.
    wider = dataclasses.replace(saved.config, models=(saved.config.models[0], dataclasses.replace(
        saved.config.models[1], model=dataclasses.replace(saved.config.models[1].model, hidden=9))))
    other = sessions()
    shown: list[RunConfig] = []
    other.shownChanged.connect(shown.append)
    active = other.active
    other.open_run(SavedRun(wider, saved.arrays), tmp_path / "wider.npz")
    assert other.mode == OPENING and shown == [wider]
    wait(other, lambda: other.mode == LIVE)
    assert "Cannot continue this run" in other.banner and "does not fit" in other.banner
    assert other.active is active and other.shown is active and shown[-1] is active
    assert other.run_path is None and other.opening is None
    # The right configuration opens, paused at the saved step, and Save writes back there.
    other.open_run(saved, path)
    wait(other, lambda: other.mode == LIVE and other.active == saved.config)
    assert other.run_path == path and other.steps_done == 1 and other.trainer_state == p.PAUSED


def test_reset_after_divergence_trains_again(sessions):
    session = sessions(EXPLODING, autostart=True)
    wait(session, lambda: session.trainer_state == p.DIVERGED)
    assert "diverged at step" in session.banner
    session.toggle_running()  # a diverged run does not start again by itself
    time.sleep(0.2)
    session.poll()
    assert session.trainer_state == p.DIVERGED
    session.reset(SMALL, start=True)
    wait(session, lambda: session.active == SMALL and session.trainer_state == p.RUNNING and session.steps_done > 2)
    assert session.banner is None and session.mode == LIVE


@pytest.mark.processes  # run again under spawn by .ci/run
def test_a_killed_trainer_is_reported_and_reset_starts_a_fresh_one(sessions):
    session = sessions(autostart=True)
    wait(session, lambda: session.steps_done >= 3)
    last = session.frame
    first_pid = session.trainer.pid
    os.kill(first_pid, signal.SIGKILL)
    wait(session, lambda: session.trainer_state == p.DEAD, timeout=10)
    assert "killed" in session.banner and "SIGKILL" in session.banner
    assert session.frame is last and not session.has_run  # the last frame stays; nothing to train
    session.toggle_running()
    session.reset(SMALL)  # it was training when it died: it trains again
    wait(session, lambda: session.trainer_state == p.RUNNING and session.steps_done > 2)
    assert session.trainer.pid != first_pid and session.banner is None


@pytest.mark.processes  # run again under spawn by .ci/run
def test_closing_ends_the_trainer_within_two_seconds(sessions):
    session = sessions(autostart=True)
    wait(session, lambda: session.steps_done >= 1)
    pid = session.trainer.pid
    started = time.monotonic()
    assert session.close(2.0)
    assert time.monotonic() - started < 2.5
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # reaped by multiprocessing's join: gone from the process table
            os.kill(pid, 0)
            time.sleep(0.02)


def test_an_error_in_a_step_is_reported_and_the_trainer_lives_on(monkeypatch):
    """In-process: the trainer loop's handling of an exception inside a training step."""
    commands: queue.Queue = queue.Queue()
    events: list = []
    wanted = threading.Event()
    loop = TrainerLoop(SMALL, commands, events.append, wanted)

    def out_of_memory(self, record=None, extras=frozenset()):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with monkeypatch.context() as patch:
        patch.setattr(Run, "train_step", out_of_memory)
        commands.put(p.Start())
        thread = threading.Thread(target=loop.run)
        thread.start()
        end = time.monotonic() + 30
        while not any(isinstance(e, p.RunFailed) for e in events) and time.monotonic() < end:
            time.sleep(0.02)
    failed = next(e for e in events if isinstance(e, p.RunFailed))
    assert "ran out of memory" in failed.message and "CPU" in failed.message and loop.state == p.FAILED
    commands.put(p.Reset(SMALL, start=True))
    end = time.monotonic() + 30
    while (loop.run_ is None or loop.run_.step < 3) and time.monotonic() < end:
        time.sleep(0.02)
    commands.put(p.Quit())
    thread.join(10)
    assert loop.run_.step >= 3 and loop.state == p.RUNNING


def test_a_new_runs_rate_is_its_own_not_the_old_runs_nor_its_builds(monkeypatch):
    """The old run stepped at 2 steps/s at most; the new one is built in a slow second and
    steps without a pause: its first rate is its own first step's, not the old run's smoothed
    on, nor one counting the build's second."""
    commands: queue.Queue = queue.Queue()
    loop = TrainerLoop(SMALL, commands, lambda event: None, threading.Event())
    pause, took = {"s": 0.5}, []
    step, build = Run.train_step, Run.__init__

    def timed_step(self, *args, **kwargs):
        began = time.perf_counter()
        time.sleep(pause["s"])
        result = step(self, *args, **kwargs)
        took.append((self, time.perf_counter() - began))
        return result

    def slow_build(self, *args, **kwargs):
        time.sleep(1.0)
        build(self, *args, **kwargs)

    monkeypatch.setattr(Run, "train_step", timed_step)
    commands.put(p.Start())
    thread = threading.Thread(target=loop.run)
    thread.start()
    end = time.monotonic() + 60
    while (loop.run_ is None or loop.run_.step < 3) and time.monotonic() < end:
        time.sleep(0.02)
    assert 0 < loop._rate <= 2.05
    monkeypatch.setattr(Run, "__init__", slow_build)
    pause["s"] = 0.0
    old_run = loop.run_
    commands.put(p.Reset(SMALL, start=True))
    while loop.run_ is old_run and time.monotonic() < end:
        time.sleep(0.001)
    while not loop._rate and time.monotonic() < end:
        time.sleep(0.001)  # until the new run's first rate
    rate = loop._rate
    commands.put(p.Quit())
    thread.join(10)
    first = next(seconds for run, seconds in took if run is not old_run)
    # Its own first step (plus the loop's bookkeeping); the old formula gave 0.9 x 2 + 0.1 x 1.
    assert rate >= 0.5 / first and rate > 1.0 / (1.0 + first)


def test_a_failed_words_question_does_not_stop_training(monkeypatch):
    config = dataclasses.replace(SMALL, task=TaskConfig(name="reviews", seq_len=12, distance=4, batch=8))
    commands: queue.Queue = queue.Queue()
    events: list = []
    loop = TrainerLoop(config, commands, events.append, threading.Event())

    def broken(run, example):
        raise RuntimeError("no words today")

    monkeypatch.setattr(trainer_module, "word_report", broken)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        for command, done in ((p.Step(), lambda: loop.run_ is not None and loop.run_.step == 1),
                              (p.AskWords(0), lambda: any(isinstance(e, p.ReportFailed) for e in events)),
                              (p.Step(), lambda: loop.run_.step == 2)):
            commands.put(command)
            end = time.monotonic() + 60
            while not done() and time.monotonic() < end:
                time.sleep(0.02)
    finally:
        commands.put(p.Quit())
        thread.join(10)
    failed = [e for e in events if isinstance(e, p.ReportFailed)]
    assert failed == [p.ReportFailed("words", "no words today")]
    assert loop.run_.step == 2 and loop.state == p.IDLE


def test_frames_through_shared_memory_survive_growth_and_new_shapes():
    writer, reader = FrameWriter(), FrameReader()
    try:
        small = {"a": np.arange(10.0), "b": [np.ones((2, 3), np.float32)], "n": 3}
        name, size = writer.write(small)
        got = reader.read(name, size)
        np.testing.assert_array_equal(got["a"], small["a"])
        assert got["b"][0].dtype == np.float32 and got["b"][0].shape == (2, 3) and got["n"] == 3
        big = {"a": np.random.default_rng(0).random((700, 500))}  # 2.8 MB: outgrows the block
        bigger_name, size = writer.write(big)
        assert bigger_name != name
        with pytest.raises(FileNotFoundError):  # the old block is gone
            FrameReader().read(name, 8)
        got_big = reader.read(bigger_name, size)
        writer.write({"a": np.zeros(3)})  # the trainer writes the next frame over the block ...
        np.testing.assert_array_equal(got_big["a"], big["a"])  # ... the frame read is a copy
    finally:
        reader.close()
        writer.close()
