"""Generate one phantom study of a given kind into a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from spineviewer.phantom.ct import generate_lumbar_ct
from spineviewer.phantom.mr import generate_lumbar_mr
from spineviewer.phantom.truth import StudyGroundTruth
from spineviewer.phantom.xr import generate_spine_xr

Generator = Callable[[Path, int], StudyGroundTruth]

#: Study kinds and their generators.
GENERATORS: dict[str, Generator] = {
    "lumbar-mr": generate_lumbar_mr,
    "spine-xr": generate_spine_xr,
    "lumbar-ct": generate_lumbar_ct,
}
KINDS: tuple[str, ...] = tuple(GENERATORS)


def study_folder_name(kind: str, seed: int) -> str:
    """``<kind>-<seed:05d>``, the folder of one study inside the output folder."""
    return f"{kind}-{seed:05d}"


def generate(kind: str, out_dir: str | Path, seed: int) -> StudyGroundTruth:
    """Write study ``kind`` with ``seed`` to ``out_dir/<kind>-<seed:05d>/`` and its ground truth.

    Raises
    ------
    ValueError
        For an unknown kind or a negative seed.
    """
    if kind not in GENERATORS:
        raise ValueError(f"unknown phantom kind {kind!r}; choose one of {', '.join(KINDS)}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    study_dir = Path(out_dir) / study_folder_name(kind, seed)
    study_dir.mkdir(parents=True, exist_ok=True)
    truth = GENERATORS[kind](study_dir, seed)
    truth.save(study_dir)
    return truth
