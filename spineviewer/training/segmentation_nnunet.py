"""An nnU-Net (v2) model as a SpineViewer package: the network to ONNX, its plans to a manifest.

``docs/nnunet-conversion.md`` is the guide. Two functions:

- :func:`export_network`: a network in eval mode (nnU-Net's ``PlainConvUNet`` or
  ``ResidualEncoderUNet`` with ``decoder.deep_supervision = False``, or anything returning the
  full-resolution logits first) to one ONNX file, opset 17, batch and spatial dims dynamic.
- :func:`nnunet_manifest`: ``plans.json`` (its configuration's spacing, patch size,
  normalisation, and the foreground intensities of the dataset fingerprint, which nnU-Net v2
  copies into the plans) and ``dataset.json`` (labels, channels) to a manifest with
  ``preprocessing.sliding_window``. Label names are coded from the label vocabulary where it
  knows them (``L1``, ``vertebrae_L1``, ``L4/L5``...: :func:`~spineviewer.ai.
  segmentation_findings.structure_of`).

``python -m spineviewer.training.segmentation_nnunet --plans P --dataset D --configuration
3d_fullres --id ID --onnx FILE --out JSON`` writes the manifest for an exported file (its
sha256 filled in).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spineviewer.ai.onnx_file import file_sha256
from spineviewer.ai.segmentation_findings import structure_of
from spineviewer.training.detector_manifest import manifest_labels

__all__ = ["export_network", "label_name", "main", "nnunet_manifest"]

OPSET = 17
#: Colours for labels the vocabulary does not know (cycled).
PALETTE = ("#f94144", "#f3722c", "#f9c74f", "#90be6d", "#43aa8b", "#577590", "#4895ef")


def export_network(network: Any, patch: Sequence[int], path: Path, channels: int = 1) -> Path:
    """``network`` (torch, eval mode) to ``path``: input ``image`` (batch, channels, *patch),
    output ``logits``; batch and spatial dims dynamic, opset 17, one file."""
    import torch

    network.eval()
    example = torch.zeros((1, channels, *patch), dtype=torch.float32)
    spatial = {axis: f"dim{axis}" for axis in range(2, 2 + len(patch))}
    axes = {name: {0: "batch", **spatial} for name in ("image", "logits")}
    with torch.no_grad():
        torch.onnx.export(
            network,
            (example,),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes=axes,
        )
    return path


def _normalisation(scheme: str, intensities: Mapping[str, float] | None) -> dict[str, Any]:
    """nnU-Net's normalisation scheme of channel 0 as the manifest's."""
    if scheme == "CTNormalization":
        if intensities is None:
            raise ValueError("CTNormalization needs foreground_intensity_properties_per_channel")
        return {
            "zscore": {
                "mean": float(intensities["mean"]),
                "std": max(float(intensities["std"]), 1e-8),
                "clip": [
                    float(intensities["percentile_00_5"]),
                    float(intensities["percentile_99_5"]),
                ],
            }
        }
    if scheme in ("ZScoreNormalization", "NoNormalization"):
        return (
            {"zscore": {}} if scheme == "ZScoreNormalization" else {"zscore": {"mean": 0, "std": 1}}
        )
    if scheme == "RescaleTo01Normalization":
        return {"percentile": {"low": 0.0, "high": 100.0}}
    raise ValueError(f"normalisation scheme {scheme!r} has no manifest equivalent")


def _labels(dataset: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The manifest labels in channel order and the activation (softmax; region-based
    training, whose labels are lists of values: sigmoid, one channel per region)."""
    found = dataset["labels"]
    regions = any(isinstance(v, list) for v in found.values())
    if regions:
        ordered = [name for name in found if name != "background"]
        order = dataset.get("regions_class_order")
        if order is not None and len(order) != len(ordered):
            raise ValueError("regions_class_order does not match the regions")
        activation = "sigmoid"
    else:
        ordered = [name for name, _ in sorted(found.items(), key=lambda kv: int(kv[1]))]
        values = sorted(int(v) for v in found.values())
        if values != list(range(len(values))):
            raise ValueError(f"dataset.json labels are not 0..{len(values) - 1}: {values}")
        activation = "softmax"
    names = [label_name(name) for name in ordered]
    keys: dict[str, str | None] = {}
    for name, original in zip(names, ordered, strict=True):
        known = structure_of(original)
        keys[name] = known[1] if known is not None and known[0] != "canal" else None
    out = manifest_labels(names, keys)
    for n, (entry, original) in enumerate(zip(out, ordered, strict=True)):
        if "code" not in entry:
            entry.update(display=original, color=PALETTE[n % len(PALETTE)])
        if entry["name"] == "background":
            entry.update(display="Background", color="#000000")
    return out, activation


