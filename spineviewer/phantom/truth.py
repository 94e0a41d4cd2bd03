"""Ground truth of a phantom study (``ground_truth.json``, schema version 1).

Plain frozen dataclasses with ``to_json()`` / ``from_json()``; see the package docstring for
the meaning of every field.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from spineviewer.phantom.mr_options import MrOptions

SCHEMA_VERSION = 1
GROUND_TRUTH_FILE = "ground_truth.json"

T = TypeVar("T")


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


def _from_plain(kind: Any, value: Any) -> Any:
    """Rebuild ``value`` as the annotated type ``kind`` (dataclasses, lists, optionals)."""
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        inner = [a for a in typing.get_args(kind) if a is not type(None)]
        return _from_plain(inner[0], value)
    if origin is list:
        (item,) = typing.get_args(kind)
        return [_from_plain(item, v) for v in value]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _build(kind, value)
    return value


def _build(cls: type[T], data: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    return cls(**{k: _from_plain(hints[k], v) for k, v in data.items()})


class _Json:
    """Mixin: ``to_json()`` gives plain data (floats rounded to 0.1 um), ``from_json`` reads it."""

    def to_json(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return _to_plain(self)  # type: ignore[no-any-return]

    @classmethod
    def from_json(cls: type[T], data: dict[str, Any]) -> T:
        """Rebuild from :meth:`to_json` output."""
        return _build(cls, data)


@dataclass(frozen=True)
class ImageRef(_Json):
    """One image file of a series."""

    sop_instance_uid: str
    file: str
    instance_number: int


@dataclass(frozen=True)
class SeriesTruth(_Json):
    """One series of the study."""

    series_instance_uid: str
    folder: str
    description: str
    role: str
    plane: str
    modality: str
    sop_class_uid: str
    number_of_images: int
    images: list[ImageRef]
    #: MR weighting (``T2``, ``T1``, ``STIR``); written for MR studies generated with options.
    contrast: str | None = None


@dataclass(frozen=True)
class View(_Json):
    """Where a structure appears on one image (``box_px``) or in a volume (``voxel_box``).

    ``box_px`` = [x_min, y_min, x_max, y_max]: column and row indices of the first and last
    pixels the structure covers (inclusive). ``voxel_box`` = [x_min, y_min, z_min, x_max, y_max,
    z_max] with z the index of the slice in the series (inclusive).
    """

    series_instance_uid: str
    sop_instance_uid: str | None = None
    slice_index: int | None = None
    box_px: list[int] | None = None
    voxel_box: list[int] | None = None
    tilt_deg: float | None = None
    central: bool = False
    truncated: bool = False


#: Vertebra fields written only by studies generated with fractures (defaults otherwise).
FRACTURE_FIELDS: tuple[str, ...] = ("fracture", "height_loss", "genant_grade")
#: The ``parameters`` key that marks a study generated with fractures.
FRACTURE_PARAMETER = "fracture_rate"
#: Disc fields written only when set (graded discs of wide-profile MR studies).
DEGENERATION_FIELDS: tuple[str, ...] = ("pfirrmann", "degeneration", "height_loss")
#: The ``parameters`` key that marks an MR study generated with options (field of view, six
#: lumbar vertebrae, sagittal contrasts); only then are ``in_sagittal_fov`` and ``contrast``
#: written (readers take ``True`` and ``None`` otherwise).
MR_OPTIONS_PARAMETER = "sagittal_fov"


@dataclass(frozen=True)
class VertebraTruth(_Json):
    """A vertebral body: label, centre (patient mm, LPS), where it appears, any fracture.

    ``fracture`` is ``"wedge"``, ``"crush"``, ``"biconcave"`` or ``None``; ``height_loss`` the
    ratio ``1 - h_min / h_reference`` (0 when whole); ``genant_grade`` 0-3.
    """

    label: str
    centre_mm: list[float]
    views: list[View] = field(default_factory=list)
    fracture: str | None = None
    height_loss: float = 0.0
    genant_grade: int = 0
    #: MR: the body's centre lies inside the sagittal series' field of view.
    in_sagittal_fov: bool = True

    @property
    def fractured(self) -> bool:
        """True for a fractured body."""
        return self.fracture is not None


@dataclass(frozen=True)
class DiscTruth(_Json):
    """An intervertebral disc, its state and where it appears."""

    level: str
    state: str
    centre_mm: list[float]
    normal: list[float]
    height_mm: float
    width_mm: float
    depth_mm: float
    bulge_mm: float = 0.0
    herniation_mm: float = 0.0
    herniation_side: str | None = None
    views: list[View] = field(default_factory=list)
    #: MR: the disc's centre lies inside the sagittal series' field of view.
    in_sagittal_fov: bool = True
    #: Wide-profile MR (graded discs): Pfirrmann-like grade 1-5, degeneration 0 (healthy) to
    #: 1 (black, collapsed), fraction of the disc height lost. ``None`` elsewhere (not written).
    pfirrmann: int | None = None
    degeneration: float | None = None
    height_loss: float | None = None


@dataclass(frozen=True)
class AxialLevel(_Json):
    """The disc level an axial image passes through (``None`` when no disc is near)."""

    series_instance_uid: str
    sop_instance_uid: str
    slice_index: int
    stack: int | None
    level: str | None
    distance_mm: float


@dataclass(frozen=True)
class ImplantTruth(_Json):
    """A metal implant on a radiograph."""

    implant_class: str
    box_px: list[int]
    series_instance_uid: str
    sop_instance_uid: str
    vertebra: str | None = None


@dataclass(frozen=True)
class CobbTruth(_Json):
    """The largest angle between two vertebrae's endplate lines on the AP radiograph."""

    angle_deg: float
    upper_end_vertebra: str
    lower_end_vertebra: str


