"""The model registry bugs the fuzz tests found, each as its smallest input (plain tests).

Before the fixes a manifest could raise something other than ManifestError (which the registry
then listed as "unexpected error: ValueError(...)"), and a problem could span several lines.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from model_cases import bare_onnx, embed_manifest, package_bytes

import spineviewer.ai.registry as registry
from spineviewer.ai import ManifestError, ModelManifest, find_models
from spineviewer.cli import main


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: None)
    return tmp_path


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"schema_version": 1, "opset": ' + "9" * 5000 + "}", "Exceeds the limit (4300 digits)"),
        ('{"schema_version": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
)
def test_json_python_cannot_parse_is_a_manifest_error(text: str, problem: str) -> None:
    """ValueError / RecursionError escaped ModelManifest.from_json."""
    with pytest.raises(ManifestError, match=r"m\.json: not valid JSON") as caught:
        ModelManifest.from_json(text, "m.json")
    assert problem in str(caught.value)


def test_unknown_key_with_a_line_break_is_quoted_on_one_line() -> None:
    _, manifest = package_bytes("disc-state")
    data = json.loads(manifest)
    data["bad\r\nkey"] = 1
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(data, "disc-state.json")
    assert str(caught.value).startswith("disc-state.json: bad\\r\\nkey: unknown key")


def test_onnxruntime_error_over_several_lines_gives_a_one_line_problem(models: Path) -> None:
    """onnxruntime's message (several lines) went into the problems as is."""
    onnx, manifest = package_bytes("vertebrae-ap")
    flipped = onnx[:297] + bytes([onnx[297] ^ 1]) + onnx[298:]  # a broken graph proto
    (models / "vertebrae-ap.onnx").write_bytes(flipped)
    (models / "vertebrae-ap.json").write_text(manifest, encoding="utf-8")

    [entry] = find_models([models])
    assert not entry.available
    assert all(len(p.splitlines()) == 1 for p in entry.problems)
    assert any(p.startswith("onnxruntime cannot load vertebrae-ap.onnx: ") for p in entry.problems)

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["models", "check", str(models / "vertebrae-ap.onnx")]) == 1
    lines = err.getvalue().splitlines()
    assert lines[0] == f"{models / 'vertebrae-ap.onnx'}: not usable"
    assert lines[1:] == [f"  - {p}" for p in entry.problems]


def test_metadata_that_is_not_utf8_names_the_file(models: Path) -> None:
    """The problem was bare: "'utf-8' codec can't decode byte 0xff ..."."""
    _, manifest = package_bytes("vertebrae-ap")
    damaged = embed_manifest(bare_onnx("vertebrae-ap"), b"\xff" + manifest.encode())
    (models / "vertebrae-ap.onnx").write_bytes(damaged)
    [entry] = find_models([models])
    assert entry.problems == (
        "onnxruntime cannot read vertebrae-ap.onnx: metadata is not valid UTF-8 "
        "('utf-8' codec can't decode byte 0xff in position 0: invalid start byte)",
    )


def test_check_json_stays_json_when_onnxruntime_falls_back(models: Path) -> None:
    """A graph string that is not UTF-8 made onnxruntime print an "EP Error" banner to stdout,
    in front of the JSON of ``models check --json``."""
    onnx, manifest = package_bytes("vertebrae-ap")
    at = onnx.index(b"image")
    (models / "vertebrae-ap.onnx").write_bytes(onnx[:at] + b"\xff" + onnx[at + 1 :])
    (models / "vertebrae-ap.json").write_text(manifest, encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["models", "check", str(models / "vertebrae-ap.onnx"), "--json"]) == 1
    row = json.loads(out.getvalue())
    assert any("codec can't decode" in p for p in row["problems"])
