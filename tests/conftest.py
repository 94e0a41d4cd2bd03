"""Session-wide test settings: Qt without a screen unless a test starts Xvfb itself."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# no test writes to the user's keyring (tests/pacs/test_pacs_keyring.py sets its own backends)
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
# a developer's own config.toml never changes test results (tests/test_config.py sets its own)
os.environ.setdefault(
    "SPINEVIEWER_CONFIG", os.path.join(tempfile.gettempdir(), "spineviewer-tests-no-config.toml")
)

from pathlib import Path

import pytest

#: Real CT slices (JPEG 2000 lossless) in the shared data folder beside the checkout.
_REAL_CT = "shared/data/real/totalsegmentator-examples/ct_dicom"
_CANDIDATES = (
    Path(os.environ.get("SPINEVIEWER_REAL_CT", "/nonexistent")),
    Path(__file__).resolve().parents[2] / _REAL_CT,
    Path("/work") / _REAL_CT,
)
REAL_CT_DIR = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[1])


@pytest.fixture(scope="module")
def module_tmp(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """A folder for one test module's shared data, deleted when the module ends (the CI disk
    is small: a module's phantom studies can take hundreds of MB, and pytest keeps
    ``tmp_path_factory`` folders until the session ends)."""
    path = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2][:30])
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo lumbar MR phantom (seed 1: sagittal T2, angled and continuous axial T2)."""
    from spineviewer.phantom import generate, study_folder_name

    root = tmp_path_factory.mktemp("demo")
    generate("lumbar-mr", root, 1)
    return root / study_folder_name("lumbar-mr", 1)


@pytest.fixture(scope="session")
def real_ct_dir() -> Path:
    """20 real CT slices; tests needing them are skipped when the shared data is absent."""
    if not REAL_CT_DIR.is_dir():
        pytest.skip(f"real CT examples not found at {REAL_CT_DIR}")
    return REAL_CT_DIR


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory):
    """A real Orthanc on 127.0.0.1 (free ports, our AE registered, DICOMweb, basic auth),
    stopped by its PID at the end of the session. Skipped where Orthanc is not installed (the
    test command installs it)."""
    from orthanc_server import OrthancServer, available

    if not available():
        pytest.skip("Orthanc and its DICOMweb plugin are not installed")
    server = OrthancServer(tmp_path_factory.mktemp("orthanc")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pacs_study(orthanc, demo_study_dir: Path) -> tuple[str, list[Path]]:
    """The demo study uploaded to :func:`orthanc` (through its REST API): (study UID, files)."""
    import pydicom

    files = sorted(demo_study_dir.rglob("*.dcm"))
    orthanc.upload(files)
    uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    return uid, files
