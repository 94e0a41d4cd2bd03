"""Window-wide actions: a menu or toolbar entry with its icon, shortcut and slot."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from spineviewer.gui.icons import icon


def make_action(
    owner: QWidget,
    text: str,
    slot: Callable[[], object],
    shortcut: str | None = None,
    icon_name: str | None = None,
    checkable: bool = False,
    global_shortcut: bool = True,
) -> QAction:
    """An action of ``owner`` (its shortcut works anywhere in it): ``slot`` runs when it is
    triggered. ``global_shortcut=False`` leaves the key to the widget that has the focus (the
    viewport handles it itself; menus still show it)."""
    action = QAction(text, owner)
    if icon_name:
        action.setIcon(icon(icon_name))
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        if not global_shortcut:
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    action.setCheckable(checkable)
    action.triggered.connect(lambda *_: slot())
    owner.addAction(action)
    return action


__all__ = ["make_action"]
