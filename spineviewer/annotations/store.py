"""The annotation workspace: one JSON document per study, saved atomically, and its index.

Layout (never beside or inside the source images)::

    <root>/index.sqlite                       the worklist index (worklist.py)
    <root>/studies/<study folder>/annotations.json      the document
    <root>/studies/<study folder>/annotations.json.bak  the version before the last save
    <root>/studies/<study folder>/annotations.json.lock only while a save is in progress

The root is the ``workspace`` setting of :mod:`spineviewer.config`: ``$SPINEVIEWER_WORKSPACE``,
else the config file's ``workspace``, else ``workspace`` in the user data folder
(platformdirs: ``~/.local/share/spineviewer/workspace`` on Linux). A workspace at that old Linux
place is still used on Windows and macOS when the new place has none, so no annotations are
lost by upgrading (:func:`spineviewer.config.user_path`).

Saving writes a temporary file in the study folder, flushes and fsyncs it, keeps the current
file as ``.bak`` (a hard link, else a copy), renames the new file over the old one and fsyncs
the folder: a crash (even ``kill -9``) leaves either the old or the new document, never a
partial one. :class:`Autosaver` saves after every undo-stack change.

Several writers of one study (a viewer's autosave, ``spineviewer annotations import``, a
second viewer) lose nothing: a save reads the file on disk, merges it with the document
(:mod:`.merge`: three-way, from the version the document last read or wrote; a conflict keeps
the other writer's version as a copy) and writes the result with the next generation number,
all under an exclusive ``fcntl.flock`` on ``annotations.json.lock`` (held only for that
read-merge-write). :meth:`Workspace.commit` returns what was merged and every conflict, in
words for the user (:attr:`SaveResult.notices`); the document takes the merged content in
place.

Loading reports recovery instead of failing: :meth:`Workspace.load` returns a
:class:`LoadResult` whose ``warnings`` say when the main file was unreadable and the backup
was used (the damaged file is kept as ``annotations.json.corrupt-<time>`` and the backup
restored as the main file). Only when both are unusable does it raise AnnotationFileError.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from spineviewer import config
from spineviewer.annotations.annotation import now_iso
from spineviewer.annotations.commands import Command, UndoStack
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.errors import AnnotationFileError, WorkspaceError
from spineviewer.annotations.merge import Merged, merge
from spineviewer.annotations.worklist import StatusFilter, StudyEntry, WorklistIndex

ENV_WORKSPACE = config.SETTINGS["workspace"].env
DOCUMENT_NAME = "annotations.json"
BACKUP_NAME = DOCUMENT_NAME + ".bak"
LOCK_NAME = DOCUMENT_NAME + ".lock"
INDEX_NAME = "index.sqlite"
#: Longest wait (s) for another process's save of the same study before giving up.
LOCK_TIMEOUT_S = 10.0
#: Who wrote a newer file, as the notices name them.
OTHER_WRITER = "another writer"
_TEMP_PREFIX = ".annotations."
#: Age (s) after which a temporary file is a crash leftover, not another process's save.
STALE_TEMP_S = 60.0
_UID_CHARS = re.compile(r"[0-9.]{1,64}")


#: The workspace's folder of images retrieved from a PACS (:func:`spineviewer.pacs.storage.
#: retrieve_root`): images the viewer fetched, not anybody's source files, kept apart from the
#: annotations (``studies/``), so they may be annotated like images anywhere else.
RETRIEVED_FOLDER = "pacs"


def default_root() -> Path:
    """The workspace folder to use when none is given (see the module docstring)."""
    return config.load().workspace


def study_folder_name(study_uid: str) -> str:
    """A file-system-safe folder name for a study: the UID itself when it is a DICOM UID
    (digits and dots), else a readable prefix plus a hash (no collisions, any case rules)."""
    if _UID_CHARS.fullmatch(study_uid) and not study_uid.startswith("."):
        return study_uid
    prefix = re.sub(r"[^0-9A-Za-z_-]+", "_", study_uid)[:40].strip("_") or "study"
    return f"{prefix}-{hashlib.sha256(study_uid.encode('utf-8')).hexdigest()[:16]}"


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(target: Path, data: bytes, backup: Path | None = None) -> None:
    """Replace ``target`` by ``data`` atomically; keep the old file as ``backup`` if given."""
    fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if backup is not None and target.exists():
            _keep_backup(target, backup)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(target.parent)


def _keep_backup(target: Path, backup: Path) -> None:
    """Make ``backup`` the current ``target`` (hard link: no copy, already on disk)."""
    backup.unlink(missing_ok=True)
    try:
        os.link(target, backup)
    except OSError:  # no hard links here (FAT, some network shares): copy
        write_atomic(backup, target.read_bytes())


@contextlib.contextmanager
def document_lock(lock: Path, timeout_s: float | None = None) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on the file ``lock`` (created, and removed again
    before release) for the ``with`` block; WorkspaceError after ``timeout_s`` (default
    :data:`LOCK_TIMEOUT_S`) of waiting.

    A waiter that gets the lock on a file its holder has just removed tries again on the
    file now at that path, so removing it is safe. Where there is no ``flock`` (Windows, some
    network file systems) the block runs unlocked.
    """
    if sys.platform == "win32":  # pragma: no cover - no advisory locks there
        yield
        return
    import fcntl

    timeout_s = LOCK_TIMEOUT_S if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise WorkspaceError(
                            f"{lock}: another process has been saving these annotations for "
                            f"{timeout_s:g} s; not saved (try again)"
                        ) from None
                    time.sleep(0.002)
                except OSError:  # no flock on this file system: go on unlocked
                    break
            try:
                current = os.stat(lock)
            except FileNotFoundError:
                current = None
            if current is not None and os.path.samestat(os.fstat(fd), current):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder removed this one: lock the file at the path now
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)


