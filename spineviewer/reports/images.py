"""Key images of a report, rendered offscreen with their overlays (Qt's QImage and QPainter,
no window): the middle sagittal slice with the labelled vertebrae and each level's state, each
level's axial slice with its ROI, the radiograph with implants, vertebrae and Cobb lines.

The overlays are the study's annotations on that image (the AI's proposals and people's
marks; rejected ones are left out), drawn in their vocabulary colours; the image itself is
shown with its DICOM window (VOI) and MONOCHROME1 inverted, as the viewer shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spineviewer.ai.findings import Findings
from spineviewer.annotations import Annotation, Status, default_vocabulary
from spineviewer.annotations.shapes import Ellipse, Polyline, Segment, shape
from spineviewer.dicom import Frame, Stack, StackPixels, Study, to_display

__all__ = ["KeyImage", "render_key_images"]

#: Key images are drawn at least this many pixels tall.
MIN_HEIGHT = 420


@dataclass(frozen=True)
class KeyImage:
    name: str
    caption: str
    file: str
    sop_instance_uid: str
    width: int
    height: int


def _where(study: Study) -> dict[str, tuple[Stack, int]]:
    return {
        f.instance.sop_instance_uid: (stack, i)
        for series in study.series
        for stack in series.stacks
        for i, f in enumerate(stack.frames)
    }


def _grey(stack: Stack, index: int) -> tuple[np.ndarray, Frame]:
    frame = stack.frames[index]
    shown = to_display(StackPixels(stack).slice(index), frame)
    return (np.clip(shown, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), frame


def _render(
    grey: np.ndarray,
    marks: Sequence[Annotation],
    texts: Sequence[tuple[float, float, str, str]],
    path: Path,
) -> tuple[int, int]:
    """Draw ``marks`` and ``texts`` over ``grey`` into the PNG ``path``; its (width, height)."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF

    from spineviewer.reports.pdf import offscreen_application

    offscreen_application()
    rows, cols = grey.shape
    scale = max(1.0, MIN_HEIGHT / rows)
    data = np.ascontiguousarray(grey)
    image = QImage(data.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
    canvas = image.scaled(
        round(cols * scale), round(rows * scale), Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    ).convertToFormat(QImage.Format.Format_RGB32)  # fmt: skip
    vocabulary = default_vocabulary()
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setFont(QFont("DejaVu Sans", 8))

    def at(r: float, c: float) -> QPointF:
        return QPointF((c + 0.5) * scale, (r + 0.5) * scale)

    for mark in marks:
        color = QColor(vocabulary.color(mark.label) if mark.label else "#5ce1e6")
        pen = QPen(color, 1.6)
        if mark.status == Status.PROPOSED:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        pts = [at(r, c) for r, c in mark.points]
        spec = shape(mark.kind)
        for item in spec.primitives(mark.points):  # plain outlines: decorations are skipped
            match item:
                case Polyline(points=points, closed=closed):
                    polygon = QPolygonF([at(r, c) for r, c in points])
                    (painter.drawPolygon if closed else painter.drawPolyline)(polygon)
                case Ellipse(corners=(a, b)):
                    painter.drawEllipse(QRectF(at(*a), at(*b)).normalized())
                case Segment(a=a, b=b):
                    painter.drawLine(at(*a), at(*b))
        label = mark.text if spec.named_by_text else mark.label
        if label:
            right = max(p.x() for p in pts) + 4
            top = min(p.y() for p in pts) + 9
            painter.drawText(QPointF(right, top), label)
    for r, c, text, colour in texts:
        painter.setPen(QColor(colour))
        point = at(r, c)
        painter.drawText(QPointF(point.x() - 110, point.y() + 4), text)
    painter.end()
    partial = path.with_name(f".{path.name}.partial.png")
    if not canvas.save(str(partial)):  # PNG, from the suffix
        raise OSError(f"{path}: the key image could not be written")
    partial.replace(path)
    return canvas.width(), canvas.height()


STATE_COLOURS = {"normal": "#90be6d", "bulge": "#f9c74f", "herniation": "#f94144"}


def render_key_images(
    study: Study, findings: Findings, annotations: Sequence[Annotation], out_dir: Path
) -> list[KeyImage]:
    """Write the key images of ``study`` into ``out_dir`` (PNG) and describe them."""
    where = _where(study)
    shown = [a for a in annotations if a.status != Status.REJECTED]
    out_dir.mkdir(parents=True, exist_ok=True)
    images: list[KeyImage] = []

    def key(
        name: str, caption: str, uid: str, texts: Sequence[tuple[float, float, str, str]] = ()
    ) -> None:
        if uid not in where:
            return
        stack, index = where[uid]
        grey, _ = _grey(stack, index)
        marks = [a for a in shown if a.image.sop_instance_uid == uid]
        size = _render(grey, marks, texts, out_dir / f"{name}.png")
        images.append(KeyImage(name, caption, f"{out_dir.name}/{name}.png", uid, *size))

    mr = [v for v in findings.vertebrae if not v.corners_px]
    if mr:
        uid = mr[0].sop_instance_uid
        stack, index = where.get(uid, (None, 0))
        plane = stack.plane_of(index) if stack is not None else None
        texts = []
        for d in findings.discs:
            if plane is not None:
                r, c = (float(v) for v in plane.to_pixel(d.centre_mm))
                colour = STATE_COLOURS.get(d.state, "#e6e1c5")
                texts.append((r, c, f"{d.level} {d.state}", colour))
        key("sagittal", "Middle sagittal slice: vertebrae and disc states", uid, texts)
    for d in findings.discs:
        if d.axial_instances:
            key(
                f"axial-{d.level}",
                f"{d.level}: axial slice with the disc ROI",
                d.axial_instances[0],
            )
    xr = [v for v in findings.vertebrae if v.corners_px]
    radiograph = (
        xr[0].sop_instance_uid
        if xr
        else (findings.implants[0].sop_instance_uid if findings.implants else "")
    )
    if radiograph:
        key("radiograph", "Radiograph: vertebrae, implants and Cobb angle", radiograph)
    return images
