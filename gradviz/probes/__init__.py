"""Measurements of a training step (per-timestep gradients, gates, norms) as numpy records."""

from gradviz.probes.halflife import (
    Decay,
    describe_decay,
    describe_half_life,
    fit_decay,
    half_life,
    stable_decay,
    stable_half_life,
)
from gradviz.probes.history import DecimatingBuffer
from gradviz.probes.records import ModelRecord, Probes, StepRecord

__all__ = [
    "Decay",
    "DecimatingBuffer",
    "ModelRecord",
    "Probes",
    "StepRecord",
    "describe_decay",
    "describe_half_life",
    "fit_decay",
    "half_life",
    "stable_decay",
    "stable_half_life",
]
