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
from gradviz.threads import THREADS_ENV, override_note, threads_override, torch_threads
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


def test_small_models_get_one_thread_on_any_machine(monkeypatch) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    for config in (RunConfig(), lstm(64), lstm(128), small_config(3)):
        assert [torch_threads(config, cores=cores) for cores in (1, 2, 8, 64)] == [1, 1, 1, 1]


def test_large_models_get_more_threads_within_the_cores_left(monkeypatch) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    big = lstm(512)  # 64 x 512 x 2048 = 64 M multiply-adds per step: 8 threads' worth
    assert torch_threads(big, cores=64) == 8
    assert torch_threads(big, cores=4) == 4
    assert torch_threads(big, cores=4, reserve=1) == 3  # the window keeps a core
    assert torch_threads(big, cores=1, reserve=1) == 1


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
        assert torch_threads(lstm(64), cores=8, environ={THREADS_ENV: bad}) == 1  # the policy, not a crash


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
