"""The host's memory on Linux, macOS and Windows, without psutil: how much a run may still take
(``available_bytes``, for the RAM budget) and how much this process holds (``resident_bytes``,
for the bench).

- **Linux**: /proc/meminfo's MemAvailable, capped by a cgroup v2 limit (a container's), else
  ``os.sysconf("SC_AVPHYS_PAGES")``; resident memory from /proc/self/statm.
- **macOS**: ``sysctlbyname`` through ctypes: free, speculative and purgeable pages (pages the
  system hands out without swapping) times the page size, never above ``hw.memsize``; resident
  memory as the peak of ``getrusage`` (bytes there).
- **Windows**: ``GlobalMemoryStatusEx``'s ullAvailPhys and ``GetProcessMemoryInfo``'s working
  set, through ctypes.

Each platform's reader is a plain function of the platform name and of what it reads, so that
the choice for macOS and Windows is tested on Linux with faked facts. None (or NaN) where
nothing could be read: the callers then skip the check rather than refuse.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

# sysctl names whose pages macOS can hand to a new allocation without paging anything out.
MAC_FREE_PAGES = ("vm.page_free_count", "vm.page_speculative_count", "vm.page_purgeable_count")


def linux_available(meminfo: str | None, cgroup_max: str | None, cgroup_current: str | None,
                    sysconf: Callable[[str], int] | None = os.sysconf) -> int | None:
    """MemAvailable (or the system's available pages) capped by a cgroup limit; None if unknown."""
    found: list[int] = []
    for line in (meminfo or "").splitlines():
        if line.startswith("MemAvailable:"):
            try:
                found.append(int(line.split()[1]) * 1024)
            except (ValueError, IndexError):
                pass
    if not found and sysconf is not None:
        try:
            found.append(sysconf("SC_AVPHYS_PAGES") * sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    if cgroup_max and cgroup_current and cgroup_max.strip() != "max":
        try:
            found.append(int(cgroup_max) - int(cgroup_current))
        except ValueError:
            pass
    return min(found) if found else None


def mac_available(sysctl: Callable[[str], int | None]) -> int | None:
    """Free, speculative and purgeable pages times the page size, at most the physical memory;
    None without the free-page count."""
    free = sysctl(MAC_FREE_PAGES[0])
    page = sysctl("hw.pagesize") or sysctl("vm.pagesize")
    if free is None or not page:
        return None
    pages = free + sum(sysctl(name) or 0 for name in MAC_FREE_PAGES[1:])
    total = sysctl("hw.memsize")
    return min(pages * page, total) if total else pages * page


def available_bytes(platform: str | None = None) -> int | None:
    """Memory this process could still take on this machine; None if unknown."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return mac_available(_sysctl)
    if platform == "win32":
        return _windows_memory_status()
    return linux_available(_read("/proc/meminfo"), _read("/sys/fs/cgroup/memory.max"),
                           _read("/sys/fs/cgroup/memory.current"), getattr(os, "sysconf", None))


def resident_bytes(platform: str | None = None) -> float:
    """Resident memory of this process now (Linux, Windows), its peak so far (macOS, other
    Unix); NaN where none can be read."""
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        value = _windows_working_set()
        return math.nan if value is None else float(value)
    statm = _read("/proc/self/statm")
    if statm:
        try:
            return int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, IndexError, OSError):
            pass
    try:
        import resource
    except ImportError:
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak if platform == "darwin" else peak * 1024)  # bytes on macOS, KiB elsewhere


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _sysctl(name: str) -> int | None:
    """An integer sysctl of macOS (sysctlbyname), None where it does not exist."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        value = ctypes.c_uint64(0)
        size = ctypes.c_size_t(ctypes.sizeof(value))
        if libc.sysctlbyname(name.encode(), ctypes.byref(value), ctypes.byref(size), None, ctypes.c_size_t(0)):
            return None
    except (OSError, AttributeError):
        return None
    return int(value.value) if size.value == 8 else int(value.value & 0xFFFFFFFF)


def _windows_memory_status() -> int | None:  # pragma: no cover - Windows only
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    try:
        if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return None
    except (OSError, AttributeError):
        return None
    return int(status.ullAvailPhys)


def _windows_working_set() -> int | None:  # pragma: no cover - Windows only
    import ctypes

    class Counters(ctypes.Structure):
        _fields_ = [("cb", ctypes.c_ulong), ("PageFaultCount", ctypes.c_ulong),
                    ("PeakWorkingSetSize", ctypes.c_size_t), ("WorkingSetSize", ctypes.c_size_t),
                    ("QuotaPeakPagedPoolUsage", ctypes.c_size_t), ("QuotaPagedPoolUsage", ctypes.c_size_t),
                    ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t), ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
                    ("PagefileUsage", ctypes.c_size_t), ("PeakPagefileUsage", ctypes.c_size_t)]

    counters = Counters()
    counters.cb = ctypes.sizeof(Counters)
    try:
        process = ctypes.windll.kernel32.GetCurrentProcess()
        if not ctypes.windll.psapi.GetProcessMemoryInfo(process, ctypes.byref(counters), counters.cb):
            return None
    except (OSError, AttributeError):
        return None
    return int(counters.WorkingSetSize)
