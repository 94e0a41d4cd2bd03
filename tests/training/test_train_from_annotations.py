"""Training from the viewer's annotations: disc ROIs drawn on phantom axial images, saved in a
workspace, exported with ``spineviewer annotations export --format coco``, read back as crops
of the model's physical size (numpy only), and a one-epoch ``spineviewer train disc-state
--data`` run on them (torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.annotations import Annotation, AnnotationDocument, ImageRef, Provenance, Workspace
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.training.coco_data import (
    ExportError,
    annotation_samples,
    centroid_rc,
    find_exports,
    split_by_study,
)
from spineviewer.training.phantom_data import DISC_ROI_MM, DISC_SIZE, Sample
from spineviewer.training.tasks import DISC_STATE

SEEDS = (90_010, 90_011, 90_012, 90_013)


def _annotate(study_dir: Path, workspace: Workspace) -> int:
    """Ellipses around every disc on the axial image nearest its centre; one rejected."""
    truth = generate("lumbar-mr", study_dir.parent, int(study_dir.name.rsplit("-", 1)[1]))
    study = scan(study_dir).studies[0]
    doc = AnnotationDocument(study.uid, source_paths=[study_dir], author="test")
    made = Provenance(author="test")
    axial = [st for series in study.series for st in series.stacks if st.plane == "axial"]
    for disc in truth.discs:
        centre = np.asarray(disc.centre_mm)
        best = min(
            ((st, i) for st in axial for i in range(len(st))),
            key=lambda si: abs(float(si[0].plane_of(si[1]).distance(centre))),
        )
        stack, index = best
        plane = stack.plane_of(index)
        r, c = (float(v) for v in plane.to_pixel(centre))
        half = 20.0 / stack.pixel_spacing[0]
        doc.add(
            Annotation.create(
                "ellipse",
                ImageRef.of_frame(stack.frames[index]),
                [(r - half, c - half), (r + half, c + half)],
                plane,
                label=disc.level,
                state=disc.state,
                provenance=made,
            )
        )
    workspace.save(doc)
    return len(truth.discs)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("annotated")
    mp = pytest.MonkeyPatch()
    mp.setenv("SPINEVIEWER_WORKSPACE", str(root / "workspace"))
    try:
        with Workspace() as workspace:
            count = sum(
                _annotate(root / "studies" / study_folder_name("lumbar-mr", s), workspace)
                for s in SEEDS
            )
        rc = main(
            ["annotations", "export", str(root / "studies"), "--format", "coco",
             "--out", str(root / "export")]
        )  # fmt: skip
        assert rc == 0
    finally:
        mp.undo()
    return root / "export", count


def test_the_export_gives_one_model_sized_crop_per_disc(export: tuple[Path, int]) -> None:
    out, count = export
    folders = find_exports([out])
    assert len(folders) == len(SEEDS)  # one export per study
    samples: list[Sample] = []
    for folder in folders:
        found, skipped = annotation_samples(folder, DISC_STATE.classes, DISC_ROI_MM, DISC_SIZE)
        assert skipped == []
        samples += found
    assert len(samples) == count
    assert all(s.image.shape == DISC_SIZE and s.image.dtype == np.float32 for s in samples)
    assert {s.group for s in samples} >= {"L4-L5", "L5-S1"}
    assert {s.label for s in samples} <= set(DISC_STATE.classes)
    # the crop is centred on the disc: brighter (nucleus on T2) in the middle than at the edge
    middle = np.mean([s.image[28:36, 28:36].mean() for s in samples])
    edge = np.mean([s.image[:6, :6].mean() for s in samples])
    assert middle > edge


def test_rejected_annotations_and_bad_exports_are_explained(
    export: tuple[Path, int], tmp_path: Path
) -> None:
    folder = find_exports([export[0]])[0]
    data = json.loads((folder / "annotations.json").read_text())
    data["annotations"][0]["status"] = "rejected"
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "images").symlink_to(folder / "images")
    (copy / "annotations.json").write_text(json.dumps(data))
    _, skipped = annotation_samples(copy, DISC_STATE.classes, DISC_ROI_MM, DISC_SIZE)
    assert len(skipped) == 1 and "rejected" in skipped[0]
    with pytest.raises(ExportError, match="annotations export"):
        find_exports([tmp_path / "nothing"])
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "annotations.json").write_text("{not json")
    with pytest.raises(ExportError, match=r"broken.*cannot be read"):
        annotation_samples(tmp_path / "broken", ("normal",), DISC_ROI_MM, DISC_SIZE)


def test_split_keeps_whole_studies_apart() -> None:
    samples = [Sample(np.zeros((2, 2)), "normal", "L1-L2", f"study{i % 7}", "") for i in range(70)]
    sets = split_by_study(samples, seed=3)
    studies = [{s.study for s in part} for part in sets.values()]
    assert all(studies) and sum(len(s) for s in studies) == 7
    assert not (studies[0] & studies[1] or studies[0] & studies[2] or studies[1] & studies[2])
    assert split_by_study(samples, seed=3) == sets
    with pytest.raises(ExportError, match="at least 3"):
        split_by_study(samples[:2])


def test_centroid_is_the_mean_point_in_pixel_indices() -> None:
    assert centroid_rc({"points_xy": [[10.5, 20.5], [30.5, 40.5]]}) == (30.0, 20.0)
    assert centroid_rc({"bbox": [10, 20, 4, 6]}) == (22.5, 11.5)


def test_train_disc_state_on_the_annotations(export: tuple[Path, int], tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the training extra (torch) is not installed")
    pytest.importorskip("onnx")
    from spineviewer.ai import ModelManifest

    out = tmp_path / "models"
    rc = main(
        ["train", "disc-state", "--data", str(export[0]), "--out", str(out), "--epochs", "1",
         "--batch-size", "8", "--threads", "1"]
    )  # fmt: skip
    assert rc == 0
    manifest = ModelManifest.load(out / "disc-state.json")
    assert "annotations exported from SpineViewer" in manifest.provenance.training_data.description
    assert "held-out annotated studies" in manifest.provenance.evaluation.data
    assert manifest.provenance.not_for_clinical_use
    card = (out / "disc-state.md").read_text()
    assert "trained on annotations" in card and "NOT FOR CLINICAL USE" in card


def test_train_says_what_is_wrong_with_the_data(tmp_path: Path, capsys) -> None:
    pytest.importorskip("torch", reason="the training extra (torch) is not installed")
    rc = main(["train", "disc-state", "--data", str(tmp_path), "--out", str(tmp_path / "m")])
    assert rc == 1
    assert "no annotations.json" in capsys.readouterr().err
