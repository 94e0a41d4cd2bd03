"""Graphical user interface: the only package that imports Qt (PySide6, pyqtgraph)."""
