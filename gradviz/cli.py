"""The ``gradviz`` command: the app with no subcommand, headless work with one.

    gradviz [--preset NAME] [--presentation] [--screenshot FILE --steps N --size WxH [--theme T] [--layout J]]
    gradviz train ...    train with a progress bar and write a run file
    gradviz probe ...    measure one step at initialisation and write it to an npz
    gradviz sweep ...    success rate against sequence length for each cell (gradviz/sweep/)
    gradviz reproduce NAME  a published result re-measured, beside the paper's (gradviz/reproduce/)
    gradviz doctor       what this machine has, and a self-check on each device (gradviz/doctor.py)

A user mistake prints one line naming the bad value and exits 2; a run that diverges exits 3;
a device that fails mid-run (out of memory, an operation it lacks) prints one line naming it and
the operation, and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NoReturn

from gradviz.config import DEVICES, ConfigError, RunConfig, clip, with_overrides
from gradviz.doctor import add_doctor_parser, command_doctor
from gradviz.io import configfile
from gradviz.io.atomic import atomic_write
from gradviz.lesson.command import add_lesson_parser, command_lesson
from gradviz.reproduce.command import add_reproduce_parser, command_reproduce
from gradviz.schema import settings
from gradviz.sweep.command import add_sweep_parser, command_sweep
from gradviz.threads import gate_work

EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_DEVICE_FAULT = 1  # the device failed mid-run (out of memory, an operation it lacks)
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A mistake on the command line or in a file it names: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (no usage dump) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    # Every default is None so that only flags the user gave override a preset or file.
    add = parser.add_argument
    add("--preset", help="start from a named preset (vanishing, exploding, irnn, ...)")
    add("--config", type=Path, help="JSON or TOML file with the same keys as these flags")
    for setting in settings():  # one flag per setting of config.py, with its docstring as help
        flag = "--" + setting.flat.replace("_", "-")
        default = f" (default {setting.default})" if setting.default != "" else ""
        if setting.type is bool:
            negate = setting.default is True
            add(f"--no-{flag[2:]}" if negate else flag, dest=setting.flat, action="store_const",
                const=not negate, help=setting.doc)
        else:
            add(flag, type=setting.type, choices=setting.choices, help=setting.doc + default)
    add("--out", type=Path, help="output .npz file")
    add("--force", action="store_true", help="overwrite --out if it exists")


def build_parser() -> argparse.ArgumentParser:
    from gradviz import __version__

    parser = _Parser(prog="gradviz", description="Watch gradients vanish through time.")
    parser.add_argument("--version", action="version", version=f"gradviz {__version__}")
    parser.add_argument("--preset", help="open the app on this preset (default vanishing)")
    parser.add_argument("--config", type=Path, help="open the app on this config file")
    parser.add_argument("--screenshot", type=Path, help="run, save a PNG of the window, exit")
    parser.add_argument("--force", action="store_true", help="overwrite the --screenshot file if it exists")
    parser.add_argument("--steps", type=int, default=300, help="steps before --screenshot")
    parser.add_argument("--size", default="1920x1080", help="window size for --screenshot")
    parser.add_argument("--presentation", action="store_true",
                        help="open in presentation mode (F5: full screen, large text), a lesson too; "
                             "with --screenshot, the picture in it")
    parser.add_argument("--theme", choices=("dark", "light"), help="--screenshot in this theme")
    parser.add_argument("--layout", type=Path, help="with --screenshot: write where every plot and text is (JSON)")
    # -- lesson (gradviz/lesson/) --
    parser.add_argument("--lesson", help="open a lesson: the built-in rnn, or a lesson file (.toml, .json)")
    parser.add_argument("--scene", type=int, help="with --lesson: open on this scene (default 1)")
    # -- end lesson --
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train headless and write a run file")
    _add_run_options(train)
    train.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    export = sub.add_parser("export", help="render a figure (or a plot's data) without a screen")
    _add_run_options(export)
    export.add_argument("--run", type=Path, help="render this saved run instead of training")
    export.add_argument("--steps", type=int, default=500, help="training steps before the figure (default 500)")
    export.add_argument("--plot", help="one plot of every model: loss, metric, gradient, history, gates, ...")
    export.add_argument("--format", dest="figure_format", choices=("screen", "slide", "paper"), default="screen",
                        help="screen: every plot, 1600x1000 (one plot 1200x500); slide: 16:9 1920x1080, large "
                             "text; paper: one column, 3.5 in wide at 300 dpi, 8 pt text (default screen)")
    export.add_argument("--scale", type=int, default=1, help="PNG resolution: 1, 2 or 4 (default 1)")
    export.add_argument("--theme", choices=("dark", "light"), default="light", help="default light (for paper)")
    export.add_argument("--size", help="figure size in pixels at scale 1, e.g. 1200x500 (default: the format's)")
    export.add_argument("--layout", type=Path, metavar="REPORT.json",
                        help="also write where every plot and text of the figure is, in pixels (JSON)")
    export.add_argument("--quiet", action="store_true", help="no progress bar")

    probe = sub.add_parser("probe", help="measure one step at initialisation")
    _add_run_options(probe)

    bench = sub.add_parser("bench", help="measure what watching costs, as ratios (docs/PERFORMANCE.md)")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions, under 2 minutes")
    bench.add_argument("--device", choices=DEVICES, default="auto", help="default auto: CUDA, else MPS, else CPU")
    bench.add_argument("--json", type=Path, help="also write the numbers to this JSON file")

    add_sweep_parser(sub)
    add_doctor_parser(sub)
    add_lesson_parser(sub)  # lesson
    add_reproduce_parser(sub)  # issue 23: gradviz/reproduce/
    return parser


# ---- configuration ------------------------------------------------------------------------

FLAG_FIELDS = tuple(setting.flat for setting in settings())




def read_config_file(path: Path) -> RunConfig:
    try:
        return configfile.read_config_file(path)
    except configfile.ConfigFileError as exc:
        raise UsageError(str(exc)) from None


def _check_preset_name(name: str) -> None:
    """--preset takes a name from the list, never a path (a file goes with --config)."""
    from gradviz.presets import preset_names

    names = preset_names()
    if name not in names:
        hint = "; a file goes with --config" if any(c in name for c in "/\\.") else ""
        raise UsageError(f"unknown preset {clip(name)!r}; choose one of {', '.join(names)}{hint}")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    from gradviz.presets import load_preset

    if args.preset and args.config:
        raise UsageError("give --preset or --config, not both")
    try:
        if args.preset:
            _check_preset_name(args.preset)
            base = load_preset(args.preset).config
        elif args.config:
            base = read_config_file(args.config)
        else:
            base = RunConfig()
        given = {name: getattr(args, name) for name in FLAG_FIELDS if getattr(args, name, None) is not None}
        return with_overrides(base, given)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


# ---- commands -----------------------------------------------------------------------------


def _check_out(args: argparse.Namespace, needed: int = 0) -> None:
    """The output can be written (folder exists, is a folder, takes a file, has room): checked
    before any work, so that training is never lost to a path that cannot be written."""
    from gradviz.io.atomic import MIN_FREE_BYTES, OutputError, check_output

    if args.out is not None:
        try:
            check_output(args.out, force=args.force, needed=max(needed, MIN_FREE_BYTES))
        except OutputError as exc:
            raise UsageError(str(exc)) from None


def _check_memory(config: RunConfig) -> None:
    """Refuse, before anything is built, a run the machine's memory cannot hold."""
    from gradviz.budget import MemoryRefused, check_run

    try:
        check_run(config)
    except MemoryRefused as exc:
        raise UsageError(str(exc)) from None


