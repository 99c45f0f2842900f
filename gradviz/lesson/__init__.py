"""Lessons: the lecture as scenes a lecturer clicks through and a student walks alone.

A lesson is data (resources/lessons/*.toml, or a lecturer's own TOML or JSON file): a list of
scenes, each a run (a preset and settings), the plots to show, a caption, and the facts the
caption states, each named by the check that proves it against live numbers (tests/core/
test_lesson_facts.py). This package is Qt-free; the window's part is gradviz/gui/lesson/.
"""

from gradviz.lesson.library import find_lesson, lesson_names, load_lesson
from gradviz.lesson.scene import Lesson, LessonError, Scene

__all__ = ["Lesson", "LessonError", "Scene", "find_lesson", "lesson_names", "load_lesson"]
