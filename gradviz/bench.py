"""``gradviz bench``: what watching costs, as ratios measured in one run.

Every number compares gradviz with itself or with plain PyTorch on the same machine, the same
device and the same batches, measured in one run, so that a noisy or slow machine changes the
seconds but not the ratios much (docs/PERFORMANCE.md has the table and what each number means):

- ``instrumented_over_fused``: one fully recorded gradviz step (gradient norm at every timestep,
  every gate) over one step of the equivalent torch.nn.RNN/LSTM/GRU with the same weights.
  Steps alternate between the two, and the ratio is of the medians.
- ``training_over_fused``: the same for blocks of ``record_every`` steps, as ``gradviz train``
  runs them (one recorded step, the others on torch's fused kernel, history kept).
- ``gui_frame_ms_p50`` / ``_p95``: the real window (offscreen, three models, T=200, training
  at full speed in its trainer process) refreshing and painting one frame;
  ``gui_training_slowdown``: steps/s without the window over steps/s with it, same config,
  same torch threads; ``demo_window_slowdown``: the same for the default demo.
- ``rss_growth_mb``: resident memory after a long recorded run minus after its first steps.
- ``seconds_to_insight``: the default demo until the LSTM's 20-step mean loss is below half
  the memoryless baseline, headless and in the window.

The window and the memory runs each take a fresh interpreter (``python -m gradviz.bench``), so
Qt, torch's thread count and the allocator of one part never colour another. This module
imports no Qt and nothing of ``gradviz.gui``: the window part is the module
``gradviz.gui.window_bench``, run as that child.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from gradviz import hostmem
from gradviz.bench_stats import CHILD_MARK, INSIGHT_WINDOW, lstm_index
from gradviz.boundary import host_scalar, synchronize
from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.engine import Run
from gradviz.engine.learner import make_optimizer
from gradviz.models import SequenceModel
from gradviz.probes.history import RunHistory
from gradviz.tasks import Task

# (kind, batch B, sequence length T, hidden units H): the sizes.
CASES = (("lstm", 64, 200, 128), ("lstm", 32, 50, 32), ("rnn", 64, 200, 128), ("gru", 64, 200, 128))
TORCH_CLASSES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def case_name(kind: str, batch: int, seq_len: int, hidden: int) -> str:
    return f"{kind}_B{batch}_T{seq_len}_H{hidden}"


def case_config(kind: str, batch: int, seq_len: int, hidden: int, device: str = "cpu", **run) -> RunConfig:
    """One model of ``kind`` on the adding problem, default training and recording settings."""
    setup = ModelSetup(kind.upper(), ModelConfig(kind=kind, hidden=hidden), TrainConfig())
    return RunConfig(task=TaskConfig("adding", seq_len=seq_len, batch=batch), models=(setup,), device=device, **run)


def target_for(hidden: int) -> float:
    """The issue's targets for instrumented_over_fused: 1.5 at H=128 (compute-bound), 3 at H=32."""
    return 1.5 if hidden >= 128 else 3.0


