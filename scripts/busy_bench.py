"""How much busy neighbours slow ``gradviz train``, under each thread policy, and which policy
meets issue 20's targets.

    python scripts/busy_bench.py            # the table and the verdict (about 5 minutes on 2 cores)
    python scripts/busy_bench.py --quick    # 40 steps, one run per cell: checks that it works

For each case (the default demo, an LSTM with H=64, one with H=128; T=50, batch 64) it trains
whole runs as ``gradviz train`` does, in a fresh process per policy, case and load (OpenMP reads
its wait policy once, when torch loads it), alone and beside one and two processes that keep a
core busy (``python3 -c "while True: pass"``, started here and killed by their PIDs at the
end). Policies:

- ``old``: torch's defaults before issue 20 (a thread per core, OpenMP's own waiting), alone only
  unless ``--old-busy``: the reference for "alone, no slower than before";
- ``one``, ``cores``, ``adaptive``: ``gradviz.threads``'s policies (``GRADVIZ_THREAD_POLICY``),
  each with its waiting (``threads.set_wait_policy``: PASSIVE, and libgomp's short spin, ten
  times longer under ``adaptive``'s governor);
  ``cores`` is 2 threads for H >= 64 here.

A ``GRADVIZ_TRAINER_THREADS`` set when this script starts reaches the children of every policy
but ``old`` (the table's threads column says what they used). It prints the seconds alone, each
busy time as a ratio to the same policy alone, and each policy's time alone over ``old``'s,
measured in one run, then which policies meet every target: beside one <= 1.5x alone, beside
two <= 2.0x, alone within 5% of ``old``, for all three cases.

Run it on an otherwise idle machine: other work on the cores is exactly what it measures.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "default demo": ["--preset", "vanishing"],
    "LSTM H=64": ["--model", "lstm", "--hidden", "64"],
    "LSTM H=128": ["--model", "lstm", "--hidden", "128"],
}
COMMON = ["--seq-len", "50", "--batch", "64", "--device", "cpu", "--quiet"]
POLICIES = ("old", "one", "cores", "adaptive")
TARGETS = {1: 1.5, 2: 2.0}
ALONE_TOLERANCE = 1.05
WARMUP_STEPS = 10


def child(policy: str, repeat: int, argv: list[str]) -> int:
    """``repeat`` whole runs in this fresh process after a short warm-up: prints the seconds of
    each run, then the threads torch used."""
    import io
    from contextlib import redirect_stdout

    import gradviz.threads as threads

    if policy == "old":  # as before: torch's defaults, a thread per core, OpenMP's own waiting
        threads.set_wait_policy = lambda environ=None: None
        threads.torch_threads = lambda *args, **kwargs: threads.core_count()
    from gradviz.cli import main

    steps = argv[argv.index("--steps") + 1]
    times = []
    for run in range(repeat + 1):
        printed = io.StringIO()
        args = list(argv)
        if run == 0:  # warm-up: torch's first steps allocate and initialise
            args[args.index("--steps") + 1] = str(WARMUP_STEPS)
        with redirect_stdout(printed):
            code = main(["train", *args])
        match = re.search(r"(\d+) steps in ([0-9.]+) s", printed.getvalue())
        if code != 0 or match is None:
            print(printed.getvalue(), file=sys.stderr)
            return 1
        if run:
            # gradviz train prints seconds to 0.1 s; the rate gives them more finely.
            rate = re.search(r"\(([0-9.]+) steps/s\)", printed.getvalue())
            times.append(int(steps) / float(rate.group(1)) if rate else float(match.group(2)))
    import torch

    print(" ".join(f"{seconds:.4f}" for seconds in times), torch.get_num_threads())
    return 0


def one_cell(policy: str, case: str, steps: int, repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs of ``case`` under ``policy``, and the threads it ended with."""
    drop = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "GRADVIZ_THREAD_POLICY")
    drop += ("GRADVIZ_TRAINER_THREADS",) if policy == "old" else ()
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env["PYTHONPATH"] = str(ROOT)
    env["GRADVIZ_THREAD_POLICY"] = "cores" if policy == "old" else policy  # old: no governor either
    result = subprocess.run([sys.executable, __file__, "--child", policy, "--child-repeat", str(repeat), "--",
                             *CASES[case], *COMMON, "--steps", str(steps)],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"busy_bench: the {policy} run of {case} failed:\n{result.stderr}")
    *seconds, threads = result.stdout.split("\n")[-2].split()
    return statistics.median(float(value) for value in seconds), int(threads)


