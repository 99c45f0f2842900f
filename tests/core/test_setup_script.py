"""dev.py's decisions on every OS, from faked platform facts (CI runs Linux only): which torch
each machine gets and from where, the venv's paths, what ``app`` and ``test`` run, and that
a second set-up with nothing changed does nothing. Also: every third-party module gradviz
imports is declared in pyproject.toml."""

import ast
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import replace
from importlib import metadata
from pathlib import Path, PureWindowsPath

import pytest

import dev
from dev import CPU_INDEX, Facts, numpy_pin, torch_plan

ROOT = Path(__file__).resolve().parents[2]


def linux(**facts):
    return Facts(system="Linux", machine="x86_64", python=(3, 11), **facts)


def requirements(plan):
    return [(attempt.requirement, attempt.pip_args) for attempt in plan.attempts]


def test_linux_without_an_nvidia_gpu_gets_the_cpu_build_first_from_pips_sources_then_pytorchs_cpu_index():
    plan = torch_plan(linux(has_nvidia_smi=False))
    assert requirements(plan) == [
        ("torch==2.13.0+cpu", ()),
        ("torch==2.13.0+cpu", ("--extra-index-url", CPU_INDEX)),
        ("torch==2.13.0", ()),  # PyPI's (CUDA) build only when the CPU index cannot be reached
    ]
    first, second, last = plan.attempts
    assert first.quiet and first.after and "pip's configured sources" in first.after
    assert not second.quiet and "no NVIDIA GPU" in second.before
    assert "from PyPI" in last.before and not plan.notes and plan.refusal is None


@pytest.mark.parametrize(("system", "machine", "gpu"), [
    ("Linux", "x86_64", True), ("Darwin", "arm64", False), ("Windows", "AMD64", False)])
def test_a_gpu_linux_apple_silicon_and_windows_get_pypis_torch(system, machine, gpu):
    plan = torch_plan(Facts(system=system, machine=machine, python=(3, 12), has_nvidia_smi=gpu))
    assert requirements(plan) == [("torch==2.13.0", ())]
    assert plan.notes == () and plan.refusal is None


def test_windows_with_an_nvidia_gpu_is_told_that_pypis_torch_is_cpu_only_and_how_to_get_cuda():
    plan = torch_plan(Facts(system="Windows", machine="AMD64", python=(3, 12), has_nvidia_smi=True))
    assert requirements(plan) == [("torch==2.13.0", ())]
    (note,) = plan.notes
    assert "CPU build" in note and "GRADVIZ_TORCH_INDEX" in note and "delete .venv" in note


def test_the_environment_picks_the_index_and_the_version_everywhere():
    for facts in (linux(), linux(has_nvidia_smi=True), Facts("Windows", "AMD64", (3, 11)),
                  Facts("Darwin", "x86_64", (3, 13))):
        plan = torch_plan(replace(facts, torch_index="https://example.org/whl/cu126", torch_version="2.9.1"))
        assert requirements(plan) == [("torch==2.9.1", ("--index-url", "https://example.org/whl/cu126"))]
    assert requirements(torch_plan(linux(torch_version="2.9.1")))[0] == ("torch==2.9.1+cpu", ())


@pytest.mark.parametrize("python", [(3, 11), (3, 12)])
def test_an_intel_mac_is_told_why_and_gets_torch_2_2_2_the_last_build_for_it_with_numpy_1(python):
    plan = torch_plan(Facts(system="Darwin", machine="x86_64", python=python))
    assert requirements(plan) == [("torch==2.2.2", ())]
    (note,) = plan.notes
    assert "Intel" in note and "2.2.2" in note and "numpy<2" in note
    assert numpy_pin("2.2.2") == ("numpy<2",)  # what set-up adds when it installs gradviz


def test_an_intel_mac_with_a_python_newer_than_any_torch_2_2_2_wheel_is_refused_with_the_fix():
    plan = torch_plan(Facts(system="Darwin", machine="x86_64", python=(3, 13)))
    assert plan.attempts == () and "3.12" in plan.refusal and "PYTHON=python3.12" in plan.refusal


def test_an_intel_python_under_rosetta_is_told_that_an_arm64_python_gets_the_current_torch():
    plan = torch_plan(Facts(system="Darwin", machine="x86_64", python=(3, 12), rosetta=True))
    assert requirements(plan) == [("torch==2.2.2", ())] and "arm64 Python" in plan.notes[0]
    # A version asked for is taken as it is, with no note.
    asked = torch_plan(Facts(system="Darwin", machine="x86_64", python=(3, 13), torch_version="2.1.0"))
    assert requirements(asked) == [("torch==2.1.0", ())] and asked.notes == ()


