"""What a viewport shows, without Qt: slice sources, MPR reformats, window presets, hanging.

The GUI asks these objects for pixel values, planes and texts; it holds no DICOM or geometry
logic itself, and everything here is testable without a display.
"""

from spineviewer.viewing.source import SliceInfo, SliceSource, StackListSource

__all__ = ["SliceInfo", "SliceSource", "StackListSource"]
