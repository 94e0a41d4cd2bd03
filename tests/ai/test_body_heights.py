"""Vertebral body heights measured on a drawn sagittal image (known geometry), Genant's loss
from them, and the fracture model's answer checked against them."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.ai.body_heights import BodyHeights, genant_grade, height_loss, measure_body
from spineviewer.ai.findings import UNCERTAIN, VertebraFinding
from spineviewer.ai.pipelines.fracture_check import LOSS_CLEARS, LOSS_SUSPECT, checked
from spineviewer.geometry.plane import Plane

SPACING = 32.0  # centre to centre (mm)
HEIGHT = 24.0
HALF_DEPTH = 18.0
RIM = 1.2  # the cortex, drawn inside the body: the marrow (what is measured) is 2.4 mm less
CENTRES_Z = (-SPACING, 0.0, SPACING)


def _sagittal(
    spacing: tuple[float, float] = (0.8, 0.8),
    anterior_loss: float = 0.0,
    middle_loss: float = 0.0,
    scale: float = 1.0,
    contrast: str = "T2",
    noise: float = 0.0,
) -> tuple[np.ndarray, Plane]:
    """A sagittal image of three bodies (the middle one deformed), discs between them; rows run
    down (-z), columns run back (+y). ``anterior_loss``: a wedge (the anterior height lowered,
    the posterior intact); ``middle_loss``: dished endplates (the centre lowered)."""
    dr, dc = spacing
    rows, cols = int(120 / dr), int(90 / dc)
    z = 60.0 - np.arange(rows)[:, None] * dr
    y = -45.0 + np.arange(cols)[None, :] * dc
    fat, marrow, disc, cortex = {"T2": (120, 300, 600, 20), "T1": (700, 600, 150, 30)}[contrast]
    image = np.full((rows, cols), float(fat))
    inside_column = np.abs(y) <= HALF_DEPTH
    image = np.where(inside_column & (np.abs(z) <= 1.5 * SPACING), disc, image)
    for i, zc in enumerate(CENTRES_Z):
        half = np.full_like(y, HEIGHT / 2)
        if i == 1:
            along = (HALF_DEPTH - y) / (2 * HALF_DEPTH)  # 1 at the anterior wall (y = -18)
            half = half * (1 - anterior_loss * along)
            dish = np.clip(1 - (y / (0.8 * HALF_DEPTH)) ** 2, 0, None)  # the rim intact
            half = half * (1 - middle_loss * dish)
        d = np.abs(z - zc)
        body = inside_column & (d <= half)
        rim = body & ((d > half - RIM) | (np.abs(y) > HALF_DEPTH - RIM))
        image = np.where(body, marrow, image)
        image = np.where(rim, cortex, image)
    image = image * scale
    if noise:
        image = image + np.random.default_rng(0).normal(0, noise, image.shape)
    plane = Plane(
        origin=np.array([0.0, -45.0, 60.0]),
        row_dir=np.array([0.0, 1.0, 0.0]),
        col_dir=np.array([0.0, 0.0, -1.0]),
        spacing=spacing,
        shape=image.shape,
    )
    return image, plane


def _measure(image: np.ndarray, plane: Plane) -> BodyHeights:
    heights = measure_body(image, plane, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), SPACING)
    assert heights is not None
    return heights


def _intact_neighbours(**kwargs: object) -> list[BodyHeights]:
    image, plane = _sagittal(**kwargs)  # type: ignore[arg-type]
    return [
        h
        for zc in (-SPACING, SPACING)
        if (h := measure_body(image, plane, (0.0, 0.0, zc), (0.0, 0.0, 1.0), SPACING))
    ]


@pytest.mark.parametrize("spacing", [(0.8, 0.8), (1.0, 0.55), (0.5, 1.2)])
@pytest.mark.parametrize("contrast", ["T2", "T1"])
def test_an_intact_body_measures_its_drawn_height_on_any_pixel_grid(
    spacing: tuple[float, float], contrast: str
) -> None:
    heights = _measure(*_sagittal(spacing, contrast=contrast))
    for h in (heights.anterior_mm, heights.middle_mm, heights.posterior_mm):
        assert h == pytest.approx(HEIGHT - 2 * RIM, abs=1.3)
    assert heights.depth_mm == pytest.approx(2 * HALF_DEPTH - 2 * RIM, abs=1.3)
    assert height_loss(heights, _intact_neighbours(spacing=spacing)) < 0.07


def test_stored_values_scaled_or_noisy_measure_alike() -> None:
    plain = _measure(*_sagittal())
    for kwargs in ({"scale": 4.0}, {"noise": 15.0}):
        other = _measure(*_sagittal(**kwargs))  # type: ignore[arg-type]
        assert other.as_tuple() == pytest.approx(plain.as_tuple(), abs=1.1)


@pytest.mark.parametrize(("loss", "grade"), [(0.22, 1), (0.33, 2), (0.5, 3)])
def test_a_wedge_is_measured_and_graded(loss: float, grade: int) -> None:
    heights = _measure(*_sagittal(anterior_loss=loss))
    assert heights.anterior_mm < heights.posterior_mm - 3
    measured = height_loss(heights)
    # heights are read 15 % of the depth inside the walls: a wedge measures 0.7 of its loss
    assert measured == pytest.approx(0.7 * loss / (1 - 0.15 * loss), abs=0.05)
    assert measured >= LOSS_CLEARS


def test_dished_endplates_and_a_crush_are_measured() -> None:
    dished = _measure(*_sagittal(middle_loss=0.3))
    assert dished.middle_mm == pytest.approx(0.7 * HEIGHT - 2 * RIM, abs=1.3)
    # the dish reaches the points 15 % inside the walls too: the loss reads lower than 30 %
    assert LOSS_CLEARS < height_loss(dished) < 0.3
    neighbours = _intact_neighbours()
    assert len(neighbours) == 2
    low = 2 / 3 * neighbours[0].highest_mm  # every height 2/3 of the neighbours'
    crushed = BodyHeights(low, low, low, 36.0)
    assert height_loss(crushed) == 0.0
    assert height_loss(crushed, neighbours) == pytest.approx(1 / 3, abs=0.03)


def test_a_body_cut_by_the_image_edge_is_not_measured() -> None:
    image, plane = _sagittal()
    cut = image[: int(70 / 0.8)]  # the image ends 10 mm below the middle body's centre
    assert measure_body(cut, plane, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), SPACING) is None


def test_genant_grades() -> None:
    assert [genant_grade(x) for x in (0.1, 0.2, 0.25, 0.3, 0.4, 0.41)] == [0, 1, 1, 2, 2, 3]


def _finding(label: str = "L1") -> VertebraFinding:
    return VertebraFinding(label, 0.9, "1.2", "1.2.3", (0, 0, 10, 10), (0.0, 0.0, 0.0))


def test_the_models_answer_is_checked_against_the_heights() -> None:
    order = ["T12", "L1", "L2"]
    intact = BodyHeights(24.0, 23.5, 24.0, 36.0)
    heights = {"T12": intact, "L1": intact, "L2": intact}
    vetoed = checked(_finding(), "fractured", 0.97, heights, order)
    assert vetoed.fracture == UNCERTAIN and vetoed.height_loss is not None
    assert vetoed.height_loss < LOSS_CLEARS
    assert (
        "the model says fractured (0.97) but heights A/M/P 24/23.5/24 mm"
        in (vetoed.fracture_reasons[0])
    )
    wedge = {**heights, "L1": BodyHeights(15.0, 19.0, 24.0, 36.0)}
    kept = checked(_finding(), "fractured", 0.97, wedge, order)
    assert kept.fracture == "fractured" and kept.body_heights_mm == (15.0, 19.0, 24.0)
    assert "Genant grade 2" in kept.fracture_reasons[0]
    missed = checked(_finding(), "normal", 0.1, wedge, order)
    assert missed.fracture == UNCERTAIN and (missed.height_loss or 0) >= LOSS_SUSPECT
    unmeasured = checked(_finding(), "fractured", 0.97, {}, order)
    assert unmeasured.fracture == "fractured" and unmeasured.body_heights_mm is None
    assert "not measured" in unmeasured.fracture_reasons[0]
