"""The scoliotic lumbar CT phantom: the curve in the pixels matches its truth."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.anatomy import build_anatomy
from spineviewer.phantom.ct_scoliosis import generate_scoliotic_ct, scoliotic_folder_name
from spineviewer.phantom.scoliosis_bend import Scoliosis, bend_spine, measured_cobb_deg

from .conftest import CT_SEED, Study, hu, plane_of


@pytest.fixture(scope="module")
def scoliotic(tmp_path_factory: pytest.TempPathFactory) -> Study:
    root = tmp_path_factory.mktemp("scoliosis")
    generate_scoliotic_ct(root, CT_SEED, Scoliosis(cobb_deg=30.0, apex="L2", rotation_deg=10.0))
    path = root / scoliotic_folder_name(CT_SEED)
    return Study(path, load_ground_truth(path))


def test_bend_gives_the_asked_cobb_angle_and_keeps_s1():
    anatomy = build_anatomy(np.random.default_rng([CT_SEED, 2]))
    for cobb, convex in ((20.0, "left"), (45.0, "right")):
        bent = bend_spine(anatomy, Scoliosis(cobb_deg=cobb, apex="L2", convex=convex))
        cobb_measured = measured_cobb_deg(bent.anatomy, bent.upper_end, bent.lower_end)
        assert abs(cobb_measured - cobb) < 0.5
        s1 = bent.anatomy.vertebra("S1").centre
        assert np.allclose(s1, anatomy.vertebra("S1").centre)
        shift = bent.anatomy.vertebra("L2").centre[0] - anatomy.vertebra("L2").centre[0]
        assert shift * (1 if convex == "left" else -1) > 10.0  # apex towards the convexity
        # bodies stay the same distance apart (a bend, not a stretch)
        before = [v.centre for v in anatomy.vertebrae]
        after = [v.centre for v in bent.anatomy.vertebrae]
        assert np.allclose(
            np.linalg.norm(np.diff(before, axis=0), axis=1),
            np.linalg.norm(np.diff(after, axis=0), axis=1),
        )


def test_bad_scoliosis_is_refused():
    with pytest.raises(ValueError, match="Cobb"):
        Scoliosis(cobb_deg=120.0)
    with pytest.raises(ValueError, match="convex"):
        Scoliosis(convex="up")
    anatomy = build_anatomy(np.random.default_rng(0))
    with pytest.raises(ValueError, match="apex"):
        bend_spine(anatomy, Scoliosis(apex="C5"))


def test_truth_records_the_curve(scoliotic: Study, ct_study: Study):
    truth = scoliotic.truth
    curve = truth.parameters["scoliosis"]
    assert curve["cobb_deg"] == 30.0 and curve["apex"] == "L2"
    assert (curve["upper_end_vertebra"], curve["lower_end_vertebra"]) == ("T12", "L4")
    tilts = dict(zip(curve["vertebrae"], curve["coronal_tilt_deg"], strict=True))
    assert abs(tilts["T12"] - tilts["L4"]) == pytest.approx(30.0)
    turns = dict(zip(curve["vertebrae"], curve["axial_rotation_deg"], strict=True))
    assert turns["L2"] == pytest.approx(10.0)
    centres = {v.label: v.centre_mm for v in truth.vertebrae}
    expected = [centres[label] for label in curve["vertebrae"]]
    assert np.allclose(curve["centres_mm"], expected, atol=1e-3)
    assert len(curve["canal_mm"]) == len(truth.vertebrae)
    # another study of the same patient
    assert truth.patient_id == ct_study.truth.patient_id
    assert truth.study_instance_uid != ct_study.truth.study_instance_uid


def test_bone_in_the_pixels_follows_the_bent_centres(scoliotic: Study):
    datasets = scoliotic.datasets("ct")
    volume = np.stack([hu(ds) for ds in datasets])
    planes = [plane_of(ds) for ds in datasets]
    xs = []
    for vertebra in scoliotic.truth.vertebrae:
        if vertebra.label not in ("T12", "L1", "L2", "L3", "L4", "L5"):
            continue
        x0, y0, z0, x1, y1, z1 = vertebra.views[0].voxel_box
        k = (z0 + z1) // 2
        # the body's marrow on its central slice: bone voxels inside the box's middle half
        w, h = (x1 - x0) // 4, (y1 - y0) // 4
        block = volume[k, y0 + h : y1 - h + 1, x0 + w : x1 - w + 1]
        rows, cols = np.nonzero(block > 100)
        measured = planes[k].to_patient(y0 + h + rows.mean(), x0 + w + cols.mean())
        error = abs(measured[0] - vertebra.centre_mm[0])
        assert error < 2.0, (vertebra.label, error)
        xs.append(measured[0])
    assert max(xs) - min(xs) > 15.0  # the curve shows in the image