def _train(config: RunConfig, steps: int, quiet: bool, control=None):
    """Train ``steps`` steps (or until every model diverged, or a stop through ``control``) with a
    progress bar: (run, history, last record or None, seconds)."""
    from gradviz.engine import Run
    from gradviz.probes.history import RunHistory

    if steps < 1:
        raise UsageError(f"--steps must be at least 1, got {steps}")
    run = Run(config)
    history = RunHistory(len(config.models))
    progress = _Progress(steps, run.labels, quiet=quiet)
    started = time.perf_counter()
    last = None
    for record in run.steps(steps, control):  # a diverged model stops; the others train on
        history.add(record)
        last = record
        progress.update(record)
        message = run.divergence_message(record)
        if message:
            progress.note(f"gradviz: training {message}")
    progress.close()
    return run, history, last, time.perf_counter() - started


class _StopOnSignal:
    """While active, Ctrl-C (SIGINT) and SIGTERM ask training to stop at the next step boundary;
    a second signal interrupts at once (KeyboardInterrupt)."""

    def __init__(self, control):
        self.control = control
        self.signal_name: str | None = None
        self._previous: dict = {}

    def __enter__(self) -> _StopOnSignal:
        import signal

        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame) -> None:
        import signal

        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(number).name
        self.control.stop()
        print(f"\ngradviz: {self.signal_name}: stopping after this step (again to abort at once)",
              file=sys.stderr, flush=True)


