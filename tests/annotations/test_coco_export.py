"""COCO training set: JSON, frames, fixed-size disc ROI crops and labels.csv."""

from __future__ import annotations

import csv
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from exchange_helpers import MarkedStudy, marked_study, tree_hashes

from spineviewer.annotations.annotation import Annotation, ImageRef
from spineviewer.annotations.coco import (
    centroid,
    export_training_set,
    to_uint8,
    write_png,
)
from spineviewer.annotations.vocabulary import default_vocabulary
from spineviewer.dicom import StackPixels
from spineviewer.geometry.resample import crop_physical


def read_png(path: Path) -> np.ndarray:
    """Decode an 8-bit greyscale, filter-0 PNG as written by write_png (and check its CRCs)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF
        chunks[tag] = chunks.get(tag, b"") + body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 0)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width + 1)
    assert not raw[:, 0].any()
    return raw[:, 1:]


@pytest.fixture(scope="module")
def study(demo_study_dir: Path) -> MarkedStudy:
    return marked_study(demo_study_dir)


@pytest.fixture(scope="module")
def exported(study: MarkedStudy, tmp_path_factory: pytest.TempPathFactory):
    before = tree_hashes(study.folder)
    where = {
        (f.instance.sop_instance_uid, f.index + 1): (stack, i)
        for stack in study.stacks
        for i, f in enumerate(stack.frames)
    }

    def getter(ref: ImageRef) -> np.ndarray:
        stack, index = where[(ref.sop_instance_uid, ref.frame_number)]
        return StackPixels(stack).slice(index)

    result = export_training_set(study.annotations, getter, tmp_path_factory.mktemp("coco"))
    return result, getter, before


def test_json_loads_with_images_categories_and_boxes(study: MarkedStudy, exported):
    result, getter, _ = exported
    coco = json.loads(result.coco_json.read_text())
    labelled = [a for a in study.annotations if a.label]
    assert [e["uid"] for e in coco["annotations"]] == [a.uid for a in labelled]
    assert len(result.skipped) == len(study.annotations) - len(labelled)
    assert len(coco["images"]) == result.images == 2  # one sagittal, one axial frame
    vocabulary = default_vocabulary()
    categories = {c["id"]: c for c in coco["categories"]}
    assert [c["name"] for c in coco["categories"]] == [lb.key for lb in vocabulary.labels]
    images = {i["id"]: i for i in coco["images"]}
    for a, entry in zip(labelled, coco["annotations"], strict=True):
        category = categories[entry["category_id"]]
        assert category["name"] == a.label
        assert category["supercategory"] == vocabulary.get(a.label).category
        rows = [p[0] for p in a.points]
        cols = [p[1] for p in a.points]
        expected = [min(cols) + 0.5, min(rows) + 0.5, max(cols) - min(cols), max(rows) - min(rows)]
        assert entry["bbox"] == pytest.approx(expected)
        assert ("segmentation" in entry) == a.filled
        image = images[entry["image_id"]]
        assert (image["sop_instance_uid"], image["frame_number"]) == (
            a.image.sop_instance_uid,
            a.image.frame_number,
        )
        np.testing.assert_array_equal(np.load(result.out_dir / image["npy_file"]), getter(a.image))
    disc = categories[next(e for e in coco["annotations"] if e["state"])["category_id"]]
    assert disc["code"]["scheme"] == "SCT"


def test_segmentation_polygons_bound_the_shape(study: MarkedStudy, exported):
    result, _, _ = exported
    coco = json.loads(result.coco_json.read_text())
    for entry in coco["annotations"]:
        if "segmentation" not in entry:
            continue
        poly = np.asarray(entry["segmentation"][0]).reshape(-1, 2)
        x, y, w, h = entry["bbox"]
        assert poly[:, 0].min() == pytest.approx(x, abs=1e-3)
        assert poly[:, 1].min() == pytest.approx(y, abs=1e-3)
        assert poly[:, 0].max() == pytest.approx(x + w, abs=1e-3)
        assert poly[:, 1].max() == pytest.approx(y + h, abs=1e-3)
        assert entry["area"] > 0


def test_pngs_show_the_frames(exported):
    result, _, _ = exported
    coco = json.loads(result.coco_json.read_text())
    for image in coco["images"]:
        png = read_png(result.out_dir / image["file_name"])
        values = np.load(result.out_dir / image["npy_file"])
        np.testing.assert_array_equal(png, to_uint8(values))
        assert png.min() == 0 and png.max() == 255


def test_disc_crops_and_labels_csv(study: MarkedStudy, exported):
    result, _, _ = exported
    vocabulary = default_vocabulary()
    discs = [
        a for a in study.annotations if a.label in {lb.key for lb in vocabulary.in_category("disc")}
    ]
    with result.labels_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert result.crops == len(rows) == len(discs) == 3
    for a, row in zip(discs, rows, strict=True):
        assert row["file"] == f"crops/{a.uid}.npy"
        assert (row["study_uid"], row["sop_instance_uid"], int(row["frame"])) == (
            a.image.study_uid,
            a.image.sop_instance_uid,
            a.image.frame_number,
        )
        assert (row["label"], row["state"], row["status"], row["source"]) == (
            a.label,
            a.state,
            a.status.value,
            a.provenance.source,
        )
        crop = np.load(result.out_dir / row["file"])
        assert crop.shape == (64, 64) and crop.dtype == np.float32
        # 64 samples x the spacing resampled with = the requested 40 mm.
        assert float(row["spacing_row_mm"]) * crop.shape[0] == pytest.approx(40.0)
        assert float(row["spacing_col_mm"]) * crop.shape[1] == pytest.approx(40.0)
        assert (result.out_dir / f"crops/{a.uid}.png").exists()
    assert result.crop_spacing_mm == (40 / 64, 40 / 64)


def test_crop_covers_the_requested_physical_size():
    """On a ramp image (value = row, col) the crop spans exactly crop_mm / spacing pixels."""
    rows, cols = 200, 300
    spacing = (0.5, 0.8)
    r, c = np.mgrid[0:rows, 0:cols]
    centre = (100.0, 150.0)
    crop_rows = crop_physical(r.astype(float), centre, spacing, (40.0, 32.0), (64, 48), fill=-1)
    crop_cols = crop_physical(c.astype(float), centre, spacing, (40.0, 32.0), (64, 48), fill=-1)
    s_r, s_c = 40.0 / 64, 32.0 / 48
    # Neighbouring samples are one crop pixel apart, in source pixels: s / spacing.
    np.testing.assert_allclose(np.diff(crop_rows[:, 0]), s_r / spacing[0], rtol=1e-4)
    np.testing.assert_allclose(np.diff(crop_cols[0, :]), s_c / spacing[1], rtol=1e-4)
    # The outer edges of the crop are 40 mm (80 rows) and 32 mm (40 columns) apart.
    top = crop_rows[0, 0] - s_r / spacing[0] / 2
    bottom = crop_rows[-1, 0] + s_r / spacing[0] / 2
    assert (bottom - top) * spacing[0] == pytest.approx(40.0, rel=1e-5)
    left = crop_cols[0, 0] - s_c / spacing[1] / 2
    right = crop_cols[0, -1] + s_c / spacing[1] / 2
    assert (right - left) * spacing[1] == pytest.approx(32.0, rel=1e-5)
    assert (top + bottom) / 2 == pytest.approx(centre[0], rel=1e-5)


def test_crop_outside_the_image_takes_the_fill_value():
    # Samples at rows / cols -9.25 .. 9.75: ten of each fall on the 10 x 10 image.
    patch = crop_physical(np.ones((10, 10)), (0.25, 0.25), (1.0, 1.0), (20.0, 20.0), (20, 20), -5)
    assert patch[0, 0] == -5 and patch[15, 15] == 1 and patch[19, 19] == -5
    assert (patch == 1).sum() == 10 * 10


def test_centroid_of_shapes():
    ref = ImageRef("1", "2", "3", "4")
    triangle = Annotation.create("polygon", ref, [(0, 0), (0, 6), (3, 0)], None)
    assert centroid(triangle) == pytest.approx((1.0, 2.0))
    assert centroid(Annotation.create("ellipse", ref, [(2, 4), (6, 10)], None)) == (4.0, 7.0)
    assert centroid(Annotation.create("line", ref, [(0, 0), (4, 2)], None)) == (2.0, 1.0)


def test_write_png_round_trip(tmp_path: Path):
    image = (np.arange(35 * 17) % 256).astype(np.uint8).reshape(35, 17)
    write_png(tmp_path / "x.png", image)
    np.testing.assert_array_equal(read_png(tmp_path / "x.png"), image)


def test_sources_are_byte_identical(study: MarkedStudy, exported):
    _, _, before = exported
    assert tree_hashes(study.folder) == before


def test_disc_without_pixel_spacing_gets_no_crop(tmp_path: Path):
    ref = ImageRef("1.2", "1.2.3", "1.2.3.4", "1.2.840.10008.5.1.4.1.1.7", rows=32, columns=48)
    disc = Annotation.create("rectangle", ref, [(4, 4), (20, 30)], None, label="L4-L5")
    result = export_training_set([disc], lambda r: np.zeros((32, 48), np.int16), tmp_path)
    assert (result.annotations, result.crops) == (1, 0)
    assert result.skipped == (f"{disc.uid}: no pixel spacing for a (40.0, 40.0) mm crop",)
    with pytest.raises(ValueError, match="expected \\(32, 48\\)"):
        export_training_set([disc], lambda r: np.zeros((4, 4)), tmp_path / "bad")
