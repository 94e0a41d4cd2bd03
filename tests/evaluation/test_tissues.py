"""The tissue signals come out of the relaxation tables with the contrasts radiologists know."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from spineviewer.ai.mr_series import STIR_TI_MS
from spineviewer.evaluation.acquire import acquire, draw_bias
from spineviewer.evaluation.render import StackGeometry
from spineviewer.evaluation.tissues import (
    ANNULUS,
    CSF,
    FAT,
    MUSCLE,
    Sequence,
    fat_null_ti,
    marrow,
    nucleus,
    signal,
)


@pytest.mark.parametrize("field_t", [1.5, 3.0])
def test_t1_t2_and_stir_order_the_tissues_as_on_patients(field_t: float) -> None:
    t1 = Sequence("T1", 550, 12, field_t)
    t2 = Sequence("T2", 4000, 100, field_t)
    stir = Sequence("STIR", 4000, 50, field_t, fat_null_ti(field_t))
    bone_marrow = marrow(0.55)
    # T1: fat and marrow bright, discs darker than marrow, CSF dark
    assert signal(FAT, t1) > signal(bone_marrow, t1) > signal(nucleus(0.0), t1)
    assert signal(nucleus(0.0), t1) > 2 * signal(CSF, t1)
    # T2: CSF and a healthy nucleus bright, marrow intermediate, muscle and annulus dark
    assert signal(CSF, t2) > signal(bone_marrow, t2) > signal(MUSCLE, t2)
    assert signal(nucleus(0.0), t2) > 1.5 * signal(bone_marrow, t2) > signal(ANNULUS, t2)
    # STIR: fat nulled, fatty marrow dark, CSF and a healthy nucleus bright
    assert signal(FAT, stir) < 0.05 * signal(CSF, stir)
    assert signal(bone_marrow, stir) < 0.3 * signal(nucleus(0.0), stir)


def test_degeneration_darkens_the_nucleus_on_t2() -> None:
    t2 = Sequence("T2", 4000, 100, 1.5)
    values = [signal(nucleus(d), t2) for d in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in itertools.pairwise(values))
    assert values[-1] < 1.2 * signal(ANNULUS, t2)


@pytest.mark.parametrize("field_t", [1.5, 3.0])
def test_the_fat_null_is_a_stir_inversion_time(field_t: float) -> None:
    assert STIR_TI_MS[0] <= fat_null_ti(field_t) <= STIR_TI_MS[1]


def test_noise_is_rician_a_rayleigh_floor_where_there_is_no_signal() -> None:
    geometry = StackGeometry(
        np.zeros(3),
        np.array([1.0, 0, 0]),
        np.array([0, 1.0, 0]),
        (1.0, 1.0),
        (128, 128),
        2,
        4.0,
        3.0,
    )
    rng = np.random.default_rng(0)
    bias = draw_bias(rng, 100.0, np.zeros(3))
    (stored,) = acquire([(np.zeros((2, 128, 128), np.float32), geometry)], bias, 0.05, rng)
    values = stored.astype(np.float64)
    # Rayleigh: mean / standard deviation = sqrt(pi / 2) / sqrt(2 - pi / 2) = 1.913
    assert values.mean() / values.std() == pytest.approx(1.913, rel=0.05)
    assert values.min() >= 0
