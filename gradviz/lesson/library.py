"""Where lessons come from: the built-in ones in resources/lessons/, or a lecturer's own file.

``--lesson rnn`` names a built-in lesson; anything with a path separator or a .toml / .json
ending is a file. A file that cannot be read or parsed is one line (LessonError), like any
other mistake in it.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from gradviz.assets import resources
from gradviz.config import clip
from gradviz.lesson.scene import Lesson, LessonError, parse_lesson

LESSON_ORDER = ("rnn",)  # the lecture's own lesson first
MAX_FILE_BYTES = 1_000_000  # a lesson is text: a bigger file is not one


def lesson_dir():
    """The folder of built-in lessons (inside the installed package, or resources/ in a checkout)."""
    return resources() / "lessons"


def lesson_names() -> list[str]:
    folder = lesson_dir()
    found = {entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")} \
        if folder.is_dir() else set()
    return [name for name in LESSON_ORDER if name in found] + sorted(found - set(LESSON_ORDER))


def _is_path(text: str) -> bool:
    return any(c in text for c in "/\\") or text.endswith((".toml", ".json"))


def find_lesson(name_or_path: str) -> Lesson:
    """A built-in lesson by name, or the lesson in a file; LessonError (one line) otherwise."""
    if not _is_path(name_or_path):
        if name_or_path not in lesson_names():
            raise LessonError(f"unknown lesson {clip(name_or_path)!r}; choose one of {', '.join(lesson_names())} "
                              "or give a .toml or .json file")
        return load_lesson(lesson_dir() / f"{name_or_path}.toml", name_or_path, name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        raise LessonError(f"lesson {clip(name_or_path)}: no such file")
    return load_lesson(path, path.stem, str(path))


def load_lesson(path, name: str, source: str) -> Lesson:
    """Read and validate the lesson file at ``path`` (a Path or a Traversable)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LessonError(f"lesson {source}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise LessonError(f"lesson {source}: {len(raw)} bytes; a lesson file is text, under {MAX_FILE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LessonError(f"lesson {source}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text) if str(source).endswith(".json") else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise LessonError(f"lesson {source}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"lesson {source}: not valid TOML: {clip(str(exc))}") from None
    except RecursionError:
        raise LessonError(f"lesson {source}: nested too deeply") from None
    return parse_lesson(data, name, source, path.parent if hasattr(path, "parent") else lesson_dir())
