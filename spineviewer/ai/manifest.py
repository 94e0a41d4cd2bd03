"""The model manifest: what a model is, what it eats, what it returns and where it came from.

A model package is ``NAME.onnx`` plus ``NAME.json`` (this manifest) and a model card
``NAME.md``. The same JSON may instead be embedded in the ONNX file as the ``metadata_props``
entry ``spineviewer.manifest``; a sidecar file wins when both exist. The layout is one object
per group; unknown keys are refused, every error names the file, the field path and the
problem (``disc-state.json: preprocessing.normalisation.window.width: must be > 0``).
``resources/schemas/model-manifest-v1.schema.json`` describes the same layout as JSON Schema.

A full example (a classifier)::

    {
      "schema_version": 1,
      "id": "disc-state",
      "name": "Lumbar disc state (demo)",
      "version": "1.2.0",
      "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "opset": 17,
      "min_onnxruntime": "1.17",
      "license": "Apache-2.0",
      "authors": ["SpineViewer developers"],
      "task": "classification",
      "applies_to": {
        "modality": ["MR"], "view": ["sagittal"], "sequence": ["T2"], "body_part": "LSPINE"
      },
      "input": {
        "name": "image", "dtype": "float32", "shape": ["batch", 3, 224, 224],
        "layout": "NCHW", "channels": "replicated_grey"
      },
      "preprocessing": {
        "size": [224, 224],
        "resize": "letterbox",
        "normalisation": {"percentile": {"low": 1, "high": 99}},
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "monochrome1": "invert",
        "roi_mm": [60, 60]
      },
      "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", 3]}],
      "decoding": {
        "tensors": {"scores": "logits"}, "activation": "softmax", "outputs_are_logits": true
      },
      "labels": [
        {"name": "normal", "display": "Normal", "color": "#43aa8b",
         "code": {"scheme": "SCT", "value": "17621005", "meaning": "Normal"}},
        {"name": "bulge", "display": "Disc bulge", "color": "#f9c74f"},
        {"name": "herniation", "display": "Disc herniation", "color": "#f94144"}
      ],
      "provenance": {
        "training_data": {"description": "Synthetic lumbar MR phantoms", "license": "CC0-1.0"},
        "evaluation": {
          "data": "500 held-out phantom discs",
          "metrics": {"accuracy": 0.91, "sensitivity": {"herniation": 0.88}}
        },
        "intended_use": "Demonstration of the SpineViewer AI pipeline",
        "limitations": ["Trained on phantoms only"],
        "not_for_clinical_use": true,
        "citation": "SpineViewer developers, SpineViewer demo models (2025)"
      }
    }

Groups and their rules:

- identity: ``id`` (``[a-z0-9][a-z0-9._-]*``), ``version`` (semantic version), ``sha256`` of the
  ONNX file (64 lower-case hex digits; an embedded manifest entry is not counted, see
  ``file_sha256``), ``opset`` and ``min_onnxruntime`` ("1.17" or "1.17.1").
- ``applies_to``: lists of DICOM modalities and views (compared case-insensitively), optional
  sequence hints, body part.
- ``input``: NCHW only; ``shape`` has 4 dims, each an integer or a dynamic dim (null or a name);
  the channel count is fixed. ``channels``: ``grey`` (1 channel), ``replicated_grey`` (the grey
  image copied into C >= 2 channels), ``adjacent_slices`` (an odd number C of neighbouring slices
  centred on the target slice).
- ``preprocessing``: ``size`` [h, w] must equal the fixed input dims; ``resize`` stretch or
  letterbox; optional ``roi_mm`` [h, w] crops a physical region first; ``normalisation`` is
  exactly one of ``window`` {center, width} or ``percentile`` {low, high}, mapping intensities to
  0..1, then ``(x - mean) / std`` per channel (1 value, or one per channel); ``monochrome1``:
  ``invert`` (default: present the image as MONOCHROME2) or ``keep``.
- ``outputs``: the tensors the runner reads (name, dtype, shape).
- ``decoding`` depends on ``task``; ``tensors`` maps each role to an output name:

  - classification: roles ``scores``; ``activation`` softmax (classes exclude each other),
    sigmoid (independent) or none (raw scores); ``outputs_are_logits``: true when the runner
    must apply the activation, false when the model already did.
  - segmentation: roles ``masks`` (N, C, H, W); activation and logits as above, optional
    ``threshold`` (default 0.5) for sigmoid masks.
  - detection: ``style`` ``torchvision`` (roles ``boxes``, ``labels``, ``scores``; NMS done in
    the model, optional ``nms_iou`` for an extra pass) or ``yolo`` (role ``predictions``,
    rank 3, one axis of length 4 + C: box then class scores; ``nms_iou`` required, NMS by the
    runner); ``box_format`` xyxy or cxcywh; ``coordinates`` input_pixels or normalised;
    ``score_threshold``; optional ``nms_per_class`` (default false: one object, one box, whatever
    its class; true when objects of different classes may overlap, a screw under a rod).
  - keypoints: as detection plus ``points`` (the point names of one instance, in order); role
    ``keypoints`` (N, K, 3) for torchvision, or 3 more values per point in yolo rows.

- ``labels``: ordered (index i is class i), each {name, display, color "#rrggbb", optional code
  {scheme, value, meaning}}.
- ``provenance``: training data and its licence, evaluation data and metrics (a number, or a
  number per class), intended use, limitations, ``not_for_clinical_use``, optional citation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from spineviewer.ai._manifest_fields import (
    FieldError,
    Fields,
    array,
    integer,
    join,
    json_type,
    number,
    text,
)
from spineviewer.ai.onnx_file import METADATA_KEY, ORT_DTYPES, check_onnx_file, file_sha256

__all__ = [
    "METADATA_KEY",
    "SCHEMA_VERSION",
    "AppliesTo",
    "ClassificationDecoding",
    "Decoding",
    "DetectionDecoding",
    "Evaluation",
    "InputSpec",
    "KeypointsDecoding",
    "LabelCode",
    "ManifestError",
    "ModelLabel",
    "ModelManifest",
    "Normalisation",
    "Percentile",
    "Preprocessing",
    "Provenance",
    "SegmentationDecoding",
    "TensorSpec",
    "TrainingData",
    "Window",
    "check_onnx_file",
    "file_sha256",
    "manifest_from_onnx_metadata",
]

#: The manifest layout this SpineViewer reads and writes.
SCHEMA_VERSION = 1

TASKS = ("detection", "classification", "keypoints", "segmentation")
INPUT_DTYPES = ("float32", "float16", "uint8")
CHANNELS = ("grey", "replicated_grey", "adjacent_slices")
RESIZE_MODES = ("stretch", "letterbox")
MONOCHROME1 = ("invert", "keep")
ACTIVATIONS = ("softmax", "sigmoid", "none")
DETECTION_STYLES = ("torchvision", "yolo")
BOX_FORMATS = ("xyxy", "cxcywh")
COORDINATES = ("input_pixels", "normalised")

_SEMVER = (
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?"
)
_ID = r"[a-z0-9][a-z0-9._-]*"
_SHA256 = r"[0-9a-f]{64}"
_ORT_VERSION = r"\d+\.\d+(\.\d+)?"
_COLOR = r"#[0-9a-fA-F]{6}"
_MODALITY = r"[A-Z0-9]{2,16}"

Dim = int | str | None


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file, the field and the problem."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        where = f"{source}: {field}" if field else source
        super().__init__(_printable(f"{where}: {problem}"))
        self.source = source
        self.field = field
        self.problem = problem


def _printable(text: str) -> str:
    """``text`` on one line: line breaks and other control characters written as escapes
    (a key or value quoted from the file may hold them)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


