"""Display layers of the annotations: which ones show, and how opaque.

Every annotation belongs to one layer by what it marks: vertebrae, discs, implants, Cobb
lines, or the rest. AI proposals and human marks of the same kind share a layer, so hiding
"Implants" hides every implant box. Layers change only what is drawn, never the document.
"""

from __future__ import annotations

from dataclasses import dataclass

from spineviewer.annotations import Annotation, Vocabulary
from spineviewer.annotations.shapes import shape

__all__ = ["LAYERS", "Layer", "LayerStyles", "layer_of"]

#: Layer names in panel order; "Disc badges" are the AI's per-level states on sagittal views,
#: "Label map" a segmentation's labels (:mod:`spineviewer.gui.label_map_overlay`).
LAYERS: tuple[str, ...] = (
    "Vertebrae",
    "Discs",
    "Disc badges",
    "Implants",
    "Cobb lines",
    "Other annotations",
    "Label map",
)
_BY_CATEGORY = {
    "vertebra": "Vertebrae",
    "fracture": "Vertebrae",
    "disc": "Discs",
    "implant": "Implants",
}


@dataclass
class Layer:
    visible: bool = True
    opacity: float = 1.0


def layer_of(annotation: Annotation, vocabulary: Vocabulary) -> str:
    """The layer an annotation is drawn in."""
    own = shape(annotation.kind).layer  # a Cobb angle: "Cobb lines"
    if own:
        return own
    label = vocabulary.get(annotation.label) if annotation.label else None
    return _BY_CATEGORY.get(label.category, "Other annotations") if label else "Other annotations"


class LayerStyles:
    """Visibility and opacity of every layer (all shown, opaque, to start)."""

    def __init__(self) -> None:
        self.layers = {name: Layer() for name in LAYERS}

    def __getitem__(self, name: str) -> Layer:
        return self.layers[name]

    def opacity(self, name: str) -> float:
        """0 when hidden, else the layer's opacity."""
        layer = self.layers.get(name, Layer())
        return layer.opacity if layer.visible else 0.0
