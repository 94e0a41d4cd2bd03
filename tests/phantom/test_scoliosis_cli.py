"""``spineviewer phantom --kind lumbar-ct --scoliosis ...`` (in-process) and its parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineviewer.cli import main
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.scoliosis_bend import Scoliosis


def test_parse_fills_the_defaults():
    assert Scoliosis.parse("35") == Scoliosis(cobb_deg=35.0)
    assert Scoliosis.parse("20:L3:right:15") == Scoliosis(
        cobb_deg=20.0, apex="L3", convex="right", rotation_deg=15.0
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steep", "cobb: a number of degrees, not 'steep'"),
        ("30:L2:left:lots", "rotation: a number of degrees"),
        ("30:L2:up", "convex to the left or the right"),
        ("95", "Cobb angle of 0-80"),
        ("30::left", "COBB[:APEX"),
        ("1:2:3:4:5", "COBB[:APEX"),
    ],
)
def test_parse_names_what_is_wrong(text: str, message: str):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        Scoliosis.parse(text)


def test_cli_writes_a_scoliotic_ct_with_its_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["phantom", str(tmp_path), "--kind", "lumbar-ct", "--seed", "4"]
    assert main([*args, "--scoliosis", "25:L3:right"]) == 0
    out = capsys.readouterr().out
    assert "lumbar-ct-00004-scoliosis" in out and "Cobb 25 deg, apex L3, convex right" in out
    truth = load_ground_truth(tmp_path / "lumbar-ct-00004-scoliosis")
    curve = truth.parameters["scoliosis"]
    assert (curve["cobb_deg"], curve["apex"], curve["convex"]) == (25.0, "L3", "right")
    assert any((tmp_path / "lumbar-ct-00004-scoliosis").rglob("*.dcm"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "lumbar-mr", "--scoliosis", "30"], "--scoliosis: only for --kind lumbar-ct"),
        (["--kind", "lumbar-ct", "--scoliosis", "30:S1"], "no apex 'S1' in this spine"),
        (["--kind", "lumbar-ct", "--scoliosis", "x"], "cobb: a number of degrees"),
    ],
)
def test_cli_refuses_a_misplaced_or_bad_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    assert main(["phantom", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
