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
    assert allocator.keep_freed_memory("linux", lambda: libc)
    assert libc.calls == [("mallopt", allocator.M_MMAP_THRESHOLD, allocator.KEEP_BYTES),
                          ("mallopt", allocator.M_TRIM_THRESHOLD, allocator.KEEP_BYTES)]
    assert allocator.keep_freed_memory("linux", lambda: libc)  # once per process
    assert len(libc.calls) == 2
    allocator.release_freed_memory("linux", lambda: libc)
    assert libc.calls[-1] == ("malloc_trim", 0)


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_other_allocators_are_left_alone(monkeypatch, platform: str) -> None:
    monkeypatch.setattr(allocator, "_kept", False)
    libc = FakeLibc()
    assert not allocator.keep_freed_memory(platform, lambda: libc)
    allocator.release_freed_memory(platform, lambda: libc)
    assert libc.calls == []


def test_a_c_library_without_mallopt_is_left_alone(monkeypatch) -> None:  # musl
    monkeypatch.setattr(allocator, "_kept", False)
    assert not allocator.keep_freed_memory("linux", lambda: None)
    allocator.release_freed_memory("linux", lambda: None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's page faults: Linux")
def test_a_step_after_the_first_faults_in_almost_no_new_pages() -> None:
    """At LSTM H=128, T=200, B=64 a fused step faulted in 22,700 pages (89 MB) every time with
    glibc's defaults, none with the blocks kept."""
    setup = ModelSetup("LSTM", ModelConfig(kind="lstm", hidden=128))
    run = Run(RunConfig(task=TaskConfig("adding", seq_len=200, batch=64), models=(setup,), device="cpu"))
    for _ in range(4):  # the heap settles in the first steps
        run.train_step(record=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(2):
        run.train_step(record=False)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 1000, faults  # given back, the next step faults them in again: 22,700 a step
