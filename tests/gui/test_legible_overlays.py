"""Legible overlays (issue 21, defect 4 and deliverable 3).

On the spine X-ray phantom analysed by the shipped models, the implant labels no longer pile
up over L2/L3: identical ones merge ("Pedicle screw ×4, proposed 57-83%"), every label sits
where no other is, a selected box's statistics keep their place and push the next vertebra's
label aside, and a zoom that crowds them uses a column with leader lines. Text has a halo or a
backing box and a DPI-scaled minimum size; levels and disc states have their own colour-blind
safe schemes, each colour readable on the dark background and on bright bone; a state also
shows as line weight and marker shape; classes read as words.

Run as a script under ``xvfb-run`` it drives the real window on the X server and saves the
framebuffer (``import -window root``): ``test_the_labels_read_on_the_real_screen`` checks
those pixels, and the same run made ``docs/screenshots/xr-implants-legible.png``::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/gui/test_legible_overlays.py \\
        --out /tmp/legible  # then copy /tmp/legible/xr-implants.png
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from xvfb_script import MISSING, run_on_xvfb

from spineviewer.ai.display_names import CLASS_NAMES, display_name
from spineviewer.annotations import Annotation, ImageRef, Kind, Status
from spineviewer.annotations.level_names import column
from spineviewer.annotations.vocabulary import default_vocabulary
from spineviewer.gui import theme
from spineviewer.gui.annotate.drawing import (
    PlacedLabel,
    board_for,
    draw_halo_text,
    label_pixmap,
    paint_annotation,
    readable_lines,
)
from spineviewer.gui.disc_badges import MARKERS, paint_marker
from spineviewer.gui.overlay import OverlayPainter, reserved_rects
from spineviewer.viewing.corners import CornerText
from spineviewer.viewing.label_layout import Rect, overlapping_pairs

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "onnx_models"
SEED = 94_005  # a held-out seed of the AP models: four pedicle screws and two rods
NEEDS_MODELS = pytest.mark.skipif(
    not (MODELS / "vertebrae-ap.onnx").exists() or not (MODELS / "implants-ap.onnx").exists(),
    reason="the AP radiograph models are not shipped",
)
MERGED = re.compile(r"^(Pedicle screw|Spinal rod) ×\d+, proposed \d+(-\d+)?%$")
RAW = re.compile(r"pedicle_screw|interbody_cage|^rod\b")


# -- the X-ray with implants in the real window ----------------------------------------------


def analysed_xray(folder: Path):  # -> tuple[Path, Findings]
    from spineviewer.ai.analysis import analyse_path
    from spineviewer.phantom import generate, study_folder_name

    generate("spine-xr", folder, SEED)
    study = folder / study_folder_name("spine-xr", SEED)
    (findings,) = analyse_path(study, provider="cpu")
    return study, findings


@pytest.fixture(scope="module")
def xray(tmp_path_factory: pytest.TempPathFactory):
    if not (MODELS / "vertebrae-ap.onnx").exists():
        pytest.skip("the AP radiograph models are not shipped")
    return analysed_xray(tmp_path_factory.mktemp("xr"))


def show_xray(win, findings) -> None:
    """The findings as proposals on the X-ray (AI > Analyze study does the same)."""
    study = win.analysis.current_study()
    assert study is not None
    win.analysis.show_findings(study, findings)


def drawn(vp) -> list[PlacedLabel]:
    """The labels as the viewport's last frame drew them."""
    vp.viewport().repaint()
    return list(board_for(vp).placed)


def view_rect(vp) -> Rect:
    area = vp.viewport().rect()
    return Rect(0, 0, area.width(), area.height())


def assert_legible_layout(vp, labels: list[PlacedLabel]) -> None:
    rects = [label.rect for label in labels]
    pairs = overlapping_pairs(rects)
    assert pairs == [], [(labels[i].lines, labels[j].lines) for i, j in pairs]
    view = view_rect(vp)
    assert all(r.inside(view) for r in rects)
    reserved = reserved_rects(round(view.w), round(view.h), vp.corner_text(), vp.edge_letters(), 13)
    for label in labels:
        assert not any(label.rect.overlaps(r) for r in reserved), label.lines
        assert label.rect.h >= theme.MIN_TEXT_PX_AT_96_DPI * len(label.lines)


