"""``gradviz sweep``: train a grid of (model, T, seed) runs and write the trainability map.

    gradviz sweep --models rnn,lstm,gru --task adding --seq-lens 5,10,20,50,100 --seeds 3 \\
        --steps 1000 [--jobs J] --out sweep.npz [--plot sweep.png|svg|pdf]

An existing ``--out`` made with the same settings is resumed (only the missing runs train;
none, when it is complete: the command then only prints the table and draws ``--plot``); one
made with other settings is refused unless ``--force``. Ctrl-C (SIGINT), SIGTERM and SIGHUP (a
closed terminal) stop the runs in flight at any moment, keep every finished one in ``--out`` and
exit 128 + the signal's number (130 for Ctrl-C). SIGKILL cannot be caught: the runs then end
with their parent by themselves (``gradviz.forkserver.child_setup``).

One sweep writes ``--out`` at a time: a second one on the same file (a "resume" while the first
still runs) is refused with one line (``io/filelock.py``). A save that the disk refuses mid-sweep
(full, read-only) goes to a fallback file, said at the end: no finished run is lost.

Mistakes raise ConfigError (the CLI prints one line and exits 2).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from gradviz.config import DEVICES, ConfigError
from gradviz.sweep.grid import MAX_JOBS, SWEEP_TASKS, SweepConfig, Threshold, check_jobs, parse_lengths
from gradviz.threads import core_count

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
# The signals that stop a sweep cleanly; SIGHUP does not exist on Windows.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class SweepStopped(KeyboardInterrupt):
    """A stop signal arrived; ``number`` is the signal."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


def _ignore(number: int, frame) -> None:
    """A later stop signal while the sweep stops its runs: nothing more to do."""


class _StopOnSignals:
    """While active, the first of ``STOP_SIGNALS`` raises SweepStopped wherever the sweep is
    (starting the fork server, waiting on its runs); later ones are ignored, so that stopping
    the runs is never itself cut short."""

    def __enter__(self) -> _StopOnSignals:
        self._previous = {number: signal.signal(number, self._handle) for number in STOP_SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame) -> None:
        from gradviz.forkserver import interrupt

        for each in STOP_SIGNALS:
            # A do-nothing handler, not SIG_IGN: a run spawned from now on would inherit SIG_IGN
            # through exec and ignore the SIGTERM that stops it (CI saw a sweep hang that way).
            signal.signal(each, _ignore)
        interrupt(SweepStopped(number))  # raised now, or as soon as a run's process has started


def add_sweep_parser(sub) -> None:
    """Register the subcommand on the CLI's subparsers."""
    sweep = sub.add_parser("sweep", help="success rate against sequence length, for each cell (a grid of runs)")
    add = sweep.add_argument
    add("--models", default="rnn,lstm,gru", help="comma-separated cells: rnn, lstm, gru (default all three)")
    add("--task", default="adding", choices=SWEEP_TASKS,
        help="any task with a computed baseline (default adding)")
    add("--seq-lens", default="5,10,20,50,100", help="comma-separated lengths T (default 5,10,20,50,100)")
    add("--seeds", type=int, default=3, help="runs per (model, T), seeds 0..N-1 (default 3)")
    add("--steps", type=int, default=1000, help="training steps per run (default 1000)")
    add("--jobs", type=int,
        help=f"runs at a time, each in its own process (default: the core count; 1 on a GPU; at most {MAX_JOBS})")
    add("--threshold", default="0.1x",
        help="success: final loss below this; '0.1x' = a tenth of the task's baseline (default), '0.02' = a loss")
    add("--hidden", type=int, default=64, help="units H (default 64)")
    add("--batch", type=int, default=64, help="sequences per step (default 64)")
    add("--lr", type=float, default=0.01, help="Adam learning rate (default 0.01)")
    add("--clip", type=float, default=1.0, help="gradient-norm clipping, 0 = off (default 1)")
    add("--distance", type=int, default=10, help="names/reviews tasks: the distance spanned (default 10)")
    add("--device", choices=DEVICES, default="auto", help="default auto; on a GPU the runs share it")
    add("--out", type=Path, required=True, help="the sweep file (.npz); resumed if it exists with the same settings")
    add("--plot", type=Path,
        help="also write the figure: .png, .svg or .pdf (replaced if it exists: it is drawn from --out)")
    add("--resume", action="store_true", help="continue --out, which must exist")
    add("--force", action="store_true", help="start over even if --out exists")
    add("--quiet", action="store_true", help="no progress bar")


