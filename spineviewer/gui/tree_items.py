"""Walking a QTreeWidget's items without the ``None`` its index look-ups may return."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidgetItem


def child_items(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    """The children of ``item`` in order (a tree's top-level items are the children of its
    ``invisibleRootItem()``)."""
    return [c for i in range(item.childCount()) if (c := item.child(i)) is not None]
