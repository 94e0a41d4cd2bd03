"""The disc's posterior outline measured on generated axial T2 MR images (real DICOM files, the
truth's disc centres), the check that combines it with the sagittal measurement, and the demo
study's paracentral herniation reported sure again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.disc_contour import DiscContour, SliceExtension
from spineviewer.ai.disc_contour_axial import AxialContour, measure_axial, measure_axial_slice
from spineviewer.ai.findings import CONFIDENT, UNCERTAIN, DiscFinding, Findings
from spineviewer.ai.mr_series import mr_stacks
from spineviewer.ai.pipelines.disc_check import (
    AXIAL_BULGE_FOCAL,
    AXIAL_HERNIATION_SHOWS,
    AXIAL_NORMAL_SUSPECT,
    HERNIATION_CLEARS,
    checked,
)
from spineviewer.cli import main
from spineviewer.dicom import StackPixels, scan
from spineviewer.geometry.levels import AXIAL_MAX_DISTANCE_MM
from spineviewer.geometry.plane import Plane

#: A standard-profile study: L1-L2 and L2-L3 normal, L3-L4 bulging (2.9 mm), L4-L5 herniated
#: (6.6 mm, right paracentral), L5-S1 herniated (4.2 mm, right paracentral).
SEED = 6

Measure = Callable[[str], tuple[AxialContour, dict]]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measure:
    """Measures a disc of the seed-6 study on its axial slices (those within
    AXIAL_MAX_DISTANCE_MM of the truth's disc centre); returns the outline and the truth."""
    from spineviewer.phantom import generate, study_folder_name

    root = tmp_path_factory.mktemp("axial")
    generate("lumbar-mr", root, SEED)
    folder = root / study_folder_name("lumbar-mr", SEED)
    truth = json.loads((folder / "ground_truth.json").read_text("utf-8"))
    axial = [s.stack for s in mr_stacks(scan(folder).stacks()) if s.stack.plane == "axial"]
    assert axial
    discs = {d["level"]: d for d in truth["discs"]}

    def measure(level: str) -> tuple[AxialContour, dict]:
        centre = np.array(discs[level]["centre_mm"])
        images = []
        for stack in axial:
            pixels = StackPixels(stack)
            for i in range(len(stack.frames)):
                plane = stack.plane_of(i)
                if (
                    plane is not None
                    and abs(float(plane.distance(centre))) <= AXIAL_MAX_DISTANCE_MM
                ):
                    images.append((pixels.slice(i), plane))
        assert images
        outline = measure_axial(images, centre)
        assert outline is not None
        return outline, discs[level]

    return measure


@pytest.mark.parametrize("level", ["L4-L5", "L5-S1"])
def test_a_paracentral_herniation_measures_its_drawn_size_on_its_side(
    measured: Measure, level: str
):
    outline, truth = measured(level)
    assert truth["state"] == "herniation" and truth["herniation_side"] == "right"
    drawn = truth["herniation_mm"]
    # in-plane pixels are fine: most of the drawn protrusion (its rounded tip is smoothed)
    assert 0.5 * drawn <= outline.focal_mm <= 1.1 * drawn
    assert outline.focal_mm >= AXIAL_HERNIATION_SHOWS
    # on the patient's right of the disc centre, focal: well under a quarter of the
    # circumference (90 degrees), several mm wide
    assert outline.side == "right" and outline.focal_offset_mm < -4.0
    assert 5.0 <= outline.focal_width_mm <= 20.0
    assert 10.0 <= outline.focal_arc_deg < 60.0


@pytest.mark.parametrize("level", ["L1-L2", "L2-L3"])
def test_a_normal_disc_s_outline_is_smooth(measured: Measure, level: str):
    outline, truth = measured(level)
    assert truth["state"] == "normal"
    assert abs(outline.focal_mm) < 1.0
    assert outline.focal_width_mm == 0.0 and outline.focal_arc_deg == 0.0
    assert outline.measured_width_mm >= 25.0  # the posterior arc 16 mm either side, nearly all


def test_a_bulge_has_no_focal_displacement(measured: Measure):
    """A bulge extends the whole outline evenly (a wide arc): on the axial slice its posterior
    margin stays smooth, so it is not read as a herniation (its extension beyond the bodies is
    the sagittal measurement's, tests/ai/test_disc_contour.py)."""
    outline, truth = measured("L3-L4")
    assert truth["state"] == "bulge" and truth["bulge_mm"] > 2.0
    assert outline.focal_mm < 1.0 < AXIAL_BULGE_FOCAL


def test_a_t1_like_slice_or_a_sagittal_one_is_not_measured():
    axial = Plane(np.zeros(3), np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), (1.0, 1.0))
    flat = np.full((120, 120), 500.0)
    assert measure_axial_slice(flat, axial, np.array([60.0, 40.0, 0.0])) is None
    sagittal = Plane(np.zeros(3), np.array([0, 1.0, 0]), np.array([0, 0, -1.0]), (1.0, 1.0))
    assert measure_axial_slice(flat, sagittal, np.array([0.0, 40.0, -20.0])) is None
    assert measure_axial([], np.zeros(3)) is None


def _disc(state: str, p: float = 0.9) -> DiscFinding:
    others = [s for s in ("normal", "bulge", "herniation") if s != state]
    probabilities = {state: p, others[0]: (1 - p) / 2, others[1]: (1 - p) / 2}
    return DiscFinding("L4-L5", state, probabilities, (0.0, 0.0, 0.0), ("1.2.3",))