@dataclass(frozen=True)
class LabelMapTruth(_Json):
    """A label image written next to the DICOM files, and the meaning of its values."""

    file: str
    series_instance_uid: str
    values: dict[str, int]


@dataclass(frozen=True)
class StudyGroundTruth(_Json):
    """Everything known about one phantom study."""

    kind: str
    seed: int
    study_instance_uid: str
    frame_of_reference_uid: str
    patient_id: str
    series: list[SeriesTruth]
    vertebrae: list[VertebraTruth]
    discs: list[DiscTruth] = field(default_factory=list)
    axial_levels: list[AxialLevel] = field(default_factory=list)
    implants: list[ImplantTruth] = field(default_factory=list)
    cobb: CobbTruth | None = None
    label_map: LabelMapTruth | None = None
    #: Drawn values (floats) and the options asked for (numbers, text, lists of text).
    parameters: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    not_for_clinical_use: bool = True
    generator: str = "spineviewer.phantom"

    def to_json(self) -> dict[str, Any]:
        """Plain dict; fracture fields only when generated with fractures, MR option fields
        (``in_sagittal_fov``, series ``contrast``) only when generated with MR options.

        Studies generated without them keep the exact file they had before they existed;
        readers take the defaults (whole bodies, everything in view).
        """
        data = _to_plain(self)
        for disc in data["discs"]:
            for name in DEGENERATION_FIELDS:
                if disc[name] is None:
                    del disc[name]
        if MR_OPTIONS_PARAMETER not in self.parameters:
            for item in data["vertebrae"] + data["discs"]:
                if item["in_sagittal_fov"]:
                    del item["in_sagittal_fov"]
            for series in data["series"]:
                if series["contrast"] is None:
                    del series["contrast"]
        if FRACTURE_PARAMETER not in self.parameters:
            for vertebra in data["vertebrae"]:
                if (vertebra["fracture"], vertebra["height_loss"], vertebra["genant_grade"]) == (
                    None,
                    0.0,
                    0,
                ):
                    for name in FRACTURE_FIELDS:
                        del vertebra[name]
        return data  # type: ignore[no-any-return]

    def series_by_role(self, role: str) -> SeriesTruth:
        """The series with ``role`` (e.g. ``"sagittal_t2"``)."""
        for s in self.series:
            if s.role == role:
                return s
        raise KeyError(f"no series with role {role!r}; roles: {[s.role for s in self.series]}")

    def vertebra(self, label: str) -> VertebraTruth:
        """The vertebra called ``label``."""
        for v in self.vertebrae:
            if v.label == label:
                return v
        raise KeyError(f"no vertebra {label!r}")

    def disc(self, level: str) -> DiscTruth:
        """The disc called ``level`` (e.g. ``"L4-L5"``)."""
        for d in self.discs:
            if d.level == level:
                return d
        raise KeyError(f"no disc {level!r}")

    @property
    def mr_options(self) -> MrOptions:
        """The MR options the study was generated with (the defaults when none were given)."""
        return MrOptions.from_parameters(self.parameters)

    def save(self, study_dir: Path) -> Path:
        """Write ``ground_truth.json`` (sorted keys, stable formatting) into ``study_dir``."""
        path = Path(study_dir) / GROUND_TRUTH_FILE
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n")
        return path


def load_ground_truth(path: str | Path) -> StudyGroundTruth:
    """Read a ``ground_truth.json`` (or the study folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / GROUND_TRUTH_FILE
    data = json.loads(path.read_text())
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema_version {version!r} is not {SCHEMA_VERSION}")
    return StudyGroundTruth.from_json(data)
