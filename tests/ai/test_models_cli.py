"""``spineviewer models list|check``: every model found with its state, broken ones with the
reason, and a check whose exit status says whether the package can run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from manifest_helpers import write_package

from spineviewer.cli import main


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # an empty user model folder
    good = write_package(tmp_path / "models", "good-model", id="good-model")
    broken = write_package(tmp_path / "models", "broken-model", id="broken-model")
    broken.write_bytes(broken.read_bytes() + b"\0")  # the sha256 no longer matches
    return good.parent


def test_list_json_shows_usable_and_broken_models(folder: Path, capsys) -> None:
    assert main(["models", "list", "--models", str(folder), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["folders"][0] == str(folder)
    rows = {row["id"]: row for row in listing["models"]}
    assert rows["good-model"]["available"] and rows["good-model"]["task"] == "classification"
    assert not rows["broken-model"]["available"]
    assert any("sha256" in p for p in rows["broken-model"]["problems"])
    # the bundled demo models come after the given folder
    assert rows["disc-state"]["not_for_clinical_use"] is True


def test_list_text_marks_unavailable_models(folder: Path, capsys) -> None:
    assert main(["models", "list", "--models", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("good-model 1.2.0: classification") for line in lines)
    assert any(line.startswith("broken-model: UNAVAILABLE (") for line in lines)


def test_check_exit_status_and_reasons(folder: Path, capsys) -> None:
    assert main(["models", "check", str(folder / "good-model.json")]) == 0
    assert capsys.readouterr().out.startswith("OK good-model")
    assert main(["models", "check", str(folder / "broken-model.onnx")]) == 1
    err = capsys.readouterr().err
    assert "broken-model.onnx: not usable" in err and "sha256" in err
    assert main(["models", "check", str(folder / "missing.onnx"), "--json"]) == 1
    row = json.loads(capsys.readouterr().out)
    assert row["available"] is False and row["problems"]
