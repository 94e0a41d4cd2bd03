"""DICOM input: find files, group studies/series/stacks, order slices, decode pixels, volumes.

No Qt here. Typical use::

    result = scan("study_folder")            # header-only, fast
    stack = result.stacks()[0]
    pixels = StackPixels(stack)
    first = pixels.slice(len(stack) // 2)    # one slice, before the series is decoded
    volume = pixels.volume()                 # the whole stack, array + affine
"""

from spineviewer.dicom.cache import SHARED_CACHE, FrameCache
from spineviewer.dicom.display import Window, apply_window, default_window, to_display
from spineviewer.dicom.errors import DicomLoadError, SkippedFile, SpineViewerWarning
from spineviewer.dicom.header import Frame, Instance
from spineviewer.dicom.loader import LoadCancelled, StackPixels, load_volume
from spineviewer.dicom.scan import ScanCancelled, first_image, scan
from spineviewer.dicom.sources import FileRef
from spineviewer.dicom.study_tree import ScanResult, Series, Stack, Study
from spineviewer.dicom.volume import Volume, read_nifti

__all__ = [
    "SHARED_CACHE",
    "DicomLoadError",
    "FileRef",
    "Frame",
    "FrameCache",
    "Instance",
    "LoadCancelled",
    "ScanCancelled",
    "ScanResult",
    "Series",
    "SkippedFile",
    "SpineViewerWarning",
    "Stack",
    "StackPixels",
    "Study",
    "Volume",
    "Window",
    "apply_window",
    "default_window",
    "first_image",
    "load_volume",
    "read_nifti",
    "scan",
    "to_display",
]
