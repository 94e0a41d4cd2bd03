"""The AP vertebra model sees radiographs at one physical scale (its manifest's
``preprocessing.mm_per_pixel``), through the spine X-ray pipeline as through training: a
wide-profile radiograph on a fine detector matrix and the same anatomy on a coarse one reach
the network at the same size, and the pipeline finds the spine on a held-out wide radiograph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai import find_models
from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.preprocessing import model_image
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.xr_wide import generate_wide_xr, wide_folder_name
from spineviewer.training.xr_data import radiograph, xr_sample

MODELS = Path(__file__).resolve().parents[2] / "onnx_models"
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


def _manifest():  # type: ignore[no-untyped-def]
    entry = next(e for e in find_models([MODELS]) if e.id == "vertebrae-ap")
    assert entry.manifest is not None
    return entry.manifest


def test_the_model_input_is_at_the_manifest_scale(study: Path) -> None:
    manifest = _manifest()
    mm = manifest.preprocessing.mm_per_pixel
    assert mm is not None and 1.0 <= mm <= 1.5
    stack, values, mono1 = radiograph(study)
    spacing = stack.pixel_spacing
    assert spacing is not None
    image, box = model_image(manifest, values, mono1, spacing=spacing)
    h, w = manifest.preprocessing.size
    assert image.shape == (h, w)
    fits = max(values.shape[0] * spacing[0] / h, values.shape[1] * spacing[1] / w)
    assert box.scale == pytest.approx(spacing[1] / max(mm, fits))
    # the same anatomy on a matrix half as fine reaches the network at the same size
    coarse = values[::2, ::2]
    _, coarse_box = model_image(manifest, coarse, mono1, spacing=(2 * spacing[0], 2 * spacing[1]))
    assert coarse_box.scale == pytest.approx(2 * box.scale, rel=1e-2)
    # training saw the same letterbox
    sample = xr_sample(study, "vertebrae", (h, w), mm)
    assert sample.box.scale == pytest.approx(box.scale)
    assert np.allclose(sample.image, image, atol=1e-5)


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
