"""The backward wave's numbers: the training probe's gradients and independently measured factors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig
from gradviz.engine import Run
from gradviz.models import build_model
from gradviz.probes.backward_wave import backward_wave
from gradviz.tasks import make_task
from tests.devices import assert_close


def test_the_wave_is_the_training_probe_and_the_gates_are_its_factors() -> None:
    setups = tuple(ModelSetup(label=kind, model=ModelConfig(kind=kind, hidden=6)) for kind in ("rnn", "lstm", "gru"))
    config = RunConfig(task=TaskConfig(name="adding", seq_len=9, batch=8), models=setups, seed=3)
    run = Run(config)
    x, y = run.task.generate(8, torch.Generator().manual_seed(3))  # the run's first batch
    waves = [backward_wave(learner.model, run.task, x, y) for learner in run.learners]
    record = run.train_step(record=True)
    rnn, lstm, gru = (model.probes for model in record.models)
    np.testing.assert_allclose(waves[0].arrival, rnn.grad_h[-1], rtol=1e-5)
    np.testing.assert_allclose(waves[1].arrival, lstm.grad_c[-1], rtol=1e-5)  # the LSTM's cell path
    np.testing.assert_allclose(waves[2].arrival, gru.grad_h[-1], rtol=1e-5)
    np.testing.assert_allclose(waves[1].factor[1:], lstm.gate_means["forget"][-1][1:], rtol=1e-5)
    np.testing.assert_allclose(waves[2].factor[1:], gru.gate_means["update"][-1][1:], rtol=1e-5)
    assert all(np.isnan(wave.factor[0]) for wave in waves)
    assert [wave.path for wave in waves] == ["h", "c", "h"]


def test_the_rnn_factor_is_the_norm_of_the_measured_step_jacobian() -> None:
    task = make_task("adding", 5)
    model = build_model(ModelConfig(kind="rnn", hidden=4), task.input_size, task.output_size, 2).double()
    x, y = task.generate(3, torch.Generator().manual_seed(5))
    x = x.double()
    wave = backward_wave(model, task, x, y)
    w_ih, w_hh = model.rnn.weight_ih_l0, model.rnn.weight_hh_l0
    bias = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
    h = torch.zeros(3, 4, dtype=torch.float64)
    for t in range(5):
        if t:
            norms = []
            for i in range(3):
                def step(previous, x_t=x[t, i]):
                    return torch.tanh(w_ih @ x_t + bias + w_hh @ previous)

                jacobian = torch.autograd.functional.jacobian(step, h[i].detach())
                norms.append(np.linalg.norm(jacobian.detach().numpy(), 2))
            assert abs(wave.factor[t] - np.mean(norms)) < 1e-10
        h = torch.tanh(x[t] @ w_ih.T + bias + h @ w_hh.T).detach()


def test_the_wave_arrives_from_the_loss_backwards() -> None:
    task = make_task("adding", 6)
    model = build_model(ModelConfig(kind="lstm", hidden=3), task.input_size, task.output_size, 0)
    wave = backward_wave(model, task, *task.generate(4, torch.Generator().manual_seed(0)))
    assert np.isnan(wave.revealed(0)[:5]).all() and wave.revealed(0)[5] == wave.arrival[5]
    np.testing.assert_array_equal(wave.revealed(5), wave.arrival)
    assert np.isnan(wave.revealed(2)).sum() == 3



def test_the_animation_is_written_as_a_gif_or_a_png_sequence(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from PIL import Image

    from gradviz.io.backward_animation import frame_steps, write_animation

    task = make_task("adding", 6)
    batch = task.generate(4, torch.Generator().manual_seed(0))
    waves = [(kind, backward_wave(build_model(ModelConfig(kind=kind, hidden=3), 2, 1, 0), task, *batch))
             for kind in ("rnn", "lstm")]
    assert frame_steps(6, duration=3.0, fps=15) == [1, 2, 3, 4, 5, 6]  # never more frames than steps
    assert frame_steps(100, duration=2.0, fps=10)[:3] == [5, 10, 15]
    (gif,) = write_animation(waves, tmp_path / "wave.gif", size=(480, 320))
    with Image.open(gif) as image:
        assert image.n_frames == 6 and image.size == (480, 320) and image.info["loop"] == 0
    frames = write_animation(waves, tmp_path / "wave.png", duration=1.0, fps=3, size=(480, 320))
    assert [path.name for path in frames] == ["wave_000.png", "wave_001.png", "wave_002.png"]
    with pytest.raises(FileExistsError):
        write_animation(waves, tmp_path / "wave.gif")
    other = make_task("adding", 7)
    longer = backward_wave(build_model(ModelConfig(kind="gru", hidden=3), 2, 1, 0), other,
                           *other.generate(4, torch.Generator()))
    with pytest.raises(ValueError, match="one length"):
        write_animation([*waves, ("gru", longer)], tmp_path / "other.gif")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_wave_on_every_device_equals_the_float64_wave(device: str, kind: str) -> None:
    task = make_task("adding", 9)
    model = build_model(ModelConfig(kind=kind, hidden=6), task.input_size, task.output_size, 2)
    x, y = task.generate(4, torch.Generator().manual_seed(5))
    reference = backward_wave(copy.deepcopy(model).double(), task, x.double(), y.double())
    wave = backward_wave(model.to(device), task, x.to(device), y.to(device))
    assert_close(wave.arrival, reference.arrival, device)
    assert_close(wave.factor[1:], reference.factor[1:], device)
