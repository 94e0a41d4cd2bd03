"""What an analysis found: frozen dataclasses with a JSON form (no Qt, no onnxruntime).

Coordinates: ``box_px`` is ``[x_min, y_min, x_max, y_max]`` in the image's pixel *edge*
coordinates (pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)``); ``corners_px`` and
``centre_px`` are ``[x, y]`` in the same system; ``centre_mm`` is patient LPS millimetres
(on a projection radiograph: the detector plane, ``[x, 0, -y]`` from the image origin, as the
phantom ground truth). Angles are degrees, counter-clockwise as displayed.

Every vertebra, disc and implant carries its review need (``review``: :data:`CONFIDENT`,
:data:`UNCERTAIN` or :data:`NEEDS_REVIEW`) and why (``review_reasons``); the labelling of the
column as a whole is checked too (:class:`LabellingCheck`: sacrum in view or not, count against
the field of view, gaps). A "needs review" label is one a reader must confirm before trusting
the level names (no sacrum in view, possible transitional anatomy, a missed body).

Every step of a pipeline leaves a :class:`StepResult` (done / skipped / failed, why, how
long), so a study whose sagittal series is missing still gets its X-ray findings and says
why the rest is absent. ``to_dict`` / ``from_dict`` round-trip exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.display_names import display_name
from spineviewer.ai.manifest_model import ModelLabel

__all__ = [
    "CONFIDENT",
    "NEEDS_REVIEW",
    "REVIEW_STATUSES",
    "SCHEMA_VERSION",
    "UNCERTAIN",
    "AxialAssignment",
    "ClassificationFinding",
    "CobbFinding",
    "DiscFinding",
    "Findings",
    "ImplantFinding",
    "LabelMapFinding",
    "LabellingCheck",
    "ModelUse",
    "StepResult",
    "VertebraFinding",
    "rounded",
    "worst",
]

SCHEMA_VERSION = 1

#: Review needs, from least to most (:func:`worst`). The viewer shows each by text and line
#: style as well as colour; the report lists them.
CONFIDENT = "confident"
UNCERTAIN = "uncertain"
NEEDS_REVIEW = "needs review"
REVIEW_STATUSES: tuple[str, ...] = (CONFIDENT, UNCERTAIN, NEEDS_REVIEW)


def worst(*statuses: str) -> str:
    """The most demanding of ``statuses`` (:data:`CONFIDENT` when none is given)."""
    return max(statuses, key=REVIEW_STATUSES.index, default=CONFIDENT)


Box = tuple[float, float, float, float]
Point2 = tuple[float, float]
Point3 = tuple[float, float, float]


def rounded(values: Sequence[float], digits: int = 3) -> Any:
    """A box or a point as a tuple of floats rounded for the JSON form."""
    return tuple(round(float(v), digits) for v in values)


@dataclass(frozen=True)
class ModelUse:
    """A model that contributed, and where it ran."""

    id: str
    version: str
    sha256: str
    provider: str
    not_for_clinical_use: bool = True
    #: Where the package was found: "chosen folder", "user folder" or "shipped folder" (the
    #: first wins between two packages of one id); "" when not known.
    origin: str = ""


@dataclass(frozen=True)
class VertebraFinding:
    label: str
    score: float
    series_uid: str
    sop_instance_uid: str
    box_px: Box
    centre_mm: Point3
    #: (upper, lower) endplate angles on a radiograph; None on MR.
    tilt_deg: tuple[float, float] | None = None
    #: UL, UR, LL, LR corners on a radiograph.
    corners_px: tuple[Point2, ...] = ()
    #: "normal" / "fractured" / "uncertain" (the model's answer and the body's heights
    #: disagree) and the model's probability of "fractured", when the fracture model ran.
    fracture: str | None = None
    fracture_probability: float | None = None
    #: Anterior, middle and posterior body heights (mm) measured on the sagittal image, and
    #: Genant's height loss from them (:mod:`spineviewer.ai.body_heights`).
    body_heights_mm: tuple[float, float, float] | None = None
    height_loss: float | None = None
    #: Why the fracture answer is what it is (the heights, a disagreement).
    fracture_reasons: tuple[str, ...] = ()
    #: The model that found it (an id of ``Findings.models``).
    model_id: str = ""
    #: :data:`CONFIDENT`, :data:`UNCERTAIN` or :data:`NEEDS_REVIEW`, and why.
    review: str = CONFIDENT
    review_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiscFinding:
    level: str
    state: str
    probabilities: dict[str, float]
    centre_mm: Point3
    #: The axial images whose crops were classified (SOP Instance UIDs), nearest first.
    axial_instances: tuple[str, ...]
    #: Crop boxes on those images (pixel edges), in the same order.
    roi_boxes_px: tuple[Box, ...] = ()
    model_id: str = ""
    #: :data:`CONFIDENT`, :data:`UNCERTAIN` or :data:`NEEDS_REVIEW`, and why.
    review: str = CONFIDENT
    review_reasons: tuple[str, ...] = ()
    #: Which view the state comes from: "axial", or "sagittal" (no axial slice through the
    #: disc; a sagittal disc-state model read the slices beside its centre).
    view: str = "axial"
    #: The sagittal images whose crops were classified (``view`` "sagittal").
    sagittal_instances: tuple[str, ...] = ()
    #: The disc's posterior margin against the line of its bodies' posterior corners, measured
    #: on the sagittal slices beside its centre (:mod:`spineviewer.ai.disc_contour`): how far
    #: it reaches beyond (mm, the most on any slice; negative: in front of it), the left-right
    #: extent of the slices where it reaches 0.5 mm or more, and the extent measured (mm).
    posterior_extension_mm: float | None = None
    extension_width_mm: float | None = None
    measured_width_mm: float | None = None
    #: The disc's posterior outline on its axial T2 slices
    #: (:mod:`spineviewer.ai.disc_contour_axial`): how far its most displaced part lies behind
    #: the smooth outline of the rest (mm), the arc that displacement spans seen from the disc
    #: centre (degrees), and where its peak lies (mm left-right, patient left positive).
    axial_focal_mm: float | None = None
    axial_focal_arc_deg: float | None = None
    axial_focal_offset_mm: float | None = None
    #: Why the state is what it is (the measurement, or its disagreement with the model's
    #: answer, which then is in ``review_reasons`` too and makes the disc "uncertain").
    state_reasons: tuple[str, ...] = ()

    @property
    def instances(self) -> tuple[str, ...]:
        """The images whose crops gave the state, of the view it comes from."""
        return self.axial_instances if self.view == "axial" else self.sagittal_instances


@dataclass(frozen=True)
class AxialAssignment:
    """Which disc level an axial image was assigned to (None: no disc near enough)."""

    series_uid: str
    sop_instance_uid: str
    level: str | None
    distance_mm: float


@dataclass(frozen=True)
class ImplantFinding:
    implant_class: str
    score: float
    sop_instance_uid: str
    box_px: Box
    model_id: str = ""
    #: :data:`CONFIDENT`, :data:`UNCERTAIN` or :data:`NEEDS_REVIEW`, and why.
    review: str = CONFIDENT
    review_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabellingCheck:
    """How far the level names of a column can be trusted.

    ``confidence`` 0..1 combines the checks below; ``status`` is :data:`CONFIDENT`,
    :data:`UNCERTAIN` or :data:`NEEDS_REVIEW`; ``sacrum`` is ``"found"``, ``"not in view"``
    (the image ends above it), ``"not recognised"`` or ``"at the image edge"`` (the body taken
    as S1 is cut by the lower edge, so it may be L5); ``gaps`` name the bodies missed between
    two found ones (``"L3 missing between L2 and L4"``: no disc is built across a gap);
    ``reasons`` say, in a reader's words, what lowered the confidence.
    """

    series_uid: str
    confidence: float
    status: str
    sacrum: str
    reasons: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()


#: Why a lumbar field of view cannot settle the count of lumbar vertebrae (both generators
#: and the detector have no ribs to tell T12 from L1: a sixth lumbar vertebra shifts every
#: label by one, unflagged).
COUNT_LIMIT = "assuming five lumbar vertebrae (a sixth is not recognised on a lumbar field)"


def numbering(check: LabellingCheck) -> str:
    """How ``check``'s column was numbered, as a radiology report states it."""
    if check.sacrum == "not in view":
        return f"numbered up from the bottom body as L5, {COUNT_LIMIT}"
    return f"numbered up from S1, {COUNT_LIMIT}"