# -- the data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelCode:
    """A coded concept, the same shape as ``annotations.vocabulary.Code``."""

    scheme: str
    value: str
    meaning: str


@dataclass(frozen=True)
class ModelLabel:
    """One output class."""

    name: str
    display: str
    color: str
    code: LabelCode | None = None


@dataclass(frozen=True)
class AppliesTo:
    """Which images the model is meant for."""

    modality: tuple[str, ...]
    view: tuple[str, ...]
    body_part: str
    sequence: tuple[str, ...] = ()

    def matches(self, modality: str, view: str) -> bool:
        """Whether an image of ``modality`` seen in ``view`` fits (case-insensitive)."""
        return _among(modality, self.modality) and _among(view, self.view)


def _among(value: str, options: tuple[str, ...]) -> bool:
    return value.casefold() in {o.casefold() for o in options}


@dataclass(frozen=True)
class TensorSpec:
    """A named tensor; dynamic dims are None or a symbolic name."""

    name: str
    dtype: str
    shape: tuple[Dim, ...]

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class InputSpec(TensorSpec):
    """The image input: NCHW, with the meaning of its channels."""

    layout: str
    channels: str

    @property
    def channel_count(self) -> int:
        count = self.shape[1]
        assert isinstance(count, int)  # checked when the manifest was read
        return count


