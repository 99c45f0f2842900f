"""Pictures of the window itself: the whole window as a PNG at 1x/2x/4x, and one plot as an
image for the clipboard, written atomically (a failed export leaves no half-written file).

Figures of the plots (PNG, SVG, PDF) and their data are drawn from the run's recorded data by
``gradviz.figures`` (matplotlib), the same code ``gradviz export`` uses; this module only
photographs widgets. PNG at scale s renders into an s-times larger image through a scaled
painter, so text and lines are drawn at full resolution rather than upscaled.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from gradviz.figures import FigureError
from gradviz.gui.plots.base import Panel
from gradviz.io.atomic import atomic_write

SCALES = (1, 2, 4)


class ExportError(FigureError):
    """An export that could not be written; the message says why."""


def _render(size: QSize, scale: int, paint) -> QImage:
    image = QImage(size * scale, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.scale(scale, scale)
    paint(painter)
    painter.end()
    return image


def widget_image(widget: QWidget, scale: int = 1) -> QImage:
    return _render(widget.size(), scale, lambda painter: widget.render(painter, QPoint(0, 0)))


def export_widget(widget: QWidget, path: str | Path, scale: int = 1, force: bool = True) -> Path:
    """The widget as it is on screen, to a PNG at ``scale`` times its size."""
    if Path(path).suffix.lower() != ".png":
        raise ExportError("the window is exported as a PNG picture; export the plots for an SVG or PDF figure")
    if scale not in SCALES:
        raise ExportError(f"scale must be one of {SCALES}, got {scale}")
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not widget_image(widget, scale).save(buffer, "PNG"):
        raise ExportError("Qt could not encode the PNG")
    data = bytes(buffer.data())
    return atomic_write(path, lambda stream: stream.write(data), force=force)


def panel_image(panel: Panel, scale: int = 2) -> QImage:
    """One plot as on screen, as an image (for the clipboard)."""
    source = panel.sceneBoundingRect()
    size = QSize(int(source.width()), int(source.height()))

    def paint(painter: QPainter) -> None:
        target = QRectF(QPointF(0.0, 0.0), source.size())
        painter.fillRect(target, panel.scene().views()[0].backgroundBrush())
        panel.scene().render(painter, target, source)

    return _render(size, scale, paint)
