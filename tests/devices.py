"""The devices the device-parametrized tests run on, and what each device's arithmetic allows.

Every such test takes the ``device`` fixture (tests/core/conftest.py): ``cpu`` always, ``cuda``
and ``mps`` where this machine has them (skipped with the reason otherwise), and compares the
device's float32 numbers with a CPU float64 reference at ``rtol(device)``.
"""

from __future__ import annotations

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = torch.backends.mps.is_available()

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU on this machine")),
    pytest.param("mps", marks=pytest.mark.skipif(not HAS_MPS, reason="no Apple MPS on this machine")),
]

# Relative tolerance of a device's float32 result against the float64 reference, for the small
# models of these tests (T <= 12, H <= 8; errors grow with T through the recurrence):
RTOL = {
    # float32 (24-bit mantissa, eps 6e-8) with a sequential reduction order: a few ulps per
    # operation, accumulated over T steps forward and back.
    "cpu": 1e-5,
    # float32 with TF32 off (the precision policy), but cuBLAS / cuDNN reduce in another order
    # and fuse multiply-adds: the same rounding per operation, more operations in a different
    # order.
    "cuda": 1e-4,
    # float32 in Metal, whose exp/tanh/sigmoid are fast approximations (about 1e-6 relative
    # each, not correctly rounded) and whose reductions are tree-shaped.
    "mps": 1e-3,
}


def rtol(device: str) -> float:
    return RTOL[device]


def assert_close(actual, expected, device: str, scale: bool = False) -> None:
    """``actual`` (a tensor on any device, or an array) equals the float64 ``expected`` to the
    device's tolerance; ``scale``: entries near 0 are compared to the largest entry instead
    (outputs and weight gradients, which cross 0; not gradient-norm profiles, which span
    decades and are positive)."""
    import numpy as np

    if isinstance(actual, torch.Tensor):
        actual = actual.detach().cpu().double().numpy()
    expected = np.asarray(expected.detach().cpu().numpy() if isinstance(expected, torch.Tensor) else expected)
    atol = rtol(device) * float(np.abs(expected).max()) if scale and expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol(device), atol=atol)
