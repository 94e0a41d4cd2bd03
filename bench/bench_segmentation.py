"""Benchmark: a 500-slice 512x512 CT through the demo segmentation model (issue 25 acceptance).

Prints JSON. The series is the load bench's synthetic CT (``bench_load.write_series``: 16-bit
files, 0.78 mm pixels, 1.25 mm slices). Each measurement runs in a fresh process (peak RSS is
that process's own, ``ru_maxrss``), limited to 2 threads (onnxruntime's intra-op threads and
the BLAS / OpenMP pools):

- ``decode`` (the baseline): scan the folder and read the series as a volume, as the
  segmentation pipeline does before it segments;
- ``segmentation``: the whole analysis with the demo model alone (``analyse_study``: the
  volume, the sliding window, the vertebrae from the label map, the axial levels): wall time,
  the label map step's time, peak RSS, and peak / (2 x the series' pixel bytes + 500 MB)
  (target <= 1.0).

``--provider cuda`` runs the model on the CUDA provider (where onnxruntime has one; the session's
provider is in the result), ``cpu`` (the default) on the CPU.

    nice python bench/bench_segmentation.py [--slices 500] [--provider cpu|cuda] [--out r.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_output import emit

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "onnx_models" / "spine-ct-segmentation.onnx"
THREADS = 2
#: The acceptance budget: peak RSS <= 2 x the series' pixel bytes + this.
OVERHEAD_BYTES = 500 * 1024 * 1024
MB = 1024 * 1024


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


def child_decode(folder: Path) -> dict[str, Any]:
    """Runs in its own process: the series read as a volume, nothing else."""
    from spineviewer.dicom import load_volume, scan

    started = time.perf_counter()
    [study] = scan(folder).studies
    volume = load_volume(study.series[0].stacks[0])
    seconds = time.perf_counter() - started
    return {
        "wall_s": round(seconds, 2),
        "peak_rss_bytes": _peak_rss_bytes(),
        "volume_dtype": str(volume.array.dtype),
    }


def child_segment(folder: Path, provider: str) -> dict[str, Any]:
    """Runs in its own process: the demo model's analysis of the series."""
    from spineviewer.ai.analysis import analyse_study
    from spineviewer.ai.registry import load_entry
    from spineviewer.ai.sessions import SessionCache
    from spineviewer.dicom import scan

    entry = load_entry(MODEL)
    if not entry.available:
        raise SystemExit(f"{MODEL}: not usable: {'; '.join(entry.problems)}")
    started = time.perf_counter()
    [study] = scan(folder).studies
    findings = analyse_study(study, [entry], SessionCache(provider, THREADS))
    seconds = time.perf_counter() - started
    steps = {s.name: s for s in findings.steps}
    label_map = steps["segmentation: label map"]
    if label_map.status != "done":
        raise SystemExit(f"the label map step {label_map.status}: {label_map.reason}")
    [found] = findings.label_maps
    return {
        "wall_s": round(seconds, 2),
        "label_map_s": round(label_map.seconds, 2),
        "peak_rss_bytes": _peak_rss_bytes(),
        "provider": findings.models[0].provider,
        "label_map_shape": list(found.shape),
        "vertebrae_found": len(findings.vertebrae),
    }


def _run_child(kind: str, folder: Path, provider: str) -> dict[str, Any]:
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(THREADS)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(folder), "--provider", provider],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{kind}: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _with_ratio(result: dict[str, Any], pixel_bytes: int) -> dict[str, Any]:
    peak = int(result["peak_rss_bytes"])
    budget = 2 * pixel_bytes + OVERHEAD_BYTES
    return {
        **result,
        "peak_rss_mb": round(peak / MB, 1),
        "ratio_to_budget": round(peak / budget, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=500)
    parser.add_argument("--size", type=int, default=512, help="rows and columns")
    parser.add_argument("--provider", choices=("cpu", "cuda", "auto"), default="cpu")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, folder = args.child[0], Path(args.child[1])
        out = child_decode(folder) if kind == "decode" else child_segment(folder, args.provider)
        print(json.dumps(out))
        return 0
    from bench_load import write_series

    with tempfile.TemporaryDirectory(prefix="spineviewer-bench-seg-") as tmp:
        folder = Path(tmp) / "ct"
        write_series(folder, args.slices, args.size)
        pixel_bytes = args.slices * args.size * args.size * 2  # 16 bits allocated
        decode = _run_child("decode", folder, args.provider)
        segment = _run_child("segment", folder, args.provider)
    budget = 2 * pixel_bytes + OVERHEAD_BYTES
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "threads": THREADS,
            "provider_asked": args.provider,
        },
        "series": {
            "slices": args.slices,
            "rows": args.size,
            "columns": args.size,
            "content": "bench_load.write_series: a soft-tissue cylinder, no spine (time and "
            "memory, not accuracy: vertebrae_found counts the demo model's false positives)",
        },
        "pixel_bytes": pixel_bytes,
        "budget_bytes": budget,
        "budget": "2 x pixel bytes + 500 MB",
        "decode": _with_ratio(decode, pixel_bytes),
        "segmentation": _with_ratio(segment, pixel_bytes),
        "target_ratio": 1.0,
    }
    decode_peak = int(decode["peak_rss_bytes"])
    result["segmentation_over_decode"] = {
        "wall": round(segment["wall_s"] / decode["wall_s"], 2),
        "peak_rss": round(segment["peak_rss_bytes"] / decode_peak, 2),
    }
    return emit(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
