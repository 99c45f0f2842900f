"""The app starts whatever its settings file and its last sweep file hold (issue 25, cases 1-3, 6,
11): values of the wrong type are dropped and said once; a hostile sweep file is one line in the
tab, and remembered as the last sweep it is forgotten at the next start, never a traceback.
Every window is built in-process, offscreen: a crash here (the segmentation fault that text
under ``geometry`` caused) ends the test run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings

from gradviz.gui.panels.sweep import SweepPanel
from gradviz.gui.settings import KEYS, _typed
from gradviz.io.filelock import FileLock
from tests.core.test_hostile_sweeps import VARIANTS, write

WRONG = {  # a value of each kind another version, a sync tool or a hand edit can leave
    "text": "garbage",
    "number": 5,
    "list": [1, 2],
    "mapping": {"a": 1},
    "bytes": b"\x00\x01junk",
}


def settings_file(tmp_path: Path, values: dict) -> QSettings:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in values.items():
        settings.setValue(key, value)
    settings.setValue("sweep_folder", str(tmp_path / "sweeps"))
    settings.sync()
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)  # read back from the file


@pytest.mark.parametrize("kind", sorted(WRONG))
def test_every_key_of_the_wrong_type_is_dropped_and_said_once(kind, qtbot, tmp_path, monkeypatch) -> None:
    from gradviz.gui.main_window import MainWindow
    from tests.configs import small_config

    keys = [key for key in KEYS if key != "sweep_folder"]
    settings = settings_file(tmp_path, {key: WRONG[kind] for key in keys})
    window = MainWindow(small_config(), autostart=False, settings=settings)
    qtbot.addWidget(window)
    try:
        window.show()
        said = window.statusBar().currentMessage()
        prefix = "Ignored stored settings of the wrong type: "
        first = said.split(". ")[0]
        named = first.removeprefix(prefix).split(", ") if first.startswith(prefix) else []
        for key in keys:  # each value is either said and removed, or of its key's type
            if key in named or (key == "sweep/last" and "Last sweep forgotten" in said):
                assert settings.value(key) is None, key  # removed: said at this start, not at every one
            else:
                assert _typed(KEYS[key], settings.value(key)) is not None, key
        # What crashed or stopped the start before: geometry and window state that are not bytes
        # (a segmentation fault in restoreGeometry/restoreState), a recent list that is not text.
        assert ("geometry" in named and "window_state" in named) == (kind != "bytes")
        assert ("recent" in named) == (kind != "text")
        assert window.isVisible() and window.files.recent.paths() in ([], ["garbage"])
        window.ask_before_discard = False
        window.close()
    finally:
        window.session.close()
    again = MainWindow(small_config(), autostart=False, settings=settings)
    qtbot.addWidget(again)
    try:
        assert "Ignored" not in again.statusBar().currentMessage()  # said once
    finally:
        again.session.close()


def test_geometry_saved_by_qt_is_still_restored(qtbot, tmp_path) -> None:
    from gradviz.gui.main_window import MainWindow
    from tests.configs import small_config

    settings = settings_file(tmp_path, {})
    first = MainWindow(small_config(), autostart=False, settings=settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(1100, 700)
    height = first.height()
    first.ask_before_discard = False
    first.close()
    assert isinstance(settings.value("geometry"), QByteArray)
    again = MainWindow(small_config(), autostart=False, settings=settings)
    qtbot.addWidget(again)
    try:
        assert again.height() == height == 700  # restored, not the default 950 (width: the screen's bound)
        assert again.statusBar().currentMessage() == ""
    finally:
        again.session.close()


# ---- hostile sweep files in the tab -----------------------------------------------------------


@pytest.fixture(params=sorted(VARIANTS))
def hostile(request, tmp_path: Path) -> tuple[Path, str]:
    make, words = VARIANTS[request.param]
    return write(tmp_path / "hostile.npz", make()), words


def test_open_shows_one_line_and_the_last_sweep_is_forgotten_at_the_next_start(hostile, qtbot, tmp_path) -> None:
    path, words = hostile
    settings = settings_file(tmp_path, {})
    panel = SweepPanel(tmp_path / "sweeps", settings)
    qtbot.addWidget(panel)
    assert not panel.open_file(path)
    text = panel.message.text()
    assert text.startswith("Not opened:") and words in text and "\n" not in text
    assert panel.results is None and settings.value("sweep/last") is None  # never remembered

    settings.setValue("sweep/last", str(path))  # as an older gradviz, which remembered it, left it
    started = time.perf_counter()
    again = SweepPanel(tmp_path / "sweeps", settings)
    qtbot.addWidget(again)
    assert time.perf_counter() - started < 5
    assert again.results is None and again.startup_note.startswith("Last sweep forgotten:")
    assert words in again.startup_note and settings.value("sweep/last") is None


def test_the_app_starts_with_a_hostile_last_sweep_and_says_it_once(make_window, tmp_path) -> None:
    make, _ = VARIANTS["steps over 2^31"]
    path = write(tmp_path / "big.npz", make())
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("sweep/last", str(path))
    settings.sync()
    window = make_window()
    said = window.statusBar().currentMessage()
    assert "Last sweep forgotten:" in said and "steps must be between 1 and 1,000,000" in said
    assert window.sweep.results is None and window.settings.value("sweep/last") is None


def test_a_grid_too_large_is_refused_in_one_line_without_blocking(qtbot, tmp_path) -> None:
    panel = SweepPanel(tmp_path / "sweeps", settings_file(tmp_path, {}))
    qtbot.addWidget(panel)
    panel.lengths.setText(",".join(str(t) for t in range(10, 40)))  # 2 models x 30 lengths x 1000 seeds
    panel.seeds.setValue(1000)
    started = time.perf_counter()
    assert not panel.start()
    assert time.perf_counter() - started < 2
    assert "the grid has 60,000 runs" in panel.message.text() and "at most 10,000" in panel.message.text()
    assert not (tmp_path / "sweeps").exists()


def test_the_spin_boxes_hold_the_files_bounds(qtbot, tmp_path) -> None:
    from gradviz.sweep.grid import MAX_JOBS, MAX_SEEDS, MAX_STEPS

    panel = SweepPanel(tmp_path / "sweeps", settings_file(tmp_path, {}))
    qtbot.addWidget(panel)
    assert (panel.steps.maximum(), panel.seeds.maximum(), panel.jobs.maximum()) == (MAX_STEPS, MAX_SEEDS, MAX_JOBS)


def test_start_refuses_a_sweep_file_another_process_is_writing(qtbot, tmp_path) -> None:
    from gradviz.sweep.grid import SweepConfig
    from gradviz.sweep.results import SweepResults

    config = SweepConfig(models=("rnn",), seq_lens=(4,), seeds=2, steps=5, hidden=4, batch=8)
    path = SweepResults(config).save(tmp_path / "s.npz")
    panel = SweepPanel(tmp_path / "sweeps", settings_file(tmp_path, {}))
    qtbot.addWidget(panel)
    assert panel.open_file(path)
    with FileLock(path):  # as a `gradviz sweep --out s.npz --resume` would hold it
        assert not panel.start()
    assert "is being written by process" in panel.message.text() and not panel.running


def test_a_legal_grid_of_10000_runs_starts_without_blocking_the_window(qtbot, tmp_path) -> None:
    """Each run's config is built as it starts, not all 10,000 on the window's thread (31.8 s for
    60,000 before). The fork server is started first, as the window's trainer has started it:
    its own start (torch's import) is another matter."""
    from gradviz.forkserver import context

    warm = context().Process(target=time.sleep, args=(0,))
    warm.start()
    warm.join()
    panel = SweepPanel(tmp_path / "sweeps", settings_file(tmp_path, {}))
    qtbot.addWidget(panel)
    for kind, check in panel.model_checks.items():
        check.setChecked(kind == "rnn")
    panel.lengths.setText(",".join(str(t) for t in range(10, 20)))
    panel.seeds.setValue(1000)
    panel.jobs.setValue(1)
    panel.steps.setValue(5)
    try:
        started = time.perf_counter()
        assert panel.start(), panel.message.text()
        elapsed = time.perf_counter() - started
        assert panel.results.done.size == 10_000 and len(panel.pool._waiting) == 9_999
        assert elapsed < 4, f"Start held the window {elapsed:.1f} s"
    finally:
        panel.stop()
    assert not panel.running and panel.lock is None


def test_start_on_a_read_only_folder_is_one_line_and_starts_nothing(qtbot, tmp_path, monkeypatch) -> None:
    import errno

    from gradviz.io import atomic

    def read_only(directory, name):
        raise OSError(errno.EROFS, "Read-only file system")

    panel = SweepPanel(tmp_path / "sweeps", settings_file(tmp_path, {}))
    qtbot.addWidget(panel)
    monkeypatch.setattr(atomic, "_create_temp", read_only)
    assert not panel.start()
    assert "Read-only file system" in panel.message.text() and not panel.running and panel.lock is None
    assert list((tmp_path / "sweeps").iterdir()) == []
