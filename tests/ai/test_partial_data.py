"""Acceptance of issue 18, "partial data is still data": one sagittal slice of an otherwise good
lumbar MR phantom study damaged with pydicom per bad-input case (a JPEG frame cut short, no
Pixel Data, PixelSpacing 0 / negative / NaN / "abc", a NaN position, a skewed orientation).

- ``analyse_path`` still finds the vertebrae and discs from the other slices, and a warning of
  the findings names the damaged file;
- ``spineviewer batch`` exits 0, the study is done and its warning is counted in summary.csv;
- ``spineviewer report`` writes the report set of the study with the skewed orientation (it
  failed the study). No source file is modified.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest
from damaged_dicom import DAMAGES

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.findings import Findings
from spineviewer.cli import main
from spineviewer.phantom import generate, study_folder_name

SEED = 5
#: The damaged slice: the 7th of the 15 sagittal slices, beside the spine's midline.
VICTIM = Path("S01_sagittal_t2") / "IM00007.dcm"


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lumbar MR phantom (sagittal T2, angled and continuous axial T2), generated once."""
    root = tmp_path_factory.mktemp("phantom")
    generate("lumbar-mr", root, SEED)
    return root / study_folder_name("lumbar-mr", SEED)


@pytest.fixture(scope="module")
def intact(phantom: Path) -> Findings:
    """The findings of the undamaged study, to compare with."""
    [findings] = analyse_path(phantom, provider="cpu")
    assert findings.vertebrae and findings.discs
    return findings


@pytest.fixture(scope="module")
def damaged(phantom: Path, module_tmp: Path) -> dict[str, Path]:
    """One copy of the study per case, its slice VICTIM damaged that way."""
    root = module_tmp / "damaged"
    root.mkdir()
    copies = {}
    for case, (damage, _) in DAMAGES.items():
        copies[case] = shutil.copytree(phantom, root / case)
        damage(copies[case] / VICTIM)
    return copies


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


CASES = sorted(DAMAGES)


@pytest.mark.parametrize("case", CASES)
def test_analysis_uses_the_other_slices_and_names_the_file(case, damaged, intact) -> None:
    folder = damaged[case]
    before = _digest(folder)

    [findings] = analyse_path(folder, provider="cpu")

    assert [v.label for v in findings.vertebrae] == [v.label for v in intact.vertebrae]
    assert [d.level for d in findings.discs] == [d.level for d in intact.discs]
    assert [d.state for d in findings.discs] == [d.state for d in intact.discs]
    named = [w for w in findings.warnings if str(folder / VICTIM) in w]
    assert named, findings.warnings
    assert any("left out" in w and DAMAGES[case][1] in w for w in named), named
    assert not [s for s in findings.steps if s.status == "failed"], findings.steps
    assert _digest(folder) == before, "a source file was modified"


@pytest.mark.parametrize("case", CASES)
def test_batch_exits_0_with_the_warning_counted(case, damaged, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    out = tmp_path / "out"

    status = main(
        ["batch", str(damaged[case]), "--out", str(out), "--format", "json", "--provider", "cpu"]
    )

    assert status == 0
    with (out / "summary.csv").open(newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["status"] == "done" and row["error"] == ""
    assert row["findings"].startswith("vertebrae ") and "discs " in row["findings"]
    assert int(row["warnings"]) >= 1
    assert (out / row["folder"] / "report.json").is_file()


def test_report_writes_the_study_with_a_skewed_orientation(damaged, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    out = tmp_path / "out"

    status = main(
        ["report", str(damaged["orientation-skew"]), "--out", str(out), "--format", "json,html",
         "--provider", "cpu"]
    )  # fmt: skip

    assert status == 0
    err = capsys.readouterr().err
    assert "orthogonal" not in err and "perpendicular" not in err, err
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    assert (folder / "report.json").is_file() and (folder / "report.html").is_file()
    assert list((folder / "images").glob("*.png")), "no key image"


def test_a_file_the_scan_refuses_is_named_in_the_findings(phantom, intact, tmp_path) -> None:
    """Pixel data cut short in an uncompressed slice is refused by the scan itself (its
    length is known from the header), before any pipeline step: the findings still name the
    file and why (they said nothing: the analysis looked complete)."""
    import pydicom

    folder = shutil.copytree(phantom, tmp_path / "cut")
    ds = pydicom.dcmread(folder / VICTIM)
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]
    ds.save_as(folder / VICTIM)

    [findings] = analyse_path(folder, provider="cpu")

    assert [v.label for v in findings.vertebrae] == [v.label for v in intact.vertebrae]
    (named,) = [w for w in findings.warnings if str(folder / VICTIM) in w]
    assert named.startswith(f"{folder / VICTIM} left out: ")
    assert "truncated pixel data" in named
    assert not [w for w in findings.warnings if "ground_truth.json" in w]  # not DICOM: no loss


@pytest.mark.parametrize("command", ["report", "batch"])
def test_report_and_batch_name_a_file_the_scan_refuses(
    phantom, tmp_path, monkeypatch, command
) -> None:
    """The same refused file reaches the report's warnings from ``report`` and ``batch``."""
    import json

    import pydicom

    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    folder = shutil.copytree(phantom, tmp_path / "cut")
    ds = pydicom.dcmread(folder / VICTIM)
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]
    ds.save_as(folder / VICTIM)
    out = tmp_path / "out"

    status = main(
        [command, str(folder), "--out", str(out), "--format", "json", "--provider", "cpu"]
    )

    assert status == 0
    [report] = list(out.glob("*/report.json"))
    warnings = json.loads(report.read_text())["warnings"]
    assert any(VICTIM.name in w and "truncated pixel data" in w for w in warnings), warnings