class FusedReference:
    """Plain PyTorch: torch.nn.RNN/LSTM/GRU and a Linear holding a copy of a gradviz model's
    weights, trained the way a notebook does (forward, backward, clip, step, log the loss)."""

    def __init__(self, model: SequenceModel, train: TrainConfig, task: Task):
        config = model.config
        kwargs = {"nonlinearity": config.nonlinearity} if config.kind == "rnn" else {}
        device = next(model.parameters()).device
        self.rnn = TORCH_CLASSES[config.kind](task.input_size, config.hidden, config.layers, **kwargs).to(device)
        self.rnn.load_state_dict(model.rnn.state_dict())
        self.head = nn.Linear(config.hidden, task.output_size).to(device)
        self.head.load_state_dict(model.head.state_dict())
        self.params = [*self.rnn.parameters(), *self.head.parameters()]
        self.optimizer = make_optimizer(self.params, train)
        self.clip = train.clip
        self.task = task

    def step(self, x: torch.Tensor, y: torch.Tensor) -> float:
        outputs, _ = self.rnn(x)
        loss = self.task.loss(self.head(self.task.readout(outputs)), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.optimizer.step()
        return host_scalar(loss)


def alternate(first: Callable[[], object], second: Callable[[], object], rounds: int,
              device: torch.device, warmup: int = 1) -> tuple[list[float], list[float]]:
    """Seconds of ``first`` and of ``second``, run in turns so that load drifts hit both alike."""
    for _ in range(warmup):
        first()
        second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for action, out in ((first, times[0]), (second, times[1])):
            synchronize(device)
            started = time.perf_counter()
            action()
            synchronize(device)
            out.append(time.perf_counter() - started)
    return times


def instrumented_over_fused(kind: str, batch: int, seq_len: int, hidden: int, device: str = "cpu",
                            rounds: int = 5) -> dict[str, float]:
    """A fully recorded gradviz step over a torch.nn step, same weights, same batch."""
    run = Run(case_config(kind, batch, seq_len, hidden, device))
    learner, task = run.learners[0], run.task
    x, y = task.generate(batch, torch.Generator().manual_seed(0), run.device)
    reference = FusedReference(learner.model, learner.train, task)
    ours, theirs = alternate(lambda: learner.step(x, y, record=True), lambda: reference.step(x, y), rounds, run.device)
    return _ratio(ours, theirs)


def training_over_fused(kind: str, batch: int, seq_len: int, hidden: int, device: str = "cpu",
                        rounds: int = 3) -> dict[str, float]:
    """Blocks of record_every steps as ``gradviz train`` runs them, over plain torch.nn steps,
    both on the same sequence of batches (batch generation is in both)."""
    config = case_config(kind, batch, seq_len, hidden, device)
    run = Run(config)
    history = RunHistory(1)
    task, every = run.task, config.record_every
    reference = FusedReference(run.learners[0].model, run.learners[0].train, task)
    generator = torch.Generator().manual_seed(config.seed)

    def ours() -> None:
        for _ in range(every):
            history.add(run.train_step())

    def theirs() -> None:
        for _ in range(every):
            reference.step(*task.generate(batch, generator, run.device))

    mine, plain = alternate(ours, theirs, rounds, run.device)
    return _ratio([t / every for t in mine], [t / every for t in plain])


def _ratio(ours: list[float], theirs: list[float]) -> dict[str, float]:
    mine, plain = statistics.median(ours), statistics.median(theirs)
    return {"ratio": mine / plain, "gradviz_ms": 1000 * mine, "fused_ms": 1000 * plain}


def seconds_to_insight(config: RunConfig, limit_s: float = 120.0) -> dict[str, float | None]:
    """Seconds (from building the run) until the LSTM's mean loss over the last 20 steps is
    below half the baseline, training as ``gradviz train`` does; None if not within ``limit_s``."""
    started = time.perf_counter()
    run = Run(config)
    index = lstm_index(config)
    threshold = run.task.baseline().loss / 2
    history = RunHistory(len(config.models))
    losses: deque[float] = deque(maxlen=INSIGHT_WINDOW)
    while time.perf_counter() - started < limit_s:
        record = run.train_step()
        history.add(record)
        losses.append(record.models[index].loss)
        if len(losses) == INSIGHT_WINDOW and sum(losses) / INSIGHT_WINDOW < threshold:
            return {"seconds": time.perf_counter() - started, "steps": record.step + 1}
    return {"seconds": None, "steps": run.step}


# ---- memory ---------------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident memory of this process now (Linux, Windows), else its peak so far; NaN where
    the system says neither (``hostmem.resident_bytes``)."""
    return hostmem.resident_bytes() / 2**20


def rss_growth(config: RunConfig, steps: int, warmup: int = 200) -> dict[str, float]:
    """Train ``steps`` steps keeping the history as ``gradviz train`` does: RSS after the
    first ``warmup`` steps and at the end."""
    import gc

    run = Run(config)
    history = RunHistory(len(config.models))
    start = 0.0
    for step in range(steps):
        history.add(run.train_step())
        if step + 1 == min(warmup, steps):
            gc.collect()
            start = rss_mb()
    gc.collect()
    end = rss_mb()
    return {"rss_growth_mb": end - start, "rss_start_mb": start, "rss_end_mb": end, "steps": steps,
            "history_mb": history.nbytes() / 2**20}


def peak_growth_mb(action: Callable[[], object], interval_s: float = 0.002) -> float:
    """Resident memory at its highest while ``action`` runs, minus before it (sampled by a
    thread: the process's lifetime peak, ru_maxrss, would include importing torch)."""
    import threading

    before, highest = rss_mb(), [rss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval_s):
            highest[0] = max(highest[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        action()
    finally:
        done.set()
        sampler.join()
    return max(highest[0], rss_mb()) - before


def long_sequence(kind: str, seq_len: int, batch: int = 64, hidden: int = 64, device: str = "cpu") -> dict[str, float]:
    """One fused and one recorded step at sequence length ``seq_len`` after a warm-up of each:
    seconds, and the memory the first recorded step needs beyond what the process held
    (device memory on CUDA, resident memory growth on the CPU)."""
    run = Run(case_config(kind, batch, seq_len, hidden, device))
    x, y = run.task.generate(batch, torch.Generator().manual_seed(0), run.device)
    learner = run.learners[0]
    # Memory first, on the first recorded step, before any step has left freed memory behind
    # for it to reuse (and with the sampling thread, which would colour a timing).
    if run.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(run.device)
        base = torch.cuda.memory_allocated(run.device)
        learner.step(x, y, record=True)
        synchronize(run.device)
        peak = (torch.cuda.max_memory_allocated(run.device) - base) / 2**20
    else:
        peak = peak_growth_mb(lambda: learner.step(x, y, record=True))
    learner.step(x, y, record=False)  # warm-up of the fused path (the recorded one just ran)
    fused, recorded = alternate(lambda: learner.step(x, y, record=False), lambda: learner.step(x, y, record=True),
                                rounds=1, device=run.device, warmup=0)
    return {"recorded_s": recorded[0], "fused_s": fused[0], "peak_mb": peak}


# ---- the window (run in a child interpreter) -------------------------------------------------


def gui_config(seq_len: int = 200, hidden: int = 32, batch: int = 64, device: str = "auto") -> RunConfig:
    """Compare mode: tanh RNN, LSTM and GRU side by side on the adding problem, at the default
    demo's sizes (H=32, B=64) but T=200."""
    setups = tuple(
        ModelSetup(label, ModelConfig(kind=kind, hidden=hidden), TrainConfig())
        for label, kind in (("tanh RNN", "rnn"), ("LSTM", "lstm"), ("GRU", "gru"))
    )
    return RunConfig(task=TaskConfig("adding", seq_len=seq_len, batch=batch), models=setups, device=device)


def run_child(task: str, spec: dict, timeout_s: float, module: str = "gradviz.bench") -> dict:
    """Run ``task`` of ``module`` in a fresh interpreter and return what it measured."""
    with tempfile.TemporaryDirectory(prefix="gradviz-bench-") as home:
        # Offscreen Qt, and the window's QSettings (geometry, recent files) in a throwaway place.
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": home}
        result = subprocess.run(
            [sys.executable, "-m", module, task, json.dumps(spec)],
            capture_output=True, text=True, timeout=timeout_s, env=env,
        )
    for line in result.stdout.splitlines():
        if line.startswith(CHILD_MARK):
            return json.loads(line[len(CHILD_MARK):])
    raise RuntimeError(f"bench child {task!r} failed ({result.returncode}): {result.stderr[-2000:]}")


def _child_main(argv: list[str]) -> int:
    task, spec = argv[0], json.loads(argv[1])
    if task == "rss":
        out = rss_growth(RunConfig.from_dict(spec["config"]), spec["steps"])
    elif task == "long":
        out = long_sequence(spec["kind"], spec["seq_len"], device=spec["device"])
    else:
        raise SystemExit(f"unknown bench child {task!r}")
    print(CHILD_MARK + json.dumps(out), flush=True)
    return 0


# ---- the command ------------------------------------------------------------------------------


def run_bench(quick: bool = False, device: str = "auto", log: Callable[[str], None] = print) -> dict:
    """Everything ``gradviz bench`` measures, as a JSON-ready dict."""
    from gradviz.engine.device import choose_device, describe_device
    from gradviz.presets import DEFAULT_PRESET, load_preset

    resolved = choose_device(device)
    started = time.perf_counter()
    results: dict = {
        "quick": quick, "device": describe_device(resolved), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "notes": [],
    }
    name = resolved.type
    rounds = 3 if quick else 7
    results["instrumented_over_fused"], results["instrumented_ms"] = {}, {}
    for case in CASES:
        log(f"instrumented step {case_name(*case)} ...")
        measured = instrumented_over_fused(*case, device=name, rounds=rounds)
        results["instrumented_over_fused"][case_name(*case)] = measured["ratio"]
        results["instrumented_ms"][case_name(*case)] = measured
    results["training_over_fused"], results["training_ms"] = {}, {}
    for case in CASES[: 2 if quick else len(CASES)]:
        log(f"training {case_name(*case)} ...")
        # Small cases take milliseconds a step: more rounds for the same steady median.
        scale = 4 if case[2] * case[3] < 200 * 128 else 1
        measured = training_over_fused(*case, device=name, rounds=scale * (2 if quick else 4))
        results["training_over_fused"][case_name(*case)] = measured["ratio"]
        results["training_ms"][case_name(*case)] = measured

    demo = load_preset(DEFAULT_PRESET).config
    demo = replace(demo, device=device)
    limit = 60.0 if quick else 120.0
    log(f"seconds to insight, preset {DEFAULT_PRESET}, headless ...")
    results["seconds_to_insight"] = {"headless": seconds_to_insight(demo, limit)["seconds"], "window": None}

    log("the window under training load (offscreen, 3 models, T=200; then the default demo) ...")
    spec = {"config": gui_config(device=device).to_dict(), "seconds": 12.0 if quick else 30.0,
            "demo": demo.to_dict(), "insight": None if quick else demo.to_dict(), "insight_limit_s": limit}
    try:
        # The window's part lives in gradviz.gui and runs as its own module: no import back here.
        gui = run_child("gui", spec, timeout_s=600, module="gradviz.gui.window_bench")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        results["notes"].append(f"window not measured: {str(exc)[-300:]}")
    else:
        results["seconds_to_insight"]["window"] = gui.pop("seconds_to_insight_window", None)
        results.update(gui)
    if quick:
        results["notes"].append("quick: seconds_to_insight measured headless only")

    steps = 2000 if quick else 20000
    log(f"memory over {steps} recorded steps ...")
    small = case_config("lstm", 16, 20, 16, device)
    results.update({f"rss_{k}" if k == "steps" else k: v for k, v in run_child(
        "rss", {"config": small.to_dict(), "steps": steps}, timeout_s=900).items()})
    if quick:
        results["notes"].append(f"quick: rss_growth_mb over {steps} steps, not 20000")
    if not quick:
        results["long_sequences"] = {}
        for seq_len in (500, 1000, 2000):
            log(f"LSTM B=64 H=64 at T={seq_len} ...")
            results["long_sequences"][str(seq_len)] = run_child(
                "long", {"kind": "lstm", "seq_len": seq_len, "device": device}, timeout_s=600)
    results["bench_seconds"] = time.perf_counter() - started
    return results


def _check(value: float | None, target: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return "yes" if value <= target else "NO"


def table(results: dict) -> str:
    """The numbers against the issue's targets, one line each."""
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: float | None, target: float | None, unit: str = "") -> None:
        shown = "n/a" if value is None else f"{value:.3g}{unit}"
        rows.append((name, shown, "" if target is None else f"<= {target:g}{unit}",
                     "" if target is None else _check(value, target)))

    for case, ratio in results.get("instrumented_over_fused", {}).items():
        row(f"instrumented_over_fused {case}", ratio, target_for(int(case.rsplit("H", 1)[1])))
    for case, ratio in results.get("training_over_fused", {}).items():
        row(f"training_over_fused {case}", ratio, 1.2)
    row("gui_frame_ms_p50", results.get("gui_frame_ms_p50"), None, " ms")
    row("gui_frame_ms_p95", results.get("gui_frame_ms_p95"), 33, " ms")
    row("gui_training_slowdown", results.get("gui_training_slowdown"), 1.10)
    row("demo steps/s headless", results.get("demo_headless_steps_per_s"), None)
    row("demo steps/s in the window", results.get("demo_window_steps_per_s"), None)
    row("demo_window_slowdown", results.get("demo_window_slowdown"), 1.25)
    row(f"rss_growth_mb ({results.get('rss_steps', '?')} steps)", results.get("rss_growth_mb"), 50, " MB")
    insight = results.get("seconds_to_insight", {})
    row("seconds_to_insight headless", insight.get("headless"), 30, " s")
    row("seconds_to_insight window", insight.get("window"), 30, " s")
    for seq_len, long in results.get("long_sequences", {}).items():
        row(f"LSTM T={seq_len} recorded step", long["recorded_s"], None, " s")
        row(f"LSTM T={seq_len} peak memory", long["peak_mb"], None, " MB")
    width = max(len(r[0]) for r in rows)
    head = (f"gradviz bench{' --quick' if results.get('quick') else ''} on {results.get('device')}, "
            f"torch {results.get('torch')}, {results.get('torch_threads')} threads, {results.get('cpu_count')} cores")
    lines = [head, f"{'measure':<{width}}  {'value':>10}  {'target':>10}  holds"]
    lines += [f"{n:<{width}}  {v:>10}  {t:>10}  {h}" for n, v, t, h in rows]
    lines += [f"note: {note}" for note in results.get("notes", [])]
    if "bench_seconds" in results:
        lines.append(f"bench took {results['bench_seconds']:.0f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
