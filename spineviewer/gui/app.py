"""Starting the viewer: the QApplication, the dark theme, the main window, the configuration's
problems, screenshots."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from spineviewer import config
from spineviewer.gui.gc_timer import EventLoopCollector
from spineviewer.gui.icons import icon
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.shell import Shell
from spineviewer.gui.splash import FROM_SPLASH, Splash, report_first_paint
from spineviewer.gui.theme import apply_dark_theme

#: How long a screenshot run waits for loading before it gives up.
SCREENSHOT_TIMEOUT_S = 120.0
#: Python's GIL hand-over interval while the viewer runs (default 5 ms). Decoding threads
#: hold the GIL in pure-Python header parsing; each time the GUI thread calls into Qt and
#: back it may wait this long for it, so a shorter interval keeps painting smooth.
GIL_SWITCH_INTERVAL_S = 0.0002


def application() -> QApplication:
    """The QApplication (created once, themed; the one the splash created is themed here)."""
    app = QApplication.instance()
    if isinstance(app, QApplication) and not app.property(FROM_SPLASH):
        return app
    if app is None:
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setProperty(FROM_SPLASH, False)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app.setApplicationName("SpineViewer")
    app.setOrganizationName("SpineViewer")
    app.setWindowIcon(icon("spineviewer"))
    apply_dark_theme(app)
    # numpy loads numpy.ma on the first np.percentile / np.unique (about 50 ms): here, not in
    # the middle of opening the first study (the first window preset computes percentiles)
    import numpy.ma  # noqa: F401

    # Everything alive now (Qt, pyqtgraph, numpy, pydicom modules...) lives as long as the
    # app: leaving it out of the garbage collector's full passes keeps those passes (run on
    # whatever thread triggers them, holding the GIL) from stalling painting by ~60 ms.
    gc.freeze()
    # and the collector runs from the event loop only, never inside a Qt call (gc_timer)
    EventLoopCollector(app)
    return app


def show_config_problems(shell: Shell) -> None:
    """The config file's problems (:attr:`spineviewer.config.Config.problems`: not TOML, an
    unknown setting, a wrong value, each naming the file and line; or a ``SPINEVIEWER_*``
    variable that is no value of its setting), shown at start-up in the status bar and in one
    non-modal notice. Nothing when there are none."""
    problems = config.load().problems
    if not problems:
        return
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    shell.show_status(f"Configuration: {problems[0]}{more}", 30000)
    listed = "\n".join(f"• {problem}" for problem in problems)
    shell.notify(
        "SpineViewer configuration",
        "SpineViewer's configuration has problems: the values concerned were ignored (Help >"
        f" About shows every setting in force and where it came from).\n\n{listed}",
    )


def run_viewer(
    paths: Sequence[str | Path],
    screenshot: Path | None = None,
    layout: str | None = None,
    size: tuple[int, int] = (1600, 900),
    analyze: bool = False,
    splash: Splash | None = None,
) -> int:
    """Open the viewer on ``paths``; with ``analyze``, run the AI models once the study is
    open; with ``screenshot``, save a PNG once everything is done and exit. A start-up
    ``splash`` closes when the window is up."""
    app = application()
    window = MainWindow()
    window.resize(*size)
    report_first_paint(window, "window")
    window.show()
    show_config_problems(window)
    if splash is not None:
        splash.finish(window)
    started = time.perf_counter()
    job = window.open_paths(paths)
    pending = {"analyze": analyze}

    def analyze_when_loaded() -> None:
        if pending["analyze"] and not window.busy():
            pending["analyze"] = False
            window.analysis.analyze_current()

    window.idle.connect(analyze_when_loaded)
    if screenshot is None:
        return int(app.exec())
    status = {"rc": 1}

    def grab() -> None:
        waiting = window.busy() or pending["analyze"] or window.analysis.models_pending()
        if waiting and time.perf_counter() - started < SCREENSHOT_TIMEOUT_S:
            QTimer.singleShot(200, grab)
            return
        if layout:
            window.set_layout(layout)
        app.processEvents()
        window.grab().save(str(screenshot))
        print(f"screenshot {screenshot} ({time.perf_counter() - started:.2f} s after start)")
        status["rc"] = 0 if screenshot.exists() else 1
        window.close()
        loop.quit()

    # A local loop rather than app.exec(): the application stays usable after the screenshot.
    loop = QEventLoop()
    QTimer.singleShot(500 if job is not None else 0, grab)
    loop.exec()
    return status["rc"]
