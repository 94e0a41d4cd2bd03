"""Benchmark: SpineViewer against the viewers a Linux user would pick instead, on the same
generated studies in one run, and its AI against a plain onnxruntime script.

Prints JSON. The studies (a 512x512 CT of ``--slices`` slices, uncompressed and JPEG 2000
lossless, and the demo lumbar MR's sagittal T2) are generated once into ``--cache``. Each
viewer (``spineviewer view``, Aeskulap, ImageJ, AMIDE, DICOMscope from Debian, napari in its
own virtual environment) is started cold on each series under an Xvfb display of its own; the
root window is captured about 20 times a second and:

- ``first_image_s``: the first capture with at least ``FIRST_IMAGE_PIXELS`` grey pixels in the
  CT body's known band (the MR: pixels of continuous grey tones, see ``peers.measure``);
- ``whole_series_scrollable_s``: the first capture showing the last slice (a third more body),
  after its key (End) or the next-slice key pressed once per slice, sent at the first image;
- ``scroll_frame_ms``: 100 slices stepped back with the key, to the last change of the image;
- ``peak_rss_mb``: the process tree's, sampled with every capture.

A viewer that cannot open the series, or its transfer syntax, is reported with the reason.
``ai``: ``spineviewer batch --workers 2`` against ``peers/plain_ai.py`` on ``--studies``
phantom lumbar MRs (studies per hour, vertebra labels and disc states scored against each
study's ground truth).

    sudo python bench/bench_peers.py --setup          # once: Debian packages, napari's venv
    python bench/bench_peers.py [--slices 500] [--studies 32] [--out result.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_output import emit
from peers.capture import BODY_BAND, FIRST_IMAGE_PIXELS, LAST_SLICE_GAIN
from peers.measure import MR_IMAGE_PIXELS, Timeouts, measure
from peers.studies import ensure_studies, transfer_syntax
from peers.viewers import setup, viewers

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / (
    "spineviewer-bench-peers"
)


def log(message: str) -> None:
    print(f"[bench_peers] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    def first(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    lscpu = {}
    for line in first(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "CPU max MHz"):
            lscpu[key.strip()] = value.strip()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "lscpu": lscpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1),
        "load_average_1min_at_start": round(load, 2),
        "os": platform.platform(),
    }


def ratios(runs: list[dict[str, Any]], key: str) -> None:
    """Each run's ``key`` as a ratio to SpineViewer's on the same series (peer / SpineViewer)."""
    ours = {r["series"]: r.get(key) for r in runs
            if r["viewer"] == "spineviewer" and r["status"] == "ok"}  # fmt: skip
    for r in runs:
        if r["status"] != "ok":
            continue
        base, value = ours.get(r["series"]), r.get(key)
        if base and value is not None:
            r[f"{key}_ratio_to_spineviewer"] = round(value / base, 2)


def bench_viewers(folders: dict[str, Path], cache: Path, slices: int, only: set[str] | None,
                  shots: Path | None, spine_rounds: int) -> dict[str, Any]:  # fmt: skip
    runs: list[dict[str, Any]] = []
    versions: dict[str, str] = {}
    how: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        for series, folder in folders.items():
            kind = "mr" if series == "mr" else "ct"
            for viewer in viewers(folder, cache, Path(tmp) / series):
                if only and viewer.name not in only:
                    continue
                versions[viewer.name], how[viewer.name] = viewer.version, viewer.how
                rounds = spine_rounds if viewer.name == "spineviewer" and series == "ct" else 1
                for round_ in range(rounds):
                    log(f"{viewer.name} on {series} ({round_ + 1}/{rounds})")
                    run = measure(viewer, folder, series, kind, slices, Timeouts(),
                                  shots / f"round{round_}" if shots else None)  # fmt: skip
                    limit = next((v for k, v in viewer.known_limits.items()
                                  if series == "ct_j2k" and k == "JPEG 2000"), None)  # fmt: skip
                    if run.status != "ok" and limit:
                        run.reason = f"{run.reason} ({limit})"
                    result = run.to_dict()
                    if rounds > 1:
                        result["round"] = round_ + 1
                    runs.append(result)
                    log(f"  {result.get('status')}: first image {result.get('first_image_s')} s")
    spine_first = [r["first_image_s"] for r in runs if r["viewer"] == "spineviewer"
                   and r["series"] == "ct" and r.get("first_image_s")]  # fmt: skip
    # the ratios use SpineViewer's first round only (its cold start; the others are repeats)
    firsts = [r for r in runs if r.get("round", 1) == 1]
    for key in ("first_image_s", "whole_series_scrollable_s", "scroll_frame_ms", "peak_rss_mb"):
        ratios(firsts, key)
    hz = [r["capture_hz"] for r in runs if r.get("capture_hz")]
    return {
        "detector": {
            "body_band_grey": BODY_BAND,
            "first_image_pixels": FIRST_IMAGE_PIXELS,
            "last_slice_band_pixel_gain": LAST_SLICE_GAIN,
            "mr_image_like_pixels": MR_IMAGE_PIXELS,
            "capture_hz_min": min(hz, default=0.0),
            "capture_hz_median": sorted(hz)[len(hz) // 2] if hz else 0.0,
        },
        "series": {k: _series(v) for k, v in folders.items()},
        "versions": versions,
        "how_opened": how,
        "spineviewer_ct_first_image_rounds_s": spine_first,
        "runs": runs,
    }


def _series(folder: Path) -> dict[str, Any]:
    files = len(list(folder.glob("*.dcm")))
    return {"folder": str(folder), "files": files, "transfer_syntax": transfer_syntax(folder)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--setup", action="store_true", help="install the peers (Debian packages, napari's venv)"
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--slices", type=int, default=500)
    parser.add_argument("--studies", type=int, default=32, help="phantom studies for the AI")
    parser.add_argument("--rounds", type=int, default=3, help="SpineViewer cold starts on the CT")
    parser.add_argument("--only", help="comma-separated viewers (default: all)")
    parser.add_argument("--skip-ai", action="store_true")
    parser.add_argument("--skip-viewers", action="store_true")
    parser.add_argument("--shots", type=Path, help="save the captures that decided each figure")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.setup:
        setup(args.cache)
        return 0
    started = time.perf_counter()
    result: dict[str, Any] = {"machine": machine()}
    folders = ensure_studies(args.cache / "studies", args.slices, log)
    if not args.skip_viewers:
        only = set(args.only.split(",")) if args.only else None
        result["viewers"] = bench_viewers(folders, args.cache, args.slices, only, args.shots,
                                          args.rounds)  # fmt: skip
    if not args.skip_ai:
        from peers.ai_bench import bench_ai

        result["ai"] = bench_ai(args.cache / "ai", args.studies, log)
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    return emit(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
