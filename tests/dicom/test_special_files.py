"""Special files in a scanned folder: a FIFO, a socket, a link to a device, an unreadable
sub-folder. Each is listed as skipped with what it is, and the real images beside it still
load; none blocks the scan or is read without end (issue 20, items 1 and 2)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from spineviewer.dicom import scan
from spineviewer.dicom.study_tree import ScanResult
from spineviewer.phantom import generate, study_folder_name


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("special")
    generate("spine-xr", root, 3)
    return root / study_folder_name("spine-xr", 3)


def _scan_within(path: Path, seconds: float = 60.0) -> ScanResult:
    """``scan(path)`` on a daemon thread: a scan that blocks fails the test instead of hanging
    the suite."""
    out: list[ScanResult] = []
    worker = threading.Thread(target=lambda: out.append(scan(path)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"scan of {path} did not finish in {seconds:g} s"
    return out[0]


def _folder_with(images: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(images, folder)
    return folder


def test_a_fifo_is_skipped_not_waited_for(images: Path, tmp_path: Path) -> None:
    folder = _folder_with(images, tmp_path)
    os.mkfifo(folder / "pipe.dcm")
    result = _scan_within(folder)
    assert len(result.stacks()) == 1
    (fifo,) = [s for s in result.skipped if s.path.endswith("pipe.dcm")]
    assert "FIFO" in fifo.reason and not fifo.dicom
    alone = _scan_within(folder / "pipe.dcm")  # named directly
    assert not alone.studies and "FIFO" in alone.skipped[0].reason


def test_a_link_to_a_device_is_not_read(images: Path, tmp_path: Path) -> None:
    folder = _folder_with(images, tmp_path)
    (folder / "zero.dcm").symlink_to("/dev/zero")
    result = _scan_within(folder)
    assert len(result.stacks()) == 1
    (zero,) = [s for s in result.skipped if s.path.endswith("zero.dcm")]
    assert "device" in zero.reason


def test_a_socket_and_a_broken_link_are_skipped(images: Path, tmp_path: Path) -> None:
    folder = _folder_with(images, tmp_path)
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(folder / "sock.dcm"))
        (folder / "gone.dcm").symlink_to(folder / "nowhere.dcm")
        result = _scan_within(folder)
    finally:
        server.close()
    assert len(result.stacks()) == 1
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert "socket" in reasons["sock.dcm"]
    assert "cannot be read" in reasons["gone.dcm"]


def test_an_unreadable_folder_is_listed(images: Path, tmp_path: Path, monkeypatch) -> None:
    """``os.walk`` drops a folder it cannot list unless told: its error is now a skipped entry
    (as root every folder is readable, so the walk's error is raised on purpose here)."""
    folder = _folder_with(images, tmp_path)
    (folder / "locked").mkdir()
    real_walk = os.walk

    def walk(top, onerror=None, **kwargs):
        for entry in real_walk(top, onerror=onerror, **kwargs):
            if Path(entry[0]).name == "locked" and onerror is not None:
                onerror(PermissionError(13, "Permission denied", entry[0]))
                continue
            yield entry

    monkeypatch.setattr("spineviewer.dicom.sources.os.walk", walk)
    result = _scan_within(folder)
    assert len(result.stacks()) == 1
    (locked,) = [s for s in result.skipped if s.path.endswith("locked")]
    assert "folder cannot be read (Permission denied)" in locked.reason
