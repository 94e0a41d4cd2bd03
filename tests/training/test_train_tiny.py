"""The training path never rots: one epoch on a handful of phantom crops, export, onnxruntime.

Also: the exported package loads with only its manifest (a plain InferenceSession reproduces
the evaluation numbers), and ``spineviewer evaluate`` agrees with the numbers in the card.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the training extra (torch) is not installed")
pytest.importorskip("torchvision")
pytest.importorskip("onnx")

from spineviewer.ai import ModelManifest, check_onnx_file, find_models  # noqa: E402
from spineviewer.cli import main  # noqa: E402
from spineviewer.training.classifier import TrainConfig  # noqa: E402
from spineviewer.training.pipeline import load_sets, train_and_ship  # noqa: E402
from spineviewer.training.tasks import DISC_STATE  # noqa: E402

SCALE = 0.02  # one study per set


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("train")
    out = root / "models"
    result = train_and_ship(
        DISC_STATE,
        root / "phantoms",
        out,
        ["mobilenet_v2"],
        TrainConfig(epochs=1, batch_size=16),
        scale=SCALE,
        say=lambda text: None,
    )
    return root, out, result


def test_export_is_a_valid_package(shipped) -> None:
    _, out, result = shipped
    onnx_path = out / "disc-state.onnx"
    assert result.onnx_path == onnx_path
    manifest = ModelManifest.load(out / "disc-state.json")
    assert check_onnx_file(manifest, onnx_path) == []
    assert manifest.provenance.not_for_clinical_use
    assert manifest.label_names == ("normal", "bulge", "herniation")
    card = (out / "disc-state.md").read_text()
    assert "NOT FOR CLINICAL USE" in card and "random initialisation" in card
    assert onnx_path.stat().st_size < 20e6
    entries = [e for e in find_models([out]) if e.id == "disc-state"]
    assert entries and entries[0].available and entries[0].onnx_path == onnx_path


def test_plain_onnxruntime_reproduces_the_evaluation(shipped) -> None:
    """Only the manifest's instructions: crop is given, scale, replicate, normalise, softmax."""
    import onnxruntime

    root, out, result = shipped
    manifest = json.loads((out / "disc-state.json").read_text())
    sets, _ = load_sets(DISC_STATE, root / "phantoms", SCALE, say=lambda text: None)
    test = sets["test"]
    pre = manifest["preprocessing"]
    x = np.stack([s.image for s in test])[:, None].repeat(3, axis=1)
    x = ((x - pre["mean"][0]) / pre["std"][0]).astype(np.float32)
    session = onnxruntime.InferenceSession(
        str(out / "disc-state.onnx"), providers=["CPUExecutionProvider"]
    )
    logits = session.run(None, {manifest["input"]["name"]: x})[0]
    names = [label["name"] for label in manifest["labels"]]
    predicted = [names[i] for i in logits.argmax(axis=1)]
    accuracy = float(np.mean([p == s.label for p, s in zip(predicted, test, strict=True)]))
    assert accuracy == pytest.approx(result.metrics.crop["accuracy"])
    recorded = manifest["provenance"]["evaluation"]["metrics"]
    assert recorded["accuracy_per_crop"] == pytest.approx(accuracy, abs=1e-4)
    # per disc: the probabilities of a disc's crops averaged
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    discs: dict[tuple[str, str], list[int]] = {}
    for i, s in enumerate(test):
        discs.setdefault((s.study, s.group), []).append(i)
    per_disc = np.mean(
        [
            names[int(probs[idx].mean(axis=0).argmax())] == test[idx[0]].label
            for idx in discs.values()
        ]
    )
    assert recorded["accuracy_per_disc"] == pytest.approx(float(per_disc), abs=1e-4)


def test_evaluate_command_agrees(shipped, tmp_path, capsys) -> None:
    root, out, result = shipped
    data = tmp_path / "data"
    data.mkdir()
    for seed in DISC_STATE.seeds.ranges()["test"][:1]:
        (data / f"lumbar-mr-{seed:05d}").symlink_to(
            DISC_STATE.phantom_dir(root / "phantoms") / f"lumbar-mr-{seed:05d}"
        )
    rc = main(
        [
            "evaluate",
            "--model",
            str(out / "disc-state.onnx"),
            "--data",
            str(data),
            "--out",
            str(tmp_path / "report"),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert f"per_crop: accuracy {result.metrics.crop['accuracy']:.4f}" in out
    assert f"per_disc: accuracy {result.metrics.fused['accuracy']:.4f}" in out
    report = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert report["per_crop"]["accuracy"] == pytest.approx(result.metrics.crop["accuracy"])
    assert report["per_disc"]["n"] == result.metrics.fused["n"]
    assert (tmp_path / "report" / "metrics.md").is_file()
