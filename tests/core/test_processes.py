"""Child processes on every platform and through every way their parent can end: the start method
chosen per platform (faked platform facts), a trainer that cannot start says why, children die
with their parent (SIGKILL, mid-step), and ``gradviz sweep`` stops its runs on SIGINT, SIGTERM
and SIGHUP at any moment, leaving no run and no fork server behind (real processes, found by a
tag in their environment)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from gradviz.cli import main
from gradviz.config import ConfigError
from gradviz.forkserver import START_ENV, child_setup, choose_start_method, context, start_method
from gradviz.session import protocol as p
from gradviz.session.state import Session
from tests.configs import small_config

ROOT = Path(__file__).resolve().parents[2]
TAG = "GRADVIZ_TEST_TAG"
processes = pytest.mark.processes


# ---- which start method ------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "available", "expected"), [
    ("win32", ["spawn"], "spawn"),
    ("darwin", ["spawn", "fork", "forkserver"], "spawn"),  # forking after Apple's frameworks load is unsafe
    ("linux", ["fork", "spawn", "forkserver"], "forkserver"),
    ("linux", ["fork", "spawn"], "spawn"),
    ("freebsd14", ["fork", "spawn", "forkserver"], "forkserver"),
])
def test_each_platform_gets_its_start_method(platform: str, available: list[str], expected: str) -> None:
    assert choose_start_method(platform, available) == expected


def test_the_environment_forces_a_start_method_it_has() -> None:
    assert choose_start_method("linux", ["fork", "spawn", "forkserver"], "spawn") == "spawn"
    assert choose_start_method("darwin", ["spawn", "fork", "forkserver"], " ForkServer ") == "forkserver"
    assert choose_start_method("win32", ["spawn"], "") == "spawn"  # empty: as if unset
    with pytest.raises(ConfigError, match=r"^GRADVIZ_START_METHOD=forkserver: this system \(win32\) has no "):
        choose_start_method("win32", ["spawn"], "forkserver")
    with pytest.raises(ConfigError, match=r"^GRADVIZ_START_METHOD must be spawn or forkserver, got 'fork'$"):
        choose_start_method("linux", ["fork", "spawn", "forkserver"], "fork")


def test_this_machine_follows_the_rule(monkeypatch) -> None:
    monkeypatch.delenv(START_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert start_method() == "spawn"
    monkeypatch.setattr(sys, "platform", "win32")
    assert start_method() == "spawn"


def test_a_bad_start_method_is_one_line_before_any_work(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv(START_ENV, "threads")
    out = tmp_path / "run.npz"
    assert main(["train", "--steps", "2", "--hidden", "4", "--seq-len", "5", "--batch", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "gradviz: error: GRADVIZ_START_METHOD must be spawn or forkserver, got 'threads'\n"
    assert not out.exists()


def test_a_stop_signal_during_a_spawned_start_is_raised_once_the_start_is_over() -> None:
    from gradviz.forkserver import interrupt, interrupts_held

    started = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            interrupt(KeyboardInterrupt())  # as the sweep's signal handler does
            started.append("the start went on")
    assert started == ["the start went on"]
    with pytest.raises(KeyboardInterrupt), interrupts_held(hold=False):  # forkserver: at once
        interrupt(KeyboardInterrupt())
        started.append("never")
    assert started == ["the start went on"]


def test_the_parent_death_signal_is_linux_only(monkeypatch) -> None:
    from gradviz.forkserver import set_death_signal

    for platform in ("darwin", "win32"):
        monkeypatch.setattr(sys, "platform", platform)
        assert set_death_signal() is False  # no prctl: the parent watch alone


# ---- a trainer that cannot start --------------------------------------------------------


def wait_for_death(session: Session, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while session.trainer_state != p.DEAD and time.monotonic() < end:
        session.poll()
        time.sleep(0.02)
    assert session.trainer_state == p.DEAD, f"no death seen; state {session.trainer_state}"


@processes
def test_a_trainer_whose_settings_cannot_be_sent_says_so_and_never_hangs() -> None:
    config = small_config()
    object.__setattr__(config, "seed", lambda: 0)  # cannot be pickled, as nothing in a RunConfig should be
    session = Session(config, autostart=True)
    try:
        wait_for_death(session, timeout=30)
    finally:
        assert session.close()
    assert session.banner.startswith("Training stopped: the trainer process could not start: its run settings "
                                     "cannot be sent to a new process (")


@processes
def test_a_spawned_trainer_that_cannot_import_torch_says_so(tmp_path: Path, monkeypatch) -> None:
    from gradviz.session.process import TrainerProcess

    broken = tmp_path / "torch"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('this torch is broken')\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # the new interpreter gets this path; torch here is loaded already
    trainer = TrainerProcess(small_config(), method="spawn")
    trainer.start()
    try:
        end = time.monotonic() + 60
        while trainer.alive and time.monotonic() < end:
            time.sleep(0.05)
        assert not trainer.alive
        cause = trainer.cause_of_death()
    finally:
        trainer.stop()
    assert cause == ("the trainer process could not start: it could not import the trainer "
                     "(ImportError: this torch is broken)")


# ---- children die with their parent -----------------------------------------------------


def tagged(tag: str) -> dict[int, str]:
    """Every live process whose environment holds ``tag`` (they inherit it from the test's
    child: the fork server, the runs, the trainer), as pid -> command line."""
    found = {}
    needle = f"{TAG}={tag}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if state != "Z":
            found[int(entry.name)] = command
    return found


def wait_until(condition, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def assert_all_gone(tag: str, timeout: float = 30.0) -> None:
    """None is left within ``timeout`` (a spawned child killed while it imports torch cannot
    watch its parent yet: it ends by itself once it can, seconds later on a busy machine)."""
    end = time.monotonic() + timeout
    while tagged(tag) and time.monotonic() < end:
        time.sleep(0.05)
    assert not tagged(tag), f"left running: {tagged(tag)}"


def launch(argv: list[str], tag: str, **env: str) -> subprocess.Popen:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), TAG: tag, **env}
    return subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=environ)


needs_proc = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes through /proc")

# A window's process without the window: a Session training and a sweep of the tab's kind,
# then it prints the pids of its children and waits to be killed.
APP = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from gradviz.session.state import Session
    from gradviz.sweep.grid import SweepConfig
    from gradviz.sweep.results import SweepResults
    from gradviz.sweep.runner import SweepPool
    from tests.configs import small_config

    session = Session(small_config(), autostart=True)
    config = SweepConfig(models=("rnn",), seq_lens=(5,), seeds=4, steps=100_000, hidden=4, batch=8)
    pool = SweepPool(SweepResults(config), Path(sys.argv[1]), jobs=1)
    while session.steps_done < 2:
        session.poll()
        time.sleep(0.02)
    print(session.trainer.pid, *[child.pid for child in pool.processes()], flush=True)
    time.sleep(600)
""")


