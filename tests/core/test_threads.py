"""torch's threads: one policy (gradviz.threads) for train, probe, bench, the sweep's runs and the
window's trainer; GRADVIZ_TRAINER_THREADS overrides it within the cores."""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from pathlib import Path

import pytest
import torch

from gradviz.cli import main
from gradviz.config import ConfigError, ModelConfig, ModelSetup, RunConfig, TaskConfig, TrainConfig
from gradviz.session import protocol as p
from gradviz.session.trainer import TrainerLoop
from gradviz.threads import (
    DEFAULT_POLICY,
    MULTI_WORK,
    POLICY_ENV,
    PROC_STAT,
    THREADS_ENV,
    Governor,
    busy_seconds,
    gate_work,
    override_note,
    thread_policy,
    threads_override,
    torch_threads,
)
from tests.configs import small_config


def lstm(hidden: int, batch: int = 64, kind: str = "lstm") -> RunConfig:
    setup = ModelSetup(kind.upper(), ModelConfig(kind=kind, hidden=hidden), TrainConfig())
    return RunConfig(task=TaskConfig("adding", seq_len=50, batch=batch), models=(setup,), device="cpu")


@pytest.fixture
def torch_threads_kept():
    """Tests here run the commands in this process: give torch its thread count back after."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_one_policy_gives_small_models_one_thread_on_any_machine() -> None:
    one = {POLICY_ENV: "one"}
    for config in (RunConfig(), lstm(64), lstm(128), small_config(3)):
        assert [torch_threads(config, cores=cores, environ=one) for cores in (1, 2, 8, 64)] == [1, 1, 1, 1]


def test_the_one_policy_gives_large_models_more_threads_within_the_cores_left() -> None:
    one = {POLICY_ENV: "one"}
    big = lstm(512)  # 64 x 512 x 2048 = 64 M multiply-adds per step: 8 threads' worth
    assert torch_threads(big, cores=64, environ=one) == 8
    assert torch_threads(big, cores=4, environ=one) == 4
    assert torch_threads(big, cores=4, reserve=1, environ=one) == 3  # the window keeps a core
    assert torch_threads(big, cores=1, reserve=1, environ=one) == 1


@pytest.mark.parametrize("policy", ["cores", "adaptive", ""])
def test_the_demo_gets_one_thread_and_larger_lstms_every_core(policy) -> None:
    """The default demo (H=32) gains nothing from a second thread; H=64 and H=128 do, alone."""
    env = {POLICY_ENV: policy}
    from gradviz.presets import DEFAULT_PRESET, load_preset

    demo = load_preset(DEFAULT_PRESET).config
    assert gate_work(demo) <= MULTI_WORK < gate_work(lstm(64))
    assert [torch_threads(demo, cores=cores, environ=env) for cores in (1, 2, 8)] == [1, 1, 1]
    for config in (lstm(64), lstm(128), lstm(512)):
        assert [torch_threads(config, cores=cores, environ=env) for cores in (1, 2, 8)] == [1, 2, 8]
        assert torch_threads(config, cores=8, reserve=1, environ=env) == 7


def test_an_unknown_policy_is_one_line() -> None:
    assert thread_policy({}) == DEFAULT_POLICY and thread_policy({POLICY_ENV: "one"}) == "one"
    with pytest.raises(ConfigError, match=f"^{POLICY_ENV} must be one of one, cores, adaptive, got 'fast'$"):
        thread_policy({POLICY_ENV: "fast"})
    fallback = torch_threads(lstm(64), cores=2, environ={})
    assert torch_threads(lstm(64), cores=2, environ={POLICY_ENV: "fast"}) == fallback  # the default, not a crash


class FakeMachine:
    """A clock, the machine's busy CPU seconds and this process's, moved by the test."""

    def __init__(self) -> None:
        self.now = self.busy = self.own = 0.0
        self.set: list[int] = []

    def run(self, seconds: float, ours: float, others: float) -> None:
        """``seconds`` pass with ``ours`` and ``others`` cores busy."""
        self.now += seconds
        self.own += ours * seconds
        self.busy += (ours + others) * seconds

    def governor(self, wanted: int, cores: int) -> Governor:
        return Governor(wanted, self.set.append, cores=cores, clock=lambda: self.now,
                        machine=lambda: self.busy, own=lambda: self.own)


def test_the_governor_gives_up_the_cores_others_hold_and_takes_them_back() -> None:
    machine = FakeMachine()
    governor = machine.governor(wanted=2, cores=2)
    machine.run(0.1, ours=2, others=0)
    governor.tick()
    assert machine.set == []  # before its first look: nothing changes
    machine.run(0.2, ours=1.2, others=0.9)  # a busy neighbour appears
    governor.tick()
    assert machine.set == [1] and governor.threads == 1
    machine.run(0.5, ours=1, others=1)
    governor.tick()  # within the second: not looked at again
    machine.run(0.6, ours=1, others=1)
    governor.tick()
    assert machine.set == [1]
    machine.run(1.0, ours=1, others=0.2)  # it went away: both cores again
    governor.tick()
    assert machine.set == [1, 2]
    machine.run(1.0, ours=1, others=2.0)  # two busy neighbours on two cores: still one thread
    governor.tick()
    assert machine.set == [1, 2, 1]
    eight = FakeMachine()
    governor = eight.governor(wanted=7, cores=8)  # the window's trainer on 8 cores
    eight.run(1.0, ours=7, others=3.2)
    governor.tick()
    assert eight.set == [5]


def test_busy_seconds_read_proc_stat() -> None:
    line = "cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 1 2 3 4\n"
    assert busy_seconds(line, 100.0) == pytest.approx((100 + 5 + 50 + 3 + 2 + 7) / 100)
    if Path(PROC_STAT).exists():
        from gradviz.threads import _machine_busy_seconds

        assert _machine_busy_seconds() > 0


def test_apply_threads_installs_the_governor_only_where_it_can_act(monkeypatch, torch_threads_kept) -> None:
    from gradviz import threads

    monkeypatch.delenv(THREADS_ENV, raising=False)
    threads.apply_threads(2, environ={POLICY_ENV: "adaptive"})
    assert (threads._governor is not None) == Path(PROC_STAT).exists()
    threads.tick()  # harmless at once
    threads.apply_threads(1, environ={POLICY_ENV: "adaptive"})
    assert threads._governor is None  # one thread: nothing to give up
    threads.apply_threads(2, environ={POLICY_ENV: "cores"})
    assert threads._governor is None
    threads.apply_threads(2, environ={POLICY_ENV: "adaptive", THREADS_ENV: "2"})
    assert threads._governor is None  # the user's count is kept as given


def test_the_override_is_bounded_by_the_cores_and_says_so() -> None:
    env = {THREADS_ENV: "3000"}
    assert threads_override(env, cores=2) == 2 and torch_threads(lstm(64), cores=2, environ=env) == 2
    assert override_note(env, cores=2) == (f"{THREADS_ENV}=3000 is more than this machine's 2 cores: "
                                           "torch uses 2 threads")
    assert threads_override({THREADS_ENV: "2"}, cores=8) == 2 and override_note({THREADS_ENV: "2"}, cores=8) is None
    assert threads_override({}, cores=8) is None
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ConfigError, match=f"^{THREADS_ENV} must be a whole number of threads, 1 or more"):
            threads_override({THREADS_ENV: bad}, cores=8)
        policy = torch_threads(lstm(64), cores=8, environ={})
        assert torch_threads(lstm(64), cores=8, environ={THREADS_ENV: bad}) == policy  # the policy, not a crash


def test_train_uses_the_policy_and_the_override(monkeypatch, capsys, torch_threads_kept) -> None:
    argv = ["train", "--steps", "2", "--hidden", "4", "--seq-len", "5", "--batch", "4", "--quiet"]
    monkeypatch.delenv(THREADS_ENV, raising=False)
    torch.set_num_threads(2)
    assert main(argv) == 0
    assert torch.get_num_threads() == 1
    monkeypatch.setenv(THREADS_ENV, "3000")
    assert main(argv) == 0
    assert torch.get_num_threads() == torch_threads(cores=None, environ={THREADS_ENV: "3000"})
    assert f"gradviz: {THREADS_ENV}=3000 is more than this machine's" in capsys.readouterr().err


def test_a_bad_override_is_one_line_before_any_work(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv(THREADS_ENV, "many")
    out = tmp_path / "p.npz"
    assert main(["probe", "--hidden", "4", "--seq-len", "5", "--batch", "4", "--out", str(out)]) == 2
    said = f"gradviz: error: {THREADS_ENV} must be a whole number of threads, 1 or more, got 'many'\n"
    assert capsys.readouterr().err == said
    assert not out.exists()


def test_a_bad_policy_is_one_line_before_any_work(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv(POLICY_ENV, "fast")
    out = tmp_path / "p.npz"
    assert main(["probe", "--hidden", "4", "--seq-len", "5", "--batch", "4", "--out", str(out)]) == 2
    said = f"gradviz: error: {POLICY_ENV} must be one of one, cores, adaptive, got 'fast'\n"
    assert capsys.readouterr().err == said
    assert not out.exists()


def test_the_trainer_chooses_threads_for_each_run_it_builds(torch_threads_kept) -> None:
    """In-process: a loop told to choose (threads=None) sets torch's threads at each build (in its
    own thread: OpenMP's thread count belongs to the thread that sets it)."""
    commands: queue.Queue = queue.Queue()
    seen: list[int] = []

    def emit(event) -> None:
        if isinstance(event, p.RunReset):
            seen.append(torch.get_num_threads())

    def run() -> None:
        torch.set_num_threads(2)
        loop.run()

    loop = TrainerLoop(small_config(), commands, emit, threading.Event(), threads=None)
    thread = threading.Thread(target=run)
    thread.start()
    try:
        end = time.monotonic() + 30
        while not seen and time.monotonic() < end:
            time.sleep(0.02)
    finally:
        commands.put(p.Quit())
        thread.join(10)
    assert seen == [torch_threads(small_config(), reserve=1, environ={})] == [1]


