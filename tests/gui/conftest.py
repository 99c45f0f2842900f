"""Fixtures for driving the real window offscreen (QT_QPA_PLATFORM is set in tests/conftest.py)."""

import dataclasses

import pytest

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.gui.theme import DARK, apply_theme


def small_config(models: int = 2) -> RunConfig:
    """The default demo's shape (tanh RNN vs LSTM, adding problem), small enough to be quick."""
    setups = (
        ModelSetup("tanh RNN", ModelConfig(kind="rnn", hidden=8), TrainConfig(lr=0.02)),
        ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=8), TrainConfig(lr=0.02)),
        ModelSetup("GRU", ModelConfig(kind="gru", hidden=8), TrainConfig(lr=0.02)),
    )
    task = TaskConfig("adding", seq_len=12, batch=8)
    return RunConfig(task=task, models=setups[:models], record_every=2, device="cpu")


@pytest.fixture
def make_window(qtbot):
    """Build a MainWindow (not started unless asked); every window is closed at the end."""
    from gradviz.gui.main_window import MainWindow

    apply_theme(DARK)
    windows = []

    def make(config: RunConfig | None = None, autostart: bool = False, **changes):
        config = config or small_config()
        if changes:
            config = dataclasses.replace(config, **changes)
        window = MainWindow(config, autostart=autostart)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        qtbot.waitUntil(lambda: window.worker.run is not None, timeout=20000)
        return window

    yield make
    for window in windows:
        window.close()
        assert window.worker.thread.wait(10000)
