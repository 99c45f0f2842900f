"""The "How far back?" tab (key T): the trainability map, filled in live as a sweep's runs finish.

The figure of Bengio, Simard and Frasconi (1994): for each cell, the fraction of seeds that
learn the task against the length T the dependency spans. The runs are those of
``gradviz sweep`` (``gradviz.sweep``): each (model, T, seed) trains in a child process of its
own, J at a time, in the pool the command line uses (``SweepPool``); a timer here only asks it
which runs finished, so the window never trains and never waits. Every finished run is saved at
once to a sweep file in the app's data folder: Stop, a closed window or a crash keeps it, and
Open resumes it. The form's mistakes are said in one line and start nothing.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QSizePolicy, QVBoxLayout, QWidget

from gradviz.budget import available_bytes
from gradviz.config import ConfigError
from gradviz.gui.panels.reproduction import ReproductionView
from gradviz.gui.panels.sweep_buttons import SweepButtons
from gradviz.gui.panels.sweep_chart import SweepChart, dodge_factor
from gradviz.gui.panels.sweep_estimate import SweepTimer
from gradviz.gui.panels.sweep_files import ask_export_path, clip, export_sweep, named, new_sweep_path
from gradviz.gui.panels.sweep_form import DEFAULTS, SweepForm
from gradviz.gui.theme import PlotStyle
from gradviz.io.atomic import check_output
from gradviz.io.filelock import FileLock
from gradviz.sweep.grid import SweepConfig, check_jobs, parse_lengths
from gradviz.sweep.results import SweepFileError, SweepResults
from gradviz.sweep.runner import SweepPool, SweepRunError
from gradviz.threads import core_count

__all__ = ["SweepPanel", "dodge_factor"]  # dodge_factor: its home is sweep_chart.py; tests import it from here

POLL_MS = 200
MEASURE_AFTER_MS = 1000  # the form has been still this long: time its cells on this machine


class SweepPanel(QWidget):
    """The sweep's form and buttons, its live figure, and a table of learned/finished seeds:
    the form (sweep_form.py), the figure and table (sweep_chart.py) and the files
    (sweep_files.py) put together here with the runs: start, poll, stop, resume, open."""

    started = Signal()  # a sweep began: the window pauses its own training, which would share the cores

    def __init__(self, folder: Path, settings=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.settings = settings  # QSettings: the last sweep, shown again in the next session
        self.results: SweepResults | None = None
        self.path: Path | None = None  # the sweep file: every finished run is in it
        self.pool: SweepPool | None = None
        self.lock: FileLock | None = None  # held on the sweep file while its runs train: one writer
        self._refused = ""  # why the last file failed to open
        self.startup_note = ""  # said once in the window's status bar: the last sweep could not be opened
        self._started_at = 0.0
        self._done_at_start = 0
        self._make_timers()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.form = SweepForm()
        # The form's widgets, by the names the window's tests and lessons use.
        self.task_box, self.model_checks, self.lengths = self.form.task_box, self.form.model_checks, self.form.lengths
        self.seeds, self.steps, self.jobs, self.threshold = (self.form.seeds, self.form.steps, self.form.jobs,
                                                             self.form.threshold)
        layout.addWidget(self.form)
        self.buttons = buttons = SweepButtons(self.start, self.stop, self.open_dialog, self.export_dialog)
        self.start_button, self.stop_button = buttons.start_button, buttons.stop_button
        self.open_button, self.export_button = buttons.open_button, buttons.export_button
        self.progress, self.message = buttons.progress, buttons.message
        layout.addLayout(buttons)
        self.desk_only = [self.form, self.open_button, self.export_button]

        # What is swept, in every mode (presentation hides the form): cells, lengths, seeds, steps.
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.summary)

        self.chart = SweepChart()
        self.graphics, self.figure, self.table = self.chart.graphics, self.chart.figure, self.chart.table
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.table)
        # ---- a paper's reproduction (reproduction.py): shown in the figure's place until Back
        self.reproduction = ReproductionView((self.summary, self.graphics, self.table), settings)
        buttons.insert_before_export(self.reproduction.open_button)
        self.desk_only += [self.reproduction.open_button, self.reproduction.export_button]
        self.reproduction.said.connect(self._say)
        self.started.connect(self.reproduction.leave)
        layout.addWidget(self.reproduction, 1)
        # ----
        self.style = PlotStyle()
        self._fit_table()
        self.set_form(DEFAULTS, jobs=core_count())
        # Editing the form decides whether Start resumes the sweep shown or starts another.
        self.form.edited.connect(self._show_buttons)
        self.form.edited.connect(self._form_changed)
        self.jobs.valueChanged.connect(self._form_changed)
        if not self._open_last():
            self._show()


    def _make_timers(self) -> None:
        """The poll of the runs in flight, and the timing of the form on this machine."""
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        # How long the form's sweep takes here, measured (sweep_estimate.py), once the form is still.
        self.timing = SweepTimer(self)
        self.timing.measured.connect(lambda _key: self._show_progress())
        self._measure_later = QTimer(self)
        self._measure_later.setSingleShot(True)
        self._measure_later.setInterval(MEASURE_AFTER_MS)
        self._measure_later.timeout.connect(self._measure)

    @property
    def curves(self) -> list:
        """The figure's lines, one per cell (sweep_chart.py)."""
        return self.chart.curves

    @property
    def kept(self) -> dict:
        """What the form does not show (H, batch, Adam's rate, clipping, distance): gradviz's
        defaults, or those of the sweep file opened, so that Resume continues that sweep."""
        return self.form.kept

    @kept.setter
    def kept(self, value: dict) -> None:
        self.form.kept = value

    # ---- the form ---------------------------------------------------------------------------

    def set_form(self, config: SweepConfig, jobs: int | None = None) -> None:
        """Fill the form with ``config`` (quietly: the buttons are updated by the caller)."""
        self.form.set_form(config, jobs)

    def sweep_config(self) -> SweepConfig:
        """The form's sweep; raises ConfigError naming the first mistake."""
        return self.form.sweep_config()

    # ---- running ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.pool is not None and self.pool.running

    def start(self) -> bool:
        """Start the form's sweep, or resume the one shown when the form still describes it."""
        if self.running:
            return False
        try:
            config = self.sweep_config()
        except ConfigError as exc:
            self._say(f"Not started: {exc}", error=True)
            return False
        self._measure_later.stop()
        self.timing.stop()  # the cores go to the sweep
        results, path = self.results, self.path
        if not self._resumable(config):
            results, path = SweepResults(config), new_sweep_path(self.folder)
        try:
            check_jobs(self.jobs.value(), available_bytes())
        except ConfigError as exc:
            self._say(f"Not started: {exc}", error=True)
            return False
        lock = FileLock(path, what="sweep")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            check_output(path, force=True, what="the sweep file")  # read-only or full: said now, not later
            lock.acquire()  # a `gradviz sweep` (or another window) writing this file: refused in one line
            pool = SweepPool(results, path, self.jobs.value())
        except Exception as exc:  # noqa: BLE001 - said in the panel; the sweep shown stays as it was
            lock.release()
            self._say(f"Not started: {exc}" if isinstance(exc, OSError) else
                      f"Not started: {type(exc).__name__}: {exc}", error=True)
            return False
        self.results, self.path, self.pool, self.lock = results, path, pool, lock
        self._remember(path)
        self._started_at = time.perf_counter()
        self._done_at_start = int(results.done.sum())
        self._timer.start()
        self.started.emit()
        self._show()
        return True

    def _open_last(self) -> bool:
        """Show the sweep of the last session, if it still opens; one that does not (deleted,
        damaged, hostile) is forgotten, and ``startup_note`` says so once: never a traceback."""
        if self.settings is None:
            return False
        last = self.settings.value("sweep/last")
        if last is None:
            return False
        if not isinstance(last, str) or not last:
            reason = f"the setting holds {type(last).__name__}, not a file name"
        elif not Path(last).is_file():
            reason = f"{last} no longer exists"
        else:
            try:
                if self.open_file(last, quiet=True):
                    return True
                reason = self._refused
            except Exception as exc:  # noqa: BLE001 - whatever a file does, the app starts
                reason = f"{type(exc).__name__}: {exc}"
            reason = named(reason, last)
        self.settings.remove("sweep/last")
        self.startup_note = f"Last sweep forgotten: {clip(reason, 120)}"
        return False

    def _resumable(self, config: SweepConfig) -> bool:
        """Whether Start continues the sweep shown: the form describes it, and runs are missing."""
        results = self.results
        return (results is not None and self.path is not None and not results.complete
                and config.difference(results.config) is None)


    def _remember(self, path: Path) -> None:
        if self.settings is not None:
            self.settings.setValue("sweep/last", str(path))

    def poll(self) -> list:
        """Timer slot: record the runs that finished and draw them."""
        if self.pool is None:
            return []
        try:
            cells = self.pool.collect(timeout=0)
        except SweepRunError as exc:
            self._finish(f"Stopped: {exc}. The finished runs are kept in {self.path.name}.", error=True)
            return []
        except Exception as exc:  # noqa: BLE001 - e.g. the file could not be saved (a full disk): stop, say so
            self.pool.stop()
            self._finish(f"Stopped: {type(exc).__name__}: {exc}. The runs saved before are in {self.path.name}.",
                         error=True)
            return []
        if not self.pool.running:
            trained = int(self.results.done.sum()) - self._done_at_start
            total, seconds = self.results.done.size, self._elapsed()
            what = (f"{total} runs in {seconds:.0f} s" if trained == total else
                    f"all {total} runs ({trained} trained now, in {seconds:.0f} s)")
            saved = self.results.saved_path(self.path)
            self._finish(f"Done: {what}, saved as {saved.name if saved == self.path else saved}.")
        elif cells:
            if self._follow_fallback():
                self._say(self.results.notes[-1], error=True)
            self._show()
        else:
            self._show_progress()
        return cells

    def stop(self) -> None:
        """Stop the runs in flight (and a timing of the form); the finished ones are already in the file."""
        self._measure_later.stop()
        self.timing.stop()
        if not self.running:
            return
        self.pool.stop()
        done = int(self.results.done.sum())
        self._finish(f"Stopped: {done} of {self.results.done.size} runs kept in {self.path.name}; "
                     "Resume trains the rest.")

    def _finish(self, text: str, error: bool = False) -> None:
        self._timer.stop()
        self.pool = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if self._follow_fallback():
            text = f"{text} {self.results.notes[-1]}"
            error = True
        self._show()
        self._say(text, error)

    def _follow_fallback(self) -> bool:
        """When the disk refused the sweep file mid-sweep (full, read-only), its saves went to a
        fallback file: that one is the sweep now (shown, remembered, resumed). True if so."""
        if self.results is None or self.path is None or not self.results.notes:
            return False
        saved = self.results.saved_path(self.path)
        if saved == self.path:
            return False
        self.path = saved
        self._remember(saved)
        return True

    def _elapsed(self) -> float:
        return time.perf_counter() - self._started_at

    # ---- files ------------------------------------------------------------------------------

    def open_file(self, path: str | Path, quiet: bool = False) -> bool:
        """Show a sweep file; its missing runs can be resumed (into the same file). ``quiet``:
        a file that cannot be read is passed over without a message (the last session's)."""
        if self.running:
            return False
        try:
            results = SweepResults.load(path)
        except SweepFileError as exc:
            self._refused = str(exc)
            if not quiet:  # one line, and the sweep shown (if any) stays
                self._say(f"Not opened: {clip(named(str(exc), path), 300)}", error=True)
            return False
        self.results, self.path = results, Path(path)
        self._remember(self.path)
        self.reproduction.leave()  # the sweep opened is what to see
        self.set_form(results.config)
        self._show()
        left = len(results.pending())
        self._say(f"Opened {self.path.name}: {results.done.sum()} of {results.done.size} runs"
                  + (f"; Resume trains the other {left}." if left else "."))
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open sweep", str(self.folder), "gradviz sweeps (*.npz)")
        if path:
            self.open_file(path)

    def export(self, path: str | Path) -> Path:
        """Write the figure (.png, .svg, .pdf, drawn by ``gradviz.sweep.plot``) or the data (.npz)."""
        if self.results is None:
            raise ValueError("nothing to export yet: start a sweep or open one")
        return export_sweep(self.results, path)

    def export_dialog(self) -> None:
        if self.results is None:
            QMessageBox.information(self, "Export sweep", "Start a sweep or open one first.")
            return
        path = ask_export_path(self, self.folder)
        if not path:
            return
        try:
            written = self.export(path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export sweep", f"Could not write {path}: {exc}")
            return
        self._say(f"Wrote {written}")

    # ---- drawing ----------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.buttons.say(text, error, self.path)

    def _show_buttons(self) -> None:
        running, results = self.running, self.results
        self.form.setEnabled(not running)
        self.open_button.setEnabled(not running)
        self.reproduction.open_button.setEnabled(not running)  # its message would be overwritten
        self.stop_button.setEnabled(running)
        self.export_button.setEnabled(results is not None)
        self.start_button.setEnabled(not running)
        try:
            config = self.sweep_config()
        except ConfigError:
            config = None  # Start will say what is wrong
        if running or config is None or results is None or config.difference(results.config) is not None:
            self.start_button.setText("&Start sweep")
        elif results.complete:
            self.start_button.setText("&Start again")  # the same seeds once more, into a new file
        else:
            self.start_button.setText(f"Re&sume ({len(results.pending())} runs left)")

    def _show(self) -> None:
        """Buttons, progress, figure and table for the sweep as it stands."""
        self._show_progress()
        self._draw()

    def _show_progress(self) -> None:
        """Buttons, progress bar and message: what changes between two finished runs."""
        self._show_buttons()
        running, results = self.running, self.results
        total = results.done.size if results is not None else 0
        done = int(results.done.sum()) if results is not None else 0
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setVisible(results is not None)
        if running:
            new = done - self._done_at_start
            elapsed = self._elapsed()
            left = (f", about {elapsed / new * (total - done):.0f} s left" if new else
                    self.timing.time_left(results.config, self.jobs.value(), results.pending(), elapsed))
            # Short: beside the buttons of a 1024-pixel screen; the tooltip names the file.
            training = len(self.pool.processes())
            self._say(f"{training} run{'s' if training != 1 else ''} training, each in its own process: "
                      f"{elapsed:.0f} s{left}.")
        elif results is None:
            self._say("How far back can each cell learn? Start a sweep: every (model, T, seed) trains for "
                      "the given steps, and the figure shows the fraction of seeds that learned.")
        self._show_summary()

    # ---- what is swept, and how long it takes here --------------------------------------------

    def _form_changed(self) -> None:
        self._draw_axis()
        self._show_summary()
        if self.isVisible() and not self.running:
            self._measure_later.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self.running:
            self._measure_later.start()

    def _measure(self) -> None:
        """Time the form's cells here (a few steps each), unless known: the estimate's source."""
        if self.running or not self.isVisible():
            return
        try:
            config = self.sweep_config()
        except ConfigError:
            return
        self.timing.measure(config, self.jobs.value())
        self._show_summary()

    def _estimate(self) -> str:
        """How long the form's sweep (what is left of it) takes on this machine, or that it is
        being measured; empty when the form is wrong."""
        try:
            config = self.sweep_config()
        except ConfigError:
            return ""
        cells = self.results.pending() if self._resumable(config) else None
        return self.timing.describe(config, self.jobs.value(), cells)


    def _show_summary(self) -> None:
        """What is swept, in words the room reads: the running sweep's cells, lengths, seeds and
        steps, or the form's (what Start trains) with how long that takes on this machine."""
        try:
            form = self.sweep_config()
        except ConfigError:
            form = None
        config = self.results.config if self.running or (form is None and self.results is not None) else form
        if config is None:
            self.summary.setText("")
            return
        text = (f"<b>{html.escape(', '.join(config.labels))}</b> at "
                f"<b>T = {', '.join(str(t) for t in config.seq_lens)}</b> · {config.seeds} "
                f"seed{'s' if config.seeds != 1 else ''} × {config.steps} steps · {config.task} task")
        estimate = self._estimate() if config is form and not self.running else ""
        self.summary.setText(f"{text} · {estimate}" if estimate else text)

    def _draw(self) -> None:
        if self.results is None:
            self.chart.clear()
            self._draw_axis()
            return
        self.chart.draw(self.results, self.style)
        self._fit_table()

    def _draw_axis(self) -> None:
        """T's axis labelled with the lengths swept: the sweep's, or before one the form's (what
        Start would run)."""
        if self.results is not None:
            lengths = self.results.config.seq_lens
        else:
            try:
                lengths = parse_lengths("T", self.lengths.text())
            except ConfigError:
                return
        self.chart.draw_axis(lengths)

    # ---- style ------------------------------------------------------------------------------

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a new theme's or presentation's size: rows follow
            QTimer.singleShot(0, self._fit_table)

    def _fit_table(self) -> None:
        """The table shows every row, and the progress bar its text, at the font of the moment."""
        self.buttons.fit_progress(self)
        self.chart.fit_table()

    def apply_style(self, style: PlotStyle) -> None:
        self.style = style
        self.chart.apply_style(style)
        self._draw()
        self.reproduction.apply_style(style)

    def set_lecture(self, lecture: bool) -> None:
        """Presentation mode: the figure, the table and Start/Stop; the form stays at the desk."""
        for widget in self.desk_only:
            widget.setVisible(not lecture)
