"""The allocator keeps the blocks a training step frees (gradviz/allocator.py): the next step
reuses them instead of faulting in fresh pages; only glibc takes the settings."""

from __future__ import annotations

import resource
import sys

import pytest

from gradviz import allocator
from gradviz.config import ModelConfig, ModelSetup, RunConfig, TaskConfig
from gradviz.engine import Run


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append(("mallopt", parameter, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad))
        return 1


def test_glibc_keeps_freed_blocks_and_gives_them_back_on_request(monkeypatch) -> None:
    monkeypatch.setattr(allocator, "_kept", False)
    libc = FakeLibc()
    assert allocator.keep_freed_memory("linux", lambda: libc, environ={})
    assert libc.calls == [("mallopt", allocator.M_MMAP_THRESHOLD, allocator.KEEP_BYTES),
                          ("mallopt", allocator.M_TRIM_THRESHOLD, allocator.KEEP_BYTES)]
    assert allocator.keep_freed_memory("linux", lambda: libc, environ={})  # once per process
    assert len(libc.calls) == 2
    allocator.release_freed_memory("linux", lambda: libc)
    assert libc.calls[-1] == ("malloc_trim", 0)


def test_an_older_glibc_that_refuses_1_gib_keeps_blocks_up_to_its_ceiling(monkeypatch) -> None:
    class OlderLibc(FakeLibc):
        def mallopt(self, parameter: int, value: int) -> int:
            super().mallopt(parameter, value)
            return 0 if parameter == allocator.M_MMAP_THRESHOLD and value > allocator.FALLBACK_BYTES else 1

    monkeypatch.setattr(allocator, "_kept", False)
    libc = OlderLibc()
    assert allocator.keep_freed_memory("linux", lambda: libc, environ={})
    assert ("mallopt", allocator.M_MMAP_THRESHOLD, allocator.FALLBACK_BYTES) in libc.calls
    assert ("mallopt", allocator.M_TRIM_THRESHOLD, allocator.KEEP_BYTES) in libc.calls


@pytest.mark.parametrize("setting", allocator.USER_SETTINGS)
def test_the_users_own_allocator_settings_are_theirs(monkeypatch, setting: str) -> None:
    monkeypatch.setattr(allocator, "_kept", False)
    libc = FakeLibc()
    assert not allocator.keep_freed_memory("linux", lambda: libc, environ={setting: "x"})
    assert libc.calls == []


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_other_allocators_are_left_alone(monkeypatch, platform: str) -> None:
    monkeypatch.setattr(allocator, "_kept", False)
    libc = FakeLibc()
    assert not allocator.keep_freed_memory(platform, lambda: libc, environ={})
    allocator.release_freed_memory(platform, lambda: libc)
    assert libc.calls == []


def test_a_c_library_without_mallopt_is_left_alone(monkeypatch) -> None:  # musl
    monkeypatch.setattr(allocator, "_kept", False)
    assert not allocator.keep_freed_memory("linux", lambda: None, environ={})
    allocator.release_freed_memory("linux", lambda: None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's page faults: Linux")
def test_a_step_after_the_first_faults_in_almost_no_new_pages() -> None:
    """At LSTM H=128, T=200, B=64 a fused step faulted in 22,700 pages (89 MB) every time with
    glibc's defaults, none with the blocks kept."""
    if not allocator.keep_freed_memory():  # not glibc, or the user's own settings: nothing kept
        pytest.skip("this allocator keeps no freed blocks for gradviz")
    setup = ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=128))
    run = Run(RunConfig(task=TaskConfig("adding", seq_len=200, batch=64), models=(setup,), device="cpu"))
    for _ in range(4):  # the heap settles in the first steps
        run.train_step(record=False)
    # The fewest faults of three pairs of steps: in a long process (the whole suite) the heap,
    # shaped by earlier tests, can take a few more steps to settle (1,600 in one pair, in CI).
    counts = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(2):
            run.train_step(record=False)
        counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    faults = min(counts)
    assert faults < 1000, faults  # given back, the next step faults them in again: 22,700 a step


def test_a_reset_gives_the_old_runs_freed_memory_back_after_dropping_it(monkeypatch) -> None:
    """The allocator keeps what a run frees: after a Reset the window's trainer hands the old
    run's weights, optimiser state and history back once it has dropped them."""
    import queue
    import threading
    import weakref

    from gradviz.session import trainer as trainer_module
    from gradviz.session.trainer import TrainerLoop
    from tests.configs import small_config

    loop = TrainerLoop(small_config(1), queue.Queue(), lambda event: None, threading.Event())
    try:
        loop._build(small_config(1))
        old = weakref.ref(loop.run_)
        old_gone_at_release: list[bool] = []
        monkeypatch.setattr(trainer_module, "release_freed_memory", lambda: old_gone_at_release.append(old() is None))
        loop._build(small_config(1))
        assert old_gone_at_release == [True]  # once, after the old run was dropped
    finally:
        loop.frames.close()
