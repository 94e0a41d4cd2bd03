"""AI throughput and accuracy: ``spineviewer batch --workers 2`` against the plain script
(:mod:`peers.plain_ai`) on the same phantom lumbar MRs, both niced, one after the other.

Both are scored by one rule against each study's ``ground_truth.json`` (the batch report
names levels without their positions, so the rule works on names): a study's vertebra labels
are right when every truth body in the sagittal view was named and no name outside the truth
was given; a lumbar disc (L1-L2 down, in view) is right when its level was reported with the
truth's state. Studies per hour are the wall time of each whole command, start-up included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spineviewer.evaluation.truth_reader import StudyTruth, read_truth

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent.parent / "onnx_models"
SEED = 61_000


def ensure_phantoms(root: Path, count: int, log: Callable[[str], None]) -> list[Path]:
    folders = [root / f"lumbar-mr-{SEED + i:05d}" for i in range(count)]
    if not all((f / "ground_truth.json").exists() for f in folders):
        log(f"generating {count} phantom lumbar MRs")
        subprocess.run(
            [sys.executable, "-m", "spineviewer", "phantom", str(root), "--kind", "lumbar-mr",
             "--count", str(count), "--seed", str(SEED)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return folders


def score(truth: StudyTruth, labels: list[str], discs: dict[str, str]) -> dict[str, Any]:
    in_view = {b.label for b in truth.bodies if b.in_view}
    known = {b.label for b in truth.bodies}
    wrong = sorted(set(labels) - known)
    scored = [d for d in truth.discs if d.level.startswith("L") and d.in_view]
    right = [d.level for d in scored if discs.get(d.level) == d.state]
    return {
        "bodies_in_view": len(in_view),
        "bodies_named": len(in_view & set(labels)),
        "wrong_labels": wrong,
        "labels_right": in_view <= set(labels) and not wrong,
        "discs_scored": len(scored),
        "discs_right": len(right),
    }


def summary(scores: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    n = len(scores)
    bodies = sum(s["bodies_in_view"] for s in scores)
    discs = sum(s["discs_scored"] for s in scores)
    return {
        "studies": n,
        "seconds": round(seconds, 1),
        "studies_per_hour": round(n / seconds * 3600, 1) if seconds else None,
        "studies_labels_right": sum(s["labels_right"] for s in scores),
        "identification_rate": round(sum(s["bodies_named"] for s in scores) / max(bodies, 1), 4),
        "disc_state_accuracy": round(sum(s["discs_right"] for s in scores) / max(discs, 1), 4),
        "discs_scored": discs,
    }


def run_plain(folders: list[Path]) -> tuple[float, dict[str, dict[str, Any]]]:
    started = time.perf_counter()
    done = subprocess.run(
        ["nice", "-n", "19", sys.executable, str(HERE / "plain_ai.py"), str(MODELS),
         *map(str, folders)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"plain script failed: {done.stderr[-2000:]}")
    out = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        out[row["folder"]] = row
    return seconds, out


def run_batch(root: Path, out: Path, workers: int) -> tuple[float, dict[str, dict[str, Any]]]:
    env = dict(os.environ, SPINEVIEWER_WORKSPACE=str(out.parent / "workspace"))
    started = time.perf_counter()
    done = subprocess.run(
        ["nice", "-n", "19", sys.executable, "-m", "spineviewer", "batch", str(root), "--out",
         str(out), "--workers", str(workers), "--format", "json", "--provider", "cpu"],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"batch failed: {done.stderr[-2000:]}")
    reports = {}
    for report in out.glob("*/report.json"):
        data = json.loads(report.read_text())
        reports[data["study_uid"]] = data
    return seconds, reports


def bench_ai(cache: Path, count: int, log: Callable[[str], None]) -> dict[str, Any]:
    folders = ensure_phantoms(cache / "studies", count, log)
    truths = {str(f): read_truth(f) for f in folders}
    log("plain script")
    plain_s, plain = run_plain(folders)
    with tempfile.TemporaryDirectory(prefix="bench-peers-batch-") as tmp:
        log("spineviewer batch --workers 2")
        batch_s, reports = run_batch(cache / "studies", Path(tmp) / "out", 2)
    plain_scores, batch_scores, per_study = [], [], []
    for folder, truth in truths.items():
        row = plain.get(folder, {"labels": [], "discs": {}})
        ours = score(truth, row["labels"], row["discs"])
        report = reports.get(truth.study_uid)
        if report is None:
            theirs = score(truth, [], {})
        else:
            labels = [v["label"] for v in report.get("vertebrae", []) if v.get("label")]
            discs: dict[str, str] = {}
            for level in report.get("levels", []):
                discs.setdefault(level["level"], level.get("state") or "")
            theirs = score(truth, labels, discs)
        plain_scores.append(ours)
        batch_scores.append(theirs)
        per_study.append({"study": Path(folder).name, "plain": ours, "spineviewer": theirs})
    plain_sum = summary(plain_scores, plain_s)
    batch_sum = summary(batch_scores, batch_s)
    return {
        "studies": count,
        "seed": SEED,
        "rule": __doc__.split("\n\n")[1].replace("\n", " "),
        "plain_script": plain_sum,
        "spineviewer_batch_workers_2": batch_sum,
        "throughput_ratio_spineviewer_to_plain": round(
            batch_sum["studies_per_hour"] / plain_sum["studies_per_hour"], 3
        )
        if plain_sum["studies_per_hour"]
        else None,
        "per_study": per_study,
    }
