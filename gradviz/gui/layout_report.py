"""The layout report: where every plot and every piece of text is, from Qt's own geometry.

``gradviz --screenshot FILE --layout REPORT.json`` writes it at the moment of the screenshot, so
that tests (and anyone checking a projector) can prove that each plot is tall enough, that no
two texts overlap and that nothing leaves the window, at any screen size:

    {"size": [w, h], "presentation": bool,
     "plots": [{"kind": K, "model": LABEL, "rect": [x, y, w, h], "visible": bool, "short_labels": [S]}],
     "texts": [{"text": S, "rect": [x, y, w, h], "px": N}],
     "hidden": [S], "text_faults": [S]}

A plot's rect is its data area (the view box) in window pixels; its ``short_labels`` are the
axis titles it shows shortened or not at all for want of height ("step" for "training step").
``hidden`` names what should be seen and is not: a toolbar item pushed into the toolbar's
overflow menu, a settings row (down to the model's Initialisation) cut by the settings panel's
edge. ``text_faults`` names text that reads wrong: a header or description cut short, a line
that starts with "·", a line break inside a word or symbol ("|dL/⏎dh_t|"), a count with the
wrong number ("1 steps"), text closer to the window's side than ``EDGE_PX`` (``LECTURE_EDGE_PX``
in presentation), two column headers closer than ``HEADER_GAP_PX``. Texts are the headers, the
description, the banner, and in the plots the captions, axis labels, tick labels (from
pyqtgraph's ``AxisItem.generateDrawSpecs``, the labels it really draws), keys, colour-bar ticks,
titles and hover read-outs that are shown.
"""

from __future__ import annotations

import html
import re

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF
from PySide6.QtGui import QFont, QFontInfo, QImage, QPainter, QTextCursor, QTextDocument
from PySide6.QtWidgets import QGraphicsTextItem, QLabel

from gradviz.gui.panels.settings_layout import rows_out_of_view
from gradviz.gui.plots.column import ModelColumn
from gradviz.gui.plots.column_plots import PANEL_NAMES


def layout_report(window) -> dict:
    """The report for ``window`` (a MainWindow) as it is laid out now."""
    texts: list[dict] = []
    plots: list[dict] = []
    for widget in (window.description.label, window.banner):
        _label_text(window, widget, texts)
    board_shown = window.views.currentWidget() is window.board
    labels = [setup.label for setup in window.board.config.models] if window.board.config else []
    for column, label in zip(window.board.columns, labels, strict=False):
        _label_text(window, column.header, texts)
        for kind in PANEL_NAMES:
            panel = column.panels[kind]
            rect = _scene_rect(window, column, panel.plot.vb.sceneBoundingRect())
            visible = board_shown and column.isVisible() and panel.isVisible() and rect.height() > 0
            # A hidden plot keeps the geometry it last had: report no area rather than a stale one.
            plots.append({"kind": kind, "model": label, "rect": _list(rect) if visible else [0, 0, 0, 0],
                          "visible": bool(visible), "short_labels": _short_labels(column, panel) if visible else []})
            if visible:
                _panel_texts(window, column, panel, texts)
        if board_shown:
            for heatmap in (column.history_map, column.gate_map):
                if heatmap.panel.isVisible():
                    _axis_texts(window, column, heatmap.bar.axis, texts)
            for readout in column.readouts():
                if readout.text.isVisible() and readout.plot.isVisible():
                    _item_text(window, column, readout.text.textItem, readout.text.textItem.toPlainText(), texts)
    return {"size": [window.width(), window.height()], "presentation": bool(window.presentation),
            "plots": plots, "texts": texts, "hidden": _hidden(window), "text_faults": _text_faults(window, texts)}


EDGE_PX = 3  # the least room between text and the window's side at the desk
LECTURE_EDGE_PX = 8  # in presentation (some projectors cut the screen's outermost pixels)
HEADER_GAP_PX = 12  # between the text of two column headers side by side (the columns alone leave 6)
WRONG_NUMBER = re.compile(r"(?<![\d.])1 (steps|timesteps|runs|seeds|records|models|words)\b")


