"""The self-check ``gradviz doctor`` runs on a device: are the numbers right here, does the
trainer process start and stop, can a figure be written?

- **recorded steps**: a tanh RNN, an LSTM and a GRU train side by side for ``steps`` recorded
  steps on the device; before each step their weights are copied out and the same batch is
  regenerated from the seed, and an independent float64 BPTT on the CPU (the equations of
  LECTURE.md, one timestep at a time, with autograd on every h_t and c_t, as
  tests/core/test_probes.py does) gives the loss and the plotted gradient profile
  (batch mean of |dl_i/dh_t|; the LSTM's |dl_i/dc_t| too). Every recorded number must match it
  to the device's tolerance.
- **trainer process**: the window's trainer child (``TrainerProcess``) starts, builds the run
  on the device, trains a few steps, sends frames, and stops when asked.
- **run file and figure**: the recorded run is written as a run file, read back (its layout
  checks), and its gradient plot drawn as a PNG with matplotlib.

Each check is one ``Check``: passed or failed with the reason, and its seconds.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig

KINDS = ("rnn", "lstm", "gru")
STEPS = 20
# Error allowed between a float32 recorded step and the float64 reference, relative to the
# profile's largest value. float32 keeps 7 digits; 12 steps of BPTT lose about one (the CPU
# measures under 1e-6). TF32 matmuls (10
# bits of mantissa) would miss by ~1e-3 and fail here, on purpose: the recorded step must not
# use them. Apple's GPU may reorder float32 sums more freely, hence its wider bound.
TOLERANCE = {"cpu": 1e-4, "cuda": 1e-4, "mps": 1e-3}
TRAINER_STEPS = 5
TRAINER_TIMEOUT_S = 25.0


@dataclass(frozen=True)
class Check:
    """One line of the self-check: ``detail`` says what was measured, or why it failed."""

    device: str
    name: str
    ok: bool
    detail: str
    seconds: float

    def line(self) -> str:
        verdict = "ok" if self.ok else f"FAILED: {self.detail}"
        detail = f" ({self.detail})" if self.ok else ""
        return f"  {self.name:<28} {verdict}{detail}  [{self.seconds:.1f} s]"


def check_config(device: str) -> RunConfig:
    """Three small models side by side on the adding problem, every step recorded."""
    setups = tuple(ModelSetup(kind.upper(), ModelConfig(kind=kind, hidden=8), TrainConfig(lr=0.02)) for kind in KINDS)
    return RunConfig(task=TaskConfig("adding", seq_len=12, batch=8), models=setups, record_every=1, seed=7,
                     device=device)


def reference(kind: str, params: dict[str, np.ndarray], x, y) -> dict:
    """Loss and gradient profiles of one single-layer model of ``kind`` on batch (x, y), in
    float64 on the CPU, written from the equations (not from gradviz's cells): ``loss`` the
    batch-mean MSE, ``grad_h`` / ``grad_c`` (T,) the batch mean of each sequence's
    |d l_i/dh_t| / |d l_i/dc_t|, l_i = (y_i^ - y_i)^2 its own loss."""
    import torch

    p = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()}
    w_ih, w_hh, b_ih, b_hh = (p[f"{name}_l0"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    x = x.to(torch.float64)  # (T, B, I)
    hidden = w_hh.shape[1]
    h = torch.zeros(x.shape[1], hidden, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs, cs = [], []
    for x_t in x:
        if kind == "rnn":
            h = torch.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        elif kind == "lstm":
            i, f, g, o = (x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh).split(hidden, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            c.retain_grad()
            cs.append(c)
        else:
            x_r, x_z, x_n = (x_t @ w_ih.T + b_ih).split(hidden, dim=1)
            h_r, h_z, h_n = (h @ w_hh.T + b_hh).split(hidden, dim=1)
            update = torch.sigmoid(x_z + h_z)
            new = torch.tanh(x_n + torch.sigmoid(x_r + h_r) * h_n)
            h = (1 - update) * new + update * h
        h.retain_grad()
        hs.append(h)
    prediction = h @ p["head.weight"].T + p["head.bias"]  # (B, 1): the last step's readout
    errors = (prediction - y.to(torch.float64)) ** 2
    errors.sum().backward()  # the sum of the sequences' own losses: each h_t gets its own l_i's gradient

    def profile(states):  # CPU tensors without autograd: numpy reads them in place
        return np.asarray(torch.stack([s.grad.norm(dim=1).mean() for s in states]))

    return {"loss": float(errors.detach().mean()), "grad_h": profile(hs), "grad_c": profile(cs) if cs else None}


def relative_error(measured, expected) -> float:
    """max |measured - expected| / max |expected|: the error relative to the profile's scale
    (elementwise, the few timesteps where the gradient nearly cancels would measure float32's
    cancellation, not a wrong computation). inf for a shape that differs or a number missing."""
    measured, expected = np.asarray(measured, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if measured.shape != expected.shape or not np.all(np.isfinite(measured)):
        return float("inf")
    return float(np.max(np.abs(measured - expected)) / max(float(np.max(np.abs(expected))), 1e-300))


def _params(arrays: dict[str, np.ndarray], model: int) -> dict[str, np.ndarray]:
    """Model ``model``'s weights by torch name, copied (on the CPU the arrays share the
    parameters' memory, which the step is about to change)."""
    prefix = f"state/model{model}/param/"
    return {name.removeprefix(prefix): value.copy() for name, value in arrays.items() if name.startswith(prefix)}


def check_recorded_steps(device: str, steps: int = STEPS) -> tuple[list[Check], object, object]:
    """One Check per cell, and the run and its history (for the figure)."""
    import torch

    from gradviz.engine import Run
    from gradviz.io.checkpoint import state_arrays
    from gradviz.probes.history import RunHistory

    started = time.perf_counter()
    config = check_config(device)
    run = Run(config)
    history = RunHistory(len(config.models))
    batches = torch.Generator().manual_seed(config.seed)  # the run's batches, regenerated on the CPU
    worst = {kind: 0.0 for kind in KINDS}
    problems: dict[str, str] = {}
    for step in range(steps):
        arrays = state_arrays(run)
        weights = [_params(arrays, m) for m in range(len(KINDS))]
        x, y = run.task.generate(config.task.batch, batches)
        record = run.train_step(record=True)
        history.add(record)
        for m, kind in enumerate(KINDS):
            if kind in problems:
                continue
            probes = record.models[m].probes
            if probes is None:
                problems[kind] = f"step {step} recorded no probes"
                continue
            expected = reference(kind, weights[m], x, y)
            errors = {"loss": relative_error(record.models[m].loss, expected["loss"]),
                      "grad_h": relative_error(probes.grad_h[-1], expected["grad_h"])}
            if kind == "lstm":
                errors["grad_c"] = relative_error(probes.grad_c[-1], expected["grad_c"])
            name, error = max(errors.items(), key=lambda item: item[1])
            worst[kind] = max(worst[kind], error)
            if not error <= TOLERANCE[device]:
                problems[kind] = (f"step {step}: {name} differs from the float64 reference by {error:.2g} "
                                  f"(relative; allowed {TOLERANCE[device]:g})")
    seconds = (time.perf_counter() - started) / len(KINDS)
    checks = [Check(device, f"recorded steps, {kind}", kind not in problems,
                    problems.get(kind, f"{steps} steps match float64 within {worst[kind]:.1g}"), seconds)
              for kind in KINDS]
    return checks, run, history


def check_trainer(device: str) -> Check:
    """The window's trainer child: start, build on ``device``, send frames, stop when asked."""
    from gradviz.session import protocol as p
    from gradviz.session.process import TrainerProcess

    started = time.perf_counter()
    trainer = TrainerProcess(check_config(device))
    trainer.start()
    trainer.send(p.Start())
    problem, device_name, steps = None, "", 0
    deadline = time.monotonic() + TRAINER_TIMEOUT_S
    while problem is None and steps < TRAINER_STEPS:
        for event in trainer.events():
            if isinstance(event, p.RunReset):
                device_name = event.device_name
            elif isinstance(event, p.FrameReady):
                frame = trainer.read_frame(event)
                steps = max(steps, frame.steps_done if frame is not None else 0)
            elif isinstance(event, (p.RunFailed, p.BuildRefused)):
                problem = event.message
        if problem is None and not trainer.alive:
            problem = trainer.cause_of_death()
        if problem is None and time.monotonic() > deadline:
            problem = f"no {TRAINER_STEPS} steps within {TRAINER_TIMEOUT_S:.0f} s (trained {steps})"
        time.sleep(0.02)
    stopped = trainer.stop()
    if problem is None and not stopped:
        problem = "the trainer process did not stop when asked"
    detail = problem or f"trained {steps} steps on {device_name}, stopped: {trainer.cause_of_death()}"
    return Check(device, "trainer process", problem is None, detail, time.perf_counter() - started)


def check_figure(device: str, run, history, folder: Path) -> Check:
    """The recorded run as a run file, read back, and drawn as a PNG."""
    from gradviz.figures import run_view, write_figure
    from gradviz.io.checkpoint import state_arrays
    from gradviz.io.runfile import load_run, run_arrays, save_arrays

    started = time.perf_counter()
    try:
        baseline = run.task.baseline()
        arrays = {**run_arrays(run.config, history, (baseline.loss, baseline.metric)), **state_arrays(run)}
        run_file = folder / f"doctor-{device}.npz"
        save_arrays(run_file, arrays, force=True)
        path = Path(write_figure(run_view(load_run(run_file)), folder / f"doctor-{device}.png", plot="gradient",
                                 force=True))
        data = path.read_bytes()
        ok = data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
        detail = f"wrote {path.name} ({len(data) // 1024} KiB) from a run file read back" if ok else \
            f"{path.name} is not a PNG of a figure ({len(data)} bytes)"
    except Exception as exc:  # noqa: BLE001 - the check reports any failure as its reason
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(device, "run file and figure", ok, detail, time.perf_counter() - started)


def self_check(device: str, steps: int = STEPS, folder: Path | None = None) -> list[Check]:
    """Every check on ``device`` (cpu, cuda or mps); ``folder`` keeps the files (else a temporary one)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the models are tiny: a second thread only waits (and spins on a busy machine)
    try:
        return _checks(device, steps, folder)
    finally:
        torch.set_num_threads(threads)


def _checks(device: str, steps: int, folder: Path | None) -> list[Check]:
    try:
        checks, run, history = check_recorded_steps(device, steps)
    except Exception as exc:  # noqa: BLE001 - a device that cannot train at all is a failed check
        checks, run = [Check(device, "recorded steps", False, f"{type(exc).__name__}: {exc}", 0.0)], None
    checks.append(check_trainer(device))
    if run is not None:
        if folder is not None:
            checks.append(check_figure(device, run, history, folder))
        else:
            with tempfile.TemporaryDirectory(prefix="gradviz-doctor-") as temporary:
                checks.append(check_figure(device, run, history, Path(temporary)))
    return checks
