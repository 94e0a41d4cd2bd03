"""Disc states for studies without axial slices: the sagittal disc-state model, chosen by the
labels it finds (the fracture model reads the same sagittal slices and must not be taken)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from study_helpers import copy_plane

from spineviewer.ai.findings import Findings
from spineviewer.ai.pipelines.lumbar_mr import pooled
from spineviewer.ai.registry import best_for, find_models, why_none
from spineviewer.cli import main

BUNDLED = Path(__file__).resolve().parents[2] / "onnx_models"


def _analyse(study: Path, out: Path, *models: Path) -> Findings:
    args = ["analyze", str(study), "--json", str(out), "--provider", "cpu"]
    for folder in models:
        args += ["--models", str(folder)]
    assert main(args) == 0
    return Findings.from_json(out.read_text("utf-8"))


def _models(dest: Path, *ids: str) -> Path:
    dest.mkdir()
    for model in ids:
        for suffix in (".onnx", ".json"):
            shutil.copy(BUNDLED / f"{model}{suffix}", dest / f"{model}{suffix}")
    return dest


@pytest.fixture
def only_these(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the models of the folders a test names (not the bundled or the user's ones)."""
    from spineviewer.ai import registry

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: None)


def test_a_model_is_chosen_by_the_labels_it_finds(tmp_path: Path, only_these: None):
    entries = find_models([_models(tmp_path / "m", "vertebra-fracture", "disc-state")])
    args = ("classification", "MR", "sagittal", entries)
    fracture = best_for(*args, contrast="T2", finds=("fractured",))
    assert fracture is not None and fracture.id == "vertebra-fracture"
    assert best_for(*args, contrast="T2", finds=("bulge", "herniation")) is None
    why = why_none(*args, contrast="T2", finds=("bulge", "herniation"))
    assert "vertebra-fracture: finds normal, fractured, not bulge, herniation" in why


def test_without_a_sagittal_disc_model_the_step_says_why(
    demo_study_dir: Path, tmp_path: Path, only_these: None
):
    sagittal = copy_plane(demo_study_dir, "sagittal", tmp_path / "sag")
    models = _models(tmp_path / "m", "vertebrae-sagittal", "disc-state", "vertebra-fracture")
    found = _analyse(sagittal, tmp_path / "f.json", models)
    assert not found.discs
    steps = {s.name: s for s in found.steps}
    step = steps["lumbar MR: disc states (sagittal)"]
    assert step.status == "skipped" and "not bulge, herniation" in step.reason
    assert steps["lumbar MR: fractures"].status == "done"


def test_a_study_without_axials_gets_sagittal_disc_states(demo_study_dir: Path, tmp_path: Path):
    assert (BUNDLED / "disc-state-sagittal.onnx").is_file()
    sagittal = copy_plane(demo_study_dir, "sagittal", tmp_path / "sag")
    found = _analyse(sagittal, tmp_path / "f.json")
    levels = [d.level for d in found.discs]
    assert levels and all(level.startswith("L") for level in levels)
    assert {"L4-L5", "L5-S1"} <= set(levels)
    for disc in found.discs:
        assert disc.view == "sagittal" and disc.sagittal_instances and not disc.axial_instances
        assert disc.model_id == "disc-state-sagittal"
    whole = _analyse(demo_study_dir, tmp_path / "w.json")
    assert whole.discs and all(d.view == "axial" for d in whole.discs)


def test_an_axial_disc_state_pools_both_views(
    demo_study_dir: Path, tmp_path: Path, only_these: None
):
    """With axial and sagittal slices, a lumbar disc's probabilities are the renormalised
    product of the axial model's (alone: the sagittal model left out) and the sagittal model's
    (alone: the axial series left out); the view stays axial, both views' images are named."""
    axial_only = _models(tmp_path / "a", "vertebrae-sagittal", "disc-state")
    every = _models(tmp_path / "m", "vertebrae-sagittal", "disc-state", "disc-state-sagittal")
    axial = _analyse(demo_study_dir, tmp_path / "a.json", axial_only)
    sagittal = _analyse(
        copy_plane(demo_study_dir, "sagittal", tmp_path / "sag"), tmp_path / "s.json", every
    )
    both = _analyse(demo_study_dir, tmp_path / "b.json", every)
    by_level = {d.level: d for d in sagittal.discs}
    fused = [d for d in both.discs if d.level in by_level]
    assert len(fused) >= 4
    for disc in fused:
        alone = next(d for d in axial.discs if d.level == disc.level)
        side = by_level[disc.level]
        assert disc.view == "axial" and disc.axial_instances and disc.sagittal_instances
        product = {n: alone.probabilities[n] * side.probabilities[n] for n in disc.probabilities}
        for name, p in disc.probabilities.items():
            assert p == pytest.approx(product[name] / sum(product.values()), abs=2e-3)
        assert disc.state == max(disc.probabilities, key=disc.probabilities.__getitem__)
    assert any(d.probabilities != a.probabilities for d, a in zip(fused, axial.discs, strict=False))


def test_pooling_sharpens_agreement_and_doubts_disagreement() -> None:
    agree = pooled(np.array([0.7, 0.2, 0.1]), np.array([0.7, 0.2, 0.1]))
    assert agree.sum() == pytest.approx(1.0) and agree[0] > 0.9
    disagree = pooled(np.array([0.7, 0.2, 0.1]), np.array([0.1, 0.2, 0.7]))
    assert disagree.max() < 0.7 and disagree[0] == pytest.approx(disagree[2])
    assert pooled(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])).sum() == pytest.approx(1)
