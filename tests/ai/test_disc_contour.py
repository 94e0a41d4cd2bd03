"""The disc's posterior margin measured on generated sagittal MR images (real DICOM files, the
truth's vertebra centres), the disc-state check's decisions, the new fields' JSON round trip,
and an analysis that shows them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.disc_contour import EXTENDS_MM, DiscContour, SliceExtension, measure_disc
from spineviewer.ai.findings import CONFIDENT, UNCERTAIN, DiscFinding, Findings
from spineviewer.ai.mr_series import mr_stacks
from spineviewer.ai.pipelines.disc_check import (
    BULGE_CLEARS,
    HERNIATION_CLEARS,
    MEASURE_MAX_DISTANCE_MM,
    NORMAL_SUSPECT,
    UNMEASURED,
    checked,
)
from spineviewer.cli import main
from spineviewer.dicom import StackPixels, scan

#: A standard-profile study whose lumbar discs are normal (L1-L2, L2-L3), bulging (L3-L4, drawn
#: 2.9 mm) and herniated (L4-L5, drawn 6.6 mm, right paracentral).
SEED = 6

Measure = Callable[[str], tuple[DiscContour, dict]]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measure:
    """Measures a disc of the seed-6 study with its truth's body centres; returns the contour
    and the disc's truth."""
    from spineviewer.phantom import generate, study_folder_name

    root = tmp_path_factory.mktemp("discs")
    generate("lumbar-mr", root, SEED)
    folder = root / study_folder_name("lumbar-mr", SEED)
    truth = json.loads((folder / "ground_truth.json").read_text("utf-8"))
    sagittal = next(s for s in mr_stacks(scan(folder).stacks()) if s.stack.plane == "sagittal")
    pixels = StackPixels(sagittal.stack)
    images = [
        (pixels.slice(i), sagittal.stack.plane_of(i)) for i in range(len(sagittal.stack.frames))
    ]
    centres = {v["label"]: np.array(v["centre_mm"]) for v in truth["vertebrae"]}
    discs = {d["level"]: d for d in truth["discs"]}

    def measure(level: str) -> tuple[DiscContour, dict]:
        upper, lower = level.split("-")
        middle = (centres[upper] + centres[lower]) / 2
        near = [
            (values, plane)
            for values, plane in images
            if plane is not None and abs(float(plane.distance(middle))) <= MEASURE_MAX_DISTANCE_MM
        ]
        contour = measure_disc(near, centres[upper], centres[lower], 3.4)
        assert contour is not None
        return contour, discs[level]

    return measure


@pytest.mark.parametrize("level", ["L1-L2", "L2-L3"])
def test_a_normal_disc_measures_near_zero(measured: Measure, level: str):
    contour, truth = measured(level)
    assert truth["state"] == "normal"
    assert len(contour.slices) >= 5  # the slices within 12 mm of the centre
    # the median slice within half a millimetre of the line, the most within 1.5 mm (the
    # outermost slices, where the disc's outline and the bodies' curve forward differently)
    assert abs(float(np.median([s.extension_mm for s in contour.slices]))) <= 0.5
    assert abs(contour.posterior_extension_mm) < NORMAL_SUSPECT - 0.5
    assert contour.extension_width_mm <= 0.3 * contour.measured_width_mm


def test_a_herniation_measures_its_drawn_size_on_its_side(measured: Measure):
    contour, truth = measured("L4-L5")
    assert truth["state"] == "herniation" and truth["herniation_side"] == "right"
    drawn = truth["herniation_mm"]
    # thick slices average the herniation's rounded tip with the canal: about 0.6 of its size
    assert 0.4 * drawn <= contour.posterior_extension_mm <= 1.2 * drawn
    # focal: on under half the extent measured, the extending slices side by side
    assert 0 < contour.extension_width_mm < 0.5 * contour.measured_width_mm
    assert not contour.diffuse
    order = [s.extension_mm >= EXTENDS_MM for s in contour.slices]
    first = order.index(True)
    assert all(order[first : first + order.count(True)])


def test_a_bulge_extends_over_the_whole_span_measured(measured: Measure):
    contour, truth = measured("L3-L4")
    assert truth["state"] == "bulge"
    assert 1.0 <= contour.posterior_extension_mm <= truth["bulge_mm"] + 1.0
    # diffuse: on at least half the extent measured (a quarter of the circumference is about
    # half the posterior arc), over 15 mm left-right
    assert contour.diffuse
    assert contour.extension_width_mm >= 0.5 * contour.measured_width_mm
    assert contour.extension_width_mm > 15.0


def test_a_t1_like_slice_is_not_measured(measured: Measure):
    """A contrast whose canal is not brighter than the marrow is not measured (None), so the
    model's answer is left unchecked."""
    from spineviewer.ai.disc_contour import slice_extension
    from spineviewer.geometry.plane import Plane

    plane = Plane(np.zeros(3), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]), (1.0, 1.0))
    flat = np.full((120, 120), 500.0)
    assert (
        slice_extension(flat, plane, np.array([0.0, 40.0, -20.0]), np.array([0, 40, -55.0])) is None
    )


