"""``spineviewer info`` names each stack's frame of reference, and which series share one
(issue 22), on a generated lumbar MR study."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from spineviewer.cli import main


@pytest.fixture(scope="module")
def phantom_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``spineviewer phantom OUT --kind lumbar-mr --count 1 --seed 5``: three series."""
    out = tmp_path_factory.mktemp("phantom")
    assert main(["phantom", str(out), "--kind", "lumbar-mr", "--count", "1", "--seed", "5"]) == 0
    (study,) = [p for p in out.iterdir() if p.is_dir()]
    return study


def frame_of_reference_by_series(folder: Path) -> dict[int, set[str]]:
    """FrameOfReferenceUID of every file under ``folder``, by series number (pydicom)."""
    found: dict[int, set[str]] = {}
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        found.setdefault(int(ds.SeriesNumber), set()).add(str(ds.FrameOfReferenceUID))
    return found


def info(folder: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["info", str(folder), *args]) == 0
    return capsys.readouterr().out


def test_json_gives_each_stack_its_frame_of_reference(
    phantom_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = frame_of_reference_by_series(phantom_study)
    assert len(expected) == 3 and all(len(uids) == 1 for uids in expected.values())
    (study,) = json.loads(info(phantom_study, capsys, "--json"))["studies"]
    stacks = 0
    for series in study["series"]:
        for stack in series["stacks"]:
            assert {stack["frame_of_reference_uid"]} == expected[series["series_number"]]
            stacks += 1
    assert stacks >= 3


def test_text_says_which_series_share_a_frame_of_reference(
    phantom_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shared,) = set.union(*frame_of_reference_by_series(phantom_study).values())
    out = info(phantom_study, capsys)
    assert f"  frame of reference {shared}: series 1, 2, 3\n" in out

    # series 3 moved to a frame of its own, series 2 left without one
    study = tmp_path / "study"
    shutil.copytree(phantom_study, study)
    own = generate_uid()
    for path in study.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        if ds.SeriesNumber == 3:
            ds.FrameOfReferenceUID = own
        elif ds.SeriesNumber == 2:
            del ds.FrameOfReferenceUID
        else:
            continue
        ds.save_as(path)
    out = info(study, capsys)
    assert f"  frame of reference {shared}: series 1\n" in out
    assert f"  frame of reference {own}: series 3\n" in out
    assert "  no frame of reference: series 2\n" in out
    (data,) = json.loads(info(study, capsys, "--json"))["studies"]
    by_series = {
        s["series_number"]: {st["frame_of_reference_uid"] for st in s["stacks"]}
        for s in data["series"]
    }
    assert by_series == {1: {shared}, 2: {None}, 3: {own}}
