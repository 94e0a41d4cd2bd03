"""Lumbar MR options: field of view, six lumbar vertebrae, sagittal contrasts, against pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.phantom import (
    CONTRAST_NAMES,
    LUMBAR_COUNTS,
    SAGITTAL_FOVS,
    MrOptions,
    generate,
)
from spineviewer.phantom.fractures import plan_fractures
from spineviewer.phantom.mr import fracture_candidates, mr_model
from spineviewer.phantom.painted_volume import SpineModel
from spineviewer.phantom.tissues import Tissue

from .conftest import MR_SEED, Study, make_study, marrow_centroid, plane_of
from .reference import compare, summarise

LUMBAR_DISCS = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")


def _sagittal_roles(study: Study) -> list[str]:
    return [s.role for s in study.truth.series if s.plane == "sagittal"]


def _sagittal_views(study: Study, item) -> list:
    uids = {s.series_instance_uid for s in study.truth.series if s.plane == "sagittal"}
    return [v for v in item.views if v.series_instance_uid in uids]


def _rows_z(ds: pydicom.Dataset) -> tuple[float, float]:
    """Patient z of the first and the last row's centres of a sagittal image."""
    plane = plane_of(ds)
    first = plane.to_patient(0.0, 0.0)
    last = plane.to_patient(float(ds.Rows - 1), 0.0)
    return float(first[2]), float(last[2])


def _angled_levels(study: Study) -> list[str]:
    """Per angled stack, the level of its slice nearest a disc."""
    uid = study.truth.series_by_role("axial_t2_angled").series_instance_uid
    levels = [a for a in study.truth.axial_levels if a.series_instance_uid == uid]
    stacks = sorted({a.stack for a in levels})
    assert stacks == list(range(len(stacks)))
    return [
        min((a for a in levels if a.stack == k), key=lambda a: a.distance_mm).level for k in stacks
    ]


def _rendered(study: Study, options: MrOptions, role: str) -> list:
    """The phantom re-rendered on the written slices of ``role`` (tissue and owner labels)."""
    model, _ = mr_model(study.truth.seed, options)
    return model, [model.render(plane_of(ds)) for ds in study.datasets(role)]


# -- the options themselves ---------------------------------------------------------------------


def test_options_validate_and_round_trip():
    assert MrOptions().is_default and MrOptions().parameters() == {}
    options = MrOptions("L2-S1", 6, ["STIR", "T2"])
    assert options.sagittal_contrasts == ("STIR", "T2")
    assert options.parameters() == {
        "sagittal_fov": "L2-S1",
        "lumbar_vertebrae": 6,
        "sagittal_contrasts": ["STIR", "T2"],
    }
    assert MrOptions.from_parameters(options.parameters()) == options
    assert MrOptions.from_parameters({"lordosis_deg": 40.0}) == MrOptions()
    assert SAGITTAL_FOVS == ("full", "T10-L5", "L2-S1", "T10-S1", "L1-S1")
    assert LUMBAR_COUNTS == (5, 6) and CONTRAST_NAMES == ("T2", "T1", "STIR")
    for kwargs, message in (
        ({"sagittal_fov": "T9-L5"}, "sagittal field of view must be one of full, T10-L5, L2-S1"),
        ({"lumbar_vertebrae": 4}, "number of lumbar vertebrae must be one of 5, 6, got 4"),
        ({"sagittal_contrasts": ("PD",)}, "a sagittal contrast must be one of T2, T1, STIR"),
        ({"sagittal_contrasts": ()}, "non-empty sequence"),
        ({"sagittal_contrasts": "T1"}, "non-empty sequence"),
        ({"sagittal_contrasts": ("T1", "T1")}, "named twice"),
    ):
        with pytest.raises(ValueError, match=message):
            MrOptions(**kwargs)


def test_generate_refuses_mr_options_elsewhere_and_bad_fractures(tmp_path: Path):
    with pytest.raises(ValueError, match="MR options apply to lumbar-mr studies, not spine-xr"):
        generate("spine-xr", tmp_path, 1, mr_options=MrOptions(sagittal_fov="L2-S1"))
    with pytest.raises(ValueError, match="'L6' cannot fracture here"):
        generate("lumbar-mr", tmp_path, 1, fractures=["L6:crush"])
    assert list(tmp_path.iterdir()) == []
    six = fracture_candidates(MrOptions(lumbar_vertebrae=6))
    assert six[-1] == "L6" and set(plan_fractures([1, 1], six, 1.0)) == set(six)


