"""Manifests for every task and tiny ONNX models to go with them (the latter need ``onnx``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import spineviewer.ai.manifest as manifest_module
from spineviewer.ai import file_sha256

#: Shape of the tiny test model: image (batch, 3, 8, 8) float -> logits (batch, 3).
SIZE = 8
CLASSES = 3


def doc_example() -> dict[str, Any]:
    """The full example from the manifest module's docstring."""
    doc = manifest_module.__doc__ or ""
    start = doc.index("    {\n")
    return json.loads(doc[start : doc.index("\n    }\n", start) + 6])


def variant(task: str, style: str = "torchvision") -> dict[str, Any]:
    """A valid manifest for ``task`` (detection and keypoints in ``style``)."""
    data = doc_example()
    data["task"] = task
    labels = data["labels"]
    if task == "segmentation":
        data["outputs"] = [{"name": "masks", "dtype": "float32", "shape": [None, 3, 224, 224]}]
        data["decoding"] = {
            "tensors": {"masks": "masks"},
            "activation": "sigmoid",
            "outputs_are_logits": True,
            "threshold": 0.4,
        }
    elif task in ("detection", "keypoints"):
        points = ["anterior", "posterior"] if task == "keypoints" else []
        data["decoding"] = {
            "style": style,
            "box_format": "xyxy" if style == "torchvision" else "cxcywh",
            "coordinates": "input_pixels",
            "score_threshold": 0.25,
            "nms_iou": 0.5,
            **({"points": points} if points else {}),
        }
        if style == "yolo":
            row = 4 + len(labels) + 3 * len(points)
            data["outputs"] = [{"name": "output0", "dtype": "float32", "shape": [1, row, 1029]}]
            data["decoding"]["tensors"] = {"predictions": "output0"}
        else:
            data["outputs"] = [
                {"name": "boxes", "dtype": "float32", "shape": ["n", 4]},
                {"name": "labels", "dtype": "int64", "shape": ["n"]},
                {"name": "scores", "dtype": "float32", "shape": ["n"]},
            ]
            roles = ["boxes", "labels", "scores"]
            if points:
                data["outputs"].append(
                    {"name": "keypoints", "dtype": "float32", "shape": ["n", 2, 3]}
                )
                roles.append("keypoints")
            data["decoding"]["tensors"] = {r: r for r in roles}
    return data


def tiny_manifest(sha256: str = "0" * 64, **changes: Any) -> dict[str, Any]:
    """The doc example fitted to the tiny model; ``changes`` replace top-level groups."""
    data = doc_example()
    data["sha256"] = sha256
    data["input"]["shape"] = ["batch", 3, SIZE, SIZE]
    data["preprocessing"]["size"] = [SIZE, SIZE]
    data.update(copy.deepcopy(changes))
    return data


def build_onnx(
    path: Path,
    input_name: str = "image",
    weight: float = 0.5,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Save image (batch, 3, 8, 8) -> Flatten -> Gemm -> logits (batch, 3)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    features = 3 * SIZE * SIZE
    weights = numpy_helper.from_array(
        np.full((features, CLASSES), weight, dtype=np.float32), name="weights"
    )
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", [input_name], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "weights"], ["logits"]),
        ],
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def write_package(
    folder: Path,
    name: str = "disc-state",
    sidecar: bool = True,
    embed: bool = False,
    **changes: Any,
) -> Path:
    """``NAME.onnx`` with a manifest whose sha256 fits it, as a sidecar and/or embedded."""
    folder.mkdir(parents=True, exist_ok=True)
    path = build_onnx(folder / f"{name}.onnx")
    data = tiny_manifest(file_sha256(path), **changes)
    if embed:
        build_onnx(path, metadata={"spineviewer.manifest": json.dumps(data)})
    if sidecar:
        path.with_suffix(".json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
