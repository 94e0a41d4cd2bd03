"""The reader's impression of a study: the conclusion in their own words.

One per study, kept in the study's annotation document
(:attr:`~spineviewer.annotations.document.AnnotationDocument.impression`, saved in
``annotations.json`` under ``impression``; a document without it reads as having none) and
changed only through the undo stack (:mod:`.impression_edits`), so it is undone, redone,
autosaved and merged (as one document field: :mod:`.merge`) like any mark.

Every report format shows it: HTML and PDF under "Impression", the JSON as ``impression``,
the findings SR as a TEXT item (121073, DCM, "Impression"). It is free text and may name a
person, so an anonymised report gives it as ``[removed]``, like the annotations' notes,
unless the annotations' text is kept (:mod:`.deidentify`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spineviewer.annotations.annotation import default_author, now_iso

__all__ = ["Impression", "impression_text"]


def impression_text(text: str) -> str:
    """``text`` as an impression keeps it: line ends made ``\\n``, trailing blanks of each line
    and blank lines at either end dropped (what the reader typed, otherwise as written)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


@dataclass(frozen=True)
class Impression:
    """The impression's text, who wrote it last and when (ISO 8601)."""

    text: str
    author: str = field(default_factory=default_author)
    created: str = field(default_factory=now_iso)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not impression_text(self.text):
            raise ValueError("an impression needs some text")

    def __str__(self) -> str:
        """How a merge conflict's notice names it: its start, quoted, and its author."""
        first = self.text.split("\n", 1)[0]
        short = first if len(first) <= 40 and first == self.text else f"{first[:40]}..."
        return f"{short!r}" + (f" (by {self.author})" if self.author else "")

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "author": self.author, "created": self.created}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Impression:
        """Inverse of :meth:`to_dict` (KeyError / TypeError / ValueError when malformed)."""
        values = {key: data[key] for key in ("text", "author", "created")}
        for key, value in values.items():
            if not isinstance(value, str):
                raise TypeError(f"impression {key} is not a string")
        return cls(**values)
