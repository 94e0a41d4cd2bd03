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


def test_cli_lumbar_mr_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from spineviewer.cli import phantom as cli
    from spineviewer.phantom import (
        CONTRAST_NAMES,
        LUMBAR_COUNTS,
        PROFILES,
        SAGITTAL_FOVS,
        MrOptions,
    )

    assert cli.FOVS == SAGITTAL_FOVS and cli.CONTRASTS == CONTRAST_NAMES
    assert cli.PROFILES == PROFILES
    assert tuple(str(n) for n in LUMBAR_COUNTS) == cli.LUMBAR_COUNTS
    args = ["--fov", "t10-l5", "--lumbar-vertebrae", "6"]
    args += ["--sagittal-contrast", "T1", "--sagittal-contrast", "t2"]
    assert main(["phantom", str(tmp_path), "--kind", "lumbar-mr", "--seed", "2", *args]) == 0
    out = capsys.readouterr().out
    assert "sagittal T1, T2, field of view T10-L5, 6 lumbar vertebrae" in out
    truth = load_ground_truth(tmp_path / "lumbar-mr-00002")
    assert truth.mr_options == MrOptions("T10-L5", 6, ("T1", "T2"))
    assert [s.role for s in truth.series][:2] == ["sagittal_t1", "sagittal_t2"]
    assert [v.label for v in truth.vertebrae][-3:] == ["L5", "L6", "S1"]
    assert not truth.vertebra("S1").in_sagittal_fov and truth.vertebra("L6").in_sagittal_fov


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--fov", "T9-L5"],
            "--fov: choose one of full, T10-L5, L2-S1, T10-S1, L1-S1, got 'T9-L5'",
        ),
        (["--profile", "narrow"], "--profile: choose one of standard, wide, got 'narrow'"),
        (
            ["--profile", "wide", "--fov", "L2-S1"],
            "--fov: the wide profile draws these per study; leave them out",
        ),
        (["--kind", "lumbar-ct", "--profile", "wide"], "--profile: only for --kind lumbar-mr"),
        (["--lumbar-vertebrae", "7"], "--lumbar-vertebrae: choose one of 5, 6, got '7'"),
        (["--sagittal-contrast", "PD"], "--sagittal-contrast: choose one of T2, T1, STIR"),
        (
            ["--sagittal-contrast", "T1", "--sagittal-contrast", "t1"],
            "a sagittal contrast is named twice",
        ),
        (
            ["--kind", "spine-xr", "--fov", "L2-S1", "--lumbar-vertebrae", "6"],
            "--fov, --lumbar-vertebrae: only for --kind lumbar-mr, not spine-xr",
        ),
        (["--kind", "lumbar-ct", "--sagittal-contrast", "T1"], "only for --kind lumbar-mr"),
    ],
)
def test_cli_rejects_bad_mr_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    kind = [] if "--kind" in args else ["--kind", "lumbar-mr"]
    assert main(["phantom", str(tmp_path), *kind, *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_wide_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from spineviewer.phantom.wide import draw_wide

    args = ["--kind", "lumbar-mr", "--profile", "wide", "--count", "2", "--seed", "40"]
    assert main(["phantom", str(tmp_path), *args]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for seed, line in zip((40, 41), lines, strict=True):
        truth = load_ground_truth(tmp_path / f"lumbar-mr-{seed:05d}")
        drawn = draw_wide(seed).options
        assert truth.parameters["profile"] == "wide" and truth.mr_options == drawn
        assert f"lumbar-mr-{seed:05d}" in line and "wide profile: sagittal" in line
        assert f"field of view {drawn.sagittal_fov}" in line
