"""Window presets on keys 1-9: header windows, modality presets (CT), and automatic windows.

CT presets come from ``resources/window_presets.json``; MR has no absolute scale, so it gets
the windows stored in the header and windows from percentiles of the image itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from spineviewer.dicom import Window
from spineviewer.dicom.display import window_from_data
from spineviewer.resources import resource_path

MAX_PRESETS = 9
#: (name, low percentile, high percentile) of the automatic windows.
AUTO_WINDOWS = (
    ("Auto 0.5-99.5 %", 0.5, 99.5),
    ("Auto 2-98 %", 2.0, 98.0),
    ("Auto 5-95 % (contrast)", 5.0, 95.0),
)


@dataclass(frozen=True)
class Preset:
    """A named window."""

    name: str
    window: Window


@cache
def modality_presets() -> dict[str, tuple[Preset, ...]]:
    """Fixed presets per modality from the resources file."""
    data = json.loads(resource_path("window_presets.json").read_text(encoding="utf-8"))
    out: dict[str, tuple[Preset, ...]] = {}
    for modality, entries in data.items():
        if not isinstance(entries, list):
            continue
        out[modality] = tuple(
            Preset(str(e["name"]), Window(float(e["center"]), float(e["width"]))) for e in entries
        )
    return out


def presets_for(
    modality: str, header_windows: Sequence[Window], values: np.ndarray | None
) -> list[Preset]:
    """Presets for keys 1-9: header windows, then the modality's, then automatic ones."""
    candidates = [Preset(f"Header {i + 1}", w) for i, w in enumerate(header_windows)]
    candidates += list(modality_presets().get(modality, ()))
    if values is not None and np.asarray(values).size and np.asarray(values).ndim == 2:
        for name, low, high in AUTO_WINDOWS:
            candidates.append(Preset(name, window_from_data(values, low, high)))
    out: list[Preset] = []
    seen: set[tuple[float, float, str]] = set()
    for preset in candidates:
        key = (preset.window.center, preset.window.width, preset.window.function)
        if key not in seen:
            seen.add(key)
            out.append(preset)
    return out[:MAX_PRESETS]
