"""The wide-profile AP radiographs (``spineviewer phantom --kind spine-xr --profile wide``):
deterministic per seed, every drawn value in the truth, the truth consistent with the image and
the header, the standard spine-xr studies untouched."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.cli import main
from spineviewer.phantom import generate, study_folder_name
from spineviewer.phantom.xr import cobb_from_tilts
from spineviewer.phantom.xr_wide import FIELDS, WIDE_LABELS, generate_wide_xr, wide_folder_name
from spineviewer.training.xr_data import xr_sample

from .reference import compare, load, summarise

SEEDS = (61, 62, 63, 64, 65, 66)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wide-xr")
    for seed in SEEDS:
        generate_wide_xr(out, seed)
    return out


def _image(folder: Path) -> tuple[pydicom.Dataset, np.ndarray, dict]:
    (path,) = sorted(folder.glob("S01_xr_ap/*.dcm"))
    ds = pydicom.dcmread(path)
    values = ds.pixel_array.astype(np.float64)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        values = (2**ds.BitsStored - 1) - values  # bone bright
    return ds, values, json.loads((folder / "ground_truth.json").read_text())


def test_same_seed_same_study_and_another_seed_another(wide: Path, tmp_path: Path) -> None:
    again = generate_wide_xr(tmp_path, SEEDS[0])
    name = wide_folder_name(SEEDS[0])
    ds, values, truth = _image(wide / name)
    ds2, values2, _ = _image(tmp_path / name)
    assert json.loads((tmp_path / name / "ground_truth.json").read_text()) == truth
    assert again.study_instance_uid == ds.StudyInstanceUID == ds2.StudyInstanceUID
    assert np.array_equal(values, values2)
    _, other, other_truth = _image(wide / wide_folder_name(SEEDS[1]))
    assert other_truth["parameters"]["wide"] != truth["parameters"]["wide"]
    assert other.shape != values.shape or not np.array_equal(other, values)


def test_every_drawn_value_is_in_the_truth(wide: Path) -> None:
    keys = {
        "field", "rows", "columns", "coarsened", "modality", "magnification", "body_size",
        "bone_contrast", "metal_contrast", "axial_turn", "pelvis_mm", "soft_tissue",
        "exposure", "curve", "implants",
    }  # fmt: skip
    fields, contrasts, modalities = set(), [], set()
    for seed in SEEDS:
        _, _, truth = _image(wide / wide_folder_name(seed))
        drawn = truth["parameters"]["wide"]
        assert truth["parameters"]["profile"] == "wide"
        assert set(drawn) == keys
        assert {"trunk_depth_mm", "depth_gradient", "lung_fraction", "bowel_gas_pockets"} <= set(
            drawn["soft_tissue"]
        )
        assert {"scatter_to_primary", "noise", "latitude", "unsharp_gain", "gamma", "bits"} <= set(
            drawn["exposure"]
        )
        assert 0.1 <= truth["parameters"]["pixel_spacing_mm"] <= 0.25
        assert 0.0 <= drawn["curve"]["curve_target_deg"] <= 45.0
        fields.add(drawn["field"])
        contrasts.append(drawn["bone_contrast"])
        modalities.add(drawn["modality"])
    assert fields <= set(FIELDS) and len(fields) >= 2
    assert min(contrasts) < 0.5 < max(contrasts) * 2  # low contrast drawn, and higher ones


def test_header_matches_the_truth(wide: Path) -> None:
    for seed in SEEDS:
        ds, values, truth = _image(wide / wide_folder_name(seed))
        drawn, spacing = truth["parameters"]["wide"], truth["parameters"]["pixel_spacing_mm"]
        assert values.shape == (drawn["rows"], drawn["columns"]) <= (3000, 3000)
        assert [float(v) for v in ds.ImagerPixelSpacing] == [spacing, spacing]
        assert ds.Modality == drawn["modality"] and ds.ViewPosition == "AP"
        assert (ds.PhotometricInterpretation == "MONOCHROME1") == bool(
            truth["parameters"]["monochrome1"]
        )
        assert values.max() <= 2**ds.BitsStored - 1


def test_bodies_in_view_match_the_field_and_the_cobb_angle(wide: Path) -> None:
    for seed in SEEDS:
        _, values, truth = _image(wide / wide_folder_name(seed))
        field = truth["parameters"]["wide"]["field"]
        spacing = truth["parameters"]["pixel_spacing_mm"]
        seen = [v for v in truth["vertebrae"] if v["views"]]
        labels = [v["label"] for v in seen]
        assert labels == list(WIDE_LABELS[WIDE_LABELS.index(labels[0]) :])  # down to S1
        top = WIDE_LABELS.index(field.split("-")[0])
        assert labels[0] in WIDE_LABELS[max(0, top - 1) : top + 1]  # the field's top, or above
        for v in seen:
            x0, y0, x1, y1 = v["views"][0]["box_px"]
            assert 0 <= x0 < x1 < values.shape[1] and 0 <= y0 < y1 < values.shape[0]
            x, _, z = v["centre_mm"]
            assert x0 <= x / spacing <= x1 and y0 <= -z / spacing <= y1
        spine = [v for v in seen if v["label"] != "S1"]
        cobb = cobb_from_tilts(
            [v["label"] for v in spine], [v["views"][0]["tilt_deg"] for v in spine]
        )
        assert truth["cobb"]["angle_deg"] == pytest.approx(cobb.angle_deg, abs=0.002)
        for implant in truth["implants"]:
            x0, y0, x1, y1 = implant["box_px"]
            assert 0 <= x0 <= x1 < values.shape[1] and 0 <= y0 <= y1 < values.shape[0]


def test_bodies_are_brighter_than_the_discs_between_them(wide: Path) -> None:
    """The image shows the truth: a body's centre is brighter than the disc below it (bone
    over soft tissue), in most pairs even at low contrast, with gas, ribs and noise."""
    brighter = pairs = 0
    for seed in SEEDS:
        _, values, truth = _image(wide / wide_folder_name(seed))
        r = int(3.0 / truth["parameters"]["pixel_spacing_mm"])

        def mean_at(x: float, y: float, image: np.ndarray = values, r: int = r) -> float:
            return float(image[int(y) - r : int(y) + r + 1, int(x) - r : int(x) + r + 1].mean())

        boxes = [v["views"][0]["box_px"] for v in truth["vertebrae"] if v["views"]]
        for upper, lower in itertools.pairwise(boxes):
            cu = ((upper[0] + upper[2]) / 2, (upper[1] + upper[3]) / 2)
            cl = ((lower[0] + lower[2]) / 2, (lower[1] + lower[3]) / 2)
            disc = ((cu[0] + cl[0]) / 2, (cu[1] + cl[1]) / 2)
            pairs += 1
            brighter += mean_at(*cu) > mean_at(*disc)
    assert pairs >= 40
    assert brighter / pairs >= 0.7


def test_training_sample_is_at_the_physical_scale(wide: Path) -> None:
    folder = wide / wide_folder_name(SEEDS[2])
    truth = json.loads((folder / "ground_truth.json").read_text())
    sample = xr_sample(folder, "vertebrae", (384, 288), mm_per_pixel=1.25)
    spacing = truth["parameters"]["pixel_spacing_mm"]
    height_mm = truth["parameters"]["wide"]["rows"] * spacing
    scale = sample.box.scale
    assert scale == pytest.approx(spacing / max(1.25, height_mm / 384), rel=1e-6)
    true_heights = [
        (v["views"][0]["box_px"][3] - v["views"][0]["box_px"][1] + 1) * spacing
        for v in truth["vertebrae"]
        if v["views"]
    ]
    got = (sample.boxes[:, 3] - sample.boxes[:, 1]) * max(1.25, height_mm / 384)
    assert got == pytest.approx(true_heights, rel=0.02)


def test_standard_spine_xr_study_is_unchanged(wide: Path, tmp_path: Path) -> None:
    generate("spine-xr", tmp_path, 3)
    name = study_folder_name("spine-xr", 3)
    assert compare(load()[name], summarise(tmp_path / name)) == []


def test_command_line_writes_wide_radiographs(tmp_path: Path, capsys) -> None:
    assert main(["phantom", str(tmp_path), "--kind", "spine-xr", "--profile", "wide"]) == 0
    assert "wide profile" in capsys.readouterr().out
    assert (tmp_path / wide_folder_name(0) / "ground_truth.json").is_file()
    code = main(["phantom", str(tmp_path), "--kind", "spine-xr", "--profile", "wide", "--fov",
                 "full"])  # fmt: skip
    assert code == 2
    assert "--fov: not with --profile wide" in capsys.readouterr().err
