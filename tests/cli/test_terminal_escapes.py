"""Texts from DICOM headers cannot drive the terminal: escape sequences in a SeriesDescription
or a PatientName are printed as escapes by ``info`` and ``analyze`` (issue 20, item 9)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from spineviewer.cli import main
from spineviewer.phantom import generate, study_folder_name


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("escapes")
    generate("lumbar-mr", root, 5)
    study = root / study_folder_name("lumbar-mr", 5)
    folder = root / "hostile"
    shutil.copytree(study, folder)
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.PatientName = "DOE^\x1b]0;owned\x07JOHN"
        if path.parent.name.startswith("S01"):  # quoted by analyze's contrast warning
            ds.SeriesDescription = "SAG T2 EVIL\x1b[2J\x1b[31mRED"
            ds.EchoTime, ds.RepetitionTime = 10, 500
        ds.save_as(path)
    return folder


@pytest.mark.parametrize("command", ["info", "analyze"])
def test_no_control_character_reaches_the_terminal(hostile: Path, capsys, command) -> None:
    args = [command, str(hostile)] + (["--provider", "cpu"] if command == "analyze" else [])
    main(args)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "EVIL\\x1b[2J\\x1b[31mRED" in out  # shown, as escapes
    if command == "info":
        assert "\\x07JOHN" in out
