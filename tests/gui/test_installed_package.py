"""The wheel alone, installed outside the checkout, finds its presets, trains each of them and
takes a screenshot: what a user of ``pip install gradviz`` gets (not only the editable install).
The wheel and the sdist carry the licence and declare every dependency; the sdist carries the
tests and docs.

The wheel goes into a fresh virtual environment with ``--no-deps``; torch, Qt and the other
dependencies come from this test environment through a .pth file (no download, no copy)."""

import email
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _run(command, cwd, env, timeout=300):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _environment():
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(wheel, sdist) built from a copy of the checkout, offline, without build isolation."""
    tmp = tmp_path_factory.mktemp("built")
    env = _environment()
    # Build from a copy: setuptools keeps build/ between builds, and stale files there would
    # end up in the wheel (and the checkout would collect build output).
    source = tmp / "source"
    # Run files (*.npz) a developer left in the checkout stay out; the ones resources/ ships (the
    # lesson's sweep) go in.
    junk = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "*.npz")
    shipped = ROOT / "resources"

    def ignore(folder, names):
        skipped = junk(folder, names)
        return {name for name in skipped if not (Path(folder).is_relative_to(shipped) and name.endswith(".npz"))}

    shutil.copytree(ROOT, source, ignore=ignore)
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
          str(source)], cwd=tmp, env=env)
    (wheel,) = wheels.glob("gradviz-*.whl")
    # What `python -m build --sdist` does, through the same backend (build is not a dependency).
    sdist = _run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                  "print(b.build_sdist(sys.argv[1]))", str(tmp / "sdist")], cwd=source, env=env)
    return wheel, tmp / "sdist" / sdist.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """(python, gradviz script, a folder outside the checkout, environment) of a fresh venv."""
    wheel, _ = built
    tmp = tmp_path_factory.mktemp("installed")
    env = _environment()
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "gradviz/resources/presets/vanishing.json" in names and "gradviz/resources/icons/gradviz.png" in names
    assert {"gradviz/resources/lessons/rnn.toml", "gradviz/resources/lessons/rnn-sweep.npz"} <= set(names)
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp, env=env)
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run([str(python), "-c", purelib], tmp, env).strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "test-environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
          str(wheel)], cwd=tmp, env=env)
    work = tmp / "elsewhere"
    work.mkdir()
    return python, venv / "bin" / "gradviz", work, env


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    python, script, work, env = installed
    where = _run([str(python), "-c", "import gradviz.presets as p; print(p.__file__); print(p.preset_dir())"],
                 work, env)
    assert str(ROOT) not in where and str(python.parent.parent) in where
    assert _run([str(script), "--version"], work, env).startswith("gradviz ")
    assert _run([str(python), "-m", "gradviz", "--version"], work, env).startswith("gradviz ")


def test_the_installed_package_trains_every_preset(installed):
    python, script, work, env = installed
    small = ["--steps", "2", "--hidden", "8", "--batch", "4", "--quiet"]
    out = _run([str(script), "train", "--preset", "vanishing", *small], work, env)
    assert "steps in" in out
    # Every preset through the same entry point, in one process (one torch import, not seven).
    code = ("import sys; from gradviz.cli import main; from gradviz.presets import preset_names\n"
            "names = preset_names(); print(*names)\n"
            f"sys.exit(max(main(['train', '--preset', name, *{small!r}]) for name in names))")
    out = _run([str(python), "-c", code], work, env, timeout=600)
    assert out.splitlines()[0].split() == ["vanishing", "exploding", "irnn", "lstm1997", "copy", "tbptt", "reviews",
                                          "hochreiter1997"]


def test_the_installed_package_takes_a_screenshot(installed):
    from PySide6.QtGui import QImage

    python, script, work, env = installed
    shot = work / "shot.png"
    _run([str(script), "--screenshot", str(shot), "--steps", "3", "--size", "1280x800"], work,
         {**env, "QT_QPA_PLATFORM": "offscreen"})
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 800)


def test_the_installed_package_passes_its_doctor(installed):
    python, script, work, env = installed
    out = _run([str(script), "doctor", "--device", "cpu", "--quick"], work, env)
    assert "5 of 5 checks passed" in out and str(python.parent.parent) in out  # its own interpreter


def test_the_installed_package_lists_its_lesson(installed):
    python, script, work, env = installed
    out = _run([str(script), "lesson", "--list"], work, env)
    assert "rnn" in out and "8. How far back each cell learns" in out  # the scene that reads the shipped sweep


def test_the_wheel_carries_the_licence_and_declares_pillow_and_every_qt_but_the_broken_one(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (meta,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(meta))
        (licence,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()
    assert "MIT License" in (ROOT / "LICENSE").read_text() and metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    requires = {requirement.name: requirement.specifier for requirement in map(Requirement, metadata.get_all(
        "Requires-Dist")) if requirement.marker is None}
    assert "Pillow" in requires  # GIF export
    qt = requires["PySide6-Essentials"]
    assert "6.11.3" in qt and "6.12.1" in qt and "7.0.0" in qt and "6.12.0" not in qt
    assert not any(name.startswith("tests/") for name in names)  # the tests ship in the sdist only


def test_the_sdist_carries_the_tests_the_docs_the_set_up_and_the_licence(built):
    _, sdist = built
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(top + "/") for name in archive.getnames()}
    for folder in ("tests", "docs", "scripts"):
        ours = {path.relative_to(ROOT).as_posix() for path in (ROOT / folder).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}
        assert ours and ours <= names, ours - names
    assert {"LICENSE", "README.md", "dev", "dev.py", ".ci/run", "pyproject.toml", "setup.py",
            "resources/presets/vanishing.json", "gradviz/cli.py"} <= names
    assert not any("__pycache__" in name for name in names)
