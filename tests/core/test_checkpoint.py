"""A saved run continues exactly where it stopped: same weights, optimiser, batches, history."""

import numpy as np
import pytest

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run
from gradviz.io.checkpoint import CheckpointError, history_from_arrays, restore_run, state_arrays
from gradviz.io.runfile import load_run, run_arrays, save_arrays
from gradviz.probes.history import RunHistory


def _config(optimizer: str, device: str = "cpu") -> RunConfig:
    models = (
        ModelSetup("RNN", ModelConfig(kind="rnn", hidden=6), TrainConfig(optimizer=optimizer, lr=0.01)),
        ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=6), TrainConfig(optimizer=optimizer, lr=0.01)),
    )
    return RunConfig(task=TaskConfig("adding", 10, 8), models=models, record_every=3, device=device)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_a_restored_run_continues_bit_for_bit(tmp_path, optimizer, device):
    """On every device: the state is copied to the host and back exactly, and the same kernels
    on the same inputs give the same bits (cuDNN's standard RNN algorithm is deterministic)."""
    config = _config(optimizer, device)
    run, history = Run(config), RunHistory(2)
    for _ in range(10):
        history.add(run.train_step())
    baseline = run.task.baseline()
    arrays = {**run_arrays(config, history, (baseline.loss, baseline.metric)), **state_arrays(run)}
    save_arrays(tmp_path / "run.npz", arrays)
    expected = [[m.loss for m in run.train_step().models] for _ in range(5)]

    saved = load_run(tmp_path / "run.npz")
    restored = restore_run(saved.config, saved.arrays)
    assert restored.step == 10
    got = [[m.loss for m in restored.train_step().models] for _ in range(5)]
    assert got == expected


def test_history_comes_back_with_every_recorded_array(tmp_path):
    config = _config("adam")
    run, history = Run(config), RunHistory(2)
    for _ in range(10):
        history.add(run.train_step())
    arrays = run_arrays(config, history, (1.0, 0.5))
    back = history_from_arrays(config, arrays)
    again = run_arrays(config, back, (1.0, 0.5))
    assert set(again) == set(arrays)
    for key in arrays:
        np.testing.assert_array_equal(again[key], arrays[key], err_msg=key)


def test_state_that_does_not_fit_the_config_is_refused(tmp_path):
    config = _config("adam")
    run = Run(config)
    arrays = state_arrays(run)
    bigger = RunConfig.from_dict({**config.to_dict(), "models": [
        {**config.to_dict()["models"][0], "model": {"kind": "rnn", "hidden": 7}}, config.to_dict()["models"][1]]})
    with pytest.raises(CheckpointError, match="shape"):
        restore_run(bigger, arrays)
    with pytest.raises(CheckpointError, match="no model state"):
        restore_run(config, {})