@pytest.mark.parametrize(("version", "pin"), [
    ("2.13.0+cpu", ()), ("2.3.0", ()), ("2.2.2", ("numpy<2",)), ("2.2.2+cpu", ("numpy<2",)),
    ("1.13.1", ("numpy<2",)), ("nightly", ())])
def test_numpy_below_2_is_pinned_exactly_for_torch_before_2_3(version, pin):
    assert numpy_pin(version) == pin


def test_the_machines_facts_come_from_platform_which_and_the_environment(monkeypatch):
    monkeypatch.setattr(dev.platform, "system", lambda: "Windows")
    monkeypatch.setattr(dev.platform, "machine", lambda: "AMD64")
    monkeypatch.setattr(dev.shutil, "which", lambda name: "C:\\nvidia-smi.exe" if name == "nvidia-smi" else None)
    monkeypatch.setenv("GRADVIZ_TORCH_INDEX", "")  # empty is unset, as it was in the shell script
    monkeypatch.setenv("GRADVIZ_TORCH_VERSION", "2.12.0")
    facts = Facts.of_this_machine()
    assert facts == Facts("Windows", "AMD64", sys.version_info[:2], has_nvidia_smi=True, torch_version="2.12.0")


def test_the_venv_paths_per_os():
    venv = Path("v")
    assert PureWindowsPath(dev.venv_python(venv, "Windows")) == PureWindowsPath("v/Scripts/python.exe")
    assert PureWindowsPath(dev.venv_script(venv, "Windows", "gradviz")) == PureWindowsPath("v/Scripts/gradviz.exe")
    for system in ("Linux", "Darwin"):
        assert dev.venv_python(venv, system) == Path("v/bin/python")
        assert dev.venv_script(venv, system, "gradviz") == Path("v/bin/gradviz")


def test_app_runs_gradviz_and_test_runs_pytest_offscreen_unless_a_platform_was_chosen():
    venv = Path("v")
    assert dev.launch("app", ["--steps", "3"], venv, "Windows", {}) == (
        [str(Path("v/Scripts/gradviz.exe")), "--steps", "3"], {})
    command, env = dev.launch("test", ["-q"], venv, "Linux", {"HOME": "/h"})
    assert command == [str(Path("v/bin/python")), "-m", "pytest", "-q"]
    assert env == {"HOME": "/h", "QT_QPA_PLATFORM": "offscreen"}
    assert dev.launch("test", [], venv, "Linux", {"QT_QPA_PLATFORM": "xcb"})[1] == {"QT_QPA_PLATFORM": "xcb"}
    assert dev.launch("app", [], venv, "Linux", {})[1] == {}  # the app picks its own platform


def test_an_old_python_is_refused_with_the_version_needed_and_how_to_choose_another():
    assert dev.python_refusal((3, 11)) is None and dev.python_refusal((3, 13)) is None
    message = dev.python_refusal((3, 9), "/usr/bin/python3")
    assert "3.11 or newer" in message and "3.9" in message and "py -3.12 dev.py app" in message


def fake_venv(tmp_path):
    """A .venv whose python is this one (it has pip), with every step of set-up recorded."""
    venv = tmp_path / ".venv"
    python = dev.venv_python(venv, "Linux")
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    return venv


def test_a_second_set_up_with_nothing_changed_runs_nothing(tmp_path, monkeypatch):
    venv = fake_venv(tmp_path)
    (venv / dev.STAMP).write_text(dev.fingerprint(dev.ROOT) + "\n")
    ran = []
    monkeypatch.setattr(dev.subprocess, "run", lambda *args, **kwargs: ran.append(args))
    dev.setup(linux(), venv)
    assert ran == []


def test_a_stale_set_up_keeps_its_torch_and_pins_numpy_for_an_old_one(tmp_path, monkeypatch):
    venv = fake_venv(tmp_path)
    (venv / dev.STAMP).write_text("an older pyproject.toml\n")
    installs = []
    monkeypatch.setattr(dev, "_pip", lambda python, *args: installs.append(args))
    monkeypatch.setattr(dev, "_installed_version", lambda python, package: "2.2.2")
    monkeypatch.setattr(dev, "_install_torch", lambda *args: pytest.fail("a torch in .venv is kept"))
    dev.setup(Facts("Darwin", "x86_64", (3, 12)), venv)
    assert installs == [("install", "--quiet", "--upgrade", "pip"),
                        ("install", "--quiet", "-e", ".[test]", "numpy<2")]
    assert (venv / dev.STAMP).read_text().strip() == dev.fingerprint(dev.ROOT)