def label_name(text: str) -> str:
    """``text`` as a manifest label name: letters, digits, '_', '-' and '.' (not first)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text.strip()).strip("_") or "label"
    return ("_" + name if name[0] == "." else name)[:64]


def nnunet_manifest(
    plans: Mapping[str, Any],
    dataset: Mapping[str, Any],
    configuration: str,
    *,
    identity: Mapping[str, str],
    applies_to: Mapping[str, Any],
    provenance: Mapping[str, Any],
    mirror_axes: Sequence[int] = (),
    overlap: float = 0.5,
    batch_size: int = 1,
    sha256: str = "0" * 64,
) -> dict[str, Any]:
    """The manifest of an nnU-Net v2 ``configuration`` exported by :func:`export_network`.

    ``identity``: id, name, version (and optionally license, authors); ``applies_to`` as in
    every manifest (an axial lumbar CT model: ``{"modality": ["CT"], "view": ["axial"],
    "body_part": "LSPINE"}``);
    ``mirror_axes``: the checkpoint's ``inference_allowed_mirroring_axes`` (empty: no
    test-time mirroring, 2^axes times faster)."""
    config = plans["configurations"][configuration]
    while "inherits_from" in config and "patch_size" not in config:
        config = {**plans["configurations"][config["inherits_from"]], **config}
    transpose = plans.get("transpose_forward", [0, 1, 2])
    if list(transpose) != sorted(transpose):
        raise ValueError(
            f"transpose_forward {transpose}: the network expects transposed images, which "
            "SpineViewer does not make (export a model planned without transposition)"
        )
    channels = dataset.get("channel_names") or dataset.get("modality") or {"0": ""}
    if len(channels) != 1:
        raise ValueError(f"{len(channels)} input channels; SpineViewer gives one grey series")
    intensities = (plans.get("foreground_intensity_properties_per_channel") or {}).get("0")
    patch = [int(p) for p in config["patch_size"]]
    labels, activation = _labels(dataset)
    dims = len(patch)
    shape: list[Any] = ["batch", 1, *patch]
    return {
        "schema_version": 1,
        "id": identity["id"],
        "name": identity["name"],
        "version": identity["version"],
        "sha256": sha256,
        "opset": OPSET,
        "min_onnxruntime": "1.17",
        "license": identity.get("license", "unknown"),
        "authors": [identity.get("authors", "unknown")],
        "task": "segmentation",
        "applies_to": dict(applies_to),
        "input": {
            "name": "image",
            "dtype": "float32",
            "shape": shape,
            "layout": "NCDHW" if dims == 3 else "NCHW",
            "channels": "grey",
        },
        "preprocessing": {
            "normalisation": _normalisation(config["normalization_schemes"][0], intensities),
            "sliding_window": {
                "spacing_mm": [float(s) for s in config["spacing"]],
                "patch_size": patch,
                "overlap": overlap,
                **({"mirror_axes": list(mirror_axes)} if mirror_axes else {}),
                "batch_size": batch_size,
            },
        },
        "outputs": [
            {"name": "logits", "dtype": "float32", "shape": ["batch", len(labels), *patch]}
        ],
        "decoding": {
            "tensors": {"masks": "logits"},
            "activation": activation,
            "outputs_are_logits": True,
            "threshold": 0.5,  # what the reader fills in (sigmoid only)
        },
        "labels": labels,
        "provenance": dict(provenance),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m spineviewer.training.segmentation_nnunet",
        description="Write the SpineViewer manifest of an nnU-Net v2 model exported to ONNX.",
    )
    p.add_argument("--plans", type=Path, required=True, help="nnUNetPlans.json / plans.json")
    p.add_argument("--dataset", type=Path, required=True, help="dataset.json")
    p.add_argument("--configuration", default="3d_fullres")
    p.add_argument("--onnx", type=Path, required=True, help="the exported network")
    p.add_argument("--id", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--license", default="unknown")
    p.add_argument("--modality", default="CT")
    p.add_argument("--view", default="axial")
    p.add_argument("--body-part", default="LSPINE", help="DICOM BodyPartExamined it is for")
    p.add_argument("--mirror-axes", default="", help="e.g. 0,1,2 (empty: no mirroring)")
    p.add_argument("--training-data", default="not stated", help="what it was trained on")
    p.add_argument("--out", type=Path, required=True, help="the manifest (.json) to write")
    args = p.parse_args(argv)
    manifest = nnunet_manifest(
        json.loads(args.plans.read_text("utf-8")),
        json.loads(args.dataset.read_text("utf-8")),
        args.configuration,
        identity={
            "id": args.id,
            "name": args.name,
            "version": args.version,
            "license": args.license,
        },
        applies_to={
            "modality": [args.modality],
            "view": [args.view],
            "body_part": args.body_part,
        },
        provenance={
            "training_data": {"description": args.training_data, "license": "not stated"},
            "evaluation": {"data": "not stated", "metrics": {}},
            "intended_use": "research",
            "limitations": ["converted from nnU-Net; validate on local data before use"],
            "not_for_clinical_use": True,
        },
        mirror_axes=[int(a) for a in args.mirror_axes.split(",") if a.strip()],
        sha256=file_sha256(args.onnx),
    )
    args.out.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
