"""Sliding-window segmentation manifests and tiny real ONNX convolution networks to go with them
(the networks need ``onnx``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai import file_sha256
from spineviewer.ai.registry import load_entry
from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.sessions import SessionCache

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_3D = ROOT / "docs" / "examples" / "segmentation-manifest.json"
EXAMPLE_2D = ROOT / "docs" / "examples" / "segmentation-mr-2d.json"

#: One network layer: weight (out, in, *kernel), bias (out,), then ReLU or not.
Layer = tuple[np.ndarray, np.ndarray, bool]


def example(path: Path = EXAMPLE_3D) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def seg_manifest(
    patch: Sequence[int],
    spacing: Sequence[float],
    classes: int,
    *,
    activation: str = "softmax",
    normalisation: dict[str, Any] | None = None,
    batch: int | str | None = "batch",
    **window: Any,
) -> dict[str, Any]:
    """The 3D example fitted to a network of ``patch`` (2 dims: an NCHW network) and
    ``classes`` output channels, labels taken from the example's."""
    data = example()
    layout = "NCDHW" if len(patch) == 3 else "NCHW"
    data["input"].update(shape=[batch, 1, *patch], layout=layout)
    data["outputs"] = [{"name": "logits", "dtype": "float32", "shape": [batch, classes, *patch]}]
    data["decoding"]["activation"] = activation
    data["labels"] = copy.deepcopy(data["labels"][:classes])
    data["preprocessing"] = {
        "normalisation": normalisation or {"zscore": {"mean": 0.0, "std": 1.0}},
        "sliding_window": {
            "spacing_mm": list(spacing),
            "patch_size": list(patch),
            "overlap": 0.5,
            **window,
        },
    }
    return data


def conv_net(path: Path, layers: Sequence[Layer], batch: int | str = "batch") -> Path:
    """Save a network of convolutions ('same' zero padding, odd kernels) with dynamic
    spatial dims: image (batch, in, *space) -> logits (batch, out, *space)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    dims = layers[0][0].ndim - 2
    nodes, weights, name = [], [], "image"
    for n, (weight, bias, relu) in enumerate(layers):
        kernel = list(weight.shape[2:])
        pads = [k // 2 for k in kernel] * 2
        out = "logits" if n == len(layers) - 1 and not relu else f"conv{n}"
        weights += [
            numpy_helper.from_array(weight.astype(np.float32), f"w{n}"),
            numpy_helper.from_array(bias.astype(np.float32), f"b{n}"),
        ]
        nodes.append(
            helper.make_node(
                "Conv", [name, f"w{n}", f"b{n}"], [out], kernel_shape=kernel, pads=pads
            )
        )
        name = out
        if relu:
            name = "logits" if n == len(layers) - 1 else f"relu{n}"
            nodes.append(helper.make_node("Relu", [out], [name]))
    space = [f"d{i}" for i in range(dims)]
    channels_in, channels_out = layers[0][0].shape[1], layers[-1][0].shape[0]
    graph = helper.make_graph(
        nodes,
        "segmenter",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, channels_in, *space])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, channels_out, *space])],
        initializer=weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def package(
    folder: Path, layers: Sequence[Layer], manifest: dict[str, Any], name: str = "seg"
) -> Path:
    """``NAME.onnx`` of ``layers`` with ``manifest`` (its sha256 filled in) beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    fixed = manifest["input"]["shape"][0]
    path = conv_net(folder / f"{name}.onnx", layers, fixed if isinstance(fixed, int) else "batch")
    data = {**manifest, "id": name, "sha256": file_sha256(path)}
    path.with_suffix(".json").write_text(json.dumps(data), encoding="utf-8")
    return path


def session(folder: Path, layers: Sequence[Layer], manifest: dict[str, Any]) -> ModelSession:
    """The project's own session (registry entry, session cache, CPU) of a new package."""
    entry = load_entry(package(folder, layers, manifest))
    assert entry.available, entry.problems
    return SessionCache(provider="cpu", threads=1).get(entry)


def pointwise(weights: Sequence[float], biases: Sequence[float], dims: int = 3) -> Layer:
    """A 1-voxel convolution from 1 channel: class c scores ``weights[c] * x + biases[c]``."""
    w = np.asarray(weights, dtype=np.float32).reshape(len(weights), 1, *([1] * dims))
    return w, np.asarray(biases, dtype=np.float32), False


def delta(dims: int = 3, size: int = 3) -> Layer:
    """A 3 x 3 (x 3) convolution that passes its input through, then ReLU."""
    w = np.zeros((1, 1, *([size] * dims)), dtype=np.float32)
    w[(0, 0, *([size // 2] * dims))] = 1.0
    return w, np.zeros(1, dtype=np.float32), True


#: l0 = 0, l1 = 2x - 1, l2 = 4x - 4: argmax 0 below 0.5, 1 up to 1.5, 2 above.
THREE_LEVELS = ([0.0, 2.0, 4.0], [0.0, -1.0, -4.0])
