"""A retrained AP radiograph model is measured beside the package it replaces: on the wide
held-out radiographs and on the standard ones of the same seeds, both with onnxruntime, and its
card shows both models on both sets and the run's wall time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spineviewer.cli import main

MODELS = Path(__file__).resolve().parents[2] / "onnx_models"

pytestmark = pytest.mark.skipif(
    not (MODELS / "implants-ap.onnx").exists(), reason="implants-ap is not shipped"
)


def test_a_retrained_implant_model_is_compared_with_the_one_it_replaces(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the training extra (torch) is not installed")
    pytest.importorskip("onnx")
    out = tmp_path / "models"
    out.mkdir()
    for ext in ("onnx", "json", "md"):
        shutil.copy(MODELS / f"implants-ap.{ext}", out)
    previous = json.loads((out / "implants-ap.json").read_text())
    rc = main(
        ["train-detector", "--task", "implants-ap", "--phantoms", str(tmp_path / "phantoms"),
         "--out", str(out), "--epochs", "1", "--batch-size", "4", "--scale", "0.02",
         "--report", str(tmp_path / "report")]
    )  # fmt: skip
    assert rc == 0
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    rows = metrics["comparison"]
    assert [(r["set"], r["model"].split()[0]) for r in rows] == [
        ("wide", "previous"),
        ("wide", "this"),
        ("standard", "previous"),
        ("standard", "this"),
    ]
    assert rows[0]["model"].startswith(f"previous {previous['version']} (")
    # the held-out seeds 93000-93001 of both profiles, each run by both models
    assert [r["studies"] for r in rows] == [2, 2, 2, 2]
    assert rows[1]["detection"] == metrics["detection"]  # this model's own test set: the wide one
    assert all(r["detection"]["task"] == "detection" for r in rows)
    phantoms = sorted(p.name for p in (tmp_path / "phantoms").iterdir())
    assert {"spine-xr-93000", "spine-xr-93000-wide", "spine-xr-93001-wide"} <= set(phantoms)

    card = (out / "implants-ap.md").read_text()
    assert "NOT FOR CLINICAL USE" in card
    table = [line for line in card.splitlines() if line.startswith(("| wide, ", "| standard, "))]
    assert len(table) == 4
    assert "previous " in table[0] and "**this model**" in table[1]
    assert "Wall time of this run: " in card
    assert json.loads((out / "implants-ap.json").read_text())["version"] == "0.2.0"
