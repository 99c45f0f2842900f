"""``gradviz doctor``: what this machine has, and whether gradviz computes right on it.

    gradviz doctor [--device auto|cpu|cuda|mps] [--json FILE] [--quick]

Prints the platform, Python, Qt, torch (version and build: CPU, CUDA, MPS), the devices with
their memory, how child processes start, the threads, and where settings and sweeps are kept;
then runs ``gradviz.selfcheck`` on each device (every device found, or ``--device``'s): one
line per check, "ok" or "FAILED: why". Exit 1 when a check fails, so that a user with a Mac or
a GPU can paste the output into a bug report and a script can test it. This module imports
torch only when it runs (the CLI imports it to register the command).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from gradviz.config import DEVICES, ConfigError

EXIT_FAILED = 1
QUICK_STEPS = 3


def add_doctor_parser(sub) -> None:
    """Register the subcommand on the CLI's subparsers."""
    doctor = sub.add_parser("doctor", help="what this machine has, and a self-check on each device "
                                           "(paste it into a bug report)")
    doctor.add_argument("--device", choices=DEVICES, default="auto",
                        help="check this device only (default auto: every device found: the CPU, CUDA, MPS)")
    doctor.add_argument("--json", type=Path, help="also write the facts and checks to this JSON file")
    doctor.add_argument("--quick", action="store_true",
                        help=f"{QUICK_STEPS} recorded steps per cell instead of 20 (the test suite's)")


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def qt_facts() -> dict[str, str]:
    """Qt's version, and the places that need Qt to name them; "not installed" without it."""
    try:
        from gradviz.gui.environment import qt_version, sweep_folder, user_settings
    except ImportError as exc:
        missing = (f"not installed ({exc}; the window needs PySide6-Essentials and pyqtgraph, the headless "
                   "commands do not)")
        return {"qt": missing, "settings": "(Qt decides: not installed)", "sweeps": "(Qt decides: not installed)"}
    settings = user_settings()
    return {"qt": qt_version(), "settings": settings.fileName(), "sweeps": str(sweep_folder(settings))}


def torch_facts() -> dict[str, str]:
    import torch

    cuda = torch.version.cuda
    build = f"CUDA {cuda}" if cuda else "ROCm " + torch.version.hip if getattr(torch.version, "hip", None) else "CPU"
    if torch.backends.cudnn.is_available():
        build += f", cuDNN {torch.backends.cudnn.version()}"
    if torch.backends.mps.is_built():
        build += ", MPS built"
    return {"torch": f"{torch.__version__} ({build} build)"}


def device_facts() -> dict[str, str]:
    """Every device torch finds, with its memory: total, and free now."""
    import torch

    from gradviz.budget import available_bytes
    from gradviz.threads import core_count

    available = available_bytes()
    free = f", {_gib(available)} available" if available is not None else ""
    found = {"cpu": f"{core_count()} cores for gradviz ({os.cpu_count()} in all){free}"}
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            free_now, total = torch.cuda.mem_get_info(index)
            found[f"cuda:{index}"] = (f"{properties.name}, {_gib(total)} ({_gib(free_now)} free), compute capability "
                                      f"{properties.major}.{properties.minor}")
    else:
        found["cuda"] = "none found"
    if torch.backends.mps.is_available():
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        found["mps"] = "Apple GPU" + (f", recommended working set {_gib(recommended())}" if recommended else "")
    else:
        found["mps"] = "not available" + (" (built, but no Apple GPU or macOS too old)"
                                          if torch.backends.mps.is_built() else "")
    return found


def process_facts() -> dict[str, str]:
    import torch

    from gradviz.forkserver import START_ENV, start_method
    from gradviz.presets import DEFAULT_PRESET, load_preset
    from gradviz.threads import POLICY_ENV, SPIN_ENV, THREADS_ENV, WAIT_POLICY_ENV, thread_policy, torch_threads

    demo = load_preset(DEFAULT_PRESET).config
    names = (START_ENV, POLICY_ENV, THREADS_ENV, WAIT_POLICY_ENV, SPIN_ENV, "OMP_NUM_THREADS")
    chosen = [f"{name}={os.environ[name]}" for name in names if name in os.environ]
    return {"start method": f"{start_method()} (the trainer and the sweep's runs are child processes)",
            "threads": f"torch {torch.get_num_threads()} here; policy {thread_policy()}; the default demo's "
                       f"trainer {torch_threads(demo, reserve=1)}" + (f"; {', '.join(chosen)}" if chosen else "")}


def facts() -> dict[str, str]:
    """What a bug report needs to know about this machine, in print order."""
    from gradviz import __version__

    system = platform.platform()
    if sys.platform == "darwin":
        system += f" (macOS {platform.mac_ver()[0]})"
    qt = qt_facts()
    return {
        "gradviz": __version__,
        "platform": f"{system}, {platform.machine()}",
        "python": f"{platform.python_version()} ({sys.executable})",
        "qt": qt["qt"],
        "numpy": _version("numpy"), "matplotlib": _version("matplotlib"),
        **torch_facts(),
        **{f"device {name}": text for name, text in device_facts().items()},
        **process_facts(),
        "settings": qt["settings"],
        "sweeps": qt["sweeps"],
    }


def devices_to_check(requested: str) -> list[str]:
    """``auto``: the CPU and every GPU torch finds; else the one asked for, if it is here."""
    import torch

    if requested == "auto":
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (
            ["mps"] if torch.backends.mps.is_available() else [])
    from gradviz.engine.device import DeviceError, choose_device

    try:
        choose_device(requested)
    except DeviceError as exc:
        raise ConfigError(str(exc)) from None
    return [requested]


def command_doctor(args: argparse.Namespace) -> int:
    from gradviz.selfcheck import STEPS, self_check

    if args.json is not None and not args.json.parent.exists():
        raise ConfigError(f"folder {args.json.parent} does not exist")
    devices = devices_to_check(args.device)  # a device that is not here: one line, exit 2, nothing else
    found = facts()
    width = max(len(name) for name in found)
    for name, text in found.items():
        print(f"{name:<{width}}  {text}", flush=True)
    checks = []
    for device in devices:
        print(f"self-check on {device}:", flush=True)
        for check in self_check(device, QUICK_STEPS if args.quick else STEPS):
            print(check.line(), flush=True)
            checks.append(check)
    failed = [check for check in checks if not check.ok]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed" + (
        "; please paste all of the above into a bug report" if failed else ""))
    if args.json is not None:
        from gradviz.io.atomic import atomic_write

        report = {"facts": found, "ok": not failed,
                  "checks": [{"device": c.device, "name": c.name, "ok": c.ok, "detail": c.detail,
                              "seconds": round(c.seconds, 2)} for c in checks]}
        text = (json.dumps(report, indent=2) + "\n").encode("utf-8")
        atomic_write(args.json, lambda stream: stream.write(text), force=True)
        print(f"wrote {args.json}")
    return EXIT_FAILED if failed else 0
