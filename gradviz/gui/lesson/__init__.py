"""The lesson in the window: a controller (scenes, keys) and its panel (caption, question)."""

from gradviz.gui.lesson.controller import LessonController

__all__ = ["LessonController", "attach"]


def attach(window, lesson, number: int = 1) -> LessonController:
    """Run ``lesson`` in ``window`` from scene ``number``; the controller lives as long as the window."""
    window.lesson = LessonController(window, lesson, number)
    return window.lesson
