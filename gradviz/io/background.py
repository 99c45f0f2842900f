"""A file written in a thread of its own: the window's thread keeps painting while it is written.

A run file of a long run takes seconds to compress and write (np.savez_compressed; zlib lets
go of the interpreter lock while it deflates). When the trainer process is alive it writes its
own run; after it died, the window's process writes the copy it holds, and does it here rather
than on the GUI thread (which froze about 1 s for a large run). The thread is not a daemon: a
process that exits waits for the file, so a save in progress is never cut short (the window
also waits for it when it closes, saying so).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path


class BackgroundWrite:
    """``write()`` run in a new thread at once; it returns (path written, a note or None), as
    ``io.atomic.write_with_fallback`` does. Poll ``done``; then ``written``, ``note`` or ``error``."""

    def __init__(self, path: str | Path, write: Callable[[], tuple[Path, str | None]]):
        self.path = Path(path)
        self.written: Path | None = None
        self.note: str | None = None
        self.error: str | None = None  # why it failed, in words (no traceback: a full disk is not a bug)
        self._write = write
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="gradviz-save", daemon=False)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.written, self.note = self._write()
        except Exception as exc:  # noqa: BLE001 - reported to the user by whoever polls
            self.error = str(exc) or type(exc).__name__

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    @property
    def seconds(self) -> float:
        """Seconds since the write began."""
        return time.monotonic() - self._started

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the write at most ``timeout_s``; True once it is over."""
        self._thread.join(timeout_s)
        return self.done
