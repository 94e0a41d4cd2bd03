"""The ``wide`` lumbar MR profile: every study drawn over ranges that cover clinical MR.

:func:`draw_wide` turns a seed into a :class:`WideStudy` (no anatomy, no pixels: cheap), from
its own random stream, so the spine of a seed keeps the draws of its standard study (disc
heights and states aside). Drawn per study (ranges are the module constants):

- what is shown (reusing :class:`MrOptions`): the sagittal field of view (:data:`FOV_P`), six
  lumbar vertebrae (:data:`SIX_LUMBAR_P`), sagittal T2 always plus T1 (:data:`T1_P`) and / or
  STIR (:data:`STIR_P`) in a random order;
- the patient's age, and per graded disc its degeneration and contour
  (:mod:`spineviewer.phantom.discs`);
- noise: every series' noise sigma times one factor, log-uniform in :data:`NOISE_FACTOR`;
- per series, every tissue's signal times its own factor, log-uniform within
  :data:`TISSUE_SPREAD` (scanners, sequences and patients differ far more than one table says:
  the models must not learn one grey level per tissue);
- a smooth multiplicative bias field (three plane waves, peak deviation in
  :data:`BIAS_STRENGTH`) times a posterior coil's fall-off ``exp((y - y_canal) / L)``, ``L`` in
  :data:`COIL_FALLOFF_MM` (patient y grows posteriorly; 1 at L3's canal);
- per series (sagittal, angled axial, straight axial): a matrix in :data:`MATRIX` (weighted
  towards the smaller ones), a field of view, pixel spacing in :data:`SPACING_MM`, non-square
  pixels with chance :data:`NON_SQUARE_P` (one axis 0.65-0.9 times the other), the acquired
  resolution (the image is rendered at the coarser of it and the pixel spacing, then
  interpolated: a reconstruction matrix), slice thickness in :data:`THICKNESS_MM`, a gap of
  0-25 % of it, and :data:`SUB_SLICES` sub-slices averaged over the thickness (slab
  averaging); the sagittal slice count covers 45-70 mm;
- where the slices lie: the sagittal stack's lateral offset from the spine's midline (the
  middle slice is not always mid-sagittal), its A-P and S-I offsets, and the lateral offset of
  the spine in every axial image.

Not drawn (yet): scoliosis and axial rotation beyond the standard profile's few degrees,
sacralised L5, vertebral shape variants, Modic changes, wrap-around and motion artefacts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spineviewer.phantom.anatomy import Posture, SpineAnatomy, graded_levels
from spineviewer.phantom.discs import AGE_YEARS, DiscDraw, draw_discs
from spineviewer.phantom.fractures import VARIANT_LOSS, Fracture
from spineviewer.phantom.imaging import BiasField
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.phantom.sagittal import mr_labels, z_extent

#: Sub-stream of a study's seed for the wide profile's draws.
WIDE_STREAM = 20
#: Its sub-stream for the vertebrae's normal shape variants.
VARIANT_STREAM = 7
#: Chance of each sagittal field of view.
FOV_P: dict[str, float] = {
    "full": 0.4,
    "T10-L5": 0.15,
    "L2-S1": 0.15,
    "T10-S1": 0.15,
    "L1-S1": 0.15,
}
#: The last row of a field of view ending at the sacrum: from this fraction of S1's height
#: above S1's centre (S1 cut through, as a short field of view often shows it) down to the
#: centre of S3. The standard profile's ends 10-30 mm below S1.
SACRUM_CUT_ABOVE_S1_CENTRE = 0.1
#: The last row of one ending above the sacrum: this many mm above S1's highest point (in or
#: just below the L5-S1 disc).
ABOVE_SACRUM_MM: tuple[float, float] = (1.5, 10.0)
#: The curve and pose: sacral slopes from flat to steep, the spine tilted on the table.
POSTURE = Posture(l1_deg=(-2.0, 16.0), sacral_slope_deg=(20.0, 60.0), tilt_deg=12.0)
SIX_LUMBAR_P = 0.1
#: Chance that an intact vertebra has a normal shape variant (mild wedge or concave
#: endplates, :data:`~spineviewer.phantom.fractures.VARIANT_LOSS`), so that a wedge or a
#: dish alone does not mean a fracture.
SHAPE_VARIANT_P = 0.3
T1_P = 0.5
STIR_P = 0.25
NOISE_FACTOR: tuple[float, float] = (0.5, 4.0)
#: Each tissue's signal in a series is multiplied by exp(u), u uniform in +/- log(this).
TISSUE_SPREAD = 1.35
BIAS_STRENGTH: tuple[float, float] = (0.05, 0.4)
COIL_FALLOFF_MM: tuple[float, float] = (150.0, 600.0)
SPACING_MM: tuple[float, float] = (0.4, 1.5)
MATRIX: tuple[int, int] = (256, 768)
#: Matrix sizes (rows) and their chances: mostly 256-384, sometimes a 512-768 reconstruction.
MATRIX_P: dict[int, float] = {
    256: 0.22,
    320: 0.24,
    384: 0.18,
    448: 0.1,
    512: 0.1,
    576: 0.05,
    640: 0.05,
    704: 0.03,
    768: 0.03,
}
NON_SQUARE_P = 0.3
NON_SQUARE_RATIO: tuple[float, float] = (0.65, 0.9)
THICKNESS_MM: tuple[float, float] = (3.0, 6.0)
GAP_FRACTION: tuple[float, float] = (0.0, 0.25)
SUB_SLICES = 3
#: Field of view (rows direction, mm) and acquired resolution (mm) by series.
SAGITTAL_FOV_MM: tuple[float, float] = (260.0, 400.0)
AXIAL_FOV_MM: tuple[float, float] = (160.0, 260.0)
SAGITTAL_ACQUIRED_MM: tuple[float, float] = (0.75, 1.15)
AXIAL_ACQUIRED_MM: tuple[float, float] = (0.6, 1.0)
#: Columns over rows of the field of view (sagittal: taller than wide).
SAGITTAL_WIDTH: tuple[float, float] = (0.75, 1.0)
AXIAL_WIDTH: tuple[float, float] = (0.9, 1.1)
SAGITTAL_COVERAGE_MM: tuple[float, float] = (45.0, 70.0)
SAGITTAL_COUNT: tuple[int, int] = (9, 21)
SAGITTAL_LATERAL_MM: tuple[float, float] = (-8.0, 8.0)
SAGITTAL_AP_MM: tuple[float, float] = (15.0, 30.0)
SAGITTAL_SI_MM: tuple[float, float] = (-10.0, 10.0)
AXIAL_LATERAL_MM: tuple[float, float] = (-30.0, 30.0)


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return float(min(max(value, bounds[0]), bounds[1]))


def _matrix(count: float) -> int:
    return int(min(max(round(count), MATRIX[0]), MATRIX[1]))


def fit_matrix(length_mm: float, spacing: float) -> tuple[int, float]:
    """Pixels (within :data:`MATRIX`) whose centres span ``length_mm`` near ``spacing``, and
    the exact spacing (within :data:`SPACING_MM` when the length allows)."""
    low = max(MATRIX[0], math.ceil(length_mm / SPACING_MM[1]) + 1)
    high = min(MATRIX[1], math.floor(length_mm / SPACING_MM[0]) + 1)
    count = int(min(max(round(length_mm / spacing) + 1, low), max(high, low)))
    return count, length_mm / (count - 1)


@dataclass(frozen=True)
class Grid:
    """The pixel grid and the slices of one series (before a field of view is fitted)."""

    #: Written PixelSpacing (row spacing, column spacing), mm.
    spacing: tuple[float, float]
    #: (rows, columns).
    shape: tuple[int, int]
    #: Resolution the image is rendered at (per axis at least ``spacing``), mm.
    acquired: tuple[float, float]
    thickness: float
    gap: float
    sub_slices: int
    #: Slices (sagittal; the axial stacks choose their own counts).
    count: int = 0

    @property
    def step(self) -> float:
        """Centre-to-centre distance of neighbouring slices."""
        return self.thickness + self.gap

    @property
    def non_square(self) -> bool:
        """Row and column spacing differ."""
        return abs(self.spacing[0] - self.spacing[1]) > 1e-6

    def with_height(self, height_mm: float) -> Grid:
        """The grid with its rows fitted to ``height_mm`` (a cut field of view)."""
        rows, row_spacing = fit_matrix(height_mm, self.spacing[0])
        acquired = (max(self.acquired[0], row_spacing), self.acquired[1])
        return dataclasses.replace(
            self,
            spacing=(row_spacing, self.spacing[1]),
            shape=(rows, self.shape[1]),
            acquired=acquired,
        )

    def parameters(self) -> dict[str, Any]:
        """The grid as ground-truth ``parameters``."""
        out: dict[str, Any] = {
            "pixel_spacing_mm": [float(s) for s in self.spacing],
            "matrix": [int(n) for n in self.shape],
            "acquired_spacing_mm": [float(s) for s in self.acquired],
            "slice_thickness_mm": float(self.thickness),
            "slice_gap_mm": float(self.gap),
            "sub_slices": int(self.sub_slices),
        }
        if self.count:
            out["slices"] = int(self.count)
        return out


def _non_square(spacing: float, ratio: float, coarser_columns: bool) -> tuple[float, float]:
    """Row and column spacing, one ``ratio`` times the other, both within :data:`SPACING_MM`
    (the row spacing ``spacing`` moved only as far as that needs)."""
    low, high = SPACING_MM
    fine, coarse = (spacing, spacing / ratio) if coarser_columns else (spacing * ratio, spacing)
    if coarse > high:
        fine, coarse = high * ratio, high
    if fine < low:
        fine, coarse = low, low / ratio
    return (fine, coarse) if coarser_columns else (coarse, fine)


def draw_grid(
    rng: np.random.Generator,
    fov_mm: tuple[float, float],
    width: tuple[float, float],
    acquired_mm: tuple[float, float],
) -> Grid:
    """One series' grid: matrix, field of view, spacing, pixel shape, thickness, slab."""
    rows = int(rng.choice(list(MATRIX_P), p=list(MATRIX_P.values())))
    height = float(rng.uniform(*fov_mm))
    row_spacing = _clip(height / rows, SPACING_MM)
    column_spacing = row_spacing
    non_square = bool(rng.random() < NON_SQUARE_P)
    ratio = float(rng.uniform(*NON_SQUARE_RATIO))
    coarser_columns = bool(rng.random() < 0.5)
    if non_square:
        row_spacing, column_spacing = _non_square(row_spacing, ratio, coarser_columns)
    columns = _matrix(height * float(rng.uniform(*width)) / column_spacing)
    resolution = float(rng.uniform(*acquired_mm))
    thickness = float(rng.uniform(*THICKNESS_MM))
    gap = thickness * float(rng.uniform(*GAP_FRACTION))
    return Grid(
        spacing=(row_spacing, column_spacing),
        shape=(_matrix(height / row_spacing), columns),
        acquired=(max(row_spacing, resolution), max(column_spacing, resolution)),
        thickness=thickness,
        gap=gap,
        sub_slices=SUB_SLICES,
    )


