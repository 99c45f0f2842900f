"""A model column's header: the model's name and its facts (loss, gain, half-life ...) in one
rich-text label that may wrap, but never inside a symbol such as |dL/dh_t| or W_hh."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLabel

# Between a header's facts: bound to the fact before it (a no-break space), a break allowed after
# it: a wrapped header's line ends with the dot and never starts with one.
FACT_SEPARATOR = "&nbsp;· "
HEADER_GAP_PX = 10  # right of a header's text: the next column's header begins 6 px further on
# A symbol (|dL/dh_t|, C_t, W_hh, dh_t/dh_{t-1}) is never broken across lines.
SYMBOL = re.compile(r"[^\s]*[|_/][^\s]*")

WORD_JOINER = "\u2060"  # no line break on either side; drawn as nothing


def unbroken_symbols(text: str) -> str:
    """``text`` (html, no tags) with every symbol kept on one line: Qt breaks a line after "/"
    and "-" and before "|" (and <nobr> only keeps spaces), so word joiners bind its characters."""
    return SYMBOL.sub(lambda match: WORD_JOINER.join(match.group(0)), text)


class HeaderLabel(QLabel):
    """A column's header: rich text whose symbols never break across lines. ``text()`` is the
    text as set; ``shown_text()`` the html Qt lays out (``set_header``: symbols bound together)."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self.set_header(text, text)

    def set_header(self, text: str, shown: str) -> None:
        self._source = text
        super().setText(shown)

    def text(self) -> str:
        return getattr(self, "_source", "")

    def shown_text(self) -> str:
        return super().text()
