"""Which model reads the vertebrae (issue 25, deliverable 4): the detector stays the default
for sagittal MR; a segmentation model reads them when the user chooses it (the ``vertebrae``
setting: config file < $SPINEVIEWER_VERTEBRAE < ``--vertebrae``) or when it is the only
installed model that accepts the series (CT here); the findings record which."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_segmentation_pipeline import DETECTOR, SEGMENTATION, _mr_entry

from spineviewer import config
from spineviewer.ai.analysis import analyse_study
from spineviewer.ai.pipelines.segmentation import chosen_models, vertebrae_choice
from spineviewer.ai.registry import ModelEntry, load_entry
from spineviewer.ai.segmentation_findings import vertebrae_methods
from spineviewer.ai.sessions import SessionCache
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name

ENV = "SPINEVIEWER_VERTEBRAE"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file of this test's own, no $SPINEVIEWER_VERTEBRAE."""
    path = tmp_path / "config.toml"
    monkeypatch.setenv(config.CONFIG_ENV, str(path))
    monkeypatch.delenv(ENV, raising=False)
    return path


def test_the_setting_defaults_file_environment_and_choice(
    settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config.load().vertebrae == "detector" and vertebrae_choice() == "detector"
    settings.write_text('vertebrae = "segmentation"\n', "utf-8")
    assert vertebrae_choice() == "segmentation"
    assert config.load().sources["vertebrae"] == f"{settings}, line 1"
    monkeypatch.setenv(ENV, "Detector")
    assert vertebrae_choice() == "detector"  # the environment wins over the file
    assert vertebrae_choice("segmentation") == "segmentation"  # the option over both
    monkeypatch.setenv(ENV, "masks")
    with pytest.raises(ValueError, match=f"{ENV}.*'masks'.*detector, segmentation"):
        vertebrae_choice()
    with pytest.raises(ValueError, match="'boxes'"):
        vertebrae_choice("boxes")
    monkeypatch.delenv(ENV)
    settings.write_text('vertebrae = "masks"\n', "utf-8")  # a wrong file value: ignored
    assert vertebrae_choice() == "detector"
    problem = next(p for p in config.load().problems if p.setting == "vertebrae")
    assert str(settings) in problem.where and "'masks'" in problem.message


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelEntry]:
    folder = tmp_path_factory.mktemp("mr-segmentation")
    return {
        "detector": load_entry(DETECTOR),
        "mr": _mr_entry(folder),
        "ct": load_entry(SEGMENTATION),
    }


def _ids(entries: list[ModelEntry]) -> list[str]:
    return [e.manifest.id for e in entries if e.manifest is not None]


def test_chosen_models_drop_only_the_detectors_a_segmentation_model_stands_in_for(
    settings: Path, models: dict[str, ModelEntry]
) -> None:
    every = [models["detector"], models["mr"], models["ct"]]
    assert chosen_models(every) == every  # the default: the detector reads sagittal MR
    assert chosen_models(every, "detector") == every
    assert _ids(chosen_models(every, "segmentation")) == [
        "mr-segmentation",
        "spine-ct-segmentation",
    ]
    # an axial CT segmentation model reads no sagittal MR: the detector is kept
    ct_only = [models["detector"], models["ct"]]
    assert chosen_models(ct_only, "segmentation") == ct_only
    settings.write_text('vertebrae = "segmentation"\n', "utf-8")
    assert "vertebrae-sagittal" not in _ids(chosen_models(every))  # the setting alone


