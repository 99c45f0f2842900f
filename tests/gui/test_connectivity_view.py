"""Key C: which output step teaches which timestep, for every model of the run, measured on the
step C trains; what the window draws is the core's matrix for that very step and batch."""

import dataclasses

import numpy as np
from PySide6.QtCore import Qt

from gradviz.config import TaskConfig
from gradviz.plotmath import log10_or_nan
from gradviz.probes.connectivity import connectivity
from gradviz.session.protocol import PAUSED, RUNNING
from tests.gui.conftest import small_config, steps_done, trainer_run

COPY = dataclasses.replace(small_config(), task=TaskConfig("copy", seq_len=5, batch=4))  # a loss at every step


def test_key_c_draws_the_connectivity_of_the_step_it_trains(qtbot, make_window, tmp_path):
    window = make_window(config=COPY, autostart=True)
    qtbot.waitUntil(lambda: steps_done(window) >= 2, timeout=30000)
    window.session.pause()
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    before = trainer_run(qtbot, window, tmp_path / "before.npz")  # the weights and batches C's step starts from
    arrived = []
    window.session.connectivityReady.connect(lambda step, matrices: arrived.append(step))
    qtbot.keyClick(window, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: bool(arrived) and window.connectivity.step == arrived[0], timeout=30000)
    assert window.connectivity.isVisible() and window.session.trainer_state == PAUSED

    x, y = before.task.generate(COPY.task.batch, before.generator, before.device)
    steps = before.task.total_steps
    for index, learner in enumerate(before.learners):
        expected = log10_or_nan(connectivity(learner.model, before.task, x, y).matrix[-1])
        drawn = window.connectivity.images[index]
        assert drawn.shape == (steps, steps)  # copy: a loss at every step
        np.testing.assert_allclose(drawn, expected, rtol=1e-5, atol=1e-6)  # NaN where t > s, alike
    # The copy task's landmarks: after data step 10, before answer step T + 11 (T = 5), in each model.
    assert sorted(set(window.connectivity.marks)) == [(0, 15.5), (90, 10.5)]
    assert len(window.connectivity.marks) == 4 and "rows 16-25 are the answers" in window.connectivity.summary.text()
    low, high = window.connectivity.levels
    assert high - low == 10 and all(np.nanmax(image) <= high for image in window.connectivity.images)

    window.connectivity.again_button.click()  # one more step, measured
    qtbot.waitUntil(lambda: len(arrived) == 2 and window.connectivity.step == arrived[1], timeout=30000)
    assert arrived[1] == arrived[0] + 1


def test_the_windows_keys_work_while_the_connectivity_window_has_the_focus(qtbot, make_window):
    """Found in a walk: with C's window in front, Space, 1-8, R and Ctrl+E did nothing."""
    window = make_window(config=COPY, autostart=True)
    qtbot.waitUntil(lambda: steps_done(window) >= 2, timeout=30000)
    qtbot.keyClick(window, Qt.Key.Key_C)  # trains one step and pauses
    qtbot.waitUntil(lambda: window.connectivity is not None and window.connectivity.step >= 0, timeout=30000)
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    dialog = window.connectivity
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.isActiveWindow(), timeout=5000)
    qtbot.keyClick(dialog, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING, timeout=10000)
