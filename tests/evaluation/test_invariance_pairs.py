"""The invariance check (issue 19): paired studies with one acquisition factor changed.

The 3-pair version of ``spineviewer evaluation invariance`` runs once for the module (seeds
710000-710002: two square bases, one with a T1 sagittal, and one non-square base) with the
bundled models on onnxruntime's CPU provider. The tests read the DICOM files it wrote: each
variant differs from its base only in the intended way, under new UIDs, and the base's files
are never written. The comparison rules are checked on constructed readings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from spineviewer.ai.findings import UNCERTAIN, DiscFinding, Findings, VertebraFinding
from spineviewer.dicom import first_image, scan
from spineviewer.evaluation import invariance
from spineviewer.evaluation.invariance import (
    FACTORS,
    PairResult,
    Reading,
    disc_differences,
    label_difference,
    summarise_pairs,
    variant_folder_name,
    write_variants,
)
from spineviewer.evaluation.study import study_folder_name

SEED = 710000
PAIRS = 3
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


@dataclass(frozen=True)
class Run:
    out: Path
    rc: int
    payload: dict[str, Any]
    markdown: str


@pytest.fixture(scope="module")
def run(module_tmp: Path) -> Run:
    from spineviewer.cli import main

    out = module_tmp / "invariance"
    rc = main(["evaluation", "invariance", str(out), "--pairs", str(PAIRS), "--seed", str(SEED)])
    payload = json.loads((out / "invariance.json").read_text(encoding="utf-8"))
    return Run(out, rc, payload, (out / "invariance.md").read_text(encoding="utf-8"))


def _truth(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))


def _images(folder: Path) -> list[tuple[str, str]]:
    """(role, file) of every image of the study in ``folder``."""
    return [(s["role"], i["file"]) for s in _truth(folder)["series"] for i in s["images"]]


def _pair(run: Run, seed: int, factor: str) -> tuple[Path, Path]:
    return run.out / study_folder_name(seed), run.out / variant_folder_name(seed, factor)


def _middle(folder: Path, role: str) -> pydicom.Dataset:
    series = next(s for s in _truth(folder)["series"] if s["role"] == role)
    return pydicom.dcmread(folder / series["images"][len(series["images"]) // 2]["file"])


# --- the command ---------------------------------------------------------------------------


def test_the_command_writes_every_pair_and_the_per_factor_rates(run: Run) -> None:
    assert run.rc == 0
    p = run.payload
    assert p["seeds"] == [SEED, SEED + PAIRS - 1]
    assert p["factors"] == list(FACTORS)
    assert p["provider"].lower().startswith("cpu")
    assert {m["id"] for m in p["models"]} >= {"vertebrae-sagittal", "disc-state"}
    assert p["intensity_factor"] == 4 and p["stored_offset"] == 1000
    assert len(p["pairs"]) == PAIRS * len(FACTORS)
    for factor in FACTORS:
        s = p["summary"][factor]
        mine = [x for x in p["pairs"] if x["factor"] == factor]
        assert s["pairs"] == PAIRS and not s["enough_pairs"]
        assert s["labels_identical"] == sum(x["labels_identical"] for x in mine)
        assert s["disc_states_identical"] == sum(x["disc_states_identical"] for x in mine)
        assert s["labels_rate"] == pytest.approx(s["labels_identical"] / PAIRS, abs=1e-4)
        assert s["disc_states_rate"] == pytest.approx(s["disc_states_identical"] / PAIRS, abs=1e-4)
        assert s["labels_pass"] == (s["labels_rate"] >= 0.95)
        assert s["disc_states_pass"] == (s["disc_states_rate"] >= 0.90)
        assert s["failed_pairs"] == 0
        assert f"| {factor} | {PAIRS} |" in run.markdown
    for x in p["pairs"]:
        assert not x["errors"]
        assert x["labels_identical"] == (x["label_difference"] is None)
        assert x["disc_states_identical"] == (not x["disc_differences"])
    # the models see something on the base studies, so the comparison is not empty
    assert any(x["base_labels"] for x in p["pairs"]) and any(x["base_discs"] for x in p["pairs"])
    # the offset variant has the base's modality values: the analysis must not change
    offset = p["summary"]["offset-intercept"]
    assert offset["labels_identical"] == offset["disc_states_identical"] == PAIRS
    assert not (run.out / ".invariance-work").exists()


def test_the_command_line_defaults_are_the_module_s(run: Run) -> None:
    from spineviewer.cli import evaluation

    assert evaluation.INVARIANCE_FACTORS == invariance.FACTORS
    assert evaluation.INVARIANCE_PAIRS == invariance.MIN_PAIRS
    assert evaluation.INVARIANCE_SEED == invariance.DEFAULT_SEED
    assert not set(range(invariance.DEFAULT_SEED, invariance.DEFAULT_SEED + 20)) & set(
        range(700000, 700040)
    )


# --- the variants ----------------------------------------------------------------------------


def test_every_variant_has_its_own_folder_and_uids_and_never_merges_with_its_base(
    run: Run,
) -> None:
    for seed in range(SEED, SEED + PAIRS):
        base = run.out / study_folder_name(seed)
        base_uids = {
            getattr(pydicom.dcmread(base / f, stop_before_pixels=True), k)
            for _, f in _images(base)
            for k in UID_KEYWORDS
        }
        for factor in FACTORS:
            folder = run.out / variant_folder_name(seed, factor)
            assert folder.name != base.name and folder.name.endswith(factor)
            truth = _truth(folder)
            assert truth["parameters"]["invariance"]["factor"] == factor
            assert truth["parameters"]["invariance"]["base_folder"] == base.name
            images = _images(folder)
            for _, file in images[:: max(1, len(images) // 6)]:
                ds = pydicom.dcmread(folder / file, stop_before_pixels=True)
                assert not {getattr(ds, k) for k in UID_KEYWORDS} & base_uids
                assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
                assert ds.StudyInstanceUID == truth["study_instance_uid"]
    found = scan(run.out)
    assert len(found.studies) == PAIRS * (1 + len(FACTORS))
    assert not [s.path for s in found.skipped if s.dicom]  # only the JSON and Markdown files


def test_the_offset_variant_keeps_the_modality_values(run: Run) -> None:
    for seed in range(SEED, SEED + PAIRS):
        base, variant = _pair(run, seed, "offset-intercept")
        for _, file in _images(base)[::7]:
            a, b = pydicom.dcmread(base / file), pydicom.dcmread(variant / file)
            assert float(b.RescaleIntercept) == -1000.0 and float(b.RescaleSlope) == 1.0
            assert int(b.BitsStored) == 13 and int(b.HighBit) == 12
            assert np.array_equal(b.pixel_array.astype(int), a.pixel_array.astype(int) + 1000)
            assert (b.WindowCenter, b.WindowWidth) == (a.WindowCenter, a.WindowWidth)
            shown_a, shown_b = first_image(base / file), first_image(variant / file)
            assert shown_a is not None and shown_b is not None
            assert shown_b[0].rescale_intercept == -1000.0
            assert np.array_equal(shown_a[1].astype(np.int64), shown_b[1].astype(np.int64))


def test_the_intensity_variant_multiplies_the_stored_values_and_the_window(run: Run) -> None:
    for seed in range(SEED, SEED + PAIRS):
        base, variant = _pair(run, seed, "intensity-x4")
        assert _truth(variant)["parameters"]["invariance"]["intensity_factor"] == 4
        for _, file in _images(base)[::7]:
            a, b = pydicom.dcmread(base / file), pydicom.dcmread(variant / file)
            assert int(b.BitsStored) == 14 and int(b.HighBit) == 13
            assert "RescaleIntercept" not in b
            assert np.array_equal(b.pixel_array.astype(int), 4 * a.pixel_array.astype(int))
            assert float(b.WindowCenter) == pytest.approx(4 * float(a.WindowCenter))
            assert float(b.WindowWidth) == pytest.approx(4 * float(a.WindowWidth))
            assert b.PixelSpacing == a.PixelSpacing
            assert b.ImagePositionPatient == a.ImagePositionPatient


def test_the_non_square_variant_changes_the_pixel_shape_not_the_field(run: Run) -> None:
    squares = set()
    for seed in range(SEED, SEED + PAIRS):
        base, variant = _pair(run, seed, "non-square")
        base_square = not _truth(base)["parameters"]["tags"].count("non-square")
        squares.add(base_square)
        assert ("non-square" in _truth(variant)["parameters"]["tags"]) == base_square
        for role in {r for r, _ in _images(base)}:
            a, b = _middle(base, role), _middle(variant, role)
            (ar, ac), (br, bc) = (map(float, a.PixelSpacing), map(float, b.PixelSpacing))
            assert (ar == pytest.approx(ac)) == base_square
            assert (br == pytest.approx(bc)) != base_square
            assert br == pytest.approx(ar) and b.Rows == a.Rows
            width_a, width_b = ac * a.Columns, bc * b.Columns
            assert width_b == pytest.approx(width_a, rel=0.05)
            assert b.ImageOrientationPatient == a.ImageOrientationPatient

            def centre(ds: pydicom.Dataset) -> np.ndarray:
                iop = np.array(ds.ImageOrientationPatient, dtype=float)
                r, c = (float(v) for v in ds.PixelSpacing)
                return (
                    np.array(ds.ImagePositionPatient, dtype=float)
                    + iop[:3] * c * (ds.Columns - 1) / 2
                    + iop[3:] * r * (ds.Rows - 1) / 2
                )

            assert np.linalg.norm(centre(a) - centre(b)) < 0.5
    assert squares == {True, False}


def test_the_noise_variant_has_twice_the_noise_in_the_air(run: Run) -> None:
    for seed in range(SEED, SEED + PAIRS):
        base, variant = _pair(run, seed, "noise-2x")
        doubled = _truth(variant)["parameters"]
        assert doubled["noise_factor"] == pytest.approx(
            2 * _truth(base)["parameters"]["noise_factor"]
        )
        a = _middle(base, "sagittal_t2").pixel_array.astype(np.float64)
        b = _middle(variant, "sagittal_t2").pixel_array.astype(np.float64)
        assert a.shape == b.shape
        air = a <= np.percentile(a, 10)  # the darkest tenth of the base: air and background
        ratio = (b[air].mean() / np.percentile(b, 99.8)) / (a[air].mean() / np.percentile(a, 99.8))
        assert ratio > 1.4


def _digests(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_writing_variants_never_touches_the_base_files(run: Run, tmp_path: Path) -> None:
    base = run.out / study_folder_name(SEED)
    before = _digests(base)
    written = write_variants(base, SEED, ("intensity-x4", "offset-intercept"), out_dir=tmp_path)
    assert _digests(base) == before
    assert set(written) == {"intensity-x4", "offset-intercept"}
    for folder in written.values():
        assert folder.parent == tmp_path and len(_images(folder)) == len(_images(base))


# --- the comparison rules, on constructed readings ------------------------------------------

SPINE = (("L3", (0.0, 0.0, 0.0)), ("L4", (0.0, 0.0, -35.0)), ("L5", (0.0, 0.0, -70.0)))
DISCS = (("L3-L4", "normal"), ("L4-L5", "herniation"))


def _reading(vertebrae=SPINE, discs=DISCS, error=None) -> Reading:
    return Reading(tuple(vertebrae), tuple(discs), error)


def test_the_same_labels_a_little_apart_are_identical() -> None:
    moved = [(label, (x + 3.0, y, z + 5.0)) for label, (x, y, z) in SPINE]
    assert label_difference(_reading(), _reading(moved)) is None
    assert disc_differences(_reading(), _reading()) == []


def test_a_changed_missing_or_moved_label_differs() -> None:
    renamed = [("L2", SPINE[0][1]), *SPINE[1:]]
    assert label_difference(_reading(), _reading(renamed)) == "L3 L4 L5 -> L2 L4 L5"
    assert label_difference(_reading(), _reading(SPINE[:2])) is not None
    assert label_difference(_reading(), _reading(())) == "L3 L4 L5 -> none"
    shifted = [*SPINE[:2], ("L5", (0.0, 0.0, -81.0))]
    assert label_difference(_reading(), _reading(shifted)) == "L5 moved 11.0 mm"
    assert label_difference(_reading(), _reading(error="RuntimeError: x")) is not None


def test_a_changed_uncertain_or_missing_disc_state_differs() -> None:
    base = _reading()
    assert disc_differences(base, _reading(discs=[DISCS[0], ("L4-L5", "bulge")])) == [
        "L4-L5: herniation -> bulge"
    ]
    assert disc_differences(base, _reading(discs=[DISCS[0]])) == ["L4-L5: herniation -> absent"]
    extra = [*DISCS, ("L5-S1", "normal")]
    assert disc_differences(base, _reading(discs=extra)) == ["L5-S1: absent -> normal"]
    findings = Findings(
        "uid",
        "cpu",
        vertebrae=tuple(
            VertebraFinding(label, 0.9, "s", "i", (0, 0, 1, 1), centre) for label, centre in SPINE
        ),
        discs=tuple(
            DiscFinding(level, state, {state: 0.6}, (0.0, 0.0, 0.0), (), review=review)
            for (level, state), review in zip(DISCS, ("confident", UNCERTAIN), strict=True)
        ),
    )
    read = Reading.of(findings)
    assert read.labels == ["L3", "L4", "L5"]
    assert read.disc_states == {"L3-L4": "normal", "L4-L5": UNCERTAIN}
    assert disc_differences(base, read) == ["L4-L5: herniation -> uncertain"]
    assert Reading.of(None, "ValueError: broken").error == "ValueError: broken"


def test_the_summary_counts_identical_pairs_against_the_targets() -> None:
    same, other = _reading(), _reading(discs=[DISCS[0], ("L4-L5", "bulge")])
    renamed = _reading([("L2", SPINE[0][1]), *SPINE[1:]])
    empty = _reading((), ())
    pairs = [PairResult(1, "noise-2x", "b", "v", same, same) for _ in range(18)]
    pairs += [PairResult(2, "noise-2x", "b", "v", same, other)]
    pairs += [PairResult(3, "noise-2x", "b", "v", same, renamed)]
    pairs += [PairResult(4, "noise-2x", "b", "v", empty, empty)]
    s = summarise_pairs(pairs, ("noise-2x", "non-square"))
    noise = s["noise-2x"]
    assert noise["pairs"] == 21 and noise["enough_pairs"]
    assert noise["labels_identical"] == 20 and noise["labels_pass"]  # 20/21 = 0.952
    assert noise["disc_states_identical"] == 20 and noise["disc_states_pass"]
    assert noise["both_no_vertebra"] == 1 and noise["both_no_disc"] == 1
    assert noise["disc_levels_differing"] == 1
    pairs += [PairResult(5, "noise-2x", "b", "v", same, renamed)]
    assert not summarise_pairs(pairs)["noise-2x"]["labels_pass"]  # 20/22 = 0.909
    assert summarise_pairs(pairs)["noise-2x"]["disc_states_pass"]  # 21/22
    assert s["non-square"]["pairs"] == 0 and not s["non-square"]["labels_pass"]
    assert s["non-square"]["labels_rate"] is None
