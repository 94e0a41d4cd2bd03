"""Output folders that cannot be written (found by the reliability suite): ``analyze --json``,
``report --out`` (plain and anonymised: the key file), ``batch --out`` and an annotation
workspace that cannot be made each ended in a Python traceback. Now each command says which
folder and why, and exits 1 (``batch``: 2, nothing was run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from reliability_cli import child_env, run_cli
from reliability_figures import Figures, check_run

TIMEOUT_S = 120.0


@pytest.fixture
def setup(
    demo_study_dir: Path, unprivileged: tuple[Path, list[str] | None]
) -> tuple[Path, Path, list[str] | None]:
    """(the sagittal series, a folder no one but root can write, the prefix)."""
    root, prefix = unprivileged
    study = shutil.copytree(demo_study_dir / "S01_sagittal_t2", root / "study")
    for path in [root, study, *study.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    locked = root / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    logs = root / "logs"
    logs.mkdir()
    logs.chmod(0o777)
    return study, locked, prefix


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (["analyze", "{study}", "--json", "{locked}/sub/findings.json"], 1),
        (["report", "{study}", "--out", "{locked}/reports", "--format", "json"], 1),
        (["report", "{study}", "--out", "{locked}/reports", "--format", "json", "--anonymize"], 1),
        (["batch", "{study}", "--out", "{locked}/batch", "--format", "json"], 2),
        (["batch", "{study}", "--out", "{locked}/batch", "--format", "json", "--anonymize"], 2),
    ],
    ids=["analyze", "report", "report-anonymised", "batch", "batch-anonymised"],
)
def test_output_folder_cannot_be_written(
    setup: tuple[Path, Path, list[str] | None], command: list[str], status: int, figures: Figures
) -> None:
    study, locked, prefix = setup
    args = [a.format(study=study, locked=locked) for a in command]
    logs = locked.parent / "logs"
    run = run_cli(args, logs, child_env(logs / "workspace", HOME=str(logs)), TIMEOUT_S, prefix)
    check_run(figures, "unwritable output", command[0], run)
    assert run.returncode == status, run.describe()
    assert "Permission denied" in run.stderr and str(locked) in run.stderr, run.describe()


def test_workspace_cannot_be_made(
    setup: tuple[Path, Path, list[str] | None], figures: Figures
) -> None:
    study, locked, prefix = setup
    logs = locked.parent / "logs"
    env = child_env(locked / "workspace", HOME=str(logs))
    args = ["report", str(study), "--out", str(logs / "reports"), "--format", "json"]
    run = run_cli(args, logs, env, TIMEOUT_S, prefix)
    check_run(figures, "unwritable workspace", "report", run)
    assert run.returncode == 1, run.describe()
    assert "annotation workspace" in run.stderr and "Permission denied" in run.stderr
