"""The training loop: runs of 1-3 models as generators of records, device choice, control."""

from gradviz.engine.device import DeviceError, choose_device, describe_device
from gradviz.engine.run import Run, RunControl
from gradviz.engine.trainer import ModelTrainer

__all__ = ["DeviceError", "ModelTrainer", "Run", "RunControl", "choose_device", "describe_device"]
