"""The ``gradviz`` command: the app with no subcommand, headless work with one.

    gradviz [--preset NAME] [--screenshot FILE --steps N --size WxH]   open the app
    gradviz train ...    train with a progress bar and write a run file
    gradviz probe ...    measure one step at initialisation and write it to an npz

A user mistake prints one line naming the bad value and exits 2; a run that diverges exits 3.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any, NoReturn

from gradviz.config import (
    DEVICES,
    INITS,
    MODEL_KINDS,
    NONLINEARITIES,
    OPTIMIZERS,
    TASK_NAMES,
    ConfigError,
    RunConfig,
    with_overrides,
)

EXIT_USAGE = 2
EXIT_DIVERGED = 3


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
    add("--model", choices=MODEL_KINDS, help="recurrent cell (default lstm)")
    add("--task", choices=TASK_NAMES, help="long-range task (default adding)")
    add("--seq-len", type=int, help="sequence length T (default 50)")
    add("--distance", type=int, help="names task: words between title and name (default 10)")
    add("--hidden", type=int, help="units per layer H (default 64)")
    add("--layers", type=int, help="stacked recurrent layers (default 1)")
    add("--nonlinearity", choices=NONLINEARITIES, help="RNN activation (default tanh)")
    add("--init", choices=INITS, help="weight initialisation (default: PyTorch's)")
    add("--spectral-radius", type=float, help="rescale W_hh to this spectral radius (0 = off)")
    add("--forget-bias", type=float, help="LSTM forget-gate bias (default 1)")
    add("--no-forget-gate", dest="forget_gate", action="store_const", const=False,
        help="LSTM as in 1997: f_t fixed at 1")
    add("--batch", type=int, help="sequences per step (default 64)")
    add("--optimizer", choices=OPTIMIZERS, help="default adam")
    add("--lr", type=float, help="learning rate (default 0.01)")
    add("--momentum", type=float, help="SGD momentum (default 0.9)")
    add("--clip", type=float, help="gradient-norm clipping threshold, 0 = off (default 1)")
    add("--tbptt", type=int, help="truncated BPTT window k, 0 = full BPTT (default 0)")
    add("--seed", type=int, help="seed for weights and batches (default 0)")
    add("--device", choices=DEVICES, help="default auto: CUDA, else MPS, else CPU")
    add("--record-every", type=int, help="record full probes every K steps (default 10)")
    add("--probe-sample", type=int, help="batch sample whose gates are recorded (default 0)")
    add("--out", type=Path, help="output .npz file")
    add("--force", action="store_true", help="overwrite --out if it exists")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradviz", description="Watch gradients vanish through time.")
    parser.add_argument("--preset", help="open the app on this preset (default vanishing)")
    parser.add_argument("--config", type=Path, help="open the app on this config file")
    parser.add_argument("--screenshot", type=Path, help="run, save a PNG of the window, exit")
    parser.add_argument("--steps", type=int, default=300, help="steps before --screenshot")
    parser.add_argument("--size", default="1920x1080", help="window size for --screenshot")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train headless and write a run file")
    _add_run_options(train)
    train.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    probe = sub.add_parser("probe", help="measure one step at initialisation")
    _add_run_options(probe)
    return parser


# ---- configuration ------------------------------------------------------------------------

FLAG_FIELDS = (
    "model", "task", "seq_len", "distance", "hidden", "layers", "nonlinearity", "init",
    "spectral_radius", "forget_bias", "forget_gate", "batch", "optimizer", "lr", "momentum",
    "clip", "tbptt", "seed", "device", "record_every", "probe_sample",
)


def read_config_file(path: Path) -> RunConfig:
    """A config file: RunConfig's nested form, or flat keys named like the flags."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config {path}: {exc}") from None
    try:
        data: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"config {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"config {path} must hold a mapping of settings")
    try:
        if "models" in data or isinstance(data.get("task"), dict):
            return RunConfig.from_dict(data)
        return with_overrides(RunConfig(), data)
    except ConfigError as exc:
        raise UsageError(f"config {path}: {exc}") from None


def config_from_args(args: argparse.Namespace) -> RunConfig:
    from gradviz.presets import load_preset

    if args.preset and args.config:
        raise UsageError("give --preset or --config, not both")
    try:
        if args.preset:
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


