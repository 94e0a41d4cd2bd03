"""Benchmark: load a 200-slice 512x512 CT series, ours vs SimpleITK vs reading the bytes.

Prints JSON. All timings in one run on the same files (warm page cache, best and median of
``--repeat`` runs), so the ratios compare like with like on whatever machine runs it.

    python bench/bench_load.py [--slices 200] [--size 512] [--repeat 5] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from ct_files import ct_dataset
from pydicom.uid import generate_uid


def write_series(folder: Path, slices: int, size: int) -> list[Path]:
    """A synthetic uncompressed CT series, shuffled names.

    Encoded as most CT scanners do: 16 bits allocated, 12 stored, unsigned, intercept -1024.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    paths = []
    order = rng.permutation(slices)
    yy, xx = np.mgrid[0:size, 0:size]
    body = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (0.4 * size) ** 2
    for k in range(slices):
        ds = ct_dataset(study, series, frame, ("BENCH^CT", "BENCH"))
        ds.SeriesNumber, ds.InstanceNumber = 1, int(order[k]) + 1
        ds.ImagePositionPatient = [-200.0, -200.0, -400.0 + 1.25 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.78125, 0.78125]
        ds.SliceThickness = 1.25
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        pixels = np.where(body, 1024 + 40, 0).astype(np.uint16)
        pixels += rng.integers(0, 50, size=(size, size), dtype=np.uint16)
        ds.PixelData = pixels.tobytes()
        path = folder / f"IM{order[k]:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"best_s": min(times), "median_s": statistics.median(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import SimpleITK as sitk

    from spineviewer.dicom import FrameCache, StackPixels, first_image, scan

    with tempfile.TemporaryDirectory(prefix="spineviewer-bench-") as tmp:
        folder = Path(tmp)
        paths = write_series(folder, args.slices, args.size)

        def read_bytes() -> None:
            for p in paths:
                p.read_bytes()

        def simpleitk() -> np.ndarray:
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
            return sitk.GetArrayFromImage(reader.Execute())

        def ours_full() -> np.ndarray:
            stack = scan(folder).stacks()[0]
            return StackPixels(stack, FrameCache(0)).volume().array

        def ours_first_slice() -> object:
            return first_image(folder)

        def ours_middle_slice_after_scan() -> np.ndarray:
            stack = scan(folder).stacks()[0]
            return StackPixels(stack, FrameCache(0)).slice(len(stack) // 2)

        def ours_scan() -> object:
            return scan(folder)

        def pydicom_full() -> np.ndarray:
            datasets = [pydicom.dcmread(p) for p in paths]
            datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))
            return np.stack([d.pixel_array for d in datasets])

        same = bool(np.array_equal(ours_full(), simpleitk()))
        results = {
            "read_bytes": timed(read_bytes, args.repeat),
            "simpleitk_series_reader": timed(simpleitk, args.repeat),
            "pydicom_dcmread_all": timed(pydicom_full, args.repeat),
            "ours_header_scan": timed(ours_scan, args.repeat),
            "ours_full_load": timed(ours_full, args.repeat),
            "ours_first_slice": timed(ours_first_slice, args.repeat),
            "ours_middle_slice_after_full_scan": timed(ours_middle_slice_after_scan, args.repeat),
        }
    base = results["simpleitk_series_reader"]["median_s"]
    report = {
        "benchmark": "load uncompressed CT series",
        "series": {
            "slices": args.slices,
            "size": args.size,
            "transfer_syntax": "explicit LE",
            "stored": "12 of 16 bits, unsigned, intercept -1024",
        },
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "repeat": args.repeat,
        "results": results,
        "ratios_vs_simpleitk_median": {
            k: round(v["median_s"] / base, 3) for k, v in results.items()
        },
        "first_slice_ms_median": round(results["ours_first_slice"]["median_s"] * 1000, 1),
        "ours_equals_simpleitk": same,
        "targets": {"full_load_vs_simpleitk": "<= 1.0 (aim 0.5)", "first_slice_ms": "<= 50"},
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
