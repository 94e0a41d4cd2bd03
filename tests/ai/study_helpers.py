"""Helpers for the pipeline tests: studies with some of their series left out."""

from __future__ import annotations

import shutil
from pathlib import Path

from spineviewer.dicom import scan


def copy_plane(study: Path, plane: str, dest: Path) -> Path:
    """Copy only the images of ``study`` in ``plane`` (axial, sagittal...) into ``dest``."""
    dest.mkdir(parents=True)
    for stack in scan(study).stacks():
        if stack.plane == plane:
            for frame in stack.frames:
                shutil.copy(frame.instance.ref.path, dest / frame.instance.ref.name)
    return dest
