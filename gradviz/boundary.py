"""The device boundary: every copy from the device to the host, every wait for the device, and
the small linear algebra the probes need. Nothing else in gradviz calls ``.cpu()``,
``.numpy()``, ``.item()``, ``.tolist()`` or ``.double()`` on a model's tensors
(tests/core/test_device_boundary.py scans the source for it).

Why one module:

- **Copy first, then convert.** Apple's MPS has no float64: ``t.double().cpu()`` fails there,
  ``t.detach().cpu()`` then ``.double()`` (or numpy's ``astype``) works on every device.
- **No waiting for a batch.** ``to_device`` moves a new batch to CUDA through pinned memory,
  without waiting for the kernels before it.
- **One transfer per step.** Each copy to the host waits for the device (on a GPU, for every
  kernel queued so far). A training step hands ``host_arrays`` every number it reports (loss,
  gradient norm, metric, and on a recorded step every probe) and gets them back in one copy;
  a step on the fused kernel copies three scalars, nothing more.
- **Small linear algebra on the CPU.** ``eig`` / ``eigvalsh`` / ``svd`` on MPS depend on the
  torch version, and on CUDA each one waits for the device to check its result. The spectral
  radius of W_hh (a non-symmetric eigenproblem, sensitive to rounding) is computed on the
  CPU in float64. Spectral norms take the largest eigenvalue of J^T J in float32: the largest
  eigenvalue of a symmetric matrix is well conditioned (its error is about float32's epsilon
  times the norm), measured against float64 SVD in tests/core/test_device_boundary.py;
  ``spectral_norms`` runs on the tensor's device where it is safe (CPU, CUDA) and on the CPU
  for MPS.

Precision policy (the same on every device; docs/PERFORMANCE.md, "Precision policy"):

- **Matmul precision: full float32 everywhere.** ``engine.device.prepare_device`` turns TF32
  off for cuBLAS and cuDNN, so a step on torch's fused (cuDNN) kernel and a recorded step on
  the explicit loop compute the same function to float32 rounding, as they do on the CPU.
- **Underflow: one threshold on every device.** The CPU flushes subnormal floats to zero (they
  cost up to 7x in time there, LECTURE.md); GPUs keep them. So that a CPU and a GPU run of
  one seed show the same causes and empty cells, every gradient norm below float32's smallest
  normal number (``FLOAT32_TINY``, 1.18e-38) counts as 0, an underflow, on every device
  (``flush_subnormal``, applied where the probes reduce gradients to norms).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import numpy as np
import torch
from torch import Tensor

from gradviz import threads, workers
from gradviz.probes.causes import FLOAT32_TINY  # 1.1754944e-38: smallest normal float32


def host_array(tensor: Tensor, dtype: np.dtype | type | None = None) -> np.ndarray:
    """A numpy copy of ``tensor`` on the host, detached and copied first, converted after (so a
    float64 result works on MPS). Always a copy: it never changes when the model's tensor does
    (``.cpu()`` of a CPU tensor is that tensor). ``dtype`` None keeps the tensor's own."""
    return np.array(tensor.detach().cpu().numpy(), dtype=dtype)


def host_scalar(tensor: Tensor) -> float:
    """One number as a Python float (one wait for the device; keep out of the training step)."""
    return float(tensor.detach().cpu())


def host_list(tensor: Tensor) -> list:
    """A tensor as (nested) Python numbers: token ids, class ids."""
    return tensor.detach().cpu().tolist()


