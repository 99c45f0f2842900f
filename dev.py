"""gradviz's one entry point for a fresh machine, the same on Linux, macOS and Windows (needs
Python 3.11+ with pip and venv; standard library only):

    ./dev app [gradviz args]     set up .venv if needed, then open the app on its default demo
    ./dev test [pytest args]     set up .venv if needed, then run the whole test suite
    ./dev setup                  only set up

``./dev`` (Linux, macOS) only runs this file; on Windows type ``py dev.py app`` and
``py dev.py test`` (``python3 dev.py ...`` works everywhere). The Python that runs it creates
.venv (``PYTHON=python3.12 ./dev app`` picks another on Unix, ``py -3.12 dev.py app`` on Windows).

Set-up installs PyTorch first (a torch already in .venv is kept), then gradviz and its tests,
and leaves a stamp so that the next run starts at once. Which torch is ``torch_plan``, a pure
function of the machine's facts (tests/core/test_setup_script.py fakes them):
  Linux, no NVIDIA GPU (no nvidia-smi): torch==2.13.0+cpu, the CPU build (~200 MB), from a wheel
    pip's own configuration already offers (a local wheel folder or mirror), else from
    PyTorch's CPU index (PyPI has no CPU-only Linux build), else PyPI's torch, saying so;
  Linux with an NVIDIA GPU: PyPI's torch==2.13.0, the CUDA build (several GB);
  macOS on Apple Silicon, Windows: PyPI's torch==2.13.0 (CPU; Apple GPUs through MPS). PyPI's
    Windows build has no CUDA: with an NVIDIA GPU, set-up says how to get one;
  macOS on Intel (x86_64): PyTorch stopped building for it after torch 2.2.2, so set-up says so
    and installs 2.2.2 (with numpy<2, as torch before 2.3 was built against NumPy 1.x), which
    exists for Python 3.8-3.12 only: with a newer Python it refuses, naming the fix.
  GRADVIZ_TORCH_INDEX=URL takes torch from that index instead; GRADVIZ_TORCH_VERSION=X.Y.Z picks
  another version. Messages are ASCII: a Windows console may not print anything else.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = ".gradviz-installed"
# A change to any of these files installs again (new dependencies, a new torch plan).
STAMPED = ("pyproject.toml", "setup.py", "dev.py", "dev")
MIN_PYTHON = (3, 11)
TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# PyTorch's last release with Intel macOS wheels, and the Pythons it was built for.
INTEL_MAC_TORCH = "2.2.2"
INTEL_MAC_TORCH_PYTHONS = ((3, 8), (3, 12))
# The first torch built against NumPy 2; older ones fail to convert arrays under numpy>=2.
TORCH_WITH_NUMPY_2 = (2, 3)
PYTORCH_BUILDS = "https://pytorch.org/get-started/locally/"
USAGE = "usage: ./dev [app|test|setup] [args...]  (on Windows: py dev.py [app|test|setup] [args...])"


class SetupError(Exception):
    """Set-up cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Facts:
    """Everything the set-up decides from: faked in the tests, read from the machine here."""

    system: str  # platform.system(): "Linux", "Darwin", "Windows"
    machine: str  # platform.machine(): "x86_64", "arm64", "aarch64", "AMD64", "ARM64"
    python: tuple[int, int]
    has_nvidia_smi: bool = False
    torch_index: str | None = None  # GRADVIZ_TORCH_INDEX
    torch_version: str | None = None  # GRADVIZ_TORCH_VERSION
    rosetta: bool = False  # an x86_64 Python translated by Rosetta on an Apple Silicon Mac

    @classmethod
    def of_this_machine(cls) -> Facts:
        system, machine = platform.system(), platform.machine()
        return cls(
            system=system,
            machine=machine,
            python=(sys.version_info[0], sys.version_info[1]),
            has_nvidia_smi=shutil.which("nvidia-smi") is not None,
            torch_index=os.environ.get("GRADVIZ_TORCH_INDEX") or None,
            torch_version=os.environ.get("GRADVIZ_TORCH_VERSION") or None,
            rosetta=is_intel_mac(system, machine) and _translated_by_rosetta(),
        )


@dataclass(frozen=True)
class Attempt:
    """One ``pip install`` of torch; a plan's attempts run in order until one succeeds."""

    requirement: str
    pip_args: tuple[str, ...] = ()
    before: str | None = None  # said before trying
    after: str | None = None  # said once it worked
    quiet: bool = False  # a failure here is expected (the next attempt follows): pip's errors are hidden


@dataclass(frozen=True)
class TorchPlan:
    """How to install torch on one machine: notes to say first, then the attempts, or a refusal."""

    attempts: tuple[Attempt, ...] = ()
    notes: tuple[str, ...] = ()
    refusal: str | None = None


