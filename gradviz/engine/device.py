"""Which device trains (CUDA, else Apple MPS, else CPU, or the one the user forces), how it is
set up, and what a device's failure mid-run says.

The precision policy is one for every device (its reasons in ``gradviz/boundary.py`` and
docs/PERFORMANCE.md, "Precision policy"): full float32 matmuls, TF32 off for cuBLAS and for
cuDNN, so that steps on torch's fused kernel and recorded steps compute the same function; and
one underflow threshold, float32's smallest normal, on every device (the CPU flushes
subnormals for speed, and the probes count anything below that threshold as 0 everywhere).
"""

from __future__ import annotations

import re

import torch

from gradviz import workers


class DeviceError(RuntimeError):
    """The requested device is not available here; the message says what to do instead."""


class DeviceFault(RuntimeError):
    """A device failed in the middle of a run (out of memory, an operation it lacks); the
    message names the device and the operation and suggests the CPU."""


def choose_device(name: str = "auto") -> torch.device:
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise DeviceError("device cuda was requested but no CUDA GPU is available; use cpu or auto")
    if name == "mps" and not mps:
        raise DeviceError("device mps was requested but Apple MPS is not available; use cpu or auto")
    if name not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """What the status bar shows: 'CPU', or the GPU's name."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return "CPU"


def device_free_bytes(device: torch.device) -> int | None:
    """Memory a new run could still take on ``device``: CUDA's free memory plus what torch's
    allocator holds cached for reuse (freed tensors of an earlier run); MPS's recommended
    working set minus what its driver has allocated, where this torch has both; None on the
    CPU (its budget is the host's RAM) or where unknown."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    if device.type == "mps":
        mps = torch.mps
        if hasattr(mps, "recommended_max_memory") and hasattr(mps, "driver_allocated_memory"):
            return max(0, mps.recommended_max_memory() - mps.driver_allocated_memory())
    return None


def prepare_device(device: torch.device) -> None:
    """Set up the precision policy (module docstring) in the thread that trains.

    Vanishing gradients produce subnormal floats, which x86 CPUs process up to 7x slower
    (LECTURE.md); flushing them to zero costs nothing a plot can show (they are < 1e-38, and
    the probes count them as 0 on every device). TF32 (on by default for cuDNN's RNNs on
    Ampere and later) would make fused steps compute in 10-bit mantissas and recorded steps in
    float32: it is off for both.
    """
    prepare_thread(device)
    full_float32_matmuls()


def prepare_thread(device: torch.device) -> None:
    """The part of ``prepare_device`` that is per thread (flushing subnormals on the CPU): set
    it in the thread that trains, which need not be the one that set the device up."""
    if device.type == "cpu":
        workers.flush_subnormals(True)


def full_float32_matmuls() -> None:
    """TF32 off for cuBLAS matmuls and cuDNN (convolutions and RNNs), for the whole process;
    harmless without CUDA."""
    cudnn = torch.backends.cudnn
    if hasattr(cudnn, "rnn") and hasattr(cudnn, "fp32_precision"):
        # torch >= 2.9: the new flags only (mixing them with allow_tf32 raises on reading).
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        cudnn.fp32_precision = "ieee"
    else:
        torch.backends.cuda.matmul.allow_tf32 = False
        cudnn.allow_tf32 = False


def device_fault(exc: BaseException, device: torch.device, during: str) -> DeviceFault | None:
    """The ``DeviceFault`` that ``exc``, raised on ``device`` during ``during`` (for example
    "LSTM's recorded step 40"), amounts to; None when it is not a device's failure (the CPU's
    errors, and any other error, stay what they are)."""
    if device.type == "cpu":
        return None
    text = str(exc)
    lower = text.lower()
    operation = re.search(r"aten::(\w+)", text)  # MPS names the operator it lacks this way
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in lower:
        what, advice = "ran out of memory", "try --device cpu, or a smaller batch, T or hidden size"
    elif isinstance(exc, NotImplementedError) or "not implemented" in lower:
        what = f"has no implementation of {operation.group(1) if operation else 'an operation'}"
        advice = "try --device cpu"
    else:
        return None
    first_line = text.strip().splitlines()[0][:200] if text.strip() else type(exc).__name__
    return DeviceFault(f"{describe_device(device)} {what} during {during} ({first_line}); {advice}")