@dataclass(frozen=True)
class WideStudy:
    """Everything the wide profile draws for one study (see the module docstring)."""

    seed: int
    options: MrOptions
    age_years: float
    discs: dict[str, DiscDraw]
    noise_factor: float
    bias: BiasField
    bias_strength: float
    coil_falloff_mm: float
    sagittal: Grid
    axial_angled: Grid
    axial_stack: Grid
    sagittal_lateral_mm: float
    sagittal_ap_mm: float
    sagittal_si_mm: float
    axial_lateral_mm: float

    def parameters(self) -> dict[str, Any]:
        """Every drawn value, for ground_truth.json ``parameters`` (JSON types only).

        The grids are the drawn ones; a cut field of view refits the sagittal rows, and the
        study writes the grids it used (:func:`spineviewer.phantom.mr.generate_lumbar_mr`).
        """
        return {
            "profile": "wide",
            "posture": POSTURE.parameters(),
            "sagittal_fov": self.options.sagittal_fov,
            "lumbar_vertebrae": self.options.lumbar_vertebrae,
            "sagittal_contrasts": list(self.options.sagittal_contrasts),
            "age_years": self.age_years,
            "noise_factor": self.noise_factor,
            "bias_strength": self.bias_strength,
            "bias_waves_per_mm": self.bias.waves.tolist(),
            "bias_phases": self.bias.phases.tolist(),
            "coil_falloff_mm": self.coil_falloff_mm,
            "sagittal_lateral_mm": self.sagittal_lateral_mm,
            "sagittal_ap_mm": self.sagittal_ap_mm,
            "sagittal_si_mm": self.sagittal_si_mm,
            "axial_lateral_mm": self.axial_lateral_mm,
            "sagittal": self.sagittal.parameters(),
            "axial_angled": self.axial_angled.parameters(),
            "axial_stack": self.axial_stack.parameters(),
            "discs": {level: d.parameters() for level, d in self.discs.items()},
        }


