"""Benchmark: the AI pipelines on phantom studies against the bare onnxruntime calls they make.

For each study (lumbar MR phantoms, optionally spine X-ray phantoms) the whole analysis runs
after a warm-up, with every ``session.run`` recorded (inputs and time), then the same tensors
go through bare ``session.run`` calls again. ``non_network_ms`` = pipeline time - bare run
time, the median of ``--repeats`` runs with the decoded pixels cached: everything that is not
the network (letterboxing, crops, normalisation, decoding the outputs, NMS, fusion, labelling
and its checks), budget <= 50 ms per lumbar MR study on 2 CPU cores (issue 18; the earlier
1.15x ratio target measured Python bookkeeping against 2-9 MB networks and is withdrawn, the
ratio is still printed as ``overhead``). ``pipeline_with_decoding_s`` is one run whose pixels
are first decoded from the DICOM files: the whole analysis, budget <= 1.0 s. Prints JSON.

    python bench/bench_pipeline.py [--studies 5] [--xr 3] [--repeats 5] [--provider cpu]
        [--out result.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_output import emit

from spineviewer.ai.analysis import analyse_study
from spineviewer.ai.registry import find_models
from spineviewer.ai.sessions import SessionCache
from spineviewer.dicom import SHARED_CACHE, scan
from spineviewer.phantom import generate, study_folder_name

#: Issue 18's budgets for a lumbar MR study on 2 CPU cores.
BUDGET_NON_NETWORK_MS = 50.0
BUDGET_WHOLE_S = 1.0


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


def _timed_runs(
    folder: Path, sessions: SessionCache, entries: list[Any], recorders: list[Recorder]
) -> tuple[float, float, Any]:
    """One analysis of a fresh scan, then its recorded ``session.run`` calls again, bare."""
    for rec in recorders:
        rec.calls.clear()
    study = scan(folder).studies[0]
    started = time.perf_counter()
    findings = analyse_study(study, entries, sessions)
    total = time.perf_counter() - started
    bare = 0.0
    for rec in recorders:
        for outputs, feed in rec.calls:
            t = time.perf_counter()
            rec.session.run(outputs, feed)
            bare += time.perf_counter() - t
    return total, bare, findings


def bench_study(
    folder: Path, sessions: SessionCache, entries: list[Any], repeats: int
) -> dict[str, Any]:
    analyse_study(scan(folder).studies[0], entries, sessions)  # warm-up: sessions loaded
    recorders = []
    for model_session in sessions._sessions.values():
        if not isinstance(model_session.session, Recorder):
            model_session.session = Recorder(model_session.session)
        recorders.append(model_session.session)
    # Cold: the study's pixels decoded from its files within the timed run.
    SHARED_CACHE.clear()
    cold_total, cold_bare, _ = _timed_runs(folder, sessions, entries, recorders)
    # Warm: decoded pixels cached, so the figure is the pre/post-processing around the networks.
    totals, bares = [], []
    for _ in range(repeats):
        total, bare, findings = _timed_runs(folder, sessions, entries, recorders)
        totals.append(total)
        bares.append(bare)
    total, bare = statistics.median(totals), statistics.median(bares)
    return {
        "study": folder.name,
        "repeats": repeats,
        "pipeline_s": round(total, 4),
        "bare_session_run_s": round(bare, 4),
        "overhead": round(total / bare, 3) if bare else None,
        "non_network_ms": round((total - bare) * 1000, 1),
        "pipeline_with_decoding_s": round(cold_total, 4),
        "overhead_with_decoding": round(cold_total / cold_bare, 3) if cold_bare else None,
        "runs": sum(len(r.calls) for r in recorders),
        "steps": {s.name: s.seconds for s in findings.steps if s.status == "done"},
        "provider": findings.provider,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=5, help="lumbar MR phantoms")
    parser.add_argument("--xr", type=int, default=3, help="spine X-ray phantoms")
    parser.add_argument("--provider", default="cpu")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per study (median)")
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
                        **bench_study(
                            Path(tmp) / study_folder_name(kind, seed),
                            sessions,
                            entries,
                            args.repeats,
                        ),
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
                "non_network_ms_median": statistics.median(r["non_network_ms"] for r in part),
                "pipeline_with_decoding_s_median": statistics.median(
                    r["pipeline_with_decoding_s"] for r in part
                ),
                "overhead_with_decoding_median": statistics.median(
                    r["overhead_with_decoding"] for r in part if r["overhead_with_decoding"]
                ),
            }
    mr = by_kind.get("lumbar-mr")
    budgets = {
        "non_network_ms_per_lumbar_mr": BUDGET_NON_NETWORK_MS,
        "whole_lumbar_mr_with_decoding_s": BUDGET_WHOLE_S,
    }
    if mr is not None:
        budgets["met"] = bool(
            mr["non_network_ms_median"] <= BUDGET_NON_NETWORK_MS
            and mr["pipeline_with_decoding_s_median"] <= BUDGET_WHOLE_S
        )
    result = {
        "benchmark": "ai pipelines vs bare session.run on the same tensors",
        "budgets": budgets,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "provider": args.provider,
        "summary": by_kind,
        "studies": rows,
    }
    return emit(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