def _remove_stale_temps(folder: Path, min_age_s: float = STALE_TEMP_S) -> None:
    """Delete temporary files a killed process left (old enough not to be another's live one)."""
    now = time.time()
    for temp in folder.glob(f"{_TEMP_PREFIX}*.tmp"):
        with contextlib.suppress(OSError):
            if now - temp.stat().st_mtime > min_age_s:
                temp.unlink()


def _read(path: Path) -> AnnotationDocument:
    """Read one document file; OSError when unreadable, AnnotationFileError when damaged."""
    data = path.read_bytes()
    return AnnotationDocument.from_json(data, str(path))


def _move_aside(path: Path) -> Path:
    """Rename a damaged file to ``<name>.corrupt-<UTC time>`` (kept for inspection)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, aside)
    return aside


def _check_study(doc: AnnotationDocument, study_uid: str, path: Path) -> None:
    """A file of another study is an error, not damage: WorkspaceError, so that the fallback
    to the backup leaves it alone."""
    if doc.study_uid != study_uid:
        raise WorkspaceError(f"{path}: holds study {doc.study_uid}, not {study_uid}")


@dataclass(frozen=True)
class SaveResult:
    """What :meth:`Workspace.commit` wrote and merged."""

    path: Path
    #: The generation written.
    generation: int
    #: The generation found on disk (None: there was no file).
    found: int | None = None
    #: The merge with the file on disk (None when there was none to merge with).
    merge: Merged | None = None
    #: Sentences for the user: what came from another writer, every conflict, a damaged
    #: file kept aside. Empty when the save only wrote the document.
    notices: tuple[str, ...] = ()

    @property
    def merged(self) -> bool:
        """True when the save changed the document (took another writer's changes or kept a
        conflict copy): its viewer must show it again."""
        return self.merge is not None and self.merge.took_theirs


@dataclass(frozen=True)
class LoadResult:
    """A loaded document, the file it came from, and what went wrong on the way (if anything)."""

    document: AnnotationDocument
    path: Path
    #: Messages for the user when the backup had to be used (empty normally).
    warnings: tuple[str, ...] = ()

    @property
    def recovered(self) -> bool:
        """True when the document came from the backup (the last edit may be missing)."""
        return self.path.name == BACKUP_NAME


class Workspace:
    """The folder holding every study's annotations and the worklist index.

    ``sources`` (folders or files the images come from) are checked at once: the workspace
    must not lie inside a source folder, nor a source inside the workspace (WorkspaceError).
    Every save checks the document's ``source_paths`` the same way.
    """

    def __init__(self, root: str | Path | None = None, sources: Iterable[str | Path] = ()) -> None:
        self._root = (Path(root) if root is not None else default_root()).expanduser().resolve()
        self._checked: set[tuple[str, ...]] = set()
        self.check_sources(sources)
        self._root.mkdir(parents=True, exist_ok=True)
        #: Documents this workspace loaded or saved, by study, while someone holds them:
        #: :meth:`set_status` changes the open document rather than a stale copy on disk.
        self._open: weakref.WeakValueDictionary[str, AnnotationDocument] = (
            weakref.WeakValueDictionary()
        )
        self.index = WorklistIndex(self._root / INDEX_NAME)

    @property
    def root(self) -> Path:
        return self._root

    def close(self) -> None:
        """Close the index (the workspace cannot be used afterwards)."""
        self.index.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def check_sources(self, sources: Iterable[str | Path]) -> None:
        """Raise WorkspaceError when the workspace and a source of images overlap."""
        key = tuple(str(s) for s in sources)
        if key in self._checked:
            return
        for source in key:
            src = Path(source).expanduser().resolve()
            if src.is_dir() and self._root.is_relative_to(src):
                raise WorkspaceError(
                    f"the annotation workspace {self._root} is inside the image folder {src}; "
                    f"annotations are never stored with the source images. Choose another "
                    f"workspace (set {ENV_WORKSPACE})."
                )
            if src.is_relative_to(self._root) and not src.is_relative_to(
                self._root / RETRIEVED_FOLDER
            ):
                raise WorkspaceError(
                    f"the images {src} are inside the annotation workspace {self._root}; "
                    f"move them out or choose another workspace (set {ENV_WORKSPACE})."
                )
        self._checked.add(key)

    # -- documents --------------------------------------------------------------------------------

    def study_dir(self, study_uid: str) -> Path:
        """The folder of one study's files."""
        return self._root / "studies" / study_folder_name(study_uid)

    def document_path(self, study_uid: str) -> Path:
        return self.study_dir(study_uid) / DOCUMENT_NAME

    def save(self, doc: AnnotationDocument) -> Path:
        """:meth:`commit` ``doc`` and return the file written (the notices are dropped: use
        :meth:`commit` where a user can be told)."""
        return self.commit(doc).path

    def commit(self, doc: AnnotationDocument) -> SaveResult:
        """Save ``doc``, merging what another writer saved since ``doc`` was read or written.

        Under the study's lock: read the file on disk, merge it three-way with ``doc`` (base:
        ``doc.base``), write the result atomically (the previous file kept as .bak) with the
        next generation, then update the index. Only after the write does ``doc`` take the
        merged content, its new generation and ``modified``: a failed save changes nothing.
        A damaged file on disk is kept aside (named in the notices); one that cannot be read
        now is not overwritten (WorkspaceError).
        """
        self.check_sources(doc.source_paths)
        folder = self.study_dir(doc.study_uid)
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            _fsync_dir(folder.parent)
        target = folder / DOCUMENT_NAME
        notices: list[str] = []
        merged: Merged | None = None
        with document_lock(folder / LOCK_NAME):
            disk = self._on_disk(target, doc.study_uid, notices)
            found = None if disk is None else disk.generation
            version = doc.version()
            if disk is not None:
                merged = merge(doc.base_version(), version, disk.version())
                version = merged.version
                if merged.took_theirs:
                    notices[:0] = merged.notices(OTHER_WRITER)
            generation = max(doc.generation, found or 0) + 1
            out = doc.with_version(version, generation)
            out.modified = now_iso()
            write_atomic(target, out.to_json().encode("utf-8"), backup=folder / BACKUP_NAME)
        if merged is not None and merged.took_theirs:
            doc.set_version(version)
        doc.modified = out.modified
        doc.mark_saved(generation)
        self._open[doc.study_uid] = doc
        self.index.record(doc)
        return SaveResult(target, generation, found, merged, tuple(notices))

    @staticmethod
    def _on_disk(target: Path, study_uid: str, notices: list[str]) -> AnnotationDocument | None:
        """The document file to merge with; None when there is none (a damaged one is moved
        aside, with a notice)."""
        try:
            disk = _read(target)
        except FileNotFoundError:
            return None
        except AnnotationFileError as exc:
            aside = _move_aside(target)
            notices.append(f"{exc}; the damaged file was kept as {aside.name}")
            return None
        except OSError as exc:
            raise WorkspaceError(
                f"{target}: cannot be read to merge with it ({exc.strerror or exc}); not "
                f"saved, so as not to overwrite it"
            ) from exc
        _check_study(disk, study_uid, target)
        return disk

    def load(self, study_uid: str) -> LoadResult | None:
        """The study's document; None when it has none. Falls back to the backup when the main
        file is damaged or unreadable (see the module docstring); AnnotationFileError when
        neither can be used. Temporary files left by a crash are removed."""
        folder = self.study_dir(study_uid)
        main, backup = folder / DOCUMENT_NAME, folder / BACKUP_NAME
        if folder.is_dir():
            _remove_stale_temps(folder)
        damaged = False
        try:
            return self._opened(study_uid, _read(main), main)
        except FileNotFoundError:
            if not backup.exists():
                return None
            problem = f"{main} is missing"
        except AnnotationFileError as exc:
            problem, damaged = str(exc), True
        except OSError as exc:
            problem = f"{main}: cannot be read ({exc.strerror or exc})"
        with contextlib.ExitStack() as locked:
            with contextlib.suppress(OSError):  # a folder we cannot write: recover unlocked
                locked.enter_context(document_lock(folder / LOCK_NAME))  # no save meanwhile
            if main.exists():  # maybe a writer has just written it
                with contextlib.suppress(AnnotationFileError, OSError):
                    return self._opened(study_uid, _read(main), main)
            return self._recover(study_uid, main, backup, problem, damaged)

    def _recover(
        self, study_uid: str, main: Path, backup: Path, problem: str, damaged: bool
    ) -> LoadResult:
        """Load the backup (the main file is ``damaged``, missing or unreadable)."""
        try:
            doc = _read(backup)
        except FileNotFoundError:
            raise AnnotationFileError(str(main), f"{problem}; there is no backup") from None
        except (AnnotationFileError, OSError) as exc:
            raise AnnotationFileError(
                str(main), f"{problem}; the backup is unusable too ({exc})"
            ) from exc
        _check_study(doc, study_uid, backup)
        warnings = [problem]
        if damaged:
            with contextlib.suppress(OSError):
                warnings.append(f"the damaged file was kept as {_move_aside(main).name}")
        warnings.append(
            f"loaded the backup {backup.name} (the version before the last save): the last "
            f"edit may be missing"
        )
        if not main.exists():  # never over a file that is merely unreadable now
            with contextlib.suppress(OSError):
                write_atomic(main, backup.read_bytes())
                warnings.append(f"restored {main.name} from the backup")
        self.index.record(doc)
        return self._opened(study_uid, doc, backup, tuple(warnings))

    def _opened(
        self,
        study_uid: str,
        doc: AnnotationDocument,
        path: Path,
        warnings: tuple[str, ...] = (),
    ) -> LoadResult:
        _check_study(doc, study_uid, path)
        self._open[study_uid] = doc
        return LoadResult(doc, path, warnings)

    # -- the worklist -----------------------------------------------------------------------------

    def studies(self, status: StatusFilter = None) -> list[StudyEntry]:
        """The worklist: every study (or those with the given review status), in order."""
        return self.index.studies(status)

    def next_study(self, current_uid: str | None, status: StatusFilter = None) -> StudyEntry | None:
        """The study after ``current_uid`` in worklist order (see WorklistIndex.next_study)."""
        return self.index.next_study(current_uid, status)

    def previous_study(
        self, current_uid: str | None, status: StatusFilter = None
    ) -> StudyEntry | None:
        """The study before ``current_uid`` in worklist order."""
        return self.index.previous_study(current_uid, status)

    def set_status(self, study_uid: str, status: ReviewStatus | str) -> AnnotationDocument:
        """Set a study's review status in its document (the open one, if this workspace loaded
        or saved it and it is still alive) and save; KeyError when the study has no document."""
        doc = self._open.get(study_uid)
        if doc is None:
            loaded = self.load(study_uid)
            if loaded is None:
                raise KeyError(f"study {study_uid} has no annotation document in {self._root}")
            doc = loaded.document
        doc.review_status = ReviewStatus(status)
        self.save(doc)
        return doc

    def rebuild_index(self) -> list[str]:
        """Refill the index from the documents on disk; return the problems met."""
        problems: list[str] = []
        self.index.clear()
        studies = self._root / "studies"
        for folder in sorted(studies.iterdir()) if studies.is_dir() else ():
            errors: list[str] = []
            uid = None
            for name in (DOCUMENT_NAME, BACKUP_NAME):
                try:
                    uid = _read(folder / name).study_uid
                    break
                except FileNotFoundError:
                    continue
                except (AnnotationFileError, OSError) as exc:
                    errors.append(str(exc))
            if uid is None:
                problems.extend(errors)
                continue
            try:
                loaded = self.load(uid)
            except (AnnotationFileError, WorkspaceError, OSError) as exc:
                problems.append(str(exc))
                continue
            if loaded is not None:
                problems.extend(loaded.warnings)
                self.index.record(loaded.document)
        return problems


