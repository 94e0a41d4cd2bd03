"""The model manifest: what a model is, what it eats, what it returns and where it came from.

A model package is ``NAME.onnx`` plus ``NAME.json`` (this manifest) and a model card
``NAME.md``. The same JSON may instead be embedded in the ONNX file as the ``metadata_props``
entry ``spineviewer.manifest``; a sidecar file wins when both exist. The layout is one object
per group; unknown keys are refused, every error names the file, the field path and the
problem (``disc-state.json: preprocessing.normalisation.window.width: must be > 0``).

``resources/schemas/model-manifest-v1.schema.json`` is the definition of the layout: manifests
are validated with it (``jsonschema``), and a change to the manifest edits the schema first.
``schema_version`` goes up only for a change older readers cannot read (a new optional field
is not one); manifests of older versions stay readable, and a newer one is refused as newer.
This module is the public face of four others: :mod:`~spineviewer.ai.manifest_model` (the
dataclasses), :mod:`~spineviewer.ai.manifest_reader` (reading, and the rules between fields
that a schema cannot express), :mod:`~spineviewer.ai.manifest_schema` (the schema and its
errors in words) and :mod:`~spineviewer.ai.manifest_applies_to` (what a model applies to, and
whether a series fits).

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
        "modality": ["MR"], "view": ["sagittal"], "contrast": ["T2"], "body_part": "LSPINE"
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
- ``applies_to``: ``modality``, DICOM modalities; ``view``, planes (sagittal, axial, coronal, or
  projection for a radiograph); optional ``contrast`` (T1, T2, STIR, PD) and ``projection``
  (AP, PA, lateral; ``view`` then includes projection), absent meaning any; ``body_part``, a
  DICOM BodyPartExamined term (LSPINE). Compared case-insensitively; ``AppliesTo.matches``
  checks every field and ``AppliesTo.mismatch`` says why a series does not fit. Older
  manifests' ``sequence`` list is read as ``contrast`` and their "AP" / "lateral" views as the
  plane projection with that projection.
- ``input``: ``layout`` NCHW (``shape`` has 4 dims) or, for a 3D sliding-window segmentation
  network only, NCDHW (5 dims); each dim an integer or a dynamic dim (null or a name); the
  channel count is fixed. ``channels``: ``grey`` (1 channel), ``replicated_grey`` (the grey
  image copied into C >= 2 channels), ``adjacent_slices`` (an odd number C of neighbouring slices
  centred on the target slice).
- ``preprocessing``: ``size`` [h, w] must equal the fixed input dims; ``resize`` stretch or
  letterbox; optional ``roi_mm`` [h, w] crops a physical region first; ``normalisation`` is
  exactly one of ``window`` {center, width} or ``percentile`` {low, high}, mapping intensities to
  0..1, then ``(x - mean) / std`` per channel (1 value, or one per channel); ``monochrome1``:
  ``invert`` (default: present the image as MONOCHROME2) or ``keep``. A segmentation model may
  instead give ``sliding_window`` (below); its preprocessing then has no ``size``, ``resize``,
  ``roi_mm``, ``mm_per_pixel`` or ``monochrome1``.
- ``outputs``: the tensors the runner reads (name, dtype, shape).
- ``decoding`` depends on ``task``; ``tensors`` maps each role to an output name:

  - classification: roles ``scores``; ``activation`` softmax (classes exclude each other),
    sigmoid (independent) or none (raw scores); ``outputs_are_logits``: true when the runner
    must apply the activation, false when the model already did.
  - segmentation: roles ``masks`` (N, C, H, W), or (N, C, D, H, W) for an NCDHW input;
    activation and logits as above, optional ``threshold`` (default 0.5) for sigmoid masks.
    With ``sliding_window`` the activation is softmax (the label is the channel of the highest
    score) or sigmoid (independent channels: the label is the highest one above ``threshold``).
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

An optional field that is null counts as absent.

Segmentation by sliding window (``preprocessing.sliding_window``; run by
:mod:`spineviewer.ai.sliding_window`, described for people in ``docs/segmentation.md``; a full
example, a 3D nnU-Net-style CT model, is ``docs/examples/segmentation-manifest.json``)::

    "input": {"name": "image", "dtype": "float32", "shape": ["batch", 1, 64, 128, 128],
              "layout": "NCDHW", "channels": "grey"},
    "preprocessing": {
      "normalisation": {"zscore": {"mean": 342.5, "std": 215.0, "clip": [-320, 1530]}},
      "sliding_window": {"spacing_mm": [1.5, 1.0, 1.0], "patch_size": [64, 128, 128],
                         "overlap": 0.5, "mirror_axes": [0, 1, 2], "batch_size": 2}
    },
    "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", 13, 64, 128, 128]}],
    "decoding": {"tensors": {"masks": "logits"}, "activation": "softmax",
                 "outputs_are_logits": true}

- 2D or 3D: ``input.layout`` NCHW is a 2D network, run on every slice of the series at the
  series' own slice spacing; NCDHW is a 3D one. ``input.channels`` grey (or replicated_grey),
  ``input.dtype`` float32 or float16.
- ``spacing_mm`` (required): the spacing the network was trained at, one value per patch axis
  in the series' array order: [slice, row, column] for 3D, [row, column] for 2D. The series
  is resampled to it (linear), and the label map back to the series' grid (nearest). The
  series is not reoriented: ``applies_to.view`` says which plane its slices must be.
- ``patch_size`` (required): the patch in voxels, same order, equal to the input's fixed
  spatial dims; a series smaller than a patch is padded with 0 (after normalisation).
- ``overlap``: the fraction of a patch that neighbours share, 0 <= overlap < 1, default 0.5;
  outputs are blended with a Gaussian weight (sigma 1/8 of the patch, as nnU-Net).
- ``mirror_axes``: test-time mirroring over these patch axes (every combination; absent:
  none). ``batch_size``: patches per run (default the fixed batch dim, else 2).
- ``normalisation``: ``window`` and ``percentile`` as above (the series' percentiles), or
  ``zscore`` {optional ``clip`` [low, high] in stored units after the modality LUT, then
  ``(x - mean) / std`` with ``mean`` and ``std`` given together (nnU-Net's CT scheme) or, both
  absent, the series' own (its z-score, for MR)}; then ``mean`` / ``std`` (default 0 and 1).
- ``labels``: one per output channel. Softmax: channel 0 is the background (label value 0 of
  the label map; its label is not drawn), channel i is label value i. Sigmoid: no background
  channel; channel i is label value i + 1, 0 where no channel reaches ``threshold``. Code
  each structure as ``resources/labels/spine_labels.json`` does (SNOMED CT where one exists).
- ``postprocessing.spine_levels`` (optional, a softmax sliding-window model only): the
  network's channels are *classes* (``vertebra``, ``sacrum``, ``disc`` and the ``keep`` ones
  such as the canal), and the per-level label map the viewer shows, exports and measures
  (its ``labels``: T11..S1, the discs, the canal) is derived from them by geometry
  (:mod:`spineviewer.ai.spine_levels`; ``docs/segmentation.md``).
"""

