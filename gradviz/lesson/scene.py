"""A scene and a lesson as data, and their validation from a parsed TOML or JSON document.

Every mistake in a lesson file is one line that names the scene and the field:

    lesson my.toml: scene 3 ("Exploding gradients"): run_to: expected a whole number >= 0, got 'x'

A scene's run is a preset with flat settings over it (the keys of ``gradviz train --help``,
checked by config.with_overrides); ``facts`` maps the start of each sentence the scene says
(caption, desk text, answer) to the name of the check that proves it: ``preset:NAME:START`` is
the preset's own tested sentence starting so, ``lesson:NAME`` a check of the lesson's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gradviz.config import ConfigError, RunConfig, clip, show, with_overrides
from gradviz.presets import load_preset, preset_names

THIRD_PLOTS = ("history", "gates", "gate_means", "diagnostics")  # gui/plots/rows.py EXTRA_VIEWS
VIEWS = ("training", "sweep", "words")
MAX_TEXT = 2000  # characters in one text field: a caption is a sentence or two


class LessonError(ConfigError):
    """A lesson file that cannot be used: one line naming the file, scene and field."""


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after . ; ! ? before a capital), as the preset tests split."""
    return [s for s in re.split(r"(?<=[.;!?])\s+(?=[A-Z])", text.strip()) if s]


@dataclass(frozen=True)
class Scene:
    """One step of a lesson: what runs, what is shown, and what is said about it."""

    title: str
    caption: str  # 1-2 sentences, presentation-size text
    preset: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # flat overrides over the preset
    view: str = "training"  # training plots, the trainability map (sweep) or a review's words
    third_plot: str = "history"  # under the gradient profile and the loss
    highlight: str = "gradient"  # loss, gradient, or the third plot: outlined on screen
    run_to: int = 0  # train to this step and pause (0: one step, the gradient at initialisation)
    backward: bool = False  # then play the backward pass (B)
    sweep: str | None = None  # a sweep file (.npz) for the trainability map, beside the lesson
    desk: str = ""  # the longer text for self-study
    question: str = ""  # to the room, revealed on the next press
    answer: str = ""
    try_it: str = ""  # a suggestion for a student at the desk
    facts: dict[str, str] = field(default_factory=dict)  # sentence start -> check name

    def config(self) -> RunConfig:
        """The scene's run: its preset (or the defaults) with its settings over it."""
        base = load_preset(self.preset).config if self.preset else RunConfig()
        return with_overrides(base, self.settings) if self.settings else base

    def said(self) -> list[str]:
        """Every sentence the scene shows (caption, desk text, answer): each is a claim."""
        return sentences(self.caption) + sentences(self.desk) + sentences(self.answer)

    @property
    def steps(self) -> int:
        """The steps trained before the scene is as it should look (at least the one step shown)."""
        return max(self.run_to, 1)


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    scenes: tuple[Scene, ...]
    source: str  # the file it came from (for messages)
    folder: Any = None  # where files it names (sweeps) are: a Path or a Traversable


# ---- validation ---------------------------------------------------------------------------

_TEXT = ("title", "caption", "desk", "question", "answer", "try_it")
_FIELDS = {"title": str, "caption": str, "preset": str, "settings": dict, "view": str, "third_plot": str,
           "highlight": str, "run_to": int, "backward": bool, "sweep": str, "desk": str, "question": str,
           "answer": str, "try_it": str, "facts": dict}
_WANTED = {str: "text", dict: "a table", int: "a whole number >= 0", bool: "true or false"}


def parse_lesson(data: Any, name: str, source: str, folder: Any = None) -> Lesson:
    """The lesson in ``data`` (a parsed file); LessonError, one line, for anything wrong."""
    where = f"lesson {source}"
    if not isinstance(data, dict):
        raise LessonError(f"{where}: expected a table with 'title' and [[scene]] entries")
    unknown = set(data) - {"title", "scene"}
    if unknown:
        raise LessonError(f"{where}: unknown key {clip(sorted(unknown)[0])!r}; a lesson has 'title' and [[scene]]")
    title = data.get("title", name)
    if not isinstance(title, str) or not title.strip():
        raise LessonError(f"{where}: title: expected text")
    raw = data.get("scene")
    if not isinstance(raw, list) or not raw:
        raise LessonError(f"{where}: no scenes: add [[scene]] entries (a list 'scene' in JSON)")
    scenes = tuple(_scene(entry, f"{where}: scene {number}", folder) for number, entry in enumerate(raw, start=1))
    return Lesson(name, title.strip(), scenes, source, folder)


