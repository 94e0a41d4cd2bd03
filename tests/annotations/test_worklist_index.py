"""The workspace's SQLite study index: rows follow saves, statuses, next/previous, versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_helpers import image

from spineviewer.annotations.annotation import Annotation, Kind, Provenance, Status
from spineviewer.annotations.commands import AddAnnotations, UndoStack, accept, change, reject
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.errors import WorkspaceError
from spineviewer.annotations.store import Autosaver, Workspace
from spineviewer.annotations.worklist import INDEX_VERSION, WorklistIndex


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    with Workspace(tmp_path / "ws") as workspace:
        yield workspace


def _study(uid: str, date: str, n_proposals: int = 0) -> AnnotationDocument:
    doc = AnnotationDocument(
        uid,
        patient_id=f"P-{uid}",
        study_date=date,
        study_description=f"study {uid}",
        source_paths=[f"/images/{uid}", f"/images/{uid}-extra"],
        author="reader",
    )
    for i in range(n_proposals):
        doc.add(
            Annotation.create(
                Kind.POINT,
                image(sop=f"{uid}.1", study=uid),
                [(i, i)],
                None,
                uid=f"{uid}-p{i}",
                status=Status.PROPOSED,
                provenance=Provenance.model("m", "1", 0.9),
            )
        )
    return doc


def _point(study_uid: str) -> Annotation:
    return Annotation.create(Kind.POINT, image(study=study_uid), [(1.0, 1.0)], None)


def test_index_file_is_wal_and_versioned(ws: Workspace) -> None:
    path = ws.root / "index.sqlite"
    assert path.is_file()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION == 1


def test_row_written_on_save(ws: Workspace) -> None:
    doc = _study("1.2.3", "20240101", n_proposals=3)
    doc.patient_name = "Doe^Jane"
    ws.save(doc)
    (entry,) = ws.studies()
    assert entry.study_uid == "1.2.3" and entry.patient_name == "Doe^Jane"
    assert entry.patient_id == "P-1.2.3" and entry.study_description == "study 1.2.3"
    assert entry.source_paths == ("/images/1.2.3", "/images/1.2.3-extra")
    assert entry.review_status == ReviewStatus.NEW and entry.annotator == "reader"
    assert (entry.total, entry.proposed, entry.accepted, entry.rejected) == (3, 3, 0, 0)
    assert entry.modified == doc.modified != ""


def test_counts_follow_autosaved_edits(ws: Workspace) -> None:
    doc = _study("1.2.3", "20240101", n_proposals=3)
    ws.save(doc)
    stack = UndoStack(doc)
    Autosaver(ws, stack)

    def counts() -> tuple[int, int, int, int]:
        entry = ws.index.get("1.2.3")
        assert entry is not None
        return entry.total, entry.proposed, entry.accepted, entry.rejected

    stack.push(accept(doc, ["1.2.3-p0"]))
    assert counts() == (3, 2, 1, 0)
    stack.push(reject(doc, ["1.2.3-p1"]))
    assert counts() == (3, 1, 1, 1)
    moved = doc["1.2.3-p2"].moved(1, 1, None)  # an edited proposal counts as accepted
    stack.push(AddAnnotations([_point("1.2.3")]))
    stack.push(change(doc, [moved], "Move point"))
    assert counts() == (4, 0, 3, 1)
    assert ws.index.get("1.2.3").review_status == ReviewStatus.IN_PROGRESS
    stack.undo()
    stack.undo()
    assert counts() == (3, 1, 1, 1)


def test_set_status_and_filters(ws: Workspace) -> None:
    for uid, date in [("1.1", "20240301"), ("1.2", "20240101"), ("1.3", "20240201")]:
        ws.save(_study(uid, date))
    ws.set_status("1.1", ReviewStatus.DONE)
    ws.set_status("1.3", "in_progress")
    assert [e.study_uid for e in ws.studies()] == ["1.2", "1.3", "1.1"]  # by date
    assert [e.study_uid for e in ws.studies("done")] == ["1.1"]
    assert [e.study_uid for e in ws.studies(["new", ReviewStatus.IN_PROGRESS])] == ["1.2", "1.3"]
    # The document holds the status too (the index is only a cache).
    loaded = ws.load("1.1")
    assert loaded is not None and loaded.document.review_status == ReviewStatus.DONE
    with pytest.raises(ValueError):
        ws.set_status("1.1", "finished")
    with pytest.raises(KeyError):
        ws.set_status("9.9.9", "done")


def test_set_status_changes_the_open_document(ws: Workspace) -> None:
    doc = _study("1.1", "20240101")
    ws.save(doc)
    stack = UndoStack(doc)
    Autosaver(ws, stack)
    assert ws.set_status("1.1", "done") is doc
    stack.push(AddAnnotations([_point("1.1")]))
    # The next autosave does not put the old status back.
    assert ws.index.get("1.1").review_status == ReviewStatus.DONE


def test_next_and_previous(ws: Workspace) -> None:
    # Same date for two: the UID breaks the tie; order is stable whatever the status.
    for uid, date in [("1.4", "20240102"), ("1.1", "20240101"), ("1.3", "20240102"), ("1.2", "")]:
        ws.save(_study(uid, date))
    order = [e.study_uid for e in ws.studies()]
    assert order == ["1.2", "1.1", "1.3", "1.4"]
    assert ws.next_study(None).study_uid == "1.2"
    assert ws.previous_study(None).study_uid == "1.4"
    walked = []
    current = None
    while (entry := ws.next_study(current)) is not None:
        walked.append(entry.study_uid)
        current = entry.study_uid
    assert walked == order
    assert ws.previous_study("1.3").study_uid == "1.1"
    assert ws.previous_study("1.2") is None and ws.next_study("1.4") is None
    ws.set_status("1.1", "done")
    ws.set_status("1.3", "done")
    # Skipping done studies, from a done one too.
    assert ws.next_study("1.2", status="new").study_uid == "1.4"
    assert ws.next_study("1.1", status=["new", "in_progress"]).study_uid == "1.4"
    assert ws.previous_study("1.4", status="new").study_uid == "1.2"
    assert [e.study_uid for e in ws.studies()] == order
    assert ws.next_study("unknown").study_uid == "1.2"


def test_newer_index_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    WorklistIndex(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {INDEX_VERSION + 1}")
    with pytest.raises(WorkspaceError, match="newer SpineViewer"):
        WorklistIndex(path)


def test_reopen_keeps_rows(tmp_path: Path) -> None:
    with Workspace(tmp_path / "ws") as ws:
        ws.save(_study("1.1", "20240101"))
    with Workspace(tmp_path / "ws") as ws:
        assert [e.study_uid for e in ws.studies()] == ["1.1"]


def test_rebuild_index_from_documents(ws: Workspace) -> None:
    for uid in ("1.1", "1.2", "odd uid/with slash"):
        ws.save(_study(uid, "20240101", n_proposals=2))
    ws.set_status("1.2", "done")
    damaged = ws.document_path("1.1")
    damaged.write_text("{", "utf-8")  # no backup: only one save
    ws.index.clear()
    problems = ws.rebuild_index()
    assert [e.study_uid for e in ws.studies()] == ["1.2", "odd uid/with slash"]
    assert ws.index.get("1.2").review_status == ReviewStatus.DONE
    assert ws.index.get("odd uid/with slash").proposed == 2
    assert len(problems) == 1 and str(damaged) in problems[0]
