"""The sliding-window segmentation manifest: the examples in docs/examples are valid (for the
reader and for any Draft 2020-12 validator of the schema), their labels are coded as the label
vocabulary codes them, older segmentation manifests still read, and bad ones are refused with
the field named."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from manifest_helpers import variant
from segmentation_helpers import EXAMPLE_2D, EXAMPLE_3D, example

from spineviewer.ai.manifest import ManifestError, ModelManifest, SlidingWindow, ZScore
from spineviewer.ai.manifest_schema import schema
from spineviewer.annotations.vocabulary import default_vocabulary

SOURCE = "seg.json"
EXAMPLES = [EXAMPLE_3D, EXAMPLE_2D]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_examples_are_valid_manifests(path: Path) -> None:
    data = json.loads(path.read_text("utf-8"))
    assert list(Draft202012Validator(schema(1)).iter_errors(data)) == []
    manifest = ModelManifest.load(path)
    assert ModelManifest.from_dict(manifest.to_dict()) == manifest
    written = manifest.to_dict()["preprocessing"]
    assert written == data["preprocessing"]  # nothing derived is written back
    window = manifest.preprocessing.sliding_window
    assert window is not None and manifest.task == "segmentation"
    assert manifest.preprocessing.resize == "sliding_window"
    assert manifest.preprocessing.size == window.patch_size[-2:]


def test_the_3d_example_reads_as_written() -> None:
    manifest = ModelManifest.load(EXAMPLE_3D)
    assert manifest.input.layout == "NCDHW" and manifest.input.rank == 5
    assert manifest.preprocessing.sliding_window == SlidingWindow(
        spacing_mm=(1.5, 1.0, 1.0),
        patch_size=(64, 128, 128),
        overlap=0.5,
        mirror_axes=(0, 1, 2),
        batch_size=2,
    )
    assert manifest.preprocessing.normalisation.zscore == ZScore(342.5, 215.0, (-320.0, 1530.0))
    assert manifest.preprocessing.mean == (0.0,) and manifest.preprocessing.std == (1.0,)
    assert manifest.label_names[0] == "background" and len(manifest.labels) == 13
    two_d = ModelManifest.load(EXAMPLE_2D).preprocessing
    assert two_d.sliding_window is not None and two_d.sliding_window.dims == 2
    assert two_d.sliding_window.overlap == 0.25 and two_d.mean == (0.5,)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_example_labels_are_coded_as_the_vocabulary(path: Path) -> None:
    vocabulary = default_vocabulary()
    coded = 0
    for label in ModelManifest.load(path).labels:
        known = vocabulary.get(label.name)
        if known is not None:
            assert label.code is not None and known.code is not None, label.name
            assert (label.code.scheme, label.code.value) == (known.code.scheme, known.code.value)
            coded += 1
        elif label.name != "background":
            assert label.code is not None and label.code.scheme == "SCT", label.name
    assert coded >= 6


def test_a_segmentation_manifest_without_sliding_window_reads_as_before() -> None:
    data = variant("segmentation")
    manifest = ModelManifest.from_dict(data, SOURCE)
    assert manifest.preprocessing.sliding_window is None
    assert manifest.preprocessing.normalisation.zscore is None
    assert manifest.to_dict() == data
    data["preprocessing"]["sliding_window"] = None  # null counts as absent
    assert ModelManifest.from_dict(data, SOURCE) == manifest


# -- bad manifests -----------------------------------------------------------------------------


def _at(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the dotted ``path`` (list indices as numbers) to ``value``; ``...`` deletes it."""

    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        key: Any = int(last) if last.isdigit() else last
        if value is ...:
            del node[key]
        else:
            node[key] = value

    return apply


