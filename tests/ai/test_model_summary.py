"""The About box's model summary, and evaluation reports beside models are not packages."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnx")

from manifest_helpers import write_package

from spineviewer.ai.registry import describe_models, find_models


def test_summary_lists_models_and_reasons(tmp_path) -> None:
    write_package(tmp_path / "models")
    broken = tmp_path / "models" / "broken.json"
    broken.write_text("{ not json")
    report = tmp_path / "models" / "disc-state-evaluation"
    report.mkdir()
    (report / "metrics.json").write_text(json.dumps({"accuracy": 0.9}))
    entries = find_models([tmp_path / "models"])
    names = sorted(e.onnx_path.name for e in entries if e.onnx_path.parent == tmp_path / "models")
    assert names == ["broken.onnx", "disc-state.onnx"]  # the report's JSON is not a package
    text = describe_models(entries)
    assert text.startswith("onnxruntime ") and "CPUExecutionProvider" in text
    assert "disc-state 1.2.0: classification" in text
    assert "broken.onnx: unavailable (" in text
