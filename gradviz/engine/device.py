"""Which device trains: CUDA, else Apple MPS, else CPU, or the one the user forces."""

from __future__ import annotations

import torch


class DeviceError(RuntimeError):
    """The requested device is not available here; the message says what to do instead."""


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


def prepare_device(device: torch.device) -> None:
    """Vanishing gradients produce subnormal floats, which x86 CPUs process up to 7x slower
    (LECTURE.md); flushing them to zero costs nothing a plot can show (they are < 1e-38)."""
    if device.type == "cpu":
        torch.set_flush_denormal(True)
