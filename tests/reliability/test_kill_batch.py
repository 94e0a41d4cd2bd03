"""kill -9 of ``spineviewer batch`` (2 workers) at random points, then ``--resume`` (issue 20,
deliverable 3). Right after the kill no file looks complete that is not: a folder with a
manifest holds exactly the files it lists, and a report file under its final name is whole
(JSON that parses, HTML that ends, a PDF with its end marker). After the resume every study is
reported exactly once, every folder is complete, no partial file is left, and the summary
agrees with the folders. Studies lost and duplicated per kill go to the figures (both 0).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from forgery import as_new_study
from reliability_cli import child_env, run_cli
from reliability_figures import Figures, check_run, is_deep

from spineviewer.batch import complete

STUDIES = 5
CI_SEEDS = 2
DEEP_SEEDS = 10
TIMEOUT_S = 300.0
ARGS = ["--workers", "2", "--format", "json,html,pdf"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kill_seed" in metafunc.fixturenames:
        count = DEEP_SEEDS if is_deep(metafunc.config) else CI_SEEDS
        metafunc.parametrize("kill_seed", range(count))


@pytest.fixture(scope="module")
def studies(demo_study_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set]:
    """:data:`STUDIES` studies (the phantom's sagittal series with new UIDs), and their UIDs."""
    import pydicom

    root = tmp_path_factory.mktemp("kill-batch")
    uids = set()
    for number in range(STUDIES):
        folder = root / f"study-{number}"
        as_new_study(demo_study_dir / "S01_sagittal_t2", folder, 1000 + number)
        path = next(folder.glob("*.dcm"))
        uids.add(str(pydicom.dcmread(path, stop_before_pixels=True).StudyInstanceUID))
    return root, uids


def _whole(path: Path) -> bool:
    """A report file under its final name is complete (written atomically)."""
    data = path.read_bytes()
    if path.suffix == ".json":
        try:
            json.loads(data)
        except ValueError:
            return False
        return True
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    return True


def _check_after_kill(out: Path) -> int:
    """No partial file looks complete; the number of complete folders."""
    done = 0
    for folder in (p for p in out.iterdir() if p.is_dir()):
        if (folder / "manifest.json").exists():
            assert complete(folder) is not None, f"{folder}: manifest but files differ"
            done += 1
        for path in folder.rglob("*"):
            if path.is_file() and ".partial" not in path.name and not path.name.startswith("."):
                assert _whole(path), f"{path} looks complete but is not"
    return done


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p), p.stat().st_size) for p in folder.rglob("*") if p.is_file())


def test_kill_batch_and_resume(
    studies: tuple[Path, set], kill_seed: int, tmp_path: Path, figures: Figures
) -> None:
    inputs, uids = studies
    rng = random.Random(kill_seed)
    target = rng.randint(0, STUDIES - 2)  # manifests to wait for: killed before the end
    env = child_env(tmp_path / "workspace")
    for attempt in range(3):  # a batch that ended before the kill is run again, killed sooner
        out = tmp_path / f"out-{attempt}"
        command = [sys.executable, "-m", "spineviewer", "batch", str(inputs), "--out", str(out),
                   *ARGS]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + TIMEOUT_S
        while (
            process.poll() is None
            and time.monotonic() < deadline
            and len(list(out.glob("*/manifest.json"))) < target
        ):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4) / (1 + attempt))  # anywhere in a study's writing
        os.kill(process.pid, signal.SIGKILL)  # the batch process only: workers die with it
        process.wait()
        if process.returncode == -signal.SIGKILL:
            break
    assert process.returncode == -signal.SIGKILL, "the batch ended before every kill"
    time.sleep(0.5)
    before = _listing(out) if out.exists() else []
    time.sleep(1.0)
    assert (_listing(out) if out.exists() else []) == before, "a worker wrote after the kill"
    complete_before = _check_after_kill(out) if out.exists() else 0

    run = run_cli(["batch", str(inputs), "--out", str(out), *ARGS, "--resume"], tmp_path, env,
                  TIMEOUT_S)  # fmt: skip
    check_run(figures, f"batch kill seed {kill_seed}", "batch", run)
    summary = json.loads((out / "summary.json").read_text())
    reported = [row["study_uid"] for row in summary]
    lost = len(uids - set(reported))
    duplicated = len(reported) - len(set(reported))
    figures.batch_kills.append(
        {"seed": kill_seed, "complete_before": complete_before, "lost": lost,
         "duplicated": duplicated}
    )  # fmt: skip
    assert run.returncode == 0, run.describe()
    assert lost == 0 and duplicated == 0 and set(reported) == uids, reported
    statuses = [row["status"] for row in summary]
    assert statuses.count("skipped") == complete_before, statuses
    assert statuses.count("done") == STUDIES - complete_before, statuses
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == STUDIES and all(complete(f) is not None for f in folders)
    assert [p for p in out.rglob("*") if ".partial" in p.name] == []
    for row in summary:
        folder = out / row["folder"]
        assert row["files"] == len(complete(folder)["files"])  # type: ignore[index]
    assert (out / "summary.csv").read_text().count("\n") == STUDIES + 1
