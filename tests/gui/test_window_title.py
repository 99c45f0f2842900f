"""The window's title follows the preset ("gradviz - <preset title>"), and an opened run keeps
its preset's name when the run file says which preset it came from, also once changed (issue
22 item 13): it is no "Custom run"."""

from __future__ import annotations

import numpy as np

from gradviz.io.runfile import load_run
from gradviz.presets import load_preset


def test_a_changed_preset_run_saved_and_opened_is_still_named_after_its_preset(qtbot, make_window, tmp_path):
    copy = load_preset("copy")
    window = make_window()
    window.load_preset("copy")
    assert window.windowTitle() == f"gradviz - {copy.title}"
    qtbot.waitUntil(lambda: window.session.active == copy.config, timeout=60000)
    window.session.pause()
    window.controls.forms[0].hidden.setValue(20)
    window.reset()
    qtbot.waitUntil(lambda: window.session.active.models[0].model.hidden == 20, timeout=60000)
    assert window.windowTitle() == f"gradviz - {copy.title}, changed"
    path = tmp_path / "changed.npz"
    window.session.save(path, force=True)
    qtbot.waitUntil(lambda: window.session.run_path == path, timeout=30000)
    assert str(load_run(path).arrays["preset"]) == "copy"  # the file says which preset it came from

    other = make_window()
    assert other.windowTitle() == "gradviz - custom run"
    assert other.open_run(path)
    qtbot.waitUntil(lambda: other.session.active is not None and other.session.active.models[0].model.hidden == 20,
                    timeout=60000)
    assert other.preset.name == "copy" and other.windowTitle() == f"gradviz - {copy.title}, changed"
    assert other.description.text().startswith(f"<b>{copy.title}, changed</b>")
    assert other.preset_box.currentData() == "copy"


def test_a_file_naming_no_preset_of_ours_opens_as_a_custom_run(qtbot, make_window, tmp_path):
    window = make_window()
    path = tmp_path / "run.npz"
    window.session.save(path, force=True)
    qtbot.waitUntil(lambda: window.session.run_path == path, timeout=30000)
    arrays = dict(np.load(path))
    assert "preset" not in arrays  # a custom run's file names none
    arrays["preset"] = np.array("no-such-preset")
    np.savez_compressed(tmp_path / "named.npz", **arrays)
    other = make_window()
    assert other.open_run(tmp_path / "named.npz")
    assert other.preset is None and other.windowTitle() == "gradviz - custom run"
