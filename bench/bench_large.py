"""Benchmark: a 1,000-slice 512x512 CT in the viewer, and start-up against a bare PySide6 window.

Prints JSON. Each measurement runs in a fresh process (peak RSS is the process's own):

- ``large_study``: from ``open_paths`` to the first painted image (target <= 0.5 s); the longest
  gap between ticks of a 5 ms GUI-thread timer while the series opens and loads, and while it
  is then scrolled slice by slice (target <= 50 ms); peak RSS against the decoded pixel bytes
  (target <= 1.3 x decoded + 400 MB);
- ``startup``: from starting the command to the first paint of its window, for
  ``spineviewer view`` and for a bare PySide6 ``QMainWindow`` in the same run, both on an Xvfb
  display the bench starts (target <= 2x).

The viewer uses a throw-away annotation workspace of 200 studies (``bench_workspace``).

    QT_QPA_PLATFORM=offscreen python bench/bench_large.py [--slices 1000] [--out result.json]
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_output import emit
from bench_workspace import use_bench_workspace

BARE_WINDOW = """
import sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1600, 900)
class Probe(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("painted bare", flush=True)
            app.quit()
        return False
probe = Probe()
window.installEventFilter(probe)
window.show()
app.exec()
"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_large(folder: Path) -> dict[str, object]:
    """Runs in its own process: open, first image, load, scroll."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    from spineviewer.gui.app import application
    from spineviewer.gui.loading import SCANNER
    from spineviewer.gui.main_window import MainWindow

    app = application()
    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    while window.analysis.models_pending():
        app.processEvents()
        time.sleep(0.005)
    SCANNER.wait_until_ready()  # start-up work ends before the study is opened
    baseline_mb = _peak_rss_mb()
    gaps: list[tuple[str, float]] = []
    clock = QElapsedTimer()
    last = [0]
    phase = ["load"]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append((phase[0], now - last[0]))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    window.open_paths([folder])
    first = None
    vp = window.grid.viewports[0]
    while time.perf_counter() - t0 < 600:
        app.processEvents()
        if first is None and vp.source is not None and vp.info is not None:
            vp.viewport().repaint()
            first = time.perf_counter() - t0
        if first is not None and not window.busy():
            break
        time.sleep(0.0005)
    loaded = time.perf_counter() - t0
    # scroll: one slice per 10 ms through every slice of the first viewport, as a wheel would
    phase[0] = "scroll"
    target = window.grid.viewports[0]
    count = len(target.source or [])
    started = time.perf_counter()
    for index in range(count):
        target.set_index(index)
        deadline = time.perf_counter() + 0.010
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.001)
    scrolled = time.perf_counter() - started
    timer.stop()
    rows, cols = (512, 512)
    decoded_mb = count * rows * cols * 2 / 1024**2
    peak = _peak_rss_mb()
    window.close()
    longest = {p: max((g for q, g in gaps if q == p), default=0.0) for p in ("load", "scroll")}
    return {
        "slices": count,
        "open_to_first_image_s": round(first or float("nan"), 3),
        "target_first_image_s": 0.5,
        "open_to_loaded_s": round(loaded, 3),
        "longest_gap_ms_while_loading": longest["load"],
        "longest_gap_ms_while_scrolling": longest["scroll"],
        "scroll_s_per_slice": round(scrolled / max(count, 1), 4),
        "target_longest_gap_ms": 50,
        "decoded_pixel_mb": round(decoded_mb, 1),
        "peak_rss_mb": round(peak, 1),
        "rss_before_open_mb": round(baseline_mb, 1),
        "target_peak_rss_mb": round(1.3 * decoded_mb + 400, 1),
    }


def _paint_times(command: list[str], env: dict[str, str], wanted: int) -> list[float]:
    """Seconds from starting ``command`` to each of its first ``wanted`` "painted" lines."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)  # fmt: skip
    assert process.stdout is not None
    times: list[float] = []
    for line in process.stdout:
        if line.startswith("painted"):
            times.append(time.perf_counter() - started)
            if len(times) == wanted:
                break
    process.terminate()
    process.wait(30)
    if len(times) < wanted:
        raise SystemExit(f"{command}: reported {len(times)} of {wanted} first paints")
    return times


def _x_server() -> tuple[subprocess.Popen[bytes], str]:
    """An Xvfb of our own (real windows: the offscreen platform makes ``view`` headless); it
    picks a free display itself and says which (``-displayfd``)."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24",
                               "-nolisten", "tcp"], pass_fds=(write,),
                              stderr=subprocess.DEVNULL)  # fmt: skip
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()
    if not number or server.poll() is not None:
        raise SystemExit("Xvfb did not start")
    return server, f":{number}"


def bench_startup(rounds: int) -> dict[str, object]:
    server, display = _x_server()
    env = dict(os.environ, SPINEVIEWER_STARTUP_PROBE="1", DISPLAY=display, QT_QPA_PLATFORM="xcb")
    env["SPINEVIEWER_WORKSPACE"] = tempfile.mkdtemp(prefix="spineviewer-bench-ws-")
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="spineviewer-bench-config-")
    splash, window, bare = [], [], []
    try:
        for _ in range(rounds):  # interleaved: drift of the machine hits both alike
            bare += _paint_times([sys.executable, "-c", BARE_WINDOW], env, 1)
            first, main = _paint_times([sys.executable, "-m", "spineviewer", "view"], env, 2)
            splash.append(first)
            window.append(main)
    finally:
        server.terminate()
        server.wait(10)
    median = {name: sorted(v)[len(v) // 2] for name, v in
              (("splash", splash), ("window", window), ("bare", bare))}  # fmt: skip
    return {
        "rounds": rounds,
        "spineviewer_view_first_paint_s": round(median["splash"], 3),
        "spineviewer_view_main_window_painted_s": round(median["window"], 3),
        "bare_pyside6_window_first_paint_s": round(median["bare"], 3),
        "ratio": round(median["splash"] / median["bare"], 3),
        "ratio_main_window": round(median["window"] / median["bare"], 3),
        "target_ratio": 2.0,
        "note": "first paint: the splash (shown before the viewer's imports); main window after",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="start-up measurements")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_large(args.child)))
        return 0
    from bench_load import write_series

    with tempfile.TemporaryDirectory(prefix="spineviewer-bench-") as tmp:
        folder = Path(tmp) / "ct"
        write_series(folder, args.slices, 512)
        use_bench_workspace(Path(tmp) / "workspace")  # 200 studies, not the user's
        env = dict(os.environ)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(folder)],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        large = json.loads(done.stdout.strip().splitlines()[-1])
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "large_study": large,
        "startup": bench_startup(args.rounds),
    }
    return emit(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
