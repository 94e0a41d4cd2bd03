"""The per-study annotation document: the study, its annotations in order, review progress.

A document is the unit that is saved (one JSON file per study, see :mod:`.store`) and the
target of every undoable edit (:mod:`.commands`). Its JSON form is versioned::

    {"format": "spineviewer-annotations", "schema_version": 1,
     "study": {...}, "author": ..., "review_status": ..., "modified": ...,
     "generation": 3, "calibrations": [{...}], "annotations": [{...}, ...]}

``calibrations`` (present only when a series has one) holds each series' known-length
calibration (:mod:`.calibration`); ``impression`` (present only when written) the reader's
conclusion, ``{"text", "author", "created"}`` (:mod:`.impression`).

``resources/schemas/annotations-v1.schema.json`` describes it. Readers accept unknown keys
(additions within the same major version) and refuse a newer major version.

``generation`` counts the saves of the file (each save writes one more than the newest it
found on disk); it is written from the first save on, and a file without it (written before
generations existed, or never saved) reads as generation 0. A document remembers the version
it last read or wrote (:attr:`AnnotationDocument.base`), the common ancestor from which the
store merges another writer's newer file (:mod:`.merge`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from spineviewer.annotations.annotation import Annotation, Status, default_author
from spineviewer.annotations.calibration import Calibration
from spineviewer.annotations.errors import AnnotationFileError
from spineviewer.annotations.impression import Impression
from spineviewer.annotations.merge import Version

FORMAT = "spineviewer-annotations"
#: Major version of the file format this code writes and reads.
SCHEMA_VERSION = 1


class ReviewStatus(StrEnum):
    """How far the reading of a study has got (the worklist column)."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class AnnotationDocument:
    """One study's annotations, ordered (drawing order), with the study and review details.

    Patient id and name are optional and kept exactly as given (None stays None). Every
    annotation must belong to ``study_uid``; uids are unique.
    """

    schema_version: ClassVar[int] = SCHEMA_VERSION

    def __init__(
        self,
        study_uid: str,
        *,
        patient_id: str | None = None,
        patient_name: str | None = None,
        study_date: str = "",
        study_description: str = "",
        source_paths: Iterable[str | Path] = (),
        author: str | None = None,
        review_status: ReviewStatus | str = ReviewStatus.NEW,
        modified: str = "",
        annotations: Iterable[Annotation] = (),
        generation: int = 0,
        calibrations: Iterable[Calibration] = (),
        impression: Impression | None = None,
    ) -> None:
        if not study_uid:
            raise ValueError("an annotation document needs a study UID")
        self._study_uid = study_uid
        self.patient_id = patient_id
        self.patient_name = patient_name
        self.study_date = study_date
        self.study_description = study_description
        #: Where the images were opened from (files or folders), for the worklist.
        self.source_paths: tuple[str, ...] = tuple(str(p) for p in source_paths)
        #: The current annotator (new annotations are made in this name).
        self.author = default_author() if author is None else author
        self.review_status = ReviewStatus(review_status)
        #: ISO time of the last save ("" before the first).
        self.modified = modified
        #: The generation of the file this document was last read from or written to (0:
        #: none, or a file written before generations existed).
        self.generation = _generation(generation)
        #: The content at :attr:`generation` (the base of the next merge); None until the
        #: document is read from or written to a file (until then the empty document is its
        #: base). Neither this nor :attr:`generation` takes part in ``==``.
        self.base: Version | None = None
        #: Each calibrated series' known-length calibration, by SeriesInstanceUID (changed
        #: through the undo stack: :mod:`.calibration_edits`).
        self.calibrations: dict[str, Calibration] = {c.series_uid: c for c in calibrations}
        #: The reader's impression of the study, None before one is written (changed through
        #: the undo stack: :mod:`.impression_edits`).
        self.impression: Impression | None = impression
        self._items: dict[str, Annotation] = {}
        self._by_image: dict[tuple[str, int], tuple[Annotation, ...]] | None = None
        for annotation in annotations:
            self.add(annotation)

    @property
    def study_uid(self) -> str:
        """The study this document belongs to (its key; fixed)."""
        return self._study_uid

    # -- the ordered mapping ------------------------------------------------------------------

    def add(self, annotation: Annotation, position: int | None = None) -> None:
        """Add ``annotation`` at ``position`` in drawing order (default: last, on top).

        Raises ValueError for a uid already present or an image of another study.
        """
        if annotation.uid in self._items:
            raise ValueError(f"annotation {annotation.uid} is already in the document")
        if annotation.image.study_uid != self._study_uid:
            raise ValueError(
                f"annotation {annotation.uid} is on study {annotation.image.study_uid}, "
                f"not {self._study_uid}"
            )
        if position is None or position >= len(self._items):
            self._items[annotation.uid] = annotation
        else:
            items = list(self._items.items())
            items.insert(max(position, 0), (annotation.uid, annotation))
            self._items = dict(items)
        self._by_image = None

    def remove(self, uid: str) -> Annotation:
        """Remove and return the annotation ``uid`` (KeyError when absent)."""
        annotation = self._items.pop(uid)
        self._by_image = None
        return annotation

    def replace(self, annotation: Annotation) -> Annotation:
        """Put ``annotation`` in place of the one with its uid (same position); return the old.

        Raises KeyError when the uid is absent, ValueError for an image of another study.
        """
        old = self._items[annotation.uid]
        if annotation.image.study_uid != self._study_uid:
            raise ValueError(f"annotation {annotation.uid} moved to another study")
        self._items[annotation.uid] = annotation
        self._by_image = None
        return old

    def get(self, uid: str) -> Annotation | None:
        """The annotation ``uid``, None when absent."""
        return self._items.get(uid)

    def __getitem__(self, uid: str) -> Annotation:
        return self._items[uid]

    def __contains__(self, uid: object) -> bool:
        return uid in self._items

    def __iter__(self) -> Iterator[Annotation]:
        return iter(tuple(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def index_of(self, uid: str) -> int:
        """Position of ``uid`` in drawing order (KeyError when absent)."""
        for i, key in enumerate(self._items):
            if key == uid:
                return i
        raise KeyError(uid)

    def uids(self) -> tuple[str, ...]:
        """All uids in drawing order."""
        return tuple(self._items)

    # -- queries --------------------------------------------------------------------------------

    def on_image(self, sop_instance_uid: str, frame_number: int = 1) -> tuple[Annotation, ...]:
        """The annotations drawn on one frame, in drawing order (cached until the next edit)."""
        if self._by_image is None:
            groups: dict[tuple[str, int], list[Annotation]] = {}
            for a in self._items.values():
                key = (a.image.sop_instance_uid, a.image.frame_number)
                groups.setdefault(key, []).append(a)
            self._by_image = {k: tuple(v) for k, v in groups.items()}
        return self._by_image.get((sop_instance_uid, frame_number), ())

    def proposed(self) -> tuple[Annotation, ...]:
        """Model proposals still waiting for review."""
        return tuple(a for a in self._items.values() if a.status == Status.PROPOSED)

    def counts(self) -> dict[Status, int]:
        """Number of annotations in each review state (every state present, maybe 0)."""
        found = Counter(a.status for a in self._items.values())
        return {status: found.get(status, 0) for status in Status}

    # -- versions (for merging another writer's file, see :mod:`.merge`) ------------------------

    def version(self) -> Version:
        """The current content: the merged fields and the annotations in drawing order."""
        return Version(
            {
                "patient_id": self.patient_id,
                "patient_name": self.patient_name,
                "study_date": self.study_date,
                "study_description": self.study_description,
                "source_paths": self.source_paths,
                "author": self.author,
                "review_status": self.review_status,
                "calibrations": self._calibration_values(),
                "impression": self.impression,
            },
            tuple(self._items.values()),
        )

    def _calibration_values(self) -> tuple[Calibration, ...]:
        return tuple(self.calibrations[uid] for uid in sorted(self.calibrations))

    def base_version(self) -> Version:
        """:attr:`base`, or for a document never read nor written the empty document (no
        annotations, the fields of a new document, this author)."""
        if self.base is not None:
            return self.base
        return AnnotationDocument(self._study_uid, author=self.author).version()

    def mark_saved(self, generation: int) -> None:
        """Record that the file now holds this content at ``generation`` (the next base)."""
        self.generation = _generation(generation)
        self.base = self.version()

    def set_version(self, version: Version) -> None:
        """Take ``version``'s fields and annotations in place (a merge's result); the objects
        holding this document (undo stack, viewer) see the change."""
        fields = version.fields
        self.patient_id = _opt_str(fields.get("patient_id", self.patient_id))
        self.patient_name = _opt_str(fields.get("patient_name", self.patient_name))
        self.study_date = str(fields.get("study_date", self.study_date))
        self.study_description = str(fields.get("study_description", self.study_description))
        paths = fields.get("source_paths", self.source_paths)
        self.source_paths = tuple(str(p) for p in paths) if isinstance(paths, tuple) else ()
        self.author = str(fields.get("author", self.author))
        self.review_status = ReviewStatus(str(fields.get("review_status", self.review_status)))
        calibrations = fields.get("calibrations", self._calibration_values())
        if isinstance(calibrations, tuple):
            self.calibrations = {c.series_uid: c for c in calibrations}
        impression = fields.get("impression", self.impression)
        self.impression = impression if isinstance(impression, Impression) else None
        items: dict[str, Annotation] = {}
        for a in version.annotations:
            if a.image.study_uid != self._study_uid:
                raise ValueError(f"annotation {a.uid} is on study {a.image.study_uid}")
            if a.uid in items:
                raise ValueError(f"annotation {a.uid} appears twice")
            items[a.uid] = a
        self._items = items
        self._by_image = None

    def with_version(self, version: Version, generation: int) -> AnnotationDocument:
        """A new document of this study holding ``version`` at ``generation`` (this one
        unchanged): what a save writes before the merged content is taken in place."""
        doc = AnnotationDocument(self._study_uid, modified=self.modified, generation=generation)
        doc.set_version(version)
        return doc

    # -- comparison -------------------------------------------------------------------------------

    def _key(self) -> tuple[Any, ...]:
        return (
            self._study_uid,
            self.patient_id,
            self.patient_name,
            self.study_date,
            self.study_description,
            self.source_paths,
            self.author,
            self.review_status,
            self.modified,
            self._calibration_values(),
            self.impression,
            tuple(self._items.values()),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AnnotationDocument):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"AnnotationDocument({self._study_uid!r}, {len(self)} annotations, "
            f"{self.review_status.value})"
        )

    # -- JSON -----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (see the module docstring)."""
        return {**self._header(), "annotations": [a.to_dict() for a in self._items.values()]}

    def _header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "study": {
                "study_uid": self._study_uid,
                "patient_id": self.patient_id,
                "patient_name": self.patient_name,
                "study_date": self.study_date,
                "study_description": self.study_description,
                "source_paths": list(self.source_paths),
            },
            "author": self.author,
            "review_status": self.review_status.value,
            "modified": self.modified,
            # from the first save on (a never-saved document's JSON is as before generations)
            **({"generation": self.generation} if self.generation else {}),
            **(
                {"calibrations": [c.to_dict() for c in self._calibration_values()]}
                if self.calibrations
                else {}
            ),
            **({"impression": self.impression.to_dict()} if self.impression is not None else {}),
        }

    def to_json(self) -> str:
        """UTF-8 JSON text: the header indented, one annotation per line (readable diffs).

        Floats are written with ``repr`` precision, so coordinates read back exactly.
        Raises ValueError for a non-finite number (JSON has none).
        """
        head = _dumps(self._header(), indent=1)
        rows = [_dumps(a.to_dict()) for a in self._items.values()]
        body = "[\n  " + ",\n  ".join(rows) + "\n ]" if rows else "[]"
        return f'{head[:-2]},\n "annotations": {body}\n}}\n'

    @classmethod
    def from_json(cls, text: str | bytes, source_name: str = "<string>") -> AnnotationDocument:
        """Read :meth:`to_json` output; AnnotationFileError names ``source_name`` and why."""
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise AnnotationFileError(
                source_name, f"not valid JSON (truncated or damaged?): {exc}"
            ) from exc
        except UnicodeDecodeError as exc:
            raise AnnotationFileError(source_name, f"not UTF-8 text: {exc}") from exc
        except ValueError as exc:
            raise AnnotationFileError(source_name, str(exc)) from exc
        return cls.from_dict(data, source_name)

    @classmethod
    def from_dict(cls, data: Any, source_name: str = "<data>") -> AnnotationDocument:
        """Inverse of :meth:`to_dict`, checking the format, version and every annotation."""

        def fail(problem: str) -> AnnotationFileError:
            return AnnotationFileError(source_name, problem)

        if not isinstance(data, Mapping):
            raise fail("not a SpineViewer annotation file (the top level is not a JSON object)")
        if data.get("format") != FORMAT:
            raise fail(f"not a SpineViewer annotation file (format is {data.get('format')!r})")
        version = data.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise fail(f"schema_version {version!r} is not a positive integer")
        if version > SCHEMA_VERSION:
            raise fail(
                f"written by a newer SpineViewer (schema version {version}; this version reads "
                f"up to {SCHEMA_VERSION}); update SpineViewer to open it"
            )
        study = data.get("study")
        if not isinstance(study, Mapping):
            raise fail("the 'study' object is missing")
        rows = data.get("annotations")
        if not isinstance(rows, list):
            raise fail("the 'annotations' list is missing")
        try:
            doc = cls(
                _text(study, "study_uid"),
                patient_id=_optional_text(study, "patient_id"),
                patient_name=_optional_text(study, "patient_name"),
                study_date=_text(study, "study_date", ""),
                study_description=_text(study, "study_description", ""),
                source_paths=[str(p) for p in _list(study, "source_paths")],
                author=_text(data, "author", ""),
                review_status=ReviewStatus(data.get("review_status", ReviewStatus.NEW)),
                modified=_text(data, "modified", ""),
                generation=data.get("generation", 0),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise fail(f"bad study or review details: {_describe(exc)}") from exc
        try:
            calibration_rows = _list(data, "calibrations")
        except TypeError as exc:
            raise fail(str(exc)) from exc
        for i, row in enumerate(calibration_rows):
            try:
                if not isinstance(row, Mapping):
                    raise TypeError("not a JSON object")
                calibration = Calibration.from_dict(row)
            except (KeyError, TypeError, ValueError) as exc:
                raise fail(f"calibration {i + 1}: {_describe(exc)}") from exc
            doc.calibrations[calibration.series_uid] = calibration
        impression = data.get("impression")
        if impression is not None:
            try:
                if not isinstance(impression, Mapping):
                    raise TypeError("not a JSON object")
                doc.impression = Impression.from_dict(impression)
            except (KeyError, TypeError, ValueError) as exc:
                raise fail(f"impression: {_describe(exc)}") from exc
        for i, row in enumerate(rows):
            try:
                if not isinstance(row, Mapping):
                    raise TypeError("not a JSON object")
                doc.add(Annotation.from_dict(dict(row)))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                uid = row.get("uid") if isinstance(row, Mapping) else None
                which = f"annotation {i + 1}" + (f" ({uid})" if isinstance(uid, str) else "")
                raise fail(f"{which}: {_describe(exc)}") from exc
        doc.base = doc.version()
        return doc


def _generation(value: object) -> int:
    """A generation: a non-negative integer (ValueError / TypeError otherwise)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"generation {value!r} is not an integer")
    if value < 0:
        raise ValueError(f"generation {value} is negative")
    return value


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _text(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise KeyError(key)
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else _text(data, key)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key} is not a list")
    return value
