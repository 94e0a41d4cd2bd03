"""Classifier networks by transfer learning: torchvision backbones with a new head.

No weights are downloaded. ``weights`` may name a local state-dict file (e.g. ImageNet weights
copied onto the machine, or a model trained on another spine data set: transfer from the same
domain beats ImageNet, seed 000); without it the backbone starts from random initialisation,
and the model card says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Backbones the seed papers use (plus the small resnet18), name -> (constructor, head path).
BACKBONES: dict[str, str] = {
    "mobilenet_v2": "classifier.1",
    "efficientnet_b0": "classifier.1",
    "resnet18": "fc",
    "resnet50": "fc",
    "densenet121": "classifier",
    "vgg16": "classifier.6",
}


def build_classifier(backbone: str, num_classes: int, weights: Path | None = None) -> Any:
    """A torchvision ``backbone`` whose last layer predicts ``num_classes`` logits.

    ``weights``: a local ``state_dict`` file for the backbone (its own head is dropped when the
    class count differs). Raises ValueError for an unknown backbone, naming the known ones.
    """
    import torch
    import torchvision

    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
    model = getattr(torchvision.models, backbone)(weights=None)
    if weights is not None:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        own = model.state_dict()
        usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        if not usable:
            raise ValueError(f"{weights}: no tensor matches a {backbone} layer")
        model.load_state_dict(usable, strict=False)
    parent_path, _, attr = BACKBONES[backbone].rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    old = getattr(parent, attr) if not attr.isdigit() else parent[int(attr)]
    head = torch.nn.Linear(old.in_features, num_classes)
    if attr.isdigit():
        parent[int(attr)] = head
    else:
        setattr(parent, attr, head)
    return model


def parameter_count(model: Any) -> int:
    """Number of parameters."""
    return int(sum(p.numel() for p in model.parameters()))
