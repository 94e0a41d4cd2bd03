"""Where a phantom study goes inside the output folder (one rule for every kind)."""

from __future__ import annotations

__all__ = ["study_folder_name"]


def study_folder_name(kind: str, seed: int) -> str:
    """``<kind>-<seed:05d>``, the folder of one study inside the output folder."""
    return f"{kind}-{seed:05d}"
