"""The viewport area: up to four viewports in a 1x1, 1x2, 1x3 or 2x2 grid, one maximised."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from spineviewer.gui.viewport import ImageViewport

LAYOUTS: dict[str, tuple[int, int]] = {"1x1": (1, 1), "1x2": (1, 2), "1x3": (1, 3), "2x2": (2, 2)}
MAX_VIEWPORTS = 4


def layout_name(shape: tuple[int, int]) -> str:
    """The name of a (rows, cols) layout, e.g. '1x2'."""
    for name, value in LAYOUTS.items():
        if value == shape:
            return name
    raise ValueError(f"layout {shape} not offered; choose one of {sorted(LAYOUTS)}")


class ViewportGrid(QWidget):
    """Holds the viewports, lays them out, tracks the active one, maximises on double-click."""

    activeChanged = Signal(object)
    layoutChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.viewports = [
            ImageViewport(self, name=f"viewport{i + 1}") for i in range(MAX_VIEWPORTS)
        ]
        self.layout_ = "1x1"
        self.maximised: ImageViewport | None = None
        self.active = self.viewports[0]
        for vp in self.viewports:
            vp.activated.connect(lambda vp=vp: self.set_active(vp))
            vp.doubleClicked.connect(lambda vp=vp: self.toggle_maximised(vp))
            vp.nextViewportRequested.connect(self.activate_next)
        self.set_layout("1x1")
        self.set_active(self.viewports[0])

    def visible_viewports(self) -> list[ImageViewport]:
        """Viewports of the current layout, in reading order."""
        rows, cols = LAYOUTS[self.layout_]
        return self.viewports[: rows * cols]

    def set_layout(self, name: str) -> None:
        """Switch to layout ``name`` ('1x1', '1x2', '1x3', '2x2')."""
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; choose one of {sorted(LAYOUTS)}")
        self.layout_ = name
        self.maximised = None
        self._arrange()
        if self.active not in self.visible_viewports():
            self.set_active(self.viewports[0])
        self.layoutChanged.emit(name)

    def _arrange(self) -> None:
        for vp in self.viewports:
            self._grid.removeWidget(vp)
            vp.hide()
        # Maximised, the one viewport is laid out as 1x1: the layout's stretches on the
        # emptied rows and columns would otherwise keep it a third or half of the area.
        rows, cols = (1, 1) if self.maximised is not None else LAYOUTS[self.layout_]
        shown = [self.maximised] if self.maximised is not None else self.visible_viewports()
        for i, vp in enumerate(shown):
            r, c = divmod(i, cols)
            self._grid.addWidget(vp, r, c)
            vp.show()
        for r in range(2):
            self._grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(3):
            self._grid.setColumnStretch(c, 1 if c < cols else 0)

    def toggle_maximised(self, vp: ImageViewport) -> None:
        """Show ``vp`` alone, or restore the layout when it already is."""
        self.maximised = None if self.maximised is vp else vp
        self._arrange()
        self._grid.activate()  # the new geometry now, so that fit() fills the new pane
        self.set_active(vp)
        for v in self.viewports:
            if v.isVisible():
                v.fit()

    def set_active(self, vp: ImageViewport) -> None:
        """Make ``vp`` the viewport keys and toolbar act on."""
        changed = vp is not self.active
        self.active = vp
        for v in self.viewports:
            v.set_active(v is vp)
        if changed:
            self.activeChanged.emit(vp)

    def activate_next(self) -> None:
        """Tab: the next visible viewport becomes active."""
        shown = self.visible_viewports()
        i = shown.index(self.active) if self.active in shown else -1
        nxt = shown[(i + 1) % len(shown)]
        nxt.setFocus()
        self.set_active(nxt)
