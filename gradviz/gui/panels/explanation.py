"""The explanation panel: the current models' equations in the lecture's notation, with the
live values that make them concrete (mean gates, the measured gain per step back, the bounds
beside it named as bounds, the half-life); and the description bar above the plots, which says
what the run on screen is."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QTextBrowser, QToolButton, QWidget

from gradviz.config import RunConfig
from gradviz.gui.equations import model_html
from gradviz.gui.plots.ranges import diverged
from gradviz.gui.theme import MODEL_COLOURS
from gradviz.session.description import describe_config  # noqa: F401 - its old home: callers import it from here
from gradviz.session.frames import Frame
from gradviz.session.headline import divergence_fact


class ExplanationPanel(QTextBrowser):
    """Equations with live values, one block per model (the text comes from ``gui/equations``)."""

    def __init__(self):
        super().__init__()
        self.setOpenExternalLinks(False)
        self.setMinimumHeight(160)
        self.html = ""

    def set_font_size(self, pixels: int) -> None:
        font = self.font()
        font.setPixelSize(pixels)
        self.setFont(font)
        self.document().setDefaultFont(font)
        self.html = ""  # re-render at the new size

    def show_frame(self, frame: Frame, config: RunConfig) -> None:
        """The equations of ``config``'s models with ``frame``'s numbers (its latest record)."""
        blocks = []
        gone = diverged(frame)
        for index, (view, setup) in enumerate(zip(frame.models, config.models, strict=False)):
            colour = MODEL_COLOURS[index % len(MODEL_COLOURS)]
            what = None
            if gone[index]:
                # Its last record holds weights and gradients already blown up: no story in them.
                losses, norms, steps = (frame.scalars.get(name) for name in ("loss", "grad_norm", "step"))
                what = "the model overflowed (inf/NaN)" if losses is None or not len(losses) else divergence_fact(
                    losses[:, index], norms[:, index] if norms is not None else None, steps)
            blocks.append(model_html(view, setup, colour, what))
        html = "<hr>".join(blocks)
        if html != self.html:  # re-setting identical HTML would reset the scroll position
            self.html = html
            self.setHtml(html)


class DescriptionBar(QWidget):
    """The story of the run above the plots: one line (elided) while collapsed, the whole text
    when opened (the button, or D). A quarter of a projector's height spent on prose is a
    quarter less for the plots, so presentation mode starts collapsed."""

    def __init__(self):
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        # The elided line is as wide as the label was: it must not hold the window that wide.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(1)
        layout.addWidget(self.label, 1)
        self.button = QToolButton()
        self.button.setAutoRaise(True)
        self.button.setToolTip("Show or hide the whole description (D)")
        self.button.clicked.connect(self.toggle)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        self.html = ""
        self.open = True
        self._render()

    def set_html(self, text: str) -> None:
        self.html = text
        self._render()

    def set_open(self, open_: bool) -> None:
        self.open = open_
        self._render()

    def toggle(self) -> None:
        self.set_open(not self.open)

    def text(self) -> str:
        """The whole description (rich text), open or not."""
        return self.html

    def plain_text(self) -> str:
        """The description without markup (what the collapsed line elides)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.html))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if not self.open:
            self._render()

    def _render(self) -> None:
        self.setVisible(bool(self.html))
        self.button.setText("less" if self.open else "more")
        self.label.setWordWrap(self.open)
        if self.open:
            self.label.setText(self.html)
            return
        room = max(self.label.width(), 50)
        line = QFontMetrics(self.label.font()).elidedText(self.plain_text(), Qt.TextElideMode.ElideRight, room)
        self.label.setText(html.escape(line))
