"""The findings as sentences (issue 22, item 8), from hand-made report rows: every sentence
says the value, where it comes from (the model's probability) and what the reader did."""

from __future__ import annotations

import pytest

from spineviewer.reports.sentences import (
    cobb_sentence,
    implant_sentence,
    level_sentence,
    vertebra_sentences,
)
from spineviewer.reports.study_report import ImplantRow, LevelRow, VertebraRow


def _level(**changes: object) -> LevelRow:
    values: dict[str, object] = {
        "level": "L4-L5",
        "state": "herniation",
        "probability": 0.94,
        "review": "accepted",
        "model_state": "herniation",
        "key_image": "1.2.3",
    }
    values.update(changes)
    return LevelRow(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "sentence"),
    [
        (_level(), "L4-L5: herniation (model 0.94; accepted by the reader)"),
        (_level(review="proposed"), "L4-L5: herniation (model 0.94; not reviewed)"),
        (_level(review="rejected"), "L4-L5: herniation (model 0.94; rejected by the reader)"),
        (
            _level(state="bulge", review="edited", probability=0.81),
            "L4-L5: bulge (model: herniation 0.81; changed by the reader)",
        ),
        (
            _level(level="L5-S1", ai_level="L4-L5"),
            "L5-S1: herniation (model 0.94; AI named it L4-L5; accepted by the reader)",
        ),
        (
            _level(view="sagittal", probability=None),
            "L4-L5: herniation (model; sagittal view; accepted by the reader)",
        ),
    ],
)
def test_level_sentences(row: LevelRow, sentence: str) -> None:
    assert level_sentence(row) == sentence


def _vertebra(label: str, fracture: str | None = "normal", **changes: object) -> VertebraRow:
    values: dict[str, object] = {"label": label, "review": "proposed", "fracture": fracture}
    values.update(changes)
    return VertebraRow(**values)  # type: ignore[arg-type]


def test_a_confirmed_fracture_gives_its_genant_grade_and_height_loss() -> None:
    row = _vertebra(
        "L2", "fractured", fracture_probability=0.99, body_heights_mm=(16.5, 19.0, 24.0),
        height_loss=0.31, review="accepted",
    )  # fmt: skip
    assert vertebra_sentences([row]) == [
        "L2: compression fracture, Genant grade 2 (height loss 31 %; model 0.99; "
        "accepted by the reader)"
    ]


def test_an_uncertain_fracture_says_both_answers() -> None:
    heights = _vertebra(
        "L1", "uncertain", fracture_probability=0.97, body_heights_mm=(24.0, 23.5, 24.0),
        height_loss=0.02, fracture_reasons=("the model says fractured (0.97) but ...",),
    )  # fmt: skip
    assert vertebra_sentences([heights]) == [
        "L1: fracture uncertain — the model says fractured (0.97) but the body's heights show "
        "no loss (A/M/P 24/23.5/24 mm; not reviewed)"
    ]
    some = _vertebra(
        "L1", "uncertain", fracture_probability=0.97, body_heights_mm=(21.0, 23.5, 24.0),
        height_loss=0.125,
    )  # fmt: skip
    assert "heights show only a loss of 12 %" in vertebra_sentences([some])[0]
    intact = _vertebra(
        "L3", "uncertain", fracture_probability=0.08, body_heights_mm=(17.0, 22.0, 24.0),
        height_loss=0.29,
    )  # fmt: skip
    assert vertebra_sentences([intact]) == [
        "L3: fracture uncertain — the model says intact (fracture 0.08) but the body's heights "
        "show a loss of 29 %, Genant grade 2 (A/M/P 17/22/24 mm; not reviewed)"
    ]


def test_fractures_without_heights_say_so() -> None:
    unmeasured = _vertebra("T12", "fractured", fracture_probability=0.9)
    assert vertebra_sentences([unmeasured]) == [
        "T12: fracture (body heights not measured; model 0.90; not reviewed)"
    ]
    unchecked = _vertebra(
        "L1", "uncertain", fracture_probability=0.6,
        fracture_reasons=("body heights not measured: the model's answer unchecked",),
    )  # fmt: skip
    assert vertebra_sentences([unchecked]) == [
        "L1: fracture uncertain — body heights not measured: the model's answer unchecked "
        "(not reviewed)"
    ]


def test_intact_vertebrae_are_one_sentence_of_ranges() -> None:
    rows = [
        _vertebra("T11", None),  # the fracture model did not judge it: not named
        _vertebra("T12"),
        _vertebra("L1"),
        _vertebra("L2", "fractured", fracture_probability=0.95, height_loss=0.22),
        _vertebra("L3"),
        _vertebra("L4", review="rejected"),  # a rejected body is not called intact
        _vertebra("L5"),
    ]
    assert vertebra_sentences(rows) == [
        "L2: compression fracture, Genant grade 1 (height loss 22 %; model 0.95; not reviewed)",
        "T12-L1, L3, L5: no fracture (model)",
    ]


def test_renamed_vertebra_and_series_are_named() -> None:
    row = _vertebra(
        "L3", "fractured", fracture_probability=0.9, height_loss=0.45, ai_label="L2",
        series='Series 4 "LAT"',
    )  # fmt: skip
    assert vertebra_sentences([row])[0].startswith(
        'L3 (AI: L2), Series 4 "LAT": compression fracture, Genant grade 3 (height loss 45 %'
    )


def test_cobb_and_implant_sentences() -> None:
    cobb = {"angle_deg": 23.44, "upper_vertebra": "T12", "lower_vertebra": "L3"}
    assert cobb_sentence(cobb) == (
        "Cobb angle 23.4° from the upper endplate of T12 to the lower endplate of L3"
    )
    assert implant_sentence(ImplantRow("pedicle_screw", 0.912, "proposed")) == (
        "Implant: pedicle screw (score 0.91; not reviewed)"
    )
