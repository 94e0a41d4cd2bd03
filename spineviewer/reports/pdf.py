"""The report as PDF: the HTML laid out by Qt's ``QTextDocument`` and printed by ``QPdfWriter``
(A4, offscreen: no window, no display, no browser). The only Qt in ``spineviewer.reports``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["offscreen_application", "render_pdf"]


def offscreen_application() -> object:
    """The running Qt application, else an offscreen one for this process (a QApplication, so
    a viewer window can still be opened later in the same process)."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    app = QCoreApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["spineviewer-report"])
    return app


def render_pdf(html: str, path: str | Path, title: str = "Spine report") -> Path:
    """Write ``html`` as an A4 PDF to ``path`` (atomically: a partial file renamed over it);
    images referenced by relative paths are read from ``path``'s folder."""
    from PySide6.QtCore import QMarginsF, QSizeF, QUrl
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

    offscreen_application()
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    writer = QPdfWriter(str(partial))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    # the document lays out in screen pixels (fonts in points at 96 dpi); at 96 dpi the A4
    # page has the same pixel size, so nothing is scaled down to a corner of the page
    writer.setResolution(96)
    writer.setTitle(title)
    writer.setCreator("SpineViewer")
    document = QTextDocument()
    document.setBaseUrl(QUrl.fromLocalFile(str(target.parent.resolve()) + "/"))
    document.setHtml(html)
    document.setPageSize(QSizeF(writer.width(), writer.height()))
    document.setDocumentMargin(0)
    document.print_(writer)
    del writer  # flushes and closes the file
    partial.replace(target)
    return target
