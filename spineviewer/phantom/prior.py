"""A lumbar MR study and a prior of the same patient (SYNTHETIC PHANTOM - NOT FOR CLINICAL USE).

:func:`generate_prior` writes two ``lumbar-mr`` studies of one seed:

- ``current/lumbar-mr-<seed>/``: the standard study of the seed, exactly as
  :func:`spineviewer.phantom.generate` writes it;
- ``prior/lumbar-mr-<seed>/``: the same patient (same PatientID and PatientName) a year
  earlier (StudyDate 365 days before), a new StudyInstanceUID, FrameOfReferenceUID and new
  series and image UIDs; one disc's state differs (:data:`CHANGED_LEVEL` by default: a
  herniated or bulging disc of today was normal then, a normal one bulged), and the patient
  lay elsewhere in the scanner: the whole study is moved by a rigid transform (a shift of
  :data:`SHIFT_MM` and a turn of :data:`TURN_DEG` about a random axis through the L3 body).

The spine is moved by rewriting the written geometry (ImagePositionPatient,
ImageOrientationPatient and SliceLocation of every image) with the same transform as the
truth's centres and normals, so pixels and truth agree: in the prior's patient space the
anatomy sits at ``R (x - c) + c + t`` of where it sits in the current's. The prior's
``ground_truth.json`` says so under ``parameters["prior"]`` (``of_study``, ``shift_mm``,
``rotation`` (3 x 3), ``turn_deg``, ``turn_axis``, ``centre_mm``, ``changed_disc`` with
``level``, ``state`` (then) and ``current_state``). The disc whose state changed keeps its
height (the standard profile lowers an abnormal disc by 15 % when the spine is drawn).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.valuerep import DSfloat

from spineviewer.phantom import mr as mr_module
from spineviewer.phantom.dicom_files import make_uid
from spineviewer.phantom.painted_volume import SpineModel
from spineviewer.phantom.parts import build_parts
from spineviewer.phantom.study import generate, study_folder_name
from spineviewer.phantom.truth import GROUND_TRUTH_FILE, load_ground_truth

__all__ = [
    "CHANGED_LEVEL",
    "SHIFT_MM",
    "TURN_DEG",
    "PriorMove",
    "generate_prior",
    "prior_move",
]

KIND = "lumbar-mr"
#: The disc whose state differs in the prior by default.
CHANGED_LEVEL = "L4-L5"
#: Length of the prior's shift (mm) and angle of its turn (degrees), drawn uniformly.
SHIFT_MM: tuple[float, float] = (10.0, 30.0)
TURN_DEG: tuple[float, float] = (2.0, 5.0)
#: Sub-stream of the seed for the prior's move (the study's own draws stay).
_PRIOR_STREAM = 22
#: Size of a bulge the prior gets where today's disc is normal (mm).
_PRIOR_BULGE_MM = 3.0


@dataclasses.dataclass(frozen=True)
class PriorMove:
    """Where the prior's patient lay relative to the current's: ``x -> R (x - c) + c + t``."""

    rotation: np.ndarray
    centre_mm: np.ndarray
    shift_mm: np.ndarray
    turn_deg: float
    turn_axis: np.ndarray

    def point(self, x: Any) -> np.ndarray:
        """A patient point (or points, one per row) of the current mapped to the prior."""
        p = np.asarray(x, dtype=np.float64)
        return (p - self.centre_mm) @ self.rotation.T + self.centre_mm + self.shift_mm

    def direction(self, v: Any) -> np.ndarray:
        """A direction of the current turned as the prior's."""
        return np.asarray(v, dtype=np.float64) @ self.rotation.T

    def parameters(self) -> dict[str, Any]:
        """The move as plain JSON values."""
        return {
            "rotation": self.rotation.round(9).tolist(),
            "centre_mm": self.centre_mm.round(6).tolist(),
            "shift_mm": self.shift_mm.round(6).tolist(),
            "turn_deg": round(self.turn_deg, 6),
            "turn_axis": self.turn_axis.round(9).tolist(),
        }


def _rotation(axis: np.ndarray, degrees: float) -> np.ndarray:
    """Rodrigues' rotation about the unit ``axis``."""
    a = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def prior_move(seed: int, centre_mm: Any) -> PriorMove:
    """The prior's rigid move for ``seed``: a shift of 10-30 mm in a random direction and a
    2-5 degree turn about a random axis through ``centre_mm`` (deterministic per seed)."""
    rng = np.random.default_rng([seed, _PRIOR_STREAM])
    shift = _unit(rng) * rng.uniform(*SHIFT_MM)
    axis = _unit(rng)
    turn = float(rng.uniform(*TURN_DEG))
    centre = np.asarray(centre_mm, dtype=np.float64)
    return PriorMove(_rotation(axis, turn), centre, shift, turn, axis)


def _prior_state(state: str) -> tuple[str, float]:
    """The disc's state a year earlier: normal where it is abnormal now, else a bulge."""
    return ("normal", 0.0) if state != "normal" else ("bulge", _PRIOR_BULGE_MM)


