"""kill -9 while editing loses nothing that was reported done (autosave + atomic save).

A child process (autosave_child.py) edits through an UndoStack with an Autosaver and prints
"EDIT k" after each completed edit; this test kills it with SIGKILL and reads the workspace.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from autosave_child import replay, summary
from store_helpers import STUDY

from spineviewer.annotations.store import Workspace

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

CHILD = Path(__file__).with_name("autosave_child.py")
TIMEOUT_S = 60.0


class Child:
    """The editing process, its output lines arriving on a queue."""

    def __init__(self, root: Path, count: int, log: Path) -> None:
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(root), str(count)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self.log = log
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("")  # end of output

    def next_line(self) -> str:
        try:
            line = self.lines.get(timeout=TIMEOUT_S)
        except queue.Empty:
            self.kill()
            pytest.fail(f"the child printed nothing for {TIMEOUT_S} s")
        if not line:
            self.proc.wait()
            pytest.fail(f"the child ended early:\n{self.log.read_text()}")
        return line

    def kill(self) -> list[str]:
        """SIGKILL; return the lines it had printed but we had not read yet."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT_S)
        self._reader.join(timeout=TIMEOUT_S)
        self._log.close()
        rest = []
        while not self.lines.empty():
            line = self.lines.get()
            if line:
                rest.append(line)
        return rest


def _edits(lines: list[str]) -> int:
    done = [int(line.split()[1]) for line in lines if line.startswith("EDIT ")]
    assert done == list(range(done[0], done[-1] + 1)) if done else True
    return done[-1] if done else 0


def _on_disk(root: Path):
    with Workspace(root) as ws:
        loaded = ws.load(STUDY)
        entry = ws.index.get(STUDY)
    assert loaded is not None, "nothing was saved"
    assert loaded.warnings == (), loaded.warnings  # the main file is never damaged
    return loaded.document, entry


def test_kill_after_edits_loses_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    child = Child(root, 20, tmp_path / "child.log")
    seen = [child.next_line() for _ in range(21)]
    assert seen[-1] == "DONE" and _edits(seen) == 20
    assert child.kill() == []
    doc, entry = _on_disk(root)
    assert summary(doc) == replay(20)
    assert entry is not None and entry.total == len(doc)


@pytest.mark.parametrize("seed", range(6))
def test_kill_mid_stream_keeps_every_reported_edit(tmp_path: Path, seed: int) -> None:
    root = tmp_path / "ws"
    rng = random.Random(seed)
    stop_after = rng.randint(1, 120)
    child = Child(root, 1000, tmp_path / "child.log")
    seen = [child.next_line() for _ in range(stop_after)]
    time.sleep(rng.uniform(0.0, 0.02))  # lands anywhere in an edit or a save
    seen += child.kill()
    reported = _edits(seen)
    assert reported >= stop_after
    doc, _ = _on_disk(root)
    # Every reported edit is there; at most the one in progress beyond them.
    assert summary(doc) in (replay(reported), replay(reported + 1)), f"after EDIT {reported}"
    # The workspace still works: a leftover temp file does not get in the way.
    with Workspace(root) as ws:
        ws.save(doc)
        again = ws.load(STUDY)
    assert again is not None and summary(again.document) == summary(doc)
