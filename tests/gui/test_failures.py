"""Training that goes wrong is shown, not crashed on: divergence, out of memory, any error."""

import dataclasses
import math
import sys

import numpy as np
import pytest

from gradviz.gui.plots.ranges import shared_ranges
from gradviz.session.protocol import DIVERGED, FAILED, RUNNING
from tests.configs import EXPLODING
from tests.gui.conftest import small_config, steps_done

ABSENT_DEVICE = "cuda" if sys.platform == "darwin" else "mps"  # not on this machine: building fails

def test_divergence_pauses_with_a_banner_and_finite_plots(qtbot, make_window):
    window = make_window(config=EXPLODING, autostart=True)
    qtbot.waitUntil(lambda: window.session.trainer_state == DIVERGED, timeout=30000)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    assert "diverged at step" in window.banner.text() and "gradient norm" in window.banner.text()
    window.paint_now()
    ranges = shared_ranges(window.last_frame, window.session.baseline.loss)
    assert all(math.isfinite(v) for model in ranges for span in model.values() for v in span)
    image = window.columns[0].history_map.image.image
    assert image is None or not np.isinf(image).any()  # NaN (no value) is drawn transparent
    window.columns[0].history_map.image.render()  # and renders
    window.controls.set_config(small_config(), active=False)
    window.reset()
    window.session.start()
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING and steps_done(window) > 2, timeout=30000)


def test_a_diverged_model_does_not_flatten_the_others_plots(qtbot, make_window):
    # The exploding preset's story: the unclipped RNN's losses reach 1e30 before they overflow;
    # shared with it, the clipped model's loss and gradient would lie flat on their axes.
    calm = small_config().models[1]
    config = dataclasses.replace(EXPLODING, models=(EXPLODING.models[0], calm))
    window = make_window(config=config, autostart=True)
    qtbot.waitUntil(lambda: steps_done(window) > 40 and window.banner.isVisible(), timeout=60000)
    window.session.pause()
    qtbot.waitUntil(lambda: window.last_frame is not None and window.last_frame.state != RUNNING, timeout=10000)
    window.paint_now()
    wild, kept = shared_ranges(window.last_frame, window.session.baseline.loss)
    losses = window.last_frame.scalars["loss"]
    assert not np.isfinite(losses[-1, 0]) and np.isfinite(losses[-1, 1])
    assert kept["loss"][1] <= 1.0 and wild["loss"][1] > kept["loss"][1]  # log10: at most a loss of 10
    assert window.columns[1].loss.plot.viewRange()[1][1] == kept["loss"][1]
    assert window.columns[0].loss.plot.viewRange()[1][1] == wild["loss"][1]


@pytest.mark.processes  # run again under spawn by .ci/run
def test_an_error_in_training_reaches_the_user_and_reset_recovers(qtbot, make_window):
    # A device that is not there fails inside the trainer process, as any error there would.
    window = make_window()
    window.controls.set_config(small_config(), active=False)
    window.session.reset(dataclasses.replace(small_config(), device=ABSENT_DEVICE), start=True)
    qtbot.waitUntil(lambda: window.session.trainer_state == FAILED, timeout=20000)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    assert "Training stopped with an error" in window.banner.text() and "Reset" in window.banner.text()
    window.reset()
    window.session.start()
    qtbot.waitUntil(lambda: steps_done(window) > 2, timeout=30000)
    assert window.isVisible()
