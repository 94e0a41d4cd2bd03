"""Image export from the viewer: File > Export view, File > Export series / cine, Edit > Copy
view (Ctrl+Shift+C), File > Print view (Ctrl+P).

A view is the active viewport's scene rendered into an image at its on-screen size (or twice
it), never a grab of the screen: with its overlays (corner text, orientation letters, scale
bar, marks, cross-reference lines) or the image alone, PHI-free when asked (the corner text
names no patient). A series or cine loop is written in the background (progress and Cancel in
the status bar) through the Qt-free :mod:`spineviewer.viewing.image_export` with the viewport's
window, turns, flips and inversion: an H.264 MP4 or numbered PNGs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QImage, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGraphicsItem,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from spineviewer.gui.actions import make_action
from spineviewer.gui.shell import Shell
from spineviewer.gui.viewport import BACKGROUND, ImageViewport
from spineviewer.gui.workers import Cancelled, Job, Progress, Work
from spineviewer.viewing.image_export import ExportLook, render_frames
from spineviewer.viewing.image_writers import MAX_FPS, write_image, write_mp4, write_sequence

__all__ = [
    "ExportSeriesDialog",
    "ExportUi",
    "ExportViewDialog",
    "paint_on_printer",
    "qimage_array",
    "render_view",
    "series_work",
]

#: The export dialogs are wide enough to show a whole file path.
DIALOG_WIDTH = 620
#: Default file names take at most this many characters of the series' name.
NAME_LENGTH = 32


@contextmanager
def _shown_as(vp: ImageViewport, phi_free: bool) -> Iterator[None]:
    """The viewport painted PHI-free (or not) and without its active-viewport border colour."""
    saved = vp.phi_free, vp.active
    vp.phi_free, vp.active = phi_free, False
    try:
        yield
    finally:
        vp.phi_free, vp.active = saved


@contextmanager
def _image_alone(vp: ImageViewport) -> Iterator[None]:
    """Every scene item but the image (and the items that hold it) hidden for a moment."""
    holders: set[QGraphicsItem] = set()
    item: QGraphicsItem | None = vp.image
    while item is not None:
        holders.add(item)
        item = item.parentItem()
    hidden = [
        it
        for it in vp.scene().items()
        if it not in holders and it.isVisible() and (it.parentItem() in holders)
    ]
    for it in hidden:
        it.setVisible(False)
    try:
        yield
    finally:
        for it in hidden:
            it.setVisible(True)


def render_view(
    vp: ImageViewport, overlays: bool = True, phi_free: bool = False, scale: float = 1.0
) -> QImage:
    """The viewport as the user sees it, at its on-screen size times ``scale``: the scene and
    (``overlays``) everything painted over it; without them the image alone."""
    area = vp.viewport().rect()
    width, height = area.width(), area.height()
    image = QImage(round(width * scale), round(height * scale), QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(scale)  # the view paints in its own pixels, the image holds more
    image.fill(QColor(BACKGROUND))
    target = QRectF(0.0, 0.0, float(width), float(height))
    painter = QPainter(image)
    painter.setRenderHints(vp.renderHints())  # resampled as on screen
    try:
        with _shown_as(vp, phi_free):
            if overlays:
                vp.render(painter, target, area)
            else:
                with _image_alone(vp):
                    vp.scene().render(painter, target, vp.mapToScene(area).boundingRect())
    finally:
        painter.end()
    image.setDevicePixelRatio(1.0)
    return image


def qimage_array(image: QImage) -> np.ndarray:
    """An RGB uint8 copy (rows, cols, 3) of ``image``."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    rows, cols, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * rows)
    return data.reshape(rows, stride)[:, : cols * 3].reshape(rows, cols, 3).copy()


