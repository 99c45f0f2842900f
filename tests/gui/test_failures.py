"""Training that goes wrong is shown, not crashed on: divergence, out of memory, any error."""

import math

import numpy as np

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run
from gradviz.gui.plots.ranges import shared_ranges
from gradviz.gui.worker import DIVERGED, FAILED, RUNNING
from tests.gui.conftest import small_config

EXPLODING = RunConfig(
    task=TaskConfig("adding", 20, 8),
    models=(ModelSetup("RNN", ModelConfig(kind="rnn", nonlinearity="relu", hidden=8, spectral_radius=6.0),
                       TrainConfig(optimizer="sgd", lr=10.0, clip=0.0)),),
    record_every=1,
    device="cpu",
)


def test_divergence_pauses_with_a_banner_and_finite_plots(qtbot, make_window):
    window = make_window(config=EXPLODING, autostart=True)
    qtbot.waitUntil(lambda: window.worker.state == DIVERGED, timeout=30000)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    assert "diverged at step" in window.banner.text() and "gradient norm" in window.banner.text()
    window.paint_now()
    ranges = shared_ranges(window.last_frame, window.worker.baseline.loss)
    assert all(math.isfinite(v) for span in ranges.values() for v in span)
    image = window.columns[0].history_map.image.image
    assert image is None or not np.isinf(image).any()  # NaN (no value) is drawn transparent
    window.columns[0].history_map.image.render()  # and renders
    window.controls.set_config(small_config(), active=False)
    window.reset()
    window.worker.start()
    qtbot.waitUntil(lambda: window.worker.state == RUNNING and window.worker.run.step > 2, timeout=30000)


def test_an_error_in_training_reaches_the_user_and_reset_recovers(qtbot, make_window, monkeypatch):
    window = make_window()

    def out_of_memory(self, record=None):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with monkeypatch.context() as patch:  # undo only this patch, not the question-box answers
        patch.setattr(Run, "train_step", out_of_memory)
        window.worker.start()
        qtbot.waitUntil(lambda: window.worker.state == FAILED, timeout=20000)
        qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
        assert "ran out of memory" in window.banner.text() and "CPU" in window.banner.text()
    window.reset()
    window.worker.start()
    qtbot.waitUntil(lambda: window.worker.run.step > 2, timeout=30000)
    assert window.isVisible()
