"""The training loop: runs of 1-3 models as generators of records, device choice, control.

The names below import torch, so they load on first use (PEP 562): the window's process
imports this package's torch-free module ``engine.text_reports`` (what the trainer sends it)
and must not import torch with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradviz.engine.device import DeviceError, choose_device, describe_device
    from gradviz.engine.learner import Learner
    from gradviz.engine.run import Run, RunControl

_HOMES = {
    "DeviceError": "device", "choose_device": "device", "describe_device": "device",
    "Run": "run", "RunControl": "run", "Learner": "learner",
}

__all__ = ["DeviceError", "Learner", "Run", "RunControl", "choose_device", "describe_device"]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