def paint_on_printer(image: QImage, printer: QPrinter) -> None:
    """``image`` on one page, as large as the page allows at its aspect ratio, centred."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(f"cannot print to {printer.outputFileName() or printer.printerName()}")
    try:
        page = QRectF(painter.viewport())
        size = image.size().toSizeF().scaled(page.size(), Qt.AspectRatioMode.KeepAspectRatio)
        left = page.left() + (page.width() - size.width()) / 2.0
        top = page.top() + (page.height() - size.height()) / 2.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(QRectF(left, top, size.width(), size.height()), image)
    finally:
        painter.end()


def _path_row(parent: QWidget, edit: QLineEdit, choose: object) -> QHBoxLayout:
    browse = QPushButton("Choose...", parent)
    browse.clicked.connect(choose)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.button(QDialogButtonBox.StandardButton.Save).setText("Export")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class ExportViewDialog(QDialog):
    """File > Export view: PNG or JPEG, overlays or not, PHI-free or not, 1x or 2x."""

    def __init__(self, parent: QWidget | None, path: Path, phi_free: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export view")
        self.setMinimumWidth(DIALOG_WIDTH)
        self.path = QLineEdit(str(path))
        self.format = QComboBox()
        self.format.addItems(["PNG", "JPEG"])
        self.format.currentTextChanged.connect(self._suffix)
        self.overlays = QCheckBox("Overlays (corner text, orientation, scale bar, marks)")
        self.overlays.setChecked(True)
        self.phi_free = QCheckBox("PHI-free (no patient name, ID, birth date, study date)")
        self.phi_free.setChecked(phi_free)
        self.scale = QComboBox()
        self.scale.addItems(["On-screen size", "Twice the on-screen size"])
        form = QFormLayout(self)
        form.addRow("File:", _path_row(self, self.path, self._choose))
        form.addRow("Format:", self.format)
        form.addRow("Size:", self.scale)
        form.addRow(self.overlays)
        form.addRow(self.phi_free)
        form.addRow(_buttons(self))

    def _suffix(self, name: str) -> None:
        suffix = ".jpg" if name == "JPEG" else ".png"
        self.path.setText(str(Path(self.path.text()).with_suffix(suffix)))

    def _choose(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export view", self.path.text(), "Images (*.png *.jpg *.jpeg)"
        )
        if chosen:
            self.path.setText(chosen)

    def write(self, vp: ImageViewport) -> Path:
        """The view rendered as chosen, written to the file (a temporary name until done)."""
        scale = 2.0 if self.scale.currentIndex() == 1 else 1.0
        image = render_view(vp, self.overlays.isChecked(), self.phi_free.isChecked(), scale)
        fmt = "jpeg" if self.format.currentText() == "JPEG" else "png"
        return write_image(Path(self.path.text()).expanduser(), qimage_array(image), fmt)


def series_work(vp: ImageViewport, look: ExportLook, path: Path, fmt: str, fps: float) -> Work:
    """The background job's work: every slice of the viewport's series, frame by frame."""
    source = vp.source
    if source is None:
        raise ValueError("no series in the viewport")

    def work(progress: Progress, cancelled: Cancelled) -> Path:
        frames = render_frames(source, look)
        if fmt == "mp4":
            write_mp4(path, frames, len(source), fps, progress, cancelled)
        else:
            write_sequence(path, frames, len(source), progress, cancelled)
        return path

    return work


class ExportSeriesDialog(QDialog):
    """File > Export series / cine: an MP4 cine loop or numbered PNGs of the viewport's series,
    with its window, turns and inversion."""

    def __init__(self, parent: QWidget | None, path: Path, fps: float, phi_free: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export series / cine")
        self.setMinimumWidth(DIALOG_WIDTH)
        self.path = QLineEdit(str(path))
        self.format = QComboBox()
        self.format.addItems(["MP4 video (H.264)", "PNG sequence (folder)"])
        self.format.currentIndexChanged.connect(self._suffix)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1.0, MAX_FPS)
        self.fps.setDecimals(0)
        self.fps.setSuffix(" frames/s")
        self.fps.setValue(fps)
        self.overlays = QCheckBox("Corner text burned in")
        self.phi_free = QCheckBox("PHI-free (no patient name, ID, birth date, study date)")
        self.phi_free.setChecked(phi_free)
        form = QFormLayout(self)
        form.addRow("Save as:", _path_row(self, self.path, self._choose))
        form.addRow("Format:", self.format)
        form.addRow("Speed:", self.fps)
        form.addRow(self.overlays)
        form.addRow(self.phi_free)
        form.addRow(_buttons(self))

    @property
    def fmt(self) -> str:
        return "mp4" if self.format.currentIndex() == 0 else "png-sequence"

    def _suffix(self) -> None:
        path = Path(self.path.text())
        self.path.setText(str(path.with_suffix(".mp4" if self.fmt == "mp4" else "")))
        self.fps.setEnabled(self.fmt == "mp4")

    def _choose(self) -> None:
        if self.fmt == "mp4":
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export cine", self.path.text(), "MP4 video (*.mp4)"
            )
        else:
            chosen = QFileDialog.getSaveFileName(self, "Export series to the new folder")[0]
        if chosen:
            self.path.setText(chosen)

    def work(self, vp: ImageViewport) -> Work:
        look = ExportLook(
            vp.voi_window, vp.transform_, vp.inverted, self.overlays.isChecked(),
            self.phi_free.isChecked(), dict(vp.study),
        )  # fmt: skip
        path = Path(self.path.text()).expanduser()
        return series_work(vp, look, path, self.fmt, self.fps.value())


class ExportUi:
    """The export, copy and print actions of the window (see the module text)."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        act = partial(make_action, shell.widget)
        self.export_view_action: QAction = act("Export &view...", self.export_view)
        self.export_series_action: QAction = act("Export &series / cine...", self.export_series)
        self.copy_view_action: QAction = act("&Copy view", self.copy_view, "Ctrl+Shift+C")
        self.print_view_action: QAction = act("&Print view...", self.print_view, "Ctrl+P")
        self.folder = Path.home()

    def _viewport(self) -> ImageViewport | None:
        vp = self.shell.grid.active
        if vp.source is None or vp.values is None:
            self.shell.show_status("Nothing to export: show a series in the active viewport.")
            return None
        return vp

    def _name(self, vp: ImageViewport, suffix: str, image: bool = True) -> Path:
        """A file name from the series' name (and the image number) in the last folder used."""
        source = vp.source
        name = re.sub(r"[^0-9A-Za-z]+", "-", source.name if source else "view").strip("-")
        if len(name) > NAME_LENGTH:  # whole words only
            name = name[: NAME_LENGTH + 1].rsplit("-", 1)[0]
        number = f"-{vp.index + 1}" if image else ""
        return self.folder / f"{name or 'view'}{number}{suffix}"

    def export_view(self, dialog: ExportViewDialog | None = None) -> Path | None:
        """File > Export view; a ``dialog`` given (already set up) is written without showing."""
        vp = self._viewport()
        if vp is None:
            return None
        if dialog is None:
            dialog = ExportViewDialog(self.shell.widget, self._name(vp, ".png"), vp.phi_free)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        try:
            path = dialog.write(vp)
        except (OSError, ValueError) as exc:
            self.shell.notify("Export view", f"The view was not written: {exc}")
            return None
        self.folder = path.parent
        self.shell.show_status(f"View written: {path}", 10000)
        return path

    def export_series(self, dialog: ExportSeriesDialog | None = None) -> Job | None:
        """File > Export series / cine, in the background; a ``dialog`` given is used as set."""
        vp = self._viewport()
        if vp is None:
            return None
        if dialog is None:
            path = self._name(vp, ".mp4", image=False)
            dialog = ExportSeriesDialog(self.shell.widget, path, vp.cine_fps, vp.phi_free)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        job = self.shell.start_job(Job("Exporting the series", dialog.work(vp), self.shell.widget))
        job.succeeded.connect(lambda path: self.shell.show_status(f"Series written: {path}", 10000))
        return job

    def copy_view(self) -> QImage | None:
        """Edit > Copy view: the active viewport with its overlays, as shown, on the clipboard."""
        vp = self._viewport()
        if vp is None:
            return None
        image = render_view(vp, overlays=True, phi_free=vp.phi_free)
        QGuiApplication.clipboard().setImage(image)
        self.shell.show_status("View copied to the clipboard")
        return image

    def print_view(self, printer: QPrinter | None = None) -> bool:
        """File > Print view: the view as shown on one page; a ``printer`` given (a PDF file
        in the tests) is printed to without the print dialog."""
        vp = self._viewport()
        if vp is None:
            return False
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            if QPrintDialog(printer, self.shell.widget).exec() != QDialog.DialogCode.Accepted:
                return False
        try:
            paint_on_printer(render_view(vp, True, vp.phi_free, 2.0), printer)
        except OSError as exc:
            self.shell.notify("Print view", str(exc))
            return False
        return True
