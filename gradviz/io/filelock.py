"""One writer per file: a lock file beside it, held with the operating system's own lock.

``.NAME.lock`` beside the target holds the writer's process id (for the message a second
writer gets). The lock itself is the OS's: ``fcntl.flock`` on Linux and macOS, ``msvcrt.locking``
of the file's first byte on Windows. Either is released by the OS when its process dies, however
it dies, so a lock file left by a killed writer is taken over by the next one, never obeyed
forever; no process id is ever trusted, only the lock.

The process id is written after a first blank byte: that byte is the one Windows locks, and a
locked byte cannot be read there by anyone else.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
try:
    import msvcrt
except ImportError:  # not Windows
    msvcrt = None  # type: ignore[assignment]


class LockedError(OSError):
    """Another process holds the lock; the message says which and on what."""


NAME_MAX = 255


def lock_path(target: str | os.PathLike) -> Path:
    """``.NAME.lock`` beside ``target``, NAME cut so that the lock's name fits NAME_MAX bytes."""
    target = Path(target)
    stem = target.name
    while len(f".{stem}.lock".encode("utf-8", "surrogateescape")) > NAME_MAX:
        stem = stem[:-1]
    return target.with_name(f".{stem}.lock")


class FileLock:
    """Held from ``acquire`` to ``release`` (or the process's end); a context manager too."""

    def __init__(self, target: str | os.PathLike, what: str = "gradviz"):
        self.target = Path(target)
        self.path = lock_path(target)
        self.what = what
        self._handle: int | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> FileLock:
        """Take the lock now or raise LockedError naming the holder; never waits."""
        if self._handle is not None:
            return self
        for _ in range(10):
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
            try:
                _lock(handle)
            except OSError:
                holder = _holder(handle)
                os.close(handle)
                who = f"process {holder}" if holder else "another process"
                raise LockedError(f"{self.target} is being written by {who} (another {self.what} on the same "
                                  "file); wait for it to finish, or choose another file") from None
            if _still_there(handle, self.path):
                break
            os.close(handle)  # its holder removed it as we locked it: lock the file there now
        else:
            raise LockedError(f"cannot lock {self.path}: it keeps being replaced")
        try:
            os.lseek(handle, 1, os.SEEK_SET)
            os.write(handle, f"{os.getpid()}\n".encode())
            os.ftruncate(handle, 1 + len(f"{os.getpid()}\n"))
        except OSError:
            pass  # the pid is only for the message: the lock is what counts
        self._handle = handle
        return self

    def release(self) -> None:
        """Give the lock back and remove the lock file (left behind harmlessly if that fails)."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        if fcntl is not None:
            try:
                os.unlink(self.path)  # while still locked: a newcomer locks a new file, not this one
            except OSError:
                pass
        _unlock(handle)
        os.close(handle)
        if fcntl is None:
            try:
                os.unlink(self.path)  # Windows removes no open file
            except OSError:
                pass

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _lock(handle: int) -> None:
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    elif msvcrt is not None:
        os.lseek(handle, 0, os.SEEK_SET)
        msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)


def _unlock(handle: int) -> None:
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
        elif msvcrt is not None:
            os.lseek(handle, 0, os.SEEK_SET)
            msvcrt.locking(handle, msvcrt.LK_UNLCK, 1)
    except OSError:
        pass  # closing the handle releases it anyway


def _still_there(handle: int, path: Path) -> bool:
    """Whether the file locked is still the one at ``path`` (POSIX; Windows removes no open file)."""
    if fcntl is None:
        return True
    try:
        return os.path.samestat(os.fstat(handle), os.stat(path))
    except OSError:
        return False


def _holder(handle: int) -> str:
    """The holder's process id as written in the lock file ('' when unreadable)."""
    try:
        os.lseek(handle, 1, os.SEEK_SET)
        text = os.read(handle, 32).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
