"""What the connectivity matrix costs, as a ratio to one recorded training step, in one run.

    python -m gradviz.bench_connectivity            # T=100, B=64, H=64: adding (1 row), copy (120 rows)
    python -m gradviz.bench_connectivity --quick    # fewer repetitions
    python -m gradviz.bench_connectivity --device cuda

For each cell and task it alternates a recorded training step (``Run.train_step(record=True)``,
what the app does every ``record_every`` steps) with the connectivity matrix of that step's
batch, and prints both medians and their ratio. Run it alone: timings beside other work lie.
"""

from __future__ import annotations

import argparse
import statistics
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
        rows = connectivity(run.trainers[0].model, run.task, x, y).matrix.shape[1]
        synchronize(run.device)
        if repeat:
            step_times.append(step)
            matrix_times.append(time.perf_counter() - started)
    step_s, matrix_s = statistics.median(step_times), statistics.median(matrix_times)
    return {"kind": kind, "task": task, "T": seq_len, "rows": rows, "recorded_step_s": step_s,
            "connectivity_s": matrix_s, "ratio": matrix_s / step_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradviz.bench_connectivity", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 10")
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args(argv)
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
