"""Export from the window: the Export dialog (Ctrl+E), figures and data of the run at the step
shown, the last backward pass as a GIF or PNG sequence, and a plot copied to the clipboard.

A live run's arrays live in the trainer's process. The window never waits for them: it asks
(``Session.request_arrays``) and the export is written when the answer arrives, as an event
the paint timer's ``Session.poll`` delivers; a trainer that is stopped, busy or dead is
answered for by what the window already holds, and the status bar says which it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from gradviz.figures import FigureError
from gradviz.gui.export import ExportError, export_widget, panel_image
from gradviz.gui.export_dialog import ExportDialog
from gradviz.gui.plots.base import Panel
from gradviz.gui.plots.wave import WaveExport
from gradviz.io.runfile import SavedRun
from gradviz.session.state import ANSWER_S, ArraysAnswer


class Exporter:
    """Exports of ``window`` (a MainWindow)."""

    def __init__(self, window):
        self.window = window
        self.note = ""  # what the last export used instead of the trainer's answer
        self.wave_export: WaveExport | None = None
        self.dialog: ExportDialog | None = None

    def open_dialog(self) -> None:
        """Ctrl+E: the dialog opens (window-modal) and this returns to the event loop at once."""
        window = self.window
        window.board.draw_all_pending()
        window.board.hide_readouts()
        self.dialog = ExportDialog(window, window.board, str(window.files.folder()), window.settings)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.open()

    # ---- figures and data -------------------------------------------------------------------

    def start(self, target: str, path: str | Path, scale: int = 1, figure_format: str = "screen",
              theme: str = "light", done: Callable[[Path | None, str], None] | None = None) -> None:
        """Export as ``export`` does, without waiting: a live run's arrays are asked for and the
        file is written when they (or the session's word that they are not coming) arrive.
        ``done(path written or None, message)`` is called then; by default the status bar and,
        for a failure, a warning say it."""
        done = done or self._say_done

        def write(answer: ArraysAnswer | None) -> None:
            try:
                written = self._write(target, path, scale, figure_format, theme, answer)
            except (FigureError, ValueError, OSError) as exc:
                done(None, f"Nothing was written: {exc}")
                return
            done(written, f"Exported {written}" + (f" ({self.note})" if self.note else ""))

        if self._needs_arrays(target):
            self.window.statusBar().showMessage(f"Exporting {Path(path).name}: asking the trainer for the run...")
            self.window.session.request_arrays(write)
        else:
            write(None)

    def export(self, target: str, path: str | Path, scale: int = 1, figure_format: str = "screen",
               theme: str = "light") -> Path:
        """Export ``target`` now: 'window' (a PNG of the window as on screen), 'board' (a figure
        of every plot), '<plot>' (that plot of every model) or '<m>:<plot>' (of model m). Figures
        and data come from the recorded run at the step shown, drawn by gradviz.figures, the code
        ``gradviz export`` uses. For scripts and tests: a live run's arrays are awaited in an
        event loop (the window keeps painting), at most the session's answer time."""
        answer = None
        if self._needs_arrays(target):
            answers: list[ArraysAnswer] = []
            loop = QEventLoop()
            self.window.session.request_arrays(lambda got: (answers.append(got), loop.quit()))
            if not answers:
                # The session answers from poll(): on a timer of its own here, as the paint timer
                # does (a caller may have stopped that one); the window keeps painting meanwhile.
                poll, limit = QTimer(), QTimer()
                poll.timeout.connect(self.window.session.poll)
                limit.setSingleShot(True)
                limit.timeout.connect(loop.quit)  # a last resort: the session answers first
                poll.start(10)
                limit.start(int(ANSWER_S * 1000) + 2000)
                loop.exec()
                poll.stop()
                limit.stop()
            answer = answers[0] if answers else ArraysAnswer(None, error="the trainer's answer did not come")
        return self._write(target, path, scale, figure_format, theme, answer)

    def _needs_arrays(self, target: str) -> bool:
        return target != "window" and self.window.session.replay is None

    def _write(self, target: str, path: str | Path, scale: int, figure_format: str, theme: str,
               answer: ArraysAnswer | None) -> Path:
        from gradviz.figures import run_view, write_figure

        window = self.window
        window.board.draw_all_pending()
        window.board.hide_readouts()
        self.note = ""
        if target == "window":
            return export_widget(window, path, scale)
        if answer is None:  # a replay: the recording looked at, at the slider's step
            saved, index = window.session.replay, window.history_slider.value()
        else:
            if answer.arrays is None:
                raise ExportError(answer.error or "nothing to export")
            self.note = answer.note
            saved, index = SavedRun(window.board.config, answer.arrays), -1
        model, _, plot = target.rpartition(":")
        return write_figure(run_view(saved, index), path, plot=None if plot == "board" else plot, theme=theme,
                            fmt=figure_format, scale=scale, models=[int(model)] if model else None, force=True)

    def _say_done(self, written: Path | None, message: str) -> None:
        if written is None:
            QMessageBox.warning(self.window, "Export failed", message)
        else:
            self.window.statusBar().showMessage(message, 10000)

    # ---- the backward pass and the clipboard ------------------------------------------------

    def export_backward_pass(self, path: str | Path | None = None) -> None:
        """Write the last backward pass (B) as a GIF or PNG sequence, off the GUI thread."""
        window = self.window
        wave = window.session.last_wave
        if wave is None:
            QMessageBox.information(window, "Export backward pass",
                                    "Press B first: the backward pass of one step is exported as it was shown.")
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(window, "Export the backward pass",
                                                  str(window.files.folder() / f"backward-step{wave.step}.gif"),
                                                  "Animated GIF (*.gif);;PNG sequence (*.png)")
            if not path:
                return
        labels = [setup.label for setup in window.board.config.models]
        waves = [(label, w) for label, w in zip(labels, wave.per_model, strict=False) if w is not None]
        self.wave_export = WaveExport(waves, Path(path), window.step_views.seconds, window)
        self.wave_export.done.connect(lambda message: window.statusBar().showMessage(message, 6000))
        self.wave_export.failed.connect(lambda message: QMessageBox.warning(window, "Export backward pass", message))
        self.wave_export.start()
        window.statusBar().showMessage(f"Writing {Path(path).name}...", 3000)

    def panel_at_last_click(self) -> Panel:
        board = self.window.board
        return board.current_panel or board.columns[0].panels["gradient"]

    def copy_plot(self) -> None:
        board = self.window.board
        board.draw_all_pending()
        board.hide_readouts()  # the cursor's read-out is not part of the plot
        QApplication.clipboard().setImage(panel_image(self.panel_at_last_click()))
        self.window.statusBar().showMessage("Plot copied to the clipboard", 3000)
