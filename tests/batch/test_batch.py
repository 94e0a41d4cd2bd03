"""``spineviewer batch``: one report set per study, failures explained, killed with SIGKILL
half-way and resumed: every study complete once, no partial file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spineviewer.batch import complete
from spineviewer.cli import main
from spineviewer.phantom import generate, study_folder_name

SEEDS = (96_010, 96_011, 96_012, 96_013)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("batch-in")
    good = root / "good"
    for seed in SEEDS:
        generate("lumbar-mr", good, seed)
    bad = root / "bad"  # a study whose every file lost half of its pixel data
    generate("lumbar-mr", bad, 96_099)
    for path in (bad / study_folder_name("lumbar-mr", 96_099)).rglob("*.dcm"):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return good, bad


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".partial" in p.name]


def test_killed_and_resumed_batch_ends_complete(inputs, tmp_path: Path, monkeypatch) -> None:
    good, bad = inputs
    out = tmp_path / "out"
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    command = [sys.executable, "-m", "spineviewer", "batch", str(good), str(bad), "--out",
               str(out), "--format", "json,html", "--provider", "cpu"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("*/manifest.json")):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list(out.glob("*/manifest.json")))
    assert 1 <= done_before < len(SEEDS), "the kill came before the first or after the last study"

    assert main([*command[3:], "--resume"]) == 1  # the corrupt study fails
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == len(SEEDS)  # one folder per study, no duplicates
    assert all(complete(f) is not None for f in folders)
    assert _partials(out) == []
    summary = json.loads((out / "summary.json").read_text())
    statuses = [row["status"] for row in summary]
    assert statuses.count("skipped (complete)") == done_before
    assert statuses.count("done") == len(SEEDS) - done_before
    failures = [row for row in summary if row["status"] == "failed"]
    assert len(failures) == 1 and str(bad) in failures[0]["error"]
    assert "truncated" in failures[0]["error"] or "no readable" in failures[0]["error"]
    assert (out / "summary.csv").read_text().count("\n") == len(SEEDS) + 2  # header + rows


def test_two_workers_and_a_study_that_fails_while_running(inputs, tmp_path: Path, monkeypatch):
    good, _ = inputs
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    out = tmp_path / "out"
    # a study whose images are fine but whose folder cannot be written: it fails alone
    blocked = out / next(iter(sorted(_study_uids(good))))
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the study's folder should be")
    assert main(["batch", str(good), "--out", str(out), "--workers", "2", "--format", "json",
                 "--provider", "cpu"]) == 1  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert [r["status"] for r in summary].count("done") == len(SEEDS) - 1
    failed = [r for r in summary if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"]
    assert main(["batch", str(good), "--out", str(out), "--scheduler", "tcp://x:1"]) == 2


def _study_uids(folder: Path) -> set[str]:
    from spineviewer.dicom import scan

    return {s.uid for s in scan(folder).studies}