def test_explicit_defaults_are_the_default_study(tmp_path: Path, mr_study: Study):
    options = MrOptions(sagittal_fov="full", sagittal_contrasts=["T2"])
    again = make_study(tmp_path, "lumbar-mr", MR_SEED, options)
    assert compare(summarise(mr_study.path), summarise(again.path)) == []
    text = (again.path / "ground_truth.json").read_text()
    for key in ("in_sagittal_fov", "contrast", "sagittal_fov", "lumbar_vertebrae"):
        assert key not in text
    assert again.truth.mr_options == MrOptions()
    assert all(v.in_sagittal_fov for v in again.truth.vertebrae)


def test_same_seed_and_options_same_study(tmp_path: Path, mr_t10_l5: Study):
    again = make_study(tmp_path, "lumbar-mr", MR_SEED, MrOptions(sagittal_fov="T10-L5"))
    assert compare(summarise(mr_t10_l5.path), summarise(again.path)) == []
    other = make_study(tmp_path, "lumbar-mr", MR_SEED + 1, MrOptions(sagittal_fov="T10-L5"))
    assert compare(summarise(mr_t10_l5.path), summarise(other.path)) != []


def test_truth_files_carry_the_options(mr_t10_l5: Study, mr_contrasts: Study):
    for study, options in (
        (mr_t10_l5, MrOptions(sagittal_fov="T10-L5")),
        (mr_contrasts, MrOptions(sagittal_contrasts=("T1", "T2", "STIR"))),
    ):
        data = json.loads((study.path / "ground_truth.json").read_text())
        assert type(study.truth).from_json(data).to_json() == data
        assert study.truth.mr_options == options
        assert {k: data["parameters"][k] for k in options.parameters()} == options.parameters()
        assert all("in_sagittal_fov" in v for v in data["vertebrae"] + data["discs"])
        assert all(s["contrast"] in CONTRAST_NAMES for s in data["series"])


def test_option_studies_are_other_studies_of_the_same_patient(
    mr_study: Study, mr_t10_l5: Study, mr_contrasts: Study
):
    studies = (mr_study, mr_t10_l5, mr_contrasts)
    assert len({s.truth.patient_id for s in studies}) == 1
    for uid in ("study_instance_uid", "frame_of_reference_uid"):
        assert len({getattr(s.truth, uid) for s in studies}) == 3
    sagittal_t2 = [s.truth.series_by_role("sagittal_t2") for s in studies]
    assert len({s.series_instance_uid for s in sagittal_t2}) == 3
    images = [
        {i.sop_instance_uid for s in study.truth.series for i in s.images} for study in studies
    ]
    assert not (images[0] & images[1]) and not (images[0] & images[2])
    ds = mr_contrasts.datasets("sagittal_stir")[0]
    assert ds.StudyInstanceUID == mr_contrasts.truth.study_instance_uid
    assert ds.PatientID == mr_study.datasets("sagittal_t2")[0].PatientID


def test_an_option_leaves_the_other_draws_alone(mr_study: Study, mr_t10_l5: Study, mr_six_lumbar):
    base = mr_study.truth
    for study in (mr_t10_l5, mr_six_lumbar):
        truth = study.truth
        for key in ("noise_sigma", "csf_signal", "lordosis_deg"):
            assert truth.parameters[key] == pytest.approx(base.parameters[key], abs=0.05), key
        for label in ("T12", "L1", "L2", "L3", "L4"):
            gap = np.subtract(truth.vertebra(label).centre_mm, base.vertebra(label).centre_mm)
            assert np.linalg.norm(gap) < 1.0, (label, gap)
        for level in ("L1-L2", "L2-L3", "L3-L4", "L4-L5"):
            assert truth.disc(level).state == base.disc(level).state
    # The lumbosacral disc keeps its state when an L6 moves it down.
    assert mr_six_lumbar.truth.disc("L6-S1").state == base.disc("L5-S1").state