def is_intel_mac(system: str, machine: str) -> bool:
    return system == "Darwin" and machine in ("x86_64", "i386")


def python_refusal(python: tuple[int, int], executable: str = "") -> str | None:
    """Why this Python cannot set gradviz up, or None when it can."""
    if python >= MIN_PYTHON:
        return None
    return (f"gradviz needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is {python[0]}.{python[1]}"
            f"{f' ({executable})' if executable else ''}. Run set-up with a newer one: "
            "PYTHON=python3.12 ./dev app, or on Windows py -3.12 dev.py app")


def torch_plan(facts: Facts) -> TorchPlan:
    """Which torch to install where, and from where (see the module's docstring)."""
    version = facts.torch_version or TORCH_VERSION
    if facts.torch_index:
        return TorchPlan((Attempt(f"torch=={version}", ("--index-url", facts.torch_index),
                                  before=f"torch {version} from {facts.torch_index}"),))
    if is_intel_mac(facts.system, facts.machine):
        return _intel_mac_plan(facts)
    if facts.system != "Linux" or facts.has_nvidia_smi:
        notes = ()
        if facts.system == "Windows" and facts.has_nvidia_smi:
            notes = ("PyPI's torch for Windows is a CPU build. To train on this NVIDIA GPU instead, delete .venv "
                     "and set up again with GRADVIZ_TORCH_INDEX set to one of PyTorch's CUDA indexes (such as "
                     f"https://download.pytorch.org/whl/cu126; see {PYTORCH_BUILDS})",)
        return TorchPlan((Attempt(f"torch=={version}", before=f"torch {version} from PyPI"),), notes)
    cpu = f"torch=={version}+cpu"
    return TorchPlan((
        Attempt(cpu, after=f"torch {version}+cpu (CPU build) from pip's configured sources", quiet=True),
        Attempt(cpu, ("--extra-index-url", CPU_INDEX),
                before=f"no NVIDIA GPU: torch {version}+cpu (CPU build) from {CPU_INDEX}"),
        Attempt(f"torch=={version}",
                before=f"PyTorch's CPU index has no such build here: torch {version} from PyPI"),
    ))


def _intel_mac_plan(facts: Facts) -> TorchPlan:
    """PyTorch's Intel macOS builds ended with 2.2.2: install that one (gradviz allows torch>=2.2),
    unless the user asked for a version, or this Python is newer than any 2.2.2 wheel."""
    if facts.torch_version:
        return TorchPlan((Attempt(f"torch=={facts.torch_version}", before=f"torch {facts.torch_version} from PyPI"),))
    subject = ("this Python is an Intel (x86_64) build running under Rosetta" if facts.rosetta
               else "this is an Intel Mac")
    arm64 = " An arm64 Python gets the current torch and the Apple GPU." if facts.rosetta else ""
    ended = f"PyTorch's builds for Intel macOS stopped at torch {INTEL_MAC_TORCH} (later ones are for Apple Silicon)"
    low, high = INTEL_MAC_TORCH_PYTHONS
    if not low <= facts.python <= high:
        return TorchPlan(refusal=(
            f"{subject}, and {ended}, which exists for Python {low[0]}.{low[1]} to "
            f"{high[0]}.{high[1]} only, not {facts.python[0]}.{facts.python[1]}: set up with Python 3.11 or "
            f"3.12 instead (PYTHON=python3.12 ./dev app).{arm64}"))
    note = (f"{subject}, and {ended}: installing torch {INTEL_MAC_TORCH} with numpy<2 (it was built against "
            f"NumPy 1.x); gradviz trains on the CPU.{arm64}")
    return TorchPlan((Attempt(f"torch=={INTEL_MAC_TORCH}", before=f"torch {INTEL_MAC_TORCH} from PyPI"),), (note,))


def numpy_pin(torch_version: str) -> tuple[str, ...]:
    """Extra requirements that an installed torch needs beside gradviz's own."""
    match = re.match(r"(\d+)\.(\d+)", torch_version)
    if match is None:
        return ()
    return ("numpy<2",) if (int(match[1]), int(match[2])) < TORCH_WITH_NUMPY_2 else ()


def venv_python(venv: Path, system: str) -> Path:
    return venv / "Scripts" / "python.exe" if system == "Windows" else venv / "bin" / "python"


def venv_script(venv: Path, system: str, name: str) -> Path:
    return venv / "Scripts" / f"{name}.exe" if system == "Windows" else venv / "bin" / name


