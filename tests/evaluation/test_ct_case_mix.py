"""The lumbar CT case mix is fixed by the seed, and every study's drawn acquisition stays within
the ranges the generator promises (plans only: nothing is rendered)."""

from __future__ import annotations

import pytest

from spineviewer.evaluation.ct_case_mix import ct_case_for
from spineviewer.evaluation.ct_study import plan_ct_study
from spineviewer.evaluation.protocol import in_view, top_z


@pytest.mark.parametrize("start", [0, 720000, 123457])
def test_twenty_consecutive_seeds_hold_the_fixed_shares(start: int) -> None:
    cases = [ct_case_for(seed) for seed in range(start, start + 20)]
    assert sum(not c.sacrum_in_view for c in cases) == 4
    assert sum(c.plan.lumbar == 6 for c in cases) == 1
    assert sum(c.plan.sacralised_l5 for c in cases) == 1
    assert sum(c.top == "T11" for c in cases) == 10
    noise = sorted(c.noise_factor for c in cases)
    assert noise[0] == pytest.approx(0.5, rel=0.01) and noise[-1] == pytest.approx(4.0, rel=0.01)


def test_every_plan_covers_the_case_with_thin_slices_and_fine_pixels() -> None:
    for seed in range(720000, 720020):
        plan = plan_ct_study(seed)
        geometry, column = plan.protocol.geometry, plan.anatomy.column
        assert 1.0 <= geometry.thickness <= 3.0
        assert 0.75 * geometry.thickness <= geometry.step <= geometry.thickness
        assert geometry.shape == (512, 512)
        assert 0.5 <= geometry.spacing[0] == geometry.spacing[1] <= 0.9
        top = float(geometry.position(geometry.count - 1)[2])
        assert top > top_z(column.body(plan.case.top))  # the whole top body
        labels = [b.label for b in column.bodies]
        assert ("L6" in labels) == (plan.case.kind == "six-lumbar")
        for body in column.bodies:
            if body.label.startswith("L"):
                assert in_view(body.centre, geometry), (seed, body.label)
        assert in_view(column.body("S1").centre, geometry) == plan.case.sacrum_in_view
        if not plan.case.sacrum_in_view:
            assert float(geometry.origin[2]) > top_z(column.body("S1"))
        sigma = plan.protocol.noise_sigma_hu
        assert 3.0 < sigma < 110.0
        hu = plan.table
        assert 60.0 <= hu.trabecular_mineral <= 260.0 and -120 < hu.fat < -80


def test_the_plan_of_a_seed_does_not_depend_on_the_matrix() -> None:
    full, small = plan_ct_study(720011), plan_ct_study(720011, 64)
    assert full.protocol.parameters["slices"] == small.protocol.parameters["slices"]
    assert full.table == small.table and full.anatomy.age == small.anatomy.age
    assert small.protocol.geometry.shape == (64, 64)
    assert small.protocol.geometry.spacing[0] == pytest.approx(
        8 * full.protocol.geometry.spacing[0]
    )
