"""The model manifest as data: frozen dataclasses, one per group of the JSON layout.

:class:`ModelManifest` is read with ``from_dict`` / ``from_json`` / ``load``, which hand the
document to :mod:`spineviewer.ai.manifest_reader` (the JSON Schema and the rules between
fields) and build the dataclasses from the checked result, so nothing here validates; and
written back with ``to_dict`` / ``to_json`` (optional fields left out when unset). The layout
is documented in :mod:`spineviewer.ai.manifest`; what a model applies to, and the matching of
a series against it, in :mod:`spineviewer.ai.manifest_applies_to`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from spineviewer.ai.manifest_applies_to import AppliesTo
from spineviewer.ai.manifest_reader import checked_document, parse_json, read_file

__all__ = [
    "AppliesTo",
    "ClassificationDecoding",
    "Decoding",
    "DetectionDecoding",
    "Dim",
    "Evaluation",
    "InputSpec",
    "IntensityWindow",
    "KeypointsDecoding",
    "LabelCode",
    "ModelLabel",
    "ModelManifest",
    "ModelProvenance",
    "Normalisation",
    "Percentile",
    "Postprocessing",
    "Preprocessing",
    "SegmentationDecoding",
    "SlidingWindow",
    "SpineLevels",
    "TensorSpec",
    "TrainingData",
    "ZScore",
]

Dim = int | str | None


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
    """The image input: NCHW (NCDHW for a 3D sliding-window network), with the meaning of its
    channels."""

    layout: str
    channels: str

    @property
    def channel_count(self) -> int:
        count = self.shape[1]
        assert isinstance(count, int)  # checked when the manifest was read
        return count


@dataclass(frozen=True)
class IntensityWindow:
    """Intensity window mapped to 0..1."""

    center: float
    width: float


@dataclass(frozen=True)
class Percentile:
    """The image's ``low`` and ``high`` percentiles mapped to 0 and 1."""

    low: float
    high: float


@dataclass(frozen=True)
class ZScore:
    """Values clipped to ``clip`` (when given), then ``(x - mean) / std``: the given ones, or
    (both None) the series' own. Sliding-window models only."""

    mean: float | None = None
    std: float | None = None
    clip: tuple[float, float] | None = None


@dataclass(frozen=True)
class Normalisation:
    """Exactly one of ``window``, ``percentile`` and (sliding-window models only) ``zscore``
    is set."""

    window: IntensityWindow | None = None
    percentile: Percentile | None = None
    zscore: ZScore | None = None


@dataclass(frozen=True)
class SlidingWindow:
    """How a segmentation network runs on a whole series: resampled to ``spacing_mm``, cut
    into overlapping patches of ``patch_size``, the outputs blended back (both in the series'
    array order: (slice, row, column) for a 3D network, (row, column) for a 2D one)."""

    spacing_mm: tuple[float, ...]
    patch_size: tuple[int, ...]
    overlap: float = 0.5
    #: Patch axes flipped for test-time mirroring (every combination); () for none.
    mirror_axes: tuple[int, ...] = ()
    #: Patches per run; None: the input's fixed batch dim, else 2.
    batch_size: int | None = None

    @property
    def dims(self) -> int:
        """2 (a 2D network, run slice by slice) or 3."""
        return len(self.patch_size)


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
    #: Letterbox at this many mm per input pixel (zoomed out only when the image would not
    #: fit); None: as large as fits.
    mm_per_pixel: float | None = None
    #: A sliding-window segmentation model's patches. With it, ``size`` is the patch's last
    #: two dims and ``resize`` is "sliding_window" (neither is written in its manifest),
    #: ``monochrome1`` is not used (CT and MR volumes) and ``mean`` and ``std`` default to 0
    #: and 1.
    sliding_window: SlidingWindow | None = None


@dataclass(frozen=True)
class SpineLevels:
    """``postprocessing.spine_levels``: the network's classes (label names) a label map of
    levels is derived from, and that label map's labels (value i + 1 is ``labels[i]``);
    :mod:`spineviewer.ai.spine_levels` derives it."""

    vertebra: str
    sacrum: str
    disc: str
    labels: tuple[ModelLabel, ...]
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Postprocessing:
    """What turns a segmentation network's label map into the one the viewer shows."""

    spine_levels: SpineLevels


