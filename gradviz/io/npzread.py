"""Reading an npz without trusting it: every array's header first, its data only after.

An npz is a zip of ``.npy`` files, each opening with a small header that declares dtype and
shape. ``read_headers`` reads only those headers (a few hundred bytes each), so a caller can
check every declared shape and the total size before a single data byte is unpacked: a file
of a few MB that declares gigabytes is refused in milliseconds, using no memory.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_MEMBERS = 20_000
MAX_HEADER_BYTES = 10_000


class NpzError(ValueError):
    """An npz that cannot be read; the message says why (without the path: callers add it)."""


@dataclass(frozen=True)
class Header:
    """One array's declared dtype and shape."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        count = 1
        for n in self.shape:
            count *= n
        return count * self.dtype.itemsize


def read_headers(archive: zipfile.ZipFile) -> dict[str, Header]:
    """The declared dtype and shape of every member, reading no array data."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise NpzError(f"holds {len(infos)} members; a gradviz file has a few hundred")
    headers: dict[str, Header] = {}
    for info in infos:
        name = info.filename.removesuffix(".npy")
        try:
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=MAX_HEADER_BYTES)
                elif version in ((2, 0), (3, 0)):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=MAX_HEADER_BYTES)
                else:
                    raise NpzError(f"is damaged: array {name!r} has an unknown npy version {version}")
        except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, SyntaxError) as exc:
            if isinstance(exc, NpzError):
                raise
            raise NpzError(f"is damaged: array {name!r} has an unreadable header ({_short(exc)})") from None
        if dtype.hasobject:
            raise NpzError("contains pickled objects, which gradviz never loads")
        headers[name] = Header(dtype, tuple(int(n) for n in shape))
    return headers


def read_arrays(archive: zipfile.ZipFile, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays (all, or ``names``), after their headers were checked; never unpickles."""
    arrays: dict[str, np.ndarray] = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if names is not None and name not in names:
            continue
        try:
            with archive.open(info) as member:
                arrays[name] = np.lib.format.read_array(member, allow_pickle=False,
                                                        max_header_size=MAX_HEADER_BYTES)
        except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as exc:
            if "pickle" in str(exc).lower():
                raise NpzError("contains pickled objects, which gradviz never loads") from None
            raise NpzError(f"is damaged: array {name!r}: {_short(exc)}") from None
    return arrays


def open_archive(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise NpzError("does not exist or is not a file")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise NpzError("is not an npz file (not a zip archive; truncated or another format?)") from None


def _short(exc: BaseException, limit: int = 200) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "..."
