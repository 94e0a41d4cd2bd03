"""The workspace's study index (SQLite): what the worklist shows, and next/previous study.

The index is a cache of the per-study JSON documents, refreshed on every save; it can be
rebuilt from them (:meth:`spineviewer.annotations.store.Workspace.rebuild_index`). The
schema version is ``PRAGMA user_version``; :data:`_MIGRATIONS` brings older files up to
date, a newer file is refused. The worklist order is (study date, study UID): stable, and
the same on every machine. The index holds patient names and IDs: it and its journal files
are readable by their owner only (0600; an older, more open file is tightened when opened).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spineviewer.annotations.annotation import Status
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.errors import WorkspaceError

#: Statements taking the index from version i to version i + 1.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE studies (
            study_uid TEXT PRIMARY KEY,
            patient_id TEXT,
            patient_name TEXT,
            study_date TEXT NOT NULL DEFAULT '',
            study_description TEXT NOT NULL DEFAULT '',
            source_paths TEXT NOT NULL DEFAULT '[]',
            review_status TEXT NOT NULL DEFAULT 'new'
                CHECK (review_status IN ('new', 'in_progress', 'done')),
            annotator TEXT NOT NULL DEFAULT '',
            n_total INTEGER NOT NULL DEFAULT 0,
            n_proposed INTEGER NOT NULL DEFAULT 0,
            n_accepted INTEGER NOT NULL DEFAULT 0,
            n_rejected INTEGER NOT NULL DEFAULT 0,
            modified TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX studies_order ON studies (study_date, study_uid)",
    ),
)
#: The index schema version this code writes.
INDEX_VERSION = len(_MIGRATIONS)

_COLUMNS = (
    "study_uid, patient_id, patient_name, study_date, study_description, source_paths, "
    "review_status, annotator, n_total, n_proposed, n_accepted, n_rejected, modified"
)
_ORDER = ("study_date", "study_uid")

StatusFilter = ReviewStatus | str | Iterable[ReviewStatus | str] | None


@dataclass(frozen=True)
class StudyEntry:
    """One worklist row. ``accepted`` counts edited proposals too (a human accepted them)."""

    study_uid: str
    patient_id: str | None
    patient_name: str | None
    study_date: str
    study_description: str
    source_paths: tuple[str, ...]
    review_status: ReviewStatus
    annotator: str
    total: int
    proposed: int
    accepted: int
    rejected: int
    modified: str

    @classmethod
    def _from_row(cls, row: tuple[Any, ...]) -> StudyEntry:
        (uid, pid, name, date, desc, paths, status, annotator, *counts, modified) = row
        total, proposed, accepted, rejected = (int(n) for n in counts)
        return cls(
            uid,
            pid,
            name,
            date,
            desc,
            tuple(json.loads(paths)),
            ReviewStatus(status),
            annotator,
            total,
            proposed,
            accepted,
            rejected,
            modified,
        )


#: Mode of the index and its journal files: they hold patient names and IDs.
PRIVATE_MODE = 0o600
#: SQLite's companions of a database file (it creates them with the database file's mode).
_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private(path: Path) -> None:
    """Create the database file ``path`` readable by its owner only (0600) when it is missing;
    tighten an existing one (and its journal files) that others can read. SQLite gives the
    journal files it creates the database file's mode, so they stay private too. A file owned
    by someone else, or a file system without modes, is left as it is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except OSError:  # there already, or not creatable here: SQLite says what is wrong
        pass
    else:
        os.close(fd)  # an empty file is an empty SQLite database
    for name in (path, *(path.with_name(path.name + s) for s in _COMPANIONS)):
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                os.chmod(name, mode & 0o700)


def _statuses(status: StatusFilter) -> tuple[str, ...] | None:
    if status is None:
        return None
    if isinstance(status, str):
        return (ReviewStatus(status).value,)
    return tuple(ReviewStatus(s).value for s in status)


class WorklistIndex:
    """The studies of a workspace in ``index.sqlite`` (WAL journal)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        make_private(path)
        self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > INDEX_VERSION:
                raise WorkspaceError(
                    f"{self.path}: written by a newer SpineViewer (index version {version}; "
                    f"this version knows up to {INDEX_VERSION})"
                )
            for statements in _MIGRATIONS[version:]:
                for sql in statements:
                    self._db.execute(sql)
            self._db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    # -- writing ----------------------------------------------------------------------------------

    def record(self, doc: AnnotationDocument) -> None:
        """Insert or refresh the row of ``doc`` (after it was saved)."""
        counts = doc.counts()
        values = (
            doc.study_uid,
            doc.patient_id,
            doc.patient_name,
            doc.study_date,
            doc.study_description,
            json.dumps(list(doc.source_paths), ensure_ascii=False),
            doc.review_status.value,
            doc.author,
            len(doc),
            counts[Status.PROPOSED],
            counts[Status.ACCEPTED] + counts[Status.EDITED],
            counts[Status.REJECTED],
            doc.modified,
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
        self._db.execute(
            f"INSERT INTO studies ({_COLUMNS}) VALUES ({', '.join('?' * len(values))}) "
            f"ON CONFLICT (study_uid) DO UPDATE SET {updates}",
            values,
        )

    def forget(self, study_uid: str) -> None:
        """Drop a study from the index (its files are untouched)."""
        self._db.execute("DELETE FROM studies WHERE study_uid = ?", (study_uid,))

    def clear(self) -> None:
        """Drop every row (before a rebuild)."""
        self._db.execute("DELETE FROM studies")

    # -- reading ----------------------------------------------------------------------------------

    def get(self, study_uid: str) -> StudyEntry | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM studies WHERE study_uid = ?", (study_uid,)
        ).fetchone()
        return None if row is None else StudyEntry._from_row(row)

    def studies(self, status: StatusFilter = None) -> list[StudyEntry]:
        """Studies in worklist order, only those with the given review status(es) if any."""
        return self._select(status, "", ())

    def next_study(self, current_uid: str | None, status: StatusFilter = None) -> StudyEntry | None:
        """The study after ``current_uid`` in worklist order (matching ``status``); None at the
        end. Without a current study (or one not in the index): the first."""
        return self._step(current_uid, status, forward=True)

    def previous_study(
        self, current_uid: str | None, status: StatusFilter = None
    ) -> StudyEntry | None:
        """The study before ``current_uid``; None at the start; the last without a current."""
        return self._step(current_uid, status, forward=False)

    def _step(
        self, current_uid: str | None, status: StatusFilter, forward: bool
    ) -> StudyEntry | None:
        current = self.get(current_uid) if current_uid is not None else None
        where = ""
        params: tuple[str, ...] = ()
        if current is not None:
            where = f"({', '.join(_ORDER)}) {'>' if forward else '<'} (?, ?)"
            params = (current.study_date, current.study_uid)
        rows = self._select(status, where, params, descending=not forward, limit=1)
        return rows[0] if rows else None

    def _select(
        self,
        status: StatusFilter,
        where: str,
        params: tuple[str, ...],
        descending: bool = False,
        limit: int | None = None,
    ) -> list[StudyEntry]:
        clauses = [where] if where else []
        wanted = _statuses(status)
        if wanted is not None:
            clauses.append(f"review_status IN ({', '.join('?' * len(wanted))})")
            params = (*params, *wanted)
        direction = " DESC" if descending else ""
        sql = (
            f"SELECT {_COLUMNS} FROM studies"
            + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
            + " ORDER BY "
            + ", ".join(c + direction for c in _ORDER)
            + (f" LIMIT {int(limit)}" if limit is not None else "")
        )
        return [StudyEntry._from_row(row) for row in self._db.execute(sql, params)]