@dataclass(frozen=True)
class ClassificationDecoding:
    """Scores per class; ``tensors`` = {"scores": output name}."""

    tensors: dict[str, str]
    activation: str
    outputs_are_logits: bool
    #: A top-class probability below this makes the finding "uncertain" (None: never).
    min_confidence: float | None = None

    def unsure(self, probabilities: Any) -> bool:
        """The highest of ``probabilities`` is below :attr:`min_confidence`."""
        limit = self.min_confidence
        return limit is not None and float(max(probabilities)) < limit


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
class ModelProvenance:
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
    provenance: ModelProvenance
    #: Segmentation only: the label map of levels derived from the network's (None: the
    #: network's own is shown).
    postprocessing: Postprocessing | None = None

    @classmethod
    def from_dict(cls, data: Any, source: str = "manifest") -> ModelManifest:
        """Validate parsed JSON; ManifestError names ``source``, the field path and the problem."""
        return _build(checked_document(data, source))

    @classmethod
    def from_json(cls, text: str, source: str = "manifest") -> ModelManifest:
        """Parse and validate JSON text."""
        return cls.from_dict(parse_json(text, source), source)

    @classmethod
    def load(cls, path: str | Path) -> ModelManifest:
        """Read a manifest file; errors name the file."""
        path = Path(path)
        return cls.from_json(read_file(path), path.name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout (optional fields left out when unset)."""
        dumped = _dump(self)
        assert isinstance(dumped, dict)
        if self.preprocessing.sliding_window is not None:
            _drop_derived(dumped["preprocessing"])
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


def _dump(value: Any) -> Any:
    """JSON of a dataclass: members that are None, or empty where the default is empty, left
    out (an optional list such as ``applies_to.contrast`` is absent rather than ``[]``)."""
    if is_dataclass(value) and not isinstance(value, type):
        members = ((f, getattr(value, f.name)) for f in fields(value))
        return {
            f.name: _dump(member)
            for f, member in members
            if member is not None and not (member == () and f.default == ())
        }
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _drop_derived(pre: dict[str, Any]) -> None:
    """A sliding-window manifest's preprocessing without what the reader derived: size,
    resize and monochrome1 (not used), mean and std when they are the defaults 0 and 1."""
    for key in ("size", "resize", "monochrome1"):
        del pre[key]
    for key, default in (("mean", [0.0]), ("std", [1.0])):
        if pre[key] == default:
            del pre[key]


# -- building from a checked document ------------------------------------------------------------


def _build(m: dict[str, Any]) -> ModelManifest:
    """The dataclasses of a document :func:`checked_document` accepted (no more checks)."""
    return ModelManifest(
        schema_version=m["schema_version"],
        id=m["id"],
        name=m["name"],
        version=m["version"],
        sha256=m["sha256"],
        opset=m["opset"],
        min_onnxruntime=m["min_onnxruntime"],
        license=m["license"],
        authors=tuple(m["authors"]),
        task=m["task"],
        applies_to=_applies_to(m["applies_to"]),
        input=InputSpec(**_tensor_fields(m["input"]), **_rest(m["input"], "layout", "channels")),
        preprocessing=_preprocessing(m["preprocessing"]),
        outputs=tuple(TensorSpec(**_tensor_fields(o)) for o in m["outputs"]),
        decoding=_decoding(m["task"], m["decoding"]),
        labels=tuple(_label(label) for label in m["labels"]),
        provenance=_provenance(m["provenance"]),
        postprocessing=_postprocessing(m["postprocessing"]) if "postprocessing" in m else None,
    )


def _postprocessing(p: dict[str, Any]) -> Postprocessing:
    levels = p["spine_levels"]
    return Postprocessing(
        SpineLevels(
            vertebra=levels["vertebra"],
            sacrum=levels["sacrum"],
            disc=levels["disc"],
            labels=tuple(_label(label) for label in levels["labels"]),
            keep=tuple(levels.get("keep", ())),
        )
    )


def _rest(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: data[key] for key in keys if key in data}


def _tensor_fields(t: dict[str, Any]) -> dict[str, Any]:
    return {"name": t["name"], "dtype": t["dtype"], "shape": tuple(t["shape"])}


def _applies_to(a: dict[str, Any]) -> AppliesTo:
    return AppliesTo(
        modality=tuple(a["modality"]),
        view=tuple(a["view"]),
        body_part=a["body_part"],
        contrast=tuple(a.get("contrast", ())),
        projection=tuple(a.get("projection", ())),
    )


def _numbers(values: list[Any]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _preprocessing(p: dict[str, Any]) -> Preprocessing:
    roi = _numbers(p["roi_mm"]) if "roi_mm" in p else None
    sliding = _sliding_window(p["sliding_window"]) if "sliding_window" in p else None
    size = sliding.patch_size[-2:] if sliding else p["size"]
    return Preprocessing(
        size=(size[0], size[1]),
        resize="sliding_window" if sliding else p["resize"],
        normalisation=_normalisation(p["normalisation"]),
        mean=_numbers(p.get("mean", [0.0])),
        std=_numbers(p.get("std", [1.0])),
        **_rest(p, "monochrome1"),
        roi_mm=(roi[0], roi[1]) if roi else None,
        mm_per_pixel=float(p["mm_per_pixel"]) if p.get("mm_per_pixel") is not None else None,
        sliding_window=sliding,
    )


def _normalisation(n: dict[str, Any]) -> Normalisation:
    window, percentile = n.get("window"), n.get("percentile")
    if window:
        return Normalisation(window=IntensityWindow(*_numbers([window["center"], window["width"]])))
    if percentile:
        return Normalisation(
            percentile=Percentile(*_numbers([percentile["low"], percentile["high"]]))
        )
    zscore = n["zscore"]  # the schema: exactly one of the three
    clip = _numbers(zscore["clip"]) if "clip" in zscore else None
    return Normalisation(
        zscore=ZScore(
            mean=float(zscore["mean"]) if "mean" in zscore else None,
            std=float(zscore["std"]) if "std" in zscore else None,
            clip=(clip[0], clip[1]) if clip else None,
        )
    )


def _sliding_window(s: dict[str, Any]) -> SlidingWindow:
    return SlidingWindow(
        spacing_mm=_numbers(s["spacing_mm"]),
        patch_size=tuple(s["patch_size"]),
        overlap=float(s.get("overlap", 0.5)),
        mirror_axes=tuple(s.get("mirror_axes", ())),
        batch_size=s.get("batch_size"),
    )


def _decoding(task: str, d: dict[str, Any]) -> Decoding:
    if task in ("classification", "segmentation"):
        scores = (dict(d["tensors"]), d["activation"], d["outputs_are_logits"])
        if task == "classification":
            limit = d.get("min_confidence")
            return ClassificationDecoding(
                *scores, min_confidence=None if limit is None else float(limit)
            )
        return SegmentationDecoding(*scores, threshold=float(d.get("threshold", 0.5)))
    common = {
        "style": d["style"],
        "tensors": dict(d["tensors"]),
        "box_format": d["box_format"],
        "coordinates": d["coordinates"],
        "score_threshold": float(d["score_threshold"]),
        "nms_iou": float(d["nms_iou"]) if "nms_iou" in d else None,
        "nms_per_class": d.get("nms_per_class"),
    }
    if task == "keypoints":
        return KeypointsDecoding(**common, points=tuple(d["points"]))
    return DetectionDecoding(**common)


def _label(label: dict[str, Any]) -> ModelLabel:
    code = LabelCode(**label["code"]) if "code" in label else None
    return ModelLabel(label["name"], label["display"], label["color"], code)


def _provenance(p: dict[str, Any]) -> ModelProvenance:
    e = p["evaluation"]
    metrics: dict[str, float | dict[str, float]] = {
        k: {n: float(x) for n, x in v.items()} if isinstance(v, dict) else float(v)
        for k, v in e["metrics"].items()
    }
    return ModelProvenance(
        training_data=TrainingData(**p["training_data"]),
        evaluation=Evaluation(e["data"], metrics),
        intended_use=p["intended_use"],
        limitations=tuple(p["limitations"]),
        not_for_clinical_use=p["not_for_clinical_use"],
        citation=p.get("citation"),
    )
