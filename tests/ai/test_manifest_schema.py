"""The JSON Schema is the definition of the manifest: the shipped manifests fit it as it stands
(any Draft 2020-12 validator), the reader refuses what it refuses with messages naming the
field, older manifests (``sequence``, an "AP" view) still load, and a wheel installs it where
the reader looks."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from manifest_helpers import doc_example, variant

from spineviewer.ai import ManifestError, ModelManifest
from spineviewer.ai.manifest_applies_to import CONTRASTS, PROJECTIONS
from spineviewer.ai.manifest_reader import SCHEMA_VERSION
from spineviewer.ai.manifest_schema import schema
from spineviewer.ai.onnx_file import ORT_DTYPES
from spineviewer.ai.registry import best_for, find_models, why_none
from spineviewer.resources import resource_path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "onnx_models").glob("*.json"))
SOURCE = "m.json"


def _refused(data: Any) -> str:
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(data, SOURCE)
    message, field = str(caught.value), caught.value.field
    assert message == f"{SOURCE}: {field + ': ' if field else ''}{caught.value.problem}", message
    return message.removeprefix(f"{SOURCE}: ")


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema(SCHEMA_VERSION))
    assert schema(SCHEMA_VERSION)["properties"]["schema_version"]["maximum"] == SCHEMA_VERSION


def test_the_schema_and_the_code_name_the_same_values() -> None:
    props = schema(1)["properties"]
    applies_to = props["applies_to"]["properties"]
    assert tuple(applies_to["contrast"]["items"]["enum"]) == CONTRASTS
    assert tuple(applies_to["projection"]["items"]["enum"]) == PROJECTIONS
    assert schema(1)["$defs"]["tensor"]["properties"]["dtype"]["enum"] == list(ORT_DTYPES)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_manifest_fits_the_schema(path: Path) -> None:
    data = json.loads(path.read_text("utf-8"))
    validator = Draft202012Validator(schema(1))
    assert [e.message for e in validator.iter_errors(data)] == []
    manifest = ModelManifest.load(path)
    assert manifest.to_dict() == data  # already in the current spelling
    applies_to = manifest.applies_to
    if manifest.id == "vertebrae-sagittal":  # trained on T2, T1 and STIR sagittals
        assert applies_to.contrast == ("T2", "T1", "STIR") and applies_to.projection == ()
    elif applies_to.modality == ("MR",):  # trained on T2 crops only
        assert applies_to.contrast == ("T2",) and applies_to.projection == ()
    elif applies_to.modality == ("CT",):  # the segmentation demo: axial CT volumes
        assert applies_to.view == ("axial",) and applies_to.projection == ()
    else:
        assert applies_to.view == ("projection",) and applies_to.projection == ("AP",)
        assert applies_to.contrast == ()


def test_the_shipped_models_refuse_what_they_were_not_trained_on() -> None:
    entries = [e for e in find_models([ROOT / "onnx_models"]) if e.onnx_path.parent.name]
    sag = {"modality": "MR", "view": "sagittal", "entries": entries}
    found = best_for("detection", **sag, contrast="T2", body_part="LSPINE")
    assert found is not None and found.id == "vertebrae-sagittal"
    assert best_for("detection", **sag, contrast="PD") is None
    assert "vertebrae-sagittal: model accepts contrast T2, T1 or STIR, series is PD" in why_none(
        "detection", **sag, contrast="PD"
    )
    axial = {"modality": "MR", "view": "axial", "entries": entries}
    assert best_for("classification", **axial, contrast="T2") is not None
    assert best_for("classification", **axial, contrast="T1") is None
    xr = {"modality": "CR", "view": "projection", "entries": entries}
    assert best_for("keypoints", **xr, projection="AP") is not None
    assert best_for("keypoints", **xr, projection="LL") is None
    assert best_for("keypoints", **xr, projection="AP", body_part="HAND") is None
    assert best_for("keypoints", "DX", "AP", entries) is not None  # a ViewPosition as the view


# -- older manifests -----------------------------------------------------------------------------


def test_an_old_manifest_with_sequence_still_loads() -> None:
    data = doc_example()
    data["applies_to"] = {
        "modality": ["MR"],
        "view": ["Sagittal"],
        "sequence": ["t2"],
        "body_part": "LSPINE",
    }
    manifest = ModelManifest.from_dict(data)
    assert manifest.applies_to.contrast == ("T2",) == manifest.applies_to.sequence
    assert manifest.applies_to.view == ("sagittal",)
    assert not manifest.applies_to.matches("MR", "sagittal", contrast="T1")
    written = manifest.to_dict()["applies_to"]
    assert "sequence" not in written and written["contrast"] == ["T2"]
    assert ModelManifest.from_dict(manifest.to_dict()) == manifest
    data["applies_to"]["sequence"] = []  # an empty hint list: any contrast, as before
    assert ModelManifest.from_dict(data).applies_to.contrast == ()


def test_an_old_radiograph_manifest_with_a_projection_as_view_still_loads() -> None:
    data = doc_example()
    data["applies_to"] = {"modality": ["CR", "DX"], "view": ["AP"], "body_part": "LSPINE"}
    manifest = ModelManifest.from_dict(data)
    assert manifest.applies_to.view == ("projection",)
    assert manifest.applies_to.projection == ("AP",)
    assert manifest.applies_to.matches("DX", "AP")
    assert not manifest.applies_to.matches("DX", "projection", projection="lateral")
    assert not list(Draft202012Validator(schema(1)).iter_errors(manifest.to_dict()))


# -- refusals --------------------------------------------------------------------------------------


def _with_applies_to(**applies_to: Any) -> dict[str, Any]:
    data = doc_example()
    data["applies_to"] = {"modality": ["MR"], "view": ["sagittal"], "body_part": "LSPINE"}
    data["applies_to"].update(applies_to)
    return data


@pytest.mark.parametrize(
    ("applies_to", "problem"),
    [
        ({"contrast": ["FLAIR"]}, "applies_to.contrast[0]: 'FLAIR' is not one of T1, T2, STIR, PD"),
        ({"contrast": []}, "applies_to.contrast: must not be empty"),
        ({"contrast": ["T2", "T2"]}, "applies_to.contrast[1]: duplicate 'T2'"),
        ({"projection": ["AP"]}, "applies_to.view: must include projection when projection"),
        (
            {"view": ["projection"], "projection": ["oblique"]},
            "applies_to.projection[0]: 'oblique' is not one of AP, PA, lateral",
        ),
        (
            {"sequence": ["FLAIR"]},
            "applies_to.sequence[0]: 'FLAIR' is not a contrast (T1, T2, STIR, PD)",
        ),
        (
            {"sequence": ["T2"], "contrast": ["T2"]},
            "applies_to: give contrast or the deprecated sequence, not both",
        ),
        ({"view": ["sagital"]}, "applies_to.view[0]: 'sagital' is not a view (sagittal, axial"),
        ({"contrasts": ["T2"]}, "applies_to.contrasts: unknown key; allowed keys: modality, view"),
    ],
)
def test_applies_to_refusals(applies_to: dict[str, Any], problem: str) -> None:
    assert _refused(_with_applies_to(**applies_to)).startswith(problem)


def test_an_unknown_key_is_refused_at_any_depth() -> None:
    for path in ([], ["provenance"], ["decoding", "tensors"]):
        data = doc_example()
        node = data
        for key in path:
            node = node[key]
        node["extra"] = 1
        where = ".".join([*path, "extra"])
        assert _refused(data).startswith(f"{where}: unknown key; allowed keys: ")


@pytest.mark.parametrize(
    ("version", "problem"),
    [
        (2, "2 is newer than this SpineViewer understands (1); update SpineViewer"),
        (99, "99 is newer than this SpineViewer understands (1)"),
        (0, "must be >= 1"),
        (-1, "must be >= 1"),
        ("1", "must be an integer, not string '1'"),
        (1.0, "must be an integer, not number 1.0"),
        (True, "must be an integer, not boolean True"),
        (None, "must be an integer, not null"),
    ],
)
def test_an_incompatible_schema_version_is_refused_clearly(version: Any, problem: str) -> None:
    data = doc_example()
    data["schema_version"] = version
    assert _refused(data).startswith(f"schema_version: {problem}")


def test_integers_are_json_integers_and_nan_fails_every_bound() -> None:
    data = doc_example()
    data["opset"] = 17.0
    assert _refused(data) == "opset: must be an integer, not number 17.0"
    data = doc_example()
    data["input"]["shape"][2] = 224.0
    assert _refused(data).startswith("input.shape[2]: must be an integer >= 1, null or a name")
    data = doc_example()
    data["preprocessing"]["normalisation"] = {"window": {"center": 40, "width": math.nan}}
    assert _refused(data) == "preprocessing.normalisation.window.width: must be > 0"
    data = doc_example()
    data["provenance"]["evaluation"]["metrics"]["auc"] = "high"
    assert _refused(data) == (
        "provenance.evaluation.metrics.auc: must be a number or an object, not string 'high'"
    )


def test_null_optional_fields_count_as_absent() -> None:
    data = variant("segmentation")
    data["preprocessing"].update(monochrome1=None, roi_mm=None)
    data["decoding"]["threshold"] = None
    data["applies_to"]["contrast"] = None
    data["provenance"]["citation"] = None
    data["labels"][0]["code"] = None
    manifest = ModelManifest.from_dict(data)
    assert manifest.preprocessing.monochrome1 == "invert" and manifest.preprocessing.roi_mm is None
    assert manifest.applies_to.contrast == () and manifest.provenance.citation is None
    assert manifest.labels[0].code is None
    assert getattr(manifest.decoding, "threshold", None) == 0.5
    data["preprocessing"]["monochrome1"] = "flip"
    assert _refused(data) == "preprocessing.monochrome1: 'flip' is not one of invert, keep"


def test_a_value_nested_too_deeply_is_a_manifest_error() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    data = doc_example()
    data["applies_to"]["contrast"] = [deep, deep]  # compared, and quoted in the error
    assert _refused(data) == "nested too deeply"


# -- where the schema is found ------------------------------------------------------------------


def test_a_wheel_installs_the_schema_where_the_reader_looks() -> None:
    """The source checkout reads ``resources/``; a wheel installs the same files under
    ``<prefix>/share/spineviewer/resources`` (pyproject data-files), where
    ``spineviewer.resources`` looks next."""
    here = resource_path("schemas", "model-manifest-v1.schema.json")
    assert here == ROOT / "resources" / "schemas" / "model-manifest-v1.schema.json"
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
        "data-files"
    ]
    installed = [
        target for target, globs in data_files.items() if any(here in ROOT.glob(g) for g in globs)
    ]
    assert installed == ["share/spineviewer/resources/schemas"]
