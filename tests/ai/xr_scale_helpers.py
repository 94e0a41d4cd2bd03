"""Checks shared by the AP radiograph models' physical-scale tests: the shipped manifest, and
that a radiograph reaches the network (and reached training) at the manifest's mm per pixel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai import find_models
from spineviewer.ai.manifest import ModelManifest
from spineviewer.ai.preprocessing import Letterbox, model_image
from spineviewer.training.detection_data import DetectionSample
from spineviewer.training.xr_data import radiograph, xr_sample

MODELS = Path(__file__).resolve().parents[2] / "onnx_models"


def shipped_manifest(model_id: str) -> ModelManifest:
    """The manifest of the shipped model ``model_id``."""
    entry = next(e for e in find_models([MODELS]) if e.id == model_id)
    assert entry.manifest is not None
    return entry.manifest


def input_at_manifest_scale(
    manifest: ModelManifest, study: Path, target: str, mm_range: tuple[float, float]
) -> tuple[DetectionSample, Letterbox]:
    """Assert that ``study``'s radiograph reaches the network at the manifest's scale (``mm``
    within ``mm_range``, a field too large zoomed out until it fits), that a matrix half as
    fine reaches it at the same size, and that training saw the same letterbox; return the
    training sample and the letterbox."""
    mm = manifest.preprocessing.mm_per_pixel
    assert mm is not None and mm_range[0] <= mm <= mm_range[1]
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
    sample = xr_sample(study, target, (h, w), mm)
    assert sample.box.scale == pytest.approx(box.scale)
    assert np.allclose(sample.image, image, atol=1e-5)
    return sample, box
