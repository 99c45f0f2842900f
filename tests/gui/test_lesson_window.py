"""The lesson in the window: a room's keys (a clicker's included), the desk's extras, the layout.

Scenes here are small runs (T = 6, H = 4) so that each one builds in a moment; the built-in
lesson's own scenes are rendered by tests/core/test_lesson.py's screenshot test.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gradviz.gui.lesson import attach
from gradviz.gui.lesson.report import with_lesson
from gradviz.lesson import find_lesson
from gradviz.session.protocol import RUNNING
from tests.gui.test_layout import SCREENS, _problems, _report

LESSON = """
title = "A small lesson"

[[scene]]
title = "First"
preset = "vanishing"
settings = { seq_len = 6, hidden = 4 }
caption = "The first scene."
question = "Predict: what comes next?"
answer = "The second scene."
try_it = "Press Esc, then Space."
desk = "Longer text for the desk."

[[scene]]
title = "Second"
preset = "vanishing"
settings = { seq_len = 6, hidden = 4 }
run_to = 5
third_plot = "gates"
highlight = "loss"
caption = "The second scene trains five steps."

[[scene]]
title = "Third"
preset = "exploding"
settings = { seq_len = 6, hidden = 4 }
caption = "The third scene."

[[scene]]
title = "Fourth"
preset = "vanishing"
settings = { seq_len = 7, hidden = 4 }
caption = "The fourth scene."
"""


def open_lesson(qtbot, make_window, path, text: str):
    """A window on the lesson ``text`` (written to ``path``), its first scene ready."""
    path.write_text(text, encoding="utf-8")
    window = make_window()
    controller = attach(window, find_lesson(str(path)), 1)
    qtbot.waitUntil(lambda: controller.ready, timeout=60000)
    return window, controller


@pytest.fixture
def lesson_window(qtbot, make_window, tmp_path):
    return open_lesson(qtbot, make_window, tmp_path / "small.toml", LESSON)


def _press(qtbot, window, *keys) -> None:
    for key in keys:
        qtbot.keyClick(window, key)


def test_a_clicker_steps_through_the_scenes(qtbot, lesson_window):
    window, lesson = lesson_window
    assert lesson.panel.counter.text() == "1 / 4 · First"
    assert lesson.panel.question.isVisible() and not lesson.panel.answer.isVisible()
    _press(qtbot, window, Qt.Key.Key_PageDown)  # the question's answer first
    assert lesson.number == 1 and lesson.panel.answer.isVisible()
    _press(qtbot, window, Qt.Key.Key_PageDown)
    assert lesson.number == 2 and lesson.panel.counter.text() == "2 / 4 · Second"
    qtbot.waitUntil(lambda: lesson.ready, timeout=60000)  # trained to step 5, and paused
    window.session.poll()
    qtbot.waitUntil(lambda: window.session.trainer_state != RUNNING, timeout=10000)
    assert window.session.steps_done == 5  # exactly: the trainer pauses there, not the window's timer
    assert window.board.extra == "gates"
    _press(qtbot, window, Qt.Key.Key_Space)
    assert lesson.number == 3 and window.preset.name == "exploding"
    _press(qtbot, window, Qt.Key.Key_Right, Qt.Key.Key_Right)  # the last scene stays the last
    assert lesson.number == 4
    _press(qtbot, window, Qt.Key.Key_PageUp)
    assert lesson.number == 3
    _press(qtbot, window, Qt.Key.Key_Left)
    assert lesson.number == 2
    _press(qtbot, window, Qt.Key.Key_Home)
    assert lesson.number == 1 and not lesson.panel.answer.isVisible()
    _press(qtbot, window, Qt.Key.Key_4, Qt.Key.Key_Return)
    assert lesson.number == 4
    _press(qtbot, window, Qt.Key.Key_9, Qt.Key.Key_Return)  # no scene 9: nothing moves
    assert lesson.number == 4 and lesson.panel.counter.text() == "4 / 4 · Fourth"


def test_a_clickers_blank_key_trains_nothing(qtbot, lesson_window):
    window, lesson = lesson_window
    steps = window.session.steps_done
    for key in (Qt.Key.Key_B, Qt.Key.Key_Period):
        _press(qtbot, window, key)
        assert lesson.blank.isVisible()
        assert lesson.blank.geometry() == window.rect()
        _press(qtbot, window, Qt.Key.Key_PageDown)  # any key brings the scene back, and only that
        assert not lesson.blank.isVisible() and lesson.number == 1 and not lesson.revealed
    for key in (Qt.Key.Key_R, Qt.Key.Key_C, Qt.Key.Key_1, Qt.Key.Key_H, Qt.Key.Key_T):
        _press(qtbot, window, key)  # the window's shortcuts (reset, connectivity, preset 1...) do not fire
    QApplication.processEvents()
    qtbot.wait(300)
    window.session.poll()
    assert window.session.steps_done == steps and window.session.trainer_state != RUNNING
    assert window.connectivity is None and window.views.currentIndex() == 0 and lesson.number == 1


def test_esc_leaves_into_the_window_and_l_returns_to_the_scene(qtbot, lesson_window):
    window, lesson = lesson_window
    _press(qtbot, window, Qt.Key.Key_PageDown, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: lesson.ready, timeout=60000)
    _press(qtbot, window, Qt.Key.Key_Escape)
    assert not lesson.active and not lesson.panel.isVisible()
    assert window.session.shown == lesson.scene.config()  # the scene's run, to improvise on
    _press(qtbot, window, Qt.Key.Key_Space)  # now the window's own key: training
    qtbot.waitUntil(lambda: window.session.trainer_state == RUNNING, timeout=10000)
    window.session.pause()
    _press(qtbot, window, Qt.Key.Key_L)
    assert lesson.active and lesson.number == 2 and lesson.panel.isVisible()
    assert lesson.panel.counter.text() == "2 / 4 · Second"


def test_at_the_desk_the_answer_button_and_try_it(qtbot, lesson_window):
    window, lesson = lesson_window
    panel = lesson.panel
    assert panel.desk.isVisible() and panel.try_it.isVisible() and panel.answer_button.isVisible()
    qtbot.mouseClick(panel.answer_button, Qt.MouseButton.LeftButton)
    assert panel.answer.isVisible() and not panel.answer_button.isVisible()
    window.full_screen = False
    window.toggle_presentation()
    lesson.refresh_panel()
    assert not panel.desk.isVisible() and not panel.try_it.isVisible() and panel.caption.isVisible()
    assert panel.caption.fontInfo().pixelSize() == window.board.style.font_px  # the room's size


@pytest.mark.parametrize(("theme", "size"), [("dark", (1280, 800)), ("light", (1024, 768))])
def test_a_scene_in_presentation_is_readable(qtbot, lesson_window, theme, size):
    window, lesson = lesson_window
    report = _report(qtbot, window, size, presentation=True, theme=theme)
    lesson.refresh_panel()
    QApplication.processEvents()
    report = with_lesson(window, _report(qtbot, window, size, presentation=True, theme=theme))
    assert report["lesson"]["scene"] == 1
    captions = [t for t in report["texts"] if t["text"] == "The first scene."]
    assert len(captions) == 1 and captions[0]["px"] == window.board.style.font_px
    assert _problems(report) == []
    main, other = SCREENS[size]
    for plot in (p for p in report["plots"] if p["visible"]):
        assert plot["rect"][3] >= (main if plot["kind"] in ("gradient", "loss") else other), plot
    assert [t for t in report["texts"] if t["px"] * 50 < size[1]] == []


GATES_SCENE = """
title = "Gates"

