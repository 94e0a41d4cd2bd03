"""``spineviewer batch`` at the size of the acceptance: 50 phantom studies and 3 corrupt inputs,
killed with SIGKILL half-way and resumed (every study complete once, no partial file, the
failures explained), and the same jobs on a Dask ``LocalCluster`` giving the same findings."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from spineviewer.batch import complete
from spineviewer.cli import main
from spineviewer.phantom import generate, study_folder_name

#: 10 phantom anatomies, each also copied as 4 more studies (new UIDs and patient): 50 studies.
SEEDS = tuple(range(96_010, 96_020))
COPIES = 5
STUDIES = len(SEEDS) * COPIES
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


def _copy_as_new_study(source: Path, target: Path, number: int) -> None:
    """``source``'s files as another patient's study: every UID and the patient replaced."""
    for path in source.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        for keyword in UID_KEYWORDS:
            if keyword in ds:
                setattr(
                    ds, keyword, generate_uid(entropy_srcs=[str(ds[keyword].value), str(number)])
                )
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientID = f"{ds.PatientID}-{number}"
        ds.PatientName = f"COPY^{number}"
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(out, enforce_file_format=True)


def _corrupt_inputs(root: Path) -> list[Path]:
    """Three inputs that hold no usable study, each broken another way."""
    truncated = root / "bad-truncated"  # every file lost half of its bytes
    generate("lumbar-mr", truncated, 96_099)
    for path in truncated.rglob("*.dcm"):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    junk = root / "bad-junk"  # files named .dcm that are not DICOM at all
    junk.mkdir()
    for i in range(3):
        (junk / f"IM{i:05d}.dcm").write_bytes(os.urandom(4096))
    empty = root / "bad-empty"  # a folder of non-image files
    empty.mkdir()
    (empty / "README.txt").write_text("no images here\n")
    return [truncated, junk, empty]


@pytest.fixture(scope="module")
def inputs(module_tmp: Path) -> tuple[Path, list[Path]]:
    root = module_tmp / "batch-in"
    root.mkdir()
    good = root / "good"
    for seed in SEEDS:
        generate("lumbar-mr", root / "seeds", seed)
        source = root / "seeds" / study_folder_name("lumbar-mr", seed)
        _copy_as_new_study(source, good / f"{seed}-0", 0)  # new UIDs for the original too
        for number in range(1, COPIES):
            _copy_as_new_study(source, good / f"{seed}-{number}", number)
    return good, _corrupt_inputs(root)


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".partial" in p.name]


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p), p.stat().st_size) for p in folder.rglob("*") if p.is_file())


def test_fifty_studies_killed_half_way_and_resumed(inputs, tmp_path: Path, monkeypatch) -> None:
    good, bad = inputs
    out = tmp_path / "out"
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    command = [sys.executable, "-m", "spineviewer", "batch", str(good), *map(str, bad),
               "--out", str(out), "--workers", "2", "--format", "json,html,pdf",
               "--provider", "cpu"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list(out.glob("*/manifest.json"))) < STUDIES // 2:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # the batch process only: its workers die with it
    process.wait()
    time.sleep(1.0)
    before = _listing(out)
    time.sleep(2.0)
    assert _listing(out) == before, "a worker went on writing after the batch was killed"
    done_before = len(list(out.glob("*/manifest.json")))
    assert STUDIES // 2 <= done_before < STUDIES, "the kill came after the last study"

    assert main([*command[3:], "--resume"]) == 1  # the corrupt inputs are unreadable
    assert (out / "skipped.csv").is_file()
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == STUDIES  # one folder per study, no duplicates
    assert all(complete(f) is not None for f in folders)
    assert all((f / "report.pdf").stat().st_size > 10_000 for f in folders)
    assert _partials(out) == []
    summary = json.loads((out / "summary.json").read_text())
    statuses = [row["status"] for row in summary]
    assert statuses.count("skipped") == done_before
    assert statuses.count("done") == STUDIES - done_before
    skipped = [row for row in summary if row["status"] == "skipped"]
    assert all("complete already" in row["error"] and row["files"] > 0 for row in skipped)
    failures = [row for row in summary if row["status"] == "unreadable"]
    truncated = [row for row in failures if row["error"].startswith(f"{bad[0]}{os.sep}")]
    assert len(truncated) == len(list(bad[0].rglob("*.dcm")))  # one row per file of the study
    assert len({row["study_uid"] for row in truncated}) == 1 and truncated[0]["study_uid"]
    for row in truncated:
        assert "truncated" in row["error"] or "pixel data" in row["error"], row["error"]
    rest = failures[len(truncated) :]  # inputs holding nothing DICOM: one row each
    for path, row in zip(bad[1:], rest, strict=True):
        assert row["error"].startswith(str(path)) and "no readable DICOM study" in row["error"]
    assert (out / "summary.csv").read_text().count("\n") == STUDIES + len(failures) + 1


def _report_findings(out: Path) -> dict[str, dict[str, object]]:
    """Every study's report.json without its creation time."""
    found = {}
    for path in sorted(out.glob("*/report.json")):
        data = json.loads(path.read_text())
        data.pop("created")
        found[path.parent.name] = data
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dask_local_cluster_gives_the_same_findings(inputs, tmp_path: Path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")
    good, _ = inputs
    some = sorted(good.iterdir())[::COPIES][:4]  # four different anatomies
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    options = ["--format", "json,sr", "--provider", "cpu"]
    assert main(["batch", *map(str, some), "--out", str(tmp_path / "local"), *options]) == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert main(["batch", *map(str, some), "--out", str(tmp_path / "dask"), *options,
                     "--scheduler", address]) == 0  # fmt: skip
    local, dask = _report_findings(tmp_path / "local"), _report_findings(tmp_path / "dask")
    assert len(local) == 4 and local == dask
    assert all(complete(f) is not None for f in (tmp_path / "dask").iterdir() if f.is_dir())
    capsys.readouterr()
    nobody = f"tcp://127.0.0.1:{_free_port()}"
    assert main(["batch", str(some[0]), "--out", str(tmp_path / "x"), "--scheduler", nobody]) == 2
    assert f"cannot reach the Dask scheduler at {nobody}" in capsys.readouterr().err


def test_two_workers_and_a_study_that_fails_while_running(inputs, tmp_path: Path, monkeypatch):
    good, _ = inputs
    some = sorted(good.iterdir())[:3]
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    out = tmp_path / "out"
    # a study whose images are fine but whose folder cannot be written: it fails alone
    blocked = out / next(iter(sorted(_study_uids(some[0]))))
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the study's folder should be")
    assert main(["batch", *map(str, some), "--out", str(out), "--workers", "2", "--format",
                 "json", "--provider", "cpu"]) == 1  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert [r["status"] for r in summary].count("done") == len(some) - 1
    failed = [r for r in summary if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"]


def _study_uids(folder: Path) -> set[str]:
    from spineviewer.dicom import scan

    return {s.uid for s in scan(folder).studies}
