"""The model registry and the ONNX checks: real (tiny) models, good, tampered and broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from manifest_helpers import build_onnx, tiny_manifest, write_package

import spineviewer.ai.registry as registry
from spineviewer.ai import (
    ModelEntry,
    ModelManifest,
    best_for,
    check_onnx_file,
    file_sha256,
    find_models,
    model_dirs,
    user_model_dir,
)
from spineviewer.ai.registry import why_none


@pytest.fixture(autouse=True)
def _no_installed_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's and the bundled models out of the tests."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: None)


@pytest.fixture
def onnx_ok() -> None:
    pytest.importorskip("onnx")


def _only(entries: list[ModelEntry]) -> ModelEntry:
    assert len(entries) == 1, entries
    return entries[0]


def _rewrite_manifest(onnx_path: Path, **changes: object) -> None:
    sidecar = onnx_path.with_suffix(".json")
    data = json.loads(sidecar.read_text("utf-8"))
    data.update(changes)
    sidecar.write_text(json.dumps(data), encoding="utf-8")


# -- search folders --------------------------------------------------------------------------------


def test_the_user_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert user_model_dir() == tmp_path / "xdg" / "spineviewer" / "models"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_model_dir() == tmp_path / "home" / ".local/share/spineviewer/models"


def test_search_order_explicit_then_user_then_bundled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "bundled"
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: bundled)
    first, second = tmp_path / "a", tmp_path / "b"
    assert model_dirs([first, str(second), first]) == [first, second, user_model_dir(), bundled]


def test_the_bundled_folder_is_found_like_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real bundled_model_dir
    bundle = tmp_path / "meipass"
    (bundle / "onnx_models").mkdir(parents=True)
    monkeypatch.setattr(registry.sys, "_MEIPASS", str(bundle), raising=False)
    assert registry.bundled_model_dir() == bundle / "onnx_models"


def test_missing_folders_give_no_models(tmp_path: Path) -> None:
    assert find_models([tmp_path / "nowhere"]) == []


# -- one model -------------------------------------------------------------------------------------


def test_a_good_model_is_available(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path / "models")
    (tmp_path / "models" / "disc-state.md").write_text("# card", encoding="utf-8")
    entry = _only(find_models([tmp_path / "models"]))
    assert entry.available and entry.problems == ()
    assert entry.onnx_path == path and entry.manifest_path == path.with_suffix(".json")
    assert entry.id == "disc-state" and entry.card_path == path.with_suffix(".md")
    assert entry.manifest == ModelManifest.load(path.with_suffix(".json"))
    assert check_onnx_file(entry.manifest, path) == []


def test_an_embedded_manifest_is_enough(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path, sidecar=False, embed=True)
    entry = _only(find_models([tmp_path]))
    assert entry.available, entry.problems
    assert entry.manifest_path is None and entry.manifest is not None
    assert entry.manifest.sha256 == file_sha256(path)


def test_the_sidecar_wins_over_the_embedded_manifest(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path, embed=True)
    _rewrite_manifest(path, id="from-sidecar")
    entry = _only(find_models([tmp_path]))
    assert entry.available and entry.id == "from-sidecar"


def test_a_tampered_file_fails_its_digest(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path)
    build_onnx(path, weight=0.25)  # same graph, other weights
    entry = _only(find_models([tmp_path]))
    assert not entry.available
    assert len(entry.problems) == 1
    assert entry.problems[0].startswith(f"sha256 mismatch: disc-state.onnx is {file_sha256(path)}")
    assert entry.manifest is not None and check_onnx_file(entry.manifest, path) == [
        entry.problems[0]
    ]


def test_a_wrong_input_name_is_reported(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path)
    data = tiny_manifest(file_sha256(path))
    data["input"]["name"] = "pixels"
    manifest = ModelManifest.from_dict(data)
    problems = check_onnx_file(manifest, path)
    assert problems == [
        "input 'pixels' is not in the model (its inputs: image)",
        "the model needs inputs the manifest does not feed: image (the runner feeds only 'pixels')",
    ]
    path.with_suffix(".json").write_text(json.dumps(data), encoding="utf-8")
    entry = _only(find_models([tmp_path]))
    assert not entry.available and list(entry.problems) == problems


def test_dtype_rank_and_size_mismatches(tmp_path: Path, onnx_ok: None) -> None:
    path = build_onnx(tmp_path / "m.onnx")
    data = tiny_manifest(file_sha256(path))
    data["input"].update(dtype="float16", shape=[1, 3, 8, 8])
    data["outputs"] = [
        {"name": "logits", "dtype": "float32", "shape": ["batch", 1, 3]},
        {"name": "extra", "dtype": "float32", "shape": [1]},
    ]
    data["decoding"]["tensors"]["scores"] = "logits"
    problems = check_onnx_file(ModelManifest.from_dict(data), path)
    assert problems == [
        "input 'image': the model has tensor(float), the manifest float16",
        "output 'logits': the model has rank 2, the manifest 3",
        "output 'extra' is not in the model (its outputs: logits)",
    ]
    data["input"].update(dtype="float32", shape=["batch", 3, 8, 8])
    data["outputs"] = [{"name": "logits", "dtype": "float32", "shape": [2, 3]}]
    assert check_onnx_file(ModelManifest.from_dict(data), path) == []  # fixed in manifest only


def test_a_model_fixed_size_must_not_be_called_dynamic(tmp_path: Path, onnx_ok: None) -> None:
    path = build_onnx(tmp_path / "m.onnx")
    data = tiny_manifest(file_sha256(path))
    data["input"]["shape"] = ["batch", 3, None, None]
    data["preprocessing"]["size"] = [16, 16]
    problems = check_onnx_file(ModelManifest.from_dict(data), path)
    assert problems == [
        "input 'image': axis 2 is 8 in the model, None in the manifest",
        "input 'image': axis 3 is 8 in the model, None in the manifest",
    ]


def test_an_old_onnxruntime_is_reported(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path)
    _rewrite_manifest(path, min_onnxruntime="99.0")
    entry = _only(find_models([tmp_path]))
    assert not entry.available
    assert entry.problems[0].startswith("needs onnxruntime >= 99.0, this is ")


def test_a_missing_model_file_is_reported(tmp_path: Path) -> None:
    manifest = ModelManifest.from_dict(tiny_manifest())
    assert check_onnx_file(manifest, tmp_path / "gone.onnx") == ["gone.onnx not found"]


# -- broken packages are listed, never raised ---------------------------------------------------


def test_broken_json_makes_the_model_unavailable(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path)
    path.with_suffix(".json").write_text('{"schema_version": 1, "id": ', encoding="utf-8")
    entry = _only(find_models([tmp_path]))
    assert not entry.available and entry.manifest is None
    assert entry.problems[0].startswith("disc-state.json: not valid JSON")
    assert entry.id == "disc-state"


def test_an_invalid_manifest_names_the_field(tmp_path: Path, onnx_ok: None) -> None:
    path = write_package(tmp_path)
    _rewrite_manifest(path, version="2")
    entry = _only(find_models([tmp_path]))
    assert entry.problems == (
        "disc-state.json: version: '2' is not a semantic version (MAJOR.MINOR.PATCH)",
    )


def test_a_model_without_manifest(tmp_path: Path, onnx_ok: None) -> None:
    build_onnx(tmp_path / "bare.onnx")
    entry = _only(find_models([tmp_path]))
    assert entry.manifest is None and entry.manifest_path is None
    assert entry.problems == (
        "no manifest: neither bare.json beside it nor 'spineviewer.manifest' metadata",
    )


def test_a_broken_embedded_manifest(tmp_path: Path, onnx_ok: None) -> None:
    build_onnx(tmp_path / "m.onnx", metadata={"spineviewer.manifest": '{"id": "m"}'})
    entry = _only(find_models([tmp_path]))
    assert entry.problems == ("m.onnx (embedded manifest): schema_version: missing required field",)


def test_a_file_onnxruntime_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00not a model at all")
    path.with_suffix(".json").write_text(json.dumps(tiny_manifest()), encoding="utf-8")
    entry = _only(find_models([tmp_path]))
    assert not entry.available and entry.manifest is not None
    assert entry.problems[0].startswith("sha256 mismatch")
    assert entry.problems[1].startswith("onnxruntime cannot load junk.onnx: ")


def test_a_manifest_without_its_model(tmp_path: Path) -> None:
    (tmp_path / "lonely.json").write_text(json.dumps(tiny_manifest()), encoding="utf-8")
    entry = _only(find_models([tmp_path]))
    assert entry.onnx_path == tmp_path / "lonely.onnx" and entry.manifest is not None
    assert entry.problems == ("lonely.onnx not found",)


# -- several models --------------------------------------------------------------------------------


def test_subfolders_are_searched_and_earlier_folders_win(tmp_path: Path, onnx_ok: None) -> None:
    mine = write_package(tmp_path / "mine" / "disc-state")
    write_package(tmp_path / "xdg" / "spineviewer" / "models")
    entries = find_models([tmp_path / "mine"])
    assert [e.onnx_path for e in entries] == [
        mine,
        user_model_dir() / "disc-state.onnx",
    ]
    assert entries[0].available
    assert entries[1].problems == (f"shadowed by {mine} (same id 'disc-state', found earlier)",)
    assert best_for("classification", "MR", "sagittal", entries, contrast="T2") == entries[0]


def test_a_broken_model_does_not_shadow_a_good_one(tmp_path: Path, onnx_ok: None) -> None:
    broken = write_package(tmp_path / "first")
    _rewrite_manifest(broken, sha256="1" * 64)
    good = write_package(tmp_path / "second")
    entries = find_models([tmp_path / "first", tmp_path / "second"])
    assert [e.available for e in entries] == [False, True]
    found = best_for(
        "classification",
        "MR",
        "sagittal",
        dirs=[tmp_path / "first", tmp_path / "second"],
        contrast="T2",
    )
    assert found is not None and found.onnx_path == good


def test_best_for_matches_task_modality_and_view(tmp_path: Path, onnx_ok: None) -> None:
    write_package(tmp_path, name="mr-sag")
    write_package(
        tmp_path,
        name="xr-lat",
        id="xr-lat",
        applies_to={"modality": ["CR", "DX"], "view": ["lateral"], "body_part": "SPINE"},
    )
    entries = find_models([tmp_path])
    assert all(e.available for e in entries)

    def best(task: str, modality: str, view: str) -> str | None:
        entry = best_for(task, modality, view, entries, contrast="T2")  # the MR model's
        return entry.id if entry else None

    assert best("classification", "MR", "sagittal") == "disc-state"
    assert best("classification", "dx", "Lateral") == "xr-lat"
    assert best("classification", "CT", "sagittal") is None
    assert best("classification", "MR", "axial") is None
    assert best("detection", "MR", "sagittal") is None


def test_best_for_checks_contrast_projection_and_body_part(tmp_path: Path, onnx_ok: None) -> None:
    write_package(
        tmp_path,
        name="t2-sag",
        id="t2-sag",
        applies_to={
            "modality": ["MR"],
            "view": ["sagittal"],
            "contrast": ["T2"],
            "body_part": "LSPINE",
        },
    )
    write_package(
        tmp_path,
        name="ap",
        id="ap",
        applies_to={
            "modality": ["CR"],
            "view": ["projection"],
            "projection": ["AP"],
            "body_part": "SPINE",
        },
    )
    entries = find_models([tmp_path])

    def best(modality: str, view: str, **series: str | bool | None) -> str | None:
        entry = best_for("classification", modality, view, entries, **series)
        return entry.id if entry else None

    assert best("MR", "sagittal", contrast="T2", body_part="LSPINE") == "t2-sag"
    assert best("MR", "sagittal", contrast="T1") is None
    assert best("MR", "sagittal") is None  # an unknown contrast never fits a T2 model
    assert best("MR", "sagittal", contrast="T2") == "t2-sag"  # an unknown body part does...
    assert best("MR", "sagittal", contrast="T2", strict=True) is None  # ...unless strict
    assert best("MR", "sagittal", contrast="T2", body_part="CSPINE") is None
    assert best("CR", "projection", projection="AP", body_part="LSPINE") == "ap"
    assert best("CR", "AP") == "ap"  # a ViewPosition as the view, as older callers pass it
    assert best("CR", "projection", projection="LL") is None
    assert best("CR", "projection") == "ap"  # no ViewPosition: not held against it...
    assert best("CR", "projection", body_part="SPINE", strict=True) is None  # ...unless strict
    assert best("CR", "projection", body_part="CHEST") is None


def test_why_none_gives_each_models_reason(tmp_path: Path, onnx_ok: None) -> None:
    write_package(tmp_path, name="mr-sag")  # the doc example: MR sagittal T2 LSPINE
    broken = write_package(tmp_path, name="other", id="other")
    _rewrite_manifest(broken, sha256="1" * 64)
    entries = find_models([tmp_path])
    args = ("classification", "MR", "sagittal", entries)
    assert why_none(*args, contrast="T2") == ""  # a model fits
    problem = next(e for e in entries if e.id == "other").problems[0]
    assert problem.startswith("sha256 mismatch")
    assert why_none(*args, contrast="STIR") == (
        "no classification model accepts this series: disc-state: model accepts contrast T2, "
        f"series is STIR; other: not usable ({problem})"
    )
    assert why_none(*args) == (
        "no classification model accepts this series: disc-state: model accepts contrast T2, "
        f"series contrast is unknown; other: not usable ({problem})"
    )
    assert why_none("detection", "MR", "sagittal", entries) == "no detection model is installed"


def test_why_none_names_only_the_models_for_the_series_modality() -> None:
    """A PD sagittal MR: the shipped MR detector's reason, not the radiograph detector's."""
    entries = find_models([Path(__file__).resolve().parents[2] / "onnx_models"])
    why = why_none("detection", "MR", "sagittal", entries, contrast="PD")
    assert "vertebrae-sagittal: model accepts contrast T2, T1 or STIR, series is PD" in why
    assert "implants-ap" not in why
    only_xr = [e for e in entries if e.manifest is not None and e.manifest.id == "implants-ap"]
    assert "implants-ap: model accepts modality" in why_none(
        "detection", "MR", "sagittal", only_xr, contrast="T1"
    )
