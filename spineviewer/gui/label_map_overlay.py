"""Painting a label map over the viewports: a coloured image item under the marks and lines.

Each viewport gets one pyqtgraph ImageItem above the slice (below the cross-reference lines,
the annotations and the text): the labels its current plane crosses
(:meth:`~spineviewer.viewing.label_layer.SeriesLabelMap.on_plane`, the same on acquired
slices, reformats and the other series of the frame), coloured per label, filled or outlined
(:func:`~spineviewer.viewing.label_layer.rgba`), turned and flipped as the slice is. It follows
the slice, the display transform and the source of its viewport. Visibility and opacity are
the "Label map" layer's (the Layers box of the Findings panel), read on every paint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPainter

from spineviewer.gui.annotate.layers import LayerStyles
from spineviewer.gui.viewport import ImageViewport
from spineviewer.viewing.label_layer import (
    LabelImage,
    SeriesLabelMap,
    colour_table,
    rgba,
)

__all__ = ["LAYER", "Z_VALUE", "LabelMapOverlay"]

#: The layer (:data:`spineviewer.gui.annotate.layers.LAYERS`) whose check box and slider
#: show, hide and fade the label map.
LAYER = "Label map"
#: Above the slice (0), below the dimmed cross-reference lines (5 and 10).
Z_VALUE = 2


class LabelMapOverlay:
    """The label map on every viewport of ``viewports``."""

    def __init__(self, viewports: Sequence[ImageViewport], layers: LayerStyles) -> None:
        self.layers = layers
        self.label_map: SeriesLabelMap | None = None
        self.outline_only = False
        self._table = np.zeros((1, 4), dtype=np.uint8)
        self._items: dict[ImageViewport, pg.ImageItem] = {}
        #: The label image each viewport shows now (None: nothing).
        self._shown: dict[ImageViewport, LabelImage | None] = {}
        for vp in viewports:
            item = pg.ImageItem()
            item.setZValue(Z_VALUE)
            item.hide()
            vp.vb.addItem(item, ignoreBounds=True)
            self._items[vp] = item
            vp.sliceChanged.connect(lambda _i, vp=vp: self.refresh(vp))
            vp.model.events.transform.connect(lambda *_a, vp=vp: self.refresh(vp))
            vp.model.events.source.connect(lambda _s, vp=vp: self.refresh(vp))
            vp.overlays.insert(0, self._follow_layer)

    # -- what is shown ---------------------------------------------------------------------

    def set_label_map(self, label_map: SeriesLabelMap | None) -> None:
        """Show ``label_map`` (None: none) on every viewport."""
        self.label_map = label_map
        self._table = (
            colour_table(label_map.values) if label_map is not None else np.zeros((1, 4), np.uint8)
        )
        self.refresh_all()

    def set_outline(self, outline_only: bool) -> None:
        """Outline the labels (True) or fill them (False)."""
        self.outline_only = outline_only
        self.refresh_all()

    def refresh_all(self) -> None:
        for vp in self._items:
            self.refresh(vp)

    def labels_on(self, vp: ImageViewport) -> LabelImage | None:
        """The label image on ``vp``'s current slice (image rows and columns, before the
        display transform); None when the map does not reach it."""
        label_map, info, values = self.label_map, vp.info, vp.values
        if label_map is None or info is None or info.plane is None or values is None:
            return None
        source = vp.source
        if source is None or source.frame_of_reference_uid != label_map.frame_of_reference_uid:
            return None
        image = label_map.on_plane(info.plane, values.shape[:2])
        return image if image.any() else None

    def shown(self, vp: ImageViewport) -> LabelImage | None:
        """The label image ``vp`` shows now (None: none)."""
        return self._shown.get(vp)

    def refresh(self, vp: ImageViewport) -> None:
        """Redo ``vp``'s label image for its slice, transform and the style."""
        item = self._items[vp]
        image = self.labels_on(vp) if vp.source is not None else None
        self._shown[vp] = image
        if image is None:
            item.hide()
            vp.repaint_overlays()
            return
        colours = rgba(image, self._table, outline_only=self.outline_only)
        shown = np.ascontiguousarray(vp.transform_.apply(colours))
        item.setImage(shown, autoLevels=False, levels=None)
        item.setRect(0.0, 0.0, *vp.transform_.view_size)
        item.setOpacity(self.layers.opacity(LAYER))
        item.show()
        vp.repaint_overlays()

    def _follow_layer(self, vp: ImageViewport, _painter: QPainter) -> None:
        """On every paint: the layer's opacity (0 hides it), set where the slider changed it."""
        item = self._items.get(vp)
        if item is None or self._shown.get(vp) is None:
            return
        opacity = self.layers.opacity(LAYER)
        if abs(item.opacity() - opacity) > 1e-6:
            item.setOpacity(opacity)
        visible = opacity > 0
        if item.isVisible() != visible:
            item.setVisible(visible)
