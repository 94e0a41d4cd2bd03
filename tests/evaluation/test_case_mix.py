"""The case mix is fixed by the seed: any 20 consecutive seeds hold the issue's proportions."""

from __future__ import annotations

import itertools

import pytest

from spineviewer.evaluation import KINDS, case_for


@pytest.mark.parametrize("start", [0, 700000, 123457])
def test_twenty_consecutive_seeds_hold_the_fixed_proportions(start: int) -> None:
    cases = [case_for(seed) for seed in range(start, start + 20)]
    assert sum(not c.sacrum_in_view for c in cases) >= 4  # >= 20 % without the sacrum
    assert sum(c.kind in ("six-lumbar", "sacralised-L5") for c in cases) >= 2  # >= 10 %
    assert sum(c.plan.lumbar == 6 for c in cases) == 1
    assert sum(c.plan.sacralised_l5 for c in cases) == 1
    assert sum(len(c.sagittal_contrasts) > 1 for c in cases) >= 5  # >= 25 % T1 or STIR
    assert sum("STIR" in c.sagittal_contrasts for c in cases) >= 1
    assert sum(c.non_square for c in cases) >= 4  # >= 20 % non-square pixels
    assert {c.axial for c in cases} == {"angled", "continuous", "both"}
    assert {c.kind for c in cases} == set(KINDS)


@pytest.mark.parametrize("start", [0, 700000, 700020, 123460])
def test_a_block_of_twenty_spreads_the_noise_from_half_to_four_times(start: int) -> None:
    noise = sorted(case_for(seed).noise_factor for seed in range(start, start + 20))
    assert noise[0] == pytest.approx(0.5) and noise[-1] == pytest.approx(4.0)
    assert len(set(noise)) == 20  # every level once: spread, not clustered
    ratios = [b / a for a, b in itertools.pairwise(noise)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-3)  # geometric steps


def test_the_sacrum_is_out_of_view_exactly_in_the_t10_l5_field() -> None:
    for seed in range(40):
        case = case_for(seed)
        assert (case.fov == "T10-L5") == (case.kind == "no-sacrum") == (not case.sacrum_in_view)
        assert case.sagittal_contrasts[0] == "T2"


def test_a_seed_always_gives_the_same_case_and_noise_is_not_tied_to_the_slot() -> None:
    assert case_for(700012) == case_for(700012)
    same_slot = {case_for(seed).noise_factor for seed in range(3, 400, 20)}
    assert len(same_slot) > 5


def test_negative_seeds_are_refused() -> None:
    with pytest.raises(ValueError, match="seed"):
        case_for(-1)
