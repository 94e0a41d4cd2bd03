"""The process test_autosave_crash.py kills: edits a study through an autosaved undo stack.

Usage: ``python autosave_child.py WORKSPACE COUNT``. Prints ``EDIT k`` (flushed) after edit
``k`` is complete, ``DONE`` after the last, then sleeps until killed. The edits are
deterministic (:func:`edit`), so the test can replay them and compare (:func:`summary`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from store_helpers import STUDY, image

from spineviewer.annotations.annotation import Annotation, Kind
from spineviewer.annotations.commands import AddAnnotations, Command, change, reject
from spineviewer.annotations.document import AnnotationDocument

Summary = list[tuple[str, tuple[tuple[float, float], ...], str, str]]


def edit(doc: AnnotationDocument, k: int) -> tuple[Command, bool]:
    """Edit number ``k`` (1-based) and whether to push it merging: add, add, move, reject..."""
    step = k % 4
    if step in (1, 2):
        point = Annotation.create(Kind.POINT, image(), [(float(k), k / 3)], None, uid=f"e{k}")
        return AddAnnotations([point]), False
    if step == 3:
        moved = doc[f"e{k - 1}"].with_points([(k + 0.5, k / 7)], None)
        return change(doc, [moved], "Move point"), True
    return reject(doc, [f"e{k - 3}"]), False


def summary(doc: AnnotationDocument) -> Summary:
    """What the edits decide, without times: uid, points, status, label per annotation."""
    return [(a.uid, a.points, a.status.value, a.label) for a in doc]


def replay(count: int) -> Summary:
    """The document after edits 1..count, made here."""
    doc = AnnotationDocument(STUDY)
    for k in range(1, count + 1):
        command, _ = edit(doc, k)
        command.redo(doc)
    return summary(doc)


def main(root: str, count: int) -> None:
    from spineviewer.annotations.commands import UndoStack
    from spineviewer.annotations.store import Autosaver, Workspace

    workspace = Workspace(Path(root))
    stack = UndoStack(AnnotationDocument(STUDY, author="child"))
    Autosaver(workspace, stack)
    for k in range(1, count + 1):
        command, merge = edit(stack.document, k)
        stack.push(command, merge=merge)
        print(f"EDIT {k}", flush=True)
    print("DONE", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
