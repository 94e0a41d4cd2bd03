"""The label map as a viewer layer: its labels on acquired, reformatted and oblique planes."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.ai.manifest_model import ModelLabel
from spineviewer.dicom import Volume
from spineviewer.geometry import Plane
from spineviewer.viewing.label_layer import (
    FILL_ALPHA,
    SeriesLabelMap,
    colour_table,
    grid_plane,
    labels_present,
    on_grid,
    outline,
    rgba,
)
from spineviewer.viewing.mpr import MprSource

RADIUS_MM = 15.0
SPHERE = 3
VALUES = {SPHERE: ModelLabel("L3", "L3 vertebra", "#f9c74f"), 5: ModelLabel("L5", "L5", "#43aa8b")}


def sphere_map() -> tuple[SeriesLabelMap, np.ndarray]:
    """An axial grid (k up the patient, 2 mm; j posterior, i left, 0.8 mm) with a sphere of
    radius 15 mm labelled 3 around ``centre``."""
    affine = np.eye(4)
    affine[:3, 0] = (0.0, 0.0, 2.0)
    affine[:3, 1] = (0.0, 0.8, 0.0)
    affine[:3, 2] = (0.8, 0.0, 0.0)
    affine[:3, 3] = (-40.0, -30.0, 100.0)
    shape = (30, 90, 100)
    k, j, i = np.indices(shape)
    xyz = np.stack([k, j, i], axis=-1) @ affine[:3, :3].T + affine[:3, 3]
    centre = np.array([0.5, 6.1, 129.3])
    labels = np.zeros(shape, dtype=np.uint8)
    labels[np.linalg.norm(xyz - centre, axis=-1) <= RADIUS_MM] = SPHERE
    return SeriesLabelMap(labels, affine, VALUES, "1.2.3", "1.2.3.4", "seg-model", "1.0"), centre


def disc(image: np.ndarray, plane: Plane, value: int = SPHERE) -> tuple[float, np.ndarray]:
    """Equivalent radius (mm) of the value's pixels and their centroid (patient mm)."""
    rows, cols = np.nonzero(image == value)
    area = len(rows) * plane.spacing[0] * plane.spacing[1]
    return float(np.sqrt(area / np.pi)), plane.to_patient(rows.mean(), cols.mean())


def test_the_series_own_slices_are_the_map_itself():
    label_map, _ = sphere_map()
    for k in (0, 14, 15, 29):
        plane = grid_plane(label_map.affine, k, label_map.labels.shape[1:])
        np.testing.assert_array_equal(label_map.on_plane(plane), label_map.labels[k])


@pytest.mark.parametrize("view", ["axial", "sagittal", "coronal"])
def test_a_sphere_is_a_disc_of_its_radius_on_every_reformat(view: str):
    label_map, centre = sphere_map()
    volume = Volume(np.zeros(label_map.labels.shape, np.int16), label_map.affine, "1.2.3")
    source = MprSource(volume, view)
    # the reformatted slice through the sphere's centre, and one 9 mm off it
    index = min(range(len(source)), key=lambda n: abs(source.info(n).plane.distance(centre)))
    plane = source.info(index).plane
    image = label_map.on_plane(plane)
    assert image.shape == source.values(index).shape
    off = float(plane.distance(centre))
    radius, middle = disc(image, plane)
    assert radius == pytest.approx(np.sqrt(RADIUS_MM**2 - off**2), abs=0.6)
    np.testing.assert_allclose(middle, centre - off * plane.normal, atol=0.5)
    # a slice about 9 mm from the centre: a smaller disc
    near9 = min(
        range(len(source)), key=lambda n: abs(abs(source.info(n).plane.distance(centre)) - 9)
    )
    other = source.info(near9).plane
    d2 = float(other.distance(centre))
    r2, _ = disc(label_map.on_plane(other), other)
    assert r2 == pytest.approx(np.sqrt(RADIUS_MM**2 - d2**2), abs=1.0)


def test_an_oblique_plane_shows_the_disc_where_it_cuts_the_sphere():
    label_map, centre = sphere_map()
    row = np.array([1.0, 1.0, 0.3])
    row /= np.linalg.norm(row)
    col = np.cross(row, [0.2, -0.3, 1.0])
    col /= np.linalg.norm(col)
    for offset in (0.0, 7.0):
        normal = np.cross(row, col)
        origin = centre + offset * normal - 60 * 0.5 * row - 60 * 0.5 * col
        plane = Plane(origin, row, col, (0.5, 0.5), (120, 120))
        radius, middle = disc(label_map.on_plane(plane), plane)
        assert radius == pytest.approx(np.sqrt(RADIUS_MM**2 - offset**2), abs=0.6)
        np.testing.assert_allclose(middle, centre + offset * normal, atol=0.5)


def test_a_plane_beside_the_map_shows_nothing():
    label_map, centre = sphere_map()
    plane = Plane(centre + np.array([0, 0, 80.0]), (1, 0, 0), (0, 1, 0), (1.0, 1.0), (50, 50))
    assert not label_map.crosses(plane)
    assert not label_map.on_plane(plane).any()
    # inside the box but away from the sphere: crossed, no label
    plane = Plane(centre + np.array([0, 0, 20.0]), (1, 0, 0), (0, 1, 0), (1.0, 1.0), (50, 50))
    assert label_map.crosses(plane)
    assert labels_present(label_map.on_plane(plane)) == []


def test_another_grid_of_the_frame_gets_the_same_labels_reversed():
    """A NIfTI's slices in the other order (the phantom's labels.nii.gz) is the same map."""
    label_map, _ = sphere_map()
    flipped = label_map.affine.copy()
    n = label_map.labels.shape[0]
    flipped[:3, 3] = label_map.affine[:3, 0] * (n - 1) + label_map.affine[:3, 3]
    flipped[:3, 0] = -label_map.affine[:3, 0]
    np.testing.assert_array_equal(
        on_grid(label_map, flipped, label_map.labels.shape), label_map.labels[::-1]
    )


def test_volume_of_a_voxel_and_spacing():
    label_map, _ = sphere_map()
    assert label_map.spacing == pytest.approx((2.0, 0.8, 0.8))
    assert label_map.voxel_mm3 == pytest.approx(2.0 * 0.8 * 0.8)


def test_colours_fill_and_outline():
    image = np.zeros((7, 7), dtype=np.uint8)
    image[1:6, 1:6] = SPHERE
    image[3, 3] = 5
    table = colour_table(VALUES)
    filled = rgba(image, table, opacity=0.8)
    assert tuple(filled[2, 2, :3]) == (0xF9, 0xC7, 0x4F)
    assert filled[2, 2, 3] == round(255 * 0.8 * FILL_ALPHA)
    assert tuple(filled[3, 3, :3]) == (0x43, 0xAA, 0x8B)
    assert filled[0, 0, 3] == 0
    lines = rgba(image, table, outline_only=True, opacity=1.0)
    edge = outline(image)
    assert edge[1, 1] and edge[2, 3] and edge[3, 3] and not edge[2, 2] and not edge[0, 0]
    assert (lines[..., 3] == 255).sum() == edge.sum()
    assert lines[2, 2, 3] == 0 and lines[1, 3, 3] == 255
    hidden = rgba(image, table, hidden=frozenset({5}))
    assert hidden[3, 3, 3] == 0 and hidden[2, 2, 3] > 0