def _sagittal(extension: float) -> DiscContour:
    return DiscContour(extension, 0.0, 24.0, (SliceExtension(0.0, extension),))


def _axial(focal: float, offset: float = -7.0) -> AxialContour:
    width = 10.0 if focal >= 1.0 else 0.0
    return AxialContour(focal, width, 3.0 * width, offset, 0.5, 32.0)


@pytest.mark.parametrize(
    ("state", "sagittal", "focal", "doubted"),
    [
        # the sagittal slices miss it, the axial outline shows it: the answer stands
        ("herniation", HERNIATION_CLEARS - 0.5, AXIAL_HERNIATION_SHOWS + 0.5, False),
        # neither shows it: uncertain, as before
        ("herniation", HERNIATION_CLEARS - 0.5, AXIAL_HERNIATION_SHOWS - 1.0, True),
        # the model says normal, the axial outline has a clear focal displacement
        ("normal", 0.2, AXIAL_NORMAL_SUSPECT + 0.5, True),
        ("normal", 0.2, 0.4, False),
        # the model says bulge (diffuse), the axial outline is focal
        ("bulge", 2.0, AXIAL_BULGE_FOCAL + 1.0, True),
        ("bulge", 2.0, 0.3, False),
    ],
)
def test_the_axial_outline_joins_the_check(
    state: str, sagittal: float, focal: float, doubted: bool
):
    found = checked(_disc(state), _sagittal(sagittal), _axial(focal))
    assert found.state == state
    assert found.axial_focal_mm == focal and found.axial_focal_offset_mm == -7.0
    assert (found.review == UNCERTAIN) is doubted
    reason = found.state_reasons[0]
    if doubted:
        assert reason.startswith(f"the model says {state} (0.90) but")
        assert found.review_reasons == (reason,)
    else:
        assert found.review == CONFIDENT
        assert "axial outline" in reason and "posterior corners" in reason


def test_an_axial_outline_alone_is_a_measurement():
    """No sagittal measurement (a T1-like sagittal series): the axial one still checks."""
    found = checked(_disc("normal"), None, _axial(AXIAL_NORMAL_SUSPECT + 1.0))
    assert found.review == UNCERTAIN and found.posterior_extension_mm is None
    assert "focal displacement of 4.0 mm, right" in found.state_reasons[0]


def test_the_axial_fields_round_trip_and_old_files_load():
    disc = checked(_disc("herniation"), _sagittal(0.2), _axial(3.1))
    findings = Findings("1.2", "cpu", discs=(disc,))
    assert Findings.from_json(findings.to_json()).discs == (disc,)
    old = json.loads(findings.to_json())
    for key in ("axial_focal_mm", "axial_focal_arc_deg", "axial_focal_offset_mm"):
        del old["discs"][0][key]
    loaded = Findings.from_dict(old).discs[0]
    assert loaded.axial_focal_mm is None and loaded.axial_focal_arc_deg is None


def test_the_demo_s_paracentral_herniation_is_sure_again(demo_study_dir: Path, tmp_path: Path):
    """The README demo's L4-L5 herniation (4.1 mm, right paracentral) reads +0.6 mm on the
    sagittal slices beside the midline; its axial outline shows it on the right, so the
    model's "herniation" is no longer made uncertain by the sagittal miss."""
    out = tmp_path / "findings.json"
    assert main(["analyze", str(demo_study_dir), "--json", str(out), "--provider", "cpu"]) == 0
    findings = Findings.from_dict(json.loads(out.read_text("utf-8")))
    disc = next(d for d in findings.discs if d.level == "L4-L5")
    assert disc.state == "herniation"
    assert disc.posterior_extension_mm is not None
    assert disc.posterior_extension_mm < HERNIATION_CLEARS  # the sagittal slices miss it
    assert disc.axial_focal_mm is not None and disc.axial_focal_mm >= AXIAL_HERNIATION_SHOWS
    assert disc.axial_focal_offset_mm is not None and disc.axial_focal_offset_mm < -4.0
    assert disc.review == CONFIDENT
    assert "axial outline has a focal displacement" in disc.state_reasons[0]
    for other in findings.discs:
        if other.level in ("L1-L2", "L2-L3", "L3-L4"):  # the demo's normal discs
            assert other.axial_focal_mm is not None and other.axial_focal_mm < 1.5


def test_an_unsure_model_s_disc_says_what_the_axial_outline_shows():
    """The model is not sure (its review "uncertain" already) and the axial outline clearly
    has a focal displacement: the finding says it is a herniation's pattern."""
    unsure = DiscFinding(
        "L4-L5",
        "herniation",
        {"herniation": 0.5, "bulge": 0.3, "normal": 0.2},
        (0.0, 0.0, 0.0),
        ("1.2.3",),
        review=UNCERTAIN,
        review_reasons=("the disc model is not sure (0.50 < 0.55)",),
    )
    found = checked(unsure, _sagittal(0.3), _axial(AXIAL_NORMAL_SUSPECT + 1.0))
    assert found.review == UNCERTAIN and found.state == "herniation"
    assert found.review_reasons == unsure.review_reasons  # no doubt of the measurement's
    assert "a herniation's pattern" in found.state_reasons[0]
