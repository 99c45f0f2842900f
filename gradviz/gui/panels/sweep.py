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
import math
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gradviz.budget import available_bytes
from gradviz.config import MODEL_KINDS, ConfigError, ModelConfig, default_label
from gradviz.gui.panels.reproduction import ReproductionView
from gradviz.gui.panels.sweep_estimate import SweepTimer, estimate_seconds, say_duration
from gradviz.gui.plots.base import Panel
from gradviz.gui.theme import PlotStyle, model_colour
from gradviz.io.atomic import atomic_write, check_output
from gradviz.io.filelock import FileLock
from gradviz.sweep.grid import (
    MAX_JOBS,
    MAX_SEEDS,
    MAX_STEPS,
    SWEEP_TASKS,
    SweepConfig,
    Threshold,
    check_jobs,
    parse_lengths,
)
from gradviz.sweep.plot import FORMATS
from gradviz.sweep.results import SweepFileError, SweepResults
from gradviz.sweep.runner import SweepPool, SweepRunError
from gradviz.threads import core_count

POLL_MS = 200
MEASURE_AFTER_MS = 1000  # the form has been still this long: time its cells on this machine
# Models side by side at each T, this fraction of the axis's width apart (about 30 px on a
# 1024-pixel screen): where two cells score the same, neither marker hides the other (the RNN's
# T=10 marker was behind the LSTM's). The ticks, the table and the data stay at the true T.
DODGE = 0.035
MARGIN = 0.15  # log10 units of T beside the shortest and the longest length
SYMBOLS = ("o", "s", "t")  # pyqtgraph's names for the file figure's markers (o, s, ^): told apart without colour
DEFAULTS = SweepConfig(models=("rnn", "lstm"), seq_lens=(10, 20, 50), seeds=2, steps=1000)
KEPT = ("hidden", "batch", "lr", "clip", "distance")  # settings the form does not show: a sweep's own, or the defaults