@dataclass(frozen=True)
class CobbFinding:
    angle_deg: float
    upper_vertebra: str
    lower_vertebra: str
    upper_tilt_deg: float
    lower_tilt_deg: float
    sop_instance_uid: str
    model_id: str = ""


@dataclass(frozen=True)
class ClassificationFinding:
    """A generic classifier's answer for one image (a user's own fracture or osteoporosis
    model, run on the whole image)."""

    model_id: str
    series_uid: str
    sop_instance_uid: str
    label: str
    probabilities: dict[str, float]


@dataclass(frozen=True, eq=False)
class LabelMapFinding:
    """A segmentation model's label map of one series: which series, which model, and (in
    memory only, never in the JSON form) the labels themselves on the series' grid.

    The JSON form names the series and the model, the grid's shape and voxel size and what
    each value stands for; read back, :attr:`labels` is None (the viewer and the report's
    per-label volumes need the analysis that made it)."""

    series_uid: str
    model_id: str
    model_version: str
    frame_of_reference_uid: str = ""
    #: (slices k, rows j, columns i) like the series: 0 background, else a key of ``values``.
    labels: NDArray[np.unsignedinteger] | None = field(default=None, repr=False)
    #: What each non-zero value stands for.
    values: Mapping[int, ModelLabel] = field(default_factory=dict, repr=False)
    #: 4x4: homogeneous index (k, j, i, 1) -> patient (x, y, z, 1), LPS mm (the series').
    affine: tuple[tuple[float, ...], ...] = ()
    #: The grid's (k, j, i) shape, kept when the labels are not.
    shape: tuple[int, int, int] = (0, 0, 0)

    @property
    def description(self) -> str:
        """Who made it, for a person ("spine-ct-segmentation 1.0")."""
        return f"{self.model_id} {self.model_version}".strip()

    @property
    def voxel_mm3(self) -> float:
        """The volume of one voxel, mm³ (0 without the affine)."""
        if not self.affine:
            return 0.0
        return float(abs(np.linalg.det(np.asarray(self.affine, dtype=np.float64)[:3, :3])))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: no labels array."""
        return {
            "series_uid": self.series_uid,
            "model_id": self.model_id,
            "model_version": self.model_version,
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "shape": list(self.shape),
            "voxel_mm3": round(self.voxel_mm3, 6),
            "values": {str(k): v.name for k, v in sorted(self.values.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelMapFinding:
        shape = tuple(int(n) for n in data.get("shape", (0, 0, 0)))
        return cls(
            data["series_uid"],
            data["model_id"],
            data.get("model_version", ""),
            data.get("frame_of_reference_uid", ""),
            shape=(shape[0], shape[1], shape[2]) if len(shape) == 3 else (0, 0, 0),
        )


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # "done", "skipped", "failed"
    reason: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Findings:
    """Everything one analysis of one study found."""

    study_uid: str
    provider: str
    models: tuple[ModelUse, ...] = ()
    vertebrae: tuple[VertebraFinding, ...] = ()
    discs: tuple[DiscFinding, ...] = ()
    axial_levels: tuple[AxialAssignment, ...] = ()
    implants: tuple[ImplantFinding, ...] = ()
    cobb: CobbFinding | None = None
    classifications: tuple[ClassificationFinding, ...] = ()
    steps: tuple[StepResult, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The checks of the vertebra labels (one per labelled series), when vertebrae were found.
    labelling: tuple[LabellingCheck, ...] = ()
    schema_version: int = SCHEMA_VERSION
    created: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: The label maps the segmentation models made (the arrays in memory only: the JSON form
    #: lists their series and models, :meth:`LabelMapFinding.to_dict`).
    label_maps: tuple[LabelMapFinding, ...] = field(default=(), compare=False)

    @property
    def not_for_clinical_use(self) -> bool:
        """True when any model that contributed is a demonstration model."""
        return any(m.not_for_clinical_use for m in self.models)

    @property
    def fractures(self) -> tuple[VertebraFinding, ...]:
        return tuple(v for v in self.vertebrae if v.fracture == "fractured")

    def summary_lines(self) -> list[str]:
        """What a person reads: findings, steps that did not run and why, warnings, notice."""
        lines = []
        where = self._where()
        columns: dict[str, list[str]] = {}
        for v in self.vertebrae:
            columns.setdefault(v.series_uid, []).append(v.label)
        for uid, labels in columns.items():
            lines.append(f"vertebrae{where.get(uid, '')}: " + " ".join(labels))
        for check in self.labelling:
            tag = where.get(check.series_uid, "")
            if check.status != CONFIDENT:
                why = "; ".join([*check.gaps, *check.reasons])
                lines.append(f"vertebra labels{tag}: {check.status} ({why})")
            lines.append(f"vertebra levels{tag}: {numbering(check)}")
        for d in self.discs:
            p, n = d.probabilities[d.state], len(d.instances)
            view = "" if d.view == "axial" else f" {d.view}"
            note = f", {d.review}" if d.review != CONFIDENT else ""
            disputed = [r for r in d.state_reasons if r in d.review_reasons]
            note += f"; {disputed[0]}" if disputed else ""
            lines.append(f"disc {d.level}: {d.state} ({p:.2f}, {n}{view} slices{note})")
        for v in self.vertebrae:
            if v.fracture in ("fractured", UNCERTAIN):
                tag = "fracture" if v.fracture == "fractured" else "fracture uncertain"
                why = f"; {v.fracture_reasons[0]}" if v.fracture_reasons else ""
                lines.append(f"{tag}: {v.label} ({v.fracture_probability or 0:.2f}{why})")
        if self.implants:
            counts: dict[str, int] = {}
            for implant in self.implants:
                counts[implant.implant_class] = counts.get(implant.implant_class, 0) + 1
            lines.append(
                "implants: " + ", ".join(f"{n} {display_name(k)}" for k, n in counts.items())
            )
        if self.cobb is not None:
            c = self.cobb
            lines.append(
                f"Cobb angle {c.angle_deg:.1f} deg ({c.upper_vertebra} to {c.lower_vertebra})"
            )
        for k in self.classifications:
            lines.append(f"{k.model_id}: {k.label} ({k.probabilities[k.label]:.2f})")
        skipped: set[str] = set()  # a pipeline's first skipped step explains the rest
        for s in self.steps:
            pipeline = s.name.split(":")[0]
            if s.status == "failed" or (s.status == "skipped" and pipeline not in skipped):
                lines.append(f"{s.name}: {s.status}: {s.reason}")
            if s.status == "skipped":
                skipped.add(pipeline)
        lines += [f"warning: {w}" for w in self.other_warnings()]
        if self.not_for_clinical_use:
            lines.append("NOT FOR CLINICAL USE: demonstration models trained on phantoms")
        return lines

    def _where(self) -> dict[str, str]:
        """Series UID -> " (MR)" or " (radiograph)" when the vertebrae come from several series
        (a study with a sagittal MR and a radiograph has an L1 on each); empty otherwise."""
        kinds = {v.series_uid: v.tilt_deg is not None for v in self.vertebrae}
        if len(kinds) < 2:
            return {}
        return {uid: " (radiograph)" if xr else " (MR)" for uid, xr in kinds.items()}

    def other_warnings(self) -> tuple[str, ...]:
        """The warnings less those that restate a labelling check's gaps and reasons (the
        pipelines list those as warnings too, "vertebra labels: <reason>"): what the summary
        and the report show beside the check, which says them already."""
        said = {text for check in self.labelling for text in (*check.gaps, *check.reasons)}
        return tuple(w for w in self.warnings if w.split(": ", 1)[-1] not in said)

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(replace(self, label_maps=()))  # no deep copy of a label map's array
        del out["label_maps"]
        if self.label_maps:
            out["label_maps"] = [m.to_dict() for m in self.label_maps]
        out["not_for_clinical_use"] = self.not_for_clinical_use
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save(self, path: str | Path) -> Path:
        """Write the JSON form atomically (a temporary file renamed over the target)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(self.to_json() + "\n", encoding="utf-8")
        partial.replace(target)
        return target

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Findings:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"findings schema version {version!r}; this reads {SCHEMA_VERSION}")
        return cls(
            study_uid=data["study_uid"],
            provider=data["provider"],
            models=tuple(ModelUse(**_known_fields(ModelUse, m)) for m in data.get("models", ())),
            vertebrae=tuple(_vertebra(v) for v in data.get("vertebrae", ())),
            discs=tuple(_disc(d) for d in data.get("discs", ())),
            axial_levels=tuple(AxialAssignment(**a) for a in data.get("axial_levels", ())),
            implants=tuple(_implant(i) for i in data.get("implants", ())),
            cobb=CobbFinding(**data["cobb"]) if data.get("cobb") else None,
            classifications=tuple(
                ClassificationFinding(**c) for c in data.get("classifications", ())
            ),
            steps=tuple(StepResult(**s) for s in data.get("steps", ())),
            warnings=tuple(data.get("warnings", ())),
            labelling=tuple(_labelling(c) for c in data.get("labelling", ())),
            created=data.get("created", ""),
            extra=dict(data.get("extra", {})),
            label_maps=tuple(LabelMapFinding.from_dict(m) for m in data.get("label_maps", ())),
        )

    @classmethod
    def from_json(cls, text: str) -> Findings:
        return cls.from_dict(json.loads(text))


