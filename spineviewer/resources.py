"""Where the shipped resources (icons, presets, vocabularies, templates) are found.

The repository keeps them in the top-level ``resources/`` folder. An editable install or a
source checkout reads them there; a wheel installs them as data files under
``<prefix>/share/spineviewer/resources``; a PyInstaller bundle carries them beside the code.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


def _candidates() -> list[Path]:
    here = Path(__file__).resolve().parent
    roots = [here.parent / "resources", Path(sys.prefix) / "share" / "spineviewer" / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.insert(0, Path(bundle) / "resources")
    return roots


@cache
def resources_dir() -> Path:
    """The resources folder; raises FileNotFoundError naming every place looked in."""
    roots = _candidates()
    for root in roots:
        if root.is_dir():
            return root
    raise FileNotFoundError(
        "SpineViewer resources not found; looked in " + ", ".join(str(r) for r in roots)
    )


def resource_path(*parts: str) -> Path:
    """Path of a file under the resources folder, e.g. ``resource_path("icons", "open.svg")``."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource {'/'.join(parts)} missing from {resources_dir()}")
    return path
