"""The wide lumbar MR profile: its draws, its ground truth, and pixels that agree with both."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.geometry import Plane
from spineviewer.phantom import MrOptions, generate
from spineviewer.phantom.discs import (
    BULGE_MM,
    DEGENERATION_BAND,
    DISC_STATES,
    HEIGHT_LOSS,
    HERNIATION_MM,
    HERNIATION_SIDES,
    DiscDraw,
)
from spineviewer.phantom.mr import mr_model
from spineviewer.phantom.mr_layout import standard_layout
from spineviewer.phantom.mr_options import SERIES
from spineviewer.phantom.sagittal import z_extent
from spineviewer.phantom.slab import Axis, SlabRendered, acquired_plane, render_slab
from spineviewer.phantom.tissues import Tissue
from spineviewer.phantom.wide import (
    AXIAL_LATERAL_MM,
    BIAS_STRENGTH,
    COIL_FALLOFF_MM,
    FOV_P,
    MATRIX,
    NOISE_FACTOR,
    POSTURE,
    SPACING_MM,
    SUB_SLICES,
    THICKNESS_MM,
    TISSUE_SPREAD,
    Grid,
    WideStudy,
    bottom_edge,
    draw_wide,
    fit_matrix,
    tissue_factors,
)

from .conftest import MR_SEED, Study, make_study, plane_of
from .reference import compare, load, summarise

#: Cheap draws (no rendering) over many seeds.
DRAW_SEEDS = range(300, 500)
#: Rendered studies: L1-S1 with T2, STIR and T1 sagittals and non-square sagittal pixels;
#: six lumbar vertebrae with STIR and T2 and a non-square straight stack.
WIDE_SEEDS = (12, 10)
WIDE = MrOptions.wide()
#: The ``parameters`` entry holding each axial series' grid (sagittal ones: ``sagittal``).
GRID_OF_ROLE = {"axial_t2_angled": "axial_angled", "axial_t2_stack": "axial_stack"}


@pytest.fixture(scope="module")
def wide_studies(tmp_path_factory: pytest.TempPathFactory) -> list[Study]:
    root = tmp_path_factory.mktemp("wide")
    return [make_study(root, "lumbar-mr", seed, WIDE) for seed in WIDE_SEEDS]


@pytest.fixture(scope="module")
def draws() -> list[WideStudy]:
    return [draw_wide(seed) for seed in DRAW_SEEDS]


def _erode(mask: np.ndarray, steps: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(steps):
        inner = out.copy()
        inner[1:] &= out[:-1]
        inner[:-1] &= out[1:]
        inner[:, 1:] &= out[:, :-1]
        inner[:, :-1] &= out[:, 1:]
        out = inner
    return out


# -- options --------------------------------------------------------------------------------------


def test_wide_options_validate_and_name_the_study():
    wide = MrOptions.wide()
    assert wide.profile == "wide" and not wide.is_default
    assert wide.parameters() == {"profile": "wide"} and wide.variant == "profile=wide"
    with pytest.raises(ValueError, match="profile must be one of standard, wide, got 'narrow'"):
        MrOptions(profile="narrow")
    with pytest.raises(ValueError, match="the wide profile draws the field of view"):
        MrOptions(sagittal_fov="L2-S1", profile="wide")
    with pytest.raises(ValueError, match="a series must be one of sagittal"):
        MrOptions(series=("coronal",))
    with pytest.raises(ValueError, match="non-empty sequence"):
        MrOptions(series=())
    subset = MrOptions(series=("axial_t2_stack", "axial_t2_angled"))
    assert subset.series == ("axial_t2_angled", "axial_t2_stack")  # in study order
    assert subset.variant == "" and subset.whole == MrOptions()  # the default study's UIDs
    assert MrOptions.from_parameters(subset.parameters()) == subset
    assert MrOptions.wide(("axial_t2_angled",)).parameters()["series"] == ["axial_t2_angled"]
    assert MrOptions().series == SERIES


# -- draws (no pixels) ----------------------------------------------------------------------------


def test_draws_are_deterministic_and_differ_between_seeds():
    assert draw_wide(7).parameters() == draw_wide(7).parameters()
    assert draw_wide(7).parameters() != draw_wide(8).parameters()


def test_drawn_ranges(draws: list[WideStudy]):
    fovs, contrasts, lumbar, non_square, grades = Counter(), Counter(), Counter(), 0, Counter()
    for wide in draws:
        low, high = NOISE_FACTOR
        assert low <= wide.noise_factor <= high
        assert BIAS_STRENGTH[0] <= wide.bias_strength <= BIAS_STRENGTH[1]
        assert np.abs(wide.bias.amplitudes).sum() == pytest.approx(wide.bias_strength)
        assert COIL_FALLOFF_MM[0] <= wide.coil_falloff_mm <= COIL_FALLOFF_MM[1]
        assert AXIAL_LATERAL_MM[0] <= wide.axial_lateral_mm <= AXIAL_LATERAL_MM[1]
        for grid in (wide.sagittal, wide.axial_angled, wide.axial_stack):
            assert all(SPACING_MM[0] <= s <= SPACING_MM[1] for s in grid.spacing), grid
            assert all(MATRIX[0] <= n <= MATRIX[1] for n in grid.shape), grid
            assert all(a >= s for a, s in zip(grid.acquired, grid.spacing, strict=True))
            assert THICKNESS_MM[0] <= grid.thickness <= THICKNESS_MM[1]
            assert 0.0 <= grid.gap <= 0.25 * grid.thickness and grid.sub_slices == SUB_SLICES
            non_square += grid.non_square
            if grid.non_square:
                ratio = min(grid.spacing) / max(grid.spacing)
                assert 0.64 <= ratio <= 0.91 or min(grid.spacing) == SPACING_MM[0], grid
        assert 9 <= wide.sagittal.count <= 21
        options = wide.options
        fovs[options.sagittal_fov] += 1
        lumbar[options.lumbar_vertebrae] += 1
        assert options.sagittal_contrasts.count("T2") == 1  # always a T2
        contrasts.update(options.sagittal_contrasts)
        expected = 6 if options.lumbar_vertebrae == 6 else 5
        assert len(wide.discs) == expected
        for level, disc in wide.discs.items():
            assert disc.level == level and level.startswith("L")
            low, high = DEGENERATION_BAND[disc.pfirrmann]
            assert low <= disc.degeneration <= high
            low, high = HEIGHT_LOSS[disc.pfirrmann]
            assert low <= disc.height_loss <= high
            assert disc.state in DISC_STATES
            assert (disc.bulge_mm > 0) == (disc.state == "bulge")
            assert disc.bulge_mm == 0 or BULGE_MM[0] <= disc.bulge_mm <= BULGE_MM[1]
            herniated = disc.state == "herniation"
            assert (disc.herniation_side in HERNIATION_SIDES) == herniated
            assert not herniated or HERNIATION_MM[0] <= disc.herniation_mm <= HERNIATION_MM[1]
            grades[disc.pfirrmann] += 1
    assert set(fovs) == set(FOV_P) and set(lumbar) == {5, 6}
    assert set(contrasts) == {"T2", "T1", "STIR"} and contrasts["T2"] == len(draws)
    assert contrasts["T1"] > 0.35 * len(draws) and contrasts["STIR"] > 0.15 * len(draws)
    assert 0.15 * len(draws) < non_square < 0.45 * len(draws) * 3
    assert set(grades) == {1, 2, 3, 4, 5}
    noise = [w.noise_factor for w in draws]
    assert min(noise) < 0.7 and max(noise) > 3.0  # the range is used, not only its middle


def test_a_cut_field_of_view_keeps_matrix_and_spacing_in_range():
    for height in np.linspace(150.0, 420.0, 28):
        for spacing in (0.4, 0.7, 1.1, 1.5):
            rows, fitted = fit_matrix(float(height), spacing)
            assert MATRIX[0] <= rows <= MATRIX[1]
            assert (rows - 1) * fitted == pytest.approx(height)
            assert SPACING_MM[0] <= fitted <= SPACING_MM[1] or height > 382
    grid = Grid((0.5, 0.7), (600, 400), (0.9, 0.9), 4.0, 0.5, 3, 15)
    fitted = grid.with_height(200.0)
    assert fitted.shape[1] == 400 and fitted.spacing[1] == 0.7 and fitted.count == 15
    assert (fitted.shape[0] - 1) * fitted.spacing[0] == pytest.approx(200.0)


def test_degeneration_and_contour_are_drawn_apart(draws: list[WideStudy]):
    table = np.zeros((5, 3), dtype=int)  # grade x state
    for wide in draws:
        for disc in wide.discs.values():
            table[disc.pfirrmann - 1, DISC_STATES.index(disc.state)] += 1
    print("grade x (normal, bulge, herniation):\n", table)
    bright, dark = table[:2], table[3:]  # grades 1-2 and 4-5
    normal, abnormal = table[:, 0].sum(), table[:, 1:].sum()
    # Bright (young) herniations and bulges, and dark discs with a normal contour, are common.
    assert bright[:, 1:].sum() > 0.2 * abnormal and bright[:, 2].sum() > 40
    assert dark[:, 0].sum() > 0.15 * normal

    # Still the realistic direction: degenerated discs bulge and herniate more often.
    def p_abnormal(rows: np.ndarray) -> float:
        return float(rows[:, 1:].sum() / rows.sum())

    assert p_abnormal(dark) > p_abnormal(bright) + 0.1


def test_every_drawn_parameter_is_recorded(draws: list[WideStudy]):
    wide = draws[0]
    recorded = json.loads(json.dumps(wide.parameters()))  # JSON types only
    skipped = {"seed", "options", "discs", "bias"}
    for f in dataclasses.fields(WideStudy):
        if f.name in skipped:
            continue
        assert f.name in recorded, f"{f.name} is drawn but not recorded"
    for key in ("sagittal_fov", "lumbar_vertebrae", "sagittal_contrasts", "profile"):
        assert key in recorded
    assert recorded["bias_waves_per_mm"] == wide.bias.waves.tolist()
    grid_keys = {
        "spacing": "pixel_spacing_mm",
        "shape": "matrix",
        "acquired": "acquired_spacing_mm",
        "thickness": "slice_thickness_mm",
        "gap": "slice_gap_mm",
        "sub_slices": "sub_slices",
        "count": "slices",
    }
    assert {f.name for f in dataclasses.fields(Grid)} == set(grid_keys)
    assert set(recorded["sagittal"]) == set(grid_keys.values())
    assert set(recorded["axial_angled"]) == set(grid_keys.values()) - {"slices"}
    drawn = {f.name for f in dataclasses.fields(DiscDraw)} - {"level", "herniation_mm"}
    for level, disc in recorded["discs"].items():
        assert drawn <= set(disc) and {"herniation_size_mm", "nucleus_t2"} <= set(disc)
        assert disc["pfirrmann"] == wide.discs[level].pfirrmann


# -- rendered studies -----------------------------------------------------------------------------


def test_same_seed_same_study(wide_studies: list[Study], tmp_path: Path):
    again = make_study(tmp_path, "lumbar-mr", WIDE_SEEDS[0], WIDE)
    assert compare(summarise(wide_studies[0].path), summarise(again.path)) == []
    other = compare(summarise(wide_studies[0].path), summarise(wide_studies[1].path))
    assert len(other) > 20 and other[0].startswith("files:")


def test_truth_records_the_draws_and_the_written_geometry(wide_studies: list[Study]):
    for study in wide_studies:
        truth, params = study.truth, study.truth.parameters
        wide = draw_wide(truth.seed)
        assert params["profile"] == "wide" and truth.mr_options == wide.options
        for key, value in wide.parameters().items():
            if key != "sagittal":  # refitted to a cut field of view
                assert json.dumps(params[key], sort_keys=True) == json.dumps(
                    value, sort_keys=True
                ), key
        roles = [s.role for s in truth.series]
        sagittal = [f"sagittal_{c.lower()}" for c in wide.options.sagittal_contrasts]
        assert roles == [*sagittal, "axial_t2_angled", "axial_t2_stack"]
        assert set(params["noise_sigma_by_series"]) == set(roles)
        for series in truth.series:
            grid = params[GRID_OF_ROLE.get(series.role, "sagittal")]
            sigma = params["noise_sigma_by_series"][series.role]
            assert sigma > 0
            for image in series.images[:: max(1, len(series.images) // 3)]:
                ds = pydicom.dcmread(study.path / image.file)
                assert [float(v) for v in ds.PixelSpacing] == pytest.approx(
                    grid["pixel_spacing_mm"], abs=1e-5
                )
                assert [ds.Rows, ds.Columns] == grid["matrix"]
                thickness = grid["slice_thickness_mm"]
                assert float(ds.SliceThickness) == pytest.approx(thickness, abs=1e-4)
                step = grid["slice_thickness_mm"] + grid["slice_gap_mm"]
                assert float(ds.SpacingBetweenSlices) == pytest.approx(step, abs=1e-3)
            if series.plane == "sagittal":
                assert series.number_of_images == params["sagittal"]["slices"]
        graded = [d for d in truth.discs if d.level in wide.discs]
        assert len(graded) == len(wide.discs)
        for disc in truth.discs:
            draw = wide.discs.get(disc.level)
            if draw is None:
                assert (disc.pfirrmann, disc.degeneration, disc.state) == (None, None, "normal")
                continue
            assert disc.pfirrmann == draw.pfirrmann and disc.state == draw.state
            assert disc.degeneration == pytest.approx(draw.degeneration, abs=1e-4)
            assert disc.height_loss == pytest.approx(draw.height_loss, abs=1e-4)
            assert disc.herniation_side == draw.herniation_side
            assert disc.herniation_mm == pytest.approx(draw.herniation_mm, abs=1e-4)
    shapes = [
        ser["pixel_spacing_mm"][0] != ser["pixel_spacing_mm"][1]
        for s in wide_studies
        for ser in (s.truth.parameters[k] for k in ("sagittal", "axial_angled", "axial_stack"))
    ]
    assert any(shapes)  # the fixtures cover non-square pixels


def test_standard_truth_has_no_degeneration_fields(mr_study: Study):
    raw = (mr_study.path / "ground_truth.json").read_text()
    assert "pfirrmann" not in raw and "degeneration" not in raw
    assert all(d.pfirrmann is None for d in mr_study.truth.discs)


def test_nucleus_pixels_follow_the_drawn_degeneration(wide_studies: list[Study]):
    """Nucleus over CSF (nearby, so bias and coil cancel) against the truth's degeneration.

    Only pixels that are nucleus in every sub-slice of the slab count: a thick slab that
    reaches an endplate averages in bone, and how much depends on the drawn disc height and
    slice position, not on the degeneration."""
    for study in wide_studies:
        model, _ = mr_model(study.truth.seed, WIDE)
        grid = draw_wide(study.truth.seed).axial_angled
        series = study.truth.series_by_role("axial_t2_angled")
        measured, degeneration = [], []
        for disc in study.truth.discs:
            views = [
                v
                for v in disc.views
                if v.series_instance_uid == series.series_instance_uid and v.central
            ]
            if disc.degeneration is None or not views:
                continue
            ds = pydicom.dcmread(study.path / series.images[views[0].slice_index].file)
            plane = plane_of(ds)
            labels = model.render(plane)
            slab = render_slab(model, plane, grid.thickness, grid.sub_slices, grid.acquired)
            inside = np.logical_and.reduce(
                [
                    (sub.tissue == Tissue.NUCLEUS) & (sub.owner == model.structure_id(disc.level))
                    for sub in slab.slab
                ]
            )
            coarse = slab.upsample(inside.astype(np.float32)) > 0.999
            nucleus = _erode(coarse & (labels.tissue == Tissue.NUCLEUS), 2)
            csf = _erode(labels.tissue == Tissue.CSF, 2)
            if nucleus.sum() < 10:
                continue
            pixels = ds.pixel_array.astype(np.float64)
            measured.append(pixels[nucleus].mean() / pixels[csf].mean())
            degeneration.append(disc.degeneration)
        assert len(measured) >= 3
        r = float(np.corrcoef(measured, degeneration)[0, 1])
        assert r < -0.85, (study.truth.seed, measured, degeneration)


def test_noise_in_air_is_the_recorded_sigma(wide_studies: list[Study]):
    """Far from the body the magnitude image is Rayleigh noise: mean sigma * sqrt(pi / 2)."""
    for study in wide_studies:
        model, _ = mr_model(study.truth.seed, WIDE)
        for series in study.truth.series:
            if series.plane != "sagittal":
                continue
            ds = pydicom.dcmread(study.path / series.images[len(series.images) // 2].file)
            air = _erode(model.render(plane_of(ds)).tissue == Tissue.AIR, 6)
            assert air.sum() > 2000
            sigma = study.truth.parameters["noise_sigma_by_series"][series.role]
            ratio = ds.pixel_array[air].mean() / (sigma * math.sqrt(math.pi / 2))
            assert 0.9 < ratio < 1.1, (series.role, ratio)


def test_disc_centres_lie_in_their_boxes(wide_studies: list[Study]):
    """Boxes, geometry and centres agree, also with non-square pixels."""
    for study in wide_studies:
        planes = {}
        for series in study.truth.series:
            for index, image in enumerate(series.images):
                planes[image.sop_instance_uid] = (study.path / image.file, index)
        checked = 0
        for disc in study.truth.discs:
            for view in disc.views:
                if not view.central or view.truncated or view.box_px is None:
                    continue
                path, _ = planes[str(view.sop_instance_uid)]
                plane = plane_of(pydicom.dcmread(path, stop_before_pixels=True))
                row, col = plane.to_pixel(np.asarray(disc.centre_mm))
                x0, y0, x1, y1 = view.box_px
                assert x0 - 1 <= col <= x1 + 1 and y0 - 1 <= row <= y1 + 1, (disc.level, view)
                checked += 1
        assert checked >= len([d for d in study.truth.discs if d.in_sagittal_fov])


def test_a_series_subset_is_the_same_files(tmp_path: Path, wide_studies: list[Study]):
    def only(found: list[str], folder: str) -> list[str]:
        """Differences in ``folder`` (the central patches are of every third file of a study:
        other files in a subset)."""
        return [d for d in found if d.startswith(folder) and not d.endswith("no central patch")]

    # The standard study of the fixture seed, angled stacks only: those files are the default
    # study's (the stored reference's).
    generate("lumbar-mr", tmp_path, MR_SEED, mr_options=MrOptions(series=("axial_t2_angled",)))
    subset = summarise(tmp_path / f"lumbar-mr-{MR_SEED:05d}")
    assert {name.split("/")[0] for name in subset.headers} == {"S02_axial_t2_angled"}
    assert only(compare(load()[f"lumbar-mr-{MR_SEED:05d}"], subset), "S02") == []
    # A wide study's straight stack alone.
    study = wide_studies[1]
    folder = study.truth.series_by_role("axial_t2_stack").folder
    out = tmp_path / "wide"
    generate("lumbar-mr", out, study.truth.seed, mr_options=MrOptions.wide(("axial_t2_stack",)))
    part = summarise(out / study.path.name)
    assert {name.split("/")[0] for name in part.headers} == {folder}
    assert only(compare(summarise(study.path), part), folder) == []
    shutil.rmtree(out)


@pytest.mark.parametrize(
    ("fov", "first", "hidden"), [("T10-S1", "T10", "T9"), ("L1-S1", "L1", "T12")]
)
def test_long_and_l1_fields_of_view(fov: str, first: str, hidden: str):
    options = MrOptions(sagittal_fov=fov)
    model, rng = mr_model(MR_SEED, options)
    layout = standard_layout(model.anatomy, rng, options, MR_SEED)
    anatomy = model.anatomy
    assert layout.shown(anatomy.vertebra(first).centre)
    assert not layout.shown(anatomy.vertebra(hidden).centre)
    assert layout.shown(anatomy.vertebra("S1").centre)
    plane = layout.sagittal.planes[0]
    assert plane.shape is not None
    last_row = float(plane.to_patient(plane.shape[0] - 1.0, 0.0)[2])
    assert last_row < z_extent(anatomy.vertebra("S1"))[0] - 9.0  # below S1, as L2-S1


# -- slab rendering -------------------------------------------------------------------------------


def _plane(spacing: tuple[float, float], shape: tuple[int, int]) -> Plane:
    return Plane(np.array([10.0, -20.0, 30.0]), (1, 0, 0), (0, 1, 0), spacing, shape)


def test_the_acquired_grid_covers_the_written_field():
    plane = _plane((0.4, 0.5), (500, 320))
    coarse = acquired_plane(plane, (1.0, 1.0))
    assert coarse.shape == (200, 160) and coarse.spacing == pytest.approx((1.0, 1.0))
    for p in (plane, coarse):
        assert p.shape is not None
    edge = plane.origin - 0.5 * np.array([0.5, 0.4, 0.0])
    assert coarse.origin - 0.5 * np.array([1.0, 1.0, 0.0]) == pytest.approx(edge)
    same = acquired_plane(plane, (0.4, 0.5))
    assert same.shape == plane.shape and np.allclose(same.origin, plane.origin)
    assert Axis.between(320, 0.5, 320, 0.5).identity
    assert not Axis.between(320, 0.5, 160, 1.0).identity


def test_upsampling_is_linear_and_slabs_average_sub_slices():
    model, _ = mr_model(MR_SEED, WIDE)
    centre = model.anatomy.vertebra("L3").centre
    plane = Plane(
        centre - np.array([60.0, 40.0, 0.0]), (1, 0, 0), (0, 1, 0), (0.5, 0.5), (160, 240)
    )
    slab = render_slab(model, plane, 4.5, 3, (1.0, 1.0))
    assert isinstance(slab, SlabRendered) and len(slab.slab) == 3
    offsets = [float(plane.distance(s.plane.origin)) for s in slab.slab]
    assert offsets == pytest.approx([-1.5, 0.0, 1.5])
    assert slab.tissue.shape == (160, 240) and slab.slab[0].tissue.shape == (80, 120)
    ramp = np.add.outer(np.arange(80.0), 2 * np.arange(120.0))
    fine = slab.upsample(ramp)
    inner = fine[2:-2, 2:-2]
    assert np.allclose(np.diff(inner, axis=0), 0.5) and np.allclose(np.diff(inner, axis=1), 1.0)
    with pytest.raises(ValueError, match="odd count"):
        render_slab(model, plane, 4.5, 2, (1.0, 1.0))


def test_tissue_factors_are_drawn_per_series_and_recorded(wide_studies: list[Study]):
    for study in wide_studies:
        recorded = study.truth.parameters["tissue_factors_by_series"]
        assert set(recorded) == {s.role for s in study.truth.series}
        for factors in recorded.values():
            assert len(factors) == len(Tissue)
            assert all(1 / TISSUE_SPREAD - 1e-9 <= f <= TISSUE_SPREAD + 1e-9 for f in factors)
        assert len({tuple(f) for f in recorded.values()}) == len(recorded)
    assert np.array_equal(tissue_factors(5, 1, 14), tissue_factors(5, 1, 14))
    assert not np.array_equal(tissue_factors(5, 1, 14), tissue_factors(5, 2, 14))


def test_tissue_factors_scale_the_pixels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The same study with marrow x 2 has twice the marrow signal (other tissues unchanged)."""
    import spineviewer.phantom.mr as mr_module

    def factors(marrow: float):
        def draw(seed: int, series_number: int, count: int) -> np.ndarray:
            out = np.ones(count)
            out[int(Tissue.MARROW)] = marrow
            return out

        return draw

    options = MrOptions.wide(series=("sagittal",))
    means = []
    for marrow in (1.0, 2.0):
        monkeypatch.setattr(mr_module, "tissue_factors", factors(marrow))
        study = make_study(tmp_path / str(marrow), "lumbar-mr", WIDE_SEEDS[0], options)
        model, _ = mr_model(study.truth.seed, options)
        series = study.truth.series[0]
        ds = pydicom.dcmread(study.path / series.images[len(series.images) // 2].file)
        labels = model.render(plane_of(ds))
        marrow_px = _erode(labels.tissue == Tissue.MARROW, 3)
        other_px = _erode(labels.tissue == Tissue.VISCERA, 3)
        pixels = ds.pixel_array.astype(np.float64)
        means.append((pixels[marrow_px].mean(), pixels[other_px].mean()))
    (marrow_1, other_1), (marrow_2, other_2) = means
    assert 1.85 < marrow_2 / marrow_1 < 2.15
    assert 0.95 < other_2 / other_1 < 1.05


@pytest.mark.parametrize("seed", range(40, 52))
def test_fields_ending_at_the_sacrum_may_cut_s1_or_end_lower(seed: int):
    """A wide field of view ending at the sacrum ends anywhere from inside S1 to S3's centre,
    one ending above it in or near the L5-S1 disc; the posture's ranges are the wide ones."""
    model, _ = mr_model(seed, WIDE)
    anatomy = model.anatomy
    s1 = anatomy.vertebra("S1")
    rng = np.random.default_rng(seed)
    cut_s1 = 0
    for _ in range(20):
        bottom = bottom_edge(anatomy, "L2-S1", rng)
        assert bottom is not None
        assert float(anatomy.vertebra("S3").centre[2]) <= bottom
        assert bottom <= float(s1.centre[2]) + 0.1 * s1.height
        cut_s1 += bottom > z_extent(s1)[0]
        above = bottom_edge(anatomy, "T10-L5", rng)
        assert above is not None and z_extent(s1)[1] + 1.5 <= above <= z_extent(s1)[1] + 10.0
    assert 0 < cut_s1 < 20  # some inside S1, some lower
    assert bottom_edge(anatomy, "full", rng) is None
    from_vertical = math.degrees(math.acos(float(s1.frame.axes[2][2])))
    assert from_vertical <= 75.0  # a sane sacral axis (the wide slope is 20-60 degrees + tilt)


def test_wide_posture_is_wider_and_recorded():
    assert POSTURE.sacral_slope_deg[0] < 30.0 and POSTURE.sacral_slope_deg[1] > 45.0
    assert POSTURE.tilt_deg > 5.0
    assert draw_wide(3).parameters()["posture"] == POSTURE.parameters()


def test_normal_shape_variants_are_shaped_but_not_fractured():
    """Mild wedges and concave endplates (below Genant's 20 %) are drawn on some intact
    vertebrae of wide studies, recorded in the parameters, and never marked fractured."""
    from spineviewer.phantom.fractures import VARIANT_LOSS
    from spineviewer.phantom.mr import wide_variants
    from spineviewer.phantom.sagittal import mr_labels

    drawn = 0
    for seed in range(300, 340):
        labels = mr_labels(draw_wide(seed).options)
        variants = wide_variants(seed, labels)
        assert "S1" not in variants
        assert variants == wide_variants(seed, labels)  # the same seed, the same variants
        for v in variants.values():
            assert v.normal_variant and VARIANT_LOSS[0] <= v.height_loss <= VARIANT_LOSS[1]
            assert v.kind in ("wedge", "biconcave")
        drawn += len(variants)
        model, _ = mr_model(seed, WIDE)
        for vertebra in model.anatomy.vertebrae:
            assert (vertebra.fracture is not None) == (vertebra.label in variants)
    assert 0.15 * 40 * 7 < drawn < 0.5 * 40 * 9


def test_a_variant_is_recorded_and_its_vertebra_stays_intact(tmp_path: Path):
    generate("lumbar-mr", tmp_path, seed=14003, mr_options=WIDE, fracture_rate=0.2)
    truth = json.loads(next(tmp_path.iterdir()).joinpath("ground_truth.json").read_text())
    variants = truth["parameters"]["shape_variants"]
    assert variants  # this seed draws two
    fractured = {v["label"] for v in truth["vertebrae"] if v.get("fracture")}
    assert fractured and not fractured & set(variants)
    for v in truth["vertebrae"]:
        if v["label"] in variants:
            assert v.get("fracture") is None and not v.get("height_loss")
            assert not v.get("genant_grade")
