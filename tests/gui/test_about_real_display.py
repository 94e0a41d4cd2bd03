"""Help > About on a real X server: opened from the Help menu by mouse clicks on the real window
(the demo study open behind it), read back from the X framebuffer (ImageMagick ``import -window
root`` under ``xvfb-run``) once the background CUDA check has answered.

Run as a script under ``xvfb-run`` it drives the window and saves the screen; the README's
``docs/screenshots/about.png`` is such a run, with a scratch home holding the config file the
README shows (``provider = "cpu"`` and ``model_dir = "~/spine-models"``), then reduced to 256
colours (``convert about.png -dither None -colors 256 PNG8:about.png``)::

    HOME=/tmp/spineviewer-about/home SPINEVIEWER_WORKSPACE=/tmp/spineviewer-about/workspace \\
        xvfb-run -a -s "-screen 0 1600x1000x24" python tests/gui/test_about_real_display.py \\
        --out /tmp/about --png docs/screenshots/about.png
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from xvfb_script import MISSING, run_on_xvfb

SCREEN = (1600, 1000)


def drive(out: Path, png: Path) -> None:
    """Open the demo study, click Help > About, wait for the CUDA line, capture the X screen
    into ``png``; ``out/about.json`` says where the dialog is and what it shows."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from spineviewer.gui.app import application
    from spineviewer.gui.dialogs import CUDA_CHECKING, AboutDialog
    from spineviewer.gui.main_window import MainWindow
    from spineviewer.phantom import generate, study_folder_name

    def wait(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
        started = time.perf_counter()
        while not condition():
            if time.perf_counter() - started > timeout_s:
                raise TimeoutError("the viewer did not get there in time")
            QTest.qWait(50)

    app = application()
    with tempfile.TemporaryDirectory() as scratch:
        generate("lumbar-mr", Path(scratch), 1)
        win = MainWindow()
        win.setGeometry(0, 0, *SCREEN)  # the window fills the X screen
        win.show()
        win.open_paths([Path(scratch) / study_folder_name("lumbar-mr", 1)])
        wait(lambda: not win.busy() and win.grid.viewports[0].source is not None)
        QTest.qWait(1500)  # deferred hanging steps
        # Help > About, clicked
        bar = win.menuBar()
        help_action = next(a for a in bar.actions() if a.text().replace("&", "") == "Help")
        QTest.mouseClick(
            bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(help_action).center()
        )
        menu = help_action.menu()
        wait(menu.isVisible, 10)
        QTest.qWait(300)
        about_action = next(a for a in menu.actions() if "About" in a.text())
        QTest.mouseClick(
            menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(about_action).center()
        )

        def about_box() -> AboutDialog | None:
            shown = [
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, AboutDialog) and w.isVisible()
            ]
            return shown[0] if shown else None

        wait(lambda: about_box() is not None, 20)
        about = about_box()
        assert about is not None
        first_cuda_text = about.cuda_label.text()
        wait(lambda: about.cuda_label.text() != CUDA_CHECKING, 60)
        QTest.qWait(800)
        app.processEvents()
        png.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["import", "-window", "root", str(png)], check=True)
        frame = about.frameGeometry()
        notice = about.notice.geometry()
        at = about.mapToGlobal(notice.topLeft())
        cuda = about.cuda_label
        cuda_at = cuda.mapToGlobal(cuda.rect().topLeft())
        record = {
            "dialog": [frame.x(), frame.y(), frame.width(), frame.height()],
            "notice": [at.x(), at.y(), notice.width(), notice.height()],
            "cuda_label": [cuda_at.x(), cuda_at.y(), cuda.width(), cuda.height()],
            "cuda_needs": cuda.heightForWidth(cuda.width()),
            "first_cuda_text": first_cuda_text,
            "cuda_text": cuda.text(),
            "rows": [[n.text(), v.text(), s.text()] for n, v, s in about.config_rows],
            "problems": [label.text() for label in about.config_problems],
        }
        (out / "about.json").write_text(json.dumps(record, indent=2))
        print(f"screenshot {png}")
        about.close()
        win.close()


def pixels(path: Path) -> np.ndarray:
    """The captured screen as an (rows, cols, 3) uint8 array."""
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), f"cannot read {path}"
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(height, stride)
    return raw[:, : width * 3].reshape(height, width, 3).copy()


@pytest.mark.real_display
def test_help_about_on_the_x_server_shows_the_configuration_and_the_cuda_line(
    tmp_path: Path,
) -> None:
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    from spineviewer.gui.dialogs import CUDA_CHECKING
    from spineviewer.gui.theme import WARNING_COLOR

    config_file = tmp_path / "config.toml"
    config_file.write_text('provider = "cpu"\nmodle_dir = "/srv/models"\n', encoding="utf-8")
    env = {"SPINEVIEWER_CONFIG": str(config_file), "SPINEVIEWER_PROVIDER": None}
    run_on_xvfb(__file__, tmp_path, SCREEN, ["--out", str(tmp_path)], env, timeout=400)
    record = json.loads((tmp_path / "about.json").read_text())
    # what the box said: checking at first, then the check's answer, the config file's rows
    assert record["first_cuda_text"] == CUDA_CHECKING
    assert record["cuda_text"].startswith("CUDA: ") and record["cuda_text"] != CUDA_CHECKING
    assert ["provider", "cpu", "config file, line 1"] in record["rows"]
    assert any(f"{config_file}, line 2" in problem for problem in record["problems"])
    assert record["cuda_needs"] <= record["cuda_label"][3]  # the whole CUDA text has room
    # what the X server shows: the box on the screen, its amber notice border, text on it
    shot = pixels(tmp_path / "about.png")
    x, y, w, h = record["dialog"]
    assert min(x, y) >= 0 and x + w <= SCREEN[0] and y + h <= SCREEN[1]
    nx, ny, nw, nh = record["notice"]
    amber = np.array([int(WARNING_COLOR[i : i + 2], 16) for i in (1, 3, 5)])
    notice = shot[ny : ny + nh, nx : nx + nw].reshape(-1, 3).astype(int)
    assert (np.abs(notice - amber).max(axis=1) < 40).mean() > 0.02  # border and bold text
    cx, cy, cw, ch = record["cuda_label"]
    text = shot[cy : cy + ch, cx : cx + cw].astype(int).sum(axis=2)
    assert (text > 400).mean() > 0.01  # light glyphs on the dark box


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for about.json")
    parser.add_argument("--png", type=Path, help="the screenshot (default OUT/about.png)")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("no X display: run under xvfb-run (see the module docstring)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    drive(args.out, (args.png or args.out / "about.png").resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
