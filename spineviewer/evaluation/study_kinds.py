"""Every kind of study the second evaluation generator writes, and writing any of them.

One place that knows all the writers: :func:`generate` dispatches to the lumbar MR writer
(:mod:`~spineviewer.evaluation.study`), the CT one, the radiograph one and the fracture one,
none of which needs to know the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from spineviewer.evaluation.ct_study import generate_ct_study
from spineviewer.evaluation.fracture_study import write_fracture_study
from spineviewer.evaluation.study import generate_study
from spineviewer.evaluation.xr_study import generate_xr_study

__all__ = ["STUDY_KINDS", "generate"]

STUDY_KINDS = ("lumbar-mr", "lumbar-ct", "spine-xr", "lumbar-mr-fracture")


def generate(
    out_dir: str | Path,
    seed: int,
    count: int = 1,
    progress: Callable[[Path], None] | None = None,
    kind: str = "lumbar-mr",
) -> list[Path]:
    """Studies of ``kind`` (one of :data:`STUDY_KINDS`) of seeds ``seed .. seed + count - 1``."""
    if kind not in STUDY_KINDS:
        raise ValueError(f"unknown study kind {kind!r}; known: {', '.join(STUDY_KINDS)}")
    writers: dict[str, Callable[[str | Path, int], Path]] = {
        "lumbar-mr": generate_study,
        "lumbar-ct": generate_ct_study,
        "spine-xr": generate_xr_study,
        "lumbar-mr-fracture": write_fracture_study,
    }
    write = writers[kind]
    out = []
    for s in range(seed, seed + count):
        folder = write(out_dir, s)
        if progress is not None:
            progress(folder)
        out.append(folder)
    return out
