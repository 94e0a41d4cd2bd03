"""Curved planar reformat: a bent tube and a scoliotic CT phantom come out straight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.dicom import Volume
from spineviewer.dicom.volume import read_nifti
from spineviewer.geometry.spine_curve import CentreCurve, natural_cubic_spline
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.ct_scoliosis import generate_scoliotic_ct, scoliotic_folder_name
from spineviewer.phantom.scoliosis_bend import Scoliosis
from spineviewer.viewing.curved import CurvedGrid, CurvedSource, curved_grid, curved_reformat


def _tube_centre(z: np.ndarray) -> np.ndarray:
    """A tube bending 25 mm to the left and 10 mm back between z = 100 and z = -100."""
    x = 25.0 * np.sin(np.pi * (100.0 - z) / 200.0)
    y = 10.0 * np.cos(np.pi * (100.0 - z) / 200.0)
    return np.stack([x, y, z], axis=-1)


@pytest.fixture(scope="module")
def tube() -> Volume:
    """An axial volume (head first, 2.5 mm slices, 0.8 mm pixels) with a 6 mm radius tube."""
    spacing_k, pixel = 2.5, 0.8
    k, j, i = 97, 160, 160
    affine = np.eye(4)
    affine[:3, 0] = (0.0, 0.0, -spacing_k)
    affine[:3, 1] = (0.0, pixel, 0.0)
    affine[:3, 2] = (pixel, 0.0, 0.0)
    affine[:3, 3] = (-60.0, -60.0, 120.0)
    kk, jj, ii = np.meshgrid(np.arange(k), np.arange(j), np.arange(i), indexing="ij")
    xyz = np.stack([kk, jj, ii], axis=-1) @ affine[:3, :3].T + affine[:3, 3]
    centre = _tube_centre(xyz[..., 2])
    dist = np.linalg.norm((xyz - centre)[..., :2], axis=-1)
    array = np.where(dist < 6.0, 1000.0, 0.0).astype(np.float32)
    return Volume(array, affine, "1.2.3")


def test_spline_passes_through_its_knots_and_is_smooth():
    t = np.array([0.0, 1.0, 2.5, 4.0])
    y = np.array([[0.0], [1.0], [0.0], [2.0]])
    assert np.allclose(natural_cubic_spline(t, y, t), y)
    curve = CentreCurve.through(_tube_centre(np.linspace(100, -100, 7)))
    pts, tangents = curve.at(curve.knots_s)
    assert np.allclose(pts, curve.points, atol=1e-6)
    assert np.allclose(np.linalg.norm(tangents, axis=1), 1.0)
    assert curve.length > 200.0  # longer than the straight distance: it bends


def _max_offset_mm(image: np.ndarray, grid: CurvedGrid, knots: np.ndarray) -> float:
    """Largest distance (mm) of the tube's centre from the centre column, row by row."""
    cols = np.arange(grid.columns)
    first, last = grid.to_output(knots[[0, -1]])[:, 0].round().astype(int)
    offsets = []
    for row in range(first + 5, last - 5):
        weights = image[row]
        assert weights.sum() > 0, row
        offsets.append((float(weights @ cols / weights.sum()) - grid.centre_col) * grid.col_mm)
    return max(abs(o) for o in offsets)


def test_a_bent_tube_is_straightened(tube: Volume):
    knots = _tube_centre(np.linspace(100.0, -100.0, 7))
    grid = curved_grid(knots, plane="coronal", row_mm=1.0, col_mm=0.5, width_mm=60.0)
    assert _max_offset_mm(curved_reformat(tube, grid)[0], grid, knots) < 1.0
    # a flat coronal sheet through the two ends (the curve of two points) leaves it bent
    flat = curved_grid(knots[[0, -1]], plane="coronal", row_mm=1.0, col_mm=0.5, width_mm=80.0)
    assert _max_offset_mm(curved_reformat(tube, flat)[0], flat, knots) > 10.0
    # the knots themselves: on the centre column, at depth 0
    out = grid.to_output(knots)
    assert np.allclose(out[:, 1], grid.centre_col, atol=1e-3)
    assert np.allclose(out[:, 2], 0.0, atol=1e-3)


