"""How much busy neighbours slow ``gradviz train``, under the old thread policy and the new one.

    python scripts/busy_bench.py            # the full table (about 10 minutes on 2 cores)
    python scripts/busy_bench.py --quick    # 40 steps, one repeat: checks that it works

For each case (the default demo, an LSTM with H=64, one with H=128; T=50, batch 64) it trains
whole runs as ``gradviz train`` does, each in a fresh process, alone and beside one and two
processes that keep a core busy (``python3 -c "while True: pass"``, started here and killed by
their PIDs at the end). The old policy is torch's default (a thread per core, OpenMP's default
wait policy); the new one is ``gradviz.threads``. It prints the seconds alone and each busy time
as a ratio to alone, measured in one run. Targets (issue 20): beside one <= 1.5x alone, beside two
<= 2.0x; the new policy alone no slower than the old (within 5%).

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
POLICIES = ("old", "new")
TARGETS = {1: 1.5, 2: 2.0}
ALONE_TOLERANCE = 1.05


def child(policy: str, argv: list[str]) -> int:
    """One whole run in this fresh process: prints '<seconds> <threads>'."""
    import io
    from contextlib import redirect_stdout

    import gradviz.threads as threads

    if policy == "old":  # as before: torch's defaults, a thread per core, OpenMP's own waiting
        threads.set_wait_policy = lambda environ=None: None
        threads.torch_threads = lambda *args, **kwargs: threads.core_count()
    from gradviz.cli import main

    printed = io.StringIO()
    with redirect_stdout(printed):
        code = main(["train", *argv])
    import torch

    match = re.search(r"(\d+) steps in ([0-9.]+) s", printed.getvalue())
    if code != 0 or match is None:
        print(printed.getvalue(), file=sys.stderr)
        return 1
    # gradviz train prints seconds to 0.1 s; time the loop again more finely from the rate.
    rate = re.search(r"\(([0-9.]+) steps/s\)", printed.getvalue())
    seconds = int(match.group(1)) / float(rate.group(1)) if rate else float(match.group(2))
    print(f"{seconds:.4f} {torch.get_num_threads()}")
    return 0


def one_run(policy: str, case: str, steps: int) -> tuple[float, int]:
    env = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "GRADVIZ_TRAINER_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, __file__, "--child", policy, "--", *CASES[case], *COMMON,
                             "--steps", str(steps)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"busy_bench: the {policy} run of {case} failed:\n{result.stderr}")
    seconds, threads = result.stdout.split()[-2:]
    return float(seconds), int(threads)


def start_busy(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def stop_busy(busy: list[subprocess.Popen]) -> None:
    for process in busy:
        os.kill(process.pid, 9)
        process.wait()


def measure(steps: int, repeat: int, levels: tuple[int, ...]) -> dict:
    """(case, policy, busy count) -> (median seconds, threads)."""
    found: dict = {}
    for level in levels:
        busy = start_busy(level)
        try:
            time.sleep(0.5)  # the busy processes are spinning
            for case in CASES:
                samples: dict[str, list[float]] = {policy: [] for policy in POLICIES}
                threads: dict[str, int] = {}
                for _ in range(repeat):
                    for policy in POLICIES:  # alternated, so that drift hits both alike
                        seconds, threads[policy] = one_run(policy, case, steps)
                        samples[policy].append(seconds)
                for policy in POLICIES:
                    found[case, policy, level] = (statistics.median(samples[policy]), threads[policy])
                    print(f"  {case}, {policy} policy, beside {level} busy: {found[case, policy, level][0]:.2f} s "
                          f"({threads[policy]} threads)", file=sys.stderr, flush=True)
        finally:
            stop_busy(busy)
    return found


def table(found: dict, levels: tuple[int, ...]) -> str:
    lines = ["| case | policy | threads | alone (s) | " + " | ".join(f"beside {n} busy (x alone)" for n in levels[1:])
             + " | new alone / old alone |",
             "|---|---|---|---|" + "---|" * (len(levels) - 1) + "---|"]
    verdicts = []
    for case in CASES:
        for policy in POLICIES:
            alone, threads = found[case, policy, 0]
            cells = []
            for level in levels[1:]:
                ratio = found[case, policy, level][0] / alone
                cells.append(f"{ratio:.2f}")
                if policy == "new" and ratio > TARGETS[level]:
                    verdicts.append(f"{case}: beside {level} busy {ratio:.2f}x > {TARGETS[level]}x")
            versus = ""
            if policy == "new":
                versus_value = alone / found[case, "old", 0][0]
                versus = f"{versus_value:.2f}"
                if versus_value > ALONE_TOLERANCE:
                    verdicts.append(f"{case}: alone {versus_value:.2f}x the old policy (> {ALONE_TOLERANCE})")
            lines.append(f"| {case} | {policy} | {threads} | {alone:.2f} | " + " | ".join(cells) + f" | {versus} |")
    lines.append("")
    lines.append("targets met" if not verdicts else "targets missed: " + "; ".join(verdicts))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per run (default 200, as in issue 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is shown (default 3)")
    parser.add_argument("--quick", action="store_true", help="40 steps, one repeat: a check that it works")
    parser.add_argument("--child", choices=POLICIES, help=argparse.SUPPRESS)
    parser.add_argument("--cases", help=f"comma-separated subset of: {', '.join(CASES)}")
    args, rest = parser.parse_known_args()
    if args.child:
        return child(args.child, [arg for arg in rest if arg != "--"])
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
    steps, repeat = (40, 1) if args.quick else (args.steps, args.repeat)
    levels = (0, 1, 2)
    print(f"busy_bench: {steps} steps per run, median of {repeat}, {os.cpu_count()} cores "
          f"(load average now {os.getloadavg()[0]:.1f}: it should be near 0)", file=sys.stderr, flush=True)
    print(table(measure(steps, repeat, levels), levels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
