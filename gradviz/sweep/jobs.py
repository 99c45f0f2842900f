"""How many runs a sweep trains at a time when the user does not say (``--jobs``, the tab's Jobs).

On the CPU, one run per core: each child gets ``cores // jobs`` torch threads, and small
recurrent models use a core well. On a GPU, one run at a time: every process would create its
own CUDA context (hundreds of MB each) and hold a recorded step's activations on the one
device, and runs beside each other on one GPU only wait for it in turns. ``--jobs J`` still
asks for more. No torch here: the caller says which device the runs train on.
"""

from __future__ import annotations

GPUS = ("cuda", "mps")


def device_type(described: str) -> str:
    """"cuda", "mps" or "cpu" from ``engine.device.describe_device``'s text ("CUDA: <name>",
    "Apple MPS", "CPU"), which the window has from its trainer without importing torch."""
    if described.startswith("CUDA"):
        return "cuda"
    return "mps" if "MPS" in described else "cpu"


def default_jobs(device_type: str, cores: int) -> int:
    """Runs at a time on ``device_type`` ("cpu", "cuda", "mps") with ``cores`` cores."""
    return 1 if device_type in GPUS else max(1, cores)


def describe_jobs(jobs: int, device_type: str, chosen: bool) -> str:
    """What the command line and the tab say about ``jobs`` (``chosen``: the user set it)."""
    if device_type in GPUS:
        why = "asked for, sharing one GPU" if chosen else "one process per GPU; --jobs J for more"
        return f"{jobs} at a time ({why})"
    return f"{jobs} at a time" + ("" if chosen else " (one per core)")