# pylint: disable=duplicate-code  # re-exports the names of manifest_model and the reader

from __future__ import annotations

from collections.abc import Mapping

from spineviewer.ai.manifest_applies_to import AppliesTo
from spineviewer.ai.manifest_model import (
    ClassificationDecoding,
    Decoding,
    DetectionDecoding,
    Dim,
    Evaluation,
    InputSpec,
    IntensityWindow,
    KeypointsDecoding,
    LabelCode,
    ModelLabel,
    ModelManifest,
    ModelProvenance,
    Normalisation,
    Percentile,
    Preprocessing,
    SegmentationDecoding,
    SlidingWindow,
    TensorSpec,
    TrainingData,
    ZScore,
)
from spineviewer.ai.manifest_reader import SCHEMA_VERSION, ManifestError
from spineviewer.ai.onnx_file import METADATA_KEY, check_onnx_file, file_sha256

__all__ = [
    "METADATA_KEY",
    "SCHEMA_VERSION",
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
    "ManifestError",
    "ModelLabel",
    "ModelManifest",
    "ModelProvenance",
    "Normalisation",
    "Percentile",
    "Preprocessing",
    "SegmentationDecoding",
    "SlidingWindow",
    "TensorSpec",
    "TrainingData",
    "ZScore",
    "check_onnx_file",
    "file_sha256",
    "manifest_from_onnx_metadata",
]


def manifest_from_onnx_metadata(
    metadata: Mapping[str, str], source: str = "embedded manifest"
) -> ModelManifest | None:
    """The manifest embedded under ``spineviewer.manifest``; None when there is none."""
    content = metadata.get(METADATA_KEY)
    if content is None:
        return None
    return ModelManifest.from_json(content, source)
