"""Exporting a trained network as a model package: ``NAME.onnx`` + ``NAME.json`` + ``NAME.md``.

The ONNX file is one file (opset 17, legacy exporter), with a dynamic batch axis and the
manifest embedded as metadata; the sidecar JSON is the same manifest with the file's digest.
Before anything is written for good, onnxruntime must reproduce the torch outputs on sample
inputs (max abs difference <= 1e-4), or the export fails.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.manifest import ModelManifest
from spineviewer.ai.onnx_file import METADATA_KEY, file_sha256

OPSET = 17
#: The largest difference allowed between torch and onnxruntime outputs.
TOLERANCE = 1e-4


def manifest_head(model_id: str, name: str, version: str, task: str) -> dict[str, Any]:
    """The first entries of a manifest SpineViewer trains and ships (the sha256 is set when
    the package is written)."""
    return {
        "schema_version": 1,
        "id": model_id,
        "name": name,
        "version": version,
        "sha256": "0" * 64,
        "opset": 17,
        "min_onnxruntime": "1.17",
        "license": "Apache-2.0",
        "authors": ["SpineViewer developers"],
        "task": task,
    }


@dataclass(frozen=True)
class Exported:
    onnx_path: Path
    manifest_path: Path
    card_path: Path
    max_abs_diff: float
    size_bytes: int


def export_model(
    model: Any,
    example: Any,
    manifest: dict[str, Any],
    card: str,
    out_dir: Path,
    input_name: str = "image",
    output_names: tuple[str, ...] = ("logits",),
) -> Exported:
    """Write ``out_dir/<id>.onnx|.json|.md`` for ``model`` (eval mode) fed ``example`` (N, C, H, W).

    ``manifest`` is completed with ``sha256`` and ``opset`` and validated with
    :class:`~spineviewer.ai.manifest.ModelManifest` before anything is written.
    """
    import onnx
    import torch

    model.eval()
    name = manifest["id"]
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / f"{name}.onnx"
        with warnings.catch_warnings():
            # The legacy exporter on purpose: one file, opset 17, and the only one that
            # exports torchvision's detection models.
            warnings.simplefilter("ignore", DeprecationWarning)
            _export(torch, model, example, raw, input_name, output_names)
        proto = onnx.load(str(raw))
        onnx.checker.check_model(proto)
        manifest = {**manifest, "opset": OPSET}
        staged = Path(tmp) / "staged.onnx"
        _embed(proto, {**manifest, "sha256": "0" * 64}, staged)
        manifest["sha256"] = file_sha256(staged)  # the embedded entry does not count
        ModelManifest.from_dict(manifest, source=f"{name}.json")  # raises on a bad manifest
        _embed(proto, manifest, staged)
        with torch.no_grad():
            expected = model(example).numpy()
        diff = max_abs_difference(staged, input_name, example.numpy(), expected)
        if diff > TOLERANCE:
            raise RuntimeError(
                f"{name}: onnxruntime differs from torch by {diff:.2e} (> {TOLERANCE:g})"
            )
        target = out_dir / f"{name}.onnx"
        staged.replace(target)
    manifest_path = out_dir / f"{name}.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    card_path = out_dir / f"{name}.md"
    card_path.write_text(card, encoding="utf-8")
    return Exported(target, manifest_path, card_path, diff, target.stat().st_size)


def _export(
    torch: Any,
    model: Any,
    example: Any,
    path: Path,
    input_name: str,
    output_names: tuple[str, ...],
) -> None:
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=[input_name],
        output_names=list(output_names),
        dynamic_axes={input_name: {0: "batch"}, **{o: {0: "batch"} for o in output_names}},
    )


def _embed(proto: Any, manifest: dict[str, Any], path: Path) -> None:
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(manifest, separators=(",", ":"))
    import onnx

    onnx.save(proto, str(path))


def max_abs_difference(
    onnx_path: Path, input_name: str, inputs: np.ndarray, expected: np.ndarray
) -> float:
    """Largest |onnxruntime - expected| over every output value, on the CPU provider."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {input_name: inputs.astype(np.float32)})[0]
    return float(np.max(np.abs(got - expected)))


def cpu_latency_ms(onnx_path: Path, input_name: str, example: np.ndarray, runs: int = 30) -> float:
    """Median onnxruntime CPU latency (2 threads) of one ``example`` batch, in ms."""
    import time

    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(
        str(onnx_path), options, providers=["CPUExecutionProvider"]
    )
    feed = {input_name: example.astype(np.float32)}
    session.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)