def _text_faults(window, texts: list[dict]) -> list[str]:
    faults = []
    edge = LECTURE_EDGE_PX if window.presentation else EDGE_PX
    labels = [window.description.label, window.banner]
    board_shown = window.views.currentWidget() is window.board
    headers = [column.header for column in window.board.columns] if board_shown else []
    extents = []
    for label in labels + headers:
        if not label.isVisible() or not label.text():
            continue
        lines, needed = label_lines(label)
        name = _plain(label.text())[:40]
        if needed > label.contentsRect().height() + 1:
            faults.append(f"cut short ({needed:.0f} px of text in {label.contentsRect().height()} px): {name!r}")
        faults += _line_faults(lines, name)
        left = label.mapTo(window, label.contentsRect().topLeft()).x()
        right = left + max((width for _, width in lines), default=0)
        extents.append((label, left, right))
        if left < edge or right > window.width() - edge:
            faults.append(f"closer than {edge} px to the window's side: {name!r} ({left:.0f}..{right:.0f})")
    shown_headers = sorted((left, right) for label, left, right in extents if label in headers)
    for (_, right), (left, _) in zip(shown_headers, shown_headers[1:], strict=False):
        if left - right < HEADER_GAP_PX:
            faults.append(f"two headers {left - right:.0f} px apart")
    if board_shown:
        for column in window.board.columns:
            for panel in column.panels.values():
                for item in (panel.caption, panel.key):
                    if item is not None and item.isVisible() and item.text:
                        faults += _line_faults(document_lines(item.item.document()), _plain(item.text)[:40])
    for entry in texts:
        if WRONG_NUMBER.search(entry["text"]):
            faults.append(f"a count with the wrong number: {entry['text']!r}")
    return faults


def _line_faults(lines: list[tuple[str, float]], name: str) -> list[str]:
    faults = []
    for index, (line, _) in enumerate(lines):
        if line.strip().startswith("·"):
            faults.append(f"a line starts with '·': {line.strip()[:30]!r} in {name!r}")
        if index + 1 < len(lines):
            following = lines[index + 1][0]
            if line and following and not line[-1].isspace() and not following[0].isspace():
                faults.append(f"a line break inside a word: {line[-8:]!r}⏎{following[:8]!r} in {name!r}")
    return faults


def label_lines(label: QLabel) -> tuple[list[tuple[str, float]], float]:
    """A wrapped rich-text label's lines as Qt lays them out (text, width), and their height."""
    shown = label.shown_text() if hasattr(label, "shown_text") else label.text()
    document = QTextDocument()
    document.setDefaultFont(label.font())
    document.setDocumentMargin(0)
    document.setHtml(shown)
    if label.wordWrap():
        document.setTextWidth(label.contentsRect().width())
    height = document.size().height()
    return document_lines(document), height


def document_lines(document: QTextDocument) -> list[tuple[str, float]]:
    """Every laid-out line of ``document``: its text (no-break spaces as spaces) and width."""
    document.size()  # lays it out
    lines = []
    block = document.begin()
    while block.isValid():
        layout, text = block.layout(), block.text().replace("\xa0", " ")
        for index in range(layout.lineCount()):
            line = layout.lineAt(index)
            shown = text[line.textStart():line.textStart() + line.textLength()]
            ink = line.cursorToX(line.textStart() + len(shown.rstrip()))  # trailing spaces are no ink
            lines.append((shown, (ink[0] if isinstance(ink, tuple) else ink) - line.x()))
        block = block.next()
    return lines


def _short_labels(column: ModelColumn, panel) -> list[str]:
    """The full titles of ``panel``'s y axis and colour bar that are shown shortened or not at all."""
    short = []
    left = panel.plot.getAxis("left")
    if panel.y_label and (not left.label.isVisible() or left.labelText != panel.y_label):
        short.append(panel.y_label)
    for heatmap in (column.history_map, column.gate_map):
        axis = heatmap.bar.axis
        if heatmap.panel is panel and (not axis.label.isVisible() or axis.labelText != heatmap.bar_label):
            short.append(heatmap.bar_label)
    return short


