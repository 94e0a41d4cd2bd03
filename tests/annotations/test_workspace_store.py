"""Workspace: where documents go, atomic saves with a backup, recovery from a damaged file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from store_helpers import STUDY, every_kind_document, mark

from spineviewer.annotations import store
from spineviewer.annotations.commands import AddAnnotations, UndoStack, change
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.errors import AnnotationFileError, WorkspaceError
from spineviewer.annotations.store import (
    BACKUP_NAME,
    DOCUMENT_NAME,
    Autosaver,
    Workspace,
    default_root,
    study_folder_name,
)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    with Workspace(tmp_path / "ws") as workspace:
        yield workspace


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".annotations."))


# -- where ---------------------------------------------------------------------------------------


def test_default_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SPINEVIEWER_WORKSPACE", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_root() == tmp_path / ".local/share/spineviewer/workspace"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg/spineviewer/workspace"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec says: absolute only
    assert default_root() == tmp_path / ".local/share/spineviewer/workspace"
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "mine"))
    assert default_root() == tmp_path / "mine"
    with Workspace() as ws:
        assert ws.root == (tmp_path / "mine").resolve() and ws.root.is_dir()


def test_study_folder_names() -> None:
    assert study_folder_name(STUDY) == STUDY
    odd = [
        "../../etc/passwd",
        "ABC",
        "abc",
        "a/b",
        "a\\b",
        "..",
        ".",
        "x" * 300,
        "Ünïcode uid",
        "1.2.3" + "4" * 70,
    ]
    names = [study_folder_name(u) for u in odd]
    assert len({n.lower() for n in names}) == len(odd)  # distinct even ignoring case
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert 0 < len(name) <= 64 and name.isascii()


def test_documents_live_under_studies(ws: Workspace) -> None:
    doc = every_kind_document()
    path = ws.save(doc)
    assert path == ws.root / "studies" / STUDY / DOCUMENT_NAME
    assert ws.document_path(STUDY) == path


def test_workspace_inside_the_images_is_refused(tmp_path: Path) -> None:
    images = tmp_path / "images"
    (images / "series1").mkdir(parents=True)
    with pytest.raises(WorkspaceError, match="inside the image folder"):
        Workspace(images / "ws", sources=[images])
    with pytest.raises(WorkspaceError, match="inside the image folder"):
        Workspace(images, sources=[images])
    with Workspace(tmp_path / "ws") as ws:
        doc = AnnotationDocument(STUDY, source_paths=[tmp_path])
        with pytest.raises(WorkspaceError, match="SPINEVIEWER_WORKSPACE"):
            ws.save(doc)
        # Images inside the workspace: annotations could end up beside them.
        inner = ws.root / "dicom"
        inner.mkdir()
        with pytest.raises(WorkspaceError, match="inside the annotation workspace"):
            ws.check_sources([inner / "a.dcm"])
        # A neighbour folder is fine, and so is a file whose folder holds the workspace's.
        ws.check_sources([images, tmp_path / "scan.dcm"])
        assert not list(images.rglob("*.json"))


# -- saving --------------------------------------------------------------------------------------


def test_save_and_load(ws: Workspace) -> None:
    doc = every_kind_document()
    assert ws.load(STUDY) is None
    ws.save(doc)
    assert doc.modified  # stamped by the save
    loaded = ws.load(STUDY)
    assert loaded is not None and loaded.warnings == () and not loaded.recovered
    assert loaded.document == doc and loaded.path.name == DOCUMENT_NAME


def test_save_is_atomic_and_keeps_a_backup(ws: Workspace) -> None:
    doc = every_kind_document()
    first = ws.save(doc)
    folder = first.parent
    assert not (folder / BACKUP_NAME).exists()
    v1 = first.read_bytes()
    doc.add(mark(uid="second"))
    ws.save(doc)
    assert (folder / BACKUP_NAME).read_bytes() == v1
    assert b'"second"' in first.read_bytes()
    assert _leftovers(folder) == []
    assert sorted(p.name for p in folder.iterdir()) == [DOCUMENT_NAME, BACKUP_NAME]


def test_failed_write_leaves_old_file_and_no_temp(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = every_kind_document()
    path = ws.save(doc)
    good = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", broken_fsync)
    doc.add(mark(uid="lost"))
    with pytest.raises(OSError, match="No space"):
        ws.save(doc)
    assert path.read_bytes() == good and _leftovers(path.parent) == []


def test_load_removes_stale_temp_files(ws: Workspace) -> None:
    path = ws.save(every_kind_document())
    stale, fresh = path.with_name(".annotations.old.tmp"), path.with_name(".annotations.new.tmp")
    stale.write_text("{", "utf-8")
    fresh.write_text("{", "utf-8")
    old = time.time() - store.STALE_TEMP_S - 10
    os.utime(stale, (old, old))
    loaded = ws.load(STUDY)
    assert loaded is not None and loaded.warnings == ()
    assert _leftovers(path.parent) == [fresh.name]  # maybe another process's save in flight


def test_backup_copied_without_hard_links(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(store.os, "link", no_links)
    doc = every_kind_document()
    path = ws.save(doc)
    v1 = path.read_bytes()
    ws.save(doc)
    assert (path.parent / BACKUP_NAME).read_bytes() == v1
    assert _leftovers(path.parent) == []


# -- recovery ------------------------------------------------------------------------------------


def _two_versions(ws: Workspace) -> tuple[AnnotationDocument, Path]:
    doc = every_kind_document()
    ws.save(doc)
    doc.add(mark(uid="newest"))
    return doc, ws.save(doc)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "newer"])
def test_damaged_main_falls_back_to_backup(ws: Workspace, damage: str) -> None:
    doc, path = _two_versions(ws)
    text = path.read_text("utf-8")
    path.write_text(
        {
            "truncate": text[: len(text) // 2],
            "garbage": "\x00" * 100,
            "empty": "",
            "newer": text.replace('"schema_version": 1', '"schema_version": 7'),
        }[damage],
        "utf-8",
    )
    loaded = ws.load(STUDY)
    assert loaded is not None and loaded.recovered
    assert "newest" not in loaded.document and len(loaded.document) == len(doc) - 1
    report = "\n".join(loaded.warnings)
    assert str(path) in report and "backup" in report and "kept as" in report
    # The damaged file is kept aside, the backup restored as the main file.
    kept = [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
    assert len(kept) == 1
    again = ws.load(STUDY)
    assert again is not None and again.warnings == () and again.document == loaded.document


def test_missing_main_uses_backup(ws: Workspace) -> None:
    _, path = _two_versions(ws)
    path.unlink()
    loaded = ws.load(STUDY)
    assert loaded is not None and loaded.recovered and "missing" in loaded.warnings[0]
    assert "restored" in loaded.warnings[-1] and path.exists()


def test_both_damaged_is_an_error(ws: Workspace) -> None:
    _, path = _two_versions(ws)
    path.write_text("{", "utf-8")
    (path.parent / BACKUP_NAME).write_text("[1, 2", "utf-8")
    with pytest.raises(AnnotationFileError, match="backup is unusable too") as info:
        ws.load(STUDY)
    assert str(path) in str(info.value)


def test_damaged_without_backup_is_an_error(ws: Workspace) -> None:
    path = ws.save(every_kind_document())
    path.write_text('{"format": "spineviewer-annotations"', "utf-8")
    with pytest.raises(AnnotationFileError, match="no backup"):
        ws.load(STUDY)


def test_file_of_another_study_is_refused(ws: Workspace) -> None:
    path = ws.save(every_kind_document())
    other = ws.document_path("1.2.3")
    other.parent.mkdir(parents=True)
    other.write_bytes(path.read_bytes())
    with pytest.raises(WorkspaceError, match="holds study"):
        ws.load("1.2.3")
    assert other.exists()  # not treated as damage


def test_unreadable_main_uses_backup(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = _two_versions(ws)
    read = store._read

    def denied(p: Path) -> AnnotationDocument:
        if p == path:
            raise PermissionError(13, "Permission denied", str(p))
        return read(p)

    monkeypatch.setattr(store, "_read", denied)
    loaded = ws.load(STUDY)
    assert loaded is not None and loaded.recovered
    assert "cannot be read (Permission denied)" in loaded.warnings[0]
    # Not damaged: neither moved aside nor overwritten by the older backup.
    assert not [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
    assert b"newest" in path.read_bytes()


# -- autosave ------------------------------------------------------------------------------------


def test_autosaver_saves_every_change(ws: Workspace) -> None:
    doc = AnnotationDocument(STUDY)
    stack = UndoStack(doc)
    saver = Autosaver(ws, stack)

    def on_disk() -> AnnotationDocument:
        loaded = ws.load(STUDY)
        assert loaded is not None
        return loaded.document

    stack.push(AddAnnotations([mark(uid="a")]))
    assert on_disk().uids() == ("a",)
    assert on_disk().review_status == ReviewStatus.IN_PROGRESS  # the first edit starts it
    stack.push(change(doc, [doc["a"].moved(1, 1, None)], "Move point"))
    assert on_disk()["a"] == doc["a"]
    stack.undo()
    assert on_disk()["a"] == doc["a"]
    stack.undo()
    assert on_disk().uids() == ()
    stack.redo()
    assert on_disk().uids() == ("a",)
    assert saver.saves == 5 and saver.last_error is None
    saver.close()
    stack.redo()
    assert on_disk()["a"] != doc["a"]


def test_autosaver_reports_errors(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    with Workspace(tmp_path / "ws") as ws:
        doc = AnnotationDocument(STUDY, source_paths=[tmp_path])  # holds the workspace
        stack = UndoStack(doc)
        errors: list[Exception] = []
        saver = Autosaver(ws, stack, on_error=errors.append)
        stack.push(AddAnnotations([mark(uid="a")]))
        assert len(errors) == 1 and isinstance(saver.last_error, WorkspaceError)
        assert "a" in doc and stack.can_undo  # editing goes on

        strict = Autosaver(ws, UndoStack(AnnotationDocument(STUDY, source_paths=[tmp_path])))
        with pytest.raises(WorkspaceError):
            strict.stack.push(AddAnnotations([mark(uid="b")]))
