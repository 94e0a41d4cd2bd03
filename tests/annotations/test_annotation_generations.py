"""Generations and the three-way merge: two writers of one study's annotations lose nothing.

Issue 20, item 5: while a viewer had a study open, ``spineviewer annotations import`` wrote
the study's file and the viewer's next autosave overwrote it. Now every save writes the next
generation, merges what another writer saved since (conflicts kept as copies, the user told),
and the read-merge-write holds a lock against a second process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from store_helpers import STUDY, image

from spineviewer.annotations import store
from spineviewer.annotations.annotation import Annotation, Kind
from spineviewer.annotations.commands import AddAnnotations, UndoStack, change, delete
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.errors import AnnotationFileError, WorkspaceError
from spineviewer.annotations.merge import (
    OTHER_VERSION,
    ChangeKind,
    ConflictKind,
    Version,
    merge,
)
from spineviewer.annotations.store import (
    BACKUP_NAME,
    DOCUMENT_NAME,
    LOCK_NAME,
    Autosaver,
    SaveResult,
    Workspace,
    document_lock,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def _point(uid: str, row: float = 10.0, label: str = "") -> Annotation:
    return Annotation.create(Kind.POINT, image(), [(row, 20.0)], None, uid=uid, label=label)


def _on_disk(root: Path) -> dict:
    return json.loads((root / "studies" / STUDY / DOCUMENT_NAME).read_text("utf-8"))


def _load(ws: Workspace) -> AnnotationDocument:
    loaded = ws.load(STUDY)
    assert loaded is not None
    return loaded.document


def _fields(**changes: object) -> dict[str, object]:
    return {**AnnotationDocument(STUDY, author="a").version().fields, **changes}


def _version(*annotations: Annotation, **fields: object) -> Version:
    return Version(_fields(**fields), annotations)


# -- generations ---------------------------------------------------------------------------------


def test_every_save_writes_the_next_generation(root: Path) -> None:
    with Workspace(root) as ws:
        doc = AnnotationDocument(STUDY)
        assert doc.generation == 0 and "generation" not in json.loads(doc.to_json())
        for n in (1, 2, 3):
            doc.add(_point(f"p{n}"))
            result = ws.commit(doc)
            assert result.generation == n == doc.generation == _on_disk(root)["generation"]
            assert result.found == (None if n == 1 else n - 1)
            assert not result.merged and result.notices == ()
        backup = json.loads((root / "studies" / STUDY / BACKUP_NAME).read_text("utf-8"))
        assert backup["generation"] == 2
        assert _load(ws).generation == 3
        # another process that read generation 3 writes 4; this one, still at 3, writes 5
        other = _load(ws)
        ws.commit(other)
        assert ws.commit(doc).generation == 5


def test_a_file_without_a_generation_reads_as_generation_0(root: Path) -> None:
    """Files written before generations existed are read and merged as generation 0."""
    with Workspace(root) as ws:
        doc = AnnotationDocument(STUDY, author="old")
        doc.add(_point("old-1"))
        path = ws.document_path(STUDY)
        path.parent.mkdir(parents=True)
        path.write_text(doc.to_json(), "utf-8")  # generation 0 is written as before: no key
        assert "generation" not in _on_disk(root)
        viewer = _load(ws)
        assert viewer.generation == 0 and viewer.uids() == ("old-1",)
        # an old SpineViewer adds a mark without a generation; the new one merges it
        doc.add(_point("old-2"))
        path.write_text(doc.to_json(), "utf-8")
        viewer.add(_point("new-1"))
        result = ws.commit(viewer)
        assert result.found == 0 and result.generation == 1 and result.merged
        assert set(_load(ws).uids()) == {"old-1", "old-2", "new-1"}


@pytest.mark.parametrize("bad", ["3", -1, True, 1.5, None])
def test_a_bad_generation_is_refused(bad: object) -> None:
    data = json.loads(AnnotationDocument(STUDY).to_json())
    data["generation"] = bad
    with pytest.raises(AnnotationFileError, match="generation"):
        AnnotationDocument.from_json(json.dumps(data), "x.json")


# -- the merge rules (pure) ----------------------------------------------------------------------


def test_changes_on_one_side_are_taken() -> None:
    a, b, c = _point("a"), _point("b"), _point("c")
    base = _version(a, b, c)
    ours = _version(a.moved(1, 1, None), b, c, _point("mine"))
    theirs = _version(a, b.relabelled("L4"), _point("theirs"))  # c deleted there
    merged = merge(base, ours, theirs)
    got = merged.version.by_uid()
    assert got["a"] == ours.by_uid()["a"] and got["b"] == theirs.by_uid()["b"]
    assert "c" not in got and {"mine", "theirs"} <= set(got)
    assert [a.uid for a in merged.version.annotations] == ["a", "b", "theirs", "mine"]
    assert {(c.uid, c.kind) for c in merged.taken} == {
        ("b", ChangeKind.CHANGED),
        ("c", ChangeKind.DELETED),
        ("theirs", ChangeKind.ADDED),
    }
    assert merged.conflicts == () and merged.took_theirs
    assert merged.notices() == ["Merged the changes another writer saved: 1 added, 1 changed, "
                                "1 deleted."]  # fmt: skip


def test_nothing_of_theirs_means_ours_unchanged() -> None:
    a = _point("a")
    base = _version(a)
    ours = _version(a.moved(2, 0, None), _point("b"), review_status=ReviewStatus.DONE)
    merged = merge(base, ours, base)
    assert merged.version == ours and not merged.took_theirs and merged.notices() == []


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    a = _point("a")
    moved = a.moved(3, 3, None)
    both = _version(moved, _point("n"))
    merged = merge(_version(a), both, both)
    assert merged.version.annotations == both.annotations
    assert merged.conflicts == () and merged.taken == ()


def test_both_edited_keeps_theirs_as_a_copy_beside_ours() -> None:
    a, z = _point("a", label="L3"), _point("z")
    ours_a = a.moved(1, 0, None)
    theirs_a = a.relabelled("L4").with_text("looks like L4")
    merged = merge(_version(a, z), _version(ours_a, z), _version(theirs_a, z))
    (conflict,) = merged.conflicts
    assert conflict.uid == "a" and conflict.kind == ConflictKind.BOTH_EDITED
    result = merged.version.annotations
    assert [x.uid for x in result] == ["a", conflict.copy_uid, "z"]  # the copy right beside
    copy = result[1]
    assert result[0] == ours_a
    assert copy.uid not in ("a", "z") and copy.label == "L4" and copy.points == theirs_a.points
    assert copy.text.startswith(OTHER_VERSION) and copy.text.endswith("looks like L4")
    assert "a" in copy.text  # names the annotation it is a version of
    notice = " ".join(merged.notices())
    assert "Conflict" in notice and "L3 point" in notice and OTHER_VERSION in notice
    # merging the merged version again makes no second copy
    again = merge(_version(a, z), merged.version, _version(theirs_a, z))
    assert [x.uid for x in again.version.annotations] == [x.uid for x in result]


def test_deleted_on_one_side_and_edited_on_the_other_keeps_the_edited_one() -> None:
    a, b = _point("a"), _point("b")
    edited_a, edited_b = a.moved(5, 5, None), b.relabelled("S1")
    base = _version(a, b)
    ours = _version(edited_a)  # a edited here, b deleted here
    theirs = _version(edited_b)  # a deleted there, b edited there
    merged = merge(base, ours, theirs)
    assert merged.version.by_uid() == {"a": edited_a, "b": edited_b}
    kinds = {c.uid: c.kind for c in merged.conflicts}
    assert kinds == {"a": ConflictKind.DELETED_THERE, "b": ConflictKind.DELETED_HERE}
    assert all(c.copy_uid is None for c in merged.conflicts)
    text = " ".join(merged.notices())
    assert "you deleted was edited" in text and "you edited was deleted" in text


def test_added_on_both_sides_with_one_uid_keeps_both() -> None:
    ours, theirs = _point("same", row=1.0), _point("same", row=2.0)
    merged = merge(_version(), _version(ours), _version(theirs))
    (conflict,) = merged.conflicts
    assert conflict.kind == ConflictKind.BOTH_ADDED
    assert [a.points for a in merged.version.annotations] == [ours.points, theirs.points]


def test_document_fields_merge_and_their_conflicts_are_told() -> None:
    base = _version(source_paths=("/a",))
    ours = _version(source_paths=("/a", "/b"), review_status=ReviewStatus.DONE)
    theirs = _version(
        source_paths=("/c",), review_status=ReviewStatus.IN_PROGRESS, study_date="20240101"
    )
    merged = merge(base, ours, theirs)
    fields = merged.version.fields
    assert fields["source_paths"] == ("/a", "/b", "/c")
    assert fields["study_date"] == "20240101"
    assert fields["review_status"] == ReviewStatus.DONE  # ours wins a conflict ...
    (conflict,) = merged.field_conflicts
    assert conflict.name == "review_status"
    assert any("review status" in line and "'done'" in line for line in merged.notices())


# -- the store: two writers ----------------------------------------------------------------------


def test_the_lost_update_of_issue_20(root: Path) -> None:
    """A viewer has the study open; an import writes the file; the viewer's next autosave
    keeps the imported annotation and says so."""
    with Workspace(root) as viewer_ws, Workspace(root) as cli_ws:
        doc = AnnotationDocument(STUDY)
        stack = UndoStack(doc)
        told: list[SaveResult] = []
        Autosaver(viewer_ws, stack, on_merged=told.append)
        stack.push(AddAnnotations([_point("drawn")]))
        # the import (annotations import STUDY SR): load, add, save
        imported = _load(cli_ws)
        imported.add(_point("imported", label="L4"))
        assert cli_ws.commit(imported).generation == 2
        stack.push(AddAnnotations([_point("drawn-later")]))
        assert set(_on_disk(root)["annotations"][i]["uid"] for i in range(3)) == {
            "drawn",
            "imported",
            "drawn-later",
        }
        assert _on_disk(root)["generation"] == 3
        assert "imported" in doc and len(told) == 1 and told[0].merged
        assert "1 added" in told[0].notices[0]
        # undo of the viewer's own edit leaves the import alone
        stack.undo()
        assert set(_load(cli_ws).uids()) == {"drawn", "imported"}


def test_conflicting_edits_are_both_kept_and_writers_converge(root: Path) -> None:
    with Workspace(root) as ws:
        first = AnnotationDocument(STUDY)
        first.add(_point("x", label="L3"))
        first.add(_point("gone"))
        ws.commit(first)
        second = _load(ws)
        # second writer: relabels x and edits "gone"; first: moves x and deletes "gone"
        UndoStack(second).push(change(second, [second["x"].relabelled("L4")], "Relabel"))
        UndoStack(second).push(change(second, [second["gone"].moved(1, 1, None)], "Move"))
        ws.commit(second)
        UndoStack(first).push(change(first, [first["x"].moved(0, 4, None)], "Move"))
        UndoStack(first).push(delete(first, ["gone"]))
        result = ws.commit(first)
        assert result.merge is not None
        kinds = sorted(c.kind.value for c in result.merge.conflicts)
        assert kinds == [ConflictKind.BOTH_EDITED.value, ConflictKind.DELETED_HERE.value]
        notices = "\n".join(result.notices)
        assert notices.count("Conflict") == 2
        on_disk = _load(ws)
        copies = [a for a in on_disk if a.text.startswith(OTHER_VERSION)]
        assert len(copies) == 1 and copies[0].label == "L4"
        assert on_disk["x"].label == "L3" and on_disk["x"].points == first["x"].points
        assert on_disk["gone"] == second["gone"]  # the edited one stays
        assert on_disk == first  # the first writer's document took the merge in place
        # the second writer saves again: it takes the merge, no new conflict, no new copy
        again = ws.commit(second)
        assert again.merge is not None and again.merge.conflicts == ()
        assert set(_load(ws).uids()) == set(first.uids()) and len(_load(ws)) == 3


def test_a_document_made_before_the_file_existed_merges_with_it(root: Path) -> None:
    with Workspace(root) as ws:
        early = AnnotationDocument(STUDY, patient_id="P1")  # no file when it was made
        other = AnnotationDocument(STUDY, review_status=ReviewStatus.IN_PROGRESS)
        other.add(_point("theirs"))
        ws.commit(other)
        early.add(_point("mine"))
        result = ws.commit(early)
        assert result.merged and result.found == 1 and result.generation == 2
        back = _load(ws)
        assert set(back.uids()) == {"theirs", "mine"} and back.patient_id == "P1"
        assert back.review_status == ReviewStatus.IN_PROGRESS


def test_a_damaged_file_is_kept_aside_and_told(root: Path) -> None:
    with Workspace(root) as ws:
        doc = AnnotationDocument(STUDY)
        path = ws.save(doc)
        path.write_text('{"format": "spineviewer-annotations", "sche', "utf-8")
        doc.add(_point("a"))
        result = ws.commit(doc)
        assert any("kept as" in n for n in result.notices)
        assert [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
        assert _load(ws).uids() == ("a",)


def test_an_unreadable_file_is_not_overwritten(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Workspace(root) as ws:
        doc = AnnotationDocument(STUDY)
        path = ws.save(doc)
        before = path.read_bytes()
        read = store._read

        def denied(p: Path) -> AnnotationDocument:
            if p == path:
                raise PermissionError(13, "Permission denied", str(p))
            return read(p)

        monkeypatch.setattr(store, "_read", denied)
        doc.add(_point("a"))
        with pytest.raises(WorkspaceError, match="so as not to overwrite"):
            ws.commit(doc)
        assert path.read_bytes() == before and doc.generation == 1


def test_a_failed_write_changes_neither_file_nor_document(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Workspace(root) as ws, Workspace(root) as other_ws:
        doc = AnnotationDocument(STUDY)
        path = ws.save(doc)
        other = _load(other_ws)
        other.add(_point("theirs"))
        other_ws.commit(other)
        good = path.read_bytes()

        def no_space(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(store.os, "fsync", no_space)
        doc.add(_point("mine"))
        with pytest.raises(OSError, match="No space"):
            ws.commit(doc)
        assert path.read_bytes() == good
        assert doc.uids() == ("mine",) and doc.generation == 1  # not merged yet
        assert not (path.parent / LOCK_NAME).exists()  # released on the error
        monkeypatch.undo()
        assert ws.commit(doc).merged and set(doc.uids()) == {"theirs", "mine"}


# -- the lock ------------------------------------------------------------------------------------


def _hold_lock(lock: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:
    with document_lock(Path(lock)):
        ready.set()
        time.sleep(seconds)


def test_a_save_waits_for_another_process_holding_the_lock(root: Path) -> None:
    with Workspace(root) as ws:
        doc = AnnotationDocument(STUDY)
        path = ws.save(doc)
        lock = path.parent / LOCK_NAME
        assert not lock.exists()  # only while a save is in progress
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        holder = ctx.Process(target=_hold_lock, args=(str(lock), 1.5, ready))
        holder.start()
        try:
            assert ready.wait(60)
            started = time.monotonic()
            doc.add(_point("a"))
            ws.commit(doc)
            waited = time.monotonic() - started
        finally:
            holder.join(60)
        assert holder.exitcode == 0
        assert waited > 0.5, waited  # it waited for the holder
        assert _load(ws).uids() == ("a",) and not lock.exists()


def test_a_save_gives_up_on_a_lock_held_too_long(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Workspace(root) as ws:
        doc = AnnotationDocument(STUDY)
        path = ws.save(doc)
        before = path.read_bytes()
        monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.3)
        errors: list[Exception] = []
        stack = UndoStack(doc)
        Autosaver(ws, stack, on_error=errors.append)
        fd = os.open(path.parent / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            stack.push(AddAnnotations([_point("a")]))
        finally:
            os.close(fd)
        assert len(errors) == 1 and isinstance(errors[0], WorkspaceError)
        assert "another process" in str(errors[0]) and path.read_bytes() == before


# -- two real processes --------------------------------------------------------------------------

ROUNDS = 40


def _writer(root: str, name: str, start: multiprocessing.synchronize.Barrier) -> None:
    """A viewer-like writer: one open document, an autosave after every edit; every edit adds
    a mark, every third also moves the shared mark (conflicting with the other writer)."""
    with Workspace(Path(root)) as ws:
        loaded = ws.load(STUDY)
        assert loaded is not None
        doc = loaded.document
        stack = UndoStack(doc)
        Autosaver(ws, stack, mark_in_progress=False)
        start.wait(60)
        for i in range(ROUNDS):
            stack.push(AddAnnotations([_point(f"{name}-{i}", row=float(i))]))
            if i % 3 == 0:
                shared = doc["shared"].with_points([(float(i), 1.0 + len(name))], None)
                stack.push(change(doc, [shared], "Move"))
        Path(root, f"{name}.last").write_text(json.dumps(doc["shared"].points), "utf-8")


def test_two_processes_writing_at_once_lose_nothing(root: Path) -> None:
    with Workspace(root) as ws:
        doc = AnnotationDocument(STUDY)
        doc.add(_point("shared"))
        ws.commit(doc)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    writers = [ctx.Process(target=_writer, args=(str(root), n, start)) for n in ("a", "bb")]
    for w in writers:
        w.start()
    for w in writers:
        w.join(300)
    assert [w.exitcode for w in writers] == [0, 0]
    with Workspace(root) as ws:
        final = _load(ws)
    uids = set(final.uids())
    lost = {f"{n}-{i}" for n in ("a", "bb") for i in range(ROUNDS)} - uids
    assert not lost, f"lost {sorted(lost)}"
    saves = 2 * (ROUNDS + len(range(0, ROUNDS, 3)))
    assert final.generation == 1 + saves  # every save read the one before it: none lost
    # the shared mark holds the last writer's last move (the other's is there too, as a
    # conflict copy, unless the last writer had taken it in before moving the mark again)
    lasts = [
        tuple(tuple(p) for p in json.loads((root / f"{n}.last").read_text("utf-8")))
        for n in ("a", "bb")
    ]
    assert final["shared"].points in lasts
    written = {f"{n}-{i}" for n in ("a", "bb") for i in range(ROUNDS)} | {"shared"}
    assert all(final[u].text.startswith(OTHER_VERSION) for u in uids - written)
    assert not (root / "studies" / STUDY / LOCK_NAME).exists()
    assert not [p for p in (root / "studies" / STUDY).iterdir() if p.suffix == ".tmp"]
