"""napari on a DICOM folder, as a new user would script it (no napari plugin reads a folder of
DICOM slices): read every file with pydicom, sort by InstanceNumber, stack, show.

    python napari_dicom.py FOLDER   (with the napari virtual environment's python)
"""

import sys
from pathlib import Path

import napari
import numpy as np
import pydicom

files = [pydicom.dcmread(p) for p in sorted(Path(sys.argv[1]).glob("*.dcm"))]
files.sort(key=lambda ds: int(ds.InstanceNumber))
volume = np.stack([ds.pixel_array for ds in files])
viewer = napari.Viewer()
viewer.add_image(volume, name=Path(sys.argv[1]).name)
napari.run()
