"""``spineviewer view FOLDER`` paints its first image before importing what that image does
not need (the AI, reports, PACS, annotation I/O, SimpleITK, dask, jinja2, requests, CUDA Python):
run in a fresh process, the way ``run_viewer`` starts, stopped at the first painted image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Modules the first image must not pull in (each a package or module name).
DEFERRED = (
    "onnxruntime",
    "SimpleITK",
    "dask",
    "jinja2",
    "requests",
    "cuda",
    "pynetdicom",
    "spineviewer.ai.analysis",
    "spineviewer.ai.findings",
    "spineviewer.ai.registry",
    "spineviewer.reports",
    "spineviewer.pacs",
    "spineviewer.annotations",
    "spineviewer.gui.analysis_ui",
    "spineviewer.gui.annotate",
    "spineviewer.gui.browser",
    "spineviewer.gui.dialogs",
    "spineviewer.gui.pacs_dialog",
)

#: The child: run_viewer's start (imports, staged window, open the folder), stopped right
#: after the first image of the folder is painted; prints what it saw as JSON.
CHILD = r"""
import json, sys, threading
from PySide6.QtCore import QEvent, QObject, QTimer

from spineviewer.gui.app import application, import_viewer

MainWindow = import_viewer()
from spineviewer.gui import main_window

release = threading.Event()
real_scan = main_window.scan_paths

def held_scan(paths):  # the scan cannot end before the first image has been checked
    work = real_scan(paths)

    def held(progress, cancelled):
        release.wait(60)
        return work(progress, cancelled)

    return held

main_window.scan_paths = held_scan
app = application()
window = MainWindow(staged=True)
window.resize(1200, 800)
window.show()
vp = window.grid.viewports[0]
seen = {}


class FirstImagePaint(QObject):
    # records the modules at the first paint of the first viewport showing an image

    def eventFilter(self, watched, event):
        inside = watched is vp or watched is vp.viewport()
        if inside and event.type() == QEvent.Type.Paint and vp.source is not None:
            if "modules" not in seen:
                seen["modules"] = sorted(sys.modules)
                seen["built"] = window._built
                seen["browser"] = hasattr(window, "browser")
                seen["slices"] = len(vp.source)
                release.set()
                QTimer.singleShot(0, app.quit)
        return False


painted = FirstImagePaint()
app.installEventFilter(painted)
window.open_paths([sys.argv[1]])
QTimer.singleShot(60000, app.quit)
app.exec()
app.removeEventFilter(painted)
release.set()
# after the first paint the window completes itself: the same window as MainWindow() builds
window.finish_building()
seen["browser_after"] = hasattr(window, "browser") and hasattr(window, "analysis")
window.cancel_jobs()
print("RESULT " + json.dumps(seen))
"""


def _first_paint(folder: Path) -> dict[str, object]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def test_first_image_is_painted_without_the_heavy_modules(demo_study_dir: Path) -> None:
    seen = _first_paint(demo_study_dir)
    assert "modules" in seen, "no image was shown"
    assert seen["slices"] == 1  # the preview of the folder, before the scan ended
    modules = set(seen["modules"])  # type: ignore[arg-type]
    loaded = sorted(
        name for name in modules if any(name == d or name.startswith(d + ".") for d in DEFERRED)
    )
    assert loaded == [], f"imported before the first image was painted: {loaded}"
    # what the first image does need is there (the test would pass vacuously otherwise)
    assert {"pydicom", "pyqtgraph", "spineviewer.gui.viewport"} <= modules
    assert seen["built"] is False and seen["browser"] is False
    assert seen["browser_after"] is True


def test_kept_out_modules_import_again_afterwards() -> None:
    from spineviewer.gui.app import _kept_out

    name = "spineviewer_never_a_real_module_xyz"
    with _kept_out(["json", name]):
        assert sys.modules[name] is None
        import json as again  # already imported before the block: untouched

        assert again is json
    assert name not in sys.modules