def _disc(state: str, p: float = 0.9) -> DiscFinding:
    others = [s for s in ("normal", "bulge", "herniation") if s != state]
    probabilities = {state: p, others[0]: (1 - p) / 2, others[1]: (1 - p) / 2}
    return DiscFinding("L4-L5", state, probabilities, (0.0, 0.0, 0.0), ("1.2.3",))


def _contour(extension: float, width: float = 0.0) -> DiscContour:
    slices = (SliceExtension(-4.0, extension), SliceExtension(0.0, extension - 0.5))
    return DiscContour(extension, width, 24.0, slices)


@pytest.mark.parametrize(
    ("state", "extension", "width", "doubted"),
    [
        ("herniation", HERNIATION_CLEARS - 0.3, 0.0, True),  # nothing beyond the bodies
        ("herniation", 4.0, 6.0, False),  # a focal extension: the answer stands
        ("bulge", -BULGE_CLEARS - 0.2, 0.0, True),  # the disc stays inside the bodies
        ("bulge", 0.3, 0.0, False),  # within the measurement's scatter: not contradicted
        ("bulge", 2.0, 24.0, False),
        ("normal", NORMAL_SUSPECT + 1.0, 8.0, True),  # disc tissue in the canal
        ("normal", 0.4, 0.0, False),
    ],
)
def test_the_check_doubts_only_a_clear_contradiction(
    state: str, extension: float, width: float, doubted: bool
):
    found = checked(_disc(state), _contour(extension, width))
    assert found.state == state  # the model's answer is kept; its review says the doubt
    assert found.posterior_extension_mm == extension
    assert found.extension_width_mm == width and found.measured_width_mm == 24.0
    assert (found.review == UNCERTAIN) is doubted
    reason = found.state_reasons[0]
    assert f"{abs(extension):.1f} mm" in reason
    if doubted:
        assert reason.startswith(f"the model says {state} (0.90) but ")
        assert found.review_reasons == (reason,)
    else:
        assert found.review == CONFIDENT and found.review_reasons == ()


def test_an_unmeasured_disc_keeps_the_answer_and_says_so():
    found = checked(_disc("herniation"), None)
    assert found.review == CONFIDENT and found.state == "herniation"
    assert found.state_reasons == (UNMEASURED,) and found.posterior_extension_mm is None


def test_a_doubt_adds_to_an_existing_review():
    disc = replace(_disc("herniation"), review="needs review", review_reasons=("L4 unsure",))
    found = checked(disc, _contour(0.0))
    assert found.review == "needs review"  # the worse need stays
    assert found.review_reasons[0] == "L4 unsure" and len(found.review_reasons) == 2


def test_the_new_fields_round_trip_and_old_files_load():
    disc = checked(_disc("herniation"), _contour(0.2))
    findings = Findings("1.2", "cpu", discs=(disc,))
    again = Findings.from_json(findings.to_json())
    assert again.discs == (disc,)
    assert isinstance(again.discs[0].state_reasons, tuple)
    old = json.loads(findings.to_json())
    for key in ("posterior_extension_mm", "extension_width_mm", "measured_width_mm"):
        del old["discs"][0][key]
    del old["discs"][0]["state_reasons"]
    loaded = Findings.from_dict(old).discs[0]
    assert loaded.posterior_extension_mm is None and loaded.state_reasons == ()
    line = next(x for x in findings.summary_lines() if x.startswith("disc L4-L5"))
    assert "uncertain; the model says herniation (0.90) but no disc tissue" in line


def test_analyze_reports_each_disc_s_measured_margin(demo_study_dir: Path, tmp_path: Path):
    out = tmp_path / "findings.json"
    assert main(["analyze", str(demo_study_dir), "--json", str(out), "--provider", "cpu"]) == 0
    raw = json.loads(out.read_text("utf-8"))
    step = next(s for s in raw["steps"] if s["name"] == "lumbar MR: disc contours")
    assert step["status"] == "done"
    findings = Findings.from_dict(raw)
    lumbar = [d for d in findings.discs if d.level.startswith("L")]
    assert len(lumbar) == 5
    for disc in lumbar:
        assert disc.posterior_extension_mm is not None and disc.measured_width_mm
        assert disc.state_reasons and "posterior margin" in disc.state_reasons[0]
    # the demo's normal L3-L4 stays within its bodies; a doubted disc says why in the summary
    normal = next(d for d in lumbar if d.level == "L3-L4")
    assert normal.posterior_extension_mm is not None and normal.posterior_extension_mm < 1.0
    lines = findings.summary_lines()
    for disc in lumbar:
        line = next(x for x in lines if x.startswith(f"disc {disc.level}:"))
        assert (disc.state_reasons[0] in line) is (disc.state_reasons[0] in disc.review_reasons)
