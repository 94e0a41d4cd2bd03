"""How an image is fitted to its pane when it opens, on F / Space, and when the pane changes
shape (until the reader zooms or pans), without Qt.

Every image keeps its physical aspect ratio (square millimetres stay square) and is centred.
An acquired image is shown whole: the side that limits the fit fills the pane. A reformat of a
CT or 3D volume is nearly square (a lumbar CT: 200 mm across, 215 mm deep), so in the tall
panes of the 1x3 reformat layout the whole image filled the pane's width and left more than
half of its height empty. A reformat is therefore zoomed further, towards filling the pane's
long side, as far as :data:`REFORMAT_MIN_SHOWN` of it stays in view across the short side
(the edges cut are the front of the abdomen or the flanks; the spine is in the middle).
"""

from __future__ import annotations

__all__ = ["REFORMAT_MIN_SHOWN", "fit_range"]

#: A reformat may lose at most this share of its extent across the pane's short side, half on
#: each side, to fill more of a pane much taller or wider than itself.
REFORMAT_MIN_SHOWN = 0.7

Range = tuple[float, float]


def fit_range(
    image_w: float, image_h: float, pane_w: float, pane_h: float, min_shown: float = 1.0
) -> tuple[Range, Range]:
    """The (x, y) view ranges that show an ``image_w`` x ``image_h`` image (view units, the
    same scale on both axes) centred in a ``pane_w`` x ``pane_h`` pane (pixels), aspect kept:
    the whole image with ``min_shown`` 1; with less, zoomed to fill the pane's long side as
    far as ``min_shown`` of the image stays in view across its short side."""
    if min(image_w, image_h, pane_w, pane_h) <= 0:
        return (0.0, max(image_w, 0.0)), (0.0, max(image_h, 0.0))
    whole = min(pane_w / image_w, pane_h / image_h)  # the limiting side fills the pane
    filled = max(pane_w / image_w, pane_h / image_h)  # both sides fill it (one cut)
    scale = min(filled, whole / min(1.0, max(min_shown, 1e-3)))
    shown_w = min(image_w, pane_w / scale)
    shown_h = min(image_h, pane_h / scale)
    cx, cy = image_w / 2.0, image_h / 2.0
    return (cx - shown_w / 2.0, cx + shown_w / 2.0), (cy - shown_h / 2.0, cy + shown_h / 2.0)
