"""What a person reads for a model's class names: "Pedicle screw", not ``pedicle_screw``.

One mapping for every place that shows a class (the overlay labels, the Findings table): the
names agree with the label vocabulary's meanings (``resources/labels/spine_labels.json``).
Level names ("L3", "L4-L5", "S1") stay as they are; an unknown ``snake_case`` class reads as
words ("spinous_process" -> "Spinous process"); anything else (a person's own note) is shown
unchanged. No Qt, no vocabulary file: the model runner's layer.
"""

from __future__ import annotations

import re

__all__ = ["CLASS_NAMES", "display_name"]

#: Human names of the classes the shipped models and the vocabulary use.
CLASS_NAMES: dict[str, str] = {
    "pedicle_screw": "Pedicle screw",
    "rod": "Spinal rod",
    "interbody_cage": "Interbody cage",
    "plate": "Plate",
    "fracture": "Fracture",
    "sacrum": "Sacrum",
}

_LEVEL = re.compile(r"^[CTLS]\d{1,2}(-[CTLS]\d{1,2})?$")
_CLASS = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^[a-z][a-z0-9]*$")


def display_name(key: str) -> str:
    """The human name of a class or label key (see the module text)."""
    name = CLASS_NAMES.get(key)
    if name is not None:
        return name
    if not key or _LEVEL.match(key) or not _CLASS.match(key):
        return key
    words = key.replace("_", " ")
    return words[0].upper() + words[1:]
