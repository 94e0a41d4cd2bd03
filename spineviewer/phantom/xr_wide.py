"""Wide-profile AP spine radiographs (``spineviewer phantom --kind spine-xr --profile wide``).

The standard ``spine-xr`` phantom (:mod:`spineviewer.phantom.xr`) is a cartoon: bright bone on
an even background. A wide study draws, per seed and over clinically plausible ranges, what
makes real AP films harder: the bone-to-soft-tissue contrast (down to low: thick patients,
osteopenia, high kVp), the soft tissue's thickness and its gradient down the trunk, the lung
bases, ribs over T8-T12, the sacrum, the iliac wings and femoral heads, bowel gas over the
lumbar spine, a diverging beam's magnification, scatter, detector blur and quantum noise, and
the detector's processing (log, latitude compression, unsharp masking, gamma, stored bits,
MONOCHROME1), on a fine detector matrix (ImagerPixelSpacing 0.1-0.2 mm, coarser when the
field would need more than 3000 rows), a field of view from T8 to S1, T10 to the pelvis or
T12 to the pelvis, body sizes, a scoliotic curve of 0-45 degrees (single or double), the
patient turned on the table and tilted in the image plane, and implants.

Coordinates as in the standard study: detector-plane millimetres ``x = column * spacing``,
``y = row * spacing``; ``centre_mm`` is ``[x, 0, -y]`` in detector mm (the header has
ImagerPixelSpacing only, as most CR and many DX films: lengths in ``mm (detector)``). Every
drawn value is in the truth's ``parameters["wide"]``. A body gets a view (box and tilt) when
at least half of its outline lies in the field. Own random stream and own UIDs (variant
``wide``): the standard studies are unchanged.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.phantom.anatomy import BODY_HEIGHT, BODY_WIDTH, DISC_BELOW
from spineviewer.phantom.dicom_files import StudyInfo
from spineviewer.phantom.imaging import box_of
from spineviewer.phantom.radiograph import Blob, add_solid
from spineviewer.phantom.records import study_truth
from spineviewer.phantom.truth import ImplantTruth, StudyGroundTruth, VertebraTruth, View
from spineviewer.phantom.xr import (
    KIND,
    XrVertebra,
    _decorate,
    _implants,
    _tilts,
    cobb_from_tilts,
    write_ap_radiograph,
)
from spineviewer.phantom.xr_film import Exposure, develop, expose

PROFILE = "wide"
WIDE_LABELS: tuple[str, ...] = (
    "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1",
)  # fmt: skip
FIELDS: tuple[str, ...] = ("T8-S1", "T10-pelvis", "T12-pelvis")
#: The render grid (detector mm) on which attenuation is summed before the detector matrix.
GRID_MM = 0.5
MAX_ROWS = 3000
#: A body is in view (gets a box) when this much of its outline lies inside the field.
IN_VIEW = 0.5
_HEIGHT = {"T8": 19.0, **BODY_HEIGHT}
_WIDTH = {"T8": 32.0, **BODY_WIDTH}
_DISC = {"T8": 4.5, **DISC_BELOW}


def wide_folder_name(seed: int) -> str:
    """``spine-xr-<seed:05d>-wide``: a wide study's folder."""
    return f"{KIND}-{seed:05d}-{PROFILE}"


def _visible(blob: Blob, spacing: float, shape: tuple[int, ...]) -> bool:
    """Whether the blob's window reaches into an image of ``shape``."""
    reach = math.hypot(*blob.half) / spacing + 1.0
    cx, cy = blob.centre[0] / spacing, blob.centre[1] / spacing
    return -reach < cy < shape[0] + reach and -reach < cx < shape[1] + reach


def _add(image: np.ndarray, blob: Blob, density: float, rim: float = 0.0) -> None:
    """:func:`add_solid` on the render grid, nothing when the blob lies outside it."""
    if _visible(blob, GRID_MM, image.shape):
        add_solid(image, blob, GRID_MM, density, rim=rim)


