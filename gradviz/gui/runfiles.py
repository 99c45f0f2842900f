"""Files the user opens and saves from the window: runs (open, save, save as), configurations
(open, save, the last Reset's), and the question before a run is thrown away (the recent
runs' list is recent.py's).

What is worth a question is the session's decision (``Session.work_to_keep``); this room only
asks it, shows the file dialogs and says what went wrong in one line.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gradviz.config import ConfigError, RunConfig
from gradviz.gui.recent import RecentRuns
from gradviz.io.atomic import unused_path
from gradviz.io.configfile import ConfigFileError, read_config_file
from gradviz.io.runfile import RunFileError, has_state, load_run
from gradviz.presets import Preset, load_preset, preset_names, preset_of

DISCARD_TITLE = "Unsaved run"
QUESTION_REFRESH_MS = 500


class RunFiles:
    """Open and save for ``window`` (a MainWindow), with its settings' folder and recent list."""

    def __init__(self, window):
        self.window = window
        self.settings = window.settings
        # A recent run is opened as File > Open is, after the same question.
        self.recent = RecentRuns(self.settings, lambda path: self.confirm_discard() and self.open_run(path))

    def folder(self) -> Path:
        return self.recent.folder()

    def add_recent(self, path: str) -> None:
        self.recent.add(path)

    # ---- runs -------------------------------------------------------------------------------

    def open_run(self, path: str | Path) -> bool:
        """Open a run file: replay its history, ready to continue training if it can."""
        window = self.window
        try:
            saved = load_run(path)
        except RunFileError as exc:
            QMessageBox.warning(window, "Cannot open run", str(exc))
            return False
        data = saved.config.task.data
        if saved.config.task.name == "text" and has_state(saved.arrays) and not Path(data).expanduser().is_file():
            QMessageBox.warning(window, "Cannot open run", f"This run trained on {data}, which does not exist here: "
                                "put the file back at that path to continue the run.")
            return False
        # A run of a preset's own settings keeps the preset's name and story, one the file says
        # started from a preset keeps its name ("changed"); others are custom.
        window.set_preset(preset_of(saved.config) or named_preset(saved.arrays.get("preset")), saved.config)
        steps = saved.arrays.get("step", ())
        if not len(steps) and has_state(saved.arrays):
            window.statusBar().showMessage(f"Opened {Path(path).name}, saved at step "
                                           f"{int(saved.arrays['state/step'])}: nothing recorded to replay yet; "
                                           "Start trains on", 10000)
        window.central.set_replay_range(len(steps))
        window.session.open_run(saved, Path(path))
        if window.session.replay_only:
            self.add_recent(str(path))
        return True

    def open_run_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open run", str(self.folder()), "gradviz runs (*.npz)")
        if path:
            self.open_run(path)

    def save_run(self, ask: bool = False) -> None:
        session = self.window.session
        path = session.run_path
        # A dead trainer's run is saved without its weights: never over the file that has them.
        if ask or path is None or not session.trainer_alive:
            chosen, _ = QFileDialog.getSaveFileName(self.window, "Save run", str(self.suggested_run_path()),
                                                    "gradviz runs (*.npz)")
            if not chosen:
                return
            path = Path(chosen if chosen.endswith(".npz") else chosen + ".npz")
        # The file dialog asked before overwriting; saving again to the run's own file is expected.
        session.save(path, force=True)

    def suggested_run_path(self) -> Path:
        """What the save dialog offers: the preset's name (or "run") and the steps trained, in
        the last folder used, never an existing file's name ("run.npz" each time invited
        overwriting the last run)."""
        session = self.window.session
        return unused_path(self.folder(), f"{session.stock_name or 'run'}-step{session.steps_done}", ".npz")

    def save_run_as(self) -> None:
        self.save_run(ask=True)

    def confirm_discard(self) -> bool:
        """Ask before the run is thrown away (Reset, a preset, another file, quitting), when the
        session says it holds work worth keeping. The steps it names are counted when the
        question opens, and again while it is open: the run may train on behind it."""
        window = self.window
        if not window.ask_before_discard or window.session.saving is not None:
            return True  # (a save in progress is finished before the window closes)
        window.session.poll()  # what the trainer sent since the last paint: its steps now
        if window.session.work_to_keep() is None:
            return True
        follow = QTimer(window)
        follow.setInterval(QUESTION_REFRESH_MS)
        follow.timeout.connect(lambda: self._say_what_is_lost(DISCARD_TITLE))
        follow.start()
        try:
            answer = QMessageBox.question(window, DISCARD_TITLE, self._discard_question(),
                                          QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
        finally:
            follow.stop()
            follow.deleteLater()
        return answer == QMessageBox.StandardButton.Discard

    def _discard_question(self) -> str:
        reason = self.window.session.work_to_keep() or ""
        return f"The current run has not been saved. {reason} Discard it?"

    def _say_what_is_lost(self, title: str) -> None:
        """The open question's count, as it is now (the paint timer polls the session meanwhile)."""
        for box in self.window.findChildren(QMessageBox):
            if box.isVisible() and box.windowTitle() == title and box.text() != self._discard_question():
                box.setText(self._discard_question())

    # ---- configurations ---------------------------------------------------------------------

    def open_config_dialog(self) -> None:
        window = self.window
        path, _ = QFileDialog.getOpenFileName(window, "Open configuration", str(self.folder()),
                                              "Configurations (*.json *.toml)")
        if not path:
            return
        try:
            config = read_config_file(Path(path))
        except ConfigFileError as exc:
            QMessageBox.warning(window, "Cannot open configuration", str(exc))
            return
        window.controls.set_config(config, active=False)
        window.session.show_banner("Configuration loaded into the settings: press Reset (R) to apply it.")

    def load_last_config(self) -> None:
        window = self.window
        text = self.settings.value("last_config")
        try:
            config = RunConfig.from_json(str(text)) if text else None
        except ConfigError:
            config = None  # written by another version: not worth an error
        if config is None:
            window.statusBar().showMessage("No last configuration saved yet", 4000)
            return
        window.controls.set_config(config, active=False)
        window.session.show_banner("Last configuration loaded into the settings: press Reset (R) to apply it.")

    def save_config_dialog(self) -> None:
        from gradviz.io.atomic import atomic_write

        window = self.window
        try:
            config = window.controls.config()
        except ConfigError as exc:
            QMessageBox.warning(window, "Cannot save configuration", str(exc))
            return
        path, _ = QFileDialog.getSaveFileName(window, "Save configuration", str(self.folder() / "gradviz.json"),
                                              "JSON (*.json)")
        if path:
            try:
                atomic_write(path, lambda stream: stream.write(config.to_json().encode()), force=True)
            except OSError as exc:
                QMessageBox.warning(window, "Cannot save configuration", str(exc))


def named_preset(name) -> Preset | None:
    """The preset a run file names (a text array), if it is one of this gradviz's."""
    name = str(name) if name is not None else ""
    if name not in preset_names():
        return None
    try:
        return load_preset(name)
    except ValueError:  # a broken preset file: the run is a custom one
        return None