@dataclass(frozen=True)
class Window:
    """Intensity window mapped to 0..1."""

    center: float
    width: float


@dataclass(frozen=True)
class Percentile:
    """The image's ``low`` and ``high`` percentiles mapped to 0 and 1."""

    low: float
    high: float


@dataclass(frozen=True)
class Normalisation:
    """Exactly one of ``window`` and ``percentile`` is set."""

    window: Window | None = None
    percentile: Percentile | None = None


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the input tensor."""

    size: tuple[int, int]
    resize: str
    normalisation: Normalisation
    mean: tuple[float, ...]
    std: tuple[float, ...]
    monochrome1: str = "invert"
    roi_mm: tuple[float, float] | None = None


@dataclass(frozen=True)
class ClassificationDecoding:
    """Scores per class; ``tensors`` = {"scores": output name}."""

    tensors: dict[str, str]
    activation: str
    outputs_are_logits: bool


@dataclass(frozen=True)
class SegmentationDecoding:
    """Per-pixel class scores; ``tensors`` = {"masks": output name}."""

    tensors: dict[str, str]
    activation: str
    outputs_are_logits: bool
    threshold: float = 0.5


@dataclass(frozen=True)
class DetectionDecoding:
    """Boxes with labels and scores (torchvision style) or YOLO rows decoded by the runner."""

    style: str
    tensors: dict[str, str]
    box_format: str
    coordinates: str
    score_threshold: float
    nms_iou: float | None
    #: NMS within each class (None: not said, i.e. class-agnostic).
    nms_per_class: bool | None = None


@dataclass(frozen=True)
class KeypointsDecoding(DetectionDecoding):
    """Detection plus named points per instance."""

    points: tuple[str, ...] = ()


Decoding = ClassificationDecoding | SegmentationDecoding | DetectionDecoding


@dataclass(frozen=True)
class TrainingData:
    description: str
    license: str


@dataclass(frozen=True)
class Evaluation:
    """Evaluation data and metrics: a number, or a number per label name."""

    data: str
    metrics: dict[str, float | dict[str, float]]


@dataclass(frozen=True)
class Provenance:
    training_data: TrainingData
    evaluation: Evaluation
    intended_use: str
    limitations: tuple[str, ...]
    not_for_clinical_use: bool
    citation: str | None = None


@dataclass(frozen=True)
class ModelManifest:
    """A validated manifest (compare by value; ``to_dict`` / ``from_dict`` round-trip)."""

    schema_version: int
    id: str
    name: str
    version: str
    sha256: str
    opset: int
    min_onnxruntime: str
    license: str
    authors: tuple[str, ...]
    task: str
    applies_to: AppliesTo
    input: InputSpec
    preprocessing: Preprocessing
    outputs: tuple[TensorSpec, ...]
    decoding: Decoding
    labels: tuple[ModelLabel, ...]
    provenance: Provenance

    @classmethod
    def from_dict(cls, data: Any, source: str = "manifest") -> ModelManifest:
        """Validate parsed JSON; ManifestError names ``source``, the field path and the problem."""
        try:
            manifest = _read_manifest(data)
            _check_consistency(manifest)
        except FieldError as exc:
            raise ManifestError(source, exc.path, exc.problem) from None
        return manifest

    @classmethod
    def from_json(cls, text: str, source: str = "manifest") -> ModelManifest:
        """Parse and validate JSON text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            raise ManifestError(source, "", problem) from None
        except ValueError as exc:  # a number too long for int() (sys.get_int_max_str_digits)
            raise ManifestError(source, "", f"not valid JSON: {exc}") from None
        except RecursionError:
            raise ManifestError(source, "", "not valid JSON: nested too deeply") from None
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: str | Path) -> ModelManifest:
        """Read a manifest file; errors name the file."""
        path = Path(path)
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(path.name, "", f"cannot read the file ({exc})") from None
        return cls.from_json(content, path.name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout (optional fields left out when unset)."""
        dumped = _dump(self)
        assert isinstance(dumped, dict)
        return dumped

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False) + "\n"

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def output(self, name: str) -> TensorSpec:
        """The output tensor called ``name`` (KeyError when there is none)."""
        for spec in self.outputs:
            if spec.name == name:
                return spec
        raise KeyError(name)


def manifest_from_onnx_metadata(
    metadata: Mapping[str, str], source: str = "embedded manifest"
) -> ModelManifest | None:
    """The manifest embedded under ``spineviewer.manifest``; None when there is none."""
    content = metadata.get(METADATA_KEY)
    if content is None:
        return None
    return ModelManifest.from_json(content, source)


def _dump(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        members = ((f.name, getattr(value, f.name)) for f in fields(value))
        return {name: _dump(member) for name, member in members if member is not None}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


# -- reading -------------------------------------------------------------------------------------

_IDENTITY = (
    "schema_version",
    "id",
    "name",
    "version",
    "sha256",
    "opset",
    "min_onnxruntime",
    "license",
    "authors",
)
_GROUPS = (
    "task",
    "applies_to",
    "input",
    "preprocessing",
    "outputs",
    "decoding",
    "labels",
    "provenance",
)


def _read_manifest(data: Any) -> ModelManifest:
    _check_schema_version(data)
    f = Fields(data, "", (*_IDENTITY, *_GROUPS))
    task = f.choice("task", TASKS)
    return ModelManifest(
        schema_version=f.integer("schema_version"),
        id=f.text("id", _ID, "an id (lower-case letters, digits, '.', '_', '-')"),
        name=f.text("name"),
        version=f.text("version", _SEMVER, "a semantic version (MAJOR.MINOR.PATCH)"),
        sha256=f.text("sha256", _SHA256, "a sha256 digest (64 lower-case hex digits)"),
        opset=f.integer("opset", minimum=1),
        min_onnxruntime=f.text("min_onnxruntime", _ORT_VERSION, "a version like 1.17 or 1.17.1"),
        license=f.text("license"),
        authors=f.texts("authors"),
        task=task,
        applies_to=_applies_to(
            f.child("applies_to", ("modality", "view", "body_part"), ("sequence",))
        ),
        input=_input(f.child("input", ("name", "dtype", "shape", "layout", "channels"))),
        preprocessing=_preprocessing(f),
        outputs=tuple(_tensor(*item) for item in f.items("outputs")),
        decoding=_decoding(f, task),
        labels=tuple(_label(*item) for item in f.items("labels")),
        provenance=_provenance(f),
    )


def _check_schema_version(data: Any) -> None:
    if not isinstance(data, dict):
        raise FieldError("", f"must be a JSON object, not {json_type(data)}")
    if "schema_version" not in data:
        raise FieldError("schema_version", "missing required field")
    version = integer(data["schema_version"], "schema_version", minimum=1)
    if version > SCHEMA_VERSION:
        raise FieldError(
            "schema_version",
            f"{version} is newer than this SpineViewer understands ({SCHEMA_VERSION}); "
            "update SpineViewer to use this model",
        )


def _applies_to(f: Fields) -> AppliesTo:
    modality = f.texts("modality")
    where = join(f.path, "modality")
    for i, value in enumerate(modality):
        text(value, join(where, i), _MODALITY, "a DICOM modality like MR")
    return AppliesTo(modality, f.texts("view"), f.text("body_part"), f.texts("sequence", False))


def _dims(value: Any, path: str) -> tuple[Dim, ...]:
    dims: list[Dim] = []
    for i, dim in enumerate(array(value, path, non_empty=True)):
        where = join(path, i)
        if dim is None or isinstance(dim, str):
            dims.append(None if dim is None else text(dim, where))
        else:
            dims.append(integer(dim, where, minimum=1))
    return tuple(dims)


def _tensor(value: Any, path: str) -> TensorSpec:
    f = Fields(value, path, ("name", "dtype", "shape"))
    dtype = f.choice("dtype", tuple(ORT_DTYPES))
    return TensorSpec(f.text("name"), dtype, _dims(*f.at("shape")))


def _input(f: Fields) -> InputSpec:
    shape = _dims(*f.at("shape"))
    where = join(f.path, "shape")
    if len(shape) != 4:
        raise FieldError(where, f"NCHW needs 4 dimensions, not {len(shape)}")
    if not isinstance(shape[1], int):
        raise FieldError(join(where, 1), "the channel count must be a fixed integer")
    return InputSpec(
        name=f.text("name"),
        dtype=f.choice("dtype", INPUT_DTYPES),
        shape=shape,
        layout=f.choice("layout", ("NCHW",)),
        channels=f.choice("channels", CHANNELS),
    )


def _preprocessing(parent: Fields) -> Preprocessing:
    f = parent.child(
        "preprocessing",
        ("size", "resize", "normalisation", "mean", "std"),
        ("monochrome1", "roi_mm"),
    )
    values, where = f.at("size")
    size = [integer(v, join(where, i), minimum=1) for i, v in enumerate(array(values, where, 2))]
    roi = f.numbers("roi_mm", length=2, gt=0) if f.has("roi_mm") else None
    return Preprocessing(
        size=(size[0], size[1]),
        resize=f.choice("resize", RESIZE_MODES),
        normalisation=_normalisation(f.child("normalisation", (), ("window", "percentile"))),
        mean=f.numbers("mean"),
        std=f.numbers("std", gt=0),
        monochrome1=f.choice("monochrome1", MONOCHROME1, default="invert"),
        roi_mm=(roi[0], roi[1]) if roi else None,
    )


def _normalisation(f: Fields) -> Normalisation:
    if f.has("window") == f.has("percentile"):
        raise FieldError(f.path, "give exactly one of window, percentile")
    if f.has("window"):
        w = f.child("window", ("center", "width"))
        return Normalisation(window=Window(w.number("center"), w.number("width", gt=0)))
    p = f.child("percentile", ("low", "high"))
    low = p.number("low", ge=0, le=100)
    return Normalisation(percentile=Percentile(low, p.number("high", gt=low, le=100)))


def _roles(task: str, style: str | None) -> tuple[str, ...]:
    if task == "classification":
        return ("scores",)
    if task == "segmentation":
        return ("masks",)
    if style == "yolo":
        return ("predictions",)
    extra = ("keypoints",) if task == "keypoints" else ()
    return ("boxes", "labels", "scores", *extra)


def _decoding(parent: Fields, task: str) -> Decoding:
    score_keys = ("tensors", "activation", "outputs_are_logits")
    if task in ("classification", "segmentation"):
        optional = ("threshold",) if task == "segmentation" else ()
        f = parent.child("decoding", score_keys, optional)
        tensors = _tensors(f, task, None)
        activation = f.choice("activation", ACTIVATIONS)
        logits = f.flag("outputs_are_logits")
        if logits and activation == "none":
            raise FieldError(
                join(f.path, "activation"), "must be softmax or sigmoid when outputs are logits"
            )
        if task == "classification":
            return ClassificationDecoding(tensors, activation, logits)
        threshold = f.number("threshold", gt=0, le=1) if f.has("threshold") else 0.5
        return SegmentationDecoding(tensors, activation, logits, threshold)
    required = ["style", "tensors", "box_format", "coordinates", "score_threshold"]
    if task == "keypoints":
        required.append("points")
    f = parent.child("decoding", required, ("nms_iou", "nms_per_class"))
    style = f.choice("style", DETECTION_STYLES)
    if style == "yolo" and not f.has("nms_iou"):
        raise FieldError(join(f.path, "nms_iou"), "required for yolo style (the runner does NMS)")
    common = (
        style,
        _tensors(f, task, style),
        f.choice("box_format", BOX_FORMATS),
        f.choice("coordinates", COORDINATES),
        f.number("score_threshold", ge=0, le=1),
        f.number("nms_iou", gt=0, le=1) if f.has("nms_iou") else None,
        f.flag("nms_per_class") if f.has("nms_per_class") else None,
    )
    if task == "keypoints":
        return KeypointsDecoding(*common, points=_unique(f.texts("points"), join(f.path, "points")))
    return DetectionDecoding(*common)


def _tensors(f: Fields, task: str, style: str | None) -> dict[str, str]:
    t = f.child("tensors", _roles(task, style))
    return {role: t.text(role) for role in t.data}


def _label(value: Any, path: str) -> ModelLabel:
    f = Fields(value, path, ("name", "display", "color"), ("code",))
    code = None
    if f.has("code"):
        c = f.child("code", ("scheme", "value", "meaning"))
        code = LabelCode(c.text("scheme"), c.text("value"), c.text("meaning"))
    color = f.text("color", _COLOR, "a colour like #1f77b4")
    return ModelLabel(f.text("name"), f.text("display"), color, code)


def _provenance(parent: Fields) -> Provenance:
    f = parent.child(
        "provenance",
        ("training_data", "evaluation", "intended_use", "limitations", "not_for_clinical_use"),
        ("citation",),
    )
    t = f.child("training_data", ("description", "license"))
    e = f.child("evaluation", ("data", "metrics"))
    return Provenance(
        training_data=TrainingData(t.text("description"), t.text("license")),
        evaluation=Evaluation(e.text("data"), _metrics(*e.at("metrics"))),
        intended_use=f.text("intended_use"),
        limitations=f.texts("limitations"),
        not_for_clinical_use=f.flag("not_for_clinical_use"),
        citation=f.text("citation") if f.has("citation") else None,
    )


def _metrics(value: Any, path: str) -> dict[str, float | dict[str, float]]:
    """Metric names are free: a number each, or an object of numbers (one per label)."""
    if not isinstance(value, dict):
        raise FieldError(path, f"must be an object, not {json_type(value)}")
    metrics: dict[str, float | dict[str, float]] = {}
    for key, member in value.items():
        where = join(path, key)
        if isinstance(member, dict):
            metrics[key] = {k: number(v, join(where, k)) for k, v in member.items()}
        else:
            metrics[key] = number(member, where)
    return metrics


def _unique(names: tuple[str, ...], path: str) -> tuple[str, ...]:
    for i, name in enumerate(names):
        if name in names[:i]:
            raise FieldError(f"{path}[{i}]", f"duplicate name {name!r}")
    return names


# -- consistency between groups ------------------------------------------------------------------


def _check_consistency(m: ModelManifest) -> None:
    _unique(tuple(o.name for o in m.outputs), "outputs")
    _unique(m.label_names, "labels")
    _check_channels(m.input, m.preprocessing)
    for role, name in m.decoding.tensors.items():
        if name not in {o.name for o in m.outputs}:
            outputs = ", ".join(o.name for o in m.outputs)
            raise FieldError(f"decoding.tensors.{role}", f"{name!r} is not an output ({outputs})")
    _check_class_axis(m)


def _check_channels(spec: InputSpec, pre: Preprocessing) -> None:
    count = spec.channel_count
    rule = {"grey": count == 1, "replicated_grey": count >= 2, "adjacent_slices": count % 2 == 1}
    if not rule[spec.channels]:
        wanted = {
            "grey": "exactly 1 channel",
            "replicated_grey": "at least 2 channels",
            "adjacent_slices": "an odd number of channels",
        }[spec.channels]
        raise FieldError(
            "input.channels", f"{spec.channels} needs {wanted}; input.shape[1] is {count}"
        )
    for i, (fixed, want) in enumerate(zip(spec.shape[2:], pre.size, strict=True)):
        if isinstance(fixed, int) and fixed != want:
            raise FieldError(
                f"preprocessing.size[{i}]", f"{want} does not match input.shape[{i + 2}] = {fixed}"
            )
    for key in ("mean", "std"):
        values = getattr(pre, key)
        if len(values) not in (1, count):
            raise FieldError(
                f"preprocessing.{key}",
                f"{len(values)} values for {count} channels; give 1 or {count}",
            )


def _check_class_axis(m: ModelManifest) -> None:
    """The axis that counts classes (or YOLO row values) agrees with the labels."""
    d = m.decoding
    classes = len(m.labels)
    if isinstance(d, ClassificationDecoding):
        _check_dim(m, "scores", -1, classes, f"{classes} labels")
    elif isinstance(d, SegmentationDecoding):
        _check_dim(m, "masks", 1, classes, f"{classes} labels")
    elif d.style == "yolo":
        points = len(d.points) if isinstance(d, KeypointsDecoding) else 0
        row = 4 + classes + 3 * points
        spec = m.output(d.tensors["predictions"])
        if spec.rank != 3 or row not in spec.shape[1:]:
            what = f"4 box values + {classes} labels" + (
                f" + 3 x {points} points" if points else ""
            )
            raise FieldError(
                "decoding.tensors.predictions",
                f"output {spec.name!r} must have rank 3 with an axis of {row} ({what}); "
                f"its shape is {list(spec.shape)}",
            )
    elif isinstance(d, KeypointsDecoding):
        _check_dim(m, "keypoints", 1, len(d.points), f"{len(d.points)} points")


def _check_dim(m: ModelManifest, role: str, axis: int, want: int, what: str) -> None:
    spec = m.output(m.decoding.tensors[role])
    if not -spec.rank <= axis < spec.rank:
        raise FieldError(f"decoding.tensors.{role}", f"output {spec.name!r} has too few dims")
    dim = spec.shape[axis]
    if isinstance(dim, int) and dim != want:
        raise FieldError(
            f"decoding.tensors.{role}",
            f"output {spec.name!r} has {dim} on axis {axis}, but the manifest has {what}",
        )
