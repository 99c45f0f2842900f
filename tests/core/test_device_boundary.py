"""The device boundary (gradviz/boundary.py) and the device's other duties: host copies only
there, copied first and converted after (MPS has no float64), one transfer per training step,
the precision policy, the GPU's memory, a device's faults, and sweeps on a GPU.

No GPU is needed: an MPS tensor's refusal of float64 is imitated by a tensor subclass, a
GPU's kept subnormals by the CPU with flushing off, CUDA's memory facts by monkeypatching.
"""

from __future__ import annotations

import ast
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

import gradviz
import gradviz.engine.run as run_module
from gradviz import boundary, workers
from gradviz.budget import MemoryRefused, check_run
from gradviz.cli import main
from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig
from gradviz.engine import Run
from gradviz.engine.device import DeviceFault, device_fault, device_free_bytes, full_float32_matmuls
from gradviz.session.trainer import readable
from gradviz.sweep.jobs import default_jobs, describe_jobs, device_type

PACKAGE = Path(gradviz.__file__).parent
HOST_COPIES = {"cpu", "numpy", "item", "tolist", "double", "synchronize", "empty_cache"}  # and waits
# Calls of those names outside the boundary that are not on a model's tensors, with how many
# each file may have (a new one fails the scan until it goes through the boundary or here).
NOT_MODEL_TENSORS = {
    ("tasks/text.py", "tolist"): 1,  # CPU data preparation: a permutation of filler sentences, once
    ("tasks/textdata.py", "tolist"): 2,  # numpy word counts of a text file
    ("session/frames.py", "tolist"): 1,  # numpy arrays of a saved run / shared memory
    ("gui/panels/words.py", "tolist"): 3,  # numpy colours
    ("gui/export_dialog.py", "item"): 4,  # Qt model items
    ("gui/panels/reproduction.py", "tolist"): 1,  # numpy lengths read from a reproduction file
}


def test_only_the_boundary_copies_to_the_host() -> None:
    found: Counter = Counter()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == "boundary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in HOST_COPIES:
                found[(relative, node.func.attr)] += 1
    assert dict(found) == NOT_MODEL_TENSORS


