"""Soak tests: a student pressing everything in random order, and a long run.

CI runs a short version. The long one (hundreds of actions, 20,000 steps) runs with
``GRADVIZ_SOAK=long ./dev test tests/gui/test_soak.py``.
"""

import os
import random
import threading

import pytest

from gradviz.probes.history import SCALAR_CAPACITY
from gradviz.session.protocol import PAUSED, RUNNING
from tests.gui.conftest import small_config, steps_done, trainer_arrays

LONG = os.environ.get("GRADVIZ_SOAK") == "long"
ACTIONS = 400 if LONG else 60
LONG_RUN_STEPS = 20000 if LONG else 1500


def _rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.soak
def test_random_presses_never_crash_or_leak_threads(qtbot, make_window):
    threads_before = threading.active_count()
    window = make_window(autostart=True)
    rng = random.Random(0)
    small = small_config()
    actions = [
        lambda: window.toggle_running(),
        lambda: window.step_once(),
        lambda: window.session.reset(small, start=rng.random() < 0.5),
        lambda: window.load_preset(rng.choice(["vanishing", "lstm1997", "copy", "exploding"])) or
        window.session.reset(small, start=True),
        lambda: window.gate_box.setCurrentIndex(rng.randrange(window.gate_box.count())),
        lambda: window.set_theme(rng.choice(["dark", "light"])),
        lambda: window.history_slider.setValue(rng.randrange(window.history_slider.maximum() + 1)),
        lambda: window.follow_live(),
        lambda: window.refresh(),
    ]
    for _ in range(ACTIONS):
        rng.choice(actions)()
        qtbot.wait(rng.choice([0, 5, 20]))
        assert not window.banner.isVisible() or "diverged" in window.banner.text()
    window.session.reset(small, start=True)
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING and window.session.active == small,
                    timeout=20000)
    qtbot.waitUntil(lambda: steps_done(window) > 3, timeout=20000)
    window.close()
    assert not window.session.trainer.alive
    assert threading.active_count() <= threads_before + 1


@pytest.mark.soak
def test_a_long_run_keeps_memory_flat(qtbot, make_window):
    window = make_window(config=small_config(2), autostart=True, record_every=10)
    trainer = window.session.trainer.pid
    qtbot.waitUntil(lambda: steps_done(window) >= 200, timeout=120000)
    rss_start, trainer_start = _rss_mb(), _rss_mb(trainer)
    qtbot.waitUntil(lambda: steps_done(window) >= LONG_RUN_STEPS, timeout=(1200 if LONG else 400) * 1000)
    window.session.pause()
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    # The trainer's history stays within its buffers' capacity (it decimates, it does not grow).
    arrays = trainer_arrays(qtbot, window)
    assert arrays["train_loss"].shape[1] <= SCALAR_CAPACITY
    assert len(arrays["step"]) <= 1024  # RunHistory's largest probe capacity
    assert _rss_mb() - rss_start < 50  # the window's process
    assert _rss_mb(trainer) - trainer_start < 50  # the trainer's
    assert window.isVisible()
