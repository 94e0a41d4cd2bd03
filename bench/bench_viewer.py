"""Benchmark the viewer: slice change to painted frame, demo to first image, event-loop stalls.

Prints JSON; every figure is compared with a baseline measured in the same run:

- ``slice_change``: a 512x512 CT series shown in our viewport (corner text, orientation
  letters, scale bar and a cross-reference line from a synced sagittal MPR all on), median time
  of ``set_index`` + ``viewport().repaint()``, against a bare pyqtgraph ``ImageItem.setImage`` +
  ``viewport().repaint()`` of the same arrays (target: <= 1.3x);
- ``demo_first_image``: from ``MainWindow`` creation with the demo study to the first painted
  image, and to the end of all background work (plus the whole ``spineviewer demo
  --screenshot`` command in a subprocess, interpreter start included);
- ``stall_while_loading``: the longest gap between ticks of a 5 ms timer on the GUI thread
  while a 500-slice series is opened, hung, and decoded in the background, in a window whose
  start-up work is done (target: < 50 ms).

Every window uses a throw-away annotation workspace of 200 studies (``bench_workspace``).

With ``--xvfb`` the slice change is also measured once on a real X server: this script runs
itself under ``xvfb-run`` with ``QT_QPA_PLATFORM=xcb`` (``--slice-change-only``), and its
figures join the JSON as ``slice_change_xvfb``, beside the offscreen ones (the same ratio
target; the repaints then go through the X server, as on a desktop).

    QT_QPA_PLATFORM=offscreen python bench/bench_viewer.py [--xvfb] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, QTimer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import write_series
from bench_output import emit
from bench_workspace import use_bench_workspace

from spineviewer.dicom import StackPixels, scan
from spineviewer.gui.app import application
from spineviewer.gui.loading import SCANNER
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.sync import ViewportSync
from spineviewer.gui.viewport import ImageViewport
from spineviewer.viewing.mpr import MprSource
from spineviewer.viewing.source import StackListSource

SIZE = (700, 700)


def _median_ms(times: list[float]) -> float:
    return round(statistics.median(times) * 1000.0, 3)


def bench_slice_change(folder: Path, rounds: int) -> dict[str, object]:
    app = application()
    stack = scan(folder).stacks()[0]
    source = StackListSource([stack])
    arrays = [source.values(i) for i in range(len(source))]  # decoded once: display cost only
    volume = StackPixels(stack).volume()

    bare_view = pg.GraphicsView()
    vb = pg.ViewBox(lockAspect=True, invertY=True)
    bare_view.setCentralItem(vb)
    item = pg.ImageItem(axisOrder="row-major")
    vb.addItem(item)
    bare_view.resize(*SIZE)
    bare_view.show()
    item.setImage(arrays[0], levels=(-160.0, 240.0))
    vb.autoRange()

    ours = ImageViewport()
    ours.resize(*SIZE)
    other = ImageViewport()
    other.resize(*SIZE)
    sync = ViewportSync([ours, other])
    ours.set_source(source, {"PatientName": "BENCH"})
    other.set_source(MprSource(volume, "sagittal"))
    sync.refresh()
    ours.show()
    other.show()
    app.processEvents()

    def bare(i: int) -> None:
        item.setImage(arrays[i], autoLevels=False, levels=(-160.0, 240.0))
        bare_view.viewport().repaint()

    def bare_autolevels(i: int) -> None:
        item.setImage(arrays[i])
        bare_view.viewport().repaint()

    def mine(i: int) -> None:
        ours.set_index(i)
        ours.viewport().repaint()

    results: dict[str, list[float]] = {"bare": [], "bare_autolevels": [], "ours": []}
    n = len(arrays)
    # Interleaved slice by slice, so drift of a shared, noisy machine hits all three alike.
    for _ in range(rounds):
        for i in range(n):
            for name, fn in (("bare", bare), ("bare_autolevels", bare_autolevels), ("ours", mine)):
                t0 = time.perf_counter()
                fn(i)
                results[name].append(time.perf_counter() - t0)
    lines = len(ours.crossref_lines())
    bare_ms, ours_ms = _median_ms(results["bare"]), _median_ms(results["ours"])
    app.processEvents()  # the last queued cross-reference update, while its items exist
    for w in (bare_view, ours, other):
        w.close()
    return {
        "image": list(arrays[0].shape),
        "changes_timed": len(results["ours"]),
        "bare_setImage_repaint_ms": bare_ms,
        "bare_setImage_autolevels_repaint_ms": _median_ms(results["bare_autolevels"]),
        "ours_set_index_repaint_ms": ours_ms,
        "ratio_vs_bare": round(ours_ms / bare_ms, 3),
        "target_ratio": 1.3,
        "overlays": {"corner_text": ours.show_corner_text, "crossref_lines_drawn": lines},
    }


def bench_demo(demo_dir: Path) -> dict[str, object]:
    app = application()
    t0 = time.perf_counter()
    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    window.open_paths([demo_dir])
    first = None
    deadline = t0 + 120
    while time.perf_counter() < deadline:
        app.processEvents()
        if first is None and any(v.frames_painted for v in window.grid.viewports):
            first = time.perf_counter() - t0
        if first is not None and not window.busy():
            break
        time.sleep(0.001)
    idle = time.perf_counter() - t0
    window.close()
    cmd = [
        sys.executable,
        "-m",
        "spineviewer",
        "demo",
        "--out",
        str(demo_dir.parent),
        "--screenshot",
        str(demo_dir.parent / "bench.png"),
    ]
    t1 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    command = time.perf_counter() - t1
    return {
        "window_to_first_painted_image_s": round(first or float("nan"), 3),
        "window_to_all_loaded_s": round(idle, 3),
        "demo_command_to_screenshot_s": round(command, 3),
        "demo_command_rc": done.returncode,
    }


def bench_stall(folder: Path) -> dict[str, object]:
    app = application()
    gaps: list[float] = []
    clock = QElapsedTimer()
    last = [0]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    # Start-up work (the AI model search, the header-reading process importing pydicom) ends
    # before the series is opened, as it has when a user opens a study.
    deadline = time.perf_counter() + 60
    while window.analysis.models_pending() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    SCANNER.wait_until_ready()
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    window.open_paths([folder])
    while time.perf_counter() - t0 < 300:
        app.processEvents()
        if not window.busy() and window.grid.viewports[0].source is not None:
            break
        time.sleep(0.0005)
    elapsed = time.perf_counter() - t0
    timer.stop()
    window.close()
    return {
        "slices": len(window.grid.viewports[0].source or []),
        "open_to_idle_s": round(elapsed, 3),
        "timer_interval_ms": 5,
        "ticks": len(gaps),
        "longest_gap_ms": max(gaps) if gaps else None,
        "p99_gap_ms": float(np.percentile(gaps, 99)) if gaps else None,
        "target_longest_gap_ms": 50,
    }


#: The X server's screen for ``--xvfb`` (the viewports are SIZE: they fit on it).
XVFB_SCREEN = "1600x900x24"


def bench_slice_change_on_xvfb(slices: int, rounds: int, scratch: Path) -> dict[str, object]:
    """:func:`bench_slice_change` in a child process on a fresh Xvfb (``xvfb-run``), Qt's xcb
    platform: what painting through a real X server costs, against the same bare baseline."""
    missing = [tool for tool in ("xvfb-run", "Xvfb") if shutil.which(tool) is None]
    if missing:
        return {"skipped": f"needs {' and '.join(missing)} (Debian: xvfb xauth)"}
    out = scratch / "slice-change-xvfb.json"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["QT_QPA_PLATFORM"] = "xcb"
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {XVFB_SCREEN}", sys.executable, __file__,
               "--slice-change-only", "--slices", str(slices), "--rounds", str(rounds),
               "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"the slice change under Xvfb failed:\n{done.stdout}{done.stderr}")
    child = json.loads(out.read_text())
    return {"qt_platform": child["qt_platform"], "screen": XVFB_SCREEN, **child["slice_change"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=60, help="slices for the slice-change test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stall-slices", type=int, default=500)
    parser.add_argument(
        "--xvfb",
        action="store_true",
        help="also measure the slice change once on an X server (xvfb-run, QT_QPA_PLATFORM=xcb)",
    )
    parser.add_argument(
        "--slice-change-only", action="store_true", help="only the slice change (--xvfb's child)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from spineviewer.cli.demo import ensure_demo_study

    with tempfile.TemporaryDirectory(prefix="spineviewer-bench-") as tmp:
        root = Path(tmp)
        use_bench_workspace(root / "workspace")  # 200 studies in the worklist, not the user's
        write_series(root / "ct512", args.slices, 512)
        if args.slice_change_only:
            only = {
                "qt_platform": os.environ["QT_QPA_PLATFORM"],
                "slice_change": bench_slice_change(root / "ct512", args.rounds),
            }
            return emit(only, args.out)
        write_series(root / "ct500", args.stall_slices, 512)
        demo_dir, _ = ensure_demo_study(root / "demo")
        result = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "qt_platform": os.environ["QT_QPA_PLATFORM"],
            },
            "slice_change": bench_slice_change(root / "ct512", args.rounds),
        }
        if args.xvfb:
            result["slice_change_xvfb"] = bench_slice_change_on_xvfb(args.slices, args.rounds, root)
        result["demo_first_image"] = bench_demo(demo_dir)
        result["stall_while_loading"] = bench_stall(root / "ct500")
    return emit(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
