"""docs/nnunet-conversion.md, checked: a tiny nnU-Net-shaped network (PlainConvUNet layout:
strided convolutions, instance norm, leaky ReLU, deep supervision heads dropped for export)
exported with torch, its manifest written from nnU-Net-style plans.json and dataset.json, and
run through the registry, the session cache's warm-up and sliding_window.segment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the training extra (torch) is not installed")
pytest.importorskip("onnx")

from spineviewer.ai.manifest import ModelManifest  # noqa: E402
from spineviewer.ai.registry import load_entry  # noqa: E402
from spineviewer.ai.sessions import SessionCache  # noqa: E402
from spineviewer.ai.sliding_window import segment  # noqa: E402
from spineviewer.training.segmentation_net import FullResolution, UNet3d  # noqa: E402
from spineviewer.training.segmentation_nnunet import (  # noqa: E402
    export_network,
    nnunet_manifest,
)

PATCH = (8, 16, 16)
SPACING = (3.0, 1.5, 1.5)
#: dataset.json's labels (channel order = value order), nnU-Net style names.
LABELS = {"background": 0, "vertebrae_L1": 1, "L1/L2 disc": 2, "spinal_canal": 3, "kidney": 4}


def _plans() -> dict:
    """A plans.json as nnU-Net v2 writes it (the fields the conversion reads)."""
    return {
        "dataset_name": "Dataset999_Tiny",
        "transpose_forward": [0, 1, 2],
        "configurations": {
            "3d_fullres": {
                "patch_size": list(PATCH),
                "spacing": list(SPACING),
                "normalization_schemes": ["CTNormalization"],
                "architecture": {
                    "network_class_name": "dynamic_network_architectures.architectures.unet."
                    "PlainConvUNet",
                    "arch_kwargs": {
                        "n_stages": 3,
                        "features_per_stage": [4, 8, 16],
                        "kernel_sizes": [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
                        "strides": [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
                    },
                },
            },
            "3d_lowres_like": {"inherits_from": "3d_fullres", "batch_size": 2},
        },
        "foreground_intensity_properties_per_channel": {
            "0": {"mean": 300.0, "std": 250.0, "percentile_00_5": -100.0, "percentile_99_5": 1200.0}
        },
    }


def _dataset() -> dict:
    return {"channel_names": {"0": "CT"}, "labels": LABELS, "numTraining": 10}


def _network() -> UNet3d:
    kwargs = _plans()["configurations"]["3d_fullres"]["architecture"]["arch_kwargs"]
    torch.manual_seed(3)
    net = UNet3d(
        1,
        len(LABELS),
        kwargs["features_per_stage"],
        [tuple(k) for k in kwargs["kernel_sizes"]],
        [tuple(s) for s in kwargs["strides"]],
        deep_supervision=True,
    )
    net.eval()
    return net


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, UNet3d]:
    folder = tmp_path_factory.mktemp("nnunet")
    net = _network()
    onnx_path = export_network(FullResolution(net), PATCH, folder / "tiny-nnunet.onnx")
    from spineviewer.ai import file_sha256

    manifest = nnunet_manifest(
        _plans(),
        _dataset(),
        "3d_fullres",
        identity={"id": "tiny-nnunet", "name": "Tiny nnU-Net", "version": "1.0.0"},
        applies_to={"modality": ["CT"], "view": ["axial"], "body_part": "LSPINE"},
        provenance={
            "training_data": {"description": "none: random weights", "license": "none"},
            "evaluation": {"data": "none", "metrics": {}},
            "intended_use": "a test",
            "limitations": ["random weights"],
            "not_for_clinical_use": True,
        },
        mirror_axes=(1, 2),
        sha256=file_sha256(onnx_path),
    )
    (folder / "tiny-nnunet.json").write_text(json.dumps(manifest), encoding="utf-8")
    return onnx_path, net


def test_the_manifest_says_what_the_plans_say(package: tuple[Path, UNet3d]) -> None:
    onnx_path, _ = package
    m = ModelManifest.load(onnx_path.with_suffix(".json"))
    window = m.preprocessing.sliding_window
    assert window is not None
    assert window.spacing_mm == SPACING and window.patch_size == PATCH
    assert window.mirror_axes == (1, 2) and window.overlap == 0.5
    zscore = m.preprocessing.normalisation.zscore
    assert zscore is not None
    assert (zscore.mean, zscore.std, zscore.clip) == (300.0, 250.0, (-100.0, 1200.0))
    assert m.input.layout == "NCDHW" and m.input.shape[2:] == PATCH
    names = [label.name for label in m.labels]
    assert names == ["background", "vertebrae_L1", "L1_L2_disc", "spinal_canal", "kidney"]
    # names nnU-Net datasets use are coded from the vocabulary; unknown ones keep no code
    codes = {label.name: label.code.value if label.code else None for label in m.labels}
    assert codes["vertebrae_L1"] == "66794005" and codes["L1_L2_disc"] == "80064006"
    assert codes["kidney"] is None


def test_inherited_configurations_and_transposed_plans() -> None:
    plans = _plans()
    common = {
        "identity": {"id": "x", "name": "x", "version": "1"},
        "applies_to": {"modality": ["CT"], "view": ["axial"], "body_part": "LSPINE"},
        "provenance": {},
    }
    m = nnunet_manifest(plans, _dataset(), "3d_lowres_like", **common)
    assert m["preprocessing"]["sliding_window"]["patch_size"] == list(PATCH)
    plans["transpose_forward"] = [2, 0, 1]
    with pytest.raises(ValueError, match="transpose_forward"):
        nnunet_manifest(plans, _dataset(), "3d_fullres", **common)


def test_a_dynamic_export_fails_on_one_voxel_and_is_warmed_up_with_its_patch(
    package: tuple[Path, UNet3d],
) -> None:
    import onnxruntime

    onnx_path, _ = package
    plain = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    with pytest.raises(Exception):  # noqa: B017 - onnxruntime's own error types
        plain.run(None, {"image": np.zeros((1, 1, 1, 1, 1), dtype=np.float32)})
    entry = load_entry(onnx_path)
    assert entry.available, entry.problems
    session = SessionCache("cpu", 1).get(entry)  # warms up: must not raise
    assert session.provider == "CPUExecutionProvider"


def test_segment_gives_the_networks_own_labels(package: tuple[Path, UNet3d]) -> None:
    """A volume of exactly one patch at the model's spacing: the label map is the argmax of
    the torch network's mirrored logits on the normalised volume."""
    onnx_path, net = package
    session = SessionCache("cpu", 1).get(load_entry(onnx_path))
    rng = np.random.default_rng(0)
    volume = rng.normal(400.0, 500.0, size=PATCH).astype(np.float32)
    labels = segment(session, volume, SPACING).labels
    x = torch.from_numpy((np.clip(volume, -100.0, 1200.0) - 300.0) / 250.0)[None, None]
    with torch.no_grad():
        total = sum(
            torch.flip(net(torch.flip(x, axes))[0], axes) if axes else net(x)[0]
            for axes in [(), (3,), (4,), (3, 4)]
        )
    expected = total[0].argmax(0).numpy()
    assert labels.shape == PATCH
    assert (labels == expected).mean() > 0.999
    assert len(np.unique(labels)) > 1
