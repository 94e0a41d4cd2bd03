"""Benchmark: batch report exports with 1 and 2 workers on the same phantom studies, and the PDF
rendering time per report. Prints JSON (target: 2 workers >= 1.7x one worker, in steady
throughput; the whole command's wall time is reported beside it).

    python bench/bench_batch.py [--studies 16] [--out result.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_output import emit

from spineviewer.phantom import generate


def run_batch(inputs: Path, out: Path, workers: int) -> dict[str, float]:
    """The batch command's wall time, and its steady throughput: studies per minute between
    the first completion of each worker and the last (start-up of the interpreter, the pool
    and the models left out), from the time each progress line arrives."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "spineviewer", "batch", str(inputs), "--out", str(out),
         "--workers", str(workers), "--format", "json,html,pdf", "--provider", "cpu"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    finished = []
    tail = []
    for line in process.stderr:
        tail.append(line)
        if re.match(r"\[\d+/\d+\] .* done ", line):
            finished.append(time.perf_counter())
    if process.wait() != 0:
        raise SystemExit(f"batch failed: {''.join(tail[-20:])}")
    wall = time.perf_counter() - started
    steady = finished[workers - 1 :]  # from the moment every worker has finished one study
    per_min = (len(steady) - 1) / (steady[-1] - steady[0]) * 60 if len(steady) > 1 else 0.0
    return {
        "seconds": round(wall, 2),
        "studies_per_min": round(len(finished) / wall * 60, 1),
        "steady_studies_per_min": round(per_min, 1),
    }


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
    parser.add_argument("--studies", type=int, default=16)
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
        "one_worker": one,
        "two_workers": two,
        "speedup_two_vs_one": round(
            two["steady_studies_per_min"] / one["steady_studies_per_min"], 3
        ),
        "speedup_two_vs_one_wall": round(one["seconds"] / two["seconds"], 3),
        "target_speedup": 1.7,
        "pdf_render_s_per_report": round(pdf, 4),
        "note": (
            "speedup: steady throughput (after every worker finished its first study); "
            "_wall: the whole command, interpreter, pool and model start-up included"
        ),
    }
    return emit(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
