"""Memory estimates made before anything is allocated, and the refusal when they do not fit.

A run's peak memory is dominated by its *recorded* steps: to measure |dL/dh_t| at every
timestep the model runs unfused and autograd keeps every timestep's activations of every
layer until the backward pass. Models of a run train one after another on the same batch,
so only one model's graph is alive at a time; parameters, optimiser state and the bounded
probe history are kept for every model.

The per-(timestep, sample, unit, layer) factors below were calibrated against measured peak
RSS (``ru_maxrss``, CPU, torch 2.13, one recorded step, T 200-400, H 64-128, B 64, L 1-2):

    LSTM 21-28 floats, GRU 21, tanh RNN 5   (float32 each)

and rounded up, so the estimate errs on the side of "too big". Export images and text files
get the same treatment: ``check_fits`` raises ``MemoryRefused`` naming the estimate, what is
available and what to lower. A run on a GPU is checked against the device's free memory too
(measured by ``engine.device.device_free_bytes``, where torch is loaded), with the same
message. No torch, no Qt here: a refusal costs milliseconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gradviz import hostmem
from gradviz.config import ConfigError, RunConfig

FLOAT = 4
# Floats autograd keeps per (timestep, sample, unit, layer) on a recorded step (see above).
ACTIVATION_FLOATS = {"lstm": 30, "gru": 24, "rnn": 8}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
PROBE_BUDGET_BYTES = 48 * 2**20  # probes/history.py's per-model budget (its minimum is 16 rows)
PROBE_MIN_ROWS = 16
PROCESS_BYTES = 450 * 2**20  # Python, torch and the batches: measured ~430 MB before the first step
FIT_SHARE = 0.85  # refuse what would take more than this share of the available memory
TEXT_EMBED = 32  # tasks/text.py's EMBED_DIM
MEASURE_BYTES = 512 * 2**20
"""What the connectivity view (C) may keep alive at once beyond a training step's own graph. It
replicates the batch once per output step of a chunk; unbounded (1024 sequences a chunk), the
copy task at T=500, H=128 peaked at 5.46 GB against a run estimate of 980 MB. Chunks are sized
to this (never below one copy of the batch, which a recorded training step already holds), so
its peak is the estimate's: the same rows, in more passes."""


class MemoryRefused(ConfigError):
    """Settings or a file whose estimated memory exceeds what this machine has available."""


def gib(n: float) -> str:
    """Bytes as a short human size: '730 MB', '73.2 GB'."""
    if n >= 2**30:
        return f"{n / 2**30:.1f} GB"
    return f"{max(n, 0) / 2**20:.0f} MB"


def available_bytes() -> int | None:
    """Memory this process could still take (Linux, macOS, Windows: ``hostmem``); None if unknown."""
    return hostmem.available_bytes()


@dataclass(frozen=True)
class RunEstimate:
    """A run's estimated peak memory, by part, in bytes."""

    activations: int  # one recorded step of the largest model: every timestep kept for backward
    parameters: int  # weights, gradients and optimiser moments of every model
    history: int  # the bounded probe history of every model
    seq_len: int
    measures: int = 0  # the backward-pass (B) and connectivity (C) views' graph, at most

    @property
    def total(self) -> int:
        # A measurement runs before its step's own forward pass and frees its graph first, but
        # the allocator keeps much of what it freed: the copy task at T=500, H=128 peaked at
        # 1.43 GB with C against 1.06 GB for the larger of the two (docs/PERFORMANCE.md).
        return self.activations + self.measures + self.parameters + self.history

    @property
    def on_device(self) -> int:
        """What a GPU holds: weights, gradients, optimiser moments and a recorded step's
        activations (the probe history is copied to the host)."""
        return self.activations + self.parameters

    def describe(self) -> str:
        return f"about {gib(self.total + PROCESS_BYTES)}"


def estimate_run(config: RunConfig) -> RunEstimate:
    """Peak memory of training ``config`` (without the process itself and a text file's data)."""
    task = config.task
    seq_len = task.max_len if task.name == "text" else task.seq_len
    batch = task.batch
    activations = parameters = history = measures = 0
    steps = seq_len + 20 if task.name == "copy" else seq_len  # the copy task's T + 20 timesteps
    for setup in config.models:
        model = setup.model
        hidden, layers, kind = model.hidden, model.layers, model.kind
        acts = FLOAT * seq_len * batch * hidden * layers * ACTIVATION_FLOATS[kind]
        acts += FLOAT * seq_len * batch * TEXT_EMBED * 3  # inputs, embeddings and their gradients
        activations = max(activations, acts)
        chunk = measure_sequences(model.kind, model.hidden, model.layers, steps, batch)
        measures = max(measures, chunk * sequence_bytes(model.kind, model.hidden, model.layers, steps))
        inputs = TEXT_EMBED if task.name in ("text", "reviews", "names") else 8
        gates = GATES[kind]
        weights = layers * gates * hidden * (inputs + hidden + 2) + hidden * 20
        if task.name == "text":
            weights += task.vocab_size * TEXT_EMBED
        parameters += FLOAT * weights * 4  # value, gradient and two optimiser moments
        # One history row: gates, cell state and gradients per (layer, timestep, unit) for one sample.
        row = FLOAT * layers * seq_len * (hidden * (gates + 1) + 2 * gates + 4)
        history += max(PROBE_BUDGET_BYTES, PROBE_MIN_ROWS * row)
    return RunEstimate(activations, parameters, history, seq_len, measures)