[[scene]]
title = "The forget gate"
preset = "vanishing"
settings = { seq_len = 6, hidden = 4 }
third_plot = "gates"
highlight = "gates"
caption = "The gates."
"""


def test_the_plot_a_scene_highlights_keeps_its_place_at_1024_and_is_named_whole(qtbot, make_window, tmp_path):
    # At 1024x768 in presentation only two rows fit: the scene about the forget gate showed the
    # gradient and the loss and dropped its highlighted gates plot; and at 1280x800 the gate's
    # name in the x label ("timestep t · forget gate f_t") ran off the window.
    window, _ = open_lesson(qtbot, make_window, tmp_path / "gates.toml", GATES_SCENE)
    report = _report(qtbot, window, (1024, 768), presentation=True)
    shown = {plot["kind"] for plot in report["plots"] if plot["visible"]}
    assert {"gradient", "gates"} <= shown
    lstm = window.board.columns[1]
    assert lstm.gates.x_label == "timestep t"
    assert lstm.gate_map.bar_label == "forget gate f_t" and lstm.gate_map.bar_short == "f_t"
    _press(qtbot, window, Qt.Key.Key_Escape)  # the lecturer's own layout again: the loss before the third plot
    report = _report(qtbot, window, (1024, 768), presentation=True)
    assert {plot["kind"] for plot in report["plots"] if plot["visible"]} >= {"gradient", "loss"}
