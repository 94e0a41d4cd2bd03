"""``spineviewer phantom`` on the command line (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineviewer.cli import main
from spineviewer.phantom import load_ground_truth


def test_writes_count_studies(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    status = main(["phantom", str(tmp_path), "--kind", "spine-xr", "--count", "2", "--seed", "3"])
    assert status == 0
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert folders == ["spine-xr-00003", "spine-xr-00004"]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "spine-xr-00003: 1 series, 1 images" in lines[0]
    assert [load_ground_truth(tmp_path / f).seed for f in folders] == [3, 4]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "knee-mr"], "invalid choice: 'knee-mr'"),
        (["--kind", "spine-xr", "--count", "0"], "--count: must be at least 1, got 0"),
        (["--kind", "spine-xr", "--seed", "-4"], "--seed: must be 0 or more"),
        (["--kind", "spine-xr", "--count", "two"], "expected a positive integer"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args, message):
    assert main(["phantom", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
