"""PHI canaries through every image export writer (issue 22, item 5; the pattern of
``test_report_phi_canary.py``): PNG, JPEG, PNG sequence and MP4 from ``spineviewer
export-images`` and the viewer's Export view, Export series and Copy view.

The patient's name, ID, birth date, institution and study date are canary strings. An
export in PHI-free mode holds none of them in any byte nor in a file name, and none of the
name's *pixels*: its images are identical to those of the same study under another patient
(a decoy), while the same export with the names shown differs from the decoy's where the
corner text is (so the burned-in name does reach the pixels, and its absence means something).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from spineviewer.cli import main
from spineviewer.dicom import scan

SERIES = "S01_sagittal_t2"
CANARY_HEADER = {
    "PatientName": "QZXFAMILY^QZXGIVEN",
    "PatientID": "QZXPID4711",
    "PatientBirthDate": "19010203",
    "InstitutionName": "QZXINSTITUTE",
    "StudyDate": "19020304",
}
DECOY_HEADER = {
    "PatientName": "OTHER^PERSON",
    "PatientID": "P1",
    "PatientBirthDate": "19700101",
    "InstitutionName": "ELSEWHERE",
    "StudyDate": "20200101",
}
CANARIES = ("QZXFAMILY", "QZXGIVEN", "QZXPID4711", "QZXINSTITUTE", "19020304", "1902-03-04")
#: Where the patient's lines are drawn (the top-left corner block).
CORNER = (slice(0, 60), slice(0, 160))


def _planted(source: Path, folder: Path, header: dict[str, str]) -> Path:
    shutil.copytree(source, folder)
    for path in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword, value in header.items():
            setattr(ds, keyword, value)
        ds.save_as(path, enforce_file_format=True)
    return folder


@pytest.fixture(scope="module")
def studies(demo_study_dir: Path, module_tmp: Path) -> tuple[Path, Path]:
    """The demo sagittal T2 twice: under the canary patient and under a decoy."""
    return (
        _planted(demo_study_dir / SERIES, module_tmp / "canary", CANARY_HEADER),
        _planted(demo_study_dir / SERIES, module_tmp / "decoy", DECOY_HEADER),
    )


def _leaks(out: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(p for p in out.rglob("*") if p.exists()):
        name = path.relative_to(out).as_posix()
        data = (path.read_bytes() if path.is_file() else b"") + name.encode()
        found += [(name, c) for c in CANARIES if c.lower().encode() in data.lower()]
    return found


def _export(study: Path, out: Path, *options: str) -> int:
    return main(["export-images", str(study), "--series", "1", "--out", str(out), *options])


def test_cli_exports_in_phi_free_mode_hold_no_canary_bytes_or_pixels(
    studies: tuple[Path, Path], tmp_path: Path
) -> None:
    canary, decoy = studies
    out = tmp_path / "canary"
    for name in ("view.png", "view.jpg", "cine.mp4", "frames"):
        assert _export(canary, out / name, "--overlays", "--phi-free") == 0
    assert _leaks(out) == []
    assert len(list((out / "frames").glob("*.png"))) == 13
    # the pixels: the PHI-free images are the decoy patient's, image for image
    assert _export(decoy, tmp_path / "decoy" / "frames", "--overlays", "--phi-free") == 0
    for ours, theirs in zip(
        sorted((out / "frames").iterdir()), sorted((tmp_path / "decoy" / "frames").iterdir()),
        strict=True,
    ):  # fmt: skip
        assert np.array_equal(np.asarray(Image.open(ours)), np.asarray(Image.open(theirs)))

    # with the names shown the canary does reach the pixels
    shown, decoy_shown = tmp_path / "shown.png", tmp_path / "decoy-shown.png"
    assert (
        _export(canary, shown, "--overlays") == 0 and _export(decoy, decoy_shown, "--overlays") == 0
    )
    a, b = np.asarray(Image.open(shown)), np.asarray(Image.open(decoy_shown))
    assert not np.array_equal(a[CORNER], b[CORNER])
    hidden = np.asarray(Image.open(out / "view.png"))
    assert not np.array_equal(a[CORNER], hidden[CORNER])


def test_viewer_exports_in_phi_free_mode_hold_no_canary_pixels(
    qtbot, studies: tuple[Path, Path], tmp_path: Path
) -> None:
    from spineviewer.gui.export_ui import ExportViewDialog, qimage_array, render_view
    from spineviewer.gui.viewport import ImageViewport
    from spineviewer.viewing.source import StackListSource

    canary, decoy = (scan(path).studies[0] for path in studies)
    vp = ImageViewport()
    qtbot.addWidget(vp)
    vp.resize(500, 500)
    vp.show()
    qtbot.waitExposed(vp)
    vp.set_source(StackListSource.from_stacks(canary.series[0].stacks), canary.info)

    def view(info: dict[str, str], phi_free: bool) -> np.ndarray:
        vp.study = dict(info)
        return qimage_array(render_view(vp, overlays=True, phi_free=phi_free))

    named, decoy_named = view(canary.info, False), view(decoy.info, False)
    assert not np.array_equal(named[CORNER], decoy_named[CORNER])  # names are drawn
    assert np.array_equal(view(canary.info, True), view(decoy.info, True))  # and not here

    vp.study = dict(canary.info)
    out = tmp_path / "viewer"
    dialog = ExportViewDialog(None, out / "view.png", phi_free=True)
    dialog.write(vp)
    assert _leaks(out) == []
    # Copy view and Print view paint with the viewport's own PHI-free mode
    vp.phi_free = True
    assert np.array_equal(qimage_array(render_view(vp, True, vp.phi_free)), view(decoy.info, True))
