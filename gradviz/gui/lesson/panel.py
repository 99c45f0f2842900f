"""The lesson's panel above the plots, and the black screen a clicker's B or "." asks for.

In presentation the panel is the scene's counter and title in small text ("4 / 10 · title"),
then its caption in the room's text size, and the question (with its answer once revealed).
At the desk it adds the longer text, a "Show answer" button and the "try it" suggestion.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gradviz.lesson.scene import Scene


class LessonPanel(QFrame):
    """What the scene says. ``show_scene`` fills it; ``set_font_px`` sizes it for the room."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(2)
        self.counter = QLabel()  # "4 / 10 · title": discreet, for the lecturer
        self.counter.setObjectName("lessonCounter")
        self.caption = self._label(layout)
        layout.insertWidget(0, self.counter)
        self.desk = self._label(layout)
        self.question = self._label(layout)
        row = QHBoxLayout()
        self.answer_button = QPushButton("Show answer")
        self.answer_button.setToolTip("The answer to the question (Space or PageDown in the lesson)")
        self.answer_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay the lesson's
        row.addWidget(self.answer_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.answer = self._label(layout)
        self.try_it = self._label(layout)
        self.scene: Scene | None = None
        self.revealed = False
        self.presentation = False

    @staticmethod
    def _label(layout: QVBoxLayout) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(label)
        return label

    def show_scene(self, scene: Scene, number: int, total: int, presentation: bool, revealed: bool) -> None:
        self.scene, self.revealed, self.presentation = scene, revealed, presentation
        self.counter.setText(f"{number} / {total} · {html.escape(scene.title)}")
        self.caption.setText(html.escape(scene.caption))
        self.desk.setText(html.escape(scene.desk))
        self.question.setText(f"<b>{html.escape(scene.question)}</b>")
        self.answer.setText(html.escape(scene.answer))
        self.try_it.setText(f"<i>Try it:</i> {html.escape(scene.try_it)}")
        desk = not presentation
        self.desk.setVisible(desk and bool(scene.desk))
        self.question.setVisible(bool(scene.question))
        self.answer_button.setVisible(desk and bool(scene.question) and not revealed)
        self.answer.setVisible(bool(scene.question) and revealed)
        self.try_it.setVisible(desk and bool(scene.try_it))

    def set_font_px(self, px: int, screen_height: int) -> None:
        """Every text at ``px`` (the room's size in presentation); the counter smaller and grey,
        but never under the readable floor of a 50th of the screen's height."""
        small = max(10, round(px * 0.8), -(-screen_height // 50))
        # Discreet but legible in both themes: the text colour two thirds of the way from the background.
        palette = QApplication.palette()
        text, ground = palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window)
        grey = QColor(*(round(ground_part + (text_part - ground_part) * 0.65) for text_part, ground_part in
                        zip(text.getRgb()[:3], ground.getRgb()[:3], strict=True)))
        self.setStyleSheet(f"#lessonPanel QLabel {{ font-size: {px}px; }} "
                           f"#lessonPanel QLabel#lessonCounter {{ font-size: {small}px; color: {grey.name()}; }}")

    def texts(self) -> list[QLabel]:
        """The labels on show (for the layout report)."""
        return [label for label in (self.counter, self.caption, self.desk, self.question, self.answer, self.try_it)
                if label.isVisible() and label.text()]


class BlankScreen(QWidget):
    """A black sheet over the whole window: what a clicker's "black screen" key asks for."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.setStyleSheet("background: black;")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.hide()

    def cover(self) -> None:
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
