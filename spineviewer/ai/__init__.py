"""Local AI: model manifests and the model registry (onnxruntime; never Qt, never torch).

Importing this package does not import onnxruntime; opening a model does.
"""

# pylint: disable=duplicate-code  # re-exports the names of ai.manifest and ai.registry

from spineviewer.ai.manifest import (
    METADATA_KEY,
    SCHEMA_VERSION,
    AppliesTo,
    ClassificationDecoding,
    Decoding,
    DetectionDecoding,
    Evaluation,
    InputSpec,
    IntensityWindow,
    KeypointsDecoding,
    LabelCode,
    ManifestError,
    ModelLabel,
    ModelManifest,
    ModelProvenance,
    Normalisation,
    Percentile,
    Preprocessing,
    SegmentationDecoding,
    TensorSpec,
    TrainingData,
    check_onnx_file,
    file_sha256,
    manifest_from_onnx_metadata,
)
from spineviewer.ai.registry import ModelEntry, best_for, find_models, model_dirs, user_model_dir

__all__ = [
    "METADATA_KEY",
    "SCHEMA_VERSION",
    "AppliesTo",
    "ClassificationDecoding",
    "Decoding",
    "DetectionDecoding",
    "Evaluation",
    "InputSpec",
    "IntensityWindow",
    "KeypointsDecoding",
    "LabelCode",
    "ManifestError",
    "ModelEntry",
    "ModelLabel",
    "ModelManifest",
    "ModelProvenance",
    "Normalisation",
    "Percentile",
    "Preprocessing",
    "SegmentationDecoding",
    "TensorSpec",
    "TrainingData",
    "best_for",
    "check_onnx_file",
    "file_sha256",
    "find_models",
    "manifest_from_onnx_metadata",
    "model_dirs",
    "user_model_dir",
]
