"""What importing the main window loads: only what a viewer needs to show a study (issue 24:
the cold start). The phantom generator, training, model runtimes and DICOM object writers
load when a command that needs them runs."""

from __future__ import annotations

import os
import subprocess
import sys

#: Packages the window must not import at start-up, and who loads them later.
NOT_AT_START = {
    "spineviewer.phantom": "a phantom's ground truth, read when a curved reformat needs it",
    "spineviewer.training": "spineviewer train",
    "spineviewer.evaluation": "spineviewer evaluation",
    "torch": "training only",
    "onnxruntime": "the first analysis",
    "highdicom": "SR / SEG / KOS / GSPS export",
    "SimpleITK": "reformats and conversions",
}


def test_the_main_window_imports_nothing_it_does_not_need_at_start() -> None:
    code = (
        "import sys, spineviewer.gui.main_window; "
        f"print(sorted({{m.split('.')[0] if not m.startswith('spineviewer.') else "
        f"'.'.join(m.split('.')[:2]) for m in sys.modules}} & {set(NOT_AT_START)!r}))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