def launch(command: str, args: list[str], venv: Path, system: str,
           environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that ``app`` or ``test`` runs once set up."""
    env = dict(environ)
    if command == "app":
        return [str(venv_script(venv, system, "gradviz")), *args], env
    # The tests draw offscreen unless the caller chose a platform (a real X server, say).
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return [str(venv_python(venv, system)), "-m", "pytest", *args], env


def fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for name in STAMPED:
        path = root / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    return digest.hexdigest()


def setup(facts: Facts, venv: Path = VENV) -> None:
    python = venv_python(venv, facts.system)
    want = fingerprint(ROOT)
    stamp = venv / STAMP
    # The stamp is written last, so a matching one means a complete .venv: nothing to run.
    if python.exists() and stamp.is_file() and stamp.read_text(encoding="ascii", errors="replace").strip() == want:
        return
    if python.exists() and not _succeeds([str(python), "-m", "pip", "--version"]):
        shutil.rmtree(venv)  # an interrupted earlier set-up: start again
    if not python.exists():
        refusal = torch_plan(facts).refusal
        if refusal:  # before making a .venv with a Python that cannot have torch
            raise SetupError(refusal)
        if subprocess.run([sys.executable, "-m", "venv", str(venv)]).returncode != 0:
            raise SetupError(f"{sys.executable} -m venv failed (on Debian and Ubuntu: sudo apt-get install "
                             "python3-venv)")
    _pip(python, "install", "--quiet", "--upgrade", "pip")
    torch = _installed_version(python, "torch")
    if torch is None:
        _install_torch(python, torch_plan(facts), facts)
        torch = _installed_version(python, "torch")
        if torch is None:
            raise SetupError("pip installed torch but it is not in .venv; delete .venv and try again")
    _pip(python, "install", "--quiet", "-e", ".[test]", *numpy_pin(torch))
    stamp.write_text(want + "\n", encoding="ascii")


def _install_torch(python: Path, plan: TorchPlan, facts: Facts) -> None:
    if plan.refusal:
        raise SetupError(plan.refusal)
    for note in plan.notes:
        _say(note)
    for attempt in plan.attempts:
        if attempt.before:
            _say(attempt.before)
        command = [str(python), "-m", "pip", "install", "--quiet", attempt.requirement, *attempt.pip_args]
        if _succeeds(command, quiet=attempt.quiet):
            if attempt.after:
                _say(attempt.after)
            return
    raise SetupError(
        f"pip could not install {plan.attempts[-1].requirement} for Python {facts.python[0]}.{facts.python[1]} "
        f"on {facts.system} {facts.machine} (pip's messages are above). PyTorch's builds: {PYTORCH_BUILDS}; "
        "GRADVIZ_TORCH_VERSION=X.Y.Z or GRADVIZ_TORCH_INDEX=URL picks another")


def _pip(python: Path, *args: str) -> None:
    if subprocess.run([str(python), "-m", "pip", *args], cwd=ROOT).returncode != 0:
        raise SetupError(f"pip {' '.join(args)} failed (pip's messages are above)")


def _succeeds(command: list[str], quiet: bool = True) -> bool:
    stream = subprocess.DEVNULL if quiet else None
    return subprocess.run(command, cwd=ROOT, stdout=stream, stderr=stream).returncode == 0


def _installed_version(python: Path, package: str) -> str | None:
    """The version pip installed in .venv, without importing it (importing torch takes seconds)."""
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=ROOT)
    version = result.stdout.strip()
    return version if result.returncode == 0 and version else None


def _translated_by_rosetta() -> bool:
    try:
        result = subprocess.run(["sysctl", "-n", "sysctl.proc_translated"], capture_output=True, text=True)
    except OSError:
        return False
    return result.stdout.strip() == "1"


def _say(message: str) -> None:
    print(f"set-up: {message}", flush=True)


def _replace_process(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` in place of this process (Unix), or wait for it and pass its status on (Windows,
    where exec starts a new process and returns the console to the prompt at once)."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name != "nt":
        os.execve(command[0], command, env)
    process = subprocess.Popen(command, env=env)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:  # Ctrl-C reaches the child too: wait for it to finish
            continue


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command, args = (argv[0], argv[1:]) if argv else ("app", [])
    if command not in ("app", "test", "setup"):
        print(USAGE, file=sys.stderr)
        return 2
    refusal = python_refusal((sys.version_info[0], sys.version_info[1]), sys.executable)
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    os.chdir(ROOT)  # test and file paths are relative to the checkout, as they always were
    facts = Facts.of_this_machine()
    try:
        setup(facts)
    except SetupError as error:
        print(f"set-up: {error}", file=sys.stderr)
        return 1
    if command == "setup":
        return 0
    return _replace_process(*launch(command, args, VENV, facts.system, dict(os.environ)))


if __name__ == "__main__":
    sys.exit(main())