def _config(args: argparse.Namespace):
    models = tuple(part.strip().lower() for part in args.models.split(",") if part.strip())
    seq_lens = parse_lengths("--seq-lens", args.seq_lens)
    return SweepConfig(
        task=args.task, models=models, seq_lens=seq_lens, seeds=args.seeds, steps=args.steps,
        threshold=Threshold.parse(args.threshold), hidden=args.hidden, batch=args.batch, lr=args.lr,
        clip=args.clip, distance=args.distance,
    )


def _check_paths(args: argparse.Namespace) -> None:
    """ConfigError (one line) for an --out or --plot that cannot be written, before any training;
    a path the system refuses outright (longer than PATH_MAX, say) included."""
    try:
        _check_path_names(args)
    except OSError as exc:
        raise ConfigError(f"cannot use --out or --plot: {exc.strerror or exc}") from None


def _check_path_names(args: argparse.Namespace) -> None:
    from gradviz.io.atomic import OutputError, check_output
    from gradviz.sweep.plot import FORMATS

    if args.out.suffix.lower() != ".npz":
        raise ConfigError(f"--out must end in .npz, got {args.out.name!r}")
    if args.out.is_dir():
        raise ConfigError(f"--out {args.out} is a folder; give a file name")
    if args.plot is not None:
        if args.plot.suffix.lower() not in FORMATS:
            raise ConfigError(f"--plot must end in {', '.join(FORMATS)}, got {args.plot.name!r}")
        try:
            import matplotlib  # noqa: F401 - checked before hours of training, not after
        except ImportError:
            raise ConfigError("--plot needs matplotlib (pip install matplotlib)") from None
    for path in (args.out, args.plot):
        if path is not None and not path.resolve().parent.is_dir():
            raise ConfigError(f"folder {path.parent} does not exist")
    if args.resume and args.force:
        raise ConfigError("give --resume or --force, not both")
    if args.resume and not args.out.exists():
        raise ConfigError(f"--resume: {args.out} does not exist")
    try:
        check_output(args.out, force=True)  # a read-only or full folder: said now, not after the first run
        if args.plot is not None:
            check_output(args.plot, force=True, what="--plot")
    except OutputError as exc:
        raise ConfigError(str(exc)) from None


def _results(args: argparse.Namespace, config):
    """Fresh results, or those of ``--out`` when it holds the same sweep (resume)."""
    from gradviz.sweep.results import SweepFileError, SweepResults

    if not args.out.exists() or args.force:
        return SweepResults(config)
    try:
        saved = SweepResults.load(args.out)
    except SweepFileError as exc:
        raise ConfigError(f"cannot resume: {exc} (use --force to start over)") from None
    difference = config.difference(saved.config)
    if difference is not None:
        raise ConfigError(f"{args.out} holds another sweep ({difference}); "
                          "use --force to start over or another --out")
    done = int(saved.done.sum())
    print(f"resuming {args.out}: {done} of {saved.done.size} runs done", file=sys.stderr)
    return saved


def _say_quietly(action) -> None:
    """Print, unless the terminal is gone (SIGHUP: writing to it fails): the exit code and the
    file still tell what happened."""
    try:
        action()
    except OSError:
        pass


def _stopped_how(number: int) -> str:
    return "interrupted" if number == signal.SIGINT else f"stopped by {signal.Signals(number).name}"


def _exit_code(number: int) -> int:
    return EXIT_INTERRUPTED if number == signal.SIGINT else 128 + number


