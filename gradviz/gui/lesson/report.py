"""The lesson panel's texts in the layout report (gui/layout_report.py), so that a scene's
caption is held to the same rules as every other text: large enough, overlapping nothing."""

from __future__ import annotations

from gradviz.gui.layout_report import _label_text


def with_lesson(window, report: dict) -> dict:
    """``report`` with the lesson's texts added (unchanged for a window without a lesson), and
    the scene it shows."""
    controller = getattr(window, "lesson", None)
    if controller is None or not controller.active:
        return report
    for label in controller.panel.texts():
        _label_text(window, label, report["texts"])
    report["lesson"] = {"name": controller.lesson.name, "scene": controller.number,
                        "title": controller.scene.title}
    return report
