"""What the user sees on a real X server (issue 21, defects 1 and 6).

``real_display_probe.py`` runs the real window under ``xvfb-run``, presses keys with QTest on
the shown viewport and saves the X server's framebuffer (ImageMagick ``import -window root``)
after each step. These tests read those pixels: a ``QWidget.grab()`` repaints everything and
would hide a stale overlay.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.real_display

PROBE = Path(__file__).with_name("real_display_probe.py")
MISSING = [tool for tool in ("Xvfb", "xvfb-run", "import") if shutil.which(tool) is None]


def pixels(path: Path) -> np.ndarray:
    """The captured screen as an (rows, cols, 3) uint8 array."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), f"cannot read {path}"
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(height, stride)
    return raw[:, : width * 3].reshape(height, width, 3).copy()


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    out = tmp_path_factory.mktemp("real_display")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env["XDG_CONFIG_HOME"] = str(out / "config")  # never the user's settings or workspace
    env["SPINEVIEWER_WORKSPACE"] = str(out / "workspace")
    command = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, str(PROBE)]
    done = subprocess.run(
        [*command, "--out", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out, json.loads((out / "probe.json").read_text())


def _outside_image(shot: np.ndarray, viewport: list[int], image: list[int]) -> np.ndarray:
    """The viewport's pixels with the image's rectangle blanked out (the part pyqtgraph
    repaints on its own when the image changes)."""
    x, y, w, h = viewport
    ix, iy, iw, ih = image
    area = shot[y : y + h, x : x + w].astype(np.int16)
    area[max(0, iy - y - 2) : iy - y + ih + 2, max(0, ix - x - 2) : ix - x + iw + 2] = 0
    return area


def _changed(out: Path, info: dict, before: str, after: str) -> np.ndarray:
    a = _outside_image(pixels(out / f"{before}.png"), info["viewport"], info["image"])
    b = _outside_image(pixels(out / f"{after}.png"), info["viewport"], info["image"])
    return np.abs(a - b).max(axis=2) > 40


def test_a_slice_change_repaints_the_corner_text_on_screen(probe: tuple[Path, dict]) -> None:
    out, info = probe
    assert info["index_down"] == info["index_before"] + 1
    assert info["index_up"] == info["index_before"] - 1
    _, _, w, h = info["viewport"]
    for before, after in (("before", "down"), ("down", "up")):
        changed = _changed(out, info, before, after)
        # "MR  Im 7/13" (top right) and "Pos ... mm" (bottom left) are new text on screen
        top_right = changed[: h // 6, w // 2 :]
        bottom_left = changed[-(h // 6) :, : w // 2]
        assert top_right.sum() > 20, f"{before} -> {after}: image number stale on screen"
        assert bottom_left.sum() > 20, f"{before} -> {after}: slice position stale on screen"


def test_the_phi_free_toggle_removes_the_name_on_screen(probe: tuple[Path, dict]) -> None:
    out, info = probe
    _, _, w, h = info["viewport"]
    changed = _changed(out, info, "up", "phi_free")
    assert changed[: h // 6, : w // 2].sum() > 20, "P: the patient's name stays on screen"


def test_the_demo_opens_without_a_dialog_on_screen(probe: tuple[Path, dict]) -> None:
    out, info = probe
    assert info["dialogs"] == [], f"a dialog opened with the demo: {info['dialogs']}"
    # On screen too: away from the image and the corner text the first viewport is the dark
    # background, not the grey panel of a message box (the notice sat over it).
    shot = pixels(out / "before.png").astype(np.int16)
    vx, vy, vw, vh = info["viewport"]
    ix, iy, iw, ih = info["image"]
    area = shot[vy : vy + vh, vx : vx + vw]
    grey = (area.min(axis=2) >= 20) & (area.max(axis=2) <= 90) & (area.std(axis=2) < 6)
    grey[iy - vy - 3 : iy - vy + ih + 3, ix - vx - 3 : ix - vx + iw + 3] = False
    grey[: vh // 6] = False
    grey[-(vh // 6) :] = False
    assert grey.sum() < 500, "a grey dialog panel covers the first viewport"