class RefusesFloat64(torch.Tensor):
    """A CPU tensor that behaves like an MPS one where it matters here: it cannot become float64
    until ``.cpu()`` has copied it to the host (where it becomes a plain tensor)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        wanted = [a for a in (*args[1:], kwargs.get("dtype")) if isinstance(a, torch.dtype)]
        if func is torch.Tensor.double or torch.float64 in wanted:
            raise TypeError("Cannot convert a MPS Tensor to float64 dtype as the MPS framework doesn't support float64")
        if func is torch.Tensor.cpu:
            with torch._C.DisableTorchFunctionSubclass():
                return args[0].clone()
        return super().__torch_function__(func, types, args, kwargs)


def test_the_boundary_copies_first_and_converts_after() -> None:
    matrix = torch.tensor([[0.0, 2.0], [-2.0, 0.0]])  # eigenvalues +-2i: radius 2
    on_mps = matrix.as_subclass(RefusesFloat64)
    with pytest.raises(TypeError, match="float64"):
        on_mps.double().cpu()  # what models/init.py and backward_wave.py did before
    assert boundary.spectral_radius(on_mps) == pytest.approx(2.0, rel=1e-12)
    copied = boundary.host_array(on_mps, np.float64)
    assert copied.dtype == np.float64 and np.array_equal(copied, matrix.numpy())
    host = boundary.host_arrays({"a": on_mps, "b": on_mps[0]})
    assert host["a"].dtype == np.float32 and np.array_equal(host["b"], [0.0, 2.0])


def test_host_copies_do_not_change_with_the_model() -> None:
    weight = torch.ones(3)
    copied = boundary.host_array(weight)
    weight.add_(1)
    assert copied.tolist() == [1.0, 1.0, 1.0]


def test_spectral_norms_in_float32_match_float64_svd() -> None:
    """The largest eigenvalue of J^T J in float32 is safe: measured against float64 SVD on
    Jacobians of the shapes a recorded step measures (diag(1 - h^2) W_hh, H = 128)."""
    generator = torch.Generator().manual_seed(0)
    w_hh = torch.randn(128, 128, generator=generator) / 128**0.5
    slope = 1 - torch.rand(16, 4, 128, generator=generator) ** 2
    jacobians = slope.unsqueeze(-1) * w_hh  # (16, 4, 128, 128)
    measured = boundary.spectral_norms(jacobians)
    expected = torch.linalg.matrix_norm(jacobians.double(), ord=2)
    np.testing.assert_allclose(measured.numpy(), expected.numpy(), rtol=1e-5)


def test_spectral_norms_have_the_same_bits_however_many_parts(monkeypatch) -> None:
    """On the CPU the eigenproblems run in parts, one per torch thread, each part on a thread
    of its own with one intra-op thread (workers.py): every matrix is solved on one thread
    whatever the part count, so the governor changing the count with the load changes no bit.
    (LAPACK on two threads rounds differently, by about 1e-6 at H = 128.)"""
    generator = torch.Generator().manual_seed(1)
    w_hh = torch.randn(128, 128, generator=generator) / 128**0.5
    jacobians = (1 - torch.rand(5, 3, 128, generator=generator) ** 2).unsqueeze(-1) * w_hh  # 15: uneven
    ran_on: list[tuple[int, int]] = []
    solve = boundary._largest_singular_values

    def recording(chunk):
        ran_on.append((threading.get_ident(), torch.get_num_threads()))
        return solve(chunk)

    monkeypatch.setattr(boundary, "_largest_singular_values", recording)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        reference = solve(jacobians)  # the whole batch on one thread
        for threads_now in (1, 2, 3):
            torch.set_num_threads(threads_now)
            ran_on.clear()
            measured = boundary.spectral_norms(jacobians)
            assert torch.get_num_threads() == threads_now
            assert torch.equal(measured, reference) and measured.shape == (5, 3), threads_now
            assert len(ran_on) == threads_now  # one part per thread (a pool thread may take two)
            here = [thread == threading.get_ident() for thread, _ in ran_on]
            assert any(here) and (threads_now == 1 or not all(here))  # the caller and the pool
            assert all(count == 1 for _, count in ran_on)  # each part with one intra-op thread
    finally:
        torch.set_num_threads(before)


# ---- one transfer per step ---------------------------------------------------------------


def _count_host_copies(monkeypatch) -> tuple[list, list]:
    """Host copies made by gradviz code outside the boundary, and the boundary's transfers."""
    stray: list = []
    for name in ("cpu", "item", "tolist", "numpy", "__float__", "__int__", "__bool__"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            caller = Path(sys._getframe(1).f_code.co_filename)
            if PACKAGE in caller.parents and caller.name != "boundary.py":
                stray.append((_name, caller.name, sys._getframe(1).f_lineno))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    transfers: list = []

    def host_arrays(tensors):
        transfers.append(len(tensors))
        return boundary.host_arrays(tensors)

    def host_scalars(*tensors):
        transfers.append(len(tensors))
        return boundary.host_scalars(*tensors)

    monkeypatch.setattr("gradviz.engine.learner.host_arrays", host_arrays)
    monkeypatch.setattr("gradviz.engine.learner.host_scalars", host_scalars)
    return stray, transfers


@pytest.mark.parametrize("task", ["adding", "names"])
def test_a_training_step_copies_to_the_host_once(monkeypatch, task: str) -> None:
    setups = tuple(ModelSetup(kind, ModelConfig(kind=kind, hidden=6)) for kind in ("rnn", "lstm", "gru"))
    run = Run(RunConfig(task=TaskConfig(task, seq_len=12, batch=4, distance=3), models=setups, device="cpu"))
    stray, transfers = _count_host_copies(monkeypatch)
    run.train_step(record=False)
    assert transfers == [3, 3, 3]  # per model: loss, gradient norm and metric, together
    transfers.clear()
    record = run.train_step(record=True)
    assert len(transfers) == 3 and all(count > 3 for count in transfers)  # the probes go along
    assert all(model.probes is not None for model in record.models)
    assert stray == []


# ---- the precision policy ----------------------------------------------------------------


def test_matmuls_are_full_float32_for_cublas_and_cudnn() -> None:
    full_float32_matmuls()
    if hasattr(torch.backends.cudnn, "rnn") and hasattr(torch.backends.cudnn, "fp32_precision"):
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
        assert torch.backends.cudnn.rnn.fp32_precision == "ieee"  # the fused steps' cuDNN RNNs
        assert torch.backends.cudnn.conv.fp32_precision == "ieee"
    else:
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32


def _underflow(monkeypatch, flush: bool) -> int:
    monkeypatch.setattr(run_module, "prepare_thread", lambda device: workers.flush_subnormals(flush))
    config = RunConfig(task=TaskConfig("adding", seq_len=300, batch=8),
                       models=(ModelSetup("m", ModelConfig(kind="rnn", hidden=32)),), seed=0, device="cpu")
    try:
        return Run(config).train_step(record=True).models[0].probes.underflow_steps
    finally:
        workers.flush_subnormals(True)


def test_a_device_that_keeps_subnormals_counts_nearly_the_same_underflow(monkeypatch) -> None:
    """The CPU flushes subnormals; a GPU keeps them. With the threshold at float32's smallest
    normal on every device, the CPU with flushing off (a GPU's arithmetic) counts nearly the
    same underflowed steps: only a gradient the CPU flushed mid-backward that a GPU carries on
    as a subnormal, back into the normal range, differs (measured: 116 vs 109 of 300 steps
    here; without the threshold, 116 vs 77)."""
    flushed, kept = _underflow(monkeypatch, True), _underflow(monkeypatch, False)
    assert flushed > 50
    assert 0 <= flushed - kept <= 0.03 * 300


def test_norms_below_the_smallest_normal_are_zero() -> None:
    from gradviz.probes.gradients import norms_over_time

    grad = torch.zeros(3, 4, 3)
    grad[0, 0] = 5e-39  # a subnormal row: 0, whatever the device does with subnormals
    grad[1, 0, 0], grad[1, 1, 0] = 2e-38, 1e-30  # normal rows
    grad[2, 0, 0] = 2e-38  # a normal row whose batch mean (5e-39) is subnormal: 0 too
    norms = norms_over_time(grad, 3, grad)
    assert norms[0].item() == 0.0 and norms[2].item() == 0.0
    assert norms[1].item() == pytest.approx((2e-38 + 1e-30) / 4, rel=1e-6)


# ---- GPU memory ----------------------------------------------------------------------------


def big_config(device: str = "cuda") -> RunConfig:
    setup = ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=256))
    return RunConfig(task=TaskConfig("adding", seq_len=2000, batch=128), models=(setup,), device=device)


