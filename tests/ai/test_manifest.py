"""ModelManifest: the JSON layout, its round trip, and errors that name file, field and problem."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from manifest_helpers import build_onnx, doc_example, tiny_manifest, variant

from spineviewer.ai import (
    SCHEMA_VERSION,
    ClassificationDecoding,
    DetectionDecoding,
    KeypointsDecoding,
    ManifestError,
    ModelManifest,
    SegmentationDecoding,
    file_sha256,
    manifest_from_onnx_metadata,
)
from spineviewer.ai.manifest_model import SpineLevels
from spineviewer.resources import resource_path

SOURCE = "disc-state.json"
VARIANTS = [
    ("classification", "torchvision", ClassificationDecoding),
    ("segmentation", "torchvision", SegmentationDecoding),
    ("detection", "torchvision", DetectionDecoding),
    ("detection", "yolo", DetectionDecoding),
    ("keypoints", "torchvision", KeypointsDecoding),
    ("keypoints", "yolo", KeypointsDecoding),
]


# -- the layout and its round trip ---------------------------------------------------------------


def test_the_docstring_example_is_a_valid_full_manifest() -> None:
    data = doc_example()
    manifest = ModelManifest.from_dict(data, SOURCE)
    assert manifest.to_dict() == data
    assert ModelManifest.from_json(manifest.to_json(), SOURCE) == manifest
    assert manifest.schema_version == SCHEMA_VERSION
    assert manifest.label_names == ("normal", "bulge", "herniation")
    assert manifest.labels[0].code is not None and manifest.labels[0].code.scheme == "SCT"
    assert manifest.labels[1].code is None
    assert manifest.input.channel_count == 3 and manifest.input.shape[0] == "batch"
    assert manifest.preprocessing.normalisation.percentile is not None
    assert manifest.preprocessing.roi_mm == (60.0, 60.0)
    assert manifest.output("logits").rank == 2
    assert manifest.provenance.evaluation.metrics["sensitivity"] == {"herniation": 0.88}
    assert manifest.applies_to.matches("mr", "Sagittal", contrast="t2")
    assert not manifest.applies_to.matches("mr", "Sagittal")  # contrast unknown: T2 model refuses
    assert not manifest.applies_to.matches("CT", "sagittal", contrast="T2")


@pytest.mark.parametrize(("task", "style", "kind"), VARIANTS)
def test_every_task_round_trips(task: str, style: str, kind: type) -> None:
    data = variant(task, style)
    manifest = ModelManifest.from_dict(data, SOURCE)
    assert type(manifest.decoding) is kind
    assert manifest.to_dict() == data
    assert ModelManifest.from_json(manifest.to_json(indent=None)) == manifest


def test_optional_fields_take_their_defaults() -> None:
    data = doc_example()
    for key in ("monochrome1", "roi_mm"):
        del data["preprocessing"][key]
    del data["applies_to"]["contrast"]
    del data["provenance"]["citation"]
    data["preprocessing"]["normalisation"] = {"window": {"center": 40, "width": 400}}
    manifest = ModelManifest.from_dict(data)
    pre = manifest.preprocessing
    assert pre.monochrome1 == "invert" and pre.roi_mm is None
    assert pre.normalisation.window is not None and pre.normalisation.window.width == 400
    assert manifest.applies_to.contrast == () and manifest.provenance.citation is None
    again = ModelManifest.from_dict(manifest.to_dict())
    assert again == manifest
    assert "citation" not in manifest.to_dict()["provenance"]
    assert "contrast" not in manifest.to_dict()["applies_to"]  # absent, not []


def test_load_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / SOURCE
    path.write_text(json.dumps(doc_example()), encoding="utf-8")
    assert ModelManifest.load(path).id == "disc-state"
    path.write_text('{"schema_version": 1,', encoding="utf-8")
    with pytest.raises(ManifestError, match=r"^disc-state\.json: not valid JSON: .*line 1"):
        ModelManifest.load(path)
    with pytest.raises(ManifestError, match=r"^missing\.json: cannot read the file"):
        ModelManifest.load(tmp_path / "missing.json")


# -- errors ---------------------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting the dotted ``path`` (list indices as numbers) to ``value``."""

    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return apply


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return apply


