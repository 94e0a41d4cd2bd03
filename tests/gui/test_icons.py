"""Every shipped icon is a valid SVG that renders to something visible, and icon() finds it."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from spineviewer.gui.icons import ICON_NAMES, icon, icon_path
from spineviewer.resources import resource_path

SIZE = 48
COLOURED = {"spineviewer", "warning"}
LINE_GREY = "#d8dee9"


def render(name: str, size: int = SIZE) -> QImage:
    renderer = QSvgRenderer(str(icon_path(name)))
    assert renderer.isValid(), f"{name}.svg is not valid SVG for QtSvg"
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def opaque_fraction(image: QImage) -> float:
    opaque = sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 64
    )
    return opaque / (image.width() * image.height())


def test_every_listed_icon_has_a_file_and_no_file_is_unlisted():
    folder = resource_path("icons")
    on_disk = {p.stem for p in folder.glob("*.svg")}
    assert set(ICON_NAMES) == on_disk
    assert len(ICON_NAMES) == len(set(ICON_NAMES))


@pytest.mark.parametrize("name", ICON_NAMES)
def test_icon_renders_valid_and_not_blank(qapp, tmp_path, name):
    image = render(name)
    fraction = opaque_fraction(image)
    assert 0.03 < fraction < 0.9, f"{name}: {fraction:.1%} of pixels drawn"
    out = tmp_path / f"{name}.png"
    assert image.save(str(out))
    assert out.stat().st_size > 100


@pytest.mark.parametrize("name", ICON_NAMES)
def test_icon_is_24px_viewbox_and_monochrome_line_art(name):
    text = icon_path(name).read_text(encoding="utf-8")
    assert 'viewBox="0 0 24 24"' in text
    colours = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", text)}
    if name not in COLOURED:
        assert colours == {LINE_GREY}, f"{name} uses {colours}"
        assert 'stroke-linecap="round"' in text
    if name == "warning":
        assert colours == {"#e5c07b"}


def test_icons_montage(qapp, tmp_path):
    cell = SIZE + 8
    montage = QImage(cell * len(ICON_NAMES), cell, QImage.Format.Format_ARGB32)
    montage.fill(QColor("#101317"))
    painter = QPainter(montage)
    for i, name in enumerate(ICON_NAMES):
        painter.drawImage(i * cell + 4, 4, render(name))
    painter.end()
    assert montage.save(str(tmp_path / "icons.png"))


def test_icon_returns_cached_non_null_qicon(qapp):
    zoom = icon("zoom")
    assert not zoom.isNull()
    assert not zoom.pixmap(32, 32).isNull()
    assert icon("zoom") is zoom


def test_missing_icon_names_the_file(qapp):
    with pytest.raises(FileNotFoundError, match=r"no-such-icon\.svg"):
        icon("no-such-icon")
