"""Annotations of every kind on the demo phantom, and helpers for the SR / SEG / COCO tests."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from spineviewer.annotations.annotation import Annotation, ImageRef, Provenance, Status
from spineviewer.annotations.frames import (
    FrameKey,
    frame_planes,
    image_ref,
    image_refs,
    source_headers,
)
from spineviewer.dicom import Stack, scan
from spineviewer.geometry import Plane
from spineviewer.phantom import generate, study_folder_name

AUTHOR = "Doe^Jane"
MODEL = Provenance.model("disc-classifier", "0.3.1", 0.8125)


@dataclass(frozen=True)
class MarkedStudy:
    """A phantom study, its headers and annotations of every kind on two of its images."""

    folder: Path
    stacks: tuple[Stack, ...]
    headers: dict[str, Dataset]
    images: dict[FrameKey, ImageRef]
    planes: dict[FrameKey, Plane]
    annotations: tuple[Annotation, ...]


def _mark(stack: Stack, index: int, kind: str, points, **kwargs) -> Annotation:
    human = Provenance(author=AUTHOR, created="2024-01-02T03:04:05", modified="2024-01-02T03:04:05")
    kwargs.setdefault("provenance", human)
    return Annotation.create(kind, image_ref(stack, index), points, stack.plane_of(index), **kwargs)


def every_kind(sagittal: Stack, axial: Stack) -> tuple[Annotation, ...]:
    """Every kind, coded and uncoded labels, all disc states, statuses, a model proposal."""
    s, a = len(sagittal) // 2, len(axial) // 2
    return (
        _mark(sagittal, s, "rectangle", [(120.25, 110.5), (150.75, 160.0)], label="L3"),
        _mark(
            sagittal,
            s,
            "ellipse",
            [(190.0, 140.0), (176.5, 100.25)],
            label="L4-L5",
            state="herniation",
        ),
        _mark(sagittal, s, "polygon", [(20.5, 20.0), (20.0, 60.0), (50.0, 40.25)], label="rod"),
        _mark(
            axial,
            a,
            "freehand",
            [(100, 100), (102.5, 140), (130, 130), (128, 104)],
            label="L5-S1",
            state="bulge",
            status=Status.EDITED,
        ),
        _mark(sagittal, s, "point", [(260.0, 172.5)], label="sacrum"),
        _mark(sagittal, s, "line", [(127.0, 131.0), (197.5, 139.0)], text="L2 to L4 centres"),
        _mark(sagittal, s, "angle", [(40.0, 60.0), (80.0, 90.0), (40.0, 120.0)], label="fracture"),
        _mark(
            sagittal,
            s,
            "cobb",
            [(50.0, 60.0), (55.0, 90.0), (80.0, 60.0), (70.0, 90.0)],
            status=Status.REJECTED,
        ),
        _mark(sagittal, s, "arrow", [(30.0, 200.0), (60.0, 170.0)], label="text", text="look here"),
        _mark(
            axial,
            a,
            "rectangle",
            [(90.0, 95.0), (140.0, 150.0)],
            label="L4-L5",
            state="normal",
            status=Status.PROPOSED,
            provenance=MODEL,
        ),
    )


@cache
def marked_study(folder: Path) -> MarkedStudy:
    """The demo study with :func:`every_kind` annotations (built once per folder)."""
    stacks = tuple(scan(folder).stacks())
    sagittal = next(st for st in stacks if st.plane == "sagittal")
    axial = next(st for st in stacks if st.plane == "axial")
    return MarkedStudy(
        folder=folder,
        stacks=stacks,
        headers=source_headers(stacks),
        images=image_refs(stacks),
        planes=frame_planes(stacks),
        annotations=every_kind(sagittal, axial),
    )


@dataclass(frozen=True)
class MarkedRadiograph:
    """The AP radiograph phantom (no patient frame) with marks of several kinds."""

    folder: Path
    headers: dict[str, Dataset]
    annotations: tuple[Annotation, ...]


@cache
def marked_radiograph(root: Path) -> MarkedRadiograph:
    """Generate the radiograph phantom under ``root`` (once) and mark it."""
    generate("spine-xr", root, 1)
    folder = root / study_folder_name("spine-xr", 1)
    [stack] = scan(folder).stacks()
    marks = (
        _mark(stack, 0, "ellipse", [(400, 200), (460, 300)], label="pedicle_screw"),
        _mark(
            stack,
            0,
            "polygon",
            [(500, 100), (520, 300), (560, 200)],
            label="interbody_cage",
            provenance=Provenance.model("implant-detector", "1.0", 0.5),
        ),
        _mark(stack, 0, "cobb", [(300, 100), (290, 400), (700, 100), (720, 400)]),
        _mark(stack, 0, "line", [(300, 250), (700, 250)], label="L1"),
    )
    return MarkedRadiograph(folder, source_headers([stack]), marks)


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_tool(name: str, *args: str) -> str:
    """stdout + stderr of a DICOM tool; the test is skipped when the tool is not installed."""
    exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (Debian packages dicom3tools / dcmtk)")
    done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, check=False)
    return done.stdout + done.stderr


def dciodvfy_errors(path: Path) -> list[str]:
    """The lines of dciodvfy's report on ``path`` that are errors."""
    return [line for line in run_tool("dciodvfy", str(path)).splitlines() if "Error" in line]
