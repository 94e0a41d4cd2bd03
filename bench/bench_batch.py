"""Benchmark: batch report exports with 1 and 2 workers on the same phantom studies, and the PDF
rendering time per report. Prints JSON (target: 2 workers >= 1.7x one worker).

    python bench/bench_batch.py [--studies 6] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spineviewer.phantom import generate


def run_batch(inputs: Path, out: Path, workers: int) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "spineviewer", "batch", str(inputs), "--out", str(out),
         "--workers", str(workers), "--format", "json,html,pdf", "--provider", "cpu"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"batch failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started


def pdf_seconds(report_dir: Path, repeats: int = 5) -> float:
    from spineviewer.reports.pdf import render_pdf

    html = (report_dir / "report.html").read_text()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        render_pdf(html, report_dir / "bench.pdf")
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=6)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["SPINEVIEWER_WORKSPACE"] = str(root / "workspace")
        for seed in range(97_000, 97_000 + args.studies):
            generate("lumbar-mr", root / "in", seed)
        one = run_batch(root / "in", root / "out1", 1)
        two = run_batch(root / "in", root / "out2", 2)
        first = next(p for p in (root / "out1").iterdir() if p.is_dir())
        pdf = pdf_seconds(first)
    result = {
        "benchmark": "batch report exports (json, html, pdf, key images) on lumbar MR phantoms",
        "machine": {"cpu": platform.machine(), "cores": os.cpu_count()},
        "studies": args.studies,
        "one_worker": {
            "seconds": round(one, 2),
            "studies_per_min": round(args.studies / one * 60, 1),
        },
        "two_workers": {
            "seconds": round(two, 2),
            "studies_per_min": round(args.studies / two * 60, 1),
        },
        "speedup_two_vs_one": round(one / two, 3),
        "target_speedup": 1.7,
        "pdf_render_s_per_report": round(pdf, 4),
        "note": "wall time of the whole command (interpreter and model start-up included)",
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
