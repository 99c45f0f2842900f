"""A fused step split over the batch (engine/batchsplit.py) computes the whole batch's step: the
same loss, metric, gradients and updated weights to float32 rounding, on every generated task;
the same numbers run after run; and only where gradviz.threads says."""

from __future__ import annotations

import threading

import pytest
import torch

import gradviz.threads as threads
import gradviz.workers as workers
from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run, batchsplit
from gradviz.tasks import GENERATED_TASKS


def config(task: str = "adding", kind: str = "lstm", hidden: int = 64, batch: int = 64, tbptt: int = 0,
           forget_gate: bool = True, layers: int = 1, nonlinearity: str = "tanh") -> RunConfig:
    model = ModelConfig(kind=kind, hidden=hidden, forget_gate=forget_gate, layers=layers, nonlinearity=nonlinearity)
    setup = ModelSetup(kind.upper(), model, TrainConfig(tbptt=tbptt))
    return RunConfig(task=TaskConfig(task, seq_len=12, batch=batch), models=(setup,), device="cpu")


def trained(run_config: RunConfig, parts: int, steps: int = 3) -> tuple[Run, list]:
    """A run whose fused steps split into ``parts`` (1: the whole batch), after ``steps`` fused
    steps, with each step's record."""
    threads._applied = parts if parts > 1 else None  # what apply_threads would have chosen
    try:
        run = Run(run_config)
    finally:
        threads._applied = None
    assert (run.learners[0].split is not None) == (parts > 1)
    return run, [run.train_step(record=False) for _ in range(steps)]


def weights(run: Run) -> dict[str, torch.Tensor]:
    return {name: param.detach().clone() for name, param in run.learners[0].model.named_parameters()}


def assert_same_gradients(split: Run, whole: Run) -> None:
    """The last step's gradients (left in ``grad`` after the update), to float32 rounding of
    their sum over the batch. (Weights after Adam's updates are no test of that: its first
    step moves a weight by the learning rate times the sign of a gradient near 0.)"""
    expected = {name: param.grad for name, param in whole.learners[0].model.named_parameters()}
    for name, param in split.learners[0].model.named_parameters():
        scale = float(expected[name].abs().max()) + 1e-30
        torch.testing.assert_close(param.grad, expected[name], rtol=1e-4, atol=1e-5 * scale, msg=name)


@pytest.mark.parametrize("task", GENERATED_TASKS)
def test_a_split_step_is_the_whole_batch_step_on_every_task(task: str) -> None:
    whole, whole_records = trained(config(task), parts=1, steps=1)  # the same weights and batch
    split, split_records = trained(config(task), parts=2, steps=1)
    one, other = whole_records[0].models[0], split_records[0].models[0]
    assert one.loss == pytest.approx(other.loss, rel=1e-5)
    assert one.grad_norm == pytest.approx(other.grad_norm, rel=1e-4)
    assert one.metric == pytest.approx(other.metric, abs=1e-6)
    assert_same_gradients(split, whole)


@pytest.mark.parametrize(("kind", "tbptt", "parts", "layers", "nonlinearity"), [
    ("gru", 0, 2, 1, "tanh"), ("lstm", 5, 2, 1, "tanh"), ("lstm", 0, 3, 1, "tanh"),  # 17 + 17 + 16 rows
    ("rnn", 0, 2, 2, "tanh"), ("rnn", 4, 2, 1, "relu"), ("gru", 5, 2, 2, "tanh"),
])
def test_split_steps_agree_for_every_kind_layers_truncation_and_uneven_parts(
        kind: str, tbptt: int, parts: int, layers: int, nonlinearity: str) -> None:
    hidden = 128 if kind == "rnn" else 64  # an RNN splits above MULTI_WORK too (128^2 x 64)
    setting = dict(kind=kind, tbptt=tbptt, batch=50, layers=layers, nonlinearity=nonlinearity, hidden=hidden)
    whole, _ = trained(config(**setting), parts=1, steps=1)
    split, _ = trained(config(**setting), parts=parts, steps=1)
    assert_same_gradients(split, whole)


def test_an_error_in_a_part_thread_reaches_the_step_and_leaves_no_part_running(monkeypatch) -> None:
    run, _ = trained(config(), parts=2, steps=0)
    model = run.learners[0].model
    forward = type(model).forward

    def failing(self, x, *args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("a part failed")
        return forward(self, x, *args, **kwargs)

    monkeypatch.setattr(type(model), "forward", failing)
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="a part failed"):
        run.train_step(record=False)
    assert torch.get_num_threads() == before  # restored by one_op_thread, error or not


