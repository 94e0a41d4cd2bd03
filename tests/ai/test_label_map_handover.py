"""The segmentation model's label map handed on from the analysis (issue 25): the findings
carry it (the array in memory, its model and series in the JSON, never the array), and the
report's per-label volumes come from it in ``spineviewer report`` and ``spineviewer batch``; a
study no segmentation model read has no label map and no volumes section."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.analysis import analyse_study
from spineviewer.ai.findings import Findings
from spineviewer.ai.registry import load_entry
from spineviewer.ai.sessions import SessionCache
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.reports import build_report

ROOT = Path(__file__).resolve().parents[2]
SEGMENTATION = ROOT / "onnx_models" / "spine-ct-segmentation.onnx"
DETECTOR = ROOT / "onnx_models" / "vertebrae-sagittal.onnx"
MODEL = "spine-ct-segmentation"
SEED = 9501


@pytest.fixture(scope="module")
def ct_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("handover-ct")
    generate("lumbar-ct", root, SEED)
    return root / study_folder_name("lumbar-ct", SEED)


def test_the_findings_carry_the_label_map_and_the_json_only_names_it(ct_folder: Path) -> None:
    study = scan(ct_folder).studies[0]
    entry = load_entry(SEGMENTATION)
    findings = analyse_study(study, [entry], SessionCache("cpu", 2))
    bare = replace(findings, label_maps=())
    [found] = findings.label_maps
    ct = study.series[0]
    assert found.series_uid == ct.uid and found.model_id == MODEL
    stack = ct.stacks[0]
    assert found.labels is not None and found.labels.shape == (len(stack), *stack.shape)
    assert found.shape == found.labels.shape
    assert found.frame_of_reference_uid == ct.stacks[0].first.instance.frame_of_reference_uid
    # the vertebrae the pipeline found are in the map (the same labels)
    present = {found.values[int(v)].name for v in np.unique(found.labels) if v}
    assert {v.label for v in findings.vertebrae} <= present
    assert found.voxel_mm3 > 0
    # the JSON names the map, its model and labels, but holds no array
    data = json.loads(findings.to_json())
    [named] = data["label_maps"]
    assert named["model_id"] == MODEL and named["series_uid"] == ct.uid
    assert "L1" in named["values"].values() and "labels" not in named
    assert len(findings.to_json()) < 4 * len(bare.to_json())
    again = Findings.from_json(findings.to_json())
    assert again == findings and again.label_maps[0].labels is None
    assert again.label_maps[0].shape == found.shape
    # the report's volumes: one row per label present, from the map's own voxels
    report = build_report(study, findings)
    rows = {v.label: v for v in report.label_volumes}
    assert set(rows) == present
    l1 = rows["L1"]
    l1_value = next(k for k, v in found.values.items() if v.name == "L1")
    assert l1.voxels == int((found.labels == l1_value).sum())
    assert l1.volume_ml == pytest.approx(l1.voxels * found.voxel_mm3 / 1000, rel=1e-3)
    assert MODEL in l1.source
    assert build_report(study, bare).label_volumes == ()  # findings without the map


def test_no_segmentation_model_no_label_map(demo_study_dir: Path) -> None:
    study = scan(demo_study_dir).studies[0]
    findings = analyse_study(study, [load_entry(DETECTOR)], SessionCache("cpu"))
    assert findings.label_maps == ()
    assert "label_maps" not in findings.to_dict()
    assert build_report(study, findings).label_volumes == ()


@pytest.mark.parametrize("command", ["report", "batch"])
def test_report_and_batch_have_the_models_label_volumes(
    ct_folder: Path, demo_study_dir: Path, tmp_path: Path, monkeypatch, command: str
) -> None:
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    for name, folder in (("ct", ct_folder), ("mr", demo_study_dir)):
        out = tmp_path / name
        status = main(
            [command, str(folder), "--out", str(out), "--format", "json", "--provider", "cpu"]
        )
        assert status == 0
        [written] = list(out.glob("*/report.json"))
        volumes = json.loads(written.read_text("utf-8"))["label_volumes"]
        if name == "mr":  # no segmentation model reads a sagittal MR the detector reads
            assert volumes == []
            continue
        assert volumes and {v["source"].split()[0] for v in volumes} == {MODEL}
        by_label = {v["label"]: v for v in volumes}
        assert {"L1", "L2", "L3"} <= set(by_label)
        assert all(v["volume_ml"] > 0 and v["voxels"] > 0 for v in volumes)