def bottom_edge(anatomy: SpineAnatomy, fov: str, rng: np.random.Generator) -> float | None:
    """Patient z of the last row of a cut field of view (None for ``full``): inside S1 down to
    S3 for those ending at the sacrum, in or near the L5-S1 disc for ``T10-L5``."""
    if fov == "full":
        return None
    if fov.endswith("-L5"):
        return z_extent(anatomy.vertebra("S1"))[1] + float(rng.uniform(*ABOVE_SACRUM_MM))
    s1 = anatomy.vertebra("S1")
    high = float(s1.centre[2]) + SACRUM_CUT_ABOVE_S1_CENTRE * s1.height
    return float(rng.uniform(float(anatomy.vertebra("S3").centre[2]), high))


def _options(rng: np.random.Generator) -> MrOptions:
    fov = str(rng.choice(list(FOV_P), p=list(FOV_P.values())))
    lumbar = 6 if rng.random() < SIX_LUMBAR_P else 5
    contrasts = ["T2"]
    if rng.random() < T1_P:
        contrasts.append("T1")
    if rng.random() < STIR_P:
        contrasts.append("STIR")
    order = rng.permutation(len(contrasts))
    return MrOptions(fov, lumbar, tuple(contrasts[i] for i in order))


def shape_variants(seed: int, labels: Sequence[str]) -> dict[str, Fracture]:
    """The normal shape variants of study ``seed``'s vertebrae ``labels`` (their own stream:
    the study's other draws do not move)."""
    rng = np.random.default_rng([seed, 1, WIDE_STREAM, VARIANT_STREAM])
    out = {}
    for label in labels:
        has = rng.random() < SHAPE_VARIANT_P
        kind = "wedge" if rng.random() < 0.5 else "biconcave"
        loss = float(rng.uniform(*VARIANT_LOSS))
        if has:
            out[label] = Fracture(kind, loss, normal_variant=True)
    return out