def sequence_bytes(kind: str, hidden: int, layers: int, steps: int) -> int:
    """What autograd keeps of one sequence of ``steps`` timesteps through an observed forward pass."""
    return FLOAT * steps * (hidden * layers * ACTIVATION_FLOATS[kind] + TEXT_EMBED * 3)


def measure_sequences(kind: str, hidden: int, layers: int, steps: int, batch: int,
                      allowance: int | None = None) -> int:
    """Sequences per chunk of the connectivity view (``probes.connectivity``'s max_sequences):
    as many as ``allowance`` (MEASURE_BYTES) holds, at most 1024, and never under the batch (one
    copy: what a recorded training step of the same model holds anyway)."""
    allowance = MEASURE_BYTES if allowance is None else allowance
    fitting = allowance // max(sequence_bytes(kind, hidden, layers, steps), 1)
    return int(max(batch, min(1024, fitting)))


def refuse_message(what: str, needed: int, available: int, lower: str, where: str = "here",
                   memory: str = "memory") -> str:
    return (f"{what} needs {gib(needed)} of {memory}, but only {gib(available)} is available {where}; "
            f"lower {lower}")


def check_run(config: RunConfig, available: int | None = None, device_free: int | None = None,
              device_name: str = "the GPU") -> RunEstimate:
    """The estimate; raises MemoryRefused (before anything is built) if it cannot fit in the
    host's memory (``available``, default: measured now) or, for a run on a GPU, in the
    device's free memory (``device_free``, measured by ``engine.device.device_free_bytes``;
    None: not a GPU, or unknown). On a GPU the host keeps the history and copies of the
    weights; the device keeps the weights, optimiser state and a recorded step's activations."""
    estimate = estimate_run(config)
    available = available_bytes() if available is None else available
    on_host = estimate.total if device_free is None else estimate.history + estimate.parameters
    if available is not None and on_host > FIT_SHARE * available:
        raise MemoryRefused(_run_refusal(config, estimate, available, "memory", "here"))
    if device_free is not None and estimate.on_device > FIT_SHARE * device_free:
        raise MemoryRefused(_run_refusal(config, estimate, device_free, f"memory on {device_name}", "there",
                                         on_device=True))
    return estimate


def _run_refusal(config: RunConfig, estimate: RunEstimate, available: int, memory: str, where: str,
                 on_device: bool = False) -> str:
    task = config.task
    seq = "max length" if task.name == "text" else "sequence length T"
    fitting = _largest_fitting_length(config, FIT_SHARE * available, on_device)
    hint = f" (T={fitting} would fit)" if fitting >= 2 else ""
    sizes = {s.model.hidden for s in config.models}
    layers = {s.model.layers for s in config.models}
    shape = (f"T={estimate.seq_len}, batch {task.batch}, hidden {'/'.join(map(str, sorted(sizes)))}, "
             f"layers {'/'.join(map(str, sorted(layers)))}, {len(config.models)} model(s)")
    needed = estimate.on_device if on_device else estimate.total
    return refuse_message(f"this run ({shape}) keeps every timestep's activations on a recorded step and",
                          needed, available, f"the {seq}{hint}, the batch, the hidden units or the layers",
                          where, memory)


def _largest_fitting_length(config: RunConfig, budget: float, on_device: bool = False) -> int:
    """The largest T (max length for a text file) that fits ``budget`` with every other setting
    kept (``on_device``: the part a GPU holds)."""
    field = "max_len" if config.task.name == "text" else "seq_len"
    low, high = 1, getattr(config.task, field)
    while low < high:  # the estimate grows with T: bisect
        middle = (low + high + 1) // 2
        task = dataclasses.replace(config.task, **{field: middle})
        estimate = estimate_run(dataclasses.replace(config, task=task))
        if (estimate.on_device if on_device else estimate.total) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def check_image(width: int, height: int, scale: int, available: int | None = None) -> int:
    """Bytes an exported image of ``width`` x ``height`` at ``scale`` needs; raises MemoryRefused."""
    # An ARGB image, the painter's copy and the encoder's buffer: about three 4-byte frames.
    needed = 3 * 4 * width * height * scale * scale
    available = available_bytes() if available is None else available
    if available is not None and needed > FIT_SHARE * available:
        raise MemoryRefused(refuse_message(
            f"a {width}x{height} figure at scale {scale} ({width * scale}x{height * scale} pixels)",
            needed, available, "--size or --scale"))
    return needed


def check_text(read: int, total: int, projected: int, available: int | None = None, path: str = "") -> None:
    """Raise MemoryRefused when a text file's data, projected from what has been read, cannot fit."""
    available = available_bytes() if available is None else available
    if available is None or projected <= FIT_SHARE * available:
        return
    raise MemoryRefused(refuse_message(
        f"{path} (at {read / max(total, 1):.0%} read, projected over the whole file)",
        projected, available, "the max length, or use a smaller file (fewer rows)"))


def estimate_run_file(config: RunConfig, steps: int) -> int:
    """Upper bound of a run file's size after ``steps`` steps (its arrays, before compression)."""
    task = config.task
    seq_len = task.max_len if task.name == "text" else task.seq_len
    recorded = steps // config.record_every + 1
    total = 64 * 1024 + 8 * 4 * len(config.models) * min(steps, 8192)
    for setup in config.models:
        model = setup.model
        gates = GATES[model.kind]
        row = FLOAT * model.layers * seq_len * (model.hidden * (gates + 2) + 2 * gates + 4)
        capacity = min(1024, max(16, PROBE_BUDGET_BYTES // max(row, 1)))
        total += min(recorded, capacity) * row
    estimate = estimate_run(config)
    return total + estimate.parameters * 3 // 4  # values and two moments; gradients are not saved
