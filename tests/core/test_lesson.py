"""Lesson files: the built-in lesson, ``gradviz lesson --list``, and a hostile file refused in one line.

The scenes' facts against live numbers: test_lesson_facts.py; the window's keys:
tests/gui/test_lesson_window.py.
"""

from __future__ import annotations

import json

import pytest

from gradviz.cli import main
from gradviz.lesson import LessonError, find_lesson, lesson_names

GOOD_SCENE = {"title": "One", "preset": "vanishing", "caption": "A caption."}


def _write(tmp_path, data, suffix=".json", raw: str | None = None):
    path = tmp_path / f"mine{suffix}"
    path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
    return path


def test_the_built_in_lesson_follows_the_lecture():
    assert "rnn" in lesson_names()
    lesson = find_lesson("rnn")
    assert len(lesson.scenes) >= 8
    titles = [scene.title for scene in lesson.scenes]
    # The deck's order (shared/LECTURE.md): the RNN, BPTT, the problem and its fixes, LSTM, GRU, a real task.
    order = ["vanilla RNN", "Back-propagation", "Exploding", "IRNN", "LSTM:", "GRU", "How far back", "sentiment"]
    positions = [next(i for i, title in enumerate(titles) if word in title) for word in order]
    assert positions == sorted(positions)
    for scene in lesson.scenes:
        assert 1 <= len(scene.caption.split(". ")) <= 3  # a sentence or two for the room
        scene.config()  # every run can be built
    assert any(scene.backward for scene in lesson.scenes) and any(scene.question for scene in lesson.scenes)
    assert any(scene.view == "sweep" for scene in lesson.scenes)


