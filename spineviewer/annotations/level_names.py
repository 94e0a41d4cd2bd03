"""Vertebra level names: their order, auto-increment, and shifting a study's labels by one level.

No Qt: the labelling tool (``spineviewer.gui.annotate.labelling``) and the undoable "shift all
labels" command (:func:`spineviewer.annotations.commands.shift_levels`) use these rules.

The column is :data:`spineviewer.geometry.levels.COLUMN` (C1..C7, T1..T12, L1..L5, the
transitional L6, S1). A study has five lumbar vertebrae unless it says otherwise: its labels
name L6, or the reader asks for six (:func:`column`).

Shifting (:func:`shift_mapping`) renames every level by one step, ``-1`` up towards the head
(L3 -> L2: the fix when the sacrum is out of view and the bottom body was taken for S1) or
``+1`` down (L3 -> L4). Down, an S1 among the labels stays S1 and the body above it becomes L6
(six lumbar vertebrae: the sacrum, recognisable by its shape, anchors the count). A disc level
``"L4-L5"`` follows its two bodies (:func:`shifted_label`). A shift that would push a label off
the column, or give two bodies one name, is refused with a :class:`ShiftError` that says which.
"""

from __future__ import annotations

from collections.abc import Iterable

from spineviewer.geometry.levels import COLUMN, disc_level

__all__ = [
    "DOWN",
    "UP",
    "ShiftError",
    "column",
    "disc_parts",
    "is_level",
    "level_index",
    "next_level",
    "shift_mapping",
    "shifted_label",
    "step_name",
]

#: Shift directions: towards the head (L3 -> L2) and towards the sacrum (L3 -> L4).
UP = -1
DOWN = 1


class ShiftError(ValueError):
    """A shift of the labels that cannot be done (names the label and why)."""


def column(six_lumbar: bool = False) -> tuple[str, ...]:
    """The vertebrae from the top, with L6 only when ``six_lumbar``."""
    return COLUMN if six_lumbar else tuple(v for v in COLUMN if v != "L6")


def is_level(label: str) -> bool:
    """True for a vertebra of the column (``"L3"``; not ``"sacrum"``, not a disc)."""
    return label in COLUMN


def level_index(label: str) -> int:
    """Position of a vertebra in :data:`COLUMN` (0 for C1; ValueError for other labels)."""
    return COLUMN.index(label)


def disc_parts(label: str) -> tuple[str, str] | None:
    """``"L4-L5"`` -> ``("L4", "L5")``; None when ``label`` is not a disc between two levels."""
    upper, dash, lower = label.partition("-")
    return (upper, lower) if dash and is_level(upper) and is_level(lower) else None


def next_level(level: str, step: int = DOWN, six_lumbar: bool = False) -> str | None:
    """The level ``step`` places below ``level`` (above for a negative step); None past the
    end of the column or for a label that is not a level."""
    order = column(six_lumbar or level == "L6")
    if level not in order:
        return None
    at = order.index(level) + step
    return order[at] if 0 <= at < len(order) else None


def step_name(step: int) -> str:
    """ "up" or "down" (menu texts, undo texts)."""
    return "up" if step < 0 else "down"


def shift_mapping(labels: Iterable[str], step: int) -> dict[str, str]:
    """Old -> new name of every level named in ``labels`` (vertebrae and both ends of disc
    levels) when all move ``step`` (:data:`UP` or :data:`DOWN`) levels.

    Raises ShiftError naming the label when one would leave the column or two would share a
    name.
    """
    if step not in (UP, DOWN):
        raise ValueError(f"labels shift by one level up ({UP}) or down ({DOWN}), not {step}")
    levels: set[str] = set()
    for label in labels:
        if is_level(label):
            levels.add(label)
        elif (parts := disc_parts(label)) is not None:
            levels.update(parts)
    anchored = step == DOWN and "S1" in levels
    order = column(six_lumbar="L6" in levels or anchored)
    mapping: dict[str, str] = {}
    for level in sorted(levels, key=level_index):
        if anchored and level == "S1":
            mapping[level] = level
            continue
        at = order.index(level) + step
        if not 0 <= at < len(order):
            edge = "top" if step == UP else "bottom"
            way = step_name(step)
            raise ShiftError(f"{level} is at the {edge} of the column: it cannot go {way}")
        mapping[level] = order[at]
    taken: dict[str, str] = {}
    for old, new in mapping.items():
        if new in taken:
            raise ShiftError(
                f"{taken[new]} and {old} would both become {new}: relabel those bodies by hand"
            )
        taken[new] = old
    return mapping


def shifted_label(label: str, mapping: dict[str, str]) -> str:
    """``label`` renamed by ``mapping`` (a vertebra, or a disc level by its two bodies); other
    labels (implants, "sacrum", free text) unchanged."""
    if label in mapping:
        return mapping[label]
    parts = disc_parts(label)
    if parts is not None and parts[0] in mapping and parts[1] in mapping:
        return disc_level(mapping[parts[0]], mapping[parts[1]])
    return label
