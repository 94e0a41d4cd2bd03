"""The default studies stay those of the stored reference, compared within a tolerance.

Byte digests of float-rendered files differ between CPUs and BLAS kernels; ``reference.py``
compares pixels within a tolerance and UIDs, header text and truth fields exactly. These tests
also show that the comparison fails for the changes it is there to catch.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.phantom import generate, study_folder_name

from .conftest import Study
from .reference import REFERENCE_STUDIES, StudySummary, compare, load, summarise


@pytest.fixture(scope="module")
def reference() -> dict[str, StudySummary]:
    return load()


@pytest.fixture(scope="module")
def mr_summary(mr_study: Study) -> StudySummary:
    return summarise(mr_study.path)


def test_reference_holds_the_fixtures_and_the_demo_study(reference: dict[str, StudySummary]):
    assert sorted(reference) == sorted(study_folder_name(k, s) for k, s in REFERENCE_STUDIES)
    mr = reference["lumbar-mr-00001"]
    assert len(mr.thumbs) == len([f for f in mr.files if f.endswith(".dcm")]) > 60
    assert reference["lumbar-ct-00011"].label_counts


def test_demo_study_is_unchanged(tmp_path: Path, reference: dict[str, StudySummary]):
    generate("lumbar-mr", tmp_path, 1)
    name = study_folder_name("lumbar-mr", 1)
    assert compare(reference[name], summarise(tmp_path / name)) == []


def test_fixture_summary_matches_itself_and_not_another_seed(
    reference: dict[str, StudySummary], mr_summary: StudySummary
):
    assert compare(reference["lumbar-mr-00007"], mr_summary) == []
    other = compare(reference["lumbar-mr-00001"], mr_summary)
    assert len(other) > 100
    assert any(d.startswith("files:") for d in other)


def test_truth_and_header_changes_are_caught(mr_summary: StudySummary):
    def changed(edit) -> list[str]:
        got = copy.deepcopy(mr_summary)
        edit(got)
        return compare(mr_summary, got)

    def move_box(got: StudySummary, by: int) -> None:
        got.truth["vertebrae"][3]["views"][0]["box_px"][1] += by

    def nudge_centre(got: StudySummary, by: float) -> None:
        got.truth["discs"][2]["centre_mm"][0] += by

    first = next(iter(mr_summary.headers))
    assert changed(lambda g: move_box(g, 1)) == []  # a pixel of rasterisation
    assert changed(lambda g: move_box(g, 2)) == [
        "ground_truth/vertebrae[3]/views[0]/box_px[1]: "
        f"{mr_summary.truth['vertebrae'][3]['views'][0]['box_px'][1]} in the reference, "
        f"{mr_summary.truth['vertebrae'][3]['views'][0]['box_px'][1] + 2} in the study"
    ]
    assert changed(lambda g: nudge_centre(g, 0.001)) == []
    assert len(changed(lambda g: nudge_centre(g, 0.01))) == 1
    assert len(changed(lambda g: g.truth["discs"][2].update(state="bulge"))) == 1
    assert len(changed(lambda g: g.truth["parameters"].update(extra=1))) == 1
    assert len(changed(lambda g: g.headers[first].update(SeriesDescription="SAG T1"))) == 1
    assert len(changed(lambda g: g.headers[first].update(EchoTime=12.0))) == 1

    def negative_zero(g: StudySummary) -> None:
        iop = g.headers[first]["ImageOrientationPatient"]
        iop[:] = [-0.0 if v == 0 else v + 1e-6 for v in iop]

    assert changed(negative_zero) == []


def _edit_pixels(study: Path, name: str, edit) -> None:
    ds = pydicom.dcmread(study / name)
    pixels = ds.pixel_array.astype(np.int64)
    edit(pixels)
    ds.PixelData = np.clip(pixels, 0, 65535).astype("<u2").tobytes()
    ds.save_as(study / name)


def test_pixel_changes_are_caught_and_rounding_is_not(
    tmp_path: Path, mr_study: Study, mr_summary: StudySummary
):
    copy_dir = tmp_path / mr_study.path.name
    shutil.copytree(mr_study.path, copy_dir)
    sagittal = mr_study.truth.series_by_role("sagittal_t2").images
    angled = [name for name in mr_summary.patches if name.startswith("S02_")]
    rng = np.random.default_rng(0)

    def rounding(pixels: np.ndarray) -> None:  # what another CPU may do: +-1 here and there
        pixels += (rng.random(pixels.shape) < 0.05) * rng.choice([-1, 1], pixels.shape)

    def lesion(pixels: np.ndarray) -> None:  # a 6 x 6 mm brighter spot
        r, c = (n // 2 for n in pixels.shape)
        pixels[r - 3 : r + 3, c + 40 : c + 46] += 300

    def reseed(pixels: np.ndarray) -> None:  # the same image with another noise draw
        pixels += rng.normal(0, 30, pixels.shape).round().astype(np.int64)

    _edit_pixels(copy_dir, sagittal[4].file, rounding)
    _edit_pixels(copy_dir, sagittal[6].file, lesion)
    _edit_pixels(copy_dir, angled[0], reseed)
    found = compare(mr_summary, summarise(copy_dir))
    files = {d.split(":")[0] for d in found}
    assert files == {sagittal[6].file, angled[0]}, found


def test_decimal_strings_never_read_negative_zero():
    # Rounding noise of -1e-17 instead of +1e-17 (another BLAS kernel) wrote "-0": the files of
    # one study then differed between machines.
    from spineviewer.phantom.dicom_files import _ds

    assert [_ds(v) for v in (-1e-17, -0.0, 1e-17, -0.5, 2.25)] == ["0", "0", "0", "-0.5", "2.25"]