# -- fields of view -----------------------------------------------------------------------------


def test_t10_l5_shows_no_sacral_body(mr_t10_l5: Study):
    truth = mr_t10_l5.truth
    labels = [v.label for v in truth.vertebrae]
    assert labels == ["T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"]
    shown = {v.label: v.in_sagittal_fov for v in truth.vertebrae}
    assert shown == {label: label not in ("T9", "S1") for label in labels}
    s1 = truth.vertebra("S1")
    assert s1.views == []
    datasets = mr_t10_l5.datasets("sagittal_t2")
    top, bottom = _rows_z(datasets[0])
    assert s1.centre_mm[2] < bottom and truth.vertebra("L5").centre_mm[2] > bottom
    assert truth.vertebra("T9").centre_mm[2] > top > truth.vertebra("T10").centre_mm[2]
    # T9 shows only cut by the top border; T10..L4 whole.
    assert all(v.truncated for v in _sagittal_views(mr_t10_l5, truth.vertebra("T9")))
    for label in ("T10", "T11", "T12", "L1", "L2", "L3", "L4"):
        central = [v for v in truth.vertebra(label).views if v.central]
        assert len(central) == 1 and not central[0].truncated, label
    # Re-rendered on the written slices: not one pixel of the S1 body.
    model, rendered = _rendered(mr_t10_l5, MrOptions(sagittal_fov="T10-L5"), "sagittal_t2")
    s1_id = model.structure_id("S1")
    assert all(not np.any(r.owner == s1_id) for r in rendered)
    assert sum(np.count_nonzero(r.owner == model.structure_id("L5")) for r in rendered) > 1000
    # The axial series cover the lumbar discs in view, not L5-S1.
    assert not truth.disc("L5-S1").in_sagittal_fov
    assert _angled_levels(mr_t10_l5) == ["L1-L2", "L2-L3", "L3-L4", "L4-L5"]
    stack = truth.series_by_role("axial_t2_stack").series_instance_uid
    levels = {a.level for a in truth.axial_levels if a.series_instance_uid == stack}
    assert "L5-S1" not in levels and {"L1-L2", "L4-L5"} <= levels


def test_l2_s1_starts_below_l1(mr_l2_s1: Study):
    truth = mr_l2_s1.truth
    assert [v.label for v in truth.vertebrae] == ["T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"]
    shown = {v.label: v.in_sagittal_fov for v in truth.vertebrae}
    assert shown == {"T11": False, "T12": False, "L1": False} | {
        label: True for label in ("L2", "L3", "L4", "L5", "S1")
    }
    top, bottom = _rows_z(mr_l2_s1.datasets("sagittal_t2")[0])
    assert truth.vertebra("L1").centre_mm[2] > top > truth.disc("L2-L3").centre_mm[2]
    assert truth.disc("L1-L2").centre_mm[2] > top
    assert bottom < truth.vertebra("S1").centre_mm[2] - 20
    assert all(v.truncated for v in _sagittal_views(mr_l2_s1, truth.vertebra("L1")))
    for label in ("T11", "T12"):
        assert _sagittal_views(mr_l2_s1, truth.vertebra(label)) == []
    for label in ("L3", "L4", "L5", "S1"):
        central = [v for v in truth.vertebra(label).views if v.central]
        assert len(central) == 1 and not central[0].truncated, label
    assert [d.level for d in truth.discs if d.in_sagittal_fov] == list(LUMBAR_DISCS[1:])
    assert _angled_levels(mr_l2_s1) == list(LUMBAR_DISCS[1:])
    # The pixel size stays a real one, the matrix a multiple of 16.
    ds = mr_l2_s1.datasets("sagittal_t2")[0]
    assert 0.75 <= float(ds.PixelSpacing[0]) <= 1.15 and ds.Rows % 16 == 0


# -- six lumbar vertebrae -----------------------------------------------------------------------


