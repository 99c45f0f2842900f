"""Figures and data out of the window: PNG at 1x/2x/4x, SVG, CSV and NPZ, all written
atomically (a failed export leaves no half-written file and an existing one intact).

PNG at scale s renders into an s-times larger image through a scaled painter, so text and
lines are drawn at full resolution rather than upscaled. SVG renders into QSvgGenerator
with the widget's logical DPI as resolution (PITFALLS.md: the default resolution shifts the
axes against the curves; pyqtgraph's own SVGExporter fails with Qt 6.12).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from gradviz.gui.plots.base import Panel
from gradviz.io.atomic import atomic_write
from gradviz.io.runfile import save_arrays

FORMATS = ("png", "svg", "csv", "npz")
SCALES = (1, 2, 4)


class ExportError(RuntimeError):
    """An export that could not be written; the message says why."""


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ExportError(f"cannot export to '.{suffix}': use one of {', '.join('.' + f for f in FORMATS)}")
    return suffix


# ---- pictures -------------------------------------------------------------------------------


class _Picture:
    """Something to paint: a widget, or panels laid side by side."""

    def __init__(self, widget: QWidget | None = None, panels: list[Panel] | None = None):
        self.widget, self.panels = widget, panels or []

    def size(self) -> QSize:
        if self.widget is not None:
            return self.widget.size()
        width = sum(int(p.sceneBoundingRect().width()) for p in self.panels)
        height = max(int(p.sceneBoundingRect().height()) for p in self.panels)
        return QSize(width, height)

    def dpi(self) -> int:
        view = self.widget if self.widget is not None else self.panels[0].scene().views()[0]
        return view.logicalDpiX()

    def paint(self, painter: QPainter) -> None:
        if self.widget is not None:
            self.widget.render(painter, QPoint(0, 0))
            return
        x = 0.0
        for panel in self.panels:
            source = panel.sceneBoundingRect()
            target = QRectF(QPointF(x, 0.0), source.size())
            background = panel.scene().views()[0].backgroundBrush()
            painter.fillRect(target, background)
            panel.scene().render(painter, target, source)
            x += source.width()


def picture_image(picture: _Picture, scale: int = 1) -> QImage:
    size = picture.size()
    image = QImage(size * scale, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.scale(scale, scale)
    picture.paint(painter)
    painter.end()
    return image


def _png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("Qt could not encode the PNG")
    return bytes(buffer.data())


def _svg_bytes(picture: _Picture, title: str) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    size = picture.size()
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setResolution(picture.dpi())
    generator.setTitle(title)
    painter = QPainter(generator)
    picture.paint(painter)
    painter.end()
    return bytes(buffer.data())


def export_picture(
    picture: _Picture, path: str | Path, scale: int = 1, force: bool = True, title: str = "gradviz"
) -> Path:
    kind = format_of(path)
    if kind == "png":
        if scale not in SCALES:
            raise ExportError(f"scale must be one of {SCALES}, got {scale}")
        data = _png_bytes(picture_image(picture, scale))
    elif kind == "svg":
        data = _svg_bytes(picture, title)
    else:
        raise ExportError(f"a picture goes to .png or .svg, not .{kind}")
    return atomic_write(path, lambda stream: stream.write(data), force=force)


def export_widget(widget: QWidget, path: str | Path, scale: int = 1, force: bool = True) -> Path:
    return export_picture(_Picture(widget=widget), path, scale, force, title=widget.windowTitle() or "gradviz")


def export_panels(panels: list[Panel], path: str | Path, scale: int = 1, force: bool = True,
                  labels: list[str] | None = None) -> Path:
    """Panels side by side as a picture (.png/.svg), or the data they show (.csv/.npz)."""
    if not panels:
        raise ExportError("nothing to export: no plot has data yet")
    kind = format_of(path)
    if kind in ("png", "svg"):
        return export_picture(_Picture(panels=panels), path, scale, force, title=panels[0].name)
    labels = labels or [f"model{i}" for i in range(len(panels))]
    data = {f"{label}/{key}": np.asarray(value) for label, panel in zip(labels, panels, strict=True)
            for key, value in panel.data.items()}
    if not data:
        raise ExportError("nothing to export: the plot has no data yet (train a step first)")
    if kind == "npz":
        return save_arrays(path, data, force=force)
    text = panel_csv(data)
    return atomic_write(path, lambda stream: stream.write(text.encode("utf-8")), force=force)


def panel_csv(data: dict[str, np.ndarray]) -> str:
    """1-D arrays as columns (padded to the longest); 2-D arrays as their own blocks below."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = {k: v for k, v in data.items() if v.ndim == 1}
    if columns:
        writer.writerow(list(columns))
        rows = max(len(v) for v in columns.values())
        for i in range(rows):
            writer.writerow(["" if i >= len(v) else _cell(v[i]) for v in columns.values()])
    for key, matrix in data.items():
        if matrix.ndim == 2:
            writer.writerow([])
            writer.writerow([f"{key} ({matrix.shape[0]} rows x {matrix.shape[1]} columns)"])
            writer.writerows([[_cell(x) for x in row] for row in matrix])
    return out.getvalue()


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    return str(value)


def panel_image(panel: Panel, scale: int = 2) -> QImage:
    """One panel as an image (for the clipboard)."""
    return picture_image(_Picture(panels=[panel]), scale)