def test_the_findings_record_which_method_read_the_sagittal_mr(
    settings: Path, models: dict[str, ModelEntry], demo_study_dir: Path
) -> None:
    study = scan(demo_study_dir).studies[0]
    sagittal = next(s.uid for s in study.series if s.stacks[0].plane == "sagittal")
    both = [models["detector"], models["mr"]]
    default = analyse_study(study, chosen_models(both), SessionCache("cpu", 2))
    assert vertebrae_methods(default) == {sagittal: ("detector", "vertebrae-sagittal")}
    assert default.label_maps == ()
    chosen = analyse_study(study, chosen_models(both, "segmentation"), SessionCache("cpu", 2))
    steps = {s.name: s.status for s in chosen.steps}
    assert steps["lumbar MR: vertebrae"] == "skipped"
    assert steps["segmentation: label map"] == "done"
    assert [(m.series_uid, m.model_id) for m in chosen.label_maps] == [
        (sagittal, "mr-segmentation")
    ]
    assert "vertebrae-sagittal" not in {m.id for m in chosen.models}
    # the CT network knows no MR: whatever vertebrae it finds are the segmentation's
    assert set(vertebrae_methods(chosen).values()) <= {("segmentation", "mr-segmentation")}


def test_analyze_says_which_method_read_the_vertebrae(
    settings: Path,
    models: dict[str, ModelEntry],
    demo_study_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a CT no detector reads: the segmentation model, the only one that accepts it
    generate("lumbar-ct", tmp_path, 9502)
    ct = tmp_path / study_folder_name("lumbar-ct", 9502)
    assert main(["analyze", str(ct), "--provider", "cpu"]) == 0
    out = capsys.readouterr().out
    assert ": segmentation (spine-ct-segmentation)" in out and ": detector (" not in out
    # sagittal MR with both installed: the detector, unless --vertebrae segmentation
    folder = models["mr"].onnx_path.parent
    assert main(["analyze", str(demo_study_dir), "--models", str(folder), "--provider", "cpu"]) == 0
    assert ": detector (vertebrae-sagittal)" in capsys.readouterr().out
    args = ["analyze", str(demo_study_dir), "--models", str(folder), "--provider", "cpu"]
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--json", "f.json", "--vertebrae", "segmentation"]) == 0
    out = capsys.readouterr().out
    assert ": detector (" not in out
    written = (tmp_path / "f.json").read_text("utf-8")
    assert '"model_id": "mr-segmentation"' in written  # its label map is recorded
    # a wrong $SPINEVIEWER_VERTEBRAE: said, named, not a traceback
    monkeypatch.setenv(ENV, "masks")
    assert main(["analyze", str(demo_study_dir), "--provider", "cpu"]) == 1
    assert ENV in capsys.readouterr().err


def test_report_and_batch_take_the_choice_too(
    settings: Path,
    models: dict[str, ModelEntry],
    demo_study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``report`` and ``batch`` read the vertebrae as ``analyze`` does: ``--vertebrae
    segmentation`` runs the segmentation model on the sagittal MR (its label map is in the
    findings), and a wrong $SPINEVIEWER_VERTEBRAE stops them with its name, once."""
    folder = str(models["mr"].onnx_path.parent)
    common = ["--models", folder, "--provider", "cpu", "--format", "json"]
    out = tmp_path / "report"
    assert main(["report", str(demo_study_dir), "--out", str(out), *common,
                 "--vertebrae", "segmentation"]) == 0  # fmt: skip
    written = "\n".join(p.read_text("utf-8") for p in out.rglob("*.json"))
    assert '"mr-segmentation"' in written
    batch = tmp_path / "batch"
    assert main(["batch", str(demo_study_dir), "--out", str(batch), *common,
                 "--vertebrae", "segmentation"]) == 0  # fmt: skip
    written = "\n".join(p.read_text("utf-8") for p in batch.rglob("*.json"))
    assert '"mr-segmentation"' in written
    capsys.readouterr()
    monkeypatch.setenv(ENV, "masks")
    assert main(["report", str(demo_study_dir), "--out", str(tmp_path / "r2"), *common]) == 1
    assert ENV in capsys.readouterr().err
    assert main(["batch", str(demo_study_dir), "--out", str(tmp_path / "b2"), *common]) == 2
    assert ENV in capsys.readouterr().err