def test_six_lumbar_bodies_and_their_discs(mr_six_lumbar: Study):
    truth = mr_six_lumbar.truth
    lumbar = ["L1", "L2", "L3", "L4", "L5", "L6"]
    assert [v.label for v in truth.vertebrae] == ["T11", "T12", *lumbar, "S1"]
    discs = [d.level for d in truth.discs]
    assert discs[-6:] == ["L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-L6", "L6-S1"]
    assert "L5-S1" not in discs
    datasets = mr_six_lumbar.datasets("sagittal_t2")
    for label in lumbar:
        vertebra = truth.vertebra(label)
        assert vertebra.in_sagittal_fov
        (view,) = [v for v in vertebra.views if v.central]
        assert not view.truncated
        ds = datasets[view.slice_index]
        row, col = marrow_centroid(ds.pixel_array, view.box_px)
        measured = plane_of(ds).to_patient(row, col)
        in_plane = np.delete(measured - np.array(vertebra.centre_mm), 0)  # sagittal: drop x
        assert np.linalg.norm(in_plane) < 2.0, (label, in_plane)
    z = [truth.vertebra(label).centre_mm[2] for label in (*lumbar, "S1")]
    assert all(np.diff(z) < -20)  # top to bottom, a body height apart
    for level in discs[-6:]:
        disc = truth.disc(level)
        assert disc.in_sagittal_fov and _sagittal_views(mr_six_lumbar, disc)
        upper, lower = (np.array(truth.vertebra(x).centre_mm) for x in level.split("-"))
        assert np.linalg.norm(np.array(disc.centre_mm) - (upper + lower) / 2) < 6.0, level
    assert _angled_levels(mr_six_lumbar) == discs[-6:]


# -- contrasts ----------------------------------------------------------------------------------


def test_contrast_series_and_headers(mr_contrasts: Study, mr_study: Study):
    truth = mr_contrasts.truth
    assert [(s.role, s.contrast) for s in truth.series] == [
        ("sagittal_t1", "T1"),
        ("sagittal_t2", "T2"),
        ("sagittal_stir", "STIR"),
        ("axial_t2_angled", "T2"),
        ("axial_t2_stack", "T2"),
    ]
    assert [s.folder for s in truth.series][:3] == [
        "S01_sagittal_t1",
        "S02_sagittal_t2",
        "S03_sagittal_stir",
    ]
    expected = {
        "sagittal_t1": ("SAG T1 TSE", "SE", ["SK", "SP"], "tse2d1_3", (450, 700), (8, 14)),
        "sagittal_t2": ("SAG T2", "SE", ["SK", "SP"], "tse2d1_17", (3000, 5000), (85, 120)),
        "sagittal_stir": (
            "SAG STIR",
            ["SE", "IR"],
            ["SK", "SP", "MP"],
            "tir2d1_13",
            (3500, 5500),
            (40, 70),
        ),
    }
    slices = None
    for role, (description, scanning, variant, name, tr, te) in expected.items():
        for ds in mr_contrasts.datasets(role):
            assert ds.SeriesDescription == f"{description} SYNTHETIC PHANTOM - NOT FOR CLINICAL USE"
            assert ds.ScanningSequence == scanning and list(ds.SequenceVariant) == variant
            assert ds.SequenceName == name
            assert tr[0] <= float(ds.RepetitionTime) <= tr[1]
            assert te[0] <= float(ds.EchoTime) <= te[1]
            if role == "sagittal_stir":
                inversion = {1.5: (140, 160), 3.0: (210, 240)}[float(ds.MagneticFieldStrength)]
                assert inversion[0] <= float(ds.InversionTime) <= inversion[1]
            else:
                assert "InversionTime" not in ds
        positions = [tuple(ds.ImagePositionPatient) for ds in mr_contrasts.datasets(role)]
        assert slices is None or positions == slices  # the same slices in every contrast
        slices = positions
    # The sagittal T2 is today's: the same slices, header timings and signal levels.
    before = mr_study.datasets("sagittal_t2")
    now = mr_contrasts.datasets("sagittal_t2")
    assert [tuple(ds.ImagePositionPatient) for ds in before] == slices
    for a, b in zip(before, now, strict=True):
        assert (a.RepetitionTime, a.EchoTime, a.WindowCenter) == (
            b.RepetitionTime,
            b.EchoTime,
            b.WindowCenter,
        )
        assert abs(a.pixel_array.mean() / b.pixel_array.mean() - 1) < 0.01


