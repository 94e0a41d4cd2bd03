"""The AP vertebra model sees radiographs at one physical scale (its manifest's
``preprocessing.mm_per_pixel``), through the spine X-ray pipeline as through training: a
wide-profile radiograph on a fine detector matrix and the same anatomy on a coarse one reach
the network at the same size, and the pipeline finds the spine on a held-out wide radiograph."""

from __future__ import annotations

from pathlib import Path

import pytest
from xr_scale_helpers import MODELS, input_at_manifest_scale, shipped_manifest

from spineviewer.ai.analysis import analyse_path
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.xr_wide import generate_wide_xr, wide_folder_name

#: A held-out seed of vertebrae-ap's wide test range (94000-94099): T8-S1, 0.16 mm pixels.
SEED = 94_002

pytestmark = pytest.mark.skipif(
    not (MODELS / "vertebrae-ap.onnx").exists(), reason="the AP radiograph model is not shipped"
)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wide")
    generate_wide_xr(out, SEED)
    return out / wide_folder_name(SEED)


def test_the_model_input_is_at_the_manifest_scale(study: Path) -> None:
    input_at_manifest_scale(shipped_manifest("vertebrae-ap"), study, "vertebrae", (1.0, 1.5))


def test_the_pipeline_finds_the_spine_on_a_held_out_wide_radiograph(study: Path) -> None:
    truth = load_ground_truth(study)
    (findings,) = analyse_path(study, provider="cpu")
    steps = {s.name: s for s in findings.steps}
    assert steps["spine X-ray: Cobb angle"].status == "done", steps
    assert findings.cobb is not None and truth.cobb is not None
    assert abs(findings.cobb.angle_deg - truth.cobb.angle_deg) <= 6.0
    labels = [v.label for v in findings.vertebrae]
    assert labels[-1] == "S1" and "L1" in labels
    seen = {v.label for v in truth.vertebrae if v.views}
    assert len(set(labels) & seen) >= len(seen) - 1