def test_a_split_run_gives_the_same_numbers_run_after_run() -> None:
    first, first_records = trained(config(), parts=2, steps=5)
    second, second_records = trained(config(), parts=2, steps=5)
    assert [r.models[0].loss for r in first_records] == [r.models[0].loss for r in second_records]
    for name, value in weights(first).items():
        assert torch.equal(value, weights(second)[name]), name


def test_every_part_runs_on_its_own_thread_with_subnormals_flushed(monkeypatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(batchsplit, "prepare_thread", lambda device: seen.append(threading.get_ident()))
    trained(config(), parts=2, steps=1)
    assert len(seen) == 2 and len(set(seen)) == 2  # the calling thread and one part thread


def test_a_split_step_adds_its_parts_on_one_intra_op_thread(monkeypatch) -> None:
    """The parts' losses and gradients are added after the part threads finish: on torch's two
    threads that woke its sleeping second thread for every sum (a split step at H=128 took
    44.5 ms instead of 39-40)."""
    run, _ = trained(config(), parts=2, steps=0)
    seen: list[int] = []
    gradients = batchsplit.BatchSplit.gradients

    def recording(self, *args):
        seen.append(torch.get_num_threads())
        return gradients(self, *args)

    monkeypatch.setattr(batchsplit.BatchSplit, "gradients", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        run.train_step(record=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen == [1]


def test_the_one_op_thread_scope_restores_the_count() -> None:
    before = torch.get_num_threads()
    with threads.one_op_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_which_runs_split_and_into_how_many_parts(monkeypatch) -> None:
    big, small = config(hidden=64), config(hidden=16)  # gate products 1 M and 64 K multiply-adds
    monkeypatch.setattr(threads, "_applied", None)  # apply_threads never called (tests, a plain Run)
    assert threads.batch_parts(big, big.models[0]) == 1
    monkeypatch.setattr(threads, "_applied", 1)
    assert threads.batch_parts(big, big.models[0]) == 1
    monkeypatch.setattr(threads, "_applied", 2)
    assert threads.batch_parts(big, big.models[0]) == 2
    assert threads.batch_parts(small, small.models[0]) == 1  # below MULTI_WORK: no gain from a thread
    monkeypatch.setattr(threads, "_applied", 8)
    assert threads.batch_parts(big, big.models[0]) == 4  # at least MIN_PART_ROWS (16) sequences a part
    narrow = config(hidden=128, batch=16)
    assert threads.batch_parts(narrow, narrow.models[0]) == 1


def test_only_the_cpu_and_fused_models_split(monkeypatch) -> None:
    monkeypatch.setattr(threads, "_applied", 2)
    no_forget = Run(config(forget_gate=False))  # the 1997 LSTM has no fused kernel: no split
    assert no_forget.learners[0].split is None
    plain = Run(config())
    assert plain.learners[0].split is not None and plain.learners[0].split.parts == 2


def test_a_recorded_step_keeps_the_whole_batch(monkeypatch) -> None:
    run, _ = trained(config(), parts=2, steps=0)
    monkeypatch.setattr(batchsplit.BatchSplit, "gradients", lambda *args: pytest.fail("a recorded step split"))
    record = run.train_step(record=True)
    assert record.models[0].probes is not None


def test_part_threads_set_their_own_torch_count_to_one(monkeypatch) -> None:
    """torch's count is per thread in OpenMP and MKL: a part thread left at OpenMP's default
    (a thread per core) had MKL open teams of its own, and libgomp then cut every thread's
    spinning short (recorded steps at H=128 took 2x as long, docs/PERFORMANCE.md)."""
    calls: list[tuple[int, bool]] = []
    real = torch.set_num_threads
    monkeypatch.setattr(workers, "_pool", None)  # a fresh pool, whose threads start now
    monkeypatch.setattr(workers.torch, "set_num_threads",
                        lambda count: (calls.append((count, threading.current_thread() is threading.main_thread())),
                                       real(count)))
    trained(config(), parts=2, steps=1)
    assert (1, False) in calls  # a part thread set its own count to one
    workers._pool[1].shutdown()  # this test's pool, whose initializer is the recorder
