"""The label vocabulary: names, colours and codes for everything an annotation can be labelled.

Loaded from ``resources/labels/spine_labels.json``. Codes are SNOMED CT where a standard code
exists (scheme ``SCT``) and SpineViewer's private scheme ``99SPV`` otherwise; labels always
carry a name and a code, never a bare integer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from spineviewer.resources import resource_path

CATEGORIES = ("vertebra", "disc", "implant", "fracture", "text")
DEFAULT_COLOR = "#e6e1c5"


@dataclass(frozen=True)
class Code:
    """A coded concept: (scheme designator, value, meaning)."""

    scheme: str
    value: str
    meaning: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Code:
        return cls(str(data["scheme"]), str(data["value"]), str(data["meaning"]))


@dataclass(frozen=True)
class Label:
    """One vocabulary entry."""

    key: str
    meaning: str
    category: str
    color: str
    code: Code | None


@dataclass(frozen=True)
class Vocabulary:
    """Labels by key, and the disc states."""

    labels: tuple[Label, ...]
    disc_states: tuple[Label, ...]
    schemes: dict[str, str] = field(default_factory=dict)
    _by_key: dict[str, Label] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {lb.key: lb for lb in self.labels})

    def get(self, key: str) -> Label | None:
        """The label for ``key`` (None for "" or an unknown key)."""
        return self._by_key.get(key)

    def state(self, key: str | None) -> Label | None:
        """The disc state for ``key``."""
        return next((s for s in self.disc_states if s.key == key), None)

    def color(self, key: str) -> str:
        """Display colour of a label ("#rrggbb"); a neutral colour for unknown keys."""
        label = self.get(key)
        return label.color if label else DEFAULT_COLOR

    def in_category(self, category: str) -> tuple[Label, ...]:
        """Labels of one category, in file order."""
        return tuple(lb for lb in self.labels if lb.category == category)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Vocabulary:
        """Read a vocabulary file (default: the shipped one); ValueError names the problem."""
        source = Path(path) if path is not None else resource_path("labels", "spine_labels.json")
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
            labels = tuple(_label(d) for d in data["labels"])
            states = tuple(_label(d, "disc_state") for d in data.get("disc_states", []))
        except (OSError, KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{source}: not a valid label vocabulary ({exc})") from exc
        bad = [lb.key for lb in labels if lb.category not in CATEGORIES]
        if bad:
            raise ValueError(f"{source}: unknown category for {', '.join(bad)}")
        return cls(labels, states, dict(data.get("coding_schemes", {})))


def _label(data: dict[str, Any], category: str | None = None) -> Label:
    code = data.get("code")
    return Label(
        key=str(data["key"]),
        meaning=str(data["meaning"]),
        category=category or str(data["category"]),
        color=str(data.get("color", DEFAULT_COLOR)),
        code=Code.from_dict(code) if code else None,
    )


@cache
def default_vocabulary() -> Vocabulary:
    """The shipped vocabulary, loaded once."""
    return Vocabulary.load()
