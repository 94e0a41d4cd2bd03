"""A disc whose calibrated top score is under the manifest's ``min_confidence`` is reported as
uncertain, with the reason, instead of as a state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spineviewer.ai.findings import CONFIDENT, UNCERTAIN, Findings
from spineviewer.ai.manifest import ClassificationDecoding, ModelManifest
from spineviewer.cli import main

BUNDLED = Path(__file__).resolve().parents[2] / "onnx_models"


def _models(dest: Path, min_confidence: float | None) -> Path:
    dest.mkdir()
    for model in ("vertebrae-sagittal", "disc-state"):
        for suffix in (".onnx", ".json"):
            shutil.copy(BUNDLED / f"{model}{suffix}", dest / f"{model}{suffix}")
    sidecar = dest / "disc-state.json"
    data = json.loads(sidecar.read_text("utf-8"))
    data["decoding"].pop("min_confidence", None)
    if min_confidence is not None:
        data["decoding"]["min_confidence"] = min_confidence
    sidecar.write_text(json.dumps(data), encoding="utf-8")
    return dest


def _analyse(study: Path, models: Path, out: Path) -> Findings:
    args = ["analyze", str(study), "--json", str(out), "--provider", "cpu", "--models"]
    assert main([*args, str(models)]) == 0
    return Findings.from_json(out.read_text("utf-8"))


@pytest.fixture
def axial_model_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the models of the test's folders: no bundled sagittal disc model pooled in (a
    disc both views call at 0.9995 passes a 0.999 threshold, as it should)."""
    from spineviewer.ai import registry

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: None)


def test_the_manifest_threshold_makes_discs_uncertain(
    demo_study_dir: Path, tmp_path: Path, axial_model_alone: None
):
    sure = _analyse(demo_study_dir, _models(tmp_path / "plain", None), tmp_path / "a.json")
    # sure of every disc but for those its measured contour contradicts (ai.disc_contour)
    assert sure.discs and all(
        d.review == CONFIDENT or d.review_reasons == d.state_reasons for d in sure.discs
    )
    strict = _models(tmp_path / "strict", 0.999)
    unsure = _analyse(demo_study_dir, strict, tmp_path / "b.json")
    assert [d.level for d in unsure.discs] == [d.level for d in sure.discs]
    for disc in unsure.discs:
        assert disc.review == UNCERTAIN
        assert any("disc model is not sure" in r for r in disc.review_reasons), disc


def test_min_confidence_is_read_and_checked():
    manifest = ModelManifest.load(BUNDLED / "disc-state.json")
    decoding = manifest.decoding
    assert isinstance(decoding, ClassificationDecoding)
    limited = ClassificationDecoding(
        decoding.tensors, decoding.activation, decoding.outputs_are_logits, 0.6
    )
    assert limited.unsure([0.5, 0.3, 0.2]) and not limited.unsure([0.7, 0.2, 0.1])
    assert not ClassificationDecoding({}, "softmax", True).unsure([0.34, 0.33, 0.33])


@pytest.mark.parametrize("bad", [-0.1, 1.5, "high"])
def test_a_bad_min_confidence_is_refused(tmp_path: Path, bad: object):
    data = json.loads((BUNDLED / "disc-state.json").read_text("utf-8"))
    data["decoding"]["min_confidence"] = bad
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="min_confidence"):
        ModelManifest.load(path)
