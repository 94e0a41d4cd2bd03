"""Ground-truth files: schema, JSON round trip, honesty flags, argument checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.phantom import KINDS, SCHEMA_VERSION, StudyGroundTruth, generate, load_ground_truth
from spineviewer.phantom.anatomy import DISC_STATES, GRADED_LEVELS, build_anatomy

from .conftest import Study


def test_json_round_trip_is_exact(mr_study: Study, ct_study: Study, xr_studies: list[Study]):
    for study in (mr_study, ct_study, *xr_studies):
        data = json.loads((study.path / "ground_truth.json").read_text())
        assert StudyGroundTruth.from_json(data).to_json() == data
        assert data["schema_version"] == SCHEMA_VERSION == 1
        assert data["not_for_clinical_use"] is True
        assert data["kind"] in KINDS


def test_every_series_says_it_is_synthetic(mr_study: Study, ct_study: Study):
    for study in (mr_study, ct_study):
        for series in study.truth.series:
            assert series.description.endswith("SYNTHETIC PHANTOM - NOT FOR CLINICAL USE")
            assert series.number_of_images == len(series.images)
            for image in series.images:
                assert (study.path / image.file).is_file()


def test_mr_truth_lists_levels_and_states(mr_study: Study):
    truth = mr_study.truth
    assert [v.label for v in truth.vertebrae] == ["T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"]
    levels = [d.level for d in truth.discs]
    assert levels[-5:] == list(GRADED_LEVELS)
    assert {d.state for d in truth.discs} == set(DISC_STATES)
    for disc in truth.discs:
        assert (disc.herniation_mm > 3) == (disc.state == "herniation")
        assert (disc.bulge_mm > 1) == (disc.state == "bulge")
        assert abs(np.linalg.norm(disc.normal) - 1) < 1e-3
    assert truth.cobb is None


def test_every_disc_state_appears_across_seeds():
    seen = {level: set() for level in GRADED_LEVELS}
    for seed in range(40):
        for disc in build_anatomy(np.random.default_rng([seed, 1])).discs:
            if disc.level in seen:
                seen[disc.level].add(disc.state)
    assert all(states == set(DISC_STATES) for states in seen.values()), seen


def test_load_rejects_other_schema_versions(tmp_path: Path, xr_studies: list[Study]):
    data = json.loads((xr_studies[0].path / "ground_truth.json").read_text())
    data["schema_version"] = 99
    (tmp_path / "ground_truth.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="schema_version 99"):
        load_ground_truth(tmp_path)


@pytest.mark.parametrize(
    ("kind", "seed", "message"),
    [("knee-mr", 1, "unknown phantom kind"), ("spine-xr", -1, "non-negative")],
)
def test_generate_rejects_bad_arguments(tmp_path: Path, kind: str, seed: int, message: str):
    with pytest.raises(ValueError, match=message):
        generate(kind, tmp_path, seed)
    assert list(tmp_path.iterdir()) == []
