"""The ``spineviewer`` command line builds its parser without the heavy libraries, so
``--help``, ``--version`` and the viewer's start-up splash come fast; the choices it lists
without importing their packages stay equal to those packages' own."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pydicom", "PySide6", "pyqtgraph", "onnxruntime", "highdicom", "SimpleITK")


def test_building_the_parser_imports_no_heavy_library() -> None:
    code = (
        "import sys; from spineviewer.cli import build_parser; build_parser(); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_choices_listed_without_importing_match_the_packages() -> None:
    from spineviewer.annotations.export import FORMATS
    from spineviewer.cli.annotations import EXPORT_FORMATS
    from spineviewer.cli.phantom import PHANTOM_KINDS
    from spineviewer.cli.train import TRAIN_TASKS
    from spineviewer.phantom import KINDS
    from spineviewer.training.tasks import TASKS

    assert EXPORT_FORMATS == FORMATS
    assert PHANTOM_KINDS == KINDS
    assert tuple(sorted(TASKS)) == TRAIN_TASKS