def test_list_prints_each_lesson_and_its_numbered_scenes(capsys):
    assert main(["lesson", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    lesson = find_lesson("rnn")
    assert lines[0] == f"rnn: {lesson.title}"
    assert lines[1 : 1 + len(lesson.scenes)] == [f"{n}. {s.title}" for n, s in enumerate(lesson.scenes, 1)]


def test_a_lecturers_own_file_in_toml_or_json(tmp_path, capsys):
    toml = _write(tmp_path, None, ".toml", raw='title = "Mine"\n[[scene]]\ntitle = "One"\npreset = "copy"\n'
                                                'caption = "A caption."\nsettings = { seq_len = 12 }\n')
    lesson = find_lesson(str(toml))
    assert lesson.title == "Mine" and lesson.scenes[0].config().task.seq_len == 12
    assert find_lesson(str(_write(tmp_path, {"scene": [GOOD_SCENE]}))).scenes[0].title == "One"


HOSTILE = [
    ({"scene": [{**GOOD_SCENE, "colour": "red"}]}, "scene 1 ('One'): unknown field 'colour'"),
    ({"scene": [{**GOOD_SCENE, "run_to": "800"}]}, "scene 1 ('One'): run_to: expected a whole number >= 0"),
    ({"scene": [{**GOOD_SCENE, "run_to": -1}]}, "run_to: expected a whole number >= 0"),
    ({"scene": [{**GOOD_SCENE, "run_to": True}]}, "run_to: expected a whole number >= 0"),
    ({"scene": [GOOD_SCENE, {**GOOD_SCENE, "title": "Two", "preset": "nope"}]}, "scene 2 ('Two'): preset: unknown"),
    ({"scene": [{**GOOD_SCENE, "settings": {"seq_len": "long"}}]}, "scene 1 ('One'): settings:"),
    ({"scene": [{**GOOD_SCENE, "settings": {"colour": 1}}]}, "settings: unknown setting"),
    ({"scene": [{**GOOD_SCENE, "highlight": "metric"}]}, "highlight: 'metric' is not a plot shown"),
    ({"scene": [{**GOOD_SCENE, "question": "Why?"}]}, "answer: a question needs its answer"),
    ({"scene": [{**GOOD_SCENE, "view": "sweep"}]}, "sweep: the trainability map"),
    ({"scene": [{**GOOD_SCENE, "sweep": "../../etc/passwd"}]}, "sweep: no file"),
    ({"scene": [{**GOOD_SCENE, "facts": {"A caption": "rm -rf"}}]}, "facts: 'A caption'"),
    ({"scene": [{**GOOD_SCENE, "facts": {"Nothing said": "lesson:x"}}]}, "no sentence of the caption"),
    ({"scene": [{**GOOD_SCENE, "facts": {"A caption": "preset:copy:No such"}}]}, "names no sentence"),
    ({"scene": [{"title": "One", "preset": "vanishing"}]}, "scene 1 ('One'): caption: missing"),
    ({"scene": [{**GOOD_SCENE, "caption": "x" * 5000}]}, "caption: over"),
    ({"scene": []}, "no scenes"),
    ({"scene": [GOOD_SCENE], "author": "me"}, "unknown key 'author'"),
    ([1, 2], "expected a table"),
    ({"scene": ["just text"]}, "scene 1: expected a table"),
]


@pytest.mark.parametrize(("data", "said"), HOSTILE)
def test_a_hostile_lesson_file_is_one_line_and_exit_2(tmp_path, capsys, data, said):
    path = _write(tmp_path, data)
    with pytest.raises(LessonError, match=None) as raised:
        find_lesson(str(path))
    assert said in str(raised.value) and "\n" not in str(raised.value)
    assert main(["lesson", "--list", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err and err.startswith("gradviz: error: lesson ")


@pytest.mark.parametrize(("raw", "suffix", "said"), [
    ("title = \n", ".toml", "not valid TOML"),
    ("{", ".json", "not valid JSON"),
    ("\xff\xfe", ".toml", None),
])
def test_a_broken_file_is_one_line(tmp_path, capsys, raw, suffix, said):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(raw.encode("latin-1") if said is None else raw.encode())
    assert main(["lesson", "--list", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and (said or "not UTF-8") in err


def test_the_window_refuses_a_bad_lesson_before_opening(tmp_path, capsys):
    path = _write(tmp_path, {"scene": [{**GOOD_SCENE, "run_to": "x"}]})
    shot = tmp_path / "shot.png"
    assert main(["--lesson", str(path), "--screenshot", str(shot)]) == 2
    assert "run_to" in capsys.readouterr().err and not shot.exists()
    assert main(["--lesson", "rnn", "--scene", "99", "--screenshot", str(shot)]) == 2
    assert "scenes 1 to" in capsys.readouterr().err
    assert main(["--lesson", "nope"]) == 2 and "unknown lesson 'nope'" in capsys.readouterr().err
    assert main(["--scene", "2"]) == 2 and "--scene goes with --lesson" in capsys.readouterr().err


def test_export_slides_writes_each_scene_as_png_and_text(tmp_path, capsys):
    lesson = _write(tmp_path, {"title": "Tiny", "scene": [
        {"title": "Only", "preset": "vanishing", "settings": {"seq_len": 5, "hidden": 4},
         "caption": "A caption.", "question": "Why?", "answer": "Because."}]})
    folder = tmp_path / "slides"
    assert main(["lesson", str(lesson), "--export-slides", str(folder), "--size", "1024x768"]) == 0
    png = (folder / "scene-01.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 1024
    assert (folder / "scene-01.txt").read_text() == "1. Only\n\nA caption.\n\nQuestion: Why?\n\nAnswer: Because.\n"
    assert main(["lesson", str(lesson), "--export-slides", str(folder)]) == 2  # no overwriting unasked
    assert "--force" in capsys.readouterr().err


def test_presentation_opens_the_lesson_or_the_app_in_presentation_mode(monkeypatch, capsys):
    """`gradviz --lesson rnn --presentation` was refused ("--presentation goes with
    --screenshot"), where a lecturer expects the lesson in presentation mode: the window opens
    in it, a lesson's or the plain app's; --theme and --layout still need --screenshot."""
    import gradviz.gui.app as app

    calls = []
    monkeypatch.setattr(app, "run_app", lambda *args, **kwargs: calls.append(kwargs) or 0)
    assert main(["--lesson", "rnn", "--presentation"]) == 0
    assert calls[-1]["presentation"] is True and calls[-1]["screenshot"] is None
    lesson, scene = calls[-1]["lesson"]
    assert lesson.name == "rnn" and scene == 1
    assert main(["--presentation", "--preset", "exploding"]) == 0
    assert calls[-1]["presentation"] is True and calls[-1]["lesson"] is None and calls[-1]["preset"] == "exploding"
    assert main(["--lesson", "rnn"]) == 0 and calls[-1]["presentation"] is False
    assert main(["--theme", "light"]) == 2 and "--theme go with --screenshot" in capsys.readouterr().err
    assert len(calls) == 3