def command_sweep(args: argparse.Namespace) -> int:
    """The command, with its stop signals handled from its first moment."""
    try:
        with _StopOnSignals():
            return _sweep(args)
    except SweepStopped as exc:  # before any run started (_sweep answers for those after)
        how = _stopped_how(exc.number)
        _say_quietly(lambda: print(f"\ngradviz: {how} before any run started", file=sys.stderr))
        return _exit_code(exc.number)


def _sweep(args: argparse.Namespace) -> int:
    from gradviz.budget import available_bytes
    from gradviz.engine.device import choose_device
    from gradviz.io.filelock import FileLock, LockedError
    from gradviz.sweep.jobs import default_jobs

    config = _config(args)
    _check_paths(args)
    device_type = choose_device(args.device).type  # a missing GPU: DeviceError, one line, exit 2
    jobs = default_jobs(device_type, core_count()) if args.jobs is None else args.jobs
    check_jobs(jobs, available_bytes(), name="--jobs")
    lock = FileLock(args.out, what="gradviz sweep")
    try:
        lock.acquire()  # before reading --out: a second writer must not resume what the first is writing
    except LockedError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"cannot lock {args.out}: {exc.strerror or exc}") from None
    try:
        return _sweep_locked(args, config, jobs, device_type)
    finally:
        lock.release()


def _sweep_locked(args: argparse.Namespace, config: SweepConfig, jobs: int, device_type: str) -> int:
    from gradviz.sweep.jobs import describe_jobs
    from gradviz.sweep.runner import SweepProgress, SweepRunError, run_sweep

    results = _results(args, config)
    pending = len(results.pending())
    if pending and not args.quiet:
        print(f"sweep: {pending} runs of {config.steps} steps, "
              f"{describe_jobs(min(jobs, pending), device_type, args.jobs is not None)}", file=sys.stderr)
    progress = SweepProgress(results, quiet=args.quiet)
    try:
        run_sweep(results, args.out, jobs, args.device, on_result=progress)
    except KeyboardInterrupt as exc:
        number = exc.number if isinstance(exc, SweepStopped) else signal.SIGINT
        _say_quietly(progress.close)
        _say_quietly(lambda: _say_notes(results))
        _say_quietly(lambda: print(f"\ngradviz: {_stopped_how(number)}; {int(results.done.sum())} of "
                                   f"{results.done.size} runs are kept in {results.saved_path(args.out)} (run "
                                   "the same command again to resume)", file=sys.stderr))
        return _exit_code(number)
    except SweepRunError as exc:
        progress.close()
        _say_notes(results)
        print(f"gradviz: error: {exc}; the finished runs are kept in {results.saved_path(args.out)}",
              file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # even the fallback places refused the file
        progress.close()
        print(f"gradviz: error: cannot save the sweep ({exc.strerror or exc}): {int(results.done.sum())} runs "
              "finished, but could not be written anywhere", file=sys.stderr)
        return EXIT_FAILED
    progress.close()
    _say_notes(results)
    print(f"{config.task} task, {config.steps} steps, {config.seeds} seeds: success rate "
          f"(final loss below {config.threshold})")
    print(results.summary())
    print(f"wrote {results.saved_path(args.out)}")
    if args.plot is not None:
        from gradviz.sweep.plot import plot_sweep

        try:
            plot_sweep(results, args.plot, force=True)
        except OSError as exc:  # the disk filled during the sweep: the runs are safe, say so
            print(f"gradviz: error: could not write {args.plot} ({exc.strerror or exc}); the sweep is in "
                  f"{results.saved_path(args.out)}: draw it later with the same command", file=sys.stderr)
            return EXIT_FAILED
        print(f"wrote {args.plot}")
    return 0


def _say_notes(results) -> None:
    """Where saves went instead of --out (a full or read-only disk), said once each."""
    for note in dict.fromkeys(results.notes):
        print(f"gradviz: {note}", file=sys.stderr)
