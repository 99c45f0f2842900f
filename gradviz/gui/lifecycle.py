"""The window's start and end: its place and docks restored from the settings, stored values
that were dropped said once, and closing: the questions first (a run worth keeping, a sweep
running), then a save in progress finished, then the trainer and the sweep's runs ended.
"""

from __future__ import annotations

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QMessageBox

SAVE_WAIT_S = 300.0  # closing waits this long at most for a save in progress (a large run takes seconds)


def restore_window_state(window) -> None:
    settings = window.settings
    geometry = settings.value("geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
        # Saved on a larger screen (or by an older gradviz at 1600x950): back inside this one.
        if not window.isMaximized():
            window.fit_to_screen(window.width(), window.height())
    state = settings.value("window_state")
    if state is not None:
        window.restoreState(state)


def say_dropped_settings(window) -> None:
    """Once, in the status bar: stored values of the wrong type that were ignored, and a last
    sweep that no longer opens (both already removed from the settings)."""
    notes = [note for note in (window.settings.take_dropped(), window.sweep.startup_note) if note]
    if notes:
        window.statusBar().showMessage(". ".join(notes), 20000)
        window.statusBar().setToolTip(". ".join(notes))  # the whole of it, where the bar cuts it


def may_close(window) -> bool:
    """Ask what closing would throw away: the run (when the session says it is worth keeping)
    and a sweep's runs in progress."""
    if not window.files.confirm_discard():
        return False
    sweep = window.sweep
    if not window.ask_before_discard or not sweep.running:
        return True
    results = sweep.results
    answer = QMessageBox.question(
        window, "Sweep running",
        f"The sweep is still running: {int(results.done.sum())} of {results.done.size} runs finished, and they "
        f"are kept in {sweep.path} (Open it in 'How far back?' to resume). Discard the runs in progress?",
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard


def finish_save(window) -> None:
    """A save the trainer is writing is finished before the trainer is ended (ending it
    mid-write lost the file and left a .part): the status bar says so while it waits."""
    saving = window.session.saving
    if saving is None:
        return

    def tick(waited: float) -> None:
        window.statusBar().showMessage(f"Closing once {saving.name} is written ({waited:.0f} s)...")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)

    window.session.wait_for_save(SAVE_WAIT_S, tick)


def end(window) -> None:
    """After the questions: the sweep's processes, a save in progress, the window's place, the
    trainer."""
    window.sweep.stop()  # its processes end with the window
    finish_save(window)
    if not window.presentation:
        window.settings.setValue("geometry", window.saveGeometry())
        window.settings.setValue("window_state", window.saveState())
    window.timer.stop()
    window.session.close()