class Autosaver:
    """Saves the stack's document after every change (synchronously: the file is small), so a
    crash loses at most the edit in progress.

    A new study becomes ``in_progress`` at its first edit (``mark_in_progress``). Save errors
    go to ``on_error`` when given (the GUI shows them; editing goes on), else they propagate
    from the push/undo/redo that caused them, after the document changed. A save that merged
    another writer's changes (or met a damaged file) goes to ``on_merged`` with its notices:
    the document has changed in place and its viewer must show it again and tell the user.
    """

    def __init__(
        self,
        workspace: Workspace,
        stack: UndoStack,
        on_error: Callable[[Exception], None] | None = None,
        mark_in_progress: bool = True,
        on_merged: Callable[[SaveResult], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.stack = stack
        self.on_error = on_error
        self.on_merged = on_merged
        #: What the last successful save wrote and merged.
        self.last_result: SaveResult | None = None
        self.mark_in_progress = mark_in_progress
        #: Number of successful saves, and the error of the last failed one (None after success).
        self.saves = 0
        self.last_error: Exception | None = None
        stack.subscribe(self._changed)

    def _changed(self, command: Command, done: bool) -> None:
        doc = self.stack.document
        if self.mark_in_progress and doc.review_status == ReviewStatus.NEW:
            doc.review_status = ReviewStatus.IN_PROGRESS
        self.save_now()

    def save_now(self) -> None:
        """Save the document now."""
        try:
            result = self.workspace.commit(self.stack.document)
        except (OSError, sqlite3.Error, WorkspaceError, ValueError) as exc:
            self.last_error = exc
            if self.on_error is None:
                raise
            self.on_error(exc)
        else:
            self.saves += 1
            self.last_error = None
            self.last_result = result
            if self.on_merged is not None and (result.merged or result.notices):
                self.on_merged(result)

    def close(self) -> None:
        """Stop saving."""
        self.stack.unsubscribe(self._changed)
