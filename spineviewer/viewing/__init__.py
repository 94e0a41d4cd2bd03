"""What a viewport shows, without Qt: slice sources, MPR reformats, window presets, hanging,
and the evented state of each viewport (:class:`ViewportModel`, linked by
:class:`ViewportLinks`).

The GUI asks these objects for pixel values, planes and texts; it holds no DICOM or geometry
logic itself, and everything here is testable without a display.
"""

from spineviewer.viewing.source import SliceInfo, SliceSource, StackListSource
from spineviewer.viewing.viewport_links import ViewportLinks
from spineviewer.viewing.viewport_model import ViewportModel

__all__ = ["SliceInfo", "SliceSource", "StackListSource", "ViewportLinks", "ViewportModel"]
