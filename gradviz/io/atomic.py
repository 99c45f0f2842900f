"""Write files so that a crash mid-save never leaves a half-written file behind."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


class FileExistsRefused(FileExistsError):
    """The target exists and overwriting was not allowed."""


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
    handle, temp_name = _create_temp(directory, target.name)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new, exclusively created file beside the target.

    Created with mode 0o666 so the umask applies, as for any file the user saves (mkstemp's
    0o600 would make every saved run unreadable to anyone else).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = directory / f".{name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory}")
