"""A report set written again removes what an earlier run left in its folder, but never a source
file: when the output folder of a study is the folder its images are in (an input folder
named by its StudyInstanceUID, ``--out`` its parent), nothing is removed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from damaged_dicom import set_raw

from spineviewer.cli import main
from spineviewer.phantom import generate, study_folder_name

UID = "1.2.826.0.1.3680043.8.498.89.1"


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.dcm"))
    }


def test_an_output_folder_that_holds_the_inputs_keeps_them(tmp_path: Path) -> None:
    generate("lumbar-mr", tmp_path / "seed", 6)
    source = tmp_path / "seed" / study_folder_name("lumbar-mr", 6) / "S01_sagittal_t2"
    data = tmp_path / "data"
    study = shutil.copytree(source, data / UID)  # the folder batch will write this study into
    for path in study.glob("*.dcm"):
        set_raw(path, "StudyInstanceUID", UID)
    before = _digests(study)
    args = ["batch", str(study), "--out", str(data), "--format", "json", "--provider", "cpu"]
    for _ in range(2):  # the second run redoes the set (no --resume): the prune step runs
        assert main(args) == 0
        assert _digests(study) == before
    assert (study / "report.json").is_file()