SW = "preprocessing.sliding_window"
ZS = "preprocessing.normalisation.zscore"
TWO_D = "2d"
BAD: dict[str, tuple[Any, ...]] = {
    "on a classifier": (
        lambda d: d.update(
            task="classification",
            outputs=[{"name": "logits", "dtype": "float32", "shape": ["batch", 13]}],
            decoding={
                "tensors": {"scores": "logits"},
                "activation": "softmax",
                "outputs_are_logits": True,
            },
        ),
        f"{SW}: only for task segmentation, not classification",
    ),
    "3D without sliding window": (
        lambda d: variant_3d_without_window(d),
        "input.layout: NCDHW needs preprocessing.sliding_window",
    ),
    "NCDHW with 4 dims": (_at("input.shape", [1, 1, 128, 128]), "input.shape: NCDHW needs 5"),
    "NCHW with 5 dims": (_at("input.layout", "NCHW"), "input.shape: NCHW needs 4 dimensions"),
    "unknown key": (
        _at(f"{SW}.stride", 2),
        f"{SW}.stride: unknown key; allowed keys: spacing_mm, patch_size, overlap, mirror_axes",
    ),
    "no spacing": (_at(f"{SW}.spacing_mm", ...), f"{SW}.spacing_mm: missing required field"),
    "zero spacing": (_at(f"{SW}.spacing_mm.0", 0), f"{SW}.spacing_mm[0]: must be > 0"),
    "spacing for 2D": (
        _at(f"{SW}.spacing_mm", [1.0, 1.0]),
        f"{SW}.spacing_mm: 2 values for a 3D (NCDHW) input; give 3",
    ),
    "patch against input": (
        _at(f"{SW}.patch_size.1", 64),
        f"{SW}.patch_size[1]: 64 does not match input.shape[3] = 128",
    ),
    "float patch": (_at(f"{SW}.patch_size.0", 64.5), f"{SW}.patch_size[0]: must be an integer"),
    "patch too large": (
        lambda d: _huge_patch(d),
        f"{SW}.patch_size: 1 channels x 1024 x 1024 x 1024 is 1073741824 values, more than",
    ),
    "overlap 1": (_at(f"{SW}.overlap", 1), f"{SW}.overlap: must be < 1"),
    "negative overlap": (_at(f"{SW}.overlap", -0.1), f"{SW}.overlap: must be >= 0"),
    "mirror axis 3": (_at(f"{SW}.mirror_axes", [0, 3]), f"{SW}.mirror_axes[1]: must be <= 2"),
    "mirror twice": (_at(f"{SW}.mirror_axes", [1, 1]), f"{SW}.mirror_axes[1]: duplicate axis 1"),
    "mirror axis of 2D": (
        TWO_D,
        _at(f"{SW}.mirror_axes", [0, 2]),
        f"{SW}.mirror_axes[1]: 2 is not a patch axis of a 2D (NCHW) input (0, 1)",
    ),
    "batch against input": (
        _at("input.shape.0", 1),
        f"{SW}.batch_size: 2 does not match input.shape[0] = 1",
    ),
    "size with sliding window": (
        _at("preprocessing.size", [128, 128]),
        "preprocessing.size: not used with sliding_window (its patch_size and spacing_mm",
    ),
    "roi with sliding window": (
        _at("preprocessing.roi_mm", [60, 60]),
        "preprocessing.roi_mm: not used with sliding_window",
    ),
    "zscore on a whole-image model": (
        lambda d: _whole_image_zscore(d),
        f"{ZS}: only for a sliding-window segmentation model (preprocessing.sliding_window)",
    ),
    "mean without std": (_at(f"{ZS}.std", ...), f"{ZS}.std: give mean and std together"),
    "zero std": (_at(f"{ZS}.std", 0), f"{ZS}.std: must be > 0"),
    "clip reversed": (_at(f"{ZS}.clip", [1530, -320]), f"{ZS}.clip[1]: must be > 1530"),
    "two normalisations": (
        _at("preprocessing.normalisation.window", {"center": 40, "width": 400}),
        "preprocessing.normalisation: give exactly one of window, percentile (or zscore, with",
    ),
    "activation none": (
        lambda d: d["decoding"].update(activation="none", outputs_are_logits=False),
        "decoding.activation: must be softmax or sigmoid with sliding_window",
    ),
    "masks of rank 4": (
        _at("outputs.0.shape", ["batch", 13, 128, 128]),
        "decoding.tensors.masks: output 'logits' has rank 4; a 3D (NCDHW) input needs rank 5",
    ),
    "masks against patch": (
        _at("outputs.0.shape.2", 32),
        "decoding.tensors.masks: output 'logits' has 32 on axis 2, the patch 64",
    ),
    "masks against labels": (
        _at("labels", example()["labels"][:12]),
        "decoding.tensors.masks: output 'logits' has 13 on axis 1, but the manifest has 12",
    ),
    "adjacent slices": (
        lambda d: d["input"].update(channels="adjacent_slices", shape=["b", 3, 64, 128, 128]),
        "input.channels: adjacent_slices is not read by sliding window; give grey",
    ),
    "uint8 input": (_at("input.dtype", "uint8"), "input.dtype: uint8 cannot hold normalised"),
}


def variant_3d_without_window(data: dict[str, Any]) -> None:
    del data["preprocessing"]["sliding_window"]
    data["preprocessing"].update(
        normalisation={"window": {"center": 40, "width": 400}},
        size=[128, 128],
        resize="stretch",
        mean=[0.0],
        std=[1.0],
    )


def _huge_patch(data: dict[str, Any]) -> None:
    data["preprocessing"]["sliding_window"]["patch_size"] = [1024, 1024, 1024]
    data["input"]["shape"] = ["batch", 1, None, None, None]
    data["outputs"][0]["shape"] = ["batch", 13, None, None, None]


def _whole_image_zscore(data: dict[str, Any]) -> None:
    whole = variant("segmentation")
    whole["preprocessing"]["normalisation"] = {"zscore": {}}
    data.clear()
    data.update(whole)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_manifests_are_refused_with_the_field_named(case: str) -> None:
    *which, mutate, expected = BAD[case]
    data = copy.deepcopy(example(EXAMPLE_2D if which == [TWO_D] else EXAMPLE_3D))
    mutate(data)
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(data, SOURCE)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: {expected}"), message
    assert caught.value.field and message.startswith(f"{SOURCE}: {caught.value.field}: ")


def test_the_schema_alone_refuses_whole_image_fields_with_sliding_window() -> None:
    validator = Draft202012Validator(schema(1))
    data = example()
    data["preprocessing"]["resize"] = "stretch"
    assert [list(e.absolute_path) for e in validator.iter_errors(data)] == [
        ["preprocessing", "resize"]
    ]
    whole = variant("segmentation")
    del whole["preprocessing"]["size"]
    assert list(validator.iter_errors(whole))  # size is required without sliding_window
