"""How an image is fitted to its pane when it opens, on F / Space, and when the pane changes
shape (until the reader zooms or pans), without Qt.

Every image keeps its physical aspect ratio (square millimetres stay square) and is centred.
An acquired image is shown whole: the side that limits the fit fills the pane. A reformat of a
CT or 3D volume is nearly square (a lumbar CT: 200 mm across, 215 mm deep), so in the tall
panes of the 1x3 reformat layout the whole image filled the pane's width and left more than
half of its height empty. A reformat is therefore zoomed further, towards filling the pane's
long side, as far as :data:`REFORMAT_MIN_SHOWN` of it stays in view across the short side
The part kept is centred on the bone in the shown CT slice (:func:`bone_centre`: a sagittal
reformat keeps the spine, which lies behind the middle, rather than the front of the abdomen),
else on the image's centre.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BONE_HU", "REFORMAT_MIN_SHOWN", "bone_centre", "fit_range"]

#: A reformat may lose at most this share of its extent across the pane's short side, half on
#: each side, to fill more of a pane much taller or wider than itself.
REFORMAT_MIN_SHOWN = 0.7

#: CT values at least this high (HU) are bone, for :func:`bone_centre`.
BONE_HU = 200.0

Range = tuple[float, float]


def bone_centre(values: np.ndarray, modality: str) -> tuple[float, float] | None:
    """The (row, col) centre of the bone in a CT slice of ``values`` (HU): the middle of the
    2nd to 98th percentile of its rows and of its columns; None for other modalities or a slice
    without bone."""
    if modality.upper() != "CT" or values.ndim != 2:
        return None
    rows, cols = np.nonzero(values >= BONE_HU)
    if rows.size < 20:
        return None
    r0, r1 = np.percentile(rows, (2, 98))
    c0, c1 = np.percentile(cols, (2, 98))
    return float(r0 + r1) / 2.0, float(c0 + c1) / 2.0


def fit_range(
    image_w: float,
    image_h: float,
    pane_w: float,
    pane_h: float,
    min_shown: float = 1.0,
    focus: tuple[float, float] | None = None,
    padding: float = 0.02,
) -> tuple[Range, Range]:
    """The (x, y) view ranges that show an ``image_w`` x ``image_h`` image (view units, the
    same scale on both axes) centred in a ``pane_w`` x ``pane_h`` pane (pixels), aspect kept:
    the whole image with ``min_shown`` 1; with less, zoomed to fill the pane's long side as
    far as ``min_shown`` of the image stays in view across its short side, the part kept
    centred on ``focus`` (x, y; default the image's centre) as far as the image reaches. A
    side shown whole gets a margin of ``padding`` of its length at each end, a cut one none
    (the image runs to the pane's edge)."""
    if min(image_w, image_h, pane_w, pane_h) <= 0:
        return (0.0, max(image_w, 0.0)), (0.0, max(image_h, 0.0))  # nothing to fit yet
    whole = min(pane_w / image_w, pane_h / image_h)  # the limiting side fills the pane
    filled = max(pane_w / image_w, pane_h / image_h)  # both sides fill it (one cut)
    scale = min(filled, whole / min(1.0, max(min_shown, 1e-3)))
    shown_w = min(image_w, pane_w / scale)
    shown_h = min(image_h, pane_h / scale)
    fx, fy = focus if focus is not None else (image_w / 2.0, image_h / 2.0)
    cx = min(max(fx, shown_w / 2.0), image_w - shown_w / 2.0)
    cy = min(max(fy, shown_h / 2.0), image_h - shown_h / 2.0)
    half_w = shown_w / 2.0 + (padding * image_w if shown_w >= image_w else 0.0)
    half_h = shown_h / 2.0 + (padding * image_h if shown_h >= image_h else 0.0)
    return (cx - half_w, cx + half_w), (cy - half_h, cy + half_h)
