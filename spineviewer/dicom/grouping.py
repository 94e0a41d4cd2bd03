"""Group frames into studies, series and stacks.

A series whose images differ in orientation (IOP rounded to 3 decimals) or in size is split
into stacks; so is one that holds several stacks at the same positions (echoes, time points)
when an attribute tells them apart. Duplicated instances are dropped with a warning. An image
whose ImageOrientationPatient is present but unusable (NaN, not perpendicular) stays in the
largest stack of its size: one broken header must not split a series, and the stack's
warnings name the file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from spineviewer.dicom.header import DERIVED_UID_PREFIX, Frame
from spineviewer.dicom.ordering import order_frames, slice_normal
from spineviewer.dicom.study_tree import Series, Stack, Study, plane_name

GeometryKey = tuple[tuple[float, ...] | None, int, int]

_STACK_KEY_NAMES = ("echo", "acquisition", "temporal position", "stack", "temporal index")


#: Orientations whose direction cosines all differ by less than this share a stack.
ORIENTATION_TOLERANCE = 1e-3


def _group_by_geometry(frames: Iterable[Frame]) -> dict[GeometryKey, list[Frame]]:
    """Frames grouped by size and orientation, orientations matched within a tolerance.

    Matching by tolerance (not by rounding) keeps a stack together when its cosines jitter
    across a rounding boundary; the key holds the first member's orientation (3 decimals).
    """
    groups: dict[GeometryKey, list[Frame]] = {}
    references: list[tuple[GeometryKey, tuple[float, ...] | None]] = []
    for frame in frames:
        size = (frame.instance.rows, frame.instance.columns)
        orientation = frame.orientation
        for key, reference in references:
            if (key[1], key[2]) != size or (reference is None) != (orientation is None):
                continue
            if (
                reference is None
                or orientation is None
                or max(abs(a - b) for a, b in zip(reference, orientation, strict=True))
                < ORIENTATION_TOLERANCE
            ):
                groups[key].append(frame)
                break
        else:
            rounded = (
                tuple(round(v, 3) + 0.0 for v in orientation) if orientation is not None else None
            )
            key = (rounded, *size)
            references.append((key, orientation))
            groups.setdefault(key, []).append(frame)
    return groups


def _adopt(groups: dict[GeometryKey, list[Frame]], strays: list[Frame]) -> list[Frame]:
    """Put each frame of ``strays`` (its orientation unusable) into the largest oriented group
    of its size; returns those that have none (they are grouped on their own)."""
    homeless = []
    for frame in strays:
        size = (frame.instance.rows, frame.instance.columns)
        fits = [k for k in groups if k[0] is not None and (k[1], k[2]) == size]
        if fits:
            groups[max(fits, key=lambda k: len(groups[k]))].append(frame)
        else:
            homeless.append(frame)
    return homeless


def _dedupe(frames: Iterable[Frame]) -> tuple[list[Frame], list[str]]:
    kept: dict[tuple[str, int], Frame] = {}
    warnings: list[str] = []
    for frame in frames:
        key = (frame.instance.sop_instance_uid, frame.index)
        if key in kept:
            warnings.append(
                f"duplicate instance {frame.instance.sop_instance_uid}: {frame.label} "
                f"repeats {kept[key].label}; kept the first"
            )
            continue
        kept[key] = frame
    return list(kept.values()), warnings


def _has_duplicate_positions(frames: Sequence[Frame]) -> bool:
    positions = [f.position for f in frames if f.position is not None]
    rounded = {tuple(round(v, 2) for v in p) for p in positions}
    return len(rounded) < len(positions)


def _split_by_stack_key(frames: list[Frame]) -> list[tuple[str, list[Frame]]]:
    """Split frames sharing positions by the first attribute that separates them."""
    if not _has_duplicate_positions(frames):
        return [("", frames)]
    for position, name in enumerate(_STACK_KEY_NAMES):
        groups: dict[str, list[Frame]] = defaultdict(list)
        for frame in frames:
            groups[frame.stack_key[position]].append(frame)
        if len(groups) > 1 and not any(_has_duplicate_positions(g) for g in groups.values()):
            return [(f"{name} {value or '?'}", groups[value]) for value in sorted(groups)]
    return [("", frames)]


def _stack_label(key: GeometryKey, frames: Sequence[Frame]) -> str:
    orientation, rows, cols = key
    normal = slice_normal(orientation) if orientation is not None else None
    plane = plane_name(
        tuple(float(v) for v in normal) if normal is not None else None,  # type: ignore[arg-type]
        frames[0].instance.modality,
    )
    return f"{plane} {rows}x{cols}"


def build_series(uid: str, frames: list[Frame]) -> Series:
    """One series from its frames: dedupe, split into stacks, order each stack."""
    unique, warnings = _dedupe(frames)
    strays = [f for f in unique if f.unusable("ImageOrientationPatient")]
    stray_ids = {id(f) for f in strays}
    by_geometry = _group_by_geometry(f for f in unique if id(f) not in stray_ids)
    for key, group in _group_by_geometry(_adopt(by_geometry, strays)).items():
        by_geometry.setdefault(key, []).extend(group)
    parts: list[tuple[str, list[Frame]]] = []
    for key, group in by_geometry.items():
        label = _stack_label(key, group)
        for extra, sub in _split_by_stack_key(group):
            parts.append((f"{label}, {extra}" if extra else label, sub))
    if len(by_geometry) > 1:
        sizes = {(k[1], k[2]) for k in by_geometry}
        reason = "sizes" if len(sizes) > 1 else "orientations"
        warnings.append(f"series holds {len(by_geometry)} image {reason}; split into stacks")
    first = unique[0].instance
    if uid.startswith(DERIVED_UID_PREFIX):
        warnings.append(
            "files have no SeriesInstanceUID; grouped by series number, description and date"
        )
    title = first.series_description or "(no description)"
    number = f"{first.series_number}" if first.series_number is not None else "?"
    stacks = [
        Stack(
            name=(
                f"Series {number} '{title}'"
                + (
                    f" stack {i + 1}/{len(parts)} ({label}, {len(sub)} images)"
                    if len(parts) > 1
                    else ""
                )
            ),
            series_uid=uid,
            ordering=order_frames(sub),
        )
        for i, (label, sub) in enumerate(_sorted_parts(parts))
    ]
    return Series(
        uid=uid,
        number=first.series_number,
        description=first.series_description,
        modality=first.modality,
        stacks=tuple(stacks),
        warnings=tuple(warnings),
    )


def _sorted_parts(parts: list[tuple[str, list[Frame]]]) -> list[tuple[str, list[Frame]]]:
    """Stacks ordered by their mean position along their normal, then by label."""

    def key(part: tuple[str, list[Frame]]) -> tuple[float, str]:
        frames = part[1]
        positions = [f.position for f in frames if f.position is not None]
        if not positions:
            return (0.0, part[0])
        centre = np.mean(np.asarray(positions), axis=0)
        return (-float(centre[2]), part[0])  # head first, as radiologists read a spine

    return sorted(parts, key=key)


def group_frames(frames: Iterable[Frame]) -> tuple[Study, ...]:
    """Studies (by StudyInstanceUID) of series (by SeriesInstanceUID) of stacks."""
    by_study: dict[str, dict[str, list[Frame]]] = defaultdict(lambda: defaultdict(list))
    for frame in frames:
        by_study[frame.instance.study_uid][frame.instance.series_uid].append(frame)
    studies = []
    for study_uid, by_series in by_study.items():
        series = [build_series(uid, fs) for uid, fs in by_series.items()]
        series.sort(key=lambda s: (s.number if s.number is not None else 1 << 30, s.uid))
        info = next(iter(by_series.values()))[0].instance.study
        studies.append(Study(uid=study_uid, info=info, series=tuple(series)))
    studies.sort(key=lambda s: (s.info.get("StudyDate", ""), s.uid))
    return tuple(studies)
