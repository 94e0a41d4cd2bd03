"""``spineviewer train segmentation`` (issue 25): the documented command line of the demo
segmentation model's training takes the options of ``spineviewer.training.segmentation_train``
and runs it (a tiny run ships a package); the classifier tasks keep their own options."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from spineviewer.cli import build_parser, main
from spineviewer.cli.train import segmentation_argv
from spineviewer.training.segmentation_train import parser as segmentation_parser

TINY = ["--train-seeds", "1", "--test-seeds", "1", "--features", "2,4,4,8,8", "--threads", "1"]


def test_the_options_reach_the_trainer_as_given(tmp_path: Path) -> None:
    given = ["--out", str(tmp_path / "m"), "--iterations", "2", "--learning-rate", "0.004"]
    args = build_parser().parse_args(["train", "segmentation", *given, *TINY])
    assert args.task == "segmentation" and args.iterations == 2
    argv = segmentation_argv(args, args.segmentation_parser)
    again = vars(segmentation_parser().parse_args(argv))
    assert again == {k: getattr(args, k) for k in again}
    assert "--seed" not in argv  # a default stays out of the recorded command line


def test_the_classifier_tasks_keep_their_options(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["train", "disc-state", "--out", str(tmp_path), "--epochs", "1", "--backbone", "resnet18"]
    )
    assert (args.task, args.epochs, args.backbone) == ("disc-state", 1, ["resnet18"])
    assert main(["train", "segmentation", "--epochs", "1"]) == 2  # not its option: a usage error


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None,
    reason="the training extra (torch, onnx) is not installed",
)
def test_a_tiny_run_through_the_command_ships_the_package(tmp_path: Path) -> None:
    out, cache = tmp_path / "models", tmp_path / "cache"
    command = ["train", "segmentation", "--out", str(out), "--cache", str(cache)]
    assert main([*command, "--iterations", "1", *TINY]) == 0
    card = (out / "spine-ct-segmentation.md").read_text("utf-8")
    assert "NOT FOR CLINICAL USE" in card and "--iterations 1" in card
    assert (out / "spine-ct-segmentation.onnx").is_file()
    assert (out / "spine-ct-segmentation.json").is_file()
