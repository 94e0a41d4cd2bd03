"""Fuzzing the model registry with broken copies of the shipped model packages.

Each case writes one package (``NAME.onnx`` and a sidecar ``NAME.json``, or a manifest embedded
in the ONNX file) into an empty models folder. ``find_models`` must list it without raising;
a package that cannot run is unavailable with one-line problems and never the registry's last
resort ("unexpected error: ..."); ``spineviewer models check`` exits 1 with those problems under
a line naming the file (0 exactly when the package is usable), and its ``--json`` output is
JSON and nothing else.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from fuzz_support import assert_names, assert_one_line, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from model_cases import (
    MODELS_DIR,
    PACKAGES,
    bare_onnx,
    embed_manifest,
    manifest_texts,
    onnx_bytes,
    package_bytes,
)

import spineviewer.ai.registry as registry
from spineviewer.ai import ModelEntry, file_sha256, find_models
from spineviewer.cli import main


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models folder; the user's and the bundled models are kept out."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(registry, "bundled_model_dir", lambda: None)
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


def check_package(folder: Path, name: str) -> ModelEntry:
    """find_models and ``models check`` agree, and every problem is one clear line."""
    [entry] = find_models([folder])
    for problem in entry.problems:
        assert_one_line(problem)
        assert not problem.startswith("unexpected error"), problem
    assert entry.available or entry.problems, "unavailable without a reason"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["models", "check", str(folder / f"{name}.onnx")])
    assert status == (0 if entry.available else 1)
    if not entry.available:
        first, *reasons = err.getvalue().splitlines()
        assert_names(first, folder / f"{name}.onnx")
        assert reasons == [f"  - {p}" for p in entry.problems]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["models", "check", str(folder / f"{name}.onnx"), "--json"])
    assert json.loads(out.getvalue())["problems"] == list(entry.problems)
    return entry


def _install(folder: Path, name: str, onnx: bytes, manifest: bytes | str | None = None) -> None:
    """``folder`` holding only this package: the ONNX file and, when given, its sidecar."""
    for path in folder.iterdir():
        path.unlink()
    (folder / f"{name}.onnx").write_bytes(onnx)
    if manifest is not None:
        data = manifest.encode() if isinstance(manifest, str) else manifest
        (folder / f"{name}.json").write_bytes(data)


@fuzz_settings(weight=2)
@given(name=st.sampled_from(PACKAGES), data=st.data())
def test_broken_manifests(models: Path, name: str, data: st.DataObject) -> None:
    onnx, manifest = package_bytes(name)
    text, _ = data.draw(manifest_texts(manifest))
    _install(models, name, onnx, text)
    check_package(models, name)


@fuzz_settings(weight=1.5)
@given(name=st.sampled_from(PACKAGES), data=st.data())
def test_broken_onnx_files(models: Path, name: str, data: st.DataObject) -> None:
    onnx, manifest = package_bytes(name)
    broken, _ = data.draw(onnx_bytes(onnx))
    _install(models, name, broken, manifest)
    entry = check_package(models, name)
    if file_sha256(models / f"{name}.onnx") != file_sha256(MODELS_DIR / f"{name}.onnx"):
        # (the digest leaves out the manifest the shipped files embed: edits there keep it)
        assert not entry.available
        assert any("sha256 mismatch" in p for p in entry.problems), entry.problems


@fuzz_settings(weight=1)
@given(name=st.sampled_from(PACKAGES), data=st.data())
def test_broken_embedded_manifests(models: Path, name: str, data: st.DataObject) -> None:
    """No sidecar: the manifest travels inside the ONNX file (its digest leaves it out)."""
    _, manifest = package_bytes(name)
    text, _ = data.draw(manifest_texts(manifest))
    _install(models, name, embed_manifest(bare_onnx(name), text))
    check_package(models, name)


def test_the_shipped_packages_are_usable(models: Path) -> None:
    """The fuzz inputs themselves: intact, sidecar or embedded, every package can run."""
    for name in PACKAGES:
        onnx, manifest = package_bytes(name)
        _install(models, name, embed_manifest(bare_onnx(name), manifest.encode()))
        assert check_package(models, name).available
        _install(models, name, onnx, manifest)
        assert check_package(models, name).available
