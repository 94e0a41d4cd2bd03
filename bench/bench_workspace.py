"""A throw-away annotation workspace holding as many studies as an annotator's, for the viewer
benches: they never touch the user's own workspace, and opening a study in them pays for a
realistic worklist (it was the worklist of a full workspace that stalled the GUI thread)."""

from __future__ import annotations

import os
from pathlib import Path

from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.store import ENV_WORKSPACE, Workspace


def use_bench_workspace(root: Path, studies: int = 200) -> Path:
    """Fill ``root`` with ``studies`` annotated studies and point SPINEVIEWER_WORKSPACE at it
    (for this process and the processes it starts)."""
    with Workspace(root) as workspace:
        for n in range(studies):
            workspace.save(
                AnnotationDocument(
                    f"1.2.826.0.1.3680043.10.54321.{n}",
                    patient_name=f"BENCH^WORKLIST^{n:04d}",
                    study_date=f"2026{1 + n % 12:02d}{1 + n % 28:02d}",
                    study_description=f"lumbar MR {n}",
                    author="annotator",
                )
            )
    os.environ[ENV_WORKSPACE] = str(root)
    return root