@contextmanager
def _disc_changed(level: str) -> Iterator[dict[str, str]]:
    """While active, lumbar MR studies are drawn with ``level``'s state changed (see
    :func:`_prior_state`); yields a dict that receives ``state`` and ``current_state``."""
    original: Callable[..., tuple[SpineModel, np.random.Generator]] = mr_module.mr_model
    seen: dict[str, str] = {}

    def changed(*args: Any, **kwargs: Any) -> tuple[SpineModel, np.random.Generator]:
        model, rng = original(*args, **kwargs)
        anatomy = model.anatomy
        discs = []
        for disc in anatomy.discs:
            if disc.level == level:
                state, bulge = _prior_state(disc.state)
                seen.update(state=state, current_state=disc.state)
                disc = dataclasses.replace(
                    disc, state=state, bulge_mm=bulge, herniation_mm=0.0, herniation_side=None
                )
            discs.append(disc)
        if not seen:
            raise ValueError(f"no disc {level!r} to change; the spine has {anatomy.discs}")
        anatomy = dataclasses.replace(anatomy, discs=tuple(discs))
        return SpineModel(anatomy, build_parts(anatomy)), rng

    mr_module.mr_model = changed  # type: ignore[assignment]
    try:
        yield seen
    finally:
        mr_module.mr_model = original  # type: ignore[assignment]


def _ds(values: Any) -> list[DSfloat]:
    return [DSfloat(float(v), auto_format=True) for v in values]


def _year_earlier(date: str) -> str:
    day = dt.datetime.strptime(date, "%Y%m%d").date() - dt.timedelta(days=365)
    return day.strftime("%Y%m%d")


def _new_uid(old: str) -> str:
    return make_uid("prior", old)


def _rewrite_image(path: Path, move: PriorMove, uids: dict[str, str], date: str) -> None:
    """Move one written image as the prior's and give it the prior's UIDs and dates."""
    ds = pydicom.dcmread(path)
    position = move.point([float(v) for v in ds.ImagePositionPatient])
    cosines = np.array([float(v) for v in ds.ImageOrientationPatient]).reshape(2, 3)
    row, col = move.direction(cosines)
    normal = np.cross(row, col)
    ds.ImagePositionPatient = _ds(position)
    ds.ImageOrientationPatient = _ds([*row, *col])
    ds.SliceLocation = DSfloat(float(position @ normal), auto_format=True)
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        setattr(ds, keyword, uids.setdefault(getattr(ds, keyword), _new_uid(getattr(ds, keyword))))
    ds.FrameOfReferenceUID = uids.setdefault(
        ds.FrameOfReferenceUID, _new_uid(ds.FrameOfReferenceUID)
    )
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = date
    ds.AccessionNumber = f"{ds.AccessionNumber}P"
    ds.save_as(path, enforce_file_format=True)


def _moved(value: Any, move: PriorMove, uids: dict[str, str], key: str = "") -> Any:
    """The truth's JSON value as the prior's: UIDs replaced, centres and normals moved."""
    if isinstance(value, dict):
        return {k: _moved(v, move, uids, k) for k, v in value.items()}
    if key == "centre_mm" and isinstance(value, list):
        return move.point(value).round(6).tolist()
    if key == "normal" and isinstance(value, list):
        return move.direction(value).round(9).tolist()
    if isinstance(value, list):
        return [_moved(v, move, uids, key) for v in value]
    if isinstance(value, str):
        return uids.get(value, value)
    return value


def generate_prior(
    out_dir: str | Path, seed: int, *, changed_level: str = CHANGED_LEVEL
) -> tuple[Path, Path]:
    """Write the current study of ``seed`` and its prior (see the module docstring) under
    ``out_dir`` and return their folders ``(current, prior)``, each with its
    ``ground_truth.json``."""
    out = Path(out_dir)
    name = study_folder_name(KIND, seed)
    current = generate(KIND, out / "current", seed)
    with _disc_changed(changed_level) as change:
        generate(KIND, out / "prior", seed)
    prior_dir = out / "prior" / name
    move = prior_move(seed, current.vertebra("L3").centre_mm)
    data = json.loads((prior_dir / GROUND_TRUTH_FILE).read_text())
    date = ""
    uids: dict[str, str] = {}
    for series in data["series"]:
        for image in series["images"]:
            path = prior_dir / image["file"]
            if not date:
                date = _year_earlier(str(pydicom.dcmread(path, stop_before_pixels=True).StudyDate))
            _rewrite_image(path, move, uids, date)
    moved = _moved(data, move, uids)
    moved["parameters"]["prior"] = {
        "of_study": current.study_instance_uid,
        "study_date": date,
        "changed_disc": {"level": changed_level, **change},
        **move.parameters(),
    }
    truth_path = prior_dir / GROUND_TRUTH_FILE
    truth_path.write_text(json.dumps(moved, indent=1, sort_keys=True) + "\n")
    load_ground_truth(truth_path)  # the rewritten truth still reads
    return out / "current" / name, prior_dir
