"""Write files so that a crash mid-save never leaves a half-written file behind.

A file is written to ``.NAME.<12 hex>.part`` beside its target and renamed into place. The
writer holds an exclusive ``flock`` on its part file while it writes, so the next write to the
same folder can tell a part file whose writer died (kill -9, power cut) from one still being
written, and removes only the first kind.

``check_output`` says before any work whether a target can be written at all, and
``write_with_fallback`` keeps a result whose write failed after the work (a full disk): it
tries a named file beside the target, then the temp folder, and says where it went.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: stale part files are recognised by age alone
    fcntl = None  # type: ignore[assignment]

PART_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.part")
STALE_AFTER_S = 2.0  # a part file younger than this may belong to a writer about to lock it
STALE_AGE_WITHOUT_LOCKS_S = 3600.0
MIN_FREE_BYTES = 1 << 20
NAME_MAX = 255


class FileExistsRefused(FileExistsError):
    """The target exists and overwriting was not allowed."""


class OutputError(OSError):
    """An output path that cannot be written; the message says why."""


def unused_path(folder: str | os.PathLike, stem: str, suffix: str) -> Path:
    """``folder/stem.suffix``, or ``stem-2``, ``stem-3``, ... where that name is taken: a name
    to offer for a new file that never points at an existing one."""
    path, number = Path(folder) / f"{stem}{suffix}", 1
    while path.exists():
        number += 1
        path = Path(folder) / f"{stem}-{number}{suffix}"
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], force: bool = False) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place.

    Refuses to replace an existing file unless ``force``. The old file stays intact if
    ``write`` raises, or if the process dies before the rename.
    """
    target = Path(path)
    if target.exists() and not force:
        raise FileExistsRefused(f"{target} already exists (use --force to overwrite)")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"folder {directory} does not exist")
    remove_stale_parts(directory)
    handle, temp_name = _create_temp(directory, target.name)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
            if fcntl is not None:
                os.replace(temp_name, target)  # still locked: no cleaner can take it meanwhile
        if fcntl is None:
            os.replace(temp_name, target)  # Windows cannot rename an open file
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new, exclusively created and locked file beside the target.

    Created with mode 0o666 so the umask applies, as for any file the user saves (mkstemp's
    0o600 would make every saved run unreadable to anyone else).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    stem = _part_stem(name)
    for _ in range(100):
        temp = directory / f".{stem}.{secrets.token_hex(6)}.part"
        try:
            handle = os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        return handle, temp
    raise FileExistsError(f"cannot create a temporary file in {directory}")


def _part_stem(name: str) -> str:
    """``name`` cut so that its part file's name fits NAME_MAX (255 bytes on every common file
    system): a target name of 237 to 255 bytes is legal, and its part file adds 19."""
    stem = name
    while len(f".{stem}.{'0' * 12}.part".encode("utf-8", "surrogateescape")) > NAME_MAX:
        stem = stem[:-1]
    return stem


def remove_stale_parts(directory: Path) -> list[Path]:
    """Remove gradviz part files in ``directory`` whose writer is gone; returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not PART_NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if age < STALE_AFTER_S:
                continue
            if fcntl is None:
                if age > STALE_AGE_WITHOUT_LOCKS_S:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
                continue
            handle = os.open(entry.path, os.O_RDONLY)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its writer lives
            except OSError:
                continue
            else:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            finally:
                os.close(handle)
        except OSError:
            continue
    return removed


def check_output(path: str | os.PathLike, force: bool = False, what: str = "--out",
                 needed: int = MIN_FREE_BYTES) -> Path:
    """Raise OutputError unless ``path`` can be written: its folder exists, is a folder, takes
    a new file (tried for real: permission bits lie for root and on network drives) and has
    ``needed`` bytes free; the target is not a folder, and exists only with ``force``. A path the
    system refuses outright (longer than PATH_MAX, a name over NAME_MAX) is one OutputError too."""
    try:
        return _check_output(Path(path), force, what, needed)
    except (OutputError, FileExistsRefused):
        raise
    except OSError as exc:
        text = str(path)
        shown = text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"
        raise OutputError(f"{what} {shown}: {exc.strerror or exc}") from None


def _check_output(target: Path, force: bool, what: str, needed: int) -> Path:
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError(f"{what} {target} is a folder; give a file name")
    if target.exists() and not force:
        raise FileExistsRefused(f"{target} already exists (use --force to overwrite)")
    for parent in (directory, *directory.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{what} {target}: {parent} is a file, not a folder")
            break
    if not directory.is_dir():
        raise OutputError(f"folder {directory} does not exist")
    try:
        handle, temp = _create_temp(directory, target.name)
        os.close(handle)
        temp.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to folder {directory}: {exc.strerror or exc}") from None
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise OutputError(f"folder {directory} has only {free / 2**20:.1f} MB free; "
                          f"{target.name} needs about {needed / 2**20:.1f} MB")
    return target


def write_with_fallback(path: str | os.PathLike, write: Callable[[BinaryIO], None],
                        force: bool = False) -> tuple[Path, str | None]:
    """``atomic_write``, but a result that cannot be written there (disk full, folder gone or
    read-only) goes to ``NAME.unsaved-<time>.EXT`` beside it, else to the temp folder.

    Returns the path written and, if it is not ``path``, a sentence saying why and where.
    """
    target = Path(path)
    try:
        return atomic_write(target, write, force=force), None
    except (FileExistsRefused, FileNotFoundError) as exc:
        if isinstance(exc, FileExistsRefused):
            raise
        first = exc
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO):
            raise
        first = exc
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{target.stem}.unsaved-{stamp}{target.suffix}"
    reason = getattr(first, "strerror", None) or str(first)
    for folder in (target.parent, Path(tempfile.gettempdir())):
        try:
            written = atomic_write(folder / name, write, force=False)
        except OSError:
            continue
        return written, f"could not write {target} ({reason}); the result was saved to {written} instead"
    raise first