class SweepPanel(QWidget):
    """The sweep's form and buttons, its live figure, and a table of learned/finished seeds."""

    started = Signal()  # a sweep began: the window pauses its own training, which would share the cores

    def __init__(self, folder: Path, settings=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.settings = settings  # QSettings: the last sweep, shown again in the next session
        # What the form does not show (H, batch, Adam's rate, clipping, distance): gradviz's
        # defaults, or those of the sweep file opened, so that Resume continues that sweep.
        self.kept = {name: getattr(DEFAULTS, name) for name in KEPT}
        self.results: SweepResults | None = None
        self.path: Path | None = None  # the sweep file: every finished run is in it
        self.pool: SweepPool | None = None
        self.lock: FileLock | None = None  # held on the sweep file while its runs train: one writer
        self._refused = ""  # why the last file failed to open
        self.startup_note = ""  # said once in the window's status bar: the last sweep could not be opened
        self._started_at = 0.0
        self._done_at_start = 0
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

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # Two rows: one would hold the window wider than a 1024-pixel screen beside the settings.
        self.form = QWidget()
        # Its width never holds the window wide: leaving presentation mode, where it was hidden
        # while the font shrank, it still asked for the large font's width (1082 px on a
        # 1024-pixel screen) until its widgets caught up.
        self.form.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        rows = QVBoxLayout(self.form)
        rows.setContentsMargins(0, 0, 0, 0)
        first, second = QHBoxLayout(), QHBoxLayout()
        rows.addLayout(first)
        rows.addLayout(second)
        self.task_box = QComboBox()
        self.task_box.addItems(SWEEP_TASKS)
        self.task_box.setToolTip("The task every run trains on (names and reviews: T must exceed their distance, 10)")
        self.model_checks: dict[str, QCheckBox] = {}
        self.lengths = QLineEdit()
        self.lengths.setToolTip("The sequence lengths T to try, comma-separated, e.g. 5,10,20,50,100")
        self.lengths.setMaximumWidth(150)
        self.seeds = _spin(1, MAX_SEEDS, "Runs per (model, T), seeds 0..N-1: the success rate is the fraction learned")
        self.steps = _spin(1, MAX_STEPS, "Training steps of every run", step=100)
        self.jobs = _spin(1, MAX_JOBS, "Runs training at a time, each in a process of its own (default: the cores)")
        self.threshold = QLineEdit()
        self.threshold.setMaximumWidth(70)
        self.threshold.setToolTip("A run learned when its final loss is below this: '0.1x' is a tenth of the "
                                  "task's memoryless loss at that T, '0.02' a loss")
        first.addWidget(QLabel("Task"))
        first.addWidget(self.task_box)
        for kind in MODEL_KINDS:
            check = QCheckBox(default_label(ModelConfig(kind=kind)))
            check.setToolTip(f"Sweep the {check.text()}")
            self.model_checks[kind] = check
            first.addWidget(check)
        first.addWidget(QLabel("Lengths T"))
        first.addWidget(self.lengths)
        first.addStretch(1)
        for label, widget in (("Seeds", self.seeds), ("Steps", self.steps), ("Jobs", self.jobs),
                              ("Learned if loss <", self.threshold)):
            second.addWidget(QLabel(label))
            second.addWidget(widget)
        second.addStretch(1)
        layout.addWidget(self.form)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("&Start sweep")
        self.start_button.setToolTip("Train every (model, T, seed) of the form; the figure fills in as runs finish "
                                     "(Alt+S)")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the runs in flight; the finished ones stay in the sweep file")
        self.stop_button.clicked.connect(self.stop)
        self.open_button = QPushButton("Open...")
        self.open_button.setToolTip("Show a sweep file (from here or `gradviz sweep`); Resume trains its missing runs")
        self.open_button.clicked.connect(self.open_dialog)
        self.export_button = QPushButton("Export...")
        self.export_button.setToolTip("The figure as PNG, SVG or PDF (the figure `gradviz sweep --plot` draws), "
                                      "or the sweep's data as .npz")
        self.export_button.clicked.connect(self.export_dialog)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m runs")
        self.progress.setToolTip("Runs finished (saved) of the whole grid")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        for widget in (self.start_button, self.stop_button, self.open_button, self.export_button, self.progress):
            buttons.addWidget(widget)
        buttons.addWidget(self.message, 1)
        layout.addLayout(buttons)
        self.desk_only = [self.form, self.open_button, self.export_button]

        # What is swept, in every mode (presentation hides the form): cells, lengths, seeds, steps.
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.summary)

        self.graphics = pg.GraphicsLayoutWidget()
        self.figure = Panel("sweep", "Start a sweep, or open one.", "sequence length T (steps the dependency spans)",
                            "success rate", "success")
        self.figure.add_legend()
        self.figure.plot.setLogMode(x=True, y=False)
        self.figure.plot.setYRange(-0.04, 1.04, padding=0)
        self.figure.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.graphics.addItem(self.figure)
        layout.addWidget(self.graphics, 1)
        self.curves: list[pg.PlotDataItem] = []
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Seeds that learned / seeds finished, for each model and T (hover for the losses)")
        layout.addWidget(self.table)
        # ---- a paper's reproduction (reproduction.py): shown in the figure's place until Back
        self.reproduction = ReproductionView((self.summary, self.graphics, self.table), settings)
        buttons.insertWidget(buttons.indexOf(self.export_button), self.reproduction.open_button)
        self.desk_only += [self.reproduction.open_button, self.reproduction.export_button]
        self.reproduction.said.connect(self._say)
        self.started.connect(self.reproduction.leave)
        layout.addWidget(self.reproduction, 1)
        # ----
        self.style = PlotStyle()
        self._fit_table()
        self.set_form(DEFAULTS, jobs=core_count())
        # Editing the form decides whether Start resumes the sweep shown or starts another.
        for check in self.model_checks.values():
            check.toggled.connect(self._show_buttons)
        for edit in (self.lengths, self.threshold):
            edit.textChanged.connect(self._show_buttons)
        for spin in (self.seeds, self.steps):
            spin.valueChanged.connect(self._show_buttons)
        self.task_box.currentIndexChanged.connect(self._show_buttons)
        for check in self.model_checks.values():
            check.toggled.connect(self._form_changed)
        for edit in (self.lengths, self.threshold):
            edit.textChanged.connect(self._form_changed)
        for spin in (self.seeds, self.steps, self.jobs):
            spin.valueChanged.connect(self._form_changed)
        self.task_box.currentIndexChanged.connect(self._form_changed)
        if not self._open_last():
            self._show()

    # ---- the form ---------------------------------------------------------------------------

    def set_form(self, config: SweepConfig, jobs: int | None = None) -> None:
        """Fill the form with ``config`` (quietly: the buttons are updated by the caller)."""
        widgets = (self.task_box, *self.model_checks.values(), self.lengths, self.seeds, self.steps, self.threshold)
        blockers = [QSignalBlocker(widget) for widget in widgets]  # noqa: F841 - held until the form is full
        self.task_box.setCurrentText(config.task)
        for kind, check in self.model_checks.items():
            check.setChecked(kind in config.models)
        self.lengths.setText(",".join(str(t) for t in config.seq_lens))
        self.seeds.setValue(config.seeds)
        self.steps.setValue(config.steps)
        if jobs is not None:
            self.jobs.setValue(jobs)
        self.threshold.setText(f"{config.threshold.value:g}" + ("x" if config.threshold.relative else ""))
        self.kept = {name: getattr(config, name) for name in KEPT}
        self.form.setToolTip(f"Every run also has {shared_settings(config)}: gradviz's defaults, or those of the "
                             "sweep file opened (the figure's caption says them)")

    def sweep_config(self) -> SweepConfig:
        """The form's sweep; raises ConfigError naming the first mistake."""
        lengths = parse_lengths("T", self.lengths.text())
        models = tuple(kind for kind, check in self.model_checks.items() if check.isChecked())
        return SweepConfig(task=self.task_box.currentText(), models=models, seq_lens=lengths,
                           seeds=self.seeds.value(), steps=self.steps.value(),
                           threshold=Threshold.parse(self.threshold.text()), **self.kept)

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
            results, path = SweepResults(config), self._new_path()
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
            reason = _named(reason, last)
        self.settings.remove("sweep/last")
        self.startup_note = f"Last sweep forgotten: {_clip(reason, 120)}"
        return False

    def _resumable(self, config: SweepConfig) -> bool:
        """Whether Start continues the sweep shown: the form describes it, and runs are missing."""
        results = self.results
        return (results is not None and self.path is not None and not results.complete
                and config.difference(results.config) is None)

    def _new_path(self) -> Path:
        stem = f"sweep-{datetime.now():%Y%m%d-%H%M%S}"
        path, number = self.folder / f"{stem}.npz", 1
        while path.exists():  # two sweeps in one second: never the same file
            number += 1
            path = self.folder / f"{stem}-{number}.npz"
        return path

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
                self._say(f"Not opened: {_clip(_named(str(exc), path), 300)}", error=True)
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
        from gradviz.sweep.plot import plot_sweep

        if self.results is None:
            raise ValueError("nothing to export yet: start a sweep or open one")
        target = Path(path)
        if target.suffix.lower() == ".npz":  # where asked, or an error: no fallback file for an export
            arrays = self.results.arrays()
            return atomic_write(target, lambda stream: np.savez(stream, **arrays), force=True)
        return plot_sweep(self.results, target)

    def export_dialog(self) -> None:
        if self.results is None:
            QMessageBox.information(self, "Export sweep", "Start a sweep or open one first.")
            return
        filters = "PNG figure (*.png);;SVG figure (*.svg);;PDF figure (*.pdf);;Sweep data (*.npz)"
        path, chosen = QFileDialog.getSaveFileName(self, "Export sweep", str(self.folder / "sweep.png"), filters)
        if not path:
            return
        if Path(path).suffix.lower() not in (*FORMATS, ".npz"):
            path += chosen[chosen.index("*") + 1:chosen.index(")")]
        try:
            written = self.export(path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export sweep", f"Could not write {path}: {exc}")
            return
        self._say(f"Wrote {written}")

    # ---- drawing ----------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setToolTip(f"The sweep file, saved after every finished run: {self.path}"
                                if self.path is not None else "")
        self.message.setStyleSheet("QLabel { color: #e05050; font-weight: bold; }" if error else "")

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
            left = f", about {elapsed / new * (total - done):.0f} s left" if new else self._left_before_first(elapsed)
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
        timing = self.timing.timing(config, self.jobs.value())
        if timing is None:
            return "Timing a few steps of each cell on this machine…" if self.timing.measuring else ""
        cells = self.results.pending() if self._resumable(config) else None
        seconds = estimate_seconds(config, timing, self.jobs.value(), cells)
        runs = len(cells) if cells is not None else len(config.cells())
        return (f"{runs} run{'s' if runs != 1 else ''}, {say_duration(seconds)} on this machine "
                f"(timed here, {self.jobs.value()} at a time).")

    def _left_before_first(self, elapsed: float) -> str:
        """Before the first run finishes: the time left from the timing measured before Start."""
        config = self.results.config
        timing = self.timing.timing(config, self.jobs.value())
        if timing is None:
            return ""
        left = estimate_seconds(config, timing, self.jobs.value(), self.results.pending()) - elapsed
        return f", {say_duration(left)} left" if left > 0 else ""

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
        results = self.results
        for curve in self.curves:
            self.figure.remove_curve(curve)
        self.curves = []
        self.figure.data = {}
        if results is None:
            self.figure.refresh_key()
            self.table.clear()
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self._draw_axis()
            return
        config = results.config
        lengths = results.seq_lens.astype(float)
        success = results.success
        self.figure.data = {"seq_lens": results.seq_lens, "success": success}
        for index, label in enumerate(config.labels):
            colour = model_colour(index)
            curve = self.figure.curve(colour, name=label)
            shown = ~np.isnan(success[index])
            # Later lines thinner, with smaller markers: where two cells score the same, both show.
            size = max(6, round(self.style.font_px * (1.1 - 0.25 * index)))
            curve.setSymbol(SYMBOLS[index % len(SYMBOLS)])
            curve.setSymbolSize(size)
            curve.setSymbolBrush(colour)
            curve.setSymbolPen(pg.mkPen(colour))
            curve.setPen(pg.mkPen(colour, width=max(1, self.style.line_width + 1 - index)))
            if shown.any():
                curve.setData(lengths[shown] * dodge_factor(config.seq_lens, index, len(config.models)),
                              success[index][shown])
            self.curves.append(curve)
        self.figure.refresh_key()
        self._draw_axis(config.seq_lens)
        self.figure.set_caption(
            f"{config.task} task, {config.steps} steps per run, {config.seeds} seeds per point. A run learned when "
            f"its final loss (mean of its last 5% of steps) is below {config.threshold.describe()}. Every run: "
            f"{shared_settings(config)}, in a process of its own.")
        self._fill_table(results)

    def _draw_axis(self, lengths: tuple[int, ...] | None = None) -> None:
        """T's axis labelled with the lengths swept: the sweep's, or before one the form's (what
        Start would run), never pyqtgraph's 2..9 of an empty plot."""
        if lengths is None:
            if self.results is not None:
                lengths = self.results.config.seq_lens
            else:
                try:
                    lengths = parse_lengths("T", self.lengths.text())
                except ConfigError:
                    return
        ordered = sorted(lengths)
        self.figure.plot.getAxis("bottom").setTicks([[(math.log10(t), str(int(t))) for t in ordered]])
        self.figure.plot.setXRange(math.log10(ordered[0]) - MARGIN, math.log10(ordered[-1]) + MARGIN, padding=0)

    def _fill_table(self, results: SweepResults) -> None:
        config = results.config
        self.table.setRowCount(len(config.models) + 1)
        self.table.setColumnCount(len(config.seq_lens))
        self.table.setHorizontalHeaderLabels([f"T = {t}" for t in config.seq_lens])
        self.table.setVerticalHeaderLabels([*config.labels, "learned if loss <"])
        for row, label in enumerate(config.labels):
            for column, length in enumerate(config.seq_lens):
                finished, learned = results.done[row, column], results.learned[row, column]
                text = f"{learned.sum()}/{finished.sum()} learned" if finished.any() else "-"
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                losses = ", ".join(f"seed {seed}: {'not run' if not done else f'{loss:.3g}'}"
                                   for seed, (done, loss) in enumerate(zip(finished, results.final_loss[row, column],
                                                                           strict=True)))
                item.setToolTip(f"{label} at T = {length}, final loss (learned below "
                                f"{results.threshold[column]:.3g}): {losses}")
                self.table.setItem(row, column, item)
        for column, threshold in enumerate(results.threshold):
            item = QTableWidgetItem(f"{threshold:.3g}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip(f"memoryless loss at this T: {results.baseline[column]:.3g}")
            self.table.setItem(len(config.models), column, item)
        self._fit_table()

    # ---- style ------------------------------------------------------------------------------

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a new theme's or presentation's size: rows follow
            QTimer.singleShot(0, self._fit_table)

    def _fit_table(self) -> None:
        """The table shows every row, and the progress bar its text, at the font of the moment."""
        self.progress.setFixedWidth(self.fontMetrics().horizontalAdvance("9999 of 9999 runs") + 24)
        self.table.resizeRowsToContents()
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(row) for row in range(self.table.rowCount()))
        self.table.setFixedHeight(height)

    def apply_style(self, style: PlotStyle) -> None:
        self.style = style
        self.graphics.setBackground(style.theme.background)
        self.figure.apply_style(style)
        self._draw()
        self.reproduction.apply_style(style)

    def set_lecture(self, lecture: bool) -> None:
        """Presentation mode: the figure, the table and Start/Stop; the form stays at the desk."""
        for widget in self.desk_only:
            widget.setVisible(not lecture)


def dodge_factor(lengths: tuple[int, ...], index: int, count: int) -> float:
    """The factor model ``index`` of ``count`` is drawn at (its T times this, on the log axis):
    the models spread about T, ``DODGE`` of the axis's width apart."""
    span = math.log10(max(lengths) / min(lengths)) + 2 * MARGIN
    return 10 ** (DODGE * span * (index - (count - 1) / 2))


def shared_settings(config: SweepConfig) -> str:
    """What every run of ``config`` shares besides the grid, in a few words."""
    text = f"H = {config.hidden}, batch {config.batch}, Adam {config.lr:g}, clipping {config.clip:g}"
    return text + (f", distance {config.distance}" if config.task in ("names", "reviews") else "")


def _named(message: str, path: str | Path) -> str:
    """A reader's message with the file named by its name, not its whole path (one short line)."""
    return message.replace(str(path), Path(path).name)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _spin(low: int, high: int, tip: str, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setToolTip(tip)
    return spin
