"""Model packages that must be refused, and the rule for two packages of one id (issue 20,
item 8): manifests too large to read (sidecar or embedded), inputs too large to run, label
names that are not safe, and which package wins (chosen folder, user folder, shipped; among
equals the higher version), shown by ``spineviewer models list``. Real tiny ONNX models."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from manifest_helpers import build_onnx, tiny_manifest, write_package

import spineviewer.ai.registry as registry
from spineviewer.ai import ModelManifest, best_for, file_sha256, find_models
from spineviewer.ai.manifest import ManifestError
from spineviewer.ai.manifest_reader import MAX_MANIFEST_BYTES
from spineviewer.ai.onnx_file import embedded_manifest_size
from spineviewer.cli import main

pytest.importorskip("onnx")


@pytest.fixture(autouse=True)
def _no_installed_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user folder, no shipped models; returns the user folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: None)
    return tmp_path / "xdg" / "spineviewer" / "models"


def _padded(data: dict[str, Any], size: int) -> str:
    """``data`` as valid JSON of at least ``size`` characters (trailing spaces)."""
    text = json.dumps(data)
    return text + " " * (size - len(text))


# -- manifests too large to read -------------------------------------------------------------------


def test_a_sidecar_manifest_over_the_limit_is_refused_naming_file_and_size(tmp_path: Path) -> None:
    path = write_package(tmp_path / "models", "big")
    sidecar = path.with_suffix(".json")
    size = 2 * MAX_MANIFEST_BYTES
    sidecar.write_text(_padded(json.loads(sidecar.read_text("utf-8")), size), encoding="utf-8")
    (entry,) = find_models([tmp_path / "models"])
    assert not entry.available and entry.manifest is None
    assert entry.problems[0] == (
        f"big.json: {size} bytes is too large for a manifest (at most {MAX_MANIFEST_BYTES}); "
        "not read"
    )


def test_a_huge_sidecar_is_not_read(tmp_path: Path) -> None:
    path = write_package(tmp_path / "models", "huge")
    with open(path.with_suffix(".json"), "r+b") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: costs no disk
    tracemalloc.start()
    try:
        (entry,) = find_models([tmp_path / "models"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"huge.json: {64 * 1024 * 1024} bytes is too large" in entry.problems[0]
    assert peak < 8 * 1024 * 1024


def test_manifest_text_over_the_limit_is_refused() -> None:
    text = _padded(tiny_manifest(), MAX_MANIFEST_BYTES + 1)
    with pytest.raises(ManifestError, match=r"^embedded: \d+ bytes is too large for a manifest"):
        ModelManifest.from_json(text, "embedded")


def test_an_embedded_manifest_over_the_limit_is_refused_before_onnxruntime_opens_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    path = build_onnx(folder / "embedded.onnx")
    size = 2 * MAX_MANIFEST_BYTES
    text = _padded(tiny_manifest(file_sha256(path)), size)  # the digest leaves it out
    build_onnx(path, metadata={"spineviewer.manifest": text})
    assert embedded_manifest_size(path) == size

    def no_session(_: object) -> None:
        raise AssertionError("onnxruntime opened a model with an oversized manifest")

    monkeypatch.setattr(registry, "read_onnx_signature", no_session)
    (entry,) = find_models([folder])
    assert not entry.available
    assert entry.problems == (
        f"embedded.onnx (embedded manifest): {size} bytes is too large for a manifest "
        f"(at most {MAX_MANIFEST_BYTES}); not read",
    )


def test_embedded_manifest_size_of_models_with_and_without_one(tmp_path: Path) -> None:
    plain = build_onnx(tmp_path / "plain.onnx")
    assert embedded_manifest_size(plain) == 0
    text = json.dumps(tiny_manifest())
    carrying = build_onnx(tmp_path / "carrying.onnx", metadata={"spineviewer.manifest": text})
    assert embedded_manifest_size(carrying) == len(text.encode())
    (tmp_path / "junk.onnx").write_bytes(b"\xff" * 100)
    assert embedded_manifest_size(tmp_path / "junk.onnx") == 0


def test_a_small_embedded_manifest_still_works(tmp_path: Path) -> None:
    path = write_package(tmp_path / "models", "small", sidecar=False, embed=True)
    (entry,) = find_models([path.parent])
    assert entry.available, entry.problems


# -- inputs too large to run -----------------------------------------------------------------------


def _with_input(height: int, width: int, channels: int = 3, kind: str = "replicated_grey"):
    data = tiny_manifest()
    data["input"]["shape"] = ["batch", channels, height, width]
    data["input"]["channels"] = kind
    data["preprocessing"]["size"] = [height, width]
    return data


def test_a_40000_pixel_input_is_refused() -> None:
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(_with_input(40000, 40000), "huge.json")
    assert str(caught.value) == (
        "huge.json: preprocessing.size[0]: 40000 pixels is more than a model input may have "
        "(4096 a side)"
    )


def test_a_dynamic_input_with_a_huge_size_is_refused() -> None:
    data = _with_input(64, 50000)
    data["input"]["shape"] = ["batch", 3, None, None]
    with pytest.raises(ManifestError, match=r"preprocessing\.size\[1\]: 50000 pixels is more"):
        ModelManifest.from_dict(data, "m.json")


def test_too_many_input_values_are_refused() -> None:
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(_with_input(4096, 4096, 9, "adjacent_slices"), "m.json")
    assert str(caught.value) == (
        "m.json: input.shape: 9 channels x 4096 x 4096 is 150994944 values, more than a model "
        "input may have (67108864)"
    )


def test_the_largest_allowed_input_is_accepted() -> None:
    manifest = ModelManifest.from_dict(_with_input(4096, 4096), "m.json")
    assert manifest.preprocessing.size == (4096, 4096)


def test_a_user_model_with_a_huge_input_does_not_take_over(
    tmp_path: Path, _no_installed_models: Path
) -> None:
    shipped = write_package(tmp_path / "shipped")
    huge = _with_input(40000, 40000)
    user = write_package(
        _no_installed_models, input=huge["input"], preprocessing=huge["preprocessing"]
    )
    entries = find_models([tmp_path / "shipped"])
    used = best_for("classification", "MR", "sagittal", entries, contrast="T2")
    assert used is not None and used.onnx_path == shipped
    (mine,) = [e for e in entries if e.onnx_path == user]
    assert "preprocessing.size[0]: 40000 pixels is more" in mine.problems[0]


# -- label names -----------------------------------------------------------------------------------


def _with_label(name: str) -> dict[str, Any]:
    data = tiny_manifest()
    data["labels"][1]["name"] = name
    return data


@pytest.mark.parametrize(
    "name",
    ["../../etc", "a/b", "a\\b", ".hidden", "two words", "x" * 65, "", "normal\n", "é"],
)
def test_unsafe_label_names_are_refused(name: str) -> None:
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(_with_label(name), "m.json")
    assert "labels[1].name" in str(caught.value)
    assert "is not a label name" in str(caught.value) or "must" in str(caught.value)


def test_the_label_name_problem_is_clear() -> None:
    with pytest.raises(ManifestError) as caught:
        ModelManifest.from_dict(_with_label("../../etc"), "m.json")
    assert str(caught.value) == (
        "m.json: labels[1].name: '../../etc' is not a label name (letters, digits, '_', '-', "
        "and '.' not first; at most 64 characters)"
    )


@pytest.mark.parametrize("name", ["bulge", "L4-L5", "S1", "pedicle_screw", "T12.a", "x" * 64])
def test_safe_label_names_are_accepted(name: str) -> None:
    assert ModelManifest.from_dict(_with_label(name), "m.json").labels[1].name == name


# -- two packages of one id ------------------------------------------------------------------------


def test_the_higher_version_wins_within_one_folder(
    tmp_path: Path, _no_installed_models: Path
) -> None:
    old = write_package(_no_installed_models, "a-old", version="1.0.0")
    new = write_package(_no_installed_models, "b-new", version="1.10.0")
    entries = find_models()
    by_path = {e.onnx_path: e for e in entries}
    assert by_path[new].available and by_path[new].choice == "used (user folder)"
    assert not by_path[old].available
    assert by_path[old].choice == (
        f"older version than {new} (1.0.0 < 1.10.0, both in the user folder)"
    )
    used = best_for("classification", "MR", "sagittal", entries, contrast="T2")
    assert used is not None and used.onnx_path == new


def test_a_release_beats_its_pre_release(tmp_path: Path) -> None:
    write_package(tmp_path / "a", version="2.0.0")
    pre = write_package(tmp_path / "b", version="2.0.0-rc.1")
    entries = find_models([tmp_path / "b", tmp_path / "a"])  # both chosen: equals
    used = best_for("classification", "MR", "sagittal", entries, contrast="T2")
    assert used is not None and used.manifest is not None and used.manifest.version == "2.0.0"
    assert next(e for e in entries if e.onnx_path == pre).choice.startswith("older version")


def test_a_chosen_folder_beats_a_newer_user_model(
    tmp_path: Path, _no_installed_models: Path
) -> None:
    chosen = write_package(tmp_path / "chosen", version="1.0.0")
    user = write_package(_no_installed_models, version="9.0.0")
    entries = find_models([tmp_path / "chosen"])
    by_path = {e.onnx_path: e for e in entries}
    assert by_path[chosen].choice == "used (chosen folder)"
    assert by_path[user].choice == (
        f"shadowed by {chosen} (the chosen folder wins over the user folder)"
    )


def test_a_user_model_beats_a_newer_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _no_installed_models: Path
) -> None:
    shipped = write_package(tmp_path / "shipped", version="3.0.0")
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: tmp_path / "shipped")
    user = write_package(_no_installed_models, version="1.0.0")
    by_path = {e.onnx_path: e for e in find_models()}
    assert by_path[user].choice == "used (user folder)"
    assert by_path[shipped].choice == (
        f"shadowed by {user} (the user folder wins over the shipped folder)"
    )
    about = registry.describe_models(list(by_path.values()))
    assert "disc-state 1.0.0: classification" in about and "[used (user folder)]" in about
    assert f"disc-state 3.0.0: not used, shadowed by {user}" in about


def test_the_version_rule_keeps_the_order_between_ids(tmp_path: Path) -> None:
    """The newer package of an id takes the place of the older one: a model of another id
    listed between them does not become first."""
    folder = tmp_path / "models"
    write_package(folder, "a", version="1.0.0")
    write_package(folder, "b", id="other-disc-model")
    newer = write_package(folder, "c", version="2.0.0")
    entries = find_models([folder])
    assert [e.onnx_path.name for e in entries] == ["c.onnx", "b.onnx", "a.onnx"]
    used = best_for("classification", "MR", "sagittal", entries, contrast="T2")
    assert used is not None and used.onnx_path == newer


def test_models_list_says_which_is_used_and_why(
    tmp_path: Path, _no_installed_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = write_package(tmp_path / "chosen", "a", version="1.0.0")
    older = write_package(tmp_path / "chosen", "b", version="0.9.0")
    write_package(_no_installed_models, version="2.0.0")
    assert main(["models", "list", "--models", str(tmp_path / "chosen")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("disc-state 1.0.0: classification") and "-- used (chosen folder)" in line
        for line in lines
    ), lines
    assert any(
        line.startswith(f"disc-state 0.9.0: NOT USED, older version than {chosen} (0.9.0 < 1.0.0")
        for line in lines
    ), lines
    assert any(
        line.startswith(
            f"disc-state 2.0.0: NOT USED, shadowed by {chosen} "
            "(the chosen folder wins over the user folder)"
        )
        for line in lines
    ), lines
    assert main(["models", "list", "--models", str(tmp_path / "chosen"), "--json"]) == 0
    rows = {row["onnx"]: row for row in json.loads(capsys.readouterr().out)["models"]}
    assert rows[str(older)]["origin"] == "chosen folder"
    assert rows[str(older)]["choice"].startswith("older version than")