def test_output_pixels_map_back_to_the_patient(tube: Volume):
    knots = _tube_centre(np.linspace(100.0, -100.0, 5))
    grid = curved_grid(knots, plane="sagittal", depths_mm=(-4.0, 0.0, 4.0))
    rows, cols = np.array([10.0, 80.0, 150.0]), np.array([3.0, 60.0, 100.0])
    points = grid.to_patient(rows, cols, depth_mm=4.0)
    back = grid.to_output(points)
    assert np.allclose(back[:, 0], rows, atol=0.05)
    assert np.allclose(back[:, 1], cols, atol=0.05)
    assert np.allclose(back[:, 2], 4.0, atol=0.05)
    source = CurvedSource(tube, grid, modality="CT")
    assert len(source) == 3 and source.values(1).shape == (grid.rows, grid.columns)
    assert source.info(2).position_mm == 4.0 and source.info(0).pixel_spacing == (1.0, 1.0)
    with pytest.raises(IndexError):
        source.values(3)


def test_bad_grid_requests_are_refused():
    with pytest.raises(ValueError, match="plane"):
        curved_grid([[0, 0, 0], [0, 0, 10]], plane="axial")
    with pytest.raises(ValueError, match="two"):
        curved_grid([[0, 0, 0]])
    with pytest.raises(ValueError, match="coincide"):
        curved_grid([[0, 0, 0], [0, 0, 0], [0, 0, 5]])


def _body_centres(labels: np.ndarray, values: dict[str, int], names: list[str]):
    """Per vertebra seen in a straightened label image: (row, col) of its body's centre, the
    middle row of its label and the midpoint of the label's run across on the rows there.

    (Not the label's centroid: straightening stretches the convex side of a bend and squeezes
    the concave one, which moves a centroid towards the concavity by about 1 mm at 35 degrees
    Cobb; the row through the centre is a straight line in the patient, so its midpoint is not
    moved.)"""
    out = {}
    for name in names:
        mask = labels == values[name]
        rows, _ = np.nonzero(mask)
        if not rows.size:
            continue
        middle = round(float(rows.mean()))
        mids = []
        for row in range(middle - 2, middle + 3):
            cols = np.nonzero(mask[row])[0]
            if cols.size:
                mids.append((cols.min() + cols.max()) / 2.0)
        out[name] = (float(rows.mean()), float(np.mean(mids)))
    return out


def test_scoliotic_ct_vertebrae_lie_on_one_line(tmp_path: Path):
    """Acceptance (issue 23): the curved reformat of a scoliotic CT straightens the canal."""
    truth = generate_scoliotic_ct(tmp_path, 11, Scoliosis(cobb_deg=35.0, apex="L2"))
    study = tmp_path / scoliotic_folder_name(11)
    assert load_ground_truth(study).parameters["scoliosis"]["cobb_deg"] == 35.0
    label_volume = read_nifti(study / truth.label_map.file)
    labels = ["T12", "L1", "L2", "L3", "L4", "L5"]
    centres = np.array([v.centre_mm for v in truth.vertebrae if v.label in labels])
    grid = curved_grid(centres, plane="coronal", row_mm=0.5, col_mm=0.5, width_mm=100.0)
    straightened = curved_reformat(label_volume, grid, interpolator="nearest")[0]
    found = _body_centres(straightened, truth.label_map.values, labels)
    assert set(found) == set(labels)
    cols = np.array([found[n][1] for n in labels])
    rows = np.array([found[n][0] for n in labels])
    # one vertical line: the column of every body's centre within 1 mm of the others' fit
    fit = np.polyval(np.polyfit(rows, cols, 1), rows)
    spread_mm = np.abs(cols - fit).max() * grid.col_mm
    assert spread_mm < 1.0, spread_mm
    assert np.abs(cols - grid.centre_col).max() * grid.col_mm < 1.0
    # a flat coronal sheet through the end bodies does not line them up
    flat = curved_grid(centres[[0, -1]], plane="coronal", row_mm=0.5, col_mm=0.5, width_mm=100.0)
    flat_image = curved_reformat(label_volume, flat, interpolator="nearest")[0]
    flat_found = _body_centres(flat_image, truth.label_map.values, labels)
    flat_cols = np.array([flat_found[n][1] for n in labels if n in flat_found])
    assert (flat_cols.max() - flat_cols.min()) * flat.col_mm > 15.0
    # the truth centres map onto the centre column, rows in order down the image
    out = grid.to_output(centres)
    assert np.all(np.abs(out[:, 1] - grid.centre_col) * grid.col_mm < 1.0)
    assert np.all(np.diff(out[:, 0]) > 0)
