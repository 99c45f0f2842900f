"""File > Recent runs: the last MAX_RECENT run files opened or saved, newest first, kept in the
settings (read typed: a wrong value is dropped, see settings.py), and the folder the file
dialogs open in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMenu

MAX_RECENT = 8


class RecentRuns:
    """The recent list in ``settings`` and the menu that shows it; ``open_path(path)`` opens one."""

    def __init__(self, settings, open_path: Callable[[str], object]):
        self.settings = settings
        self.open_path = open_path
        self.menu: QMenu | None = None

    def paths(self) -> list[str]:
        return self.settings.value("recent", [])

    def add(self, path: str) -> None:
        recent = [p for p in self.paths() if p != path]
        self.settings.setValue("recent", [path, *recent][:MAX_RECENT])
        self.settings.setValue("folder", str(Path(path).parent))
        self.refresh()

    def folder(self) -> Path:
        """Where the file dialogs open: the folder of the last run opened or saved."""
        return Path(str(self.settings.value("folder", str(Path.home()))))

    def fill_menu(self, menu: QMenu) -> None:
        self.menu = menu
        self.refresh()

    def refresh(self) -> None:
        if self.menu is None:
            return
        self.menu.clear()
        for path in self.paths():
            action = self.menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_path(p))
        self.menu.setEnabled(bool(self.paths()))
