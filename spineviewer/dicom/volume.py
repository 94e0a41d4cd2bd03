"""``Volume``: a 3D array plus a 4x4 affine (index (k, j, i) -> patient LPS mm).

SimpleITK is imported only inside the conversions, so the rest of the package works without
it being loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import SimpleITK


@dataclass(frozen=True)
class Volume:
    """Voxels and where they are in the patient.

    Attributes
    ----------
    array
        Values after the modality LUT, shape (slices k, rows j, columns i).
    affine
        4x4 matrix mapping homogeneous index (k, j, i, 1) to patient (x, y, z, 1) in LPS mm.
    frame_of_reference_uid
        The patient coordinate system the affine refers to ("" when unknown).
    positions
        ImagePositionPatient of every slice, shape (k, 3); the affine uses the mean step.
    """

    array: np.ndarray
    affine: np.ndarray
    frame_of_reference_uid: str = ""
    positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"volume array must be 3D (k, j, i), got shape {self.array.shape}")
        if self.affine.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got {self.affine.shape}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(slices, rows, columns)."""
        k, j, i = self.array.shape
        return k, j, i

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size along (k, j, i) in mm."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(norms[0]), float(norms[1]), float(norms[2])

    @property
    def origin(self) -> np.ndarray:
        """Patient position of voxel (0, 0, 0)."""
        return self.affine[:3, 3].copy()

    def index_to_patient(self, kji: np.ndarray) -> np.ndarray:
        """Patient positions (..., 3) of (fractional) indices (..., 3) in (k, j, i) order."""
        kji = np.asarray(kji, dtype=np.float64)
        return kji @ self.affine[:3, :3].T + self.affine[:3, 3]

    def patient_to_index(self, xyz: np.ndarray) -> np.ndarray:
        """(k, j, i) indices (fractional) of patient positions (..., 3)."""
        inverse = np.linalg.inv(self.affine)
        xyz = np.asarray(xyz, dtype=np.float64)
        return xyz @ inverse[:3, :3].T + inverse[:3, 3]

    # -- SimpleITK / NIfTI -------------------------------------------------------------------

    def to_sitk(self) -> SimpleITK.Image:
        """SimpleITK image with the same voxels, spacing, origin and direction."""
        import SimpleITK as sitk

        image = sitk.GetImageFromArray(np.ascontiguousarray(self.array))
        k_axis, j_axis, i_axis = (self.affine[:3, n] for n in range(3))
        spacing = self.spacing
        image.SetSpacing((spacing[2], spacing[1], spacing[0]))
        image.SetOrigin(tuple(float(v) for v in self.affine[:3, 3]))
        direction = np.column_stack([i_axis / spacing[2], j_axis / spacing[1], k_axis / spacing[0]])
        image.SetDirection(tuple(float(v) for v in direction.ravel()))
        return image

    @classmethod
    def from_sitk(cls, image: SimpleITK.Image, frame_of_reference_uid: str = "") -> Volume:
        """Volume from a 3D SimpleITK image (LPS, as SimpleITK always is)."""
        import SimpleITK as sitk

        if image.GetDimension() != 3:
            raise ValueError(f"need a 3D image, got {image.GetDimension()}D")
        array = sitk.GetArrayFromImage(image)
        sx, sy, sz = image.GetSpacing()
        direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
        affine = np.eye(4)
        affine[:3, 0] = direction[:, 2] * sz
        affine[:3, 1] = direction[:, 1] * sy
        affine[:3, 2] = direction[:, 0] * sx
        affine[:3, 3] = image.GetOrigin()
        positions = affine[:3, 3] + np.outer(np.arange(array.shape[0]), affine[:3, 0])
        return cls(array, affine, frame_of_reference_uid, positions)


def read_nifti(path: str | os.PathLike[str]) -> Volume:
    """Read a NIfTI (or any SimpleITK-readable) volume; coordinates come back in LPS."""
    import SimpleITK as sitk

    return Volume.from_sitk(sitk.ReadImage(os.fspath(path)))


def stack_affine(
    first_position: np.ndarray,
    orientation: tuple[float, ...],
    pixel_spacing: tuple[float, float],
    positions: np.ndarray,
    fallback_thickness: float | None,
) -> np.ndarray:
    """Affine (k, j, i) -> LPS of a sorted stack, stepping by the mean slice step."""
    row = np.asarray(orientation[:3], dtype=np.float64)
    col = np.asarray(orientation[3:6], dtype=np.float64)
    dr, dc = pixel_spacing
    if len(positions) > 1:
        step = (positions[-1] - positions[0]) / (len(positions) - 1)
    else:
        step = np.cross(row, col) * (fallback_thickness or 1.0)
    affine = np.eye(4)
    affine[:3, 0] = step
    affine[:3, 1] = col * dr
    affine[:3, 2] = row * dc
    affine[:3, 3] = first_position
    return affine
