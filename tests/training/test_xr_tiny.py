"""The AP radiograph models' training path: data from spine-xr phantoms (numpy only), the
oriented network's corners (torch), and tiny runs of both tasks through the CLI that export
packages onnxruntime runs and ``spineviewer evaluate`` measures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from spineviewer.cli import main
from spineviewer.phantom import generate, load_ground_truth, study_folder_name
from spineviewer.training.xr_data import IMPLANT_CLASSES, radiograph, xr_sample


@pytest.fixture(scope="module")
def xr_studies(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("xr")
    # held-out seeds of implants-ap: 93004 MONOCHROME1 with implants, 93003 MONOCHROME2
    folders = []
    for seed in (93004, 93003):
        generate("spine-xr", root, seed)
        folders.append(root / study_folder_name("spine-xr", seed))
    return folders


def test_samples_show_bone_bright_whatever_the_photometric_interpretation(
    xr_studies: list[Path],
) -> None:
    kinds = set()
    for study in xr_studies:
        _, _, monochrome1 = radiograph(study)
        kinds.add(monochrome1)
        sample = xr_sample(study, "vertebrae", (384, 192))
        assert sample.image.shape == (384, 192)
        inside = np.zeros(sample.image.shape, dtype=bool)
        for x0, y0, x1, y1 in sample.boxes.astype(int):
            inside[y0:y1, x0:x1] = True
        content = sample.image > 0  # not the letterbox padding
        assert sample.image[inside].mean() > sample.image[content & ~inside].mean() + 0.1
        truth = load_ground_truth(study)
        assert sample.labels == tuple(v.label for v in truth.vertebrae)
        assert sample.angles is not None
        assert sample.angles.tolist() == pytest.approx(
            [v.views[0].tilt_deg for v in truth.vertebrae]
        )
        assert sample.classes.tolist() == [0] * (len(truth.vertebrae) - 1) + [1]
    assert kinds == {True, False}


def test_implant_samples_carry_every_implant_in_input_pixels(xr_studies: list[Path]) -> None:
    study = xr_studies[0]
    truth = load_ground_truth(study)
    assert truth.implants, "seed 93004 carries implants"
    sample = xr_sample(study, "implants", (512, 256))
    assert len(sample.boxes) == len(truth.implants)
    assert [IMPLANT_CLASSES[c] for c in sample.classes] == [i.implant_class for i in truth.implants]
    scale = sample.box.scale
    first = truth.implants[0].box_px
    assert sample.boxes[0][0] == pytest.approx(first[0] * scale + sample.box.pad_left)
    assert sample.angles is None
    with pytest.raises(ValueError, match="unknown target"):
        xr_sample(study, "ribs", (512, 256))


def test_oriented_corners_are_the_tilted_body() -> None:
    torch = pytest.importorskip("torch", reason="the training extra (torch) is not installed")
    from spineviewer.ai.cobb import endplate_tilts
    from spineviewer.training.detector import SIZE_UNIT, build_detector, network_input

    torch.manual_seed(0)
    model = build_detector(2, 8, oriented=True).eval()
    with torch.no_grad():
        x = network_input(torch.rand(1, 1, 64, 32))
        raw = model.raw(x)[0].flatten(1).numpy()
        rows = model(x)[0].numpy()
    assert rows.shape == (16 * 8, 4 + 2 + 12)
    tilts = np.degrees(np.tanh(raw[2 + 4]) * np.pi / 4)
    halves = np.exp(raw[2 + 5 : 2 + 7]) * SIZE_UNIT
    for k in range(len(rows)):
        corners = rows[k, 6:].reshape(4, 3)
        upper, lower = endplate_tilts(corners)
        assert upper == pytest.approx(tilts[k], abs=1e-3)
        assert lower == pytest.approx(tilts[k], abs=1e-3)
        assert corners[:, :2].mean(axis=0) == pytest.approx(rows[k, :2], abs=1e-3)
        width = np.linalg.norm(corners[1, :2] - corners[0, :2])
        height = np.linalg.norm(corners[2, :2] - corners[0, :2])
        assert (width, height) == pytest.approx(tuple(2 * halves[:, k]), rel=1e-4)
        assert np.all(corners[:, 2] == rows[k, 4:6].max())


def test_tilted_half_sizes_invert_the_bounding_box() -> None:
    from spineviewer.training.detector import tilted_half_sizes

    a, b, tilt = 20.0, 12.0, math.radians(15)
    c, s = math.cos(tilt), math.sin(tilt)
    half_w, half_h = a * c + b * s, a * s + b * c
    assert tilted_half_sizes(half_w, half_h, tilt) == pytest.approx((a, b))
    assert tilted_half_sizes(half_w, half_h, -tilt) == pytest.approx((a, b))


@pytest.mark.parametrize("task", ["vertebrae-ap", "implants-ap"])
def test_tiny_run_exports_a_package_that_evaluate_measures(task: str, tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the training extra (torch) is not installed")
    pytest.importorskip("onnx")
    from spineviewer.ai import check_onnx_file, find_models

    out = tmp_path / "models"
    rc = main(
        [
            "train-detector",
            "--task",
            task,
            "--phantoms",
            str(tmp_path / "phantoms"),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--scale",
            "0.02",  # 8 train, 1 validation, 2 test radiographs
        ]
    )
    assert rc == 0
    entry = next(e for e in find_models([out]) if e.id == task)
    assert entry.available and entry.manifest is not None, entry.problems
    manifest = entry.manifest
    assert check_onnx_file(manifest, out / f"{task}.onnx") == []
    assert manifest.provenance.not_for_clinical_use
    assert [m.upper() for m in manifest.applies_to.modality] == ["CR", "DX"]
    card = (out / f"{task}.md").read_text()
    assert "NOT FOR CLINICAL USE" in card and "ms per radiograph" in card
    if task == "vertebrae-ap":
        assert manifest.task == "keypoints"
        assert manifest.decoding.points == (  # type: ignore[union-attr]
            "upper_left",
            "upper_right",
            "lower_left",
            "lower_right",
        )
        assert manifest.outputs[0].shape[-1] == 4 + 2 + 12
    else:
        assert manifest.task == "detection" and manifest.label_names == IMPLANT_CLASSES
        assert manifest.labels[0].code is not None  # pedicle screw: SCT Bone screw

    report = tmp_path / "report"
    test_data = tmp_path / "phantoms"
    rc = main(
        ["evaluate", "--model", str(out / f"{task}.onnx"), "--data", str(test_data),
         "--out", str(report)]
    )  # fmt: skip
    assert rc == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["detection"]["task"] == "detection"
    assert metrics["not_for_clinical_use"] is True
    if task == "vertebrae-ap":
        assert metrics["cobb"]["task"] == "cobb"
        assert metrics["cobb"]["n_cases"] == metrics["detection"]["n_images"]
        assert "Cobb MAE" in (report / "metrics.md").read_text()