def _scene(entry: Any, where: str, folder: Any) -> Scene:
    if not isinstance(entry, dict):
        raise LessonError(f"{where}: expected a table of fields")
    title = entry.get("title")
    if isinstance(title, str) and title.strip():
        where += f" ({clip(title.strip(), 40)!r})"
    for key, value in entry.items():
        wanted = _FIELDS.get(key)
        if wanted is None:
            raise LessonError(f"{where}: unknown field {clip(key)!r}; known: {', '.join(_FIELDS)}")
        # bool is an int in Python: true is no step count, and 1 is no yes/no.
        if not isinstance(value, wanted) or (wanted is int and (isinstance(value, bool) or value < 0)):
            raise LessonError(f"{where}: {key}: expected {_WANTED[wanted]}, got {show(value, 40)}")
        if key in _TEXT and len(value) > MAX_TEXT:
            raise LessonError(f"{where}: {key}: over {MAX_TEXT} characters")
    for key in ("title", "caption"):
        if not str(entry.get(key, "")).strip():
            raise LessonError(f"{where}: {key}: missing (every scene needs a title and a caption)")
    scene = Scene(**{key: value.strip() if isinstance(value, str) else value for key, value in entry.items()})
    _check_choices(scene, where)
    if scene.preset is not None and scene.preset not in preset_names():
        raise LessonError(f"{where}: preset: unknown preset {clip(scene.preset)!r}; "
                          f"choose one of {', '.join(preset_names())}")
    try:
        scene.config()
    except ConfigError as exc:
        raise LessonError(f"{where}: settings: {exc}") from None
    if scene.sweep is not None:
        path = folder / scene.sweep if folder is not None else None
        if path is None or not path.is_file():
            raise LessonError(f"{where}: sweep: no file {clip(scene.sweep)!r} beside the lesson")
    if bool(scene.question) != bool(scene.answer):
        raise LessonError(f"{where}: {'answer' if scene.question else 'question'}: a question needs its answer")
    _check_facts(scene, where)
    return scene


def _check_choices(scene: Scene, where: str) -> None:
    if scene.view not in VIEWS:
        raise LessonError(f"{where}: view: {clip(scene.view)!r} is not one of {', '.join(VIEWS)}")
    if scene.third_plot not in THIRD_PLOTS:
        raise LessonError(f"{where}: third_plot: {clip(scene.third_plot)!r} is not one of {', '.join(THIRD_PLOTS)}")
    shown = ("loss", "gradient", scene.third_plot)
    if scene.highlight not in shown:
        raise LessonError(f"{where}: highlight: {clip(scene.highlight)!r} is not a plot shown ({', '.join(shown)})")
    if scene.view == "sweep" and scene.sweep is None:
        raise LessonError(f"{where}: sweep: the trainability map (view = \"sweep\") needs a sweep file")


def _check_facts(scene: Scene, where: str) -> None:
    for start, check in scene.facts.items():
        if not isinstance(check, str) or not re.fullmatch(r"(preset:[a-z0-9_]+:.+|lesson:[a-z0-9_]+)", check):
            raise LessonError(f"{where}: facts: {clip(start)!r} = {show(check, 40)}: a check is "
                              "'preset:NAME:SENTENCE START' or 'lesson:NAME'")
        if not any(sentence.startswith(start) for sentence in scene.said()):
            raise LessonError(f"{where}: facts: no sentence of the caption, desk text or answer starts {clip(start)!r}")
        if check.startswith("preset:"):
            _, preset, opening = check.split(":", 2)
            if preset not in preset_names() or not any(
                    s.startswith(opening) for s in sentences(load_preset(preset).description)):
                raise LessonError(f"{where}: facts: {clip(check)!r} names no sentence of a preset's description")
