"""The AP implant model sees radiographs at one physical scale (its manifest's
``preprocessing.mm_per_pixel``), through the spine X-ray pipeline as through training: a
wide-profile radiograph on a fine detector matrix and the same anatomy on a coarse one reach
the network at the same size, and the pipeline finds the implants of a held-out wide
radiograph (and none on one without)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from xr_scale_helpers import MODELS, input_at_manifest_scale, shipped_manifest

from spineviewer.ai.analysis import analyse_path
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.xr_wide import generate_wide_xr, wide_folder_name

#: Held-out seeds of implants-ap's wide test range (93000-93099): 93002 carries four pedicle
#: screws, two rods and a cage (T8-S1 field, 0.17 mm pixels); 93000 none (T8-S1, 0.15 mm).
WITH_IMPLANTS, WITHOUT = 93_002, 93_000

pytestmark = pytest.mark.skipif(
    not (MODELS / "implants-ap.onnx").exists() or not (MODELS / "vertebrae-ap.onnx").exists(),
    reason="the AP radiograph models are not shipped",
)


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    out = tmp_path_factory.mktemp("wide")
    for seed in (WITH_IMPLANTS, WITHOUT):
        generate_wide_xr(out, seed)
    return {seed: out / wide_folder_name(seed) for seed in (WITH_IMPLANTS, WITHOUT)}


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def test_the_implant_model_input_is_at_the_manifest_scale(studies: dict[int, Path]) -> None:
    study = studies[WITH_IMPLANTS]
    sample, box = input_at_manifest_scale(
        shipped_manifest("implants-ap"), study, "implants", (1.0, 1.2)
    )
    # with the implants' boxes in input pixels
    truth = load_ground_truth(study)
    assert len(sample.boxes) == len(truth.implants) == 7
    first = truth.implants[0].box_px
    assert sample.boxes[0][0] == pytest.approx(first[0] * box.scale + box.pad_left)


def test_the_pipeline_finds_the_implants_of_a_held_out_wide_radiograph(
    studies: dict[int, Path],
) -> None:
    truth = load_ground_truth(studies[WITH_IMPLANTS])
    (findings,) = analyse_path(studies[WITH_IMPLANTS], provider="cpu")
    steps = {s.name: s for s in findings.steps}
    assert steps["spine X-ray: implants"].status == "done", steps
    assert all(i.model_id == "implants-ap" for i in findings.implants)
    # every true implant is found where it is (IoU >= 0.5 in image pixels, the right class);
    # at the manifest's threshold a few more are proposed (precision 0.78 on the wide set)
    free = list(findings.implants)
    for implant in truth.implants:
        hit = next(
            (f for f in free if f.implant_class == implant.implant_class
             and _iou(f.box_px, implant.box_px) >= 0.5),
            None,
        )  # fmt: skip
        assert hit is not None, (implant, findings.implants)
        free.remove(hit)
    assert len(free) <= 3
    (nothing,) = analyse_path(studies[WITHOUT], provider="cpu")
    assert {s.name: s for s in nothing.steps}["spine X-ray: implants"].status == "done"
    assert nothing.implants == ()
