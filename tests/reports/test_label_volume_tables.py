"""The per-label volumes table in the HTML and PDF reports (issue 25): every label of the map
with its volume in mL, the slices and voxels it covers, the model that made the map and, for a
demonstration model, "not for clinical use"; read back from the PDF with pdftotext. The
anonymised report keeps the figures and names the series without its description."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.findings import Findings, LabelMapFinding, ModelUse
from spineviewer.annotations.label_map_file import model_labels
from spineviewer.dicom import Study, scan
from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.reports import build_report
from spineviewer.reports.html import render_html
from spineviewer.reports.label_volumes import findings_volumes, label_volumes
from spineviewer.reports.writer import write_report

MODEL = "spine-ct-segmentation"
#: The line a demonstration model's rows carry (the phantom's own series description says
#: "NOT FOR CLINICAL USE" in capitals: not this).
DEMO_HTML = "<b>not for clinical use</b> (demonstration model)"
#: 2 x 3 x 1.5 mm voxels: 9 mm³
AFFINE = ((0.0, 0.0, 1.5, 0.0), (0.0, 3.0, 0.0, 0.0), (2.0, 0.0, 0.0, 0.0), (0, 0, 0, 1.0))


def _labels(shape: tuple[int, int, int]) -> np.ndarray:
    labels = np.zeros(shape, dtype=np.uint8)
    labels[1:4, 10:30, 10:30] = 5  # L3: 3 slices x 400 voxels
    labels[2, 40:45, 40:60] = 6  # L4: one slice, 100 voxels
    return labels


def _findings(study: Study, demo: bool = True) -> Findings:
    stack = study.series[0].stacks[0]
    shape = (len(stack), *stack.shape)
    labels = _labels(shape)
    found = LabelMapFinding(
        study.series[0].uid,
        MODEL,
        "0.1.0",
        "",
        labels,
        model_labels({"L3": 5, "L4": 6}),
        AFFINE,
        shape,
    )
    use = ModelUse(MODEL, "0.1.0", "0" * 64, "CPU", demo)
    return Findings(study.uid, "CPUExecutionProvider", models=(use,), label_maps=(found,))


def test_label_volumes_count_the_slices_each_label_is_on() -> None:
    rows = label_volumes(_labels((6, 64, 64)), model_labels({"L3": 5}), 9.0)
    assert [(r.label, r.voxels, r.slices) for r in rows] == [("L3", 1200, 3), ("label 6", 100, 1)]
    assert rows[0].volume_ml == pytest.approx(10.8)
    assert not rows[0].not_for_clinical_use


def test_findings_volumes_say_whether_the_model_is_a_demonstration(demo_study_dir: Path) -> None:
    [study] = scan(demo_study_dir).studies
    assert all(v.not_for_clinical_use for v in findings_volumes(_findings(study)))
    assert not any(v.not_for_clinical_use for v in findings_volumes(_findings(study, False)))


def _row(text: str, label: str) -> str:
    [line] = [line for line in text.splitlines() if line.strip().startswith(label)]
    return " ".join(line.split())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_html_and_pdf_show_the_table(demo_study_dir: Path, tmp_path: Path) -> None:
    [study] = scan(demo_study_dir).studies
    report = build_report(study, _findings(study))
    html = render_html(report)
    section = html[
        html.index("<h2>Label volumes</h2>") : html.index(
            "</table>", html.index("<h2>Label volumes</h2>")
        )
    ]
    assert "<th>Volume</th><th>Slices</th><th>Voxels</th>" in section
    assert "<td>L3 vertebra</td><td>10.8 mL</td><td>3</td><td>1200</td>" in section
    assert "<td>L4 vertebra</td><td>0.9 mL</td><td>1</td><td>100</td>" in section
    assert f"{MODEL} 0.1.0, Series" in section
    assert section.count(DEMO_HTML) == 2
    [pdf] = write_report(report, tmp_path / "out", ["pdf"])
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Label volumes" in text
    l3, l4 = _row(text, "L3 vertebra"), _row(text, "L4 vertebra")
    assert re.match(r"L3 vertebra 10\.8 mL 3 1200 spine-ct-segmentation 0\.1\.0", l3), l3
    assert re.match(r"L4 vertebra 0\.9 mL 1 100 spine-ct-segmentation 0\.1\.0", l4), l4
    table = text[text.index("Label volumes") : text.index("Models")]
    assert table.count("not for clinical use (demonstration model)") == 2
    # a model that is no demonstration: no such line in the table
    plain = render_html(build_report(study, _findings(study, demo=False)))
    volumes = plain[plain.index("<h2>Label volumes</h2>") :]
    assert DEMO_HTML not in volumes[: volumes.index("</table>")]


def test_the_anonymised_table_keeps_the_figures_not_the_description(
    demo_study_dir: Path,
) -> None:
    [study] = scan(demo_study_dir).studies
    description = study.series[0].description
    assert description  # the canary: the plain report names the series by it
    plain = build_report(study, _findings(study))
    assert description in plain.label_volumes[0].series
    report = build_report(study, _findings(study), anonymiser=Anonymiser(b"v" * 32))
    rows = {v.label: v for v in report.label_volumes}
    assert (rows["L3"].voxels, rows["L3"].slices, rows["L3"].volume_ml) == (1200, 3, 10.8)
    assert rows["L3"].series.startswith("Series") and description not in rows["L3"].series
    assert study.series[0].uid not in render_html(report)
