"""Generate one phantom study of a given kind into a folder."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from spineviewer.phantom.ct import generate_lumbar_ct
from spineviewer.phantom.folders import study_folder_name
from spineviewer.phantom.fractures import (
    FRACTURE_KINDS,
    SPINE_CANDIDATES,
    FractureRequest,
    parse_fracture,
    plan_fractures,
)
from spineviewer.phantom.mr import fracture_candidates, generate_lumbar_mr
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.phantom.truth import StudyGroundTruth
from spineviewer.phantom.xr import XR_FRACTURE_KINDS, XR_LABELS, generate_spine_xr


class Generator(Protocol):
    """Writes one study of a kind into a folder and returns its ground truth."""

    def __call__(
        self,
        study_dir: Path,
        seed: int,
        *,
        fracture_rate: float = 0.0,
        fractures: Sequence[FractureRequest] = (),
    ) -> StudyGroundTruth: ...


#: Study kinds and their generators.
GENERATORS: dict[str, Generator] = {
    "lumbar-mr": generate_lumbar_mr,
    "spine-xr": generate_spine_xr,
    "lumbar-ct": generate_lumbar_ct,
}
KINDS: tuple[str, ...] = tuple(GENERATORS)
#: Per kind: the vertebrae that may fracture and the fracture kinds drawn.
FRACTURE_SCOPE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "lumbar-mr": (SPINE_CANDIDATES, FRACTURE_KINDS),
    "spine-xr": (XR_LABELS[:-1], XR_FRACTURE_KINDS),
    "lumbar-ct": (SPINE_CANDIDATES, FRACTURE_KINDS),
}


def generate(
    kind: str,
    out_dir: str | Path,
    seed: int,
    *,
    fracture_rate: float = 0.0,
    fractures: Iterable[str | FractureRequest] = (),
    mr_options: MrOptions | None = None,
) -> StudyGroundTruth:
    """Write study ``kind`` with ``seed`` to ``out_dir/<kind>-<seed:05d>/`` and its ground truth.

    ``fracture_rate`` is the chance that each vertebra (T12..L5 on MR and CT, T10..L5 on XR;
    also L6 on an MR with six lumbar vertebrae) has a compression fracture; ``fractures`` name
    some explicitly (``"L1:wedge:2"``, see :func:`~spineviewer.phantom.fractures.parse_fracture`).
    ``mr_options`` (``lumbar-mr`` only, :class:`~spineviewer.phantom.mr_options.MrOptions`)
    choose the sagittal field of view, six lumbar vertebrae and the sagittal contrasts, or the
    randomised ``wide`` profile (``MrOptions.wide()``). With none of them, the study is
    exactly the one generated before they existed.

    Raises
    ------
    ValueError
        For an unknown kind, a negative seed, a bad fracture request or MR options given for
        another kind.
    """
    if kind not in GENERATORS:
        raise ValueError(f"unknown phantom kind {kind!r}; choose one of {', '.join(KINDS)}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if mr_options is not None and kind != "lumbar-mr":
        raise ValueError(f"MR options apply to lumbar-mr studies, not {kind}")
    requests = [parse_fracture(f) if isinstance(f, str) else f for f in fractures]
    labels, kinds = FRACTURE_SCOPE[kind]
    if mr_options is not None:
        labels = fracture_candidates(mr_options, seed)
    plan_fractures([seed], labels, fracture_rate, requests, kinds)  # checks before writing
    study_dir = Path(out_dir) / study_folder_name(kind, seed)
    study_dir.mkdir(parents=True, exist_ok=True)
    if kind == "lumbar-mr":
        truth = generate_lumbar_mr(
            study_dir, seed, fracture_rate=fracture_rate, fractures=requests, options=mr_options
        )
    else:
        truth = GENERATORS[kind](study_dir, seed, fracture_rate=fracture_rate, fractures=requests)
    truth.save(study_dir)
    return truth
