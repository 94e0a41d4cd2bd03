"""kill -9 of a process annotating through the store API with autosave, at random points
(issue 20, deliverable 3). The editing process is tests/annotations/autosave_child.py (an
UndoStack with an Autosaver adding, moving and rejecting annotations; "EDIT k" printed after
each edit is complete). While it runs, this test reads the document file over and over: it
must parse every time. After the kill the document holds every edit reported done, and at most
the one in progress besides; the workspace saves on.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from reliability_figures import Figures

ANNOTATIONS_TESTS = Path(__file__).resolve().parents[1] / "annotations"
sys.path.insert(0, str(ANNOTATIONS_TESTS))

from autosave_child import replay, summary  # noqa: E402
from store_helpers import STUDY  # noqa: E402

from spineviewer.annotations.document import AnnotationDocument  # noqa: E402
from spineviewer.annotations.store import Workspace  # noqa: E402

CHILD = ANNOTATIONS_TESTS / "autosave_child.py"
TIMEOUT_S = 60.0
CI_SEEDS = 4
DEEP_SEEDS = 40


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kill_seed" in metafunc.fixturenames:
        from reliability_figures import is_deep

        count = DEEP_SEEDS if is_deep(metafunc.config) else CI_SEEDS
        metafunc.parametrize("kill_seed", range(count))


class Reader(threading.Thread):
    """Reads the document file until stopped; counts reads and keeps what did not parse."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.reads = 0
        self.bad: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                time.sleep(0.001)
                continue
            try:
                AnnotationDocument.from_json(data, str(self.path))
            except Exception as exc:
                self.bad.append(f"{type(exc).__name__}: {exc}")
            self.reads += 1


def test_kill_while_annotating(kill_seed: int, tmp_path: Path, figures: Figures) -> None:
    rng = random.Random(kill_seed)
    stop_after = rng.randint(1, 150)
    root = tmp_path / "workspace"
    with Workspace(root) as ws:
        path = ws.document_path(STUDY)
    reader = Reader(path)
    reader.start()
    log = (tmp_path / "child.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(root), "100000"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        bufsize=1,
    )
    assert child.stdout is not None
    reported = 0
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while reported < stop_after:
            line = child.stdout.readline()
            assert line, f"the child ended early:\n{(tmp_path / 'child.log').read_text()}"
            assert time.monotonic() < deadline, "the child is too slow"
            if line.startswith("EDIT "):
                reported = int(line.split()[1])
        time.sleep(rng.uniform(0.0, 0.02))  # lands anywhere in an edit or a save
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=TIMEOUT_S)
        # what it printed before dying: read through the same text buffer as the lines above
        # (communicate() with a timeout reads the pipe beneath it and misses what is buffered)
        rest = child.stdout.read()
        log.close()
        reader.stop.set()
        reader.join(TIMEOUT_S)
    done = [int(x.split()[1]) for x in rest.splitlines() if x.startswith("EDIT ")]
    reported = max([reported, *done])

    assert reader.bad == [], f"the file on disk did not parse: {reader.bad[:3]}"
    assert reader.reads > 0
    with Workspace(root) as ws:
        loaded = ws.load(STUDY)
    assert loaded is not None and loaded.warnings == (), loaded
    on_disk = summary(loaded.document)
    saved = next(
        (n for n in (reported, reported + 1) if on_disk == replay(n)),
        None,
    )
    lost = reported if saved is None else max(0, reported - saved)
    figures.edits_lost_per_kill.append(lost)
    assert saved is not None, f"after EDIT {reported} the document is not edits 1..{reported}(+1)"
    with Workspace(root) as ws:  # it saves on: no leftover blocks the next writer
        ws.save(loaded.document)
        again = ws.load(STUDY)
    assert again is not None and summary(again.document) == on_disk
