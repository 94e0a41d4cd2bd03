"""``generate_scoliotic_ct``: a ``lumbar-ct`` study whose spine has a lateral curve and rotation.

The same patient as ``generate("lumbar-ct", out_dir, seed)`` (same draws), bent by a
:class:`~spineviewer.phantom.scoliosis_bend.Scoliosis`; written to
``out_dir/lumbar-ct-<seed:05d>-scoliosis/`` with its own UIDs. Its ground_truth.json lists the
bent vertebra centres (``vertebrae[].centre_mm``) and, under ``parameters["scoliosis"]``, the
curve: Cobb angle, apex, end vertebrae, each vertebra's coronal tilt and axial rotation, the
centres and the canal's centre line (``canal_mm``).
(SYNTHETIC PHANTOM - NOT FOR CLINICAL USE.)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from spineviewer.phantom.ct import KIND, generate_lumbar_ct
from spineviewer.phantom.fractures import (
    FRACTURE_KINDS,
    SPINE_CANDIDATES,
    FractureRequest,
    parse_fracture,
    plan_fractures,
)
from spineviewer.phantom.scoliosis_bend import Scoliosis
from spineviewer.phantom.study import study_folder_name
from spineviewer.phantom.truth import StudyGroundTruth


def scoliotic_folder_name(seed: int) -> str:
    """``lumbar-ct-<seed:05d>-scoliosis``: the study's folder inside the output folder."""
    return f"{study_folder_name(KIND, seed)}-scoliosis"


def generate_scoliotic_ct(
    out_dir: str | Path,
    seed: int,
    scoliosis: Scoliosis | None = None,
    *,
    fracture_rate: float = 0.0,
    fractures: Iterable[str | FractureRequest] = (),
) -> StudyGroundTruth:
    """Write a scoliotic lumbar CT (``Scoliosis()`` by default: 30 degrees, apex L2, convex
    left, 10 degrees apical rotation) and its ground truth; return the truth."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    requests = [parse_fracture(f) if isinstance(f, str) else f for f in fractures]
    plan_fractures([seed], SPINE_CANDIDATES, fracture_rate, requests, FRACTURE_KINDS)
    study_dir = Path(out_dir) / scoliotic_folder_name(seed)
    study_dir.mkdir(parents=True, exist_ok=True)
    truth = generate_lumbar_ct(
        study_dir,
        seed,
        fracture_rate=fracture_rate,
        fractures=requests,
        scoliosis=scoliosis or Scoliosis(),
    )
    truth.save(study_dir)
    return truth
