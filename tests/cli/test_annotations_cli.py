"""``spineviewer annotations``: list, export (SR / SEG / COCO) and import, without the viewer."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from spineviewer.annotations import (
    Annotation,
    AnnotationDocument,
    ImageRef,
    Provenance,
    Status,
    Workspace,
)
from spineviewer.cli import main
from spineviewer.dicom import scan


@pytest.fixture
def annotated(demo_study_dir, tmp_path):
    study = scan(demo_study_dir).studies[0]
    stack = study.series[0].stacks[0]
    index = len(stack) // 2
    ref, plane = ImageRef.of_frame(stack.frames[index]), stack.plane_of(index)
    doc = AnnotationDocument(study.uid, source_paths=[demo_study_dir], author="Doe^Jane")
    doc.add(Annotation.create("line", ref, [(60, 60), (140, 100)], plane))
    doc.add(
        Annotation.create(
            "ellipse", ref, [(100, 90), (120, 130)], plane, label="L4-L5", state="herniation"
        )
    )
    doc.add(
        Annotation.create(
            "rectangle",
            ref,
            [(30, 30), (60, 80)],
            plane,
            label="L3",
            status=Status.PROPOSED,
            provenance=Provenance.model("demo-detector", "0.1", 0.7),
        )
    )
    doc.add(Annotation.create("point", ref, [(10, 10)], plane, status=Status.REJECTED))
    workspace = tmp_path / "ws"
    with Workspace(workspace) as ws:
        ws.save(doc)
    return workspace, doc


def test_export_then_import_round_trip(annotated, demo_study_dir, tmp_path, capsys) -> None:
    workspace, doc = annotated
    out = tmp_path / "out"
    rc = main(
        [
            "annotations",
            "--workspace",
            str(workspace),
            "export",
            str(demo_study_dir),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    captured = capsys.readouterr()
    written = captured.out.split()
    sr = out / "annotations_sr.dcm"
    assert str(sr) in written and (out / "coco" / "annotations.json").is_file()
    assert sorted((out / "seg").glob("SEG_*.dcm"))
    coco = json.loads((out / "coco" / "annotations.json").read_text())
    # the labelled ellipse and rectangle; the rejected point is left out, the unlabelled line
    # has no category and is reported as skipped
    assert len(coco["annotations"]) == 2
    assert "skipped:" in captured.err
    if shutil.which("dciodvfy"):
        check = subprocess.run(["dciodvfy", str(sr)], capture_output=True, text=True)
        assert not [ln for ln in check.stderr.splitlines() if ln.startswith("Error")]

    fresh = tmp_path / "ws2"
    rc = main(["annotations", "--workspace", str(fresh), "import", str(demo_study_dir), str(sr)])
    assert rc == 0
    with Workspace(fresh) as ws:
        back = ws.load(doc.study_uid).document
    originals = {a.uid: a for a in doc if a.status != Status.REJECTED}
    assert {a.uid for a in back} == set(originals)
    for a in back:
        o = originals[a.uid]
        assert (a.kind, a.label, a.state, a.status) == (o.kind, o.label, o.state, o.status)
        assert np.allclose(a.points, o.points, atol=0.01)
        assert np.allclose(a.points_mm, o.points_mm, atol=0.01)
    # importing again adds nothing
    rc = main(["annotations", "--workspace", str(fresh), "import", str(demo_study_dir), str(sr)])
    assert rc == 0 and "0 imported, 3 already present" in capsys.readouterr().out


def test_list_and_clear_errors(annotated, tmp_path, capsys) -> None:
    workspace, doc = annotated
    assert main(["annotations", "--workspace", str(workspace), "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["study_uid"] == doc.study_uid and rows[0]["total"] == 4
    assert rows[0]["proposed"] == 1
    missing = tmp_path / "nothing-here"
    rc = main(
        [
            "annotations",
            "--workspace",
            str(workspace),
            "export",
            str(missing),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 1