def start_busy(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def stop_busy(busy: list[subprocess.Popen]) -> None:
    for process in busy:
        os.kill(process.pid, signal.SIGTERM)
        process.wait()


def measure(steps: int, repeat: int, busy_repeat: int, levels: tuple[int, ...], old_busy: bool) -> dict:
    """(case, policy, busy count) -> (median seconds, threads)."""
    found: dict = {}
    for level in levels:
        busy = start_busy(level)
        try:
            time.sleep(0.5)  # the busy processes are spinning
            for case in CASES:
                for policy in POLICIES:  # one after the other, so that drift hits all alike
                    if level and policy == "old" and not old_busy:
                        continue
                    found[case, policy, level] = one_cell(policy, case, steps, busy_repeat if level else repeat)
                    print(f"  {case}, {policy}, beside {level} busy: {found[case, policy, level][0]:.2f} s "
                          f"({found[case, policy, level][1]} threads at the end)", file=sys.stderr, flush=True)
        finally:
            stop_busy(busy)
    return found


def verdicts(found: dict, levels: tuple[int, ...]) -> dict[str, list[str]]:
    """policy -> the targets it misses (empty: meets them all)."""
    missed: dict[str, list[str]] = {policy: [] for policy in POLICIES if policy != "old"}
    for case in CASES:
        old_alone = found[case, "old", 0][0]
        for policy in missed:
            alone = found[case, policy, 0][0]
            for level in levels[1:]:
                ratio = found[case, policy, level][0] / alone
                if ratio > TARGETS[level]:
                    missed[policy].append(f"{case}: beside {level} busy {ratio:.2f}x > {TARGETS[level]}x")
            if alone / old_alone > ALONE_TOLERANCE:
                missed[policy].append(f"{case}: alone {alone / old_alone:.2f}x old > {ALONE_TOLERANCE}x")
    return missed


def table(found: dict, levels: tuple[int, ...]) -> str:
    lines = ["| case | policy | threads | alone (s) | " + " | ".join(f"beside {n} busy (x alone)" for n in levels[1:])
             + " | alone / old alone |",
             "|---|---|---|---|" + "---|" * (len(levels) - 1) + "---|"]
    for case in CASES:
        for policy in POLICIES:
            alone, threads = found[case, policy, 0]
            cells = [f"{found[case, policy, level][0] / alone:.2f}" if (case, policy, level) in found else ""
                     for level in levels[1:]]
            versus = "" if policy == "old" else f"{alone / found[case, 'old', 0][0]:.2f}"
            lines.append(f"| {case} | {policy} | {threads} | {alone:.2f} | " + " | ".join(cells) + f" | {versus} |")
    lines.append("")
    for policy, missed in verdicts(found, levels).items():
        lines.append(f"{policy}: meets every target" if not missed else f"{policy}: misses " + "; ".join(missed))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per run (default 200, as in issue 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell alone; the median is shown (default 3)")
    parser.add_argument("--busy-repeat", type=int, default=1, help="runs per cell beside busy processes (default 1)")
    parser.add_argument("--old-busy", action="store_true", help="measure the old policy beside busy processes too")
    parser.add_argument("--quick", action="store_true", help="40 steps, one run per cell: a check that it works")
    parser.add_argument("--child", choices=POLICIES, help=argparse.SUPPRESS)
    parser.add_argument("--child-repeat", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--cases", help=f"comma-separated subset of: {', '.join(CASES)}")
    args, rest = parser.parse_known_args()
    if args.child:
        return child(args.child, args.child_repeat, [arg for arg in rest if arg != "--"])
    if args.cases:
        chosen = [name.strip() for name in args.cases.split(",")]
        unknown = [name for name in chosen if name not in CASES]
        if unknown:
            parser.error(f"unknown case {unknown[0]!r}; choose from {', '.join(CASES)}")
        for name in list(CASES):
            if name not in chosen:
                del CASES[name]
    # SIGTERM as Ctrl-C: the busy processes and the run under way are ended on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    steps, repeat, busy_repeat = (40, 1, 1) if args.quick else (args.steps, args.repeat, args.busy_repeat)
    levels = (0, 1, 2)
    started = time.monotonic()
    forced = os.environ.get("GRADVIZ_TRAINER_THREADS")
    print(f"busy_bench: {steps} steps per run, median of {repeat} alone and {busy_repeat} beside busy processes, "
          f"{os.cpu_count()} cores (load average now {os.getloadavg()[0]:.1f}: it should be near 0)"
          + (f"; GRADVIZ_TRAINER_THREADS={forced} for every policy but old" if forced else ""),
          file=sys.stderr, flush=True)
    try:
        found = measure(steps, repeat, busy_repeat, levels, args.old_busy)
    except KeyboardInterrupt:
        print("busy_bench: interrupted (the busy processes were stopped)", file=sys.stderr)
        return 130
    print(table(found, levels))
    print(f"busy_bench took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