def _tissue_means(study: Study, role: str) -> dict[Tissue, float]:
    """Mean pixel value per tissue over the middle sagittal slices (tissue from a re-render)."""
    _, rendered = _rendered(study, study.truth.mr_options, role)
    datasets = study.datasets(role)
    middle = len(datasets) // 2
    values: dict[Tissue, list[np.ndarray]] = {t: [] for t in Tissue}
    for index in range(middle - 2, middle + 3):
        pixels = datasets[index].pixel_array.astype(float)
        tissue = rendered[index].tissue
        for t in Tissue:
            values[t].append(pixels[tissue == t])
    return {t: float(np.concatenate(v).mean()) for t, v in values.items() if sum(map(len, v))}


def test_tissue_signals_follow_the_contrast(mr_contrasts: Study):
    t1 = _tissue_means(mr_contrasts, "sagittal_t1")
    stir = _tissue_means(mr_contrasts, "sagittal_stir")
    t2 = _tissue_means(mr_contrasts, "sagittal_t2")
    # T1: fat bright, CSF dark, fatty marrow bright, discs darker than marrow, muscle between.
    assert t1[Tissue.FAT] > 4 * t1[Tissue.CSF]
    assert t1[Tissue.MARROW] > 1.5 * max(t1[Tissue.NUCLEUS], t1[Tissue.ANNULUS])
    assert t1[Tissue.CSF] < t1[Tissue.MUSCLE] < t1[Tissue.MARROW]
    # STIR: fat nulled, fluid bright, marrow dark, a healthy nucleus bright.
    assert stir[Tissue.FAT] < 0.2 * stir[Tissue.CSF]
    assert stir[Tissue.MARROW] < 0.25 * stir[Tissue.NUCLEUS]
    assert stir[Tissue.MUSCLE] < 0.3 * stir[Tissue.CSF]
    # T2 as always: CSF brightest, a healthy nucleus bright, the annulus dark.
    assert t2[Tissue.CSF] > t2[Tissue.FAT] > t2[Tissue.MARROW] > t2[Tissue.ANNULUS]


def _centre_value(ds: pydicom.Dataset, box: list[int]) -> float:
    x0, y0, x1, y1 = box
    row, col = (y0 + y1) // 2, (x0 + x1) // 2
    return float(np.median(ds.pixel_array[row - 1 : row + 2, col - 1 : col + 2]))


def test_disc_and_marrow_on_truth_boxes(mr_contrasts: Study):
    """Black-box: the centres of the truth's disc and body boxes on each contrast's pixels."""
    truth = mr_contrasts.truth
    for role in ("sagittal_t1", "sagittal_stir"):
        uid = truth.series_by_role(role).series_instance_uid
        datasets = mr_contrasts.datasets(role)

        def central(item, uid: str = uid) -> tuple[int, list[int]]:
            (view,) = [v for v in item.views if v.series_instance_uid == uid and v.central]
            return view.slice_index, view.box_px

        for level in LUMBAR_DISCS:
            disc = truth.disc(level)
            index, box = central(disc)
            disc_value = _centre_value(datasets[index], box)
            upper = truth.vertebra(level.split("-")[0])
            index, box = central(upper)
            marrow = _centre_value(datasets[index], box)
            if role == "sagittal_t1":
                assert disc_value < 0.75 * marrow, (role, level, disc_value, marrow)
            elif disc.state == "normal":
                assert disc_value > 3 * marrow, (role, level, disc_value, marrow)


def test_a_model_for_the_options_matches_the_truth(mr_six_lumbar: Study):
    """``mr_model`` (used above to re-render) builds the study's own anatomy."""
    model, _ = mr_model(mr_six_lumbar.truth.seed, MrOptions(lumbar_vertebrae=6))
    assert isinstance(model, SpineModel)
    for vertebra in mr_six_lumbar.truth.vertebrae:
        centre = model.anatomy.vertebra(vertebra.label).centre
        assert np.allclose(centre, vertebra.centre_mm, atol=1e-3)
