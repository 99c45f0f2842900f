"""Saved runs that can go on training: weights, optimiser state, batch generator and history.

A run file (``runfile.py``) may carry ``state/...`` arrays beside the recorded history:

    state/step                 updates made so far
    state/generator            the batch generator's state (uint8)
    state/model<m>/param/<torch name>     every parameter
    state/model<m>/optim/<i>/<key>        the optimiser's per-parameter tensors (Adam's
                                          moments, SGD's momentum buffer, ...)
    state/model<m>/diverged    whether the model had diverged

``restore_run`` rebuilds a ``Run`` that continues exactly where the saved one stopped, and
``history_from_arrays`` the bounded history the plots show.
"""

from __future__ import annotations

import numpy as np
import torch

from gradviz.boundary import host_array
from gradviz.config import RunConfig
from gradviz.engine.run import Run
from gradviz.io.runfile import has_state
from gradviz.probes.history import DecimatingBuffer, RunHistory
from gradviz.tasks.textdata import Progress


class CheckpointError(ValueError):
    """Saved model state that does not fit the saved configuration."""


def state_arrays(run: Run) -> dict[str, np.ndarray]:
    arrays = {"state/step": np.int64(run.step), "state/generator": host_array(run.generator.get_state())}
    for m, learner in enumerate(run.learners):
        prefix = f"state/model{m}/"
        for name, param in learner.model.torch_parameter_names().items():
            arrays[f"{prefix}param/{name}"] = host_array(param)
        for index, state in learner.optimizer.state_dict()["state"].items():
            for key, value in state.items():
                arrays[f"{prefix}optim/{index}/{key}"] = host_array(torch.as_tensor(value))
        arrays[f"{prefix}diverged"] = np.bool_(learner.diverged)
    return arrays


def restore_run(config: RunConfig, arrays: dict[str, np.ndarray], progress: Progress | None = None) -> Run:
    """A Run of ``config`` with the saved weights, optimiser state, batches and step
    (``progress``: reading a text task's file, as for ``Run``)."""
    if not has_state(arrays):
        raise CheckpointError("this run file has no model state, so training cannot continue from it")
    run = Run(config, progress)
    try:
        for m, learner in enumerate(run.learners):
            prefix = f"state/model{m}/"
            with torch.no_grad():
                for name, param in learner.model.torch_parameter_names().items():
                    saved = arrays[f"{prefix}param/{name}"]
                    if saved.shape != tuple(param.shape):
                        expected = tuple(param.shape)
                        raise CheckpointError(f"{prefix}param/{name} has shape {saved.shape}, expected {expected}")
                    param.copy_(torch.from_numpy(np.ascontiguousarray(saved)))
            optim = learner.optimizer.state_dict()
            state: dict[int, dict[str, torch.Tensor]] = {}
            for key, value in arrays.items():
                if key.startswith(prefix + "optim/"):
                    index, name = key[len(prefix) + 6 :].split("/", 1)
                    state.setdefault(int(index), {})[name] = torch.from_numpy(np.array(value))
            optim["state"] = state
            learner.optimizer.load_state_dict(optim)
            learner.diverged = bool(arrays.get(f"{prefix}diverged", False))
        run.generator.set_state(torch.from_numpy(np.array(arrays["state/generator"], dtype=np.uint8)))
        run.step = int(arrays["state/step"])
    except KeyError as exc:
        raise CheckpointError(f"the run file lacks {exc.args[0]}") from None
    except (RuntimeError, ValueError) as exc:
        raise CheckpointError(f"the saved model state does not fit the configuration: {exc}") from None
    return run


def history_from_arrays(config: RunConfig, arrays: dict[str, np.ndarray]) -> RunHistory:
    """The bounded history of a saved run, ready to be appended to."""
    models = len(config.models)
    history = RunHistory(models)
    if "train_step" in arrays:
        for row, step in enumerate(arrays["train_step"]):
            history.scalars.append(
                step=step,
                loss=arrays["train_loss"][:, row],
                metric=arrays["train_metric"][:, row],
                grad_norm=arrays["train_grad_norm"][:, row],
            )
            history.last_step = int(step)
    steps = arrays.get("step", np.empty(0))
    if not len(steps):
        return history
    capacity = max(len(steps) + 1, 16)
    history._probe_capacity = capacity
    for m in range(models):
        prefix = f"model{m}/"
        names = [key[len(prefix) :] for key in arrays if key.startswith(prefix) and key != prefix + "param_names"]
        buffer = DecimatingBuffer(capacity)
        for row, step in enumerate(steps):
            values = {"step": np.int64(step), "loss": arrays["loss"][m, row], "metric": arrays["metric"][m, row],
                      "grad_norm": arrays["grad_norm"][m, row]}
            values.update({name: arrays[prefix + name][row] for name in names})
            buffer.append(**values)
        history.probes[m] = buffer
        history.param_names[m] = [str(name) for name in arrays[prefix + "param_names"]]
        history.gate_names[m] = [name[5:] for name in names if name.startswith("gate/")]
    return history
