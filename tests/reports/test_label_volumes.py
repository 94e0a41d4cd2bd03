"""Per-label volumes of a label map in the report: counted from the map and the spacing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.findings import Findings
from spineviewer.annotations.label_map_file import model_labels, read_nifti_label_map
from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.reports import build_report
from spineviewer.reports.html import render_html
from spineviewer.reports.label_volumes import label_volumes
from spineviewer.viewing.label_layer import SeriesLabelMap


def test_volumes_are_voxels_times_the_voxel_volume():
    labels = np.zeros((4, 10, 10), dtype=np.uint8)
    labels[0:2, 0:5, 0:5] = 2  # 50 voxels
    labels[3, :, :] = 7  # 100 voxels, no name
    values = model_labels({"L3": 2, "L4": 3})
    rows = label_volumes(labels, values, 2.5 * 0.8 * 0.8, source="m 1")
    assert [(r.label, r.voxels) for r in rows] == [("L3", 50), ("label 7", 100)]
    assert rows[0].volume_ml == pytest.approx(50 * 1.6 / 1000)
    assert rows[0].display == "L3 vertebra"
    assert rows[1].volume_ml == pytest.approx(0.16)


def test_the_report_has_a_section_only_with_a_label_map(tmp_path: Path):
    generate("lumbar-ct", tmp_path, 11)
    folder = tmp_path / study_folder_name("lumbar-ct", 11)
    [study] = scan(folder).studies
    truth = read_nifti_label_map(folder / "labels.nii.gz")
    placed = SeriesLabelMap(
        truth.labels, truth.affine, truth.values, "", study.series[0].uid, "", "", "truth"
    )
    findings = Findings(study.uid, "CPUExecutionProvider")
    plain = build_report(study, findings)
    assert plain.label_volumes == ()
    assert "Label volumes" not in render_html(plain)
    rows = label_volumes(
        placed.labels, placed.values, placed.voxel_mm3, series=placed.series_uid, source="truth"
    )
    report = build_report(study, findings, label_volumes=rows)
    by_name = {r.label: r for r in report.label_volumes}
    l3 = by_name["L3"]
    assert l3.volume_ml == pytest.approx(
        (truth.labels == 5).sum() * placed.voxel_mm3 / 1000, abs=1e-3
    )
    assert 5.0 < l3.volume_ml < 80.0  # a lumbar body is tens of mL
    assert "AX CT" in l3.series  # named for a person, not by UID
    html = render_html(report)
    assert "Label volumes" in html and "L3 vertebra" in html and f"{l3.volume_ml:.1f} mL" in html
    assert report.to_dict()["label_volumes"][0]["volume_ml"] > 0
