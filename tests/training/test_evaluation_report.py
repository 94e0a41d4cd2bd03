"""The evaluation report: metrics.json, metrics.md and PNG plots."""

from __future__ import annotations

import importlib.util
import json
import struct
import sys

import pytest

from spineviewer.training.eval_report import write_evaluation
from spineviewer.training.metrics import (
    average_precision,
    classification_metrics,
    cobb_metrics,
    identification,
)

HAVE_MPL = importlib.util.find_spec("matplotlib") is not None
LEVELS = ["L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def full_result():
    classes = ["normal", "bulge", "herniation"]
    y_true, y_pred, groups = [], [], []
    for i in range(30):
        truth = classes[i % 3]
        y_true.append(truth)
        y_pred.append(truth if i % 4 else classes[(i + 1) % 3])
        groups.append(LEVELS[i % 5])
    clf = classification_metrics(y_true, y_pred, classes, groups=groups)
    ident = identification(
        [[("L1", (0, 0, 1)), ("L2", (0, 0, 52))]],
        [[("L1", (0, 0, 0)), ("L2", (0, 0, 30))]],
    )
    det = average_precision(
        [
            {
                "boxes": [[0, 0, 10, 10], [40, 40, 50, 50]],
                "labels": ["screw", "rod"],
                "scores": [0.9, 0.6],
            }
        ],
        [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": ["screw", "rod"]}],
    )
    cobb = cobb_metrics([10.0, 25.0, 41.0], [12.0, 22.0, 45.0])
    return {
        "model": {"id": "disc-state-demo", "version": "0.1"},
        "data": {"source": "synthetic lumbar-mr phantoms", "studies": 6},
        "classification": clf,
        "identification": ident,
        "implants": det,
        "cobb": cobb,
    }


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24]), len(data)


def test_report_files_json_and_markdown(tmp_path, full_result):
    paths = write_evaluation(full_result, tmp_path / "out", "Demo evaluation")
    out = tmp_path / "out"
    assert paths[:2] == [out / "metrics.json", out / "metrics.md"]
    assert all(p.is_file() for p in paths)

    payload = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert payload["title"] == "Demo evaluation"
    assert payload["not_for_clinical_use"] is True
    assert payload["classification"]["accuracy"] == full_result["classification"]["accuracy"]
    assert payload["implants"]["task"] == "detection"

    md = (out / "metrics.md").read_text(encoding="utf-8")
    assert md.startswith("# Demo evaluation")
    assert "Not for clinical use" in md
    assert "synthetic lumbar-mr phantoms" in md
    assert "disc-state-demo" in md
    for heading in (
        "### Per class",
        "### Confusion matrix",
        "### Per level",
        "### Per vertebra",
        "## Implants (detection)",
        "## Cobb",
    ):
        assert heading in md
    per_level = {g["group"]: g for g in full_result["classification"]["per_group"]}
    for level in LEVELS:
        g = per_level[level]
        assert f"| {level} | {g['n']} | {g['correct']} | {100 * g['accuracy']:.1f}% |" in md
    positions = [md.index(f"| {level} |") for level in LEVELS]
    assert positions == sorted(positions)
    assert "| Class | Accuracy | Sensitivity | Specificity | Precision | F1 | Support |" in md
    assert "| herniation |" in md
    assert "| truth \\ prediction | normal | bulge | herniation |" in md
    assert "Identification rate | 50.0%" in md
    assert "| screw | 100.0% |" in md
    assert "SMAPE (AASCE 2019, %)" in md


@pytest.mark.skipif(not HAVE_MPL, reason="matplotlib not installed")
def test_report_plots_are_valid_pngs(tmp_path, full_result):
    paths = write_evaluation(full_result, tmp_path, "Demo")
    names = {p.name for p in paths}
    expected = {
        "classification_confusion.png",
        "classification_per_class.png",
        "classification_per_level.png",
        "identification_per_label.png",
        "implants_ap.png",
        "cobb_cobb.png",
    }
    assert expected <= names
    for name in expected:
        (width, height), size = _png_size(tmp_path / name)
        assert width >= 300 and height >= 300
        assert size > 5000
    md = (tmp_path / "metrics.md").read_text(encoding="utf-8")
    for name in expected:
        assert f"]({name})" in md
    assert "Plots skipped" not in md


def test_report_without_matplotlib(tmp_path, full_result, monkeypatch):
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    paths = write_evaluation(full_result, tmp_path, "No plots")
    assert [p.name for p in paths] == ["metrics.json", "metrics.md"]
    assert not list(tmp_path.glob("*.png"))
    md = (tmp_path / "metrics.md").read_text(encoding="utf-8")
    assert "Plots skipped: matplotlib is not installed" in md
    assert "| L4-L5 |" in md


def test_report_single_section_nan_and_clinical_flag(tmp_path):
    result = cobb_metrics([10.0], [12.0])
    result["extra"] = float("nan")
    paths = write_evaluation(result, tmp_path, "Cobb only", not_for_clinical_use=False)
    payload = json.loads(paths[0].read_text(encoding="utf-8"))
    assert payload["extra"] is None
    assert payload["not_for_clinical_use"] is False
    md = paths[1].read_text(encoding="utf-8")
    assert "Not for clinical use" not in md
    assert "## Cobb" in md
    assert "| MAE (°) | 2.00 |" in md
    assert "Not described." in md


def test_report_handles_empty_sections(tmp_path):
    result = {
        "data": "nothing",
        "classification": classification_metrics([], [], ["a", "b"]),
        "identification": identification([], []),
        "detection": average_precision([], []),
        "cobb": cobb_metrics([], []),
    }
    paths = write_evaluation(result, tmp_path, "Empty")
    md = paths[1].read_text(encoding="utf-8")
    assert "n/a" in md
    json.loads(paths[0].read_text(encoding="utf-8"))
    for p in paths[2:]:
        assert p.read_bytes()[:8] == PNG_SIGNATURE
