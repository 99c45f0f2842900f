"""``gradviz reproduce NAME [--seeds N] [--quick]``: one paper's experiment, the paper's number
beside gradviz's.

    gradviz reproduce table7 --seeds 3            # Hochreiter & Schmidhuber 1997, Table 7
    gradviz reproduce bengio1994 | le2015 | pascanu2013
    gradviz reproduce le2015 --quick              # small and short: seconds

The runs train one after another in this process (seed 0's arms first), each saved to ``--out``
the moment it finishes (default ``reproduce-NAME.json``, ``reproduce-NAME-quick.json``); the
same command again resumes it, training only the missing runs (none, when it is complete: it
then prints the summary). A file made with other settings is refused unless ``--force``; a
second ``reproduce`` on the same file while the first runs is refused (``io/filelock.py``, as
``gradviz sweep``). Ctrl-C stops the run in flight, keeps every finished one, says so in one
line and exits 130. Mistakes (an unknown name, ``--seeds 0``, a damaged file) raise ConfigError:
one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gradviz.config import ConfigError

EXIT_INTERRUPTED = 130
MAX_SEEDS = 100


def add_reproduce_parser(sub) -> None:
    """Register the subcommand on the CLI's subparsers."""
    from gradviz.reproduce.papers import REPRODUCTIONS

    names = ", ".join(REPRODUCTIONS)
    parser = sub.add_parser("reproduce", help=f"re-measure a published result, the paper's number beside "
                                              f"gradviz's ({names})")
    add = parser.add_argument
    add("name", help=names)
    add("--seeds", type=int, default=3, help="seeds 0..N-1 per arm (default 3)")
    add("--quick", action="store_true", help="small, short runs (seconds): the machinery, not the paper's numbers")
    add("--out", type=Path, help="the results file (.json; default reproduce-NAME[-quick].json); resumed if it exists")
    add("--plot", type=Path, help="also write the figure (.png, .svg or .pdf; replaced if it exists): every seed, "
                                  "the median and the paper's number")
    add("--force", action="store_true", help="start over even if --out exists")
    add("--quiet", action="store_true", help="no progress line")


def command_reproduce(args: argparse.Namespace) -> int:
    from gradviz.io.filelock import FileLock, LockedError
    from gradviz.reproduce.papers import reproduction

    try:
        chosen = reproduction(args.name, args.quick)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not 1 <= args.seeds <= MAX_SEEDS:
        raise ConfigError(f"--seeds must be between 1 and {MAX_SEEDS}, got {args.seeds}")
    out = args.out or Path(f"reproduce-{chosen.name}{'-quick' if chosen.quick else ''}.json")
    if out.suffix.lower() != ".json":
        raise ConfigError(f"--out must end in .json, got {out.name!r}")
    if out.is_dir() or not out.resolve().parent.is_dir():
        raise ConfigError(f"--out {out}: give a file in a folder that exists")
    if args.plot is not None:
        from gradviz.sweep.plot import FORMATS

        if args.plot.suffix.lower() not in FORMATS or not args.plot.resolve().parent.is_dir():
            raise ConfigError(f"--plot must be a .png, .svg or .pdf file in a folder that exists, got {args.plot}")
    lock = FileLock(out, what="gradviz reproduce")
    try:
        lock.acquire()
    except LockedError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"cannot lock {out}: {exc.strerror or exc}") from None
    try:
        return _reproduce(chosen, args, out)
    finally:
        lock.release()


def _reproduce(chosen, args: argparse.Namespace, out: Path) -> int:
    from gradviz.reproduce.results import ReproductionFileError, ReproductionResults
    from gradviz.reproduce.scoring import train_and_score
    from gradviz.threads import apply_threads, torch_threads

    if out.exists() and not args.force:
        try:
            results = ReproductionResults.load(out, chosen, args.seeds)
        except ReproductionFileError as exc:
            raise ConfigError(f"cannot resume: {exc}") from None
        print(f"resuming {out}: {len(results.runs)} of {results.total} runs done", file=sys.stderr)
    else:
        results = ReproductionResults(chosen, args.seeds)
    pending = results.pending()
    progress = _Progress(results, quiet=args.quiet)
    try:
        results.save(out)  # the file exists from the start: resumable even if no run finishes
        for run in pending:
            config = results.config(run)
            apply_threads(torch_threads(config))
            arm = chosen.arms[run[0]]
            progress.start(arm.label, run[1], arm.steps)
            measured = train_and_score(config, arm.steps, arm.score, progress.step)
            results.record(run, measured)
            results.save(out)
            progress.finished(measured)
    except KeyboardInterrupt:
        progress.close()
        print(f"gradviz: interrupted; {len(results.runs)} of {results.total} runs are kept in {out} "
              "(run the same command again to resume)", file=sys.stderr)
        return EXIT_INTERRUPTED
    progress.close()
    print("\n".join(results.summary_lines()))
    print(f"wrote {out}")
    if args.plot is not None:
        from gradviz.reproduce.plot import plot_reproduction

        print(f"wrote {plot_reproduction(results, args.plot)}")
    return 0


class _Progress:
    """One line on stderr: runs done, the run in flight and its step (redrawn on a terminal; a
    line per finished run otherwise)."""

    def __init__(self, results, quiet: bool) -> None:
        self.results, self.quiet = results, quiet
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()
        self.what = ""

    def _bar(self) -> str:
        done, total = len(self.results.runs), self.results.total
        filled = int(24 * done / max(total, 1))
        return f"[{'#' * filled}{'.' * (24 - filled)}] {done}/{total} runs"

    def start(self, label: str, seed: int, steps: int) -> None:
        self.what = f"{label} seed {seed}"
        self.step(0, steps)

    def step(self, done: int, steps: int) -> None:
        if self.quiet or not self.tty:
            return
        elapsed = time.perf_counter() - self.started
        print(f"\r{self._bar()}  {self.what}: step {done}/{steps}  {elapsed:.0f} s\033[K", end="",
              file=sys.stderr, flush=True)

    def finished(self, measured) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        line = (f"{self._bar()}  {self.what}: {measured.steps} steps ({measured.sequences:,} sequences) in "
                f"{measured.seconds:.0f} s  {elapsed:.0f} s in all")
        print(("\r" + line + "\033[K") if self.tty else line, end="" if self.tty else "\n", file=sys.stderr,
              flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)
