"""File > Export view on a real X server: the exported PNG is the viewport as the X server
shows it (read back from the framebuffer with ImageMagick ``import -window root`` under
``xvfb-run``), and the Export view dialog opens from the File menu by real clicks.

Run as a script under ``xvfb-run`` it drives the window and saves the screens; the README's
``docs/screenshots/export-dialog.png`` is such a run (then reduced to 256 colours with
``pngquant``)::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/gui/test_export_real_display.py \\
        --out /tmp/export --png docs/screenshots/export-dialog.png
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from xvfb_script import MISSING, run_on_xvfb

SCREEN = (1600, 1000)


def drive(out: Path, png: Path) -> None:
    """Open the demo study, export the active view, capture the screen (``out/screen.png``),
    then click File > Export view... and capture the dialog into ``png``; ``out/export.json``
    says where the viewport and the dialog are."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from real_display_probe import capture, screen_rect, wait_until

    from spineviewer.gui.app import application
    from spineviewer.gui.export_ui import ExportViewDialog
    from spineviewer.gui.main_window import MainWindow
    from spineviewer.phantom import generate, study_folder_name

    _app = application()  # held while the window runs
    record: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        generate("lumbar-mr", Path(scratch), 1)
        win = MainWindow()
        win.setGeometry(0, 0, *SCREEN)
        win.show()
        win.open_paths([Path(scratch) / study_folder_name("lumbar-mr", 1)])
        wait_until(lambda: not win.busy() and win.grid.viewports[0].source is not None)
        QTest.qWait(1500)  # deferred hanging steps
        vp = win.grid.active
        dialog = ExportViewDialog(win, out / "view.png", phi_free=False)
        assert win.export.export_view(dialog) == out / "view.png"
        capture(out / "screen.png")
        win.export.folder = Path.home()  # the dialog proposes the user's folder, as at first
        record["viewport"] = screen_rect(vp)

        def capture_dialog() -> None:
            shown = [
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, ExportViewDialog) and w.isVisible()
            ]
            if not shown:
                QTimer.singleShot(200, capture_dialog)
                return
            png.parent.mkdir(parents=True, exist_ok=True)
            capture(png)
            frame = shown[0].frameGeometry()
            record["dialog"] = [frame.x(), frame.y(), frame.width(), frame.height()]
            shown[0].reject()

        bar = win.menuBar()
        file_action = next(a for a in bar.actions() if a.text().replace("&", "") == "File")
        QTest.mouseClick(
            bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_action).center()
        )
        menu = file_action.menu()
        wait_until(menu.isVisible, 10)
        QTest.qWait(300)
        QTimer.singleShot(300, capture_dialog)
        action = win.export.export_view_action
        QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
        wait_until(lambda: "dialog" in record, 30)
        (out / "export.json").write_text(json.dumps(record, indent=2))
        print(f"screenshot {png}")
        win.close()


def pixels(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


@pytest.mark.real_display
def test_exported_view_is_what_the_x_server_shows_and_the_dialog_opens(tmp_path: Path) -> None:
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    out = tmp_path / "out"
    out.mkdir()
    run_on_xvfb(__file__, tmp_path, SCREEN, ["--out", str(out), "--png", str(out / "dialog.png")])
    record = json.loads((out / "export.json").read_text())
    x, y, w, h = record["viewport"]
    exported, screen = pixels(out / "view.png"), pixels(out / "screen.png")
    assert exported.shape == (h, w, 3)
    seen = screen[y : y + h, x : x + w]
    inner = (slice(3, h - 3), slice(3, w - 3))  # the active viewport's border is left out
    difference = np.abs(exported[inner] - seen[inner])
    assert difference.mean() < 0.1 and np.percentile(difference, 99.9) <= 2  # the same pixels
    assert seen[inner].std() > 20  # an image on screen, not an empty viewport
    # the dialog is on the screen where Qt put it, over the window
    dx, dy, dw, dh = record["dialog"]
    assert min(dx, dy) >= 0 and dx + dw <= SCREEN[0] and dy + dh <= SCREEN[1]
    with_dialog = pixels(out / "dialog.png")
    assert (
        np.abs(with_dialog[dy : dy + dh, dx : dx + dw] - screen[dy : dy + dh, dx : dx + dw]).mean()
        > 10
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--png", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    drive(args.out, args.png)
    sys.exit(0)
