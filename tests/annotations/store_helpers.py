"""Annotations and documents for the document / undo / store tests, and a small JSON Schema
checker used when ``jsonschema`` is not installed."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from spineviewer.annotations.annotation import Annotation, ImageRef, Kind, Provenance, Status
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.geometry import Plane

STUDY = "1.2.826.0.1.3680043.8.498.1"
MR_IMAGE = "1.2.826.0.1.3680043.8.498.1.3.1"

#: Points for every kind (row, col).
POINTS: dict[Kind, list[tuple[float, float]]] = {
    Kind.RECTANGLE: [(10.25, 20.5), (40.125, 60.0)],
    Kind.ELLIPSE: [(50.0, 50.0), (70.333333, 90.1)],
    Kind.POLYGON: [(1.0, 1.0), (1.0, 30.0), (25.5, 15.25), (12.0, 3.0)],
    Kind.FREEHAND: [(5.0, 5.0), (6.1, 7.2), (8.3, 6.4), (7.7, 4.1)],
    Kind.POINT: [(100.0, 120.5)],
    Kind.LINE: [(0.0, 0.0), (255.5, 255.5)],
    Kind.ANGLE: [(10.0, 50.0), (30.0, 30.0), (10.0, 10.0)],
    Kind.COBB: [(20.0, 10.0), (25.0, 90.0), (200.0, 15.0), (190.0, 95.0)],
    Kind.ARROW: [(80.0, 80.0), (60.0, 100.0)],
}


def image(sop: str = MR_IMAGE, frame: int = 1, study: str = STUDY) -> ImageRef:
    return ImageRef(
        study_uid=study,
        series_uid=f"{study}.3",
        sop_instance_uid=sop,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.4",
        frame_number=frame,
        frame_of_reference_uid=f"{study}.9",
        pixel_spacing=(0.5, 0.5),
        rows=256,
        columns=256,
    )


def plane() -> Plane:
    """A sagittal plane with 0.5 mm pixels (patient points are not trivial)."""
    return Plane(
        origin=np.array([-10.0, -120.0, 80.0]),
        row_dir=np.array([0.0, 1.0, 0.0]),
        col_dir=np.array([0.0, 0.0, -1.0]),
        spacing=(0.5, 0.5),
        shape=(256, 256),
    )


def mark(
    kind: Kind = Kind.POINT,
    uid: str | None = None,
    label: str = "",
    sop: str = MR_IMAGE,
    **kwargs: Any,
) -> Annotation:
    """A human annotation of ``kind`` with patient points."""
    extra = {"uid": uid} if uid else {}
    return Annotation.create(
        kind, image(sop), POINTS[kind], plane(), label=label, **extra, **kwargs
    )


def every_kind_document() -> AnnotationDocument:
    """A document with one annotation of every kind, a scored model proposal, a rejected one."""
    doc = AnnotationDocument(
        STUDY,
        patient_id="PHANTOM-1",
        patient_name=None,
        study_date="20240131",
        study_description="MR lumbar spine",
        source_paths=["/data/studies/phantom"],
        author="dr. ürsula",
    )
    for kind in Kind:
        doc.add(mark(kind, uid=f"human-{kind.value}", label="L4" if kind == Kind.POLYGON else ""))
    doc.add(
        mark(
            Kind.POLYGON,
            uid="proposal-1",
            label="L4-L5",
            state="bulge",
            status=Status.PROPOSED,
            provenance=Provenance.model("spine-seg", "1.2.0", 0.8734519),
        )
    )
    doc.add(mark(Kind.ARROW, uid="note", text="Schmorl node?\nsecond line", status=Status.REJECTED))
    doc.add(
        Annotation.create(Kind.POINT, image("1.2.3.4.5", frame=7), [(3.0, 4.0)], None, uid="xr")
    )
    return doc


# -- a JSON Schema subset checker (the keywords the shipped schemas use) -------------------------

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def schema_errors(
    schema: dict[str, Any], value: Any, root: dict[str, Any] | None = None, where: str = "$"
) -> list[str]:
    """Where ``value`` breaks ``schema`` (draft 2020-12 subset); [] when it fits."""
    root = root if root is not None else schema
    errors: list[str] = []

    def sub(s: dict[str, Any], v: Any, w: str) -> list[str]:
        return schema_errors(s, v, root, w)

    handled = {"$schema", "$id", "title", "description", "$defs", "if", "then"}
    for key, rule in schema.items():
        if key in handled:
            continue
        if key == "$ref":
            m = re.fullmatch(r"#/\$defs/(\w+)", rule)
            assert m, rule
            errors += sub(root["$defs"][m.group(1)], value, where)
        elif key == "type":
            names = [rule] if isinstance(rule, str) else rule
            if not any(_is_type(value, n) for n in names):
                errors.append(f"{where}: not {rule}")
        elif key == "const":
            if value != rule or type(value) is not type(rule):
                errors.append(f"{where}: not {rule!r}")
        elif key == "enum":
            if value not in rule:
                errors.append(f"{where}: {value!r} not in {rule}")
        elif key == "required":
            if isinstance(value, dict):
                errors += [f"{where}: {k} missing" for k in rule if k not in value]
        elif key == "properties":
            if isinstance(value, dict):
                for k, s in rule.items():
                    if k in value:
                        errors += sub(s, value[k], f"{where}.{k}")
        elif key == "additionalProperties":
            if isinstance(value, dict) and rule is False:
                extra = set(value) - set(schema.get("properties", {}))
                errors += [f"{where}: unexpected {k}" for k in sorted(extra)]
        elif key == "items":
            if isinstance(value, list):
                for i, v in enumerate(value):
                    errors += sub(rule, v, f"{where}[{i}]")
        elif key in ("minItems", "maxItems"):
            if isinstance(value, list) and not (
                len(value) >= rule if key == "minItems" else len(value) <= rule
            ):
                errors.append(f"{where}: {key} {rule}")
        elif key == "minLength":
            if isinstance(value, str) and len(value) < rule:
                errors.append(f"{where}: shorter than {rule}")
        elif key in ("minimum", "exclusiveMinimum"):
            if _is_type(value, "number") and (value < rule or (key[0] == "e" and value == rule)):
                errors.append(f"{where}: below {rule}")
        elif key == "anyOf":
            if all(sub(s, value, where) for s in rule):
                errors.append(f"{where}: fits none of anyOf")
        elif key == "allOf":
            for s in rule:
                errors += sub(s, value, where)
        else:
            raise AssertionError(f"schema keyword {key} not supported by this checker")
    if "if" in schema and not sub(schema["if"], value, where):
        errors += sub(schema.get("then", {}), value, where)
    return errors