@NEEDS_MODELS
def test_xray_implant_labels_merge_and_never_overlap(qtbot, xray) -> None:
    from gui_helpers import open_window

    study, findings = xray
    classes = sorted(i.implant_class for i in findings.implants)
    assert classes.count("pedicle_screw") >= 2 and "rod" in classes  # a crowd to place
    win = open_window(qtbot, study)
    show_xray(win, findings)
    vp = win.grid.active
    labels = drawn(vp)
    texts = [line for label in labels for line in label.lines]
    assert not [t for t in texts if RAW.search(t)], texts  # no raw class names
    implants = [label for label in labels if MERGED.match(label.lines[0])]
    # one merged label per class of two or more boxes, standing for every box of it
    crowded = {c for c in classes if classes.count(c) >= 2}
    assert sorted(label.lines[0].split(" ×")[0] for label in implants) == sorted(
        display_name(c) for c in crowded
    )
    assert sum(label.members for label in implants) == sum(classes.count(c) for c in crowded)
    # a class of one box keeps its own label
    for lone in set(classes) - crowded:
        assert any(label.lines[0].startswith(display_name(lone)) for label in labels), lone
    screws = next(label for label in implants if label.lines[0].startswith("Pedicle"))
    scores = [i.score for i in findings.implants if i.implant_class == "pedicle_screw"]
    low, high = round(min(scores) * 100), round(max(scores) * 100)
    assert screws.lines[0] == f"Pedicle screw ×{len(scores)}, proposed {low}-{high}%"
    vertebrae = {v.label for v in findings.vertebrae}
    named = {label.lines[0].split(",")[0] for label in labels}
    assert vertebrae <= named
    assert_legible_layout(vp, labels)
    # each label is drawn where it was placed: a dark backing box, light text on it
    image = grab(vp)
    for label in labels:
        r = label.rect
        box = image[round(r.y) + 1 : round(r.bottom) - 1, round(r.x) + 1 : round(r.right) - 1]
        lum = box.mean(axis=2)
        assert np.median(lum) < 60, label.lines  # the backing, even over bright metal
        assert lum.max() > 150, label.lines  # the text


@NEEDS_MODELS
def test_a_selected_boxs_statistics_keep_the_next_label_off(qtbot, xray) -> None:
    from gui_helpers import open_window

    study, findings = xray
    win = open_window(qtbot, study)
    show_xray(win, findings)
    vp = win.grid.active
    controller = win.annotation.controller
    l2 = next(a for a in controller.document if a.label == "L2")
    controller.select(l2.uid)
    labels = drawn(vp)
    stats = next(label for label in labels if label.lines[0].startswith("L2"))
    assert len(stats.lines) >= 4 and any(line.startswith("Mean") for line in stats.lines)
    assert_legible_layout(vp, labels)
    # zoomed in on the implants the labels crowd: still none on another, all in view
    controller.select(None)
    row, col = 380.0, 200.0
    vp.zoom_by(2.5, QPointF(col, row))
    at = vp.image_to_widget(row, col)
    vp.pan_by(vp.viewport().width() / 2 - at.x(), vp.viewport().height() / 2 - at.y())
    assert_legible_layout(vp, drawn(vp))
    # a narrow viewport leaves no room beside the anatomy: a column with leader lines
    win.set_layout("1x3")
    qtbot.waitUntil(lambda: not win.busy(), timeout=30000)
    vp = win.grid.viewports[0]
    assert vp.source is not None
    vp.zoom_by(3.0, QPointF(col, row))
    at = vp.image_to_widget(row, col)
    vp.pan_by(vp.viewport().width() / 2 - at.x(), vp.viewport().height() / 2 - at.y())
    labels = drawn(vp)
    assert labels
    assert_legible_layout(vp, labels)


def grab(vp) -> np.ndarray:
    image = vp.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(height, stride)
    return raw[:, : width * 3].reshape(height, width, 3).astype(np.int16)


# -- text: size and halo -----------------------------------------------------------------------


def test_the_text_size_scales_with_the_screen_and_never_goes_below_the_minimum() -> None:
    assert theme.overlay_text_px(96) == theme.MIN_TEXT_PX_AT_96_DPI >= 13
    assert theme.overlay_text_px(72) == theme.MIN_TEXT_PX_AT_96_DPI  # never smaller
    assert theme.overlay_text_px(144) == round(1.5 * theme.MIN_TEXT_PX_AT_96_DPI)
    assert theme.overlay_text_px(192) == 2 * theme.MIN_TEXT_PX_AT_96_DPI
    assert theme.overlay_font(20).pixelSize() == 20


