"""What the Session decides with no window and no trainer process (a scripted stand-in sends
the trainer's events): when throwing a run away (quit, a preset, another file) asks first, and
what a slow start says while it builds and trains its first step."""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import pytest

from gradviz.config import TrainConfig
from gradviz.presets import load_preset
from gradviz.session import protocol as p
from gradviz.session import state as state_module
from gradviz.session.state import KEEP_SECONDS, KEEP_STEPS, Session

PRESET = load_preset("vanishing")


class ScriptedTrainer:
    """Stands in for TrainerProcess: commands are recorded, events are what a test queues."""

    def __init__(self, config):
        self.config, self.sent, self.queued, self.alive = config, [], [], True

    def start(self) -> None:
        self.queued.append(p.RunReset(self.config, "cpu", None, 1, 0))

    def send(self, command) -> None:
        self.sent.append(command)

    def events(self):
        events, self.queued = self.queued, []
        return events

    def read_frame(self, event):
        return self.frame

    def stop(self, timeout_s: float) -> bool:
        self.alive = False
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(state_module, "time", clock)
    return clock


def session_of(config=PRESET.config, stock=PRESET.config) -> Session:
    session = Session(config, autostart=False, trainer_factory=ScriptedTrainer)
    session.stock = stock
    session.poll()
    assert session.active == config
    return session


def train(session: Session, steps: int) -> None:
    """The trainer ran, sent a frame of ``steps`` steps done, and paused."""
    session.trainer.frame = types.SimpleNamespace(models=[None] * len(session.active.models), steps_done=steps)
    session.trainer.queued += [p.StateChanged(p.RUNNING), p.FrameReady("block", 0, steps), p.StateChanged(p.PAUSED)]
    session.poll()


def test_a_preset_run_of_a_few_seconds_is_thrown_away_without_a_question(clock):
    session = session_of()
    train(session, KEEP_STEPS - 1)
    assert session.has_unsaved_run() and session.work_to_keep() is None


def test_a_preset_run_that_trained_long_is_asked_about(clock):
    session = session_of()
    train(session, KEEP_STEPS)
    assert "500 steps" in session.work_to_keep()


def test_a_minute_of_training_is_asked_about_even_when_slow(clock):
    session = session_of()
    session.trainer.queued.append(p.StateChanged(p.RUNNING))
    session.poll()
    session.trainer.frame = types.SimpleNamespace(models=[None, None], steps_done=40)  # a slow run's frame
    session.trainer.queued.append(p.FrameReady("block", 0, 1))
    clock.now += KEEP_SECONDS - 1
    session.poll()
    assert session.steps_done == 40 and session.work_to_keep() is None
    clock.now += 2
    assert session.work_to_keep() == "It trained 40 steps (61 s)."
    session.trainer.queued.append(p.StateChanged(p.PAUSED))
    session.poll()
    clock.now += 600  # paused time is not training
    assert session.trained_seconds == pytest.approx(KEEP_SECONDS + 1)


def test_settings_the_user_chose_are_asked_about_at_once(clock):
    changed = dataclasses.replace(PRESET.config, task=dataclasses.replace(PRESET.config.task, seq_len=33))
    session = session_of(config=changed)
    train(session, 3)
    assert session.work_to_keep() == "It trained 3 steps with settings you chose."
    # A live edit (lr) of a preset's run is the user's change too.
    session = session_of()
    train(session, 3)
    session.set_train(0, TrainConfig(lr=0.5))
    assert "settings you chose" in session.work_to_keep()
    # A run with no preset behind it (a configuration file, the command line) is the user's.
    session = session_of(stock=None)
    train(session, 1)
    assert session.work_to_keep() == "It trained 1 step with settings you chose."


def test_an_opened_or_saved_run_trained_on_is_asked_about_and_a_saved_one_is_not(clock):
    session = session_of()
    train(session, 10)
    session.trainer.queued.append(p.RunSaved("/tmp/a/run.npz", 10))
    session.poll()
    assert session.run_path == Path("/tmp/a/run.npz") and session.work_to_keep() is None
    train(session, 12)
    assert session.work_to_keep() == "It has trained on since it was saved to run.npz (12 steps now)."


def test_a_new_run_starts_counting_again(clock):
    session = session_of()
    train(session, KEEP_STEPS + 10)
    assert session.work_to_keep() is not None
    session.reset(PRESET.config)
    session.trainer.queued.append(p.RunReset(PRESET.config, "cpu", None, 1, 0))
    session.poll()
    assert session.work_to_keep() is None and session.trained_seconds == 0


def test_a_slow_reset_says_it_is_building_then_training_its_first_step_with_the_time(clock):
    session = session_of()
    assert session.progress() is None  # built, not training
    session.reset(PRESET.config, start=True)
    assert session.progress() == "building the run · 0 s"
    clock.now += 12
    assert session.progress() == "building the run · 12 s"
    session.trainer.queued += [p.StateChanged(p.RUNNING), p.RunReset(PRESET.config, "cpu", None, 1, 0)]
    session.poll()
    clock.now += 3
    assert session.progress() == "first step in progress · 3 s"
    train(session, 1)
    assert session.progress() is None


def test_a_refused_reset_stops_saying_it_builds(clock):
    session = session_of()
    session.reset(PRESET.config)
    session.trainer.queued.append(p.BuildRefused("Cannot reset: too large. Nothing was changed."))
    session.poll()
    assert session.progress() is None and session.banner.startswith("Cannot reset")


def test_a_reset_shows_nothing_of_the_old_run_and_a_refused_one_brings_it_back(clock):
    session = session_of()
    train(session, 5)
    old_frame, shown = session.frame, []
    session.buildStarted.connect(shown.append)
    bigger = dataclasses.replace(PRESET.config, seed=PRESET.config.seed + 1)
    session.reset(bigger)
    assert session.frame is None and shown == [bigger]  # the plots are set up for the new run at once
    session.trainer.frame = types.SimpleNamespace(models=[None, None], steps_done=6)
    session.trainer.queued.append(p.FrameReady("block", 0, 9))  # the old run's last step, sent meanwhile
    session.poll()
    assert session.frame is None
    session.trainer.queued.append(p.BuildRefused("Cannot reset: too large. Nothing was changed."))
    session.poll()
    assert session.frame is old_frame and shown == [bigger, PRESET.config] and session.shown == PRESET.config
