"""Application icons: monochrome line SVGs from ``resources/icons``.

``icon("zoom")`` returns a :class:`QIcon` for ``resources/icons/zoom.svg``. QIcon renders SVG
through the QtSvg image plugin at whatever size a toolbar or menu asks for, so one file serves
every size and screen density.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from spineviewer.resources import resource_path

#: Every icon the application ships, by name (the file is ``resources/icons/NAME.svg``).
ICON_NAMES: tuple[str, ...] = (
    "spineviewer",
    "open-folder",
    "open-file",
    "recent",
    "layout-1x1",
    "layout-1x2",
    "layout-1x3",
    "layout-2x2",
    "window-level",
    "zoom",
    "pan",
    "fit",
    "reset",
    "invert",
    "rotate-cw",
    "rotate-ccw",
    "flip-h",
    "flip-v",
    "cine",
    "cine-stop",
    "crossref",
    "corner-text",
    "phi",
    "shortcuts",
    "about",
    "warning",
    "select",
    "rectangle",
    "ellipse",
    "polygon",
    "freehand",
    "point",
    "line",
    "angle",
    "cobb",
    "arrow",
    "undo",
    "redo",
    "accept",
    "reject",
    "next",
    "delete",
    "annotations",
    "worklist",
    "analyze",
)


def icon_path(name: str) -> Path:
    """Path of the SVG file for icon ``name``.

    Raises
    ------
    FileNotFoundError
        If ``resources/icons/NAME.svg`` does not exist; the message names the file.
    """
    filename = f"{name}.svg"
    try:
        return resource_path("icons", filename)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"icon {name!r} not found: no file icons/{filename} in the resources folder ({exc})"
        ) from None


@cache
def icon(name: str) -> QIcon:
    """The icon called ``name`` (cached), e.g. ``icon("open-folder")``.

    Raises
    ------
    FileNotFoundError
        If there is no ``resources/icons/NAME.svg``.
    """
    return QIcon(str(icon_path(name)))