def test_an_interrupted_set_up_starts_again_with_a_new_venv(tmp_path, monkeypatch):
    venv = tmp_path / ".venv"
    python = dev.venv_python(venv, "Linux")
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n")  # a venv whose pip never got installed
    python.chmod(0o755)
    (venv / "left-over").write_text("from the interrupted run")
    real_run, created = subprocess.run, []

    def run(command, *args, **kwargs):
        if command[1:3] == ["-m", "venv"]:
            created.append(command)
            fake_venv(tmp_path)
            return subprocess.CompletedProcess(command, 0)
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(dev.subprocess, "run", run)
    monkeypatch.setattr(dev, "_pip", lambda python, *args: None)
    monkeypatch.setattr(dev, "_installed_version", lambda python, package: "2.13.0+cpu")
    dev.setup(linux(), venv)
    assert created == [[sys.executable, "-m", "venv", str(venv)]] and not (venv / "left-over").exists()
    assert (venv / dev.STAMP).read_text().strip() == dev.fingerprint(dev.ROOT)


def test_fingerprint_follows_the_files_that_decide_the_install(tmp_path):
    for name in dev.STAMPED:
        (tmp_path / name).write_text(name)
    before = dev.fingerprint(tmp_path)
    (tmp_path / "README.md").write_text("not part of it")
    assert dev.fingerprint(tmp_path) == before
    (tmp_path / "pyproject.toml").write_text("dependencies = ['more']")
    assert dev.fingerprint(tmp_path) != before


def test_a_refused_plan_stops_set_up_with_its_message_before_making_a_venv(tmp_path):
    with pytest.raises(dev.SetupError, match="3.12 instead"):
        dev.setup(Facts("Darwin", "x86_64", (3, 13)), tmp_path / ".venv")
    assert not (tmp_path / ".venv").exists()


def test_on_windows_the_command_is_waited_for_and_its_status_passed_on(monkeypatch):
    monkeypatch.setattr(dev.os, "name", "nt")
    assert dev._replace_process([sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ)) == 3


def test_the_unix_wrapper_only_runs_dev_py_and_a_bad_command_is_one_line():
    code = [line for line in (ROOT / "dev").read_text().splitlines() if line and not line.startswith("#")]
    assert code == ['exec "${PYTHON:-python3}" "$(dirname "$0")/dev.py" "$@"']
    for command in (["sh", str(ROOT / "dev"), "bogus"], [sys.executable, str(ROOT / "dev.py"), "bogus"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stderr.splitlines()) == (2, [dev.USAGE])


def test_dev_py_prints_only_ascii_parses_on_an_old_python_and_is_ruff_clean():
    source = (ROOT / "dev.py").read_bytes().decode("ascii")  # a Windows console (cp1252, cp437) prints it
    # An old python3 (macOS's own 3.9, say) must reach the message that asks for 3.11, not a SyntaxError.
    ast.parse(source, feature_version=(3, 7))
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT / "dev.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout


def _top_level_imports(package: Path) -> set[str]:
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_module_gradviz_imports_is_declared():
    declared = {_canonical(re.match(r"[A-Za-z0-9._-]+", requirement)[0])
                for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    # shiboken6 is Qt for Python's own runtime: PySide6-Essentials requires it at its exact version.
    assert any(re.match(r"shiboken6\s*==", requirement) for requirement in metadata.requires("PySide6-Essentials"))
    declared.add("shiboken6")
    providers = metadata.packages_distributions()
    third_party = _top_level_imports(ROOT / "gradviz") - set(sys.stdlib_module_names) - {"gradviz"}
    undeclared = {name: providers.get(name) for name in third_party
                  if not {_canonical(dist) for dist in providers.get(name, [name])} & declared}
    assert "PIL" in third_party and undeclared == {}


def test_the_readme_gives_two_commands_per_os_and_ci_runs_its_test_command():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start")[1].split("\n## ")[0]
    blocks = [[line.split("#")[0].strip() for line in block.strip().splitlines()]
              for block in quick_start.split("```")[1::2]]
    assert blocks[:2] == [["./dev app", "./dev test"], ["py dev.py app", "py dev.py test"]]
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "./dev test -q" in commands
