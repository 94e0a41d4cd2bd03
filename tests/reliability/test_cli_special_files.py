"""Special files beside a good study, through the real ``info``, ``analyze``, ``report`` and
``batch`` (issue 20, items 1 to 3): a FIFO named ``x.dcm``, a link ``zero.dcm -> /dev/zero``, a
socket, a dangling link; and an unreadable file and folder (as root, where every file is
readable, the commands run as ``nobody`` through ``setpriv`` when it can; else skipped).

Each command must end in time, print no traceback, name every special file, still process the
good study, and exit as documented (``info``, ``analyze``, ``report``: 0 while a study is
there; ``batch``: 0, or 1 when a folder could not be listed)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import stat
from pathlib import Path

from reliability_cli import Run, child_env, run_cli
from reliability_figures import Figures, check_run

TIMEOUT_S = 120.0


def _special_files(folder: Path) -> tuple[dict[str, str], socket.socket]:
    """The special files in ``folder``: name -> a word their reason must hold."""
    os.mkfifo(folder / "x.dcm")
    (folder / "zero.dcm").symlink_to("/dev/zero")
    (folder / "gone.dcm").symlink_to(folder / "nowhere.dcm")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock.dcm"))
    return {"x.dcm": "FIFO", "zero.dcm": "device", "sock.dcm": "socket", "gone.dcm": "read"}, server


def _check_commands(
    folder: Path,
    names: dict[str, str],
    figures: Figures,
    case: str,
    prefix: list[str] | None = None,
    batch_status: int = 0,
) -> dict[str, Run]:
    """Run the four commands on ``folder`` (the good study is ``folder/good``); check each."""
    out = folder.parent / "out"
    out.mkdir(exist_ok=True)
    out.chmod(0o777)  # written by the commands, which may run as another user
    env = child_env(out / "workspace", HOME=str(out))
    calls = {
        "info": ["info", str(folder)],
        "analyze": ["analyze", str(folder), "--json", str(out / "findings.json")],
        "report": ["report", str(folder), "--out", str(out / "report"), "--format", "json,html"],
        "batch": ["batch", str(folder), "--out", str(out / "batch"), "--format", "json"],
    }
    runs = {}
    for command, args in calls.items():
        run = run_cli(args, out, env, TIMEOUT_S, prefix)
        check_run(figures, case, command, run)
        runs[command] = run
        expected = batch_status if command == "batch" else 0
        assert run.returncode == expected, run.describe()
        for name, word in names.items():  # each named, with what it is
            lines = [line for line in run.output.splitlines() if name in line]
            assert lines, f"{command} does not name {name}\n{run.describe()}"
            assert any(word in line for line in lines), f"{command}: {name}: {lines}"
    figures.cases += len(names)

    assert "Study " in runs["info"].stdout
    findings = json.loads((out / "findings.json").read_text())
    assert len(findings["vertebrae"]) >= 5, "the good study was not analysed"
    assert len(list((out / "report").glob("*/report.json"))) == 1
    summary = json.loads((out / "batch" / "summary.json").read_text())
    assert [r["status"] for r in summary].count("done") == 1, summary
    with (out / "batch" / "skipped.csv").open(newline="") as f:
        listed = {Path(row["path"]).name for row in csv.DictReader(f)}
    assert set(names) <= listed, f"skipped.csv lacks {set(names) - listed}"
    return runs


def test_fifo_device_socket_and_dangling_link(
    demo_study_dir: Path, tmp_path: Path, figures: Figures
) -> None:
    folder = tmp_path / "inbox"
    shutil.copytree(demo_study_dir, folder / "good")
    names, server = _special_files(folder)
    try:
        _check_commands(folder, names, figures, "special files")
    finally:
        server.close()


def test_unreadable_file_and_folder(
    demo_study_dir: Path, unprivileged: tuple[Path, list[str] | None], figures: Figures
) -> None:
    root, prefix = unprivileged
    folder = root / "inbox"
    shutil.copytree(demo_study_dir, folder / "good")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    some_series = sorted(p for p in (folder / "good").iterdir() if p.is_dir())[-1]
    shutil.copytree(some_series, folder / "locked")  # a whole series in a folder not listable
    (folder / "locked").chmod(0)
    shutil.copy(next(some_series.glob("*.dcm")), folder / "unread.dcm")
    (folder / "unread.dcm").chmod(0)
    try:
        names = {"unread.dcm": "Permission denied", "locked": "Permission denied"}
        runs = _check_commands(folder, names, figures, "unreadable", prefix, batch_status=1)
    finally:
        (folder / "locked").chmod(stat.S_IRWXU)
    assert "folder cannot be read" in runs["batch"].stderr
