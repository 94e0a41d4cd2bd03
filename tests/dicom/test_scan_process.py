"""Headers read in the child process: the same studies, skipped files and cancellation as
a scan on the calling thread, and a scan that still works when the child dies."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from spineviewer.dicom import scan
from spineviewer.dicom.scan import ScanCancelled
from spineviewer.dicom.scan_process import ScanProcess


@pytest.fixture(scope="module")
def scanner():
    process = ScanProcess()
    assert process.wait_until_ready()
    yield process
    process.stop()


@pytest.fixture
def folder_with_problems(tmp_path: Path, demo_study_dir: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(demo_study_dir, folder)
    (folder / "notes.txt").write_text("not a DICOM file")
    victim = sorted(folder.rglob("*.dcm"))[3]
    victim.write_bytes(victim.read_bytes()[:400])  # truncated in its header
    return folder


def summary(result) -> tuple:
    return (
        [s.summary() for s in result.studies],
        sorted((Path(s.path).name, s.reason) for s in result.skipped),
        [[f.instance.sop_instance_uid for f in st.frames] for st in result.stacks()],
    )


def test_same_result_as_scanning_on_this_thread(scanner, folder_with_problems: Path) -> None:
    seen: list[int] = []
    result = scanner.scan(folder_with_problems, lambda done, current: seen.append(done))
    expected = scan(folder_with_problems)
    assert summary(result) == summary(expected)
    reasons = {Path(s.path).name for s in result.skipped}
    assert {"notes.txt", "IM00004.dcm"} <= reasons
    assert seen and seen == sorted(seen) and seen[-1] > 0
    assert scanner.failures == 0 and scanner._ready  # read by the child, not this thread


def test_a_missing_path_is_reported_as_skipped(scanner, tmp_path: Path) -> None:
    result = scanner.scan(tmp_path / "absent")
    assert result.studies == ()
    assert [s.reason for s in result.skipped] == ["no such file or folder"]


def test_cancel_stops_the_scan_and_the_next_scan_is_whole(scanner, demo_study_dir) -> None:
    with pytest.raises(ScanCancelled):
        scanner.scan(demo_study_dir, cancelled=lambda: True)
    again = scanner.scan(demo_study_dir)  # a late cancel request must not reach this one
    assert summary(again) == summary(scan(demo_study_dir))


def test_concurrent_callers_take_turns(scanner, demo_study_dir: Path) -> None:
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(scanner.scan(demo_study_dir)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    expected = summary(scan(demo_study_dir))
    assert len(results) == 3 and all(summary(r) == expected for r in results)


def test_calls_while_the_child_starts_run_on_this_thread(demo_study_dir: Path) -> None:
    process = ScanProcess()
    process.start()
    result = process.scan(demo_study_dir)  # at once: the child is still importing
    assert summary(result) == summary(scan(demo_study_dir))
    assert process.wait_until_ready()
    process.stop()


def test_a_dead_child_falls_back_to_this_thread(demo_study_dir: Path) -> None:
    process = ScanProcess()
    process.start()
    process._process.kill()
    process._process.join(10)
    result = process.scan(demo_study_dir)  # restarts it once; it works either way
    assert summary(result) == summary(scan(demo_study_dir))
    killed = ScanProcess()
    assert killed.wait_until_ready()
    calls = {"n": 0}

    def kill_on_first_progress(done: int, current: str) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            killed._process.kill()

    result = killed.scan(demo_study_dir, kill_on_first_progress)
    assert summary(result) == summary(scan(demo_study_dir))
    assert killed.failures == 1
    killed.stop()
    process.stop()
