"""The segmentation training path never rots: two iterations of a tiny network on one lumbar-ct
phantom, exported, measured on one held-out phantom through the registry and shipped with its
manifest and card; saved weights ship again without training."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="the training extra (torch) is not installed")
pytest.importorskip("onnx")

from spineviewer.ai import ModelManifest, check_onnx_file  # noqa: E402
from spineviewer.ai.registry import load_entry  # noqa: E402
from spineviewer.training.segmentation_data import CLASSES, LEVELS  # noqa: E402
from spineviewer.training.segmentation_train import main  # noqa: E402

TINY = [
    *("--train-seeds", "1", "--scoliotic-seeds", "1", "--test-seeds", "1"),
    *("--features", "2,4,4,8,8", "--threads", "1"),
]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seg")
    args = ["--out", str(root / "models"), "--cache", str(root / "cache"), "--iterations", "2"]
    assert main([*args, *TINY]) == 0
    return root


def test_a_tiny_run_ships_a_package_the_registry_loads(shipped: Path) -> None:
    onnx_path = shipped / "models" / "spine-ct-segmentation.onnx"
    manifest = ModelManifest.load(onnx_path.with_suffix(".json"))
    assert check_onnx_file(manifest, onnx_path) == []
    entry = load_entry(onnx_path)
    assert entry.available, entry.problems
    assert manifest.task == "segmentation" and manifest.provenance.not_for_clinical_use
    assert [label.name for label in manifest.labels] == list(CLASSES)
    assert manifest.postprocessing is not None  # the levels, derived by geometry
    derived = [label.name for label in manifest.postprocessing.spine_levels.labels]
    assert set(LEVELS[1:]) <= set(derived)
    window = manifest.preprocessing.sliding_window
    assert window is not None and window.patch_size == manifest.input.shape[2:]
    metrics = manifest.provenance.evaluation.metrics
    assert 0.0 <= float(metrics["dice_mean_vertebrae"]) <= 1.0
    assert "seconds_per_study_mean" in metrics
    card = onnx_path.with_suffix(".md").read_text("utf-8")
    assert "NOT FOR CLINICAL USE" in card
    assert "--iterations 2" in card and "2 iterations of batch 2" in card
    assert "| mean Dice, vertebrae T12 to S1 |" in card


def test_saved_weights_ship_again_without_training(shipped: Path) -> None:
    weights = shipped / "cache" / "spine-ct-segmentation.pt"
    assert weights.is_file()
    out = shipped / "again"
    assert (
        main(
            ["--out", str(out), "--cache", str(shipped / "cache"), "--weights", str(weights), *TINY]
        )
        == 0
    )
    card = (out / "spine-ct-segmentation.md").read_text("utf-8")
    assert "2 iterations of batch 2" in card  # the saved run's, not the command's
    assert load_entry(out / "spine-ct-segmentation.onnx").available
