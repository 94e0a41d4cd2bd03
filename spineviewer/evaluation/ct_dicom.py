"""Writing the lumbar CT studies as DICOM CT Image Storage files.

The attributes shared with MR (identifiers, patient, study, exact geometry, the pixel module)
come from :func:`spineviewer.evaluation.dicom_file.common_dataset`; this adds the CT image
module: ImageType AXIAL, RescaleIntercept (the maker's) and RescaleSlope 1 in HU, KVP, tube
current and exposure, the kernel, no gantry tilt, the reconstruction diameter, and a bone and a
soft-tissue window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.uid import CTImageStorage

from spineviewer.evaluation.ct_protocol import CtProtocol
from spineviewer.evaluation.dicom_file import StudyIds, common_dataset, save

__all__ = ["write_ct_image"]


def write_ct_image(
    path: Path,
    ids: StudyIds,
    protocol: CtProtocol,
    series_uid: str,
    sop_uid: str,
    instance_number: int,
    slice_index: int,
    pixels: NDArray[np.uint16],
) -> None:
    """Write slice ``slice_index`` of the protocol's stack (stored values, 12 bits)."""
    geometry = protocol.geometry
    ds = common_dataset(
        ids,
        CTImageStorage,
        sop_uid,
        protocol.description,
        1,
        series_uid,
        instance_number,
        geometry,
        slice_index,
        pixels,
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.RescaleIntercept = f"{protocol.rescale_intercept:.0f}"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.KVP = str(protocol.kvp)
    ds.XRayTubeCurrent = 250
    ds.ExposureTime = 1000
    ds.ConvolutionKernel = protocol.kernel_name
    ds.GantryDetectorTilt = "0"
    ds.ReconstructionDiameter = f"{geometry.spacing[1] * geometry.shape[1]:.2f}"
    ds.WindowCenter = ["500", "40"]
    ds.WindowWidth = ["2000", "400"]
    ds.WindowCenterWidthExplanation = ["BONE", "SOFT TISSUE"]
    save(ds, path)