def ink_height(image: QImage) -> int:
    """Rows of ``image`` with any opaque pixel."""
    alpha = image_array(image)[:, :, 3]
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def image_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(height, stride)
    return raw[:, : width * 4].reshape(height, width, 4).astype(np.int16)


@pytest.mark.parametrize("dpi", [96, 192])
def test_corner_text_follows_the_screens_dpi_with_a_halo(qapp, dpi: int) -> None:
    """The corner text painted for a screen of ``dpi`` (QPainter reads the device's logical
    DPI) is as tall as the DPI asks, and every light text pixel is ringed by dark ones."""
    image = QImage(600, 200, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDotsPerMeterX(round(dpi / 0.0254))
    image.setDotsPerMeterY(round(dpi / 0.0254))
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    OverlayPainter().corners(painter, image.rect(), CornerText(("Hg",), (), (), ()))
    painter.end()
    px = theme.overlay_text_px(dpi)
    height = ink_height(image)
    assert height >= 0.9 * px, (dpi, height)  # "Hg": cap height plus descender, with halo
    pixels = image_array(image)
    light = (pixels[:, :, :3].min(axis=2) > 180) & (pixels[:, :, 3] > 200)
    dark = (pixels[:, :, :3].max(axis=2) < 40) & (pixels[:, :, 3] > 150)
    assert light.any() and dark.sum() > light.sum() / 2
    transparent = pixels[:, :, 3] == 0
    ys, xs = np.nonzero(light)
    for y, x in zip(ys, xs, strict=True):  # no light pixel touches bare background
        assert not transparent[y - 1 : y + 2, x - 1 : x + 2].any()


def test_labels_have_a_backing_box_and_a_halo(qapp) -> None:
    for color in ("#ffffff", theme.STATE_COLORS["bulge"], theme.VERTEBRA_COLORS[0]):
        pixmap = label_pixmap(["L3, proposed 81%"], QColor(color), 13, 1.0)
        assert pixmap.height() >= 13
        pixels = image_array(pixmap.toImage())
        h = pixels.shape[0]
        backing = pixels[h // 2, 1]
        assert backing[3] >= round(255 * theme.LABEL_BACKING_ALPHA) - 2  # semi-opaque ...
        assert backing[:3].max() <= 5  # ... black
    # the halo on its own, over a transparent ground: dark pixels surround the text
    image = QImage(120, 30, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    draw_halo_text(painter, QPointF(4, 20), ["L3"], QColor("#ffffff"), 14)
    painter.end()
    pixels = image_array(image)
    light = (pixels[:, :, :3].min(axis=2) > 200) & (pixels[:, :, 3] > 200)
    transparent = pixels[:, :, 3] == 0
    ys, xs = np.nonzero(light)
    assert ys.size > 10
    ringed = [
        not transparent[y - 1 : y + 2, x - 1 : x + 2].any() for y, x in zip(ys, xs, strict=True)
    ]
    assert all(ringed)


# -- colours ---------------------------------------------------------------------------------

LEVEL_COLORS = (*theme.VERTEBRA_COLORS, *theme.DISC_COLORS)
EVERY_OVERLAY_COLOR = (
    *LEVEL_COLORS,
    *theme.STATE_COLORS.values(),
    *theme.CLASS_COLORS.values(),
    theme.OVERLAY_TEXT_COLOR,
    "#ffa000",  # the review amber (review_style.REVIEW_COLOR)
    "#5ce1e6",  # unlabelled marks (drawing.UNLABELLED)
)


def hue_distance(a: str, b: str) -> float:
    d = abs(theme.hue_degrees(a) - theme.hue_degrees(b)) % 360
    return min(d, 360 - d)


@pytest.mark.parametrize("color", EVERY_OVERLAY_COLOR)
def test_every_overlay_colour_reads_on_the_dark_theme_and_on_bright_bone(color: str) -> None:
    assert theme.contrast_ratio(color, theme.VIEWPORT_BACKGROUND) >= theme.MIN_CONTRAST
    # on white bone or metal the label's backing box is what the text sits on
    for bright in ("#ffffff", "#c8c8c8", "#808080"):
        under = theme.backing_over(bright)
        assert theme.contrast_ratio(color, under) >= theme.MIN_CONTRAST, (color, bright)


def test_levels_and_states_have_their_own_schemes() -> None:
    vocabulary = default_vocabulary()
    spine = [v for v in column() if v.startswith(("T", "L", "S"))]
    discs = [f"{a}-{b}" for a, b in itertools.pairwise(column())]
    level_colors = {theme.label_color(v) for v in spine} | {theme.label_color(d) for d in discs}
    assert level_colors <= set(LEVEL_COLORS)
    states = set(theme.STATE_COLORS.values())
    assert not level_colors & states
    for level in LEVEL_COLORS:  # no shared hue, and never red, orange or yellow for a level
        hue = theme.hue_degrees(level)
        assert not (hue < 75 or hue > 330), level
        for state in states:
            assert hue_distance(level, state) >= 30, (level, state)
    # neighbours differ, so a level reads apart from the next one
    for a, b in itertools.pairwise([v for v in column() if v != "L6"]):
        assert theme.label_color(a) != theme.label_color(b), (a, b)
    # the vocabulary's old rainbow (L1 red like a herniation, L2 orange like a bulge) is not
    # what the overlay uses
    assert theme.label_color("L1") != vocabulary.color("L1")
    # a disc with a state is drawn in its state's colour, without one in its level's
    assert theme.label_color("L4-L5", "herniation") == theme.STATE_COLORS["herniation"]
    assert theme.label_color("L4-L5") in theme.DISC_COLORS
    assert theme.label_color("pedicle_screw") == theme.CLASS_COLORS["pedicle_screw"]
    assert theme.label_color("Distance 1") is None  # the caller's own colour


# Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB.
DICHROMATS = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def lab(color: str, matrix: list[list[float]] | None = None) -> np.ndarray:
    """CIE L*a*b* of ``color`` as a dichromat with ``matrix`` sees it (None: as is)."""
    c = QColor(color)
    srgb = np.array([c.redF(), c.greenF(), c.blueF()])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if matrix is not None:
        linear = np.clip(np.array(matrix) @ linear, 0.0, 1.0)
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                       [0.0193, 0.1192, 0.9505]])  # fmt: skip
    xyz = to_xyz @ linear / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", [None, *DICHROMATS])
def test_disc_states_stay_apart_for_colour_blind_readers(vision: str | None) -> None:
    matrix = DICHROMATS[vision] if vision else None
    for (a, ca), (b, cb) in itertools.combinations(theme.STATE_COLORS.items(), 2):
        distance = float(np.linalg.norm(lab(ca, matrix) - lab(cb, matrix)))
        assert distance >= 20, (vision, a, b, distance)


def render(annotation: Annotation, color: str = "#e6e1c5", text=()) -> np.ndarray:
    image = QImage(200, 160, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("#000000"))
    painter = QPainter(image)
    paint_annotation(painter, annotation, lambda r, c: QPointF(c, r), QColor(color), list(text))
    painter.end()
    return image_array(image)


def shape(kind: Kind, label: str, state: str | None = None, status=Status.ACCEPTED):
    ref = ImageRef("1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.1")
    points = [(40.0, 40.0), (120.0, 160.0)]
    ann = Annotation.create(kind, ref, points, None, label=label, state=state)
    return ann.with_status(status) if status != Status.ACCEPTED else ann


def colored(pixels: np.ndarray, color: str, tolerance: int = 12) -> int:
    c = QColor(color)
    target = np.array([c.red(), c.green(), c.blue()])
    return int((np.abs(pixels[:, :, :3] - target).max(axis=2) <= tolerance).sum())


def test_what_is_drawn_uses_the_schemes_and_shows_the_state_by_line_weight(qapp) -> None:
    vocabulary = default_vocabulary()
    l1 = render(shape(Kind.RECTANGLE, "L1"), vocabulary.color("L1"))
    assert colored(l1, theme.label_color("L1") or "") > 100  # the level tone ...
    assert colored(l1, vocabulary.color("L1")) == 0  # ... not the vocabulary's red
    widths = {}
    for state in theme.STATE_COLORS:
        disc = render(shape(Kind.ELLIPSE, "L4-L5", state), vocabulary.color("L4-L5"))
        widths[state] = colored(disc, theme.STATE_COLORS[state], tolerance=40)
    assert widths["normal"] < widths["bulge"] < widths["herniation"], widths


def test_disc_badges_show_the_state_by_marker_shape_too(qapp) -> None:
    shapes = {}
    for state in MARKERS:
        image = QImage(40, 40, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor("#000000"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        paint_marker(painter, QPointF(20, 20), state, QColor("#ffffff"))
        painter.end()
        shapes[state] = (image_array(image)[:, :, 0] > 128).tobytes()
    assert len(set(shapes.values())) == len(MARKERS)  # white on black: the shapes differ


# -- names -----------------------------------------------------------------------------------


def test_classes_read_as_words_and_agree_with_the_vocabulary() -> None:
    assert display_name("pedicle_screw") == "Pedicle screw"
    assert display_name("interbody_cage") == "Interbody cage"
    assert display_name("spinous_process") == "Spinous process"
    for level in ("L3", "L4-L5", "S1", "T12-L1", "C2"):
        assert display_name(level) == level
    assert display_name("Distance 1") == "Distance 1" and display_name("") == ""
    vocabulary = default_vocabulary()
    for key, name in CLASS_NAMES.items():
        label = vocabulary.get(key)
        if label is not None:
            assert label.meaning == name, key


def test_the_label_drawn_names_the_class_in_words() -> None:
    screw = shape(Kind.RECTANGLE, "pedicle_screw", status=Status.PROPOSED)
    assert readable_lines(screw, ["pedicle_screw ?", "proposed 80%"]) == [
        "Pedicle screw ?",
        "proposed 80%",
    ]
    cobb = shape(Kind.RECTANGLE, "")
    lines = ["Cobb 35.8° (T12-L3)", "proposed", "Cobb 35.8°"]
    assert readable_lines(cobb, lines) == lines[:2]  # the note says the angle already


# -- on the real X server ----------------------------------------------------------------------

SCREEN = (1600, 1000)


@pytest.mark.real_display
@NEEDS_MODELS
def test_the_labels_read_on_the_real_screen(tmp_path: Path) -> None:
    """The window on Xvfb, captured from the X server: every label's box is dark with light
    text in it, and no two boxes share a pixel."""
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    run_on_xvfb(__file__, tmp_path, SCREEN, ["--out", str(tmp_path)])
    info = json.loads((tmp_path / "labels.json").read_text())
    shot = QImage(str(tmp_path / "xr-implants.png")).convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = shot.width(), shot.height(), shot.bytesPerLine()
    raw = np.frombuffer(bytes(shot.constBits()), np.uint8).reshape(height, stride)
    pixels = raw[:, : width * 3].reshape(height, width, 3).astype(np.int16)
    rects = [Rect(*r) for r in info["rects"]]
    assert len(rects) >= 8 and overlapping_pairs(rects) == []
    assert any(MERGED.match(lines[0]) for lines in info["lines"])
    for r, lines in zip(rects, info["lines"], strict=True):
        box = pixels[round(r.y) + 1 : round(r.bottom) - 1, round(r.x) + 1 : round(r.right) - 1]
        lum = box.mean(axis=2)
        assert np.median(lum) < 60, lines
        assert lum.max() > 150, lines


def _screenshot(out: Path) -> int:
    """Drive the real window on the X server (see the module text)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    from spineviewer.gui.app import application
    from spineviewer.gui.main_window import MainWindow

    study, findings = analysed_xray(out / "phantom")
    application()
    win = MainWindow()
    win.setGeometry(0, 0, *SCREEN)
    win.show()
    win.open_paths([study])
    started = time.perf_counter()
    while win.busy() or win.grid.viewports[0].source is None:
        if time.perf_counter() - started > 120:
            raise TimeoutError("the X-ray did not open")
        QTest.qWait(50)
    QTest.qWait(800)
    win.browser_dock.hide()
    show_xray(win, findings)
    vp = win.grid.active
    win.analysis.dock.raise_()
    QTest.qWait(1200)
    labels = list(board_for(vp).placed)
    origin = vp.viewport().mapToGlobal(QPoint(0, 0))
    ox, oy = origin.x(), origin.y()
    data = {
        "rects": [[r.rect.x + ox, r.rect.y + oy, r.rect.w, r.rect.h] for r in labels],
        "lines": [list(r.lines) for r in labels],
    }
    (out / "labels.json").write_text(json.dumps(data))
    subprocess.run(["import", "-window", "root", str(out / "xr-implants.png")], check=True)
    win.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the X-ray's labels on the real X server")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("no X display: run under xvfb-run")
    sys.exit(_screenshot(args.out))
