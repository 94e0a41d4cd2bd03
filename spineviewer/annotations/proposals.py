"""The AI's findings as annotation proposals an annotator accepts, edits or rejects.

Each finding becomes one annotation on the image it was found on, ``status=proposed`` with
the model's id, version and score in its provenance (so SR export, review and the worklist
treat it like any other mark), and the finding's review need and its reasons (``review``,
``review_reasons``: the viewer marks uncertain and needs-review proposals apart):

- a vertebra on MR: a rectangle on the middle sagittal slice, label L1 .. S1, "fractured"
  and the probability in the text when the fracture model says so;
- a vertebra on a radiograph: a polygon through its four corners;
- a disc: an ellipse around its centre on the nearest axial slice, label = level, state =
  the predicted disc state;
- an implant: a rectangle with the implant class as label;
- the Cobb angle: a Cobb mark along the upper endplate of the upper end vertebra and the
  lower endplate of the lower end vertebra.
"""

from __future__ import annotations

from collections.abc import Sequence

from spineviewer.ai.findings import Findings, ModelUse
from spineviewer.annotations.annotation import Annotation, ImageRef, Provenance, Status
from spineviewer.dicom import Stack
from spineviewer.geometry import Plane

__all__ = ["DISC_ELLIPSE_MM", "proposals_from_findings"]

#: Size (width along the image rows, height) of a disc's proposal ellipse on an axial slice.
DISC_ELLIPSE_MM = (40.0, 28.0)

Where = tuple[ImageRef, Plane | None, tuple[float, float] | None]


def _index(stacks: Sequence[Stack]) -> dict[str, Where]:
    out: dict[str, Where] = {}
    for stack in stacks:
        for i, frame in enumerate(stack.frames):
            out[frame.instance.sop_instance_uid] = (
                ImageRef.of_frame(frame),
                stack.plane_of(i),
                frame.pixel_spacing,
            )
    return out


def _corners(box_px: Sequence[float]) -> list[tuple[float, float]]:
    """Pixel-edge box -> two opposite corners as (row, col) index coordinates."""
    x0, y0, x1, y1 = box_px
    return [(y0 - 0.5, x0 - 0.5), (y1 - 0.5, x1 - 0.5)]


def _rc(x: float, y: float) -> tuple[float, float]:
    return (y - 0.5, x - 0.5)


class _Builder:
    """Collects proposals on the images it knows."""

    def __init__(self, findings: Findings, stacks: Sequence[Stack]) -> None:
        self.where = _index(stacks)
        self.models = {m.id: m for m in findings.models}
        self.out: list[Annotation] = []

    def add(
        self,
        kind: str,
        uid: str,
        points: list[tuple[float, float]],
        model_id: str,
        score: float | None,
        review: tuple[str, tuple[str, ...]] = ("", ()),
        **values: str | None,
    ) -> None:
        if uid not in self.where:
            return
        ref, plane, _ = self.where[uid]
        use = self.models.get(model_id, ModelUse(model_id or "ai", "", "", ""))
        provenance = Provenance.model(use.id, use.version, score)
        self.out.append(
            Annotation.create(
                kind,
                ref,
                points,
                plane,
                status=Status.PROPOSED,
                provenance=provenance,
                review=review[0],
                review_reasons=tuple(review[1]),
                **values,
            )
        )


def _disc_ellipse(where: Where, centre_mm: Sequence[float]) -> list[tuple[float, float]] | None:
    _, plane, spacing = where
    if plane is None or spacing is None:
        return None
    row, col = (float(x) for x in plane.to_pixel(centre_mm))
    half_r, half_c = DISC_ELLIPSE_MM[1] / spacing[0] / 2, DISC_ELLIPSE_MM[0] / spacing[1] / 2
    return [(row - half_r, col - half_c), (row + half_r, col + half_c)]


def proposals_from_findings(findings: Findings, stacks: Sequence[Stack]) -> list[Annotation]:
    """Proposals for every finding whose image is among ``stacks``."""
    b = _Builder(findings, stacks)
    for v in findings.vertebrae:
        review = (v.review, v.review_reasons)
        if v.corners_px:
            ul, ur, ll, lr = v.corners_px
            outline = [_rc(*ul), _rc(*ur), _rc(*lr), _rc(*ll)]
            b.add("polygon", v.sop_instance_uid, outline, v.model_id, v.score, review,
                  label=v.label)  # fmt: skip
            continue
        text = ""
        if v.fracture in ("fractured", "uncertain") and v.fracture_probability is not None:
            word = "fractured" if v.fracture == "fractured" else "fracture uncertain"
            text = f"{word} ({v.fracture_probability:.0%})"
        corners = _corners(v.box_px)
        b.add("rectangle", v.sop_instance_uid, corners, v.model_id, v.score, review,
              label=v.label, text=text)  # fmt: skip
    for d in findings.discs:
        first = d.axial_instances[0] if d.axial_instances else ""
        ellipse = _disc_ellipse(b.where[first], d.centre_mm) if first in b.where else None
        if ellipse is not None:
            score = d.probabilities.get(d.state)
            b.add("ellipse", first, ellipse, d.model_id, score, (d.review, d.review_reasons),
                  label=d.level, state=d.state)  # fmt: skip
    for i in findings.implants:
        b.add("rectangle", i.sop_instance_uid, _corners(i.box_px), i.model_id, i.score,
              (i.review, i.review_reasons), label=i.implant_class)  # fmt: skip
    cobb = findings.cobb
    ends = {v.label: v.corners_px for v in findings.vertebrae if v.corners_px}
    if cobb is not None and cobb.upper_vertebra in ends and cobb.lower_vertebra in ends:
        upper, lower = ends[cobb.upper_vertebra], ends[cobb.lower_vertebra]
        lines = [_rc(*upper[0]), _rc(*upper[1]), _rc(*lower[2]), _rc(*lower[3])]
        text = f"Cobb {cobb.angle_deg:.1f}° ({cobb.upper_vertebra}-{cobb.lower_vertebra})"
        b.add("cobb", cobb.sop_instance_uid, lines, cobb.model_id, None, text=text)
    return b.out