def _check_out(args: argparse.Namespace) -> None:
    if args.out is not None:
        if args.out.exists() and not args.force:
            raise UsageError(f"{args.out} already exists (use --force to overwrite)")
        if not args.out.parent.exists():
            raise UsageError(f"folder {args.out.parent} does not exist")


def command_train(args: argparse.Namespace) -> int:
    from gradviz.engine import Run
    from gradviz.io.runfile import save_run
    from gradviz.probes.history import RunHistory

    config = config_from_args(args)
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    _check_out(args)
    run = Run(config)
    baseline = run.task.baseline()
    history = RunHistory(len(config.models))
    progress = _Progress(args.steps, run.labels, quiet=args.quiet)
    started = time.perf_counter()
    last = None
    for record in run.steps(args.steps):
        history.add(record)
        last = record
        progress.update(record)
        if record.diverged:
            break
    elapsed = time.perf_counter() - started
    progress.close()
    assert last is not None
    print(f"{run.task.title}, T={config.task.seq_len}: baseline {run.task.loss_name} {baseline.loss:.4g}")
    for index, (label, model) in enumerate(zip(run.labels, last.models, strict=True)):
        probes = _latest_probes(history, index)
        status = "DIVERGED" if model.diverged else f"loss {model.loss:.4g}, {run.task.metric_name} {model.metric:.3g}"
        print(f"  {label}: {status}; {probes}")
    print(f"{last.step + 1} steps in {elapsed:.1f} s ({(last.step + 1) / elapsed:.1f} steps/s) on {run.device}")
    if args.out is not None:
        save_run(args.out, config, history, (baseline.loss, baseline.metric), force=args.force)
        print(f"wrote {args.out}")
    if last.diverged:
        step = last.step
        norms = ", ".join(f"{m.grad_norm:.3g}" for m in last.models)
        print(f"gradviz: training diverged at step {step} (gradient norm {norms})", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def _latest_probes(history, index: int) -> str:
    from gradviz.probes import describe_half_life

    half_lives = history.probe_column(index, "half_life")
    if not len(half_lives):
        return "no probes recorded"
    return describe_half_life(float(half_lives[-1]))


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
        if not self.tty and done % max(1, self.total // 10) and done < self.total:
            return
        self.next_report = now + 0.2
        width = 24
        filled = int(width * done / self.total)
        losses = "  ".join(f"{label} {m.loss:.4g}" for label, m in zip(self.labels, record.models, strict=True))
        rate = done / max(now - self.started, 1e-9)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}  {rate:.0f} steps/s  loss: {losses}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def command_probe(args: argparse.Namespace) -> int:
    from gradviz.engine.probe import probe_arrays
    from gradviz.io.runfile import save_arrays

    config = config_from_args(args)
    if args.out is None:
        raise UsageError("probe needs --out FILE.npz")
    _check_out(args)
    arrays = probe_arrays(config)
    save_arrays(args.out, arrays, force=args.force)
    grad_h = arrays["grad_h"][-1]
    print(f"loss {float(arrays['loss']):.4g}; |dL/dh_t| at t=1: {grad_h[0]:.3g}, at t=T: {grad_h[-1]:.3g}")
    print(f"wrote {args.out}")
    return 0


def command_app(args: argparse.Namespace) -> int:
    try:
        from gradviz.gui.app import NoDisplayError, run_app
    except ImportError as exc:
        raise UsageError(f"the app needs PySide6 and pyqtgraph ({exc}); install gradviz with its GUI") from None
    size = None
    if args.screenshot is not None:
        try:
            width, height = (int(part) for part in args.size.lower().split("x"))
            if width < 320 or height < 240:
                raise ValueError
            size = (width, height)
        except ValueError:
            raise UsageError(f"--size must look like 1920x1080, got {args.size!r}") from None
        if args.steps < 0:
            raise UsageError(f"--steps must be 0 or more, got {args.steps}")
    # The app opens on the default preset unless a preset or a config file says otherwise.
    config = config_from_args(args) if args.config else None
    try:
        return run_app(config, preset=args.preset, screenshot=args.screenshot, steps=args.steps, size=size)
    except NoDisplayError as exc:
        raise UsageError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"train": command_train, "probe": command_probe}
    try:
        return commands.get(args.command, command_app)(args)
    except UsageError as exc:
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileExistsError, FileNotFoundError) as exc:
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as exc:
        from gradviz.engine.device import DeviceError

        if not isinstance(exc, DeviceError):
            raise
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ngradviz: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