def _known_fields(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in data.items() if k in names}


def _vertebra(data: dict[str, Any]) -> VertebraFinding:
    d = _known_fields(VertebraFinding, data)
    d["box_px"] = tuple(d["box_px"])
    d["centre_mm"] = tuple(d["centre_mm"])
    d["tilt_deg"] = tuple(d["tilt_deg"]) if d.get("tilt_deg") else None
    d["corners_px"] = tuple(tuple(p) for p in d.get("corners_px", ()))
    d["review_reasons"] = tuple(d.get("review_reasons", ()))
    d["fracture_reasons"] = tuple(d.get("fracture_reasons", ()))
    heights = d.get("body_heights_mm")
    d["body_heights_mm"] = tuple(heights) if heights else None
    return VertebraFinding(**d)


def _disc(data: dict[str, Any]) -> DiscFinding:
    d = _known_fields(DiscFinding, data)
    d["centre_mm"] = tuple(d["centre_mm"])
    d["axial_instances"] = tuple(d["axial_instances"])
    d["roi_boxes_px"] = tuple(tuple(b) for b in d.get("roi_boxes_px", ()))
    d["review_reasons"] = tuple(d.get("review_reasons", ()))
    d["sagittal_instances"] = tuple(d.get("sagittal_instances", ()))
    d["state_reasons"] = tuple(d.get("state_reasons", ()))
    return DiscFinding(**d)


def _implant(data: dict[str, Any]) -> ImplantFinding:
    d = _known_fields(ImplantFinding, data)
    d["box_px"] = tuple(d["box_px"])
    d["review_reasons"] = tuple(d.get("review_reasons", ()))
    return ImplantFinding(**d)


def _labelling(data: dict[str, Any]) -> LabellingCheck:
    d = _known_fields(LabellingCheck, data)
    d["reasons"] = tuple(d.get("reasons", ()))
    d["gaps"] = tuple(d.get("gaps", ()))
    return LabellingCheck(**d)
