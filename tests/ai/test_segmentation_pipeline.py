"""The shipped demo segmentation model (onnx_models/spine-ct-segmentation) through the registry
on a phantom CT it never saw, and the segmentation pipeline: it runs on CT, records the model,
and leaves a sagittal MR series to the detector unless no detector accepts it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.analysis import analyse_study
from spineviewer.ai.pipelines import Context
from spineviewer.ai.pipelines.segmentation import chosen_series
from spineviewer.ai.registry import ModelEntry, load_entry
from spineviewer.ai.sessions import SessionCache
from spineviewer.ai.sliding_window import segment
from spineviewer.dicom import Study, scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.training.segmentation_data import (
    CLASSES,
    LEVELS,
    SeriesCase,
    load_series_case,
)

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "onnx_models"
SEGMENTATION = MODELS / "spine-ct-segmentation.onnx"
DETECTOR = MODELS / "vertebrae-sagittal.onnx"
#: A seed of neither the training (1000-1039) nor the card's held-out set (9000-9009).
SEED = 9500
#: Well under the held-out Dice of the vertebrae in the card: a regression, not noise, fails it.
FLOOR = 0.6


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> tuple[Study, SeriesCase]:
    root = tmp_path_factory.mktemp("ct")
    generate("lumbar-ct", root, SEED)
    folder = root / study_folder_name("lumbar-ct", SEED)
    return scan(folder).studies[0], load_series_case(folder)


@pytest.fixture(scope="module")
def entry() -> ModelEntry:
    found = load_entry(SEGMENTATION)
    assert found.available, found.problems
    return found


def test_the_shipped_package(entry: ModelEntry) -> None:
    m = entry.manifest
    assert m is not None and m.task == "segmentation"
    assert SEGMENTATION.stat().st_size <= 20e6
    assert m.provenance.not_for_clinical_use and m.opset == 17
    assert [label.name for label in m.labels] == list(CLASSES)  # what a voxel is
    # the label map shown has the levels, derived by geometry, coded (SNOMED CT)
    assert m.postprocessing is not None
    levels = m.postprocessing.spine_levels
    assert (levels.vertebra, levels.sacrum, levels.disc) == ("vertebra", "sacrum", "disc")
    assert set(LEVELS[1:]) <= {label.name for label in levels.labels}
    assert all(label.code is not None for label in levels.labels)
    card = SEGMENTATION.with_suffix(".md").read_text("utf-8")
    assert "NOT FOR CLINICAL USE" in card and "spineviewer train segmentation" in card


def test_it_segments_a_phantom_ct_it_never_saw(
    entry: ModelEntry, ct: tuple[Study, SeriesCase]
) -> None:
    _, case = ct
    session = SessionCache("cpu", 2).get(entry)
    label_map = segment(session, case.hu, case.spacing)
    found = label_map.labels
    assert found.shape == case.hu.shape
    values = {label.name: value for value, label in label_map.values.items()}
    # every level of the truth's, by name, from the network's classes and the geometry
    for name in ("T12", "L1", "L2", "L3", "L4", "L5", "S1", "L4-L5", "spinal_canal"):
        a, b = found == values[name], case.labels == LEVELS.index(name)
        assert 2 * (a & b).sum() / (a.sum() + b.sum()) > FLOOR, name


def test_the_pipeline_finds_the_vertebrae_on_ct(
    entry: ModelEntry, ct: tuple[Study, SeriesCase]
) -> None:
    study, case = ct
    findings = analyse_study(study, [entry], SessionCache("cpu", 2))
    steps = {s.name: s for s in findings.steps}
    assert steps["segmentation: label map"].status == "done"
    assert [m.id for m in findings.models] == ["spine-ct-segmentation"]
    found = {v.label: v for v in findings.vertebrae}
    assert {v.model_id for v in found.values()} == {"spine-ct-segmentation"}
    assert {"L1", "L2", "L3"} <= set(found)
    for label in ("L2", "L3"):
        error = np.linalg.norm(np.subtract(found[label].centre_mm, case.centres[label]))
        assert error < 20.0, (label, error)  # VerSe's identification radius
    assigned = [a for a in findings.axial_levels if a.level is not None]
    assert assigned and {a.series_uid for a in assigned} == {study.series[0].uid}
    assert findings.not_for_clinical_use


def _mr_entry(folder: Path) -> ModelEntry:
    """The shipped network under a manifest for sagittal MR (what a user's MR segmentation
    model would be): the choice of series is what is tested, not its output."""
    data = json.loads(SEGMENTATION.with_suffix(".json").read_text("utf-8"))
    data["applies_to"] = {"modality": ["MR"], "view": ["sagittal"], "body_part": "LSPINE"}
    data["id"] = "mr-segmentation"
    shutil.copy(SEGMENTATION, folder / "mr-segmentation.onnx")
    (folder / "mr-segmentation.json").write_text(json.dumps(data), "utf-8")
    found = load_entry(folder / "mr-segmentation.onnx")
    assert found.available, found.problems
    return found


def test_the_detector_stays_the_default_on_sagittal_mr(demo_study_dir: Path, tmp_path) -> None:
    study = scan(demo_study_dir).studies[0]
    mr = _mr_entry(tmp_path)
    detector = load_entry(DETECTOR)
    both = Context(study, [detector, mr], SessionCache("cpu", 1))
    assert chosen_series(both) is None  # the lumbar MR pipeline's detector reads it
    alone = Context(study, [mr], SessionCache("cpu", 1))
    chosen = chosen_series(alone)
    assert chosen is not None
    stack, model, _ = chosen
    assert stack.plane == "sagittal" and model.id == "mr-segmentation"
