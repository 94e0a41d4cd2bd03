"""The pipelines with the shipped models on phantom studies (real DICOM files, real
onnxruntime sessions): findings against the ground truth, steps that cannot run saying why,
failures and cancelling, the JSON form and ``spineviewer analyze``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from study_helpers import copy_plane

from spineviewer.ai.analysis import Cancelled, Context, Skip, analyse_path, run_steps
from spineviewer.ai.findings import Findings
from spineviewer.ai.registry import find_models
from spineviewer.ai.sessions import SessionCache, chosen_provider
from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.phantom import generate, load_ground_truth, study_folder_name

MODELS = Path(__file__).resolve().parents[2] / "onnx_models"


@pytest.fixture(scope="module")
def lumbar(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Findings]:
    root = tmp_path_factory.mktemp("lumbar")
    generate("lumbar-mr", root, 90_003)  # a held-out seed of disc-state
    study = root / study_folder_name("lumbar-mr", 90_003)
    (findings,) = analyse_path(study, provider="cpu")
    return study, findings


def test_lumbar_mr_findings_match_the_ground_truth(lumbar: tuple[Path, Findings]) -> None:
    study, findings = lumbar
    truth = load_ground_truth(study)
    steps = {s.name: s for s in findings.steps}
    assert all(steps[n].status == "done" for n in steps if n.startswith("lumbar MR")), steps
    true_centres = {v.label: np.asarray(v.centre_mm) for v in truth.vertebrae}
    found = {v.label: v for v in findings.vertebrae}
    assert {"L1", "L2", "L3", "L4", "L5", "S1"} <= set(found)
    for label, v in found.items():
        assert np.linalg.norm(np.asarray(v.centre_mm) - true_centres[label]) < 5.0, label
        x0, y0, x1, y1 = v.box_px
        assert 0 <= x0 < x1 and 0 <= y0 < y1
    states = {d.level: d.state for d in truth.discs}
    assert {d.level for d in findings.discs} >= {"L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"}
    for disc in findings.discs:
        assert disc.state == states[disc.level], disc.level
        assert disc.axial_instances and len(disc.roi_boxes_px) == len(disc.axial_instances)
        assert sum(disc.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert findings.fractures == () and found["L3"].fracture == "normal"
    for label in ("L1", "L2", "L3", "L4"):  # the bodies' heights, measured and intact
        heights, loss = found[label].body_heights_mm, found[label].height_loss
        assert heights is not None and all(18 < h < 32 for h in heights), (label, heights)
        assert loss is not None and loss < 0.12, (label, heights, loss)
    assert {m.id for m in findings.models} == {
        "vertebrae-sagittal",
        "disc-state",
        "disc-state-sagittal",  # the sagittal view's state, averaged with the axial one
        "vertebra-fracture",
    }
    assert findings.provider == "cpu" and all(m.provider == "cpu" for m in findings.models)
    assert findings.not_for_clinical_use
    assert steps["spine X-ray: radiograph"].status == "skipped"
    assert "no radiograph" in steps["spine X-ray: radiograph"].reason


def test_a_wedge_fracture_is_found(tmp_path: Path) -> None:
    generate("lumbar-mr", tmp_path, 92_005, fractures=["L2:wedge:3"])  # held-out seed
    (findings,) = analyse_path(tmp_path / study_folder_name("lumbar-mr", 92_005), provider="cpu")
    assert [v.label for v in findings.fractures] == ["L2"]
    fractured = findings.fractures[0].fracture_probability
    assert fractured is not None and fractured > 0.5
    # the wedge's heights bear the model out: anterior lowest, a Genant grade 2-3 loss
    a, m, p = findings.fractures[0].body_heights_mm or (0, 0, 0)
    assert a < m < p and (findings.fractures[0].height_loss or 0) >= 0.25
    assert "Genant grade" in findings.fractures[0].fracture_reasons[0]


def test_findings_round_trip_through_json(lumbar: tuple[Path, Findings], tmp_path: Path) -> None:
    _, findings = lumbar
    path = findings.save(tmp_path / "out" / "findings.json")
    again = Findings.from_json(path.read_text())
    assert again == findings
    data = json.loads(path.read_text())
    assert data["not_for_clinical_use"] is True and data["schema_version"] == 1
    with pytest.raises(ValueError, match="schema version"):
        Findings.from_dict({**data, "schema_version": 99})


def test_a_study_without_a_sagittal_series_says_why(
    lumbar: tuple[Path, Findings], tmp_path: Path
) -> None:
    study, _ = lumbar
    axial_only = copy_plane(study, "axial", tmp_path / "axial")
    (findings,) = analyse_path(axial_only, provider="cpu")
    steps = {s.name: s for s in findings.steps}
    assert steps["lumbar MR: series"].status == "skipped"
    assert "no sagittal MR series" in steps["lumbar MR: series"].reason
    assert not findings.vertebrae and not findings.discs
    # disc-state wants an ROI only the lumbar pipeline can give: the generic runner says so
    assert "disc-state needs an ROI" in steps["generic classifiers: whole images"].reason


def test_a_failing_step_is_recorded_and_the_others_still_run(lumbar) -> None:
    study, _ = lumbar
    ctx = Context(scan(study).studies[0], [], SessionCache("cpu"))

    def broken(c: Context) -> None:
        raise RuntimeError("model output has the wrong shape")

    def skipped(c: Context) -> None:
        raise Skip("nothing to do")

    def fine(c: Context) -> None:
        c.warnings.append("ran")

    results = run_steps(ctx, [("a", broken), ("b", skipped), ("c", fine)])
    assert [(r.name, r.status) for r in results] == [
        ("a", "failed"),
        ("b", "skipped"),
        ("c", "done"),
    ]
    assert "wrong shape" in results[0].reason and "ran" in ctx.warnings
    ctx.cancelled = lambda: True
    with pytest.raises(Cancelled):
        run_steps(ctx, [("c", fine)])


def test_provider_choice_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINEVIEWER_PROVIDER", "CPU")
    assert chosen_provider() == "cpu"
    assert chosen_provider("cuda") == "cuda"
    monkeypatch.setenv("SPINEVIEWER_PROVIDER", "tpu")
    with pytest.raises(ValueError, match="tpu"):
        chosen_provider()


def test_a_broken_model_is_skipped_with_its_reason(lumbar, tmp_path: Path) -> None:
    study, _ = lumbar
    models = tmp_path / "models"
    shutil.copytree(MODELS, models, ignore=shutil.ignore_patterns("*-evaluation"))
    onnx = models / "disc-state.onnx"
    onnx.write_bytes(onnx.read_bytes()[:1000])  # truncated
    entries = [e for e in find_models([models]) if e.onnx_path.parent == models]
    assert not next(e for e in entries if e.id == "disc-state").available
    (findings,) = analyse_path(study, [models], "cpu")
    steps = {s.name: s for s in findings.steps}
    # the bundled copy comes after the broken one; the broken one is not used
    assert steps["lumbar MR: disc states"].status == "done"
    assert all(m.sha256 != "" for m in findings.models)


def test_analyze_command_writes_the_findings(lumbar, tmp_path: Path, capsys) -> None:
    study, findings = lumbar
    out = tmp_path / "f.json"
    assert main(["analyze", str(study), "--json", str(out), "--provider", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "disc L4-L5" in text and "NOT FOR CLINICAL USE" in text
    saved = Findings.from_json(out.read_text())
    assert [d.state for d in saved.discs] == [d.state for d in findings.discs]
    assert main(["analyze", str(tmp_path / "nothing")]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.skipif(
    not (MODELS / "vertebrae-ap.onnx").exists() or not (MODELS / "implants-ap.onnx").exists(),
    reason="the AP radiograph models are not shipped yet",
)
def test_spine_xr_findings_match_the_ground_truth(tmp_path: Path) -> None:
    generate("spine-xr", tmp_path, 94_005)  # a held-out seed of vertebrae-ap, with implants
    study = tmp_path / study_folder_name("spine-xr", 94_005)
    truth = load_ground_truth(study)
    (findings,) = analyse_path(study, provider="cpu")
    steps = {s.name: s for s in findings.steps}
    assert steps["spine X-ray: Cobb angle"].status == "done", steps
    assert findings.cobb is not None and truth.cobb is not None
    assert abs(findings.cobb.angle_deg - truth.cobb.angle_deg) <= 5.0
    labels = [v.label for v in findings.vertebrae]
    assert labels[-1] == "S1" and "L1" in labels
    assert all(v.tilt_deg is not None and len(v.corners_px) == 4 for v in findings.vertebrae)
    true_classes = sorted(i.implant_class for i in truth.implants)
    # every true implant found; implants-ap 0.2.0 may propose a few more, each weakly
    for kind in set(true_classes) | {i.implant_class for i in findings.implants}:
        scores = sorted(
            (i.score for i in findings.implants if i.implant_class == kind), reverse=True
        )
        assert len(scores) >= true_classes.count(kind), kind
        assert all(s < 0.5 for s in scores[true_classes.count(kind) :]), (kind, scores)
    assert len(findings.implants) - len(true_classes) <= 2


def test_cuda_asked_on_a_machine_without_it_falls_back_with_one_notice(lumbar) -> None:
    study, _ = lumbar
    (findings,) = analyse_path(study, provider="cuda")
    if findings.provider == "cuda":
        pytest.skip("this machine runs the models on CUDA")
    assert findings.provider == "cpu" and all(m.provider == "cpu" for m in findings.models)
    notices = [w for w in findings.warnings if "CUDA is not available" in w]
    assert len(notices) == 1 and "models run on the CPU" in notices[0]
    assert findings.discs  # the analysis itself is unaffected


def test_auto_on_a_machine_without_cuda_records_the_cpu_without_a_warning(lumbar) -> None:
    """ "auto" falling back to the CPU is no problem to report in every study's warnings (on a
    GPU build without a GPU it was in every report); the provider is recorded per model."""
    study, _ = lumbar
    (findings,) = analyse_path(study, provider="auto")
    if findings.provider == "cuda":
        pytest.skip("this machine runs the models on CUDA")
    assert findings.provider == "cpu" and all(m.provider == "cpu" for m in findings.models)
    assert not [w for w in findings.warnings if "CUDA" in w], findings.warnings