def test_a_run_too_large_for_the_gpu_is_refused_in_one_line() -> None:
    with pytest.raises(MemoryRefused) as refused:
        check_run(big_config(), available=64 * 2**30, device_free=2 * 2**30, device_name="CUDA: Tiny GPU")
    message = str(refused.value)
    assert "\n" not in message
    assert "of memory on CUDA: Tiny GPU, but only 2.0 GB is available there" in message
    assert "lower the sequence length T (T=" in message
    # The same run fits a GPU with room, and the host keeps only the history and the weights.
    check_run(big_config(), available=2 * 2**30, device_free=80 * 2**30)


def test_cuda_free_memory_counts_what_torch_keeps_cached(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (3 * 2**30, 80 * 2**30))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 2 * 2**30)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 2**30)
    assert device_free_bytes(torch.device("cuda")) == 4 * 2**30
    monkeypatch.setattr(torch.mps, "recommended_max_memory", lambda: 16 * 2**30, raising=False)
    monkeypatch.setattr(torch.mps, "driver_allocated_memory", lambda: 6 * 2**30, raising=False)
    assert device_free_bytes(torch.device("mps")) == 10 * 2**30
    assert device_free_bytes(torch.device("cpu")) is None


def test_a_run_is_checked_against_the_gpu_before_anything_is_built(monkeypatch) -> None:
    monkeypatch.setattr(run_module, "choose_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(run_module, "device_free_bytes", lambda device: 2**30)
    monkeypatch.setattr(run_module, "describe_device", lambda device: "CUDA: Tiny GPU")
    with pytest.raises(MemoryRefused, match="memory on CUDA: Tiny GPU"):
        Run(big_config("cuda"))


# ---- a device's faults ---------------------------------------------------------------------


def test_a_device_fault_names_the_device_and_the_operation_and_suggests_the_cpu(monkeypatch) -> None:
    names = {"mps": "Apple MPS", "cuda": "CUDA: Test GPU"}
    monkeypatch.setattr("gradviz.engine.device.describe_device", lambda device: names[device.type])
    lacking = NotImplementedError("The operator 'aten::linalg_eigvals' is not currently implemented for the MPS device")
    fault = device_fault(lacking, torch.device("mps"), "LSTM's recorded step 40")
    assert isinstance(fault, DeviceFault)
    assert str(fault).startswith("Apple MPS has no implementation of linalg_eigvals during LSTM's recorded step 40")
    assert str(fault).endswith("try --device cpu")
    out_of_memory = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    fault = device_fault(out_of_memory, torch.device("cuda"), "tanh RNN's fused step 3")
    assert str(fault).startswith("CUDA: Test GPU ran out of memory during tanh RNN's fused step 3")
    assert "--device cpu" in str(fault)
    assert "--device cpu" in readable(fault) and "run so far is kept" in readable(fault)
    assert device_fault(RuntimeError("shape mismatch"), torch.device("cuda"), "x") is None
    assert device_fault(lacking, torch.device("cpu"), "x") is None  # the CPU's errors stay what they are


def test_a_fault_mid_run_becomes_a_device_fault(monkeypatch) -> None:
    run = Run(RunConfig(task=TaskConfig("adding", seq_len=6, batch=2),
                        models=(ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=4)),), device="cpu"))
    batch = run.task.generate(2, torch.Generator().manual_seed(0))
    run.device = torch.device("mps")  # as if it trained there (its batches stay on the CPU)
    monkeypatch.setattr(run.task, "generate", lambda size, generator, device: batch)

    def lacking(*args, **kwargs):
        raise NotImplementedError("The operator 'aten::_foreach_norm' is not currently implemented for the MPS device.")

    monkeypatch.setattr(run.learners[0], "step", lacking)
    with pytest.raises(DeviceFault, match="no implementation of _foreach_norm during LSTM's recorded step 0"):
        run.train_step(record=True)


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_a_device_this_machine_lacks_is_one_line_and_exit_2(monkeypatch, capsys, device: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert main(["train", "--steps", "1", "--device", device, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"device {device} was requested" in err


# ---- sweeps on a GPU -----------------------------------------------------------------------


def test_sweeps_train_one_run_per_gpu_unless_told() -> None:
    assert default_jobs("cuda", 16) == 1 and default_jobs("mps", 8) == 1
    assert default_jobs("cpu", 16) == 16
    assert describe_jobs(1, "cuda", chosen=False) == "1 at a time (one process per GPU; --jobs J for more)"
    assert describe_jobs(4, "cuda", chosen=True) == "4 at a time (asked for, sharing one GPU)"
    assert describe_jobs(2, "cpu", chosen=False) == "2 at a time (one per core)"
    # The window knows its device from the trainer's description only (no torch there).
    assert [device_type(text) for text in ("CUDA: NVIDIA H100 80GB HBM3", "Apple MPS", "CPU")] == ["cuda", "mps", "cpu"]


def test_the_command_line_reports_a_device_fault_in_one_line(monkeypatch, capsys) -> None:
    def failing(self, record=None, extras=frozenset()):
        raise DeviceFault("CUDA: Test GPU ran out of memory during LSTM's recorded step 0 (CUDA out of memory); "
                          "try --device cpu, or a smaller batch, T or hidden size")

    monkeypatch.setattr(Run, "train_step", failing)
    assert main(["train", "--steps", "1", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--device cpu" in err
    assert err.startswith("gradviz: error: CUDA: Test GPU ran out of memory")


def test_reset_hands_the_old_runs_gpu_memory_back(monkeypatch) -> None:
    import queue
    import threading

    from gradviz.session import trainer as trainer_module
    from gradviz.session.trainer import TrainerLoop
    from tests.configs import small_config

    released: list[str] = []
    monkeypatch.setattr(trainer_module, "release_cached_memory", lambda device: released.append(device.type))
    events: list = []
    loop = TrainerLoop(small_config(1), queue.Queue(), events.append, threading.Event())
    try:
        loop._build(small_config(1))
        assert released == []  # the first run: nothing to hand back
        old = loop.run_
        old.device = torch.device("cuda")  # as if it had trained on a GPU
        loop._build(small_config(1))
        # Its freed activations before the new run is checked and built, its weights after.
        assert released == ["cuda", "cuda"] and loop.run_ is not old
        kept = loop.run_
        kept.device = torch.device("cuda")
        released.clear()

        def refused(config, progress=None):
            raise MemoryRefused("this run needs 90 GB of memory on CUDA: Test GPU, but only 8 GB is available there")

        monkeypatch.setattr(trainer_module, "Run", refused)
        loop._build(small_config(1))
        assert loop.run_ is kept and released == ["cuda"]  # a refused Reset changes nothing else
        assert "Cannot reset: this run needs 90 GB of memory on CUDA: Test GPU" in events[-2].message
    finally:
        loop.frames.close()


def test_a_batch_goes_to_cuda_through_pinned_memory_without_waiting(monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self: calls.append("pin") or self)
    monkeypatch.setattr(torch.Tensor, "to", lambda self, *args, **kwargs: calls.append((args, kwargs)) or self)
    x, y = boundary.to_device(torch.zeros(3), torch.ones(2), device="cuda")
    assert calls == ["pin", ((torch.device("cuda"),), {"non_blocking": True})] * 2
    calls.clear()
    boundary.to_device(torch.zeros(3), device="cpu")
    assert calls == [((torch.device("cpu"),), {})]  # the CPU: no pinning (it needs a GPU)