def host_arrays(tensors: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """float32 numpy copies of every tensor (float64 where one of them is float64: a model in
    double precision, on the CPU), shapes kept, in one device-to-host transfer per device the
    tensors live on (one for a training step: everything it reports is on the model's device;
    tensors already on the CPU cost no transfer)."""
    by_device: dict[torch.device, list[str]] = {}
    for name, tensor in tensors.items():
        by_device.setdefault(tensor.device, []).append(name)
    host: dict[str, np.ndarray] = {}
    for names in by_device.values():
        parts = [tensors[name].detach() for name in names]
        dtype = torch.float64 if any(part.dtype == torch.float64 for part in parts) else torch.float32
        parts = [part if part.dtype == dtype else part.to(dtype) for part in parts]
        flat = torch.cat([part.reshape(-1) for part in parts]).cpu().numpy()
        offset = 0
        for name, part in zip(names, parts, strict=True):
            size = part.numel()
            host[name] = flat[offset : offset + size].reshape(tuple(part.shape)).copy()
            offset += size
    return {name: host[name] for name in tensors}  # the caller's order


def host_scalars(*tensors: Tensor) -> list[float]:
    """0-d tensors (one device) as Python floats, in one transfer: a fused step's loss,
    gradient norm and metric (``host_arrays`` does the same for many arrays, at a few more
    microseconds of Python)."""
    return torch.stack([tensor.detach() for tensor in tensors]).tolist()


def to_device(*tensors: Tensor, device: torch.device | str) -> tuple[Tensor, ...]:
    """CPU tensors (a new batch) on ``device``. To CUDA through pinned memory and without
    waiting: a copy from ordinary memory would make the host wait for every kernel queued
    before it, a synchronisation at every step."""
    device = torch.device(device)
    if device.type != "cuda":
        return tuple(tensor.to(device) for tensor in tensors)
    return tuple(tensor.pin_memory().to(device, non_blocking=True) for tensor in tensors)


def synchronize(device: torch.device) -> None:
    """Wait until ``device`` has finished everything queued on it (for timings)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def release_cached_memory(device: torch.device) -> None:
    """Hand memory the allocator keeps cached (freed tensors) back to the device, so that the
    next run, or another process on the same GPU, can have it."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def spectral_radius(matrix: Tensor | np.ndarray) -> float:
    """Largest absolute eigenvalue of a square matrix, on the CPU in float64, on one intra-op
    thread: LAPACK on two threads rounds differently, and the count follows the machine's load
    under the adaptive thread policy."""
    host = torch.from_numpy(np.asarray(matrix, dtype=np.float64)) if isinstance(matrix, np.ndarray) \
        else matrix.detach().cpu().double()
    with threads.one_op_thread():
        return float(torch.linalg.eigvals(host).abs().max())


def spectral_norms(matrices: Tensor) -> Tensor:
    """(...,) largest singular value of each (..., H, H) matrix: the square root of the largest
    eigenvalue of J^T J (a symmetric eigenproblem, 3-4x cheaper than the SVD on a CPU), in
    float32, never differentiated. On MPS, where ``eigvalsh`` depends on the torch version, on
    the CPU; the result is on the device it was computed on. On the CPU the eigenproblems are
    split into parts, one per torch thread, each part on a thread of its own with one intra-op
    thread (``workers.py``): every matrix is solved on one thread however many parts there
    are, so the norms have the same bits whatever the machine's load."""
    matrices = matrices.detach()
    if matrices.device.type not in ("cpu", "cuda"):
        matrices = matrices.cpu()
    if matrices.device.type == "cpu" and matrices.dim() > 2:
        flat = matrices.reshape(-1, *matrices.shape[-2:])
        chunks = flat.chunk(workers.part_count(flat.shape[0]))
        parts = workers.run_parts([partial(_largest_singular_values, chunk) for chunk in chunks])
        return torch.cat(parts).reshape(matrices.shape[:-2])
    return _largest_singular_values(matrices)


def _largest_singular_values(matrices: Tensor) -> Tensor:
    gram = matrices.transpose(-1, -2) @ matrices
    return torch.linalg.eigvalsh(gram)[..., -1].clamp_min(0).sqrt()


def flush_subnormal(values: Tensor) -> Tensor:
    """``values`` with every magnitude below float32's smallest normal set to 0: the precision
    policy's one underflow threshold, whatever the device does with subnormals."""
    return torch.where(values.abs() < FLOAT32_TINY, torch.zeros_like(values), values)
