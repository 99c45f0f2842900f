"""Every sentence a lesson's scene says is true, checked against live numbers.

A scene's ``facts`` name a check for each sentence of its caption, desk text and answer:
``preset:NAME:START`` runs the test of that preset's sentence (tests/core/test_presets.py, whose
runs are trained once per test session and shared with it), ``lesson:NAME`` runs a check of
this file (``LESSON_CHECKS``). A sentence without a fact fails ``test_every_sentence_has_a_fact``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import test_presets as presets  # the same module (and run cache) pytest collected: tests/core is on the path
import torch

from gradviz.config import ModelConfig, RunConfig, with_overrides
from gradviz.engine import Run
from gradviz.lesson import find_lesson, lesson_names
from gradviz.models import build_model
from gradviz.presets import load_preset
from gradviz.probes.backward_wave import backward_wave
from gradviz.sweep.results import SweepResults
from gradviz.tasks import make_task


def _vanishing_rnn():
    config = load_preset("vanishing").config
    task = make_task("adding", config.task.seq_len)
    model = build_model(config.models[0].model, task.input_size, task.output_size, config.seed).double()
    x, y = task.generate(4, torch.Generator().manual_seed(7))
    return task, model, x.double(), y.double()


def check_one_cell_shared_over_50_steps() -> None:
    """h_t = tanh(W_hh h_{t-1} + W_xh x_t + b): one cell, the same weights at each of the 50 steps."""
    task, model, x, _ = _vanishing_rnn()
    assert task.seq_len == 50 and model.config.kind == "rnn" and model.config.nonlinearity == "tanh"
    rnn = model.rnn
    recurrent = [name for name, _ in rnn.named_parameters() if name.startswith("weight_hh")]
    assert recurrent == ["weight_hh_l0"]  # one W_hh for every step
    outputs, _, _ = model(x, observe=True)
    h = torch.zeros(x.shape[1], model.config.hidden, dtype=torch.float64)
    bias = rnn.bias_ih_l0 + rnn.bias_hh_l0
    for t in range(task.seq_len):
        h = torch.tanh(h @ rnn.weight_hh_l0.T + x[t] @ rnn.weight_ih_l0.T + bias)
        torch.testing.assert_close(outputs[t], h)


def check_gradient_is_a_product_of_jacobians() -> None:
    """dL/dh_k = dL/dh_T prod_{j=k+1..T} diag(1 - h_j^2) W_hh, against autograd."""
    task, model, x, y = _vanishing_rnn()
    rnn = model.rnn
    bias = rnn.bias_ih_l0 + rnn.bias_hh_l0
    hs, h = [], torch.zeros(x.shape[1], model.config.hidden, dtype=torch.float64)
    for t in range(task.seq_len):
        h = torch.tanh(h @ rnn.weight_hh_l0.T + x[t] @ rnn.weight_ih_l0.T + bias)
        h.retain_grad()
        hs.append(h)
    loss = ((model.head(hs[-1]).squeeze(-1) - y.reshape(-1)) ** 2).mean()
    loss.backward()
    carried = hs[-1].grad.clone()  # (B, H)
    w = rnn.weight_hh_l0.detach()
    for k in range(task.seq_len - 2, -1, -1):
        h_next = hs[k + 1].detach()
        carried = (carried * (1 - h_next**2)) @ w  # one Jacobian: diag(1 - h_{k+1}^2) W_hh
        torch.testing.assert_close(hs[k].grad, carried)


def check_backward_pass_is_the_measured_profile() -> None:
    """The animation (B) is the gradient of one real backward pass, from t = 50 back to t = 1, both models."""
    run = presets.preset_run("vanishing", (0, 1))
    x, y = run.task.generate(8, torch.Generator().manual_seed(11))
    waves = [backward_wave(learner.model, run.task, x, y) for learner in run.learners]
    assert [len(wave.arrival) for wave in waves] == [50, 50] and [w.path for w in waves] == ["h", "c"]
    for wave in waves:
        assert np.all(np.isfinite(wave.arrival)) and wave.arrival[-1] > 0


def _first_step_share(seq_len: int) -> float:
    config = with_overrides(load_preset("vanishing").config, {"seq_len": seq_len})
    data = config.to_dict()
    data["models"] = data["models"][:1]
    probes = Run(RunConfig.from_dict(data)).train_step(record=True).models[0].probes
    return float(probes.top_grad_h[0] / probes.top_grad_h[-1])


def check_doubling_t_shrinks_the_first_step() -> None:
    """At T = 100 the first step gets over a million times less of the last step's gradient than at
    T = 50 (measured: 1.7e-10 times as much)."""
    assert _first_step_share(100) < 1e-6 * _first_step_share(50)


def check_clipping_leaves_a_small_gradient_alone() -> None:
    """Clipping at norm 1 changes only a gradient whose norm is above 1: the vanishing preset's
    tanh RNN has its norm below that at most of its first 800 steps."""
    run = presets.trained("vanishing", (0, 1), 800)
    clip = load_preset("vanishing").config.models[0].train.clip
    assert clip == 1.0 and np.mean(run.grad_norms[:, 0] < clip) > 0.5


def _lstm_cell(hidden: int = 5, inputs: int = 2):
    model = build_model(ModelConfig(kind="lstm", hidden=hidden, forget_bias=1.0), inputs, 1, 3).double()
    rnn = model.rnn
    return model, rnn.weight_ih_l0.detach(), rnn.weight_hh_l0.detach(), (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()


def _lstm_step(w_ih, w_hh, bias, x, h, c):
    """The lecture's equations (PyTorch's gate order i, f, g, o)."""
    i, f, g, o = (x @ w_ih.T + h @ w_hh.T + bias).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new, f


def check_lstm_step_is_the_lecture_equations() -> None:
    model, w_ih, w_hh, bias = _lstm_cell()
    x = torch.randn(7, 3, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    outputs, (h_n, c_n), _ = model(x, observe=True)
    h = c = torch.zeros(3, 5, dtype=torch.float64)
    for t in range(7):
        h, c, _ = _lstm_step(w_ih, w_hh, bias, x[t], h, c)
        torch.testing.assert_close(outputs[t], h)
    torch.testing.assert_close(c_n[0], c)


def check_cell_path_is_diag_f() -> None:
    """dC_t/dC_{t-1} = diag(f_t) along the cell path (h_{t-1} and x_t held)."""
    _, w_ih, w_hh, bias = _lstm_cell()
    gen = torch.Generator().manual_seed(2)
    x, h, c = (torch.randn(1, n, generator=gen, dtype=torch.float64) for n in (2, 5, 5))
    jacobian = torch.autograd.functional.jacobian(lambda c_prev: _lstm_step(w_ih, w_hh, bias, x, h, c_prev)[1], c)
    f = _lstm_step(w_ih, w_hh, bias, x, h, c)[2]
    torch.testing.assert_close(jacobian.reshape(5, 5), torch.diag(f.reshape(-1)))


def check_forget_product_at_the_start() -> None:
    """0.73^50 is about 1e-7, and the LSTM's cell gradient at t = 1 is a small part of the last step's."""
    assert 0.5e-7 < (1 / (1 + math.exp(-1))) ** 50 < 2e-7
    _, lstm = presets.at_start("vanishing")
    cell = lstm.headline  # the cell path's gradient per timestep (the dashed line)
    assert cell[0] < 1e-3 * cell[-1]


def check_gru_step_is_the_lecture_equation() -> None:
    """h_t = (1 - z_t) * n_t + z_t * h_{t-1} with PyTorch's gates (r, z, n)."""
    model = build_model(ModelConfig(kind="gru", hidden=4), 3, 1, 5).double()
    rnn = model.rnn
    x = torch.randn(6, 2, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    outputs, _, _ = model(x, observe=True)
    h = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(6):
        xr, xz, xn = (x[t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0).chunk(3, dim=-1)
        hr, hz, hn = (h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0).chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        torch.testing.assert_close(outputs[t], h)
    assert set(model.gate_names) >= {"update", "reset"} and "cell_state" not in model.gate_names


def check_gru_has_three_blocks_to_the_lstms_four() -> None:
    run = presets.preset_run("copy", (0, 1))
    gru, lstm = (learner.model.rnn for learner in run.learners)
    assert (gru.mode, lstm.mode) == ("GRU", "LSTM") and gru.hidden_size == lstm.hidden_size
    hidden = gru.hidden_size
    assert gru.weight_hh_l0.shape[0] == 3 * hidden and lstm.weight_hh_l0.shape[0] == 4 * hidden
    count = [sum(p.numel() for p in m.parameters()) for m in (gru, lstm)]
    assert count[0] * 4 == count[1] * 3


def _sweep() -> SweepResults:
    lesson = find_lesson("rnn")
    scene = next(scene for scene in lesson.scenes if scene.sweep)
    return SweepResults.load(str(lesson.folder / scene.sweep))


def check_sweep_says() -> None:
    """The trainability map's caption, read from the sweep file the scene shows: the tanh RNN
    learns at T = 5 and 10 and fails from T = 20; the LSTM and GRU learn at every T up to 40;
    2 seeds, 1000 steps, learned = final loss below a tenth of the baseline."""
    results = _sweep()
    config = results.config
    assert results.complete and config.task == "adding" and config.seq_lens == (5, 10, 20, 40)
    assert (config.seeds, config.steps) == (2, 1000)
    assert config.threshold.relative and config.threshold.value == 0.1
    success = dict(zip(config.models, results.success, strict=True))  # cell -> rate per T
    np.testing.assert_array_equal(success["rnn"], [1, 1, 0, 0])
    np.testing.assert_array_equal(success["lstm"], [1, 1, 1, 1])
    np.testing.assert_array_equal(success["gru"], [1, 1, 1, 1])


LESSON_CHECKS = {name.removeprefix("check_"): check for name, check in globals().items() if name.startswith("check_")}


def _facts():
    for lesson_name in lesson_names():
        lesson = find_lesson(lesson_name)
        for number, scene in enumerate(lesson.scenes, start=1):
            for start, check in scene.facts.items():
                yield pytest.param(scene, start, check, id=f"{lesson_name}-{number}-{start[:20]}")


def _run(check: str) -> None:
    kind, _, rest = check.partition(":")
    if kind == "lesson":
        LESSON_CHECKS[rest]()
        return
    preset, opening = rest.split(":", 1)
    tests = [test for start, test in presets.CLAIMS[preset] if start.startswith(opening) or opening.startswith(start)]
    assert tests, f"no test of preset {preset} for the sentence starting {opening!r}"
    tests[0]()


def test_every_sentence_has_a_fact() -> None:
    for name in lesson_names():
        for number, scene in enumerate(find_lesson(name).scenes, start=1):
            for sentence in scene.said():
                starts = [start for start in scene.facts if sentence.startswith(start)]
                assert len(starts) == 1, (name, number, sentence)


def test_every_check_named_exists() -> None:
    for name in lesson_names():
        for scene in find_lesson(name).scenes:
            for check in scene.facts.values():
                kind, _, rest = check.partition(":")
                if kind == "lesson":
                    assert rest in LESSON_CHECKS, check
                else:
                    preset, opening = rest.split(":", 1)
                    assert any(start.startswith(opening) or opening.startswith(start)
                               for start, _ in presets.CLAIMS[preset]), check


@pytest.mark.parametrize(("scene", "start", "check"), list(_facts()))
def test_the_scene_says_what_is_true(scene, start, check) -> None:
    _run(check)