@processes
@needs_proc
def test_killing_the_app_leaves_no_trainer_and_no_sweep_run(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    app = launch(["-c", APP, str(tmp_path / "s.npz")], tag)
    try:
        line = app.stdout.readline()
        assert line.strip(), app.stderr.read()
        trainer, run = (int(pid) for pid in line.split())
        assert {trainer, run} <= set(tagged(tag))
        app.kill()  # SIGKILL: nothing of the app's own runs
        app.wait(10)
        assert_all_gone(tag)
    finally:
        app.kill()


# A window closed 0.1-1 s after it opened, as its close button does (Session.close), by a
# process that then exits at once: nothing settles the trainer's start but gradviz itself.
CLOSED_WHILE_STARTING = textwrap.dedent("""
    import sys, time
    from gradviz.session.state import Session
    from tests.configs import small_config

    if __name__ == "__main__":
        session = Session(small_config(), autostart=True)
        time.sleep(float(sys.argv[1]))
        print(session.trainer.starting, flush=True)
        session.close()
""")


@processes
@needs_proc
@pytest.mark.parametrize("after_s", [0.1, 0.8])
def test_closing_while_the_trainer_starts_leaves_no_traceback_and_no_process(after_s: float) -> None:
    """The child opened its queues' semaphores after the exiting window had unlinked them: a
    SemLock FileNotFoundError traceback on stderr (issue 25)."""
    tag = uuid.uuid4().hex
    app = launch(["-c", CLOSED_WHILE_STARTING, str(after_s)], tag)
    try:
        out, err = app.communicate(timeout=120)  # the pipe ends once the last child has gone
    finally:
        app.kill()
    assert app.returncode == 0, err
    if start_method() == "forkserver":
        assert out.split() == ["True"], "the trainer should still have been starting"  # (spawn starts at once)
    assert "Traceback" not in err and "Error" not in err, err
    assert_all_gone(tag, timeout=5)


def _sleep_as_a_long_step(death_signal: bool, ready: str) -> None:
    """A child that is deep in one long step (a sleep stands for it) when its parent dies."""
    child_setup(None, death_signal, grace_s=0.5)
    Path(ready).touch()
    time.sleep(120)


PARENT = textwrap.dedent("""
    import sys
    from gradviz.forkserver import context
    from tests.core.test_processes import _sleep_as_a_long_step

    child = context(sys.argv[1]).Process(target=_sleep_as_a_long_step, args=(sys.argv[2] == "1", sys.argv[3]),
                                         daemon=True)
    child.start()
    child.join()
""")


@processes
@needs_proc
@pytest.mark.parametrize("death_signal", [True, False], ids=["death-signal", "parent-watch"])
def test_a_child_deep_in_a_step_dies_with_its_parent(death_signal: bool, tmp_path: Path) -> None:
    """Both ways a child learns that its parent died work on their own mid-step: the kernel's
    death signal (Linux) and the thread watching parent_process() (every platform)."""
    tag = uuid.uuid4().hex
    ready = tmp_path / "in-its-step"
    parent = launch(["-c", PARENT, start_method(), "1" if death_signal else "0", str(ready)], tag)
    try:
        wait_until(ready.exists, 60, "the child's long step")
        parent.kill()
        parent.wait(10)
        started = time.monotonic()
        assert_all_gone(tag, timeout=5)
        assert time.monotonic() - started < (1.0 if death_signal else 3.0)
    finally:
        parent.kill()


# ---- gradviz sweep and its signals ------------------------------------------------------

SWEEP = ["-m", "gradviz", "sweep", "--models", "rnn", "--seq-lens", "5", "--seeds", "20", "--steps", "100000",
         "--hidden", "4", "--batch", "8", "--jobs", "2"]


def a_child_exists(tag: str, sweep_pid: int) -> bool:
    """The sweep has begun starting its runs: the fork server exists (importing torch), or under
    spawn the first run's interpreter."""
    return any(pid != sweep_pid for pid in tagged(tag))


def a_run_is_training(tag: str, sweep_pid: int) -> bool:
    """A run's process exists: a child of the fork server (not the server itself) or, under
    spawn, the sweep's spawned child."""
    others = {pid: command for pid, command in tagged(tag).items() if pid != sweep_pid}
    parents = {pid: int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
               for pid in others if Path(f"/proc/{pid}/stat").exists()}
    return any(parent != sweep_pid or "spawn_main" in others[pid] for pid, parent in parents.items())


@processes
@needs_proc
@pytest.mark.parametrize("moment", ["starting", "mid-run"])
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_to_gradviz_sweep_stops_every_run_at_any_moment(sent: int, moment: str, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    out = tmp_path / "s.npz"
    sweep = launch([*SWEEP, "--out", str(out)], tag)
    try:
        assert sweep.stderr.readline().startswith("sweep: 20 runs"), "the sweep should have begun"
        began = a_child_exists if moment == "starting" else a_run_is_training
        wait_until(lambda: began(tag, sweep.pid), 60, moment)
        sweep.send_signal(sent)
        _, err = sweep.communicate(timeout=30)
    finally:
        sweep.kill()
    expected = 130 if sent == signal.SIGINT else 128 + sent
    assert sweep.returncode == expected, err
    assert "Traceback" not in err
    name = "interrupted" if sent == signal.SIGINT else f"stopped by {signal.Signals(sent).name}"
    assert f"gradviz: {name}; 0 of 20 runs are kept in {out}" in err
    assert_all_gone(tag)


@processes
@needs_proc
def test_sigkill_to_gradviz_sweep_leaves_no_run_and_no_fork_server(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    sweep = launch([*SWEEP, "--out", str(tmp_path / "s.npz")], tag)
    try:
        wait_until(lambda: a_run_is_training(tag, sweep.pid), 60, "a run")
        sweep.kill()
        sweep.wait(10)
    finally:
        sweep.kill()
    assert_all_gone(tag)


# ---- threads ----------------------------------------------------------------------------


def _report_environment(connection) -> None:
    connection.send((os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT"), "torch" in sys.modules))
    connection.close()


@processes
def test_children_load_openmp_with_the_passive_wait_policy(monkeypatch) -> None:
    """OMP_WAIT_POLICY must be in the environment before torch loads OpenMP: the fork server
    and a spawned child both start with it (the server imports torch only after)."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    chosen = context()
    receive, send = chosen.Pipe(duplex=False)
    child = chosen.Process(target=_report_environment, args=(send,))
    child.start()
    send.close()
    policy, spins, _ = receive.recv()
    child.join(30)
    assert policy == "PASSIVE" and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    # libgomp: a short spin, then sleep (longer where the adaptive policy governs the threads)
    assert spins == os.environ["GOMP_SPINCOUNT"] in ("1000", "10000")


def test_child_targets_and_their_arguments_can_be_sent_to_a_spawned_process() -> None:
    """Targets are module-level functions (spawn pickles them by name), the run settings plain data."""
    import pickle

    from gradviz.session.process import _child_main
    from gradviz.sweep.runner import _train_in_child

    for target in (_child_main, _train_in_child, _sleep_as_a_long_step, _report_environment):
        assert pickle.loads(pickle.dumps(target)) is target
    assert pickle.loads(pickle.dumps(small_config())) == small_config()