ERRORS = {
    # unknown keys, at every depth, list the allowed ones
    "unknown top-level key": (
        _set("weights", "x"),
        "weights: unknown key; allowed keys: schema_version, id, name",
    ),
    "unknown key at depth": (
        _set("preprocessing.normalisation", {"window": {"center": 1, "width": 2, "gamma": 1}}),
        "preprocessing.normalisation.window.gamma: unknown key; allowed keys: center, width",
    ),
    "unknown key in a list item": (
        _set("labels.1.colour", "#ffffff"),
        "labels[1].colour: unknown key; allowed keys: name, display, color, code",
    ),
    "unknown tensor role": (
        _set("decoding.tensors.boxes", "logits"),
        "decoding.tensors.boxes: unknown key; allowed keys: scores",
    ),
    # wrong types
    "string for an integer": (_set("opset", "17"), "opset: must be an integer, not string '17'"),
    "boolean for a number": (
        _set("preprocessing.normalisation", {"window": {"center": True, "width": 1}}),
        "preprocessing.normalisation.window.center: must be a number, not boolean True",
    ),
    "string for a boolean": (
        _set("provenance.not_for_clinical_use", "yes"),
        "provenance.not_for_clinical_use: must be true or false, not string 'yes'",
    ),
    "object for an array": (_set("authors", {"a": 1}), "authors: must be an array, not object"),
    "array for an object": (_set("applies_to", []), "applies_to: must be an object, not array"),
    "float dimension": (_set("input.shape.2", 22.5), "input.shape[2]: must be an integer"),
    "empty string": (_set("name", " "), "name: must not be empty"),
    "metric not a number": (
        _set("provenance.evaluation.metrics.sensitivity", {"bulge": "high"}),
        "provenance.evaluation.metrics.sensitivity.bulge: must be a number, not string",
    ),
    # enums
    "bad task": (_set("task", "regression"), "task: 'regression' is not one of detection, "),
    "bad resize": (
        _set("preprocessing.resize", "crop"),
        "preprocessing.resize: 'crop' is not one of stretch, letterbox",
    ),
    "bad channels": (_set("input.channels", "rgb"), "input.channels: 'rgb' is not one of grey"),
    "bad layout": (_set("input.layout", "NHWC"), "input.layout: 'NHWC' is not one of NCHW"),
    "bad output dtype": (_set("outputs.0.dtype", "float"), "outputs[0].dtype: 'float' is not"),
    # patterns
    "semver without patch": (_set("version", "1.2"), "version: '1.2' is not a semantic version"),
    "semver leading zero": (_set("version", "01.2.3"), "version: '01.2.3' is not a semantic"),
    "semver empty pre-release": (_set("version", "1.2.3-"), "version: '1.2.3-' is not a"),
    "upper-case sha256": (_set("sha256", "A" * 64), "sha256: 'AAAA"),
    "bad colour": (_set("labels.2.color", "red"), "labels[2].color: 'red' is not a colour"),
    "bad modality": (_set("applies_to.modality", ["mr"]), "applies_to.modality[0]: 'mr' is not"),
    "bad id": (_set("id", "Disc State"), "id: 'Disc State' is not an id"),
    # missing required fields
    "missing top-level field": (_drop("labels"), "labels: missing required field"),
    "missing nested field": (
        _drop("provenance.intended_use"),
        "provenance.intended_use: missing required field",
    ),
    "missing field in a list item": (_drop("labels.0.display"), "labels[0].display: missing"),
    "missing schema_version": (_drop("schema_version"), "schema_version: missing required field"),
    # schema versions
    "newer schema": (
        _set("schema_version", SCHEMA_VERSION + 1),
        f"schema_version: {SCHEMA_VERSION + 1} is newer than this SpineViewer understands "
        f"({SCHEMA_VERSION}); update SpineViewer",
    ),
    "schema zero": (_set("schema_version", 0), "schema_version: must be >= 1"),
    # values
    "zero window width": (
        _set("preprocessing.normalisation", {"window": {"center": 40, "width": 0}}),
        "preprocessing.normalisation.window.width: must be > 0",
    ),
    "percentiles out of order": (
        _set("preprocessing.normalisation.percentile", {"low": 99, "high": 1}),
        "preprocessing.normalisation.percentile.high: must be > 99",
    ),
    "two normalisations": (
        _set("preprocessing.normalisation.window", {"center": 40, "width": 400}),
        "preprocessing.normalisation: give exactly one of window, percentile",
    ),
    "zero std": (_set("preprocessing.std", [0.2, 0, 0.2]), "preprocessing.std[1]: must be > 0"),
    "negative roi": (_set("preprocessing.roi_mm", [60, -1]), "preprocessing.roi_mm[1]: must be >"),
    "zero dimension": (_set("outputs.0.shape.1", 0), "outputs[0].shape[1]: must be >= 1"),
    "logits without activation": (
        _set("decoding.activation", "none"),
        "decoding.activation: must be softmax or sigmoid when outputs are logits",
    ),
    "not a JSON object": (lambda data: data.clear(), "schema_version: missing required field"),
    # consistency between groups
    "input rank": (_set("input.shape", [1, 3, 224]), "input.shape: NCHW needs 4 dimensions"),
    "dynamic channels": (
        _set("input.shape.1", None),
        "input.shape[1]: the channel count must be a fixed integer",
    ),
    "size against shape": (
        _set("preprocessing.size", [224, 256]),
        "preprocessing.size[1]: 256 does not match input.shape[3] = 224",
    ),
    "mean per channel": (
        _set("preprocessing.mean", [0.5, 0.5]),
        "preprocessing.mean: 2 values for 3 channels; give 1 or 3",
    ),
    "grey with 3 channels": (
        _set("input.channels", "grey"),
        "input.channels: grey needs exactly 1 channel; input.shape[1] is 3",
    ),
    "even adjacent slices": (
        lambda data: data["input"].update(channels="adjacent_slices", shape=[1, 4, 224, 224]),
        "input.channels: adjacent_slices needs an odd number of channels; input.shape[1] is 4",
    ),
    "decoding names no output": (
        _set("decoding.tensors.scores", "probs"),
        "decoding.tensors.scores: 'probs' is not an output (logits)",
    ),
    "classes against labels": (
        _set("outputs.0.shape", ["batch", 4]),
        "decoding.tensors.scores: output 'logits' has 4 on axis -1, but the manifest has 3 labels",
    ),
    "duplicate label": (_set("labels.2.name", "normal"), "labels[2]: duplicate name 'normal'"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_name_file_field_and_problem(case: str) -> None:
    mutate, expected = ERRORS[case]
    data = doc_example()
    mutate(data)
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(data, SOURCE)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: {expected}"), message
    assert caught.value.source == SOURCE
    assert message == f"{SOURCE}: {caught.value.field}: {caught.value.problem}"


DECODING_ERRORS = {
    "yolo without nms": (
        ("detection", "yolo"),
        _drop("decoding.nms_iou"),
        "decoding.nms_iou: required for yolo style (the runner does NMS)",
    ),
    "yolo row length": (
        ("detection", "yolo"),
        _set("outputs.0.shape", [1, 8, 1029]),
        "decoding.tensors.predictions: output 'output0' must have rank 3 with an axis of 7",
    ),
    "yolo keypoint rows": (
        ("keypoints", "yolo"),
        _set("decoding.points", ["a", "b", "c"]),
        "decoding.tensors.predictions: output 'output0' must have rank 3 with an axis of 16 "
        "(4 box values + 3 labels + 3 x 3 points)",
    ),
    "torchvision roles": (
        ("detection", "torchvision"),
        _drop("decoding.tensors.labels"),
        "decoding.tensors.labels: missing required field",
    ),
    "keypoints without points": (
        ("keypoints", "torchvision"),
        _drop("decoding.points"),
        "decoding.points: missing required field",
    ),
    "points against tensor": (
        ("keypoints", "torchvision"),
        _set("decoding.points", ["a"]),
        "decoding.tensors.keypoints: output 'keypoints' has 2 on axis 1, but the manifest has 1",
    ),
    "duplicate points": (
        ("keypoints", "torchvision"),
        _set("decoding.points", ["a", "a"]),
        "decoding.points[1]: duplicate name 'a'",
    ),
    "detection threshold": (
        ("detection", "torchvision"),
        _set("decoding.score_threshold", 1.5),
        "decoding.score_threshold: must be <= 1",
    ),
    "points outside keypoints": (
        ("detection", "torchvision"),
        _set("decoding.points", ["a"]),
        "decoding.points: unknown key; allowed keys: style, tensors, box_format",
    ),
    "masks against labels": (
        ("segmentation", ""),
        _set("outputs.0.shape.1", 2),
        "decoding.tensors.masks: output 'masks' has 2 on axis 1, but the manifest has 3 labels",
    ),
}


@pytest.mark.parametrize("case", list(DECODING_ERRORS))
def test_decoding_errors_depend_on_the_task(case: str) -> None:
    (task, style), mutate, expected = DECODING_ERRORS[case]
    data = variant(task, style)
    mutate(data)
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(data, SOURCE)
    assert str(caught.value).startswith(f"{SOURCE}: {expected}"), str(caught.value)


def test_a_non_object_document_and_bad_json() -> None:
    with pytest.raises(ManifestError, match=r"^x\.json: must be a JSON object, not array$"):
        ModelManifest.from_dict([], "x.json")
    with pytest.raises(ManifestError, match=r"^x\.json: not valid JSON"):
        ModelManifest.from_json("{", "x.json")
    assert issubclass(ManifestError, ValueError)


def test_a_newer_schema_is_refused_before_its_unknown_keys() -> None:
    data = doc_example()
    data["schema_version"] = 7
    data["future_field"] = {"x": 1}
    with pytest.raises(ManifestError, match="schema_version: 7 is newer"):
        ModelManifest.from_dict(data, SOURCE)


def test_the_input_is_not_modified() -> None:
    data = doc_example()
    kept = copy.deepcopy(data)
    ModelManifest.from_dict(data)
    assert data == kept


# -- embedded manifests and the digest ----------------------------------------------------------


def test_manifest_from_onnx_metadata() -> None:
    text = json.dumps(doc_example())
    assert manifest_from_onnx_metadata({}) is None
    found = manifest_from_onnx_metadata({"spineviewer.manifest": text, "other": "x"})
    assert found is not None and found.id == "disc-state"
    with pytest.raises(ManifestError, match=r"^m\.onnx \(embedded\): not valid JSON"):
        manifest_from_onnx_metadata({"spineviewer.manifest": "{"}, "m.onnx (embedded)")


def test_file_sha256_of_plain_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    data = tmp_path / "data"
    data.write_bytes(bytes(range(256)) * 1000)
    assert file_sha256(empty) == hashlib.sha256(b"").hexdigest()
    assert file_sha256(data) == hashlib.sha256(data.read_bytes()).hexdigest()


def test_file_sha256_leaves_out_the_embedded_manifest(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    plain = build_onnx(tmp_path / "plain.onnx")
    digest = file_sha256(plain)
    assert digest == hashlib.sha256(plain.read_bytes()).hexdigest()
    text = json.dumps(tiny_manifest(digest))
    embedded = build_onnx(
        tmp_path / "embedded.onnx", metadata={"spineviewer.manifest": text, "author": "me"}
    )
    assert hashlib.sha256(embedded.read_bytes()).hexdigest() != digest
    with_other = build_onnx(tmp_path / "other.onnx", metadata={"author": "me"})
    assert file_sha256(embedded) == file_sha256(with_other) != digest


# -- the JSON Schema -----------------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    return json.loads(resource_path("schemas", "model-manifest-v1.schema.json").read_text("utf-8"))


def test_the_schema_names_the_same_fields_as_the_reader() -> None:
    schema = _schema()
    manifest = ModelManifest.from_dict(doc_example())
    full = manifest.to_dict()
    assert set(schema["required"]) == set(full)
    # the one optional top-level field: a segmentation model's postprocessing
    assert set(schema["properties"]) - set(full) == {"postprocessing"}
    levels = schema["$defs"]["postprocessing"]["properties"]["spine_levels"]
    assert set(levels["properties"]) == {f.name for f in fields(SpineLevels)}
    for group in ("applies_to", "input", "preprocessing", "provenance"):
        assert set(full[group]) <= set(schema["properties"][group]["properties"]), group
        assert set(schema["properties"][group]["required"]) <= set(full[group]), group
    assert set(full["labels"][0]) == set(schema["$defs"]["label"]["properties"])
    assert set(full["outputs"][0]) == set(schema["$defs"]["tensor"]["properties"])


@pytest.mark.parametrize(("task", "style", "kind"), VARIANTS)
def test_valid_manifests_fit_the_schema(task: str, style: str, kind: type) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(_schema())
    assert [e.message for e in validator.iter_errors(variant(task, style))] == []


@pytest.mark.parametrize("case", ["unknown key at depth", "bad enum", "yolo extra role"])
def test_the_schema_refuses_what_the_reader_refuses(case: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(_schema())
    data = variant("detection", "yolo")
    if case == "unknown key at depth":
        data["preprocessing"]["normalisation"]["percentile"]["gamma"] = 1
    elif case == "bad enum":
        data["decoding"]["box_format"] = "xywh"
    else:
        data["decoding"]["tensors"]["boxes"] = "boxes"
    assert list(validator.iter_errors(data))
    with pytest.raises(ManifestError):
        ModelManifest.from_dict(data)
