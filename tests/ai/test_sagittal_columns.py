"""The vertebrae read on every sagittal contrast of a study (T2, T1, STIR): the read whose labels
pass their checks is reported, and two reads that number a body differently flag the labels."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, cast

import numpy as np
import pydicom
import pytest

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.findings import CONFIDENT, NEEDS_REVIEW
from spineviewer.ai.label_check import check_column
from spineviewer.ai.mr_series import MrStack
from spineviewer.ai.pipelines.sagittal_columns import (
    ColumnRead,
    best_read,
    disagreement,
    doubted,
)
from spineviewer.ai.vertebra_labels import Body, Labelling
from spineviewer.phantom import generate, study_folder_name
from spineviewer.phantom.mr_options import MrOptions

LABELS = ("S1", "L5", "L4", "L3", "L2", "L1", "T12")


def _read(contrast: str, labels: tuple[str, ...] = LABELS, shift_mm: float = 0.0) -> ColumnRead:
    """A read of bodies 35 mm apart (bottom first), the image edges far from them."""
    bodies = tuple(
        Body(label, "vertebra", 0.9, (0, 0, 1, 20), (0.0, 0.0), (0.0, 0.0, 35.0 * k + shift_mm),
             sacral=0.8 if label == "S1" else 0.05)
        for k, label in enumerate(labels)
    )  # fmt: skip
    review = check_column(Labelling(bodies), "1.2", lambda body: (-80.0, 400.0))
    mr = MrStack(cast(Any, None), contrast, "test")
    return ColumnRead(mr, cast(Any, None), (), review, "m", ())


def test_the_read_that_passed_its_checks_wins_then_the_one_with_more_bodies() -> None:
    t2, t1 = _read("T2"), _read("T1")
    assert best_read([t2, t1]) == (t2, ())  # equal: the chosen contrast's
    short = _read("T2", LABELS[:-1])
    read, why = best_read([short, t1])
    assert read is t1 and why == (
        "vertebrae read on the sagittal T1 series: it shows 7 bodies, the T2 series 6",
    )
    gap = _read("T2", ("S1", "L5", "L4", "L2", "L1", "T12"))  # a missed body: uncertain
    assert gap.review.result.status != CONFIDENT
    read, why = best_read([gap, t1])
    assert read is t1 and "its labels passed their checks, the T2 series' did not" in why[0]


def test_reads_that_number_a_shared_body_differently_disagree() -> None:
    t2 = _read("T2")
    assert disagreement(t2, _read("T1", shift_mm=5.0)) is None  # same bodies, same names
    shifted = _read("T1", (*LABELS[1:], "T11"))  # its S1 is this read's L5 ...
    why = disagreement(t2, shifted)
    assert why == "the sagittal T1 series numbers the column differently (its L5 is S1 here)"
    flagged = doubted(t2, [why])
    assert flagged.review.result.status == NEEDS_REVIEW and why in flagged.review.result.reasons
    assert all(status == NEEDS_REVIEW for status, _ in flagged.review.review.values())
    assert why in flagged.review.warnings
    assert disagreement(t2, _read("T1", shift_mm=17.5)) is None  # half a step: no shared body


@pytest.fixture(scope="module")
def t1_t2_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo phantom (seed 1) with a sagittal T1 series beside the T2."""
    root = tmp_path_factory.mktemp("t1t2")
    generate("lumbar-mr", root, 1, mr_options=MrOptions(sagittal_contrasts=("T2", "T1")))
    return root / study_folder_name("lumbar-mr", 1)


def test_both_contrasts_read_alike_and_the_t2_read_is_reported(t1_t2_study: Path):
    (findings,) = analyse_path(t1_t2_study, provider="cpu")
    t2 = {v.series_uid for v in findings.vertebrae}
    assert len(findings.vertebrae) >= 6 and len(t2) == 1
    assert not any("numbers the column differently" in w for w in findings.warnings)
    assert not any("vertebrae read on the sagittal" in w for w in findings.warnings)
    (t2_folder,) = [p for p in t1_t2_study.iterdir() if "sagittal_t2" in p.name.lower()]
    first = pydicom.dcmread(next(t2_folder.glob("*.dcm")), stop_before_pixels=True)
    assert t2 == {first.SeriesInstanceUID} == {findings.labelling[0].series_uid}


def test_a_blank_t2_series_leaves_the_vertebrae_to_the_t1_and_the_discs_stay(
    t1_t2_study: Path, tmp_path: Path
):
    study = tmp_path / "study"
    shutil.copytree(t1_t2_study, study)
    (t2_folder,) = [p for p in study.iterdir() if "sagittal_t2" in p.name.lower()]
    for path in sorted(t2_folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.PixelData = np.zeros_like(ds.pixel_array).tobytes()  # nothing to detect
        ds.save_as(path)

    (findings,) = analyse_path(study, provider="cpu")

    (t1_folder,) = [p for p in study.iterdir() if "sagittal_t1" in p.name.lower()]
    t1_uid = pydicom.dcmread(next(t1_folder.glob("*.dcm")), stop_before_pixels=True)
    assert {v.series_uid for v in findings.vertebrae} == {t1_uid.SeriesInstanceUID}
    assert len(findings.vertebrae) >= 6
    assert any(w.startswith("sagittal series: no vertebral body found") for w in findings.warnings)
    assert findings.discs  # the axial disc states, at the T1 read's levels
