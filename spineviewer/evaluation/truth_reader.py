"""Reading a study's ``ground_truth.json`` for scoring, from either generator.

The evaluation generator and ``spineviewer.phantom`` write the same schema (version 1); fields
one of them lacks take the schema's defaults (``in_sagittal_fov`` true, no degeneration, no
fracture: ``genant_grade`` 0, as both generators draw fractures only when asked to). The
study *kind* is the evaluation case's ``case_kind``; for a phantom study it is worked out from
its MR options (``T10-L5`` field: ``no-sacrum``; six lumbar vertebrae: ``six-lumbar``; else
``standard``). Read without importing either generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["GROUND_TRUTH_FILE", "StudyTruth", "TruthBody", "TruthDisc", "read_truth", "study_kind"]

GROUND_TRUTH_FILE = "ground_truth.json"


@dataclass(frozen=True)
class TruthBody:
    label: str
    centre: NDArray[np.float64]
    in_view: bool
    #: Genant grade (0: intact), morphology (``wedge``, ``biconcave``, ``crush``; None when
    #: intact), height loss (a ratio) and acute (None: intact, or not stated).
    genant_grade: int = 0
    fracture: str | None = None
    height_loss: float = 0.0
    acute: bool | None = None


@dataclass(frozen=True)
class TruthDisc:
    level: str
    state: str
    centre: NDArray[np.float64]
    in_view: bool
    degeneration: float | None = None
    pfirrmann: int | None = None


@dataclass(frozen=True)
class StudyTruth:
    folder: Path
    seed: int | None
    generator: str
    study_uid: str
    kind: str
    tags: tuple[str, ...]
    bodies: tuple[TruthBody, ...]
    discs: tuple[TruthDisc, ...]


def study_kind(parameters: dict[str, Any]) -> str:
    """The study kind the scorer groups by (see the module docstring)."""
    if "case_kind" in parameters:
        return str(parameters["case_kind"])
    if parameters.get("sagittal_fov") == "T10-L5":
        return "no-sacrum"
    if int(parameters.get("lumbar_vertebrae", 5)) == 6:
        return "six-lumbar"
    return "standard"


def _point(value: Any, where: str) -> NDArray[np.float64]:
    point = np.asarray(value, dtype=np.float64)
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise ValueError(f"{where}: expected 3 finite numbers, got {value!r}")
    return point


def _body(v: dict[str, Any], path: Path) -> TruthBody:
    acute = v.get("fracture_acute")
    return TruthBody(
        str(v["label"]),
        _point(v["centre_mm"], f"{path}: {v['label']}"),
        bool(v.get("in_sagittal_fov", True)),
        int(v.get("genant_grade") or 0),
        None if v.get("fracture") is None else str(v["fracture"]),
        float(v.get("height_loss") or 0.0),
        None if acute is None else bool(acute),
    )


def load_truth_json(folder: str | Path) -> dict[str, Any]:
    """The ground truth of the study in ``folder`` as JSON (any kind); a clear ValueError
    names the file and the problem."""
    path = Path(folder) / GROUND_TRUTH_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no ground truth (not a generated study folder)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable ground truth: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the ground truth is not a JSON object")
    return data


def read_truth(folder: str | Path) -> StudyTruth:
    """The truth of the study in ``folder``; a clear ValueError names the file and the problem."""
    path = Path(folder) / GROUND_TRUTH_FILE
    data = load_truth_json(folder)
    if data.get("schema_version") != 1:
        raise ValueError(f"{path}: schema_version {data.get('schema_version')!r} is not 1")
    if data.get("kind") != "lumbar-mr":
        raise ValueError(f"{path}: kind {data.get('kind')!r}: only lumbar-mr studies are scored")
    try:
        parameters = dict(data.get("parameters") or {})
        bodies = tuple(_body(v, path) for v in data["vertebrae"])
        discs = tuple(
            TruthDisc(
                str(d["level"]),
                str(d["state"]),
                _point(d["centre_mm"], f"{path}: {d['level']}"),
                bool(d.get("in_sagittal_fov", True)),
                None if d.get("degeneration") is None else float(d["degeneration"]),
                None if d.get("pfirrmann") is None else int(d["pfirrmann"]),
            )
            for d in data["discs"]
        )
        return StudyTruth(
            folder=Path(folder),
            seed=data.get("seed"),
            generator=str(data.get("generator", "")),
            study_uid=str(data["study_instance_uid"]),
            kind=study_kind(parameters),
            tags=tuple(parameters.get("tags", ())),
            bodies=bodies,
            discs=discs,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: ground truth lacks {exc}") from None
