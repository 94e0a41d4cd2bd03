"""The rule between packages of one id is shown in the findings and the report too: each model
used records where it was found."""

from __future__ import annotations

from pathlib import Path

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.findings import Findings
from spineviewer.dicom import scan
from spineviewer.reports import build_report
from spineviewer.reports.html import render_html


def test_the_findings_say_where_each_model_was_found(demo_study_dir: Path) -> None:
    (findings,) = analyse_path(demo_study_dir, provider="cpu")
    assert findings.models and {m.origin for m in findings.models} == {"shipped folder"}
    again = Findings.from_json(findings.to_json())
    assert again.models == findings.models
    old = findings.to_dict()
    for m in old["models"]:
        del m["origin"]  # findings written before the field existed still load
    assert {m.origin for m in Findings.from_dict(old).models} == {""}
    html = render_html(build_report(scan(demo_study_dir).studies[0], findings))
    assert "<th>Found in</th>" in html and "<td>shipped folder</td>" in html