@pytest.mark.processes
def test_a_huge_override_starts_no_more_threads_than_cores(monkeypatch) -> None:
    """GRADVIZ_TRAINER_THREADS=3000 once started 6000 threads in the trainer."""
    from gradviz.session.process import TrainerProcess
    from gradviz.threads import core_count

    monkeypatch.setenv(THREADS_ENV, "3000")
    trainer = TrainerProcess(dataclasses.replace(small_config(), record_every=1))
    assert trainer.threads == core_count()
    trainer.start()
    trainer.send(p.Start())
    try:
        end = time.monotonic() + 60
        while not any(isinstance(event, p.FrameReady) for event in trainer.events()) and time.monotonic() < end:
            time.sleep(0.05)
        status = Path(f"/proc/{trainer.pid}/status")
        if not status.exists():
            pytest.skip("counts threads through /proc")
        threads = int(next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("Threads:")))
    finally:
        trainer.stop()
    # torch's pool (the cores), the main thread, the parent watch, the queues' feeder: never thousands.
    assert threads <= core_count() + 8, threads


def test_the_wait_policy_spins_briefly_unless_the_user_chose_one() -> None:
    from gradviz.threads import POLICY_ENV, SPIN_ENV, WAIT_POLICY_ENV, set_wait_policy

    # PASSIVE alone made 2 threads 2.5-3x slower on an idle machine (docs/PERFORMANCE.md).
    environ: dict[str, str] = {POLICY_ENV: "cores"}
    set_wait_policy(environ)
    assert environ == {POLICY_ENV: "cores", WAIT_POLICY_ENV: "PASSIVE", SPIN_ENV: "1000"}
    set_wait_policy(environ)  # again (the fork server's context): unchanged
    assert environ == {POLICY_ENV: "cores", WAIT_POLICY_ENV: "PASSIVE", SPIN_ENV: "1000"}
    theirs = {WAIT_POLICY_ENV: "ACTIVE"}
    set_wait_policy(theirs)
    assert theirs == {WAIT_POLICY_ENV: "ACTIVE"}  # GOMP_SPINCOUNT would override their choice


