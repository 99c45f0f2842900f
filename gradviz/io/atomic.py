"""Write files so that a crash mid-save never leaves a half-written file behind."""

from __future__ import annotations

import os
import tempfile
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
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
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
