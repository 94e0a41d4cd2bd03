"""Vertebral compression fractures: the plan, the truth, and the heights seen on the images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.cli import main
from spineviewer.geometry import Plane
from spineviewer.phantom import (
    FRACTURE_KINDS,
    Fracture,
    VertebraTruth,
    genant_grade,
    generate,
    load_ground_truth,
    parse_fracture,
    study_folder_name,
)
from spineviewer.phantom.fractures import (
    GRADE_LOSS,
    SPINE_CANDIDATES,
    FractureRequest,
    plan_fractures,
)
from spineviewer.phantom.painted_volume import SpineModel

from .conftest import CT_SEED, MR_SEED, Study, hu
from .reference import compare, load, summarise


def _pixels(folder: Path) -> dict[str, np.ndarray]:
    """Pixel arrays of every image of a study folder, by relative path."""
    return {
        str(p.relative_to(folder)): pydicom.dcmread(p).pixel_array for p in folder.rglob("*.dcm")
    }


# -- the plan ---------------------------------------------------------------------------------


def test_genant_grades_and_parsing():
    assert [genant_grade(x) for x in (0.0, 0.19, 0.2, 0.25, 0.26, 0.4, 0.41, 0.7)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
    ]
    assert parse_fracture("l1:Wedge:2") == FractureRequest("L1", "wedge", grade=2)
    assert parse_fracture("L3:crush:0.33") == FractureRequest("L3", "crush", height_loss=0.33)
    assert parse_fracture("T12:biconcave") == FractureRequest("T12", "biconcave")
    for bad, message in (
        ("L1", "LABEL:KIND"),
        ("L1:spiral", "unknown fracture kind"),
        ("L1:wedge:4", "grade must be 1, 2 or 3"),
        ("L1:wedge:0.9", "height loss must lie"),
        ("L1:wedge:x", "grade (1-3) or a loss"),
    ):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_fracture(bad)
    with pytest.raises(ValueError, match="unknown fracture kind"):
        Fracture("spiral", 0.3)
    assert Fracture("wedge", 0.3).grade == 2


def test_plan_is_seeded_monotone_and_follows_genant():
    labels = SPINE_CANDIDATES
    low = plan_fractures([5, 1], labels, 0.3)
    assert plan_fractures([5, 1], labels, 0.3) == low
    assert plan_fractures([6, 1], labels, 0.0) == {}
    everything = plan_fractures([5, 1], labels, 1.0)
    assert set(everything) == set(labels)
    assert all(everything[k] == f for k, f in low.items())  # a higher rate only adds
    counts = {k: 0 for k in FRACTURE_KINDS}
    grades = {1: 0, 2: 0, 3: 0}
    broken = 0
    for seed in range(300):
        for fracture in plan_fractures([seed, 1], labels, 0.25).values():
            broken += 1
            counts[fracture.kind] += 1
            grades[fracture.grade] += 1
            low_loss, high_loss = GRADE_LOSS[fracture.grade]
            assert low_loss <= fracture.height_loss <= high_loss
    assert 0.21 < broken / (300 * len(labels)) < 0.29
    assert min(counts.values()) > 40 and counts["wedge"] == max(counts.values())
    assert min(grades.values()) > 60
    explicit = plan_fractures(
        [5, 1], labels, 0.0, [FractureRequest("L2", "crush", 3), FractureRequest("L4", "wedge")]
    )
    assert set(explicit) == {"L2", "L4"}
    assert explicit["L2"].kind == "crush" and explicit["L2"].grade == 3
    assert explicit["L4"].kind == "wedge" and explicit["L4"].grade in (1, 2, 3)


@pytest.mark.parametrize(
    ("kind", "fractures", "rate", "message"),
    [
        ("lumbar-mr", ["S1:crush"], 0.0, "cannot fracture here"),
        ("lumbar-ct", ["L1:wedge", "L1:crush"], 0.0, "named twice"),
        ("spine-xr", ["L1:wedge:2"], 0.0, "not drawn in this study kind"),
        ("spine-xr", [], 1.5, "fracture rate must lie"),
    ],
)
def test_bad_fracture_requests_write_nothing(
    tmp_path: Path, kind: str, fractures: list[str], rate: float, message: str
):
    with pytest.raises(ValueError, match=message):
        generate(kind, tmp_path, 1, fracture_rate=rate, fractures=fractures)
    assert list(tmp_path.iterdir()) == []


# -- unchanged without the option, truth fields ------------------------------------------------


def test_studies_without_fractures_are_unchanged(
    tmp_path: Path, mr_study: Study, ct_study: Study, xr_studies: list[Study]
):
    # The fixture studies are those stored before fractures existed (pixels within a tolerance,
    # UIDs, header text and truth fields exactly: see reference.py).
    reference = load()
    for study in (mr_study, ct_study, xr_studies[3]):
        assert compare(reference[study.path.name], summarise(study.path)) == [], study.path.name
        text = (study.path / "ground_truth.json").read_text()
        assert "fracture" not in text and "genant" not in text
    # A rate that breaks nothing changes no image; the truth then lists whole bodies.
    quiet = generate("spine-xr", tmp_path / "rate", 3, fracture_rate=0.001)
    assert quiet.parameters["fracture_rate"] == 0.001
    assert all(v.fracture is None and v.genant_grade == 0 for v in quiet.vertebrae)
    written = _pixels(tmp_path / "rate" / "spine-xr-00003")
    before = _pixels(xr_studies[3].path)
    assert written.keys() == before.keys()
    assert all(np.array_equal(written[name], before[name]) for name in before)
    data = json.loads((tmp_path / "rate" / "spine-xr-00003" / "ground_truth.json").read_text())
    assert all(v["fracture"] is None and v["height_loss"] == 0 for v in data["vertebrae"])


def test_old_truth_files_load_with_whole_bodies(tmp_path: Path, mr_study: Study):
    data = json.loads((mr_study.path / "ground_truth.json").read_text())
    assert all("fracture" not in v for v in data["vertebrae"])
    truth = load_ground_truth(mr_study.path)
    assert all(
        (v.fracture, v.height_loss, v.genant_grade, v.fractured) == (None, 0.0, 0, False)
        for v in truth.vertebrae
    )
    assert VertebraTruth.from_json({"label": "L1", "centre_mm": [0, 0, 0]}).genant_grade == 0


# -- the shapes, rendered finely ---------------------------------------------------------------


def _heights(model: SpineModel, label: str, fractions: list[float]) -> tuple[list[float], set]:
    """Body heights (mm) along its axis at ``fractions`` of the half depth (- = anterior).

    Rendered on the body's mid-sagittal plane at 0.05 mm; also the structures met within 25 mm
    of the centre on the columns up to 0.6 of the half depth.
    """
    v = model.anatomy.vertebra(label)
    _, posterior, superior = v.frame.axes
    px, rows, cols = 0.05, 1001, 841
    corner = v.centre + 500 * px * superior - 420 * px * posterior
    rendered = model.render(Plane(corner, posterior, -superior, (px, px), (rows, cols)))
    body = rendered.owner == model.structure_id(label)
    heights = []
    met: set[str] = set()
    for f in fractions:
        index = round(420 + f * v.depth / 2 / px)
        column = body[:, index]
        edges = np.flatnonzero(np.diff(column.astype(np.int8)))
        assert len(edges) == 2, (label, f, edges)  # one run: no holes, no split
        heights.append((edges[1] - edges[0]) * px)
        if abs(f) <= 0.6:
            met |= {model.structures[i] for i in np.unique(rendered.owner[:, index])}
    return heights, met


@pytest.mark.parametrize(
    ("label", "kind", "loss"),
    [
        ("L1", "wedge", 0.22),
        ("T12", "wedge", 0.5),
        ("L3", "crush", 0.3),
        ("L5", "crush", 0.45),
        ("L2", "biconcave", 0.23),
        ("L4", "biconcave", 0.5),
    ],
)
def test_rendered_body_keeps_the_declared_height_loss(label: str, kind: str, loss: float):
    seed = 12
    whole = SpineModel.random(np.random.default_rng([seed, 1]))
    broken = SpineModel.random(np.random.default_rng([seed, 1]), {label: Fracture(kind, loss)})
    fractions = [-0.6, -0.3, 0.0, 0.3, 0.6]
    intact, _ = _heights(whole, label, [*fractions, -0.9, 0.9])
    measured, met = _heights(broken, label, [*fractions, -0.9, 0.9])
    ratio = np.array(measured) / np.array(intact)
    centre = ratio[2]
    if kind == "wedge":
        slope, offset = np.polyfit(fractions, ratio[:5], 1)
        anterior, posterior = offset - slope, offset + slope  # the walls: fractions -1, +1
        assert abs(posterior - 1.0) < 0.01
        assert abs(anterior - (1 - loss)) < 0.01
        assert abs(centre - (1 - loss / 2)) < 0.01
    else:
        assert abs(centre - (1 - loss)) < 0.01
        if kind == "crush":
            assert np.allclose(ratio, 1 - loss, atol=0.01)
        else:
            assert abs(ratio[5] - 1) < 0.01 and abs(ratio[6] - 1) < 0.01  # intact rim
            assert ratio[1] > centre and ratio[3] > centre  # dished
    # Neighbours and discs close up on the body: nothing but bone and disc along its axis.
    names = list(broken.structures)  # the bodies come last, top to bottom
    i = names.index(label)
    discs = {s for s in names if "-" in s and "/" not in s and label in s.split("-")}
    assert len(discs) == 2
    assert met <= {label, names[i - 1], names[i + 1], *discs}, met


def test_a_wedge_turns_the_spine_above_forward():
    seed = 3
    whole = SpineModel.random(np.random.default_rng([seed, 1])).anatomy
    broken = SpineModel.random(
        np.random.default_rng([seed, 1]), {"L2": Fracture("wedge", 0.4)}
    ).anatomy

    def tilt(anatomy, upper: str, lower: str) -> float:
        a = anatomy.vertebra(upper).frame
        b = anatomy.vertebra(lower).frame
        # Positive when the upper body leans forward (anterior = -posterior) of the lower one.
        return float(np.degrees(np.arcsin(-(a.superior @ b.axes[1]))))

    v = broken.vertebra("L2")
    expected = 2 * np.degrees(np.arctan(v.height * 0.4 / (2 * v.depth)))
    change = tilt(broken, "L1", "L3") - tilt(whole, "L1", "L3")
    assert abs(change - expected) < 0.5, (change, expected)
    assert abs(tilt(broken, "L4", "L5") - tilt(whole, "L4", "L5")) < 0.05
    assert abs(broken.lordosis_deg - (whole.lordosis_deg - expected)) < 0.5


# -- on the written images ---------------------------------------------------------------------


def _ct_heights(study: Study, label: str, fractions: list[float]) -> list[float]:
    """Bone height (mm) along the body axis at ``fractions`` of the half depth, from HU.

    The axis is the mean of the neighbouring discs' normals; the depth their mean depth.
    """
    datasets = study.datasets("ct")
    volume = np.stack([hu(ds) for ds in datasets])
    first = datasets[0]
    origin = np.array([float(v) for v in first.ImagePositionPatient])
    step = float(datasets[1].ImagePositionPatient[2]) - origin[2]
    dr, dc = (float(v) for v in first.PixelSpacing)
    truth = study.truth
    vertebra = truth.vertebra(label)
    discs = [d for d in truth.discs if label in d.level.split("-")]
    axis = np.mean([d.normal for d in discs], axis=0)
    axis /= np.linalg.norm(axis)
    posterior = np.array([0.0, 1.0, 0.0]) - axis[1] * axis
    posterior /= np.linalg.norm(posterior)
    depth = float(np.mean([d.depth_mm for d in discs]))
    threshold = (truth.parameters["marrow_hu"] + 90.0) / 2
    t = np.arange(-30.0, 30.0, 0.1)
    out = []
    for f in fractions:
        points = np.array(vertebra.centre_mm) + f * depth / 2 * posterior + t[:, None] * axis
        k = (points[:, 2] - origin[2]) / step
        r = (points[:, 1] - origin[1]) / dr
        c = (points[:, 0] - origin[0]) / dc
        values = _trilinear(volume, k, r, c)
        out.append(_run_length(values, threshold, 0.1, per_sample=abs(step) / 0.1))
    return out


def _run_length(values: np.ndarray, threshold: float, dt: float, per_sample: float) -> float:
    """Length of the run above ``threshold`` through the middle of a profile sampled every ``dt``.

    The image samples the profile every ``per_sample`` points; each end is placed where the
    profile falls halfway from the brightest bone of the last image sample to the soft tissue
    beyond, i.e. about halfway between the last bone sample and the first soft-tissue sample.
    """
    n = max(round(per_sample), 1)
    centre = len(values) // 2
    assert values[centre] > threshold
    ends = []
    for direction in (-1, 1):
        i = centre
        while values[i + direction] > threshold:
            i += direction
        inside = [i - direction * k for k in range(n + 1)]
        bone = float(max(values[k] for k in inside))
        level = (bone + float(values[i + direction * n])) / 2
        j = inside[-1] if abs(inside[-1] - centre) < abs(i - centre) else centre
        while values[j + direction] > level:
            j += direction
        ends.append(j + direction * (values[j] - level) / (values[j] - values[j + direction]))
    return float((ends[1] - ends[0]) * dt)


def _trilinear(volume: np.ndarray, k: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    k0, r0, c0 = (np.floor(a).astype(int) for a in (k, r, c))
    fk, fr, fc = k - k0, r - r0, c - c0
    out = np.zeros(len(k))
    for dk in (0, 1):
        for dr in (0, 1):
            for dc in (0, 1):
                w = (fk if dk else 1 - fk) * (fr if dr else 1 - fr) * (fc if dc else 1 - fc)
                out += w * volume[k0 + dk, r0 + dr, c0 + dc]
    return out


@pytest.fixture(scope="module")
def fractured_ct(tmp_path_factory: pytest.TempPathFactory) -> Study:
    root = tmp_path_factory.mktemp("fractured_ct")
    wanted = ["L1:wedge:0.45", "L3:crush:0.3", "L4:biconcave:0.42"]
    generate("lumbar-ct", root, CT_SEED, fractures=wanted)
    folder = root / study_folder_name("lumbar-ct", CT_SEED)
    return Study(folder, load_ground_truth(folder))


def _expected_ratio(kind: str | None, loss: float, f: float) -> float:
    """Height over intact height at ``f`` of the half depth on the mid-sagittal line."""
    if kind is None:
        return 1.0
    if kind == "wedge":
        return 1.0 - loss * (0.5 - f / 2)
    if kind == "crush":
        return 1.0 - loss
    rho2 = (f / 0.8) ** 2
    return 1.0 - loss * max(1.0 - rho2, 0.0) ** 2


def test_ct_heights_match_the_declared_loss(fractured_ct: Study, ct_study: Study):
    truth = fractured_ct.truth
    declared = {v.label: (v.fracture, v.height_loss, v.genant_grade) for v in truth.vertebrae}
    assert declared["L1"] == ("wedge", 0.45, 3)
    assert declared["L3"] == ("crush", 0.3, 2)
    assert declared["L4"] == ("biconcave", 0.42, 3)
    assert declared["L2"] == (None, 0.0, 0)
    assert truth.parameters["fracture_rate"] == 0.0
    # Along the axis the CT's pixels are its slices, 2-3 mm apart.
    ds = fractured_ct.datasets("ct")[0]
    step = max(float(ds.SpacingBetweenSlices), float(ds.PixelSpacing[0]))
    fractions = [-0.6, -0.3, 0.0, 0.3, 0.6]
    for label in ("T12", "L1", "L2", "L3", "L4", "L5"):
        kind, loss, _ = declared[label]
        whole = np.array(_ct_heights(ct_study, label, fractions))
        broken = np.array(_ct_heights(fractured_ct, label, fractions))
        expected = whole * [_expected_ratio(kind, loss, f) for f in fractions]
        errors = broken - expected
        assert np.all(np.abs(errors) < 2 * step), (label, broken, expected)
        assert abs(float(np.mean(errors))) < step, (label, broken, expected)


def test_ct_label_map_and_mr_show_the_same_bodies(fractured_ct: Study, mr_study: Study, tmp_path):
    import SimpleITK as sitk

    values = fractured_ct.truth.label_map.values
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(fractured_ct.path / "labels.nii.gz")))
    volume = np.stack([hu(ds) for ds in fractured_ct.datasets("ct")])
    assert np.median(volume[labels == values["L3"]]) > 150
    # MR of the same seed with a crushed L3: the body's central sagittal box is lower; the
    # other bodies keep their size.
    generate("lumbar-mr", tmp_path, MR_SEED, fractures=["L3:crush:0.45"])
    broken_truth = load_ground_truth(tmp_path / f"lumbar-mr-{MR_SEED:05d}")

    def central_box_height(truth, label: str) -> int:
        view = next(v for v in truth.vertebra(label).views if v.central)
        return view.box_px[3] - view.box_px[1]

    spacing = float(mr_study.datasets("sagittal_t2")[0].PixelSpacing[0])
    lost = central_box_height(mr_study.truth, "L3") - central_box_height(broken_truth, "L3")
    assert lost * spacing > 0.45 * 22 * 0.8
    for label in ("L1", "L5"):
        before = central_box_height(mr_study.truth, label)
        assert abs(before - central_box_height(broken_truth, label)) <= 2


def test_xr_fracture_rate_crushes_bodies(tmp_path: Path, xr_studies: list[Study]):
    whole = xr_studies[3]
    truth = generate("spine-xr", tmp_path, 3, fracture_rate=0.4, fractures=["T11:crush:1"])
    broken = Study(tmp_path / "spine-xr-00003", truth)
    labels = [v.label for v in truth.vertebrae][:-1]
    plan = plan_fractures([3, 3], labels, 0.4, [FractureRequest("T11", "crush", 1)], ["crush"])
    assert len(plan) >= 3
    spacing = truth.parameters["pixel_spacing_mm"]
    for v in truth.vertebrae:
        fracture = plan.get(v.label)
        if fracture is None:
            assert (v.fracture, v.height_loss, v.genant_grade) == (None, 0.0, 0)
        else:
            assert (v.fracture, v.height_loss, v.genant_grade) == (
                "crush",
                fracture.height_loss,
                fracture.grade,
            )
        expected = (1 - v.height_loss) * _xr_height(whole, v.label)
        assert abs(_xr_height(broken, v.label) - expected) < 2 * spacing, v.label
    assert truth.vertebra("T11").genant_grade == 1


def _xr_height(study: Study, label: str) -> float:
    """Height (mm) of a body on the AP image: the bright run across its centre, along its tilt."""
    ds = pydicom.dcmread(study.path / study.truth.series[0].images[0].file)
    image = ds.pixel_array.astype(float)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        image = image.max() - image
    spacing = study.truth.parameters["pixel_spacing_mm"]
    v = study.truth.vertebra(label)
    x, _, y = v.centre_mm
    a = np.radians(v.views[0].tilt_deg)
    t = np.arange(-25.0, 25.0, 0.05)
    cols = (x - t * np.sin(a)) / spacing
    rows = (-y - t * np.cos(a)) / spacing
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    values = (
        image[r0, c0] * (1 - fr) * (1 - fc)
        + image[r0 + 1, c0] * fr * (1 - fc)
        + image[r0, c0 + 1] * (1 - fr) * fc
        + image[r0 + 1, c0 + 1] * fr * fc
    )
    background = np.median(image[:, :20])
    inside = values[len(t) // 2]
    bone = values > (background + inside) / 2
    centre = len(t) // 2
    top = centre - np.argmin(bone[centre::-1])
    bottom = centre + np.argmin(bone[centre:])
    return float((bottom - top - 1) * 0.05)


# -- the command line ---------------------------------------------------------------------------


def test_cli_fracture_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    args = ["phantom", str(tmp_path), "--kind", "spine-xr", "--seed", "4"]
    assert main([*args, "--fracture-rate", "0.3", "--fracture", "L3:crush:2"]) == 0
    out = capsys.readouterr().out
    assert "fractures: " in out and "L3 crush grade 2" in out
    truth = load_ground_truth(tmp_path / "spine-xr-00004")
    assert truth.parameters["fracture_rate"] == 0.3
    assert truth.vertebra("L3").genant_grade == 2
    for bad, message in (
        (["--fracture-rate", "2"], "must lie between 0 and 1"),
        (["--fracture", "L1:spiral"], "unknown fracture kind"),
        (["--fracture", "L1:wedge:2"], "not drawn in this study kind"),
    ):
        assert main(["phantom", str(tmp_path / "bad"), "--kind", "spine-xr", *bad]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "bad").exists() or list((tmp_path / "bad").iterdir()) == []