def _run_file_arrays(run, history) -> dict:
    """What a run file holds: the history, and the model state to continue training from."""
    from gradviz.io.checkpoint import state_arrays
    from gradviz.io.runfile import run_arrays

    baseline = run.task.baseline()
    solved = run.solved.reported()  # issue 23: solved_at_sequences
    return {**run_arrays(run.config, history, (baseline.loss, baseline.metric), solved), **state_arrays(run)}


def command_train(args: argparse.Namespace) -> int:
    from gradviz.budget import estimate_run_file

    config = config_from_args(args)
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    _check_out(args, needed=estimate_run_file(config, args.steps))
    _check_memory(config)  # before torch is even imported: a refusal takes well under a second
    from gradviz.engine.run import RunControl
    from gradviz.io.runfile import save_arrays_kept

    _use_threads(config)
    _load_text(config, args.quiet)
    control = RunControl()
    with _StopOnSignal(control) as stopper:
        run, history, last, elapsed = _train(config, args.steps, args.quiet, control)
    done = 0 if last is None else last.step + 1
    if last is not None:
        _print_summary(run, history, last, elapsed)
    if stopper.signal_name is None:
        _print_evaluation(run)
    if args.out is not None:
        path, note = save_arrays_kept(args.out, _run_file_arrays(run, history), args.force)
        if note:
            print(f"gradviz: {note}", file=sys.stderr)
        print(f"wrote {path}" + (f" ({done} steps done)" if stopper.signal_name else ""))
    if stopper.signal_name is not None:
        where = "the run so far was saved" if args.out is not None else "nothing was saved (no --out)"
        print(f"gradviz: interrupted by {stopper.signal_name} after {done} of {args.steps} steps; {where}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    diverged = [] if last is None else [
        label for label, model in zip(run.labels, last.models, strict=True) if model.diverged
    ]
    if diverged:
        print(f"gradviz: training diverged: {', '.join(diverged)}", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def _print_summary(run, history, last, elapsed: float) -> None:
    """Each model's headline, the facts its column header shows in the window."""
    from gradviz.session.frames import frame_from_history
    from gradviz.session.headline import headline

    baseline = run.task.baseline()
    print(f"{run.task.title}, T={run.task.seq_len}: baseline {run.task.loss_name} {baseline.loss:.4g}")
    latest = [history.latest_probed(index) for index in range(len(run.labels))]
    frame = frame_from_history(history, run.config, latest, 0, last.step + 1, "done", 0.0, run.solved.solved_at)
    losses = frame.scalars["loss"]
    for index, (view, model) in enumerate(zip(frame.models, last.models, strict=True)):
        metric = "" if model.diverged else f"{run.task.metric_name} {model.metric:.3g} · "
        facts = headline(view, losses[:, index], baseline.loss, frame.scalars["grad_norm"][:, index],
                         frame.scalars["step"])
        print(f"  {view.label}: {metric}{facts.text()}")
    from gradviz.engine.solved import solved_lines  # issue 23: solved_at_sequences

    for line in solved_lines(run.solved, run.labels, last.step + 1):
        print(line)
    print(f"{last.step + 1} steps in {elapsed:.1f} s ({(last.step + 1) / elapsed:.1f} steps/s) on {run.device}")


def _load_text(config: RunConfig, quiet: bool) -> None:
    """Text task: read the file now, with a progress line, so that the Run reuses it."""
    if config.task.name != "text":
        return
    from gradviz.tasks.textdata import load_text_dataset_cached

    task = config.task

    def progress(done: int, total: int) -> None:
        if not quiet:
            print(f"\rreading {task.data}: {done / max(total, 1):.0%}", end="", file=sys.stderr, flush=True)

    dataset = load_text_dataset_cached(
        task.data, text_column=task.text_column, label_column=task.label_column, vocab_size=task.vocab_size,
        max_len=task.max_len, test_fraction=task.test_fraction, seed=config.seed, progress=progress,
    )
    if not quiet:
        print(file=sys.stderr)
    print(dataset.describe())


def _print_evaluation(run) -> None:
    """Text tasks: precision, recall, F1 and confusion of every model on the held-out set."""
    from gradviz.engine.evaluate import evaluate_model
    from gradviz.engine.reports import is_text_task

    if not is_text_task(run.task):
        return

    where = "the test split" if run.task.name == "text" else "a fixed generated set"
    for label, learner in zip(run.labels, run.learners, strict=True):
        if learner.diverged:
            continue
        evaluation = evaluate_model(learner.model, run.task)
        print(f"\n{label} on {where} ({evaluation.total} reviews):")
        print(evaluation.table())


class _Progress:
    """A one-line progress bar on stderr (or a line per 10% when not a terminal)."""

    def __init__(self, total: int, labels: list[str], quiet: bool):
        self.total, self.labels, self.quiet = total, labels, quiet
        self.tty = sys.stderr.isatty()
        self.next_report = 0.0
        self.started = time.perf_counter()

    def update(self, record) -> None:
        if self.quiet:
            return
        done = record.step + 1
        now = time.perf_counter()
        if self.tty and now < self.next_report and done < self.total:
            return
        if not self.tty and done % max(1, self.total // 10) and 1 < done < self.total:
            return  # a line per 10% (and one at the first step: training has begun)
        self.next_report = now + 0.2
        width = 24
        filled = int(width * done / self.total)
        losses = "  ".join(f"{label} {m.loss:.4g}" for label, m in zip(self.labels, record.models, strict=True))
        rate = done / max(now - self.started, 1e-9)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}  {rate:.0f} steps/s  loss: {losses}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def note(self, line: str) -> None:
        """A line of its own (a divergence), not overwritten by the bar."""
        print(("\n" if self.tty else "") + line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def command_export(args: argparse.Namespace) -> int:
    from gradviz.figures import PLOT_NAMES, SUFFIXES, run_view, write_figure
    from gradviz.io.runfile import RunFileError, SavedRun, load_run

    if args.out is None:
        raise UsageError("export needs --out FIG.png, .svg or .pdf (or .csv/.npz with --plot)")
    suffix = args.out.suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise UsageError(f"--out must end in {', '.join('.' + s for s in SUFFIXES)}, got {args.out.name!r}")
    if suffix in ("csv", "npz") and not args.plot:
        raise UsageError("data export (.csv/.npz) needs --plot NAME")
    if suffix in ("csv", "npz") and args.layout is not None:
        raise UsageError("--layout reports a figure's layout: --out must be .png, .svg or .pdf")
    if args.plot and args.plot not in PLOT_NAMES:
        raise UsageError(f"unknown --plot {args.plot!r}; choose one of {', '.join(PLOT_NAMES)}")
    if args.scale not in (1, 2, 4):
        raise UsageError(f"--scale must be 1, 2 or 4, got {args.scale}")
    size = _parse_size(args.size) if args.size else None
    if size is not None:  # the formats' own sizes are small; a given one is checked against memory
        _check_image_memory(size, args.scale)
    _check_out(args)
    if args.run is not None:
        if args.preset or args.config:
            raise UsageError("give --run or --preset/--config, not both")
        given = [f"--{'no-' if getattr(args, name) is False else ''}{name.replace('_', '-')}"
                 for name in FLAG_FIELDS if getattr(args, name, None) is not None]  # as typed: --no-forget-gate
        if given:
            raise UsageError(f"--run draws the saved run as it was; {', '.join(given)} cannot change it "
                             f"(train anew with these flags instead)")
        try:
            saved = load_run(args.run)
        except RunFileError as exc:
            raise UsageError(str(exc)) from None
        if "step" not in saved.arrays:
            at = int(saved.arrays.get("state/step", 0))
            raise UsageError(f"{args.run} was saved at step {at}, before any probes were recorded: there is "
                             f"nothing to draw yet; open it in the window, train on, save, and export again")
    else:
        config = config_from_args(args)
        _check_memory(config)
        _use_threads(config)
        run, history, last, _ = _train(config, args.steps, args.quiet)
        saved = SavedRun(config, _run_file_arrays(run, history))
    try:
        view = run_view(saved)
    except ValueError as exc:
        raise UsageError(f"{args.run or 'the run'}: {exc}") from None
    path = write_figure(view, args.out, plot=args.plot, theme=args.theme, fmt=args.figure_format, size=size,
                        scale=args.scale, force=args.force, layout=args.layout)
    print(f"wrote {path}" + (f" and {args.layout}" if args.layout is not None else ""))
    return 0


def _check_image_memory(size: tuple[int, int], scale: int) -> None:
    from gradviz.budget import MemoryRefused, check_image

    try:
        check_image(*size, scale)
    except MemoryRefused as exc:
        raise UsageError(str(exc)) from None


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like 1920x1080, got {text!r}") from None
    if not (320 <= width <= 10000 and 240 <= height <= 10000):
        raise UsageError(f"--size must be between 320x240 and 10000x10000, got {text!r}")
    return width, height


def command_probe(args: argparse.Namespace) -> int:
    from gradviz.engine.probe import probe_arrays
    from gradviz.io.runfile import save_arrays

    config = config_from_args(args)
    if args.out is None:
        raise UsageError("probe needs --out FILE.npz")
    _check_out(args)
    _check_memory(config)
    _use_threads(config)
    arrays = probe_arrays(config)
    save_arrays(args.out, arrays, force=args.force)
    grad_h = arrays["grad_h"][-1]
    print(
        f"loss {float(arrays['loss']):.4g}; per-sequence decision-loss gradient |dl/dh_t| "
        f"at t=1: {grad_h[0]:.3g}, at t=T: {grad_h[-1]:.3g}"
    )
    print(f"wrote {args.out}")
    return 0


def command_bench(args: argparse.Namespace) -> int:
    from gradviz.bench import CASES, case_config, run_bench, table

    if args.json is not None and not args.json.parent.exists():
        raise UsageError(f"folder {args.json.parent} does not exist")
    _use_threads(max((case_config(*case) for case in CASES), key=gate_work))  # as train runs its largest row
    results = run_bench(quick=args.quick, device=args.device, log=lambda line: print(line, file=sys.stderr))
    print(table(results))
    if args.json is not None:
        text = (json.dumps(results, indent=2) + "\n").encode("utf-8")
        atomic_write(args.json, lambda stream: stream.write(text), force=True)
        print(f"wrote {args.json}")
    return 0


def _use_threads(config: RunConfig) -> None:
    """torch's threads for training ``config`` in this process (``gradviz.threads``)."""
    from gradviz.threads import apply_threads, torch_threads

    apply_threads(torch_threads(config))


def _check_environment() -> None:
    """Refuse bad ``GRADVIZ_START_METHOD``/``GRADVIZ_TRAINER_THREADS`` values in one line before
    any work, say when the thread count was bounded, and let idle OpenMP threads sleep in every
    process this command starts (set before torch is imported, or OpenMP never reads it)."""
    from gradviz.forkserver import start_method
    from gradviz.threads import override_note, set_wait_policy

    start_method()
    note = override_note()
    if note is not None:
        print(f"gradviz: {note}", file=sys.stderr)
    set_wait_policy()


def _exit_at_once(number: int, frame) -> None:
    """Ctrl-C while the app starts (Qt imported, the window being built): nothing is trained or
    open yet, so leave at once; unwinding a half-built Qt import or window can abort the process."""
    import os
    import signal

    os.write(2, f"\ngradviz: {signal.Signals(number).name}: stopped while starting\n".encode())
    os._exit(128 + number)


def command_app(args: argparse.Namespace) -> int:
    import signal

    for number in (signal.SIGINT, signal.SIGTERM):  # run_app takes over once the window is up
        signal.signal(number, _exit_at_once)
    try:
        from gradviz.gui.app import NoDisplayError, run_app
    except ImportError as exc:
        raise UsageError(f"the app needs PySide6 and pyqtgraph ({exc}); install gradviz with its GUI") from None
    size = None
    if args.screenshot is not None:
        size = _parse_size(args.size)
        if args.steps < 0:
            raise UsageError(f"--steps must be 0 or more, got {args.steps}")
        from gradviz.io.atomic import OutputError, check_output

        try:
            check_output(args.screenshot, force=args.force, what="--screenshot")
        except OutputError as exc:
            raise UsageError(str(exc)) from None
    elif args.layout or args.theme:
        raise UsageError("--layout and --theme go with --screenshot")
    # The app opens on the default preset unless a preset or a config file says otherwise.
    if args.preset:
        _check_preset_name(args.preset)
    config = config_from_args(args) if args.config else None
    # -- lesson (gradviz/lesson/) --
    lesson = None
    if args.lesson is not None or args.scene is not None:
        from gradviz.lesson.command import lesson_for_app

        lesson = lesson_for_app(args)
    # -- end lesson --
    try:
        return run_app(config, preset=args.preset, screenshot=args.screenshot, steps=args.steps, size=size,
                       force=args.force, presentation=args.presentation, theme=args.theme, layout=args.layout,
                       lesson=lesson)
    except NoDisplayError as exc:
        raise UsageError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    import signal

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is not None and signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        # Headless commands: Ctrl-C is a KeyboardInterrupt (train narrows it to a step boundary).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    commands = {"train": command_train, "probe": command_probe, "export": command_export,
                "bench": command_bench, "sweep": command_sweep, "doctor": command_doctor,
                "reproduce": command_reproduce, "lesson": command_lesson}
    try:
        _check_environment()
        return commands.get(args.command, command_app)(args)
    except UsageError as exc:
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileExistsError, FileNotFoundError, ConfigError) as exc:
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        from gradviz.tasks.textdata import TextDataError

        if not isinstance(exc, TextDataError):
            raise
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as exc:
        device = sys.modules.get("gradviz.engine.device")  # not imported: neither (and no torch in the window)
        if device is not None and isinstance(exc, device.DeviceFault):  # failed mid-run: named, with the way out
            print(f"gradviz: error: {exc}", file=sys.stderr)
            return EXIT_DEVICE_FAULT
        if device is None or not isinstance(exc, device.DeviceError):
            raise
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ngradviz: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
