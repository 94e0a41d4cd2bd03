"""The worklist index holds patient names and IDs: created 0600, an older 0644 one tightened
when opened (issue 20, item 6)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import STUDY, image

from spineviewer.annotations.annotation import Annotation, Kind
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.store import Workspace


def _doc() -> AnnotationDocument:
    mark = Annotation.create(Kind.POINT, image(), [(3, 3)], None, label="L4")
    return AnnotationDocument(
        STUDY, patient_id="QZX-PID", patient_name="QZX^PATIENT", annotations=[mark]
    )


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: new files 0644
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_worklist_index_is_private(tmp_path: Path, open_umask: None) -> None:
    with Workspace(tmp_path / "ws") as workspace:
        workspace.save(_doc())
        index = workspace.root / "index.sqlite"
        files = [index, *index.parent.glob("index.sqlite-*")]
        assert len(files) >= 2  # the WAL journal too, while open
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert workspace.studies()[0].patient_name == "QZX^PATIENT"


def test_open_worklist_index_is_tightened(tmp_path: Path, open_umask: None) -> None:
    root = tmp_path / "ws"
    with Workspace(root) as workspace:
        workspace.save(_doc())
    index = root / "index.sqlite"
    index.chmod(0o644)  # as older versions left it
    with Workspace(root) as workspace:
        assert _mode(index) == 0o600
        assert [e.patient_id for e in workspace.studies()] == ["QZX-PID"]
    with sqlite3.connect(index) as db:  # still a sound database
        assert db.execute("SELECT count(*) FROM studies").fetchone()[0] == 1
