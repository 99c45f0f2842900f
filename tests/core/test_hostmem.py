"""The host's memory on every OS, with the platform's facts faked: the RAM budget is checked on
macOS and Windows too, and the bench's resident memory never raises there."""

from __future__ import annotations

import math
import signal

import pytest

from gradviz import hostmem
from gradviz.budget import available_bytes

MEMINFO = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"


def test_linux_reads_memavailable_capped_by_the_cgroup() -> None:
    assert hostmem.linux_available(MEMINFO, None, None) == 8000000 * 1024
    assert hostmem.linux_available(MEMINFO, "max\n", "123\n") == 8000000 * 1024
    assert hostmem.linux_available(MEMINFO, "1000000\n", "400000\n") == 600000  # the container's limit
    pages = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    assert hostmem.linux_available(None, None, None, pages.__getitem__) == 4096000  # no /proc
    assert hostmem.linux_available(None, None, None, None) is None


def test_macos_counts_the_pages_it_can_hand_out_within_the_physical_memory() -> None:
    facts = {"vm.page_free_count": 1000, "vm.page_speculative_count": 200, "vm.page_purgeable_count": 50,
             "hw.pagesize": 16384, "hw.memsize": 8 * 2**30}
    assert hostmem.mac_available(facts.get) == 1250 * 16384
    assert hostmem.mac_available({**facts, "hw.memsize": 2**20}.get) == 2**20
    assert hostmem.mac_available({"hw.pagesize": 16384}.get) is None  # no free-page count: unknown


def test_every_platform_gives_a_number_or_none(monkeypatch) -> None:
    monkeypatch.setattr(hostmem, "_sysctl", {"vm.page_free_count": 10, "hw.pagesize": 4096}.get)
    assert hostmem.available_bytes("darwin") == 40960
    monkeypatch.setattr(hostmem, "_windows_memory_status", lambda: 3 * 2**30)
    assert hostmem.available_bytes("win32") == 3 * 2**30
    monkeypatch.setattr(hostmem, "_windows_working_set", lambda: None)
    assert math.isnan(hostmem.resident_bytes("win32"))  # nothing read: NaN, not a crash
    monkeypatch.setattr(hostmem, "_windows_working_set", lambda: 5 * 2**20)
    assert hostmem.resident_bytes("win32") == 5 * 2**20
    here = available_bytes()
    assert here is None or here > 0


def test_resident_memory_without_proc_or_resource(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_resource(name, *args, **kwargs):
        if name == "resource":
            raise ImportError("no resource module (Windows)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(hostmem, "_read", lambda path: None)
    assert hostmem.resident_bytes("linux") > 0  # the peak from getrusage
    monkeypatch.setattr(builtins, "__import__", no_resource)
    assert math.isnan(hostmem.resident_bytes("sunos5"))


def test_a_killed_child_is_described_where_the_system_has_no_sigkill(monkeypatch) -> None:
    from gradviz.forkserver import describe_exit

    assert "SIGKILL" in describe_exit(-signal.SIGKILL) and "out of memory" in describe_exit(-signal.SIGKILL)
    monkeypatch.delattr(signal, "SIGKILL")  # Windows
    assert describe_exit(-9).startswith("was ended by")
    assert describe_exit(-signal.SIGTERM) == "was ended by SIGTERM"
    assert describe_exit(3) == "exited with code 3"


@pytest.mark.skipif(not hasattr(signal, "SIGSEGV"), reason="no SIGSEGV")
def test_a_crash_is_named() -> None:
    from gradviz.forkserver import describe_exit

    assert describe_exit(-signal.SIGSEGV) == "crashed (SIGSEGV)"