def _curve(rng: np.random.Generator, count: int) -> tuple[list[float], dict[str, Any]]:
    """Per-body endplate tilts: a C curve (0-45 degrees) and, in some, a second curve above it
    turning the other way, plus the whole patient tilted in the image plane."""
    tilts, target = _tilts(rng, count)
    scale = 45.0 / 50.0
    tilts = [t * scale for t in tilts]
    double = bool(rng.random() < 0.35)
    second = float(rng.uniform(0.4, 0.9)) if double else 0.0
    if double:  # a compensating curve over the upper third, against the main one's top tilt
        top = max(2, count // 3)
        for k in range(top):
            tilts[k] -= tilts[top] * second * (1.0 + math.cos(math.pi * k / top)) / 2 * 2.0
    in_plane = float(rng.normal(0.0, 2.5))
    return [t + in_plane for t in tilts], {
        "curve_target_deg": target * scale,
        "double_curve": double,
        "second_curve_fraction": second,
        "in_plane_tilt_deg": in_plane,
    }


def _column(
    rng: np.random.Generator, magnification: float, size: float
) -> tuple[list[XrVertebra], dict[str, Any]]:
    """T8..S1 in detector mm from (0, 0) at T8's centre (the field is placed afterwards)."""
    tilts, drawn = _curve(rng, len(WIDE_LABELS) - 1)
    tilts.append(tilts[-1] * 0.5 + float(rng.normal(0.0, 1.5)))
    k = magnification * size
    out: list[XrVertebra] = []
    for label, tilt in zip(WIDE_LABELS, tilts, strict=True):
        h = _HEIGHT[label] * k * rng.uniform(0.95, 1.05)
        w = _WIDTH[label] * k * rng.uniform(0.95, 1.05)
        if out:
            prev = out[-1]
            step = prev.body.half[1] + _DISC[prev.label] * k * rng.uniform(0.7, 1.2) + h / 2
            a = math.radians((prev.tilt_deg + tilt) / 2)
            x = prev.body.centre[0] + step * math.sin(a)
            y = prev.body.centre[1] + step * math.cos(a)
        else:
            x, y = 0.0, 0.0
        out.append(XrVertebra(label, Blob((x, y), (w / 2, h / 2), tilt, float(rng.uniform(3, 5)))))
    return out, drawn


def _shift(spine: list[XrVertebra], dx: float, dy: float) -> list[XrVertebra]:
    return [
        XrVertebra(
            v.label,
            Blob((v.body.centre[0] + dx, v.body.centre[1] + dy), v.body.half, v.tilt_deg,
                 v.body.exponent),
        )
        for v in spine
    ]  # fmt: skip


def _bones(
    bone: np.ndarray, spine: list[XrVertebra], k: float, turn: float, pelvis: dict[str, float]
) -> None:
    """Bone density (the standard phantom's units) on the render grid: bodies, pedicle rings,
    spinous and transverse processes, ribs, sacrum, iliac wings, femoral heads."""
    for v in spine:
        b, (hw, hh) = v.body, v.body.half
        _add(bone, b, 0.8, rim=0.35)
        if v.label == "S1":
            continue
        for side in (-1.0, 1.0):
            ring = Blob(b.point(side * 0.6 * hw + turn * hw, 0.25 * hh), (0.18 * hw, 0.3 * hh),
                        b.angle_deg)  # fmt: skip
            _add(bone, ring, 0.1, rim=0.45)
            lumbar = v.label.startswith("L")
            tp_len = (14.0 if lumbar else 10.0) * k
            tp = Blob(b.point(side * (hw + tp_len / 2), 0.2 * hh), (tp_len / 2 + 4.0 * k, 3.5 * k),
                      b.angle_deg + side * (5.0 if lumbar else 15.0))  # fmt: skip
            _add(bone, tp, 0.3, rim=0.15)
            if not lumbar:
                _rib(bone, b.point(side * (hw + 8.0 * k), 0.1 * hh), side, v.label, k)
        spinous = Blob(b.point(-turn * 1.5 * hw, -0.45 * hh), (0.13 * hw, 0.45 * hh), b.angle_deg)
        _add(bone, spinous, 0.3, rim=0.2)
    s1 = spine[-1].body
    hw, hh = s1.half
    for n, (width, height) in enumerate(((0.85, 1.0), (0.65, 0.8), (0.45, 0.6), (0.3, 0.5))):
        piece = Blob(s1.point(0.0, -hh - (n + 0.5) * 1.6 * hh), (hw * width, hh * height),
                     s1.angle_deg, 2.5)  # fmt: skip
        _add(bone, piece, 0.45, rim=0.15)
    for side in (-1.0, 1.0):
        ala = Blob(s1.point(side * hw * 1.2, -0.6 * hh), (hw * 0.55, hh * 1.2), s1.angle_deg)
        _add(bone, ala, 0.35, rim=0.1)
        wing = Blob(
            s1.point(side * (hw + pelvis["wing_out_mm"] * k), pelvis["wing_up_mm"] * k),
            (pelvis["wing_half_width_mm"] * k, pelvis["wing_half_height_mm"] * k),
            s1.angle_deg - side * pelvis["wing_angle_deg"],
            2.0,
        )
        _add(bone, wing, 0.3, rim=0.35)
        head = Blob(s1.point(side * pelvis["hip_out_mm"] * k, -pelvis["hip_down_mm"] * k),
                    (24.0 * k, 24.0 * k), 0.0)  # fmt: skip
        _add(bone, head, 0.7, rim=0.3)
        neck = Blob(s1.point(side * (pelvis["hip_out_mm"] + 30.0) * k,
                             -(pelvis["hip_down_mm"] + 25.0) * k),
                    (30.0 * k, 14.0 * k), side * 45.0)  # fmt: skip
        _add(bone, neck, 0.5, rim=0.25)


def _rib(bone: np.ndarray, start: tuple[float, float], side: float, label: str, k: float) -> None:
    """A posterior rib: segments curving out and down from the costovertebral joint."""
    length = {"T8": 170.0, "T9": 160.0, "T10": 140.0, "T11": 90.0, "T12": 55.0}[label] * k
    x, y = start
    angle = 10.0
    step = 15.0 * k
    for _ in range(max(1, int(length / step))):
        a = math.radians(angle)
        nx, ny = x + side * step * math.cos(a), y + step * math.sin(a)
        blob = Blob(((x + nx) / 2, (y + ny) / 2), (step / 2 + 2.0, 5.0 * k), -side * angle)
        _add(bone, blob, 0.2, rim=0.2)
        x, y, angle = nx, ny, angle + 6.0


def _soft(
    rng: np.random.Generator, shape: tuple[int, int], centre_x: float, diaphragm_y: float
) -> tuple[np.ndarray, dict[str, Any]]:
    """Soft-tissue line integrals: an elliptic trunk thickening down the field, the lung bases
    above the diaphragm lateral to the spine, and pockets of bowel gas."""
    drawn = {
        "mu_soft_per_mm": float(rng.uniform(0.018, 0.024)),
        "trunk_depth_mm": float(rng.uniform(160.0, 330.0)),
        "depth_gradient": float(rng.uniform(-0.05, 0.35)),
        "trunk_half_width_mm": float(rng.uniform(130.0, 220.0)),
        "lung_fraction": float(rng.uniform(0.3, 0.7)),
        "diaphragm_y_mm": diaphragm_y,
    }
    rows = (np.arange(shape[0]) + 0.5) * GRID_MM
    cols = (np.arange(shape[1]) + 0.5) * GRID_MM
    t = rows / rows[-1]
    depth = drawn["trunk_depth_mm"] * (1.0 + drawn["depth_gradient"] * (t - 0.5))
    half = drawn["trunk_half_width_mm"] * (1.0 + 0.1 * np.sin(math.pi * t))
    across = (cols[None, :] - centre_x) / half[:, None]
    path = depth[:, None] * np.sqrt(np.clip(1.0 - across**2, 0.0, 1.0))
    dome = diaphragm_y - 30.0 * np.cos(np.clip(across, -1.0, 1.0) * 1.2)
    above = 1.0 / (1.0 + np.exp((rows[:, None] - dome) / 8.0))
    lateral = 1.0 / (1.0 + np.exp(-(np.abs(cols[None, :] - centre_x) - 40.0) / 10.0))
    lung = 1.0 - drawn["lung_fraction"] * above * lateral
    attenuation = drawn["mu_soft_per_mm"] * path * lung
    gas = np.zeros(shape)
    pockets = int(rng.integers(0, 10))
    for _ in range(pockets):
        centre = (centre_x + rng.uniform(-130.0, 130.0), rng.uniform(diaphragm_y, rows[-1]))
        pocket = Blob(centre, (rng.uniform(8.0, 40.0), rng.uniform(6.0, 25.0)),
                      rng.uniform(-90, 90), 2.0)  # fmt: skip
        _add(gas, pocket, float(rng.uniform(5.0, 30.0)))
    drawn["bowel_gas_pockets"] = pockets
    return attenuation - drawn["mu_soft_per_mm"] * gas, drawn


def _view_box(body: Blob, spacing: float, shape: tuple[int, int]) -> tuple[list[int], bool] | None:
    """The body's box on the detector matrix when at least :data:`IN_VIEW` of it is inside."""
    if not _visible(body, spacing, shape):
        return None
    mask = body.mask(spacing, shape)
    n = body.exponent
    full = 4 * body.half[0] * body.half[1] * math.gamma(1 + 1 / n) ** 2 / math.gamma(1 + 2 / n)
    if mask.sum() * spacing**2 < IN_VIEW * full:
        return None
    return box_of(mask)


def generate_wide_xr(out_dir: str | Path, seed: int) -> StudyGroundTruth:
    """Write the wide radiograph of ``seed`` to ``out_dir/``:func:`wide_folder_name` with its
    ``ground_truth.json`` and return the truth (ValueError for a negative seed)."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng([seed, 3, 71])
    study = StudyInfo.create(KIND, seed, PROFILE)
    study_dir = Path(out_dir) / wide_folder_name(seed)
    study_dir.mkdir(parents=True, exist_ok=True)

    magnification = float(rng.uniform(1.05, 1.25))
    size = float(rng.uniform(0.85, 1.2))
    k = magnification * size
    spine, drawn = _column(rng, magnification, size)
    field = str(rng.choice(FIELDS))
    top_label = field.split("-")[0]
    top = next(v for v in spine if v.label == top_label).body
    s1 = spine[-1].body
    y0 = top.centre[1] - top.half[1] - rng.uniform(10.0, 40.0) * k
    if field.endswith("pelvis"):
        y1 = s1.centre[1] + rng.uniform(100.0, 160.0) * k
    else:
        y1 = s1.centre[1] + rng.uniform(30.0, 70.0) * k
    width = float(rng.uniform(260.0, 400.0))
    x0 = float(np.mean([v.body.centre[0] for v in spine])) - width / 2 + rng.uniform(-25, 25)
    spine = _shift(spine, -x0, -y0)
    height = y1 - y0
    spacing = round(float(rng.uniform(0.1, 0.2)), 4)
    coarsened = height / spacing > MAX_ROWS
    if coarsened:  # the readout's next coarser spacing that keeps the rows within the detector
        spacing = math.ceil(height / MAX_ROWS * 1e4) / 1e4
    shape = (int(height / spacing), int(width / spacing))
    grid = (math.ceil(height / GRID_MM), math.ceil(width / GRID_MM))

    pelvis = {
        "wing_out_mm": float(rng.uniform(45.0, 70.0)),
        "wing_up_mm": float(rng.uniform(15.0, 45.0)),
        "wing_half_width_mm": float(rng.uniform(40.0, 60.0)),
        "wing_half_height_mm": float(rng.uniform(55.0, 75.0)),
        "wing_angle_deg": float(rng.uniform(10.0, 35.0)),
        "hip_out_mm": float(rng.uniform(80.0, 105.0)),
        "hip_down_mm": float(rng.uniform(110.0, 140.0)),
    }
    turn = float(rng.normal(0.0, 0.06))  # axial turn: arch shifted by this fraction of a width
    bone = np.zeros(grid)
    _bones(bone, spine, k, turn, pelvis)
    bone_scale = float(np.exp(rng.uniform(np.log(0.12), np.log(1.0))))
    implants = _implants(rng, spine[2:])
    metal = np.zeros(grid)
    for _, _, blobs in implants:
        for blob in blobs:
            _add(metal, blob, 6.0, rim=0.0)
    metal_scale = float(rng.uniform(0.25, 0.6))
    diaphragm = next(v for v in spine if v.label == "T11").body.centre[1] + rng.uniform(-40, 40)
    soft, soft_drawn = _soft(rng, grid, spine[5].body.centre[0] + rng.uniform(-15, 15), diaphragm)
    exposure = Exposure.draw(rng)
    attenuation = soft + bone_scale * np.minimum(bone, 2.5) + metal_scale * metal
    stored = develop(expose(attenuation, GRID_MM, exposure), GRID_MM, shape, exposure, rng)
    mono1 = bool(rng.random() < 0.35)
    dx = bool(rng.random() < 0.6)
    top_value = 2**exposure.bits - 1
    info, truth = write_ap_radiograph(
        study,
        study_dir,
        stored,
        (dx, mono1),
        (top_value / 2, top_value, exposure.bits),
        lambda ds: _decorate(ds, dx, mono1, spacing),
    )
    sop = truth.images[0].sop_instance_uid

    vertebrae, in_view = [], []
    for v in spine:
        hit = _view_box(v.body, spacing, shape)
        views = []
        if hit is not None:
            views.append(
                View(info.uid, sop, 0, hit[0], tilt_deg=v.tilt_deg, central=True, truncated=hit[1])
            )
            in_view.append(v)
        x, y = v.body.centre
        vertebrae.append(VertebraTruth(v.label, [x, 0.0, -y], views))
    found = []
    for cls, where, blobs in implants:
        mask = np.zeros(shape, dtype=bool)
        for blob in blobs:
            if _visible(blob, spacing, shape):
                mask |= blob.mask(spacing, shape)
        box = box_of(mask)
        if box is not None:
            found.append(ImplantTruth(cls, box[0], info.uid, sop, where))
    cobb_spine = [v for v in in_view if v.label != "S1"]
    parameters = {
        "pixel_spacing_mm": spacing,
        "monochrome1": float(mono1),
        "profile": PROFILE,
        "wide": {
            "field": field,
            "rows": shape[0],
            "columns": shape[1],
            "coarsened": coarsened,
            "modality": "DX" if dx else "CR",
            "magnification": magnification,
            "body_size": size,
            "bone_contrast": bone_scale,
            "metal_contrast": metal_scale,
            "axial_turn": turn,
            "pelvis_mm": pelvis,
            "soft_tissue": soft_drawn,
            "exposure": asdict(exposure),
            "curve": drawn,
            "implants": len(found),
        },
    }
    result = study_truth(
        study,
        series=[truth],
        vertebrae=vertebrae,
        implants=found,
        cobb=cobb_from_tilts([v.label for v in cobb_spine], [v.tilt_deg for v in cobb_spine]),
        parameters=parameters,
    )
    result.save(study_dir)
    return result
