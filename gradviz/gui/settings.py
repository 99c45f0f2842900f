"""The app's stored settings, read through one typed accessor.

A settings file is written by gradviz, but also by another version of it, a sync tool or a hand
edit: any key can hold any type. Qt does not check: ``restoreGeometry`` given text instead of
the bytes it saved crashed the process (a segmentation fault, before the window showed), and
a number under ``recent`` stopped the start with a traceback. So every key the app stores is
named here with the type it must have, and ``AppSettings.value`` hands out only values of that
type: anything else is dropped (removed from the file, so it is said once) and listed in
``dropped`` for the window to say in its status bar. Nothing read from the file reaches Qt
unchecked.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings

TEXT = "text"
NUMBER = "number"
BYTES = "bytes"
TEXTS = "list of text"
SCALAR = "text or a number"

KEYS: dict[str, str] = {
    "theme": TEXT,
    "wave_seconds": NUMBER,
    "last_config": TEXT,
    "sweep_folder": TEXT,
    "folder": TEXT,
    "recent": TEXTS,
    "geometry": BYTES,
    "window_state": BYTES,
    "sweep/last": TEXT,
    "reproduction/last": TEXT,  # its folder: where Open reproduction... starts
    "export/target": SCALAR,
    "export/type": SCALAR,
    "export/format": SCALAR,
    "export/theme": SCALAR,
    "export/scale": SCALAR,
}
MAX_TEXT = 1_000_000  # a config's JSON is a few kB; a path a few hundred characters
MAX_BYTES = 1 << 20  # Qt's saved geometry is ~66 bytes, a window state a few kB
MAX_ITEMS = 100


class AppSettings:
    """A QSettings whose reads are typed by ``KEYS``; writes go straight through."""

    def __init__(self, settings: QSettings):
        self.qsettings = settings
        self.dropped: list[str] = []  # keys whose stored value had the wrong type, not yet said
        for key in KEYS:  # all at once, at the start: said together, not one by one when first used
            self.value(key)

    def value(self, key: str, default: Any = None) -> Any:
        """The stored value of ``key`` in its type (QByteArray for bytes, list of str for a list),
        or ``default`` when it is missing or of another type (then dropped and noted)."""
        kind = KEYS[key]  # a KeyError here is a key this module does not know: add it to KEYS
        raw = self.qsettings.value(key)
        if raw is None:
            return default
        typed = _typed(kind, raw)
        if typed is None:
            self.qsettings.remove(key)
            self.dropped.append(key)
            return default
        return typed

    def setValue(self, key: str, value: Any) -> None:  # noqa: N802 - QSettings' name, for its callers
        KEYS[key]  # noqa: B018 - only known keys are written, so every key written is read typed
        self.qsettings.setValue(key, value)

    def remove(self, key: str) -> None:
        self.qsettings.remove(key)

    def sync(self) -> None:
        self.qsettings.sync()

    def fileName(self) -> str:  # noqa: N802 - QSettings' name
        return self.qsettings.fileName()

    def take_dropped(self) -> str:
        """One sentence naming the values dropped since the last call ('' if none)."""
        dropped, self.dropped = self.dropped, []
        if not dropped:
            return ""
        # Short: one status-bar line on a 1024-pixel screen holds about 150 characters.
        return "Ignored stored settings of the wrong type: " + ", ".join(dropped)


def _typed(kind: str, raw: Any) -> Any:
    """``raw`` in the type ``kind`` names, or None when it is not of that type."""
    if kind == TEXT:
        return raw if isinstance(raw, str) and len(raw) <= MAX_TEXT else None
    if kind == NUMBER:
        if isinstance(raw, bool):
            return None
        if isinstance(raw, (int, float)):
            return float(raw)
        if isinstance(raw, str) and len(raw) <= 40:  # an ini file hands numbers back as text
            try:
                return float(raw)
            except ValueError:
                return None
        return None
    if kind == BYTES:
        if isinstance(raw, QByteArray) and raw.size() <= MAX_BYTES:
            return raw
        if isinstance(raw, (bytes, bytearray)) and len(raw) <= MAX_BYTES:
            return QByteArray(bytes(raw))
        return None
    if kind == TEXTS:
        if isinstance(raw, str):  # QSettings hands back a one-item list as its item
            raw = [raw]
        if isinstance(raw, (list, tuple)) and len(raw) <= MAX_ITEMS and all(
                isinstance(item, str) and len(item) <= MAX_TEXT for item in raw):
            return list(raw)
        return None
    if kind == SCALAR:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            return None
        return raw if not isinstance(raw, str) or len(raw) <= 1000 else None
    raise ValueError(f"unknown settings type {kind!r}")
