"""What the connectivity matrix costs, as a ratio to one recorded training step, in one run.

    python -m gradviz.bench_connectivity            # T=100, B=64, H=64: adding (1 row), copy (120 rows)
    python -m gradviz.bench_connectivity --quick    # fewer repetitions
    python -m gradviz.bench_connectivity --device cuda
    python -m gradviz.bench_connectivity --memory              # the issue's case: copy preset, T=500, H=128
    python -m gradviz.bench_connectivity --memory --no-measure # the same run's recorded step alone

For each cell and task it alternates a recorded training step (``Run.train_step(record=True)``,
what the app does every ``record_every`` steps) with the connectivity matrix of that step's
batch, and prints both medians and their ratio. Run it alone: timings beside other work lie.

``--memory`` measures what the trainer does when C is pressed: one recorded step of every
model of the copy preset (GRU and LSTM, B=64) at ``--seq-len`` and ``--hidden`` with the
connectivity matrix, in this fresh process, and prints its peak RSS and seconds beside the
estimate the window shows (``budget.estimate_run`` plus the process). One measurement per
process: the peak RSS is the process's own.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import sys
import time

import torch

from gradviz.boundary import synchronize
from gradviz.config import DEVICES, ModelConfig, ModelSetup, RunConfig, TaskConfig, default_label
from gradviz.engine import Run
from gradviz.probes.connectivity import connectivity


def measure(kind: str, task: str, seq_len: int, batch: int, hidden: int, repeats: int, device: str = "cpu") -> dict:
    """Median seconds of a recorded step and of the connectivity matrix, alternated."""
    model = ModelConfig(kind=kind, hidden=hidden)
    setup = ModelSetup(label=default_label(model), model=model)
    run = Run(RunConfig(task=TaskConfig(name=task, seq_len=seq_len, batch=batch), models=(setup,), device=device))
    generator = torch.Generator().manual_seed(1)
    step_times, matrix_times = [], []
    for repeat in range(repeats + 1):  # the first round warms up and is not counted
        started = time.perf_counter()
        run.train_step(record=True)
        synchronize(run.device)
        step = time.perf_counter() - started
        x, y = run.task.generate(batch, generator, run.device)
        started = time.perf_counter()
        rows = connectivity(run.learners[0].model, run.task, x, y).matrix.shape[1]
        synchronize(run.device)
        if repeat:
            step_times.append(step)
            matrix_times.append(time.perf_counter() - started)
    step_s, matrix_s = statistics.median(step_times), statistics.median(matrix_times)
    return {"kind": kind, "task": task, "T": seq_len, "rows": rows, "recorded_step_s": step_s,
            "connectivity_s": matrix_s, "ratio": matrix_s / step_s}


def measure_memory(seq_len: int, hidden: int, connectivity_too: bool = True) -> dict:
    """Peak RSS (bytes) and seconds of one recorded step of the copy preset at ``seq_len`` and
    ``hidden``, with the connectivity matrix unless told not; and the window's estimate."""
    from gradviz.budget import PROCESS_BYTES, estimate_run
    from gradviz.presets import load_preset

    preset = load_preset("copy").config
    models = tuple(dataclasses.replace(setup, model=dataclasses.replace(setup.model, hidden=hidden))
                   for setup in preset.models)
    config = dataclasses.replace(preset, task=dataclasses.replace(preset.task, seq_len=seq_len), models=models,
                                 device="cpu")
    estimate = estimate_run(config)
    run = Run(config)
    built = _peak_rss()
    started = time.perf_counter()
    run.train_step(record=True, extras=frozenset({"connectivity"}) if connectivity_too else frozenset())
    seconds = time.perf_counter() - started
    return {"estimate": estimate.total + PROCESS_BYTES, "measures": estimate.measures,
            "activations": estimate.activations, "built_peak": built, "peak": _peak_rss(), "seconds": seconds}


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradviz.bench_connectivity", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 10")
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--memory", action="store_true", help="peak RSS of one C step of the copy preset, "
                        "against the window's estimate (default T=500, H=128)")
    parser.add_argument("--no-measure", action="store_true", help="with --memory: the recorded step without C")
    args = parser.parse_args(argv)
    if args.memory:
        from gradviz.budget import gib

        seq_len = 500 if args.seq_len == parser.get_default("seq_len") else args.seq_len
        hidden = 128 if args.hidden == parser.get_default("hidden") else args.hidden
        result = measure_memory(seq_len, hidden, not args.no_measure)
        what = "recorded step" if args.no_measure else "recorded step with the connectivity matrix (C)"
        print(f"copy preset, T={seq_len}, H={hidden}, B=64, {torch.get_num_threads()} torch threads: {what}")
        print(f"estimate shown {gib(result['estimate'])} (C's chunks {gib(result['measures'])}, a recorded step "
              f"{gib(result['activations'])}); peak RSS {gib(result['built_peak'])} built, {gib(result['peak'])} "
              f"after the step ({result['peak'] / result['estimate']:.2f}x the estimate), {result['seconds']:.0f} s")
        return 0
    repeats = 3 if args.quick else 10
    print(f"T={args.seq_len}, B={args.batch}, H={args.hidden}, {torch.get_num_threads()} torch threads, "
          f"median of {repeats}")
    print(f"{'cell':<9}{'task':<8}{'rows':>5}{'recorded step':>15}{'connectivity':>14}{'ratio':>7}")
    for task in ("adding", "copy"):
        for kind in ("rnn", "lstm", "gru"):
            result = measure(kind, task, args.seq_len, args.batch, args.hidden, repeats, args.device)
            print(f"{kind:<9}{task:<8}{result['rows']:>5}{result['recorded_step_s'] * 1000:>12.1f} ms"
                  f"{result['connectivity_s'] * 1000:>11.1f} ms{result['ratio']:>7.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