def _hidden(window) -> list[str]:
    """What should be seen and is not: toolbar items in the overflow menu, settings rows cut."""
    hidden = []
    toolbar = getattr(window, "toolbar", None)
    if toolbar is not None and toolbar.isVisible():
        for action in toolbar.actions():
            widget = toolbar.widgetForAction(action)
            if action.isVisible() and not action.isSeparator() and widget is not None and not widget.isVisible():
                name = widget.text() if hasattr(widget, "text") else widget.toolTip() or type(widget).__name__
                hidden.append(f"toolbar: {name.strip()}")
    dock = getattr(window, "settings_dock", None)
    if dock is not None and dock.isVisible():
        scroll = window.controls.parentWidget().parentWidget()  # the viewport's scroll area
        hidden += [f"settings: {row}" for row in rows_out_of_view(scroll, window.controls)]
    return hidden


def _panel_texts(window, column: ModelColumn, panel, texts: list[dict]) -> None:
    for item in (panel.caption, panel.key):
        if item is not None and item.isVisible() and item.text:
            _item_text(window, column, item.item, _plain(item.text), texts)
    for side in ("left", "bottom"):
        _axis_texts(window, column, panel.plot.getAxis(side), texts)
    if panel is column.gradient and column.cut_label.isVisible():  # "cut by truncation at k steps"
        label = column.cut_label.textItem
        _item_text(window, column, label, label.toPlainText(), texts)


def _axis_texts(window, column: ModelColumn, axis: pg.AxisItem, texts: list[dict]) -> None:
    if not axis.isVisible():
        return
    if axis.label.isVisible() and axis.labelText:
        _item_text(window, column, axis.label, axis.labelText, texts)
    font = axis.style.get("tickFont") or QFont()
    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(font)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return
    for rect, _flags, text in specs[2]:
        scene = axis.mapRectToScene(QRectF(rect))
        texts.append({"text": str(text), "rect": _list(_scene_rect(window, column, scene)),
                      "px": _font_px(font)})


def _item_text(window, column: ModelColumn, item: QGraphicsTextItem, text: str, texts: list[dict]) -> None:
    rect = _scene_rect(window, column, item.mapRectToScene(item.boundingRect()))
    texts.append({"text": text, "rect": _list(rect), "px": _document_px(item)})


def _label_text(window, label: QLabel, texts: list[dict]) -> None:
    if not label.isVisible() or not label.text():
        return
    origin = label.mapTo(window, QPoint(0, 0))
    rect = QRect(origin, label.size())
    texts.append({"text": _plain(label.text()), "rect": _list(rect), "px": _font_px(label.font())})


def _scene_rect(window, column: ModelColumn, rect: QRectF) -> QRect:
    """A scene rectangle of ``column``'s plots in window pixels."""
    view = column.graphics
    polygon = view.mapFromScene(rect)
    local = polygon.boundingRect()
    origin = view.viewport().mapTo(window, QPoint(0, 0))
    return local.translated(origin)


def _document_px(item: QGraphicsTextItem) -> int:
    """The smallest font pixel size used in a text item's document (its html sets sizes)."""
    document = item.document()
    sizes = []
    block = document.begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.isValid() and fragment.text().strip():
                sizes.append(_format_px(fragment.charFormat().font(), item.font()))
            iterator += 1
        block = block.next()
    if not sizes:
        cursor = QTextCursor(document)
        sizes.append(_format_px(cursor.charFormat().font(), item.font()))
    return min(sizes)


def _format_px(font: QFont, fallback: QFont) -> int:
    if font.pixelSize() > 0:
        return font.pixelSize()
    if font.pointSizeF() > 0:
        return QFontInfo(font).pixelSize()
    return _font_px(fallback)


def _font_px(font: QFont) -> int:
    return font.pixelSize() if font.pixelSize() > 0 else QFontInfo(font).pixelSize()


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\xa0", " ").strip()


def _list(rect: QRect) -> list[int]:
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def overlapping(texts: list[dict], slack: int = 1) -> list[tuple[str, str]]:
    """Pairs of texts whose rectangles overlap by more than ``slack`` pixels each way."""
    pairs = []
    boxes = [(QRect(*entry["rect"]).adjusted(slack, slack, -slack, -slack), entry["text"]) for entry in texts]
    for index, (box, text) in enumerate(boxes):
        for other, other_text in boxes[index + 1:]:
            if box.intersects(other):
                pairs.append((text, other_text))
    return pairs