def tissue_factors(seed: int, series_number: int, count: int) -> np.ndarray:
    """The factors of ``count`` tissue signals in series ``series_number`` of study ``seed``
    (drawn from their own stream: the other draws of the study do not move)."""
    rng = np.random.default_rng([seed, 1, WIDE_STREAM, series_number])
    spread = math.log(TISSUE_SPREAD)
    return np.exp(rng.uniform(-spread, spread, count))


def draw_wide(seed: int) -> WideStudy:
    """The wide profile's draws for ``seed`` (the same seed always gives the same draws)."""
    rng = np.random.default_rng([seed, 1, WIDE_STREAM])
    options = _options(rng)
    levels = graded_levels(mr_labels(options))
    age = float(rng.uniform(*AGE_YEARS))
    discs = draw_discs(rng, levels, age)
    noise = float(math.exp(rng.uniform(math.log(NOISE_FACTOR[0]), math.log(NOISE_FACTOR[1]))))
    strength = float(rng.uniform(*BIAS_STRENGTH))
    bias = BiasField.random(rng, strength)
    falloff = float(rng.uniform(*COIL_FALLOFF_MM))
    sagittal = draw_grid(rng, SAGITTAL_FOV_MM, SAGITTAL_WIDTH, SAGITTAL_ACQUIRED_MM)
    coverage = float(rng.uniform(*SAGITTAL_COVERAGE_MM))
    count = int(min(max(round(coverage / sagittal.step) + 1, SAGITTAL_COUNT[0]), SAGITTAL_COUNT[1]))
    sagittal = dataclasses.replace(sagittal, count=count)
    angled = draw_grid(rng, AXIAL_FOV_MM, AXIAL_WIDTH, AXIAL_ACQUIRED_MM)
    stack = draw_grid(rng, AXIAL_FOV_MM, AXIAL_WIDTH, AXIAL_ACQUIRED_MM)
    return WideStudy(
        seed=seed,
        options=options,
        age_years=age,
        discs=discs,
        noise_factor=noise,
        bias=bias,
        bias_strength=strength,
        coil_falloff_mm=falloff,
        sagittal=sagittal,
        axial_angled=angled,
        axial_stack=stack,
        sagittal_lateral_mm=float(rng.uniform(*SAGITTAL_LATERAL_MM)),
        sagittal_ap_mm=float(rng.uniform(*SAGITTAL_AP_MM)),
        sagittal_si_mm=float(rng.uniform(*SAGITTAL_SI_MM)),
        axial_lateral_mm=float(rng.uniform(*AXIAL_LATERAL_MM)),
    )
