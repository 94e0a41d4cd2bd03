"""``spineviewer demo``: the README's main job, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

from spineviewer.cli import main


def test_demo_generates_the_study_and_loads_every_image(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    study = tmp_path / "lumbar-mr-00001"
    truth = json.loads((study / "ground_truth.json").read_text())
    expected = sum(s["number_of_images"] for s in truth["series"])
    assert "NOT FOR CLINICAL USE" in out
    assert f"All {expected} images loaded." in out
    assert "MR sagittal" in out and "MR axial" in out
    for disc in truth["discs"]:
        assert f"{disc['level']:8s} {disc['state']}" in out


def test_demo_is_deterministic(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--out", str(tmp_path / "a")]) == 0
    assert main(["demo", "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a/lumbar-mr-00001/ground_truth.json").read_text()
    b = (tmp_path / "b/lumbar-mr-00001/ground_truth.json").read_text()
    assert a == b
