"""An export's arrays are asked of the trainer and answered by an event, never waited for
(issue 22's house, issue 25 case 9): the Session answers a request when the trainer's arrays
arrive, or after its answer time with what the window holds, or at once when the trainer is
known silent or dead; a scripted stand-in plays the trainer."""

from __future__ import annotations

import numpy as np
import pytest

from gradviz.session import protocol as p
from gradviz.session import state as state_module
from gradviz.session.state import ANSWER_S, Session
from tests.core.test_session_decisions import PRESET, Clock, ScriptedTrainer, train

HELD = {"step": np.array([0, 10, 20]), "loss": np.ones((2, 3))}
FRESH = {"step": np.array([0, 10, 20, 30]), "loss": np.ones((2, 4))}


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(state_module, "time", clock)
    return clock


def running_session() -> Session:
    session = Session(PRESET.config, autostart=False, trainer_factory=ScriptedTrainer)
    session.poll()
    train(session, 25)
    session.trainer.queued.append(p.StateChanged(p.RUNNING))
    session.poll()
    return session


def test_the_trainers_arrays_answer_the_request_when_they_arrive(clock):
    session = running_session()
    answers = []
    session.request_arrays(answers.append)
    assert answers == [] and isinstance(session.trainer.sent[-1], p.AskArrays)  # asked, not waited for
    session.poll()
    assert answers == []
    session.trainer.queued.append(p.Arrays(FRESH))
    session.poll()
    assert len(answers) == 1 and answers[0].arrays is FRESH and answers[0].note == "" and answers[0].error is None


def test_no_answer_in_time_gives_what_the_window_holds_and_says_so(clock):
    session = running_session()
    session.held = HELD
    answers = []
    session.request_arrays(answers.append)
    clock.now += ANSWER_S - 0.1
    session.poll()
    assert answers == []
    clock.now += 0.2
    session.poll()
    assert answers[0].arrays is HELD
    assert answers[0].note == ("the trainer is not answering: exported the run as the window holds it, recorded up "
                               "to step 21")
    session.trainer.queued.append(p.Arrays(FRESH))  # late: answered once only
    session.poll()
    assert len(answers) == 1


def test_a_trainer_known_silent_is_not_asked_and_the_answer_comes_at_once(clock):
    session = running_session()
    session.held = HELD
    clock.now += session.silent_s + 1  # running, and nothing heard since
    sent = len(session.trainer.sent)
    answers = []
    session.request_arrays(answers.append)
    assert answers[0].arrays is HELD and answers[0].note.startswith("the trainer is not answering")
    assert len(session.trainer.sent) == sent


def test_a_trainer_that_dies_while_asked_answers_with_what_is_held_or_why_not(clock):
    session = running_session()
    answers = []
    session.request_arrays(answers.append)
    session.trainer.alive = False
    session.trainer.cause_of_death = lambda: "killed"
    session.poll()
    assert answers[0].arrays is None
    assert answers[0].error == "the trainer has stopped, and the window held no recorded step of its run"