def test_the_governed_policy_spins_longer_and_only_where_it_governs(monkeypatch) -> None:
    """With the adaptive policy's governor (Linux) idle threads spin about 100 us: LSTM H=128
    alone took 1.16x OpenMP's default with 1000 spins, 1.03x with 10,000; beside busy processes
    the governor gives the contested thread up (docs/PERFORMANCE.md)."""
    import gradviz.threads as threads

    monkeypatch.setattr(threads, "can_govern", lambda: True)
    governed: dict[str, str] = {}
    threads.set_wait_policy(governed)  # the default policy is adaptive
    assert governed[threads.SPIN_ENV] == threads.GOVERNED_SPIN_COUNT == "10000"
    forced = {threads.THREADS_ENV: "2"}  # a fixed count has no governor
    threads.set_wait_policy(forced)
    assert forced[threads.SPIN_ENV] == threads.SPIN_COUNT
    monkeypatch.setattr(threads, "can_govern", lambda: False)  # macOS, Windows
    ungoverned: dict[str, str] = {}
    threads.set_wait_policy(ungoverned)
    assert ungoverned[threads.SPIN_ENV] == threads.SPIN_COUNT == "1000"


def test_without_a_governor_the_adaptive_policy_counts_as_one(monkeypatch) -> None:
    from gradviz import threads

    monkeypatch.setattr(threads, "can_govern", lambda: False)  # macOS, Windows: no /proc/stat
    for config in (lstm(64), lstm(128), lstm(512)):
        assert torch_threads(config, cores=8, environ={POLICY_ENV: "adaptive"}) == \
            torch_threads(config, cores=8, environ={POLICY_ENV: "one"})
    assert torch_threads(lstm(64), cores=8, environ={POLICY_ENV: "cores"}) == 8  # cores is not adaptive
