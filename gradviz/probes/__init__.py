"""Measurements of a training step (per-timestep gradients, gates, norms) as numpy records."""

from gradviz.probes.gradients import describe_half_life, half_life, norm_per_step
from gradviz.probes.history import DecimatingBuffer
from gradviz.probes.records import ModelRecord, Probes, StepRecord

__all__ = [
    "DecimatingBuffer",
    "ModelRecord",
    "Probes",
    "StepRecord",
    "describe_half_life",
    "half_life",
    "norm_per_step",
]
