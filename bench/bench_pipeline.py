"""Benchmark: the AI pipelines on phantom studies against the bare onnxruntime calls they make.

For each study (lumbar MR phantoms, optionally spine X-ray phantoms) the whole analysis runs
after a warm-up, with every ``session.run`` recorded (inputs and time). Then the same tensors
go through bare ``session.run`` calls again. ``overhead`` = pipeline time / bare run time:
everything that is not the network (DICOM decoding, letterboxing, crops, decoding, NMS,
fusion, labelling) relative to the networks' own time. Prints JSON.

    python bench/bench_pipeline.py [--studies 5] [--xr 3] [--provider cpu] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from spineviewer.ai.analysis import analyse_study
from spineviewer.ai.registry import find_models
from spineviewer.ai.sessions import SessionCache
from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name


class Recorder:
    """Wraps an onnxruntime session: records each run's feed and its time."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.calls: list[tuple[Any, dict[str, Any]]] = []
        self.seconds = 0.0

    def run(self, outputs: Any, feed: dict[str, Any], *args: Any) -> Any:
        started = time.perf_counter()
        result = self.session.run(outputs, feed, *args)
        self.seconds += time.perf_counter() - started
        self.calls.append((outputs, feed))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def bench_study(folder: Path, sessions: SessionCache, entries: list[Any]) -> dict[str, Any]:
    study = scan(folder).studies[0]
    analyse_study(study, entries, sessions)  # warm-up: sessions loaded, caches filled
    recorders = []
    for model_session in sessions._sessions.values():
        if not isinstance(model_session.session, Recorder):
            model_session.session = Recorder(model_session.session)
        model_session.session.calls.clear()
        model_session.session.seconds = 0.0
        recorders.append(model_session.session)
    study = scan(folder).studies[0]  # a fresh scan: no decoded slices cached
    started = time.perf_counter()
    findings = analyse_study(study, entries, sessions)
    total = time.perf_counter() - started
    bare = 0.0
    for rec in recorders:
        for outputs, feed in rec.calls:
            t = time.perf_counter()
            rec.session.run(outputs, feed)
            bare += time.perf_counter() - t
    return {
        "study": folder.name,
        "pipeline_s": round(total, 4),
        "bare_session_run_s": round(bare, 4),
        "overhead": round(total / bare, 3) if bare else None,
        "runs": sum(len(r.calls) for r in recorders),
        "steps": {s.name: s.seconds for s in findings.steps if s.status == "done"},
        "provider": findings.provider,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=5, help="lumbar MR phantoms")
    parser.add_argument("--xr", type=int, default=3, help="spine X-ray phantoms")
    parser.add_argument("--provider", default="cpu")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    entries = find_models()
    sessions = SessionCache(args.provider)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, count, first in (
            ("lumbar-mr", args.studies, 96_000),
            ("spine-xr", args.xr, 96_000),
        ):
            for seed in range(first, first + count):
                generate(kind, tmp, seed)
                rows.append(
                    {
                        "kind": kind,
                        **bench_study(Path(tmp) / study_folder_name(kind, seed), sessions, entries),
                    }
                )
    by_kind = {}
    for kind in ("lumbar-mr", "spine-xr"):
        part = [r for r in rows if r["kind"] == kind]
        if part:
            by_kind[kind] = {
                "studies": len(part),
                "pipeline_s_median": statistics.median(r["pipeline_s"] for r in part),
                "bare_session_run_s_median": statistics.median(
                    r["bare_session_run_s"] for r in part
                ),
                "overhead_median": statistics.median(r["overhead"] for r in part if r["overhead"]),
            }
    result = {
        "benchmark": "ai pipelines vs bare session.run on the same tensors",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "provider": args.provider,
        "summary": by_kind,
        "studies": rows,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
