"""Three-way merge of one study's annotation document: nothing another writer saved is lost.

Two writers of one study (a viewer's autosave, ``spineviewer annotations import``, a second
viewer) each hold the version they last read or wrote, their *base*. When a writer finds a
newer version on disk (*theirs*), it merges its own (*ours*) with it:

- an annotation (by uid) changed on one side only since the base takes that side's value
  (added, edited or deleted); the same change on both sides is no conflict;
- an annotation changed on both sides, differently, is a **conflict**: ours stays under its
  uid, and theirs is kept beside it as a copy with a new uid whose note (``text``) says it is
  the other writer's version (:data:`OTHER_VERSION`);
- deleted on one side and edited on the other is a conflict too: the edited one stays;
- added on both sides with the same uid but different values: ours stays, theirs is copied;
- document fields (review status, patient details, ...) follow the same rule, ours winning a
  conflict (reported); ``source_paths`` is always the union.

Every conflict is returned (:attr:`Merged.conflicts`) and described in words
(:meth:`Merged.notices`) so the user is told. Pure and Qt-free: the store
(:mod:`.store`) reads, merges and writes under a lock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from spineviewer.annotations.annotation import Annotation

#: The note that starts the text of a conflict copy.
OTHER_VERSION = "Other writer's version"
#: Namespace of the copies' uids (a copy's uid depends only on the value copied: merging the
#: same conflict twice never makes two copies).
_COPY_NAMESPACE = uuid.UUID("6f1c2a52-58b7-4d7e-9b1a-3f0e5c9d2a10")
#: Document fields whose values are tuples merged as ordered unions.
UNION_FIELDS = frozenset({"source_paths"})


@dataclass(frozen=True)
class Version:
    """One side of a merge: the document's fields and its annotations in drawing order."""

    #: Field name -> value (comparable with ``==``); the same names on every side.
    fields: Mapping[str, object]
    annotations: tuple[Annotation, ...] = ()

    def by_uid(self) -> dict[str, Annotation]:
        return {a.uid: a for a in self.annotations}


class ChangeKind(StrEnum):
    """What the other writer did to one annotation, as taken into ours."""

    ADDED = "added"
    CHANGED = "changed"
    DELETED = "deleted"


class ConflictKind(StrEnum):
    """How one annotation was changed on both sides."""

    #: Edited on both sides: ours kept, theirs copied beside it.
    BOTH_EDITED = "both edited"
    #: Added on both sides with one uid but different values: ours kept, theirs copied.
    BOTH_ADDED = "both added"
    #: Deleted here, edited by the other writer: their edited one is kept.
    DELETED_HERE = "deleted here, edited there"
    #: Edited here, deleted by the other writer: ours is kept.
    DELETED_THERE = "edited here, deleted there"


@dataclass(frozen=True)
class Change:
    """One of the other writer's changes taken without conflict."""

    uid: str
    kind: ChangeKind


@dataclass(frozen=True)
class Conflict:
    """One annotation changed on both sides; ``copy_uid`` names the copy of theirs (if any)."""

    uid: str
    kind: ConflictKind
    #: Short description of the annotation ("L4 rectangle").
    what: str
    copy_uid: str | None = None


@dataclass(frozen=True)
class FieldConflict:
    """A document field set differently on both sides (ours kept)."""

    name: str
    ours: object
    theirs: object


@dataclass(frozen=True)
class Merged:
    """The merged version and what happened on the way."""

    version: Version
    #: The other writer's changes taken without conflict.
    taken: tuple[Change, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    field_conflicts: tuple[FieldConflict, ...] = ()
    #: Fields whose values came from the other writer (or were united with theirs).
    fields_taken: tuple[str, ...] = field(default=())

    @property
    def took_theirs(self) -> bool:
        """True when the merge changed ours (anything of theirs taken, or a conflict)."""
        return bool(self.taken or self.conflicts or self.fields_taken)

    def notices(self, other: str = "another writer") -> list[str]:
        """Sentences for the user: what was merged from ``other`` and every conflict."""
        lines: list[str] = []
        counts = {k: sum(1 for c in self.taken if c.kind == k) for k in ChangeKind}
        parts = [f"{n} {k.value}" for k, n in counts.items() if n]
        if parts:
            lines.append(f"Merged the changes {other} saved: {', '.join(parts)}.")
        elif self.fields_taken:
            lines.append(f"Merged the study details {other} saved.")
        for c in self.conflicts:
            if c.kind in (ConflictKind.BOTH_EDITED, ConflictKind.BOTH_ADDED):
                lines.append(
                    f"Conflict: the {c.what} was changed here and by {other}; yours is kept, "
                    f"theirs is kept beside it as a copy marked '{OTHER_VERSION}'."
                )
            elif c.kind == ConflictKind.DELETED_HERE:
                lines.append(
                    f"Conflict: the {c.what} you deleted was edited by {other}; "
                    f"the edited one is kept."
                )
            else:
                lines.append(
                    f"Conflict: the {c.what} you edited was deleted by {other}; yours is kept."
                )
        for f in self.field_conflicts:
            name = f.name.replace("_", " ")
            lines.append(
                f"Conflict: {name} was set to {_show(f.ours)} here and to {_show(f.theirs)} by "
                f"{other}; {_show(f.ours)} is kept."
            )
        return lines


def _show(value: object) -> str:
    text = getattr(value, "value", value)
    return repr(text) if isinstance(text, str) else str(text)


def describe(annotation: Annotation) -> str:
    """ "L4 rectangle", "point" : how a notice names an annotation."""
    kind = annotation.kind.value
    return f"{annotation.label} {kind}" if annotation.label else kind


def conflict_copy(annotation: Annotation) -> Annotation:
    """Theirs kept beside ours: a new uid (a function of the value) and a note saying whose."""
    payload = json.dumps(annotation.to_dict(), sort_keys=True, ensure_ascii=False)
    uid = uuid.uuid5(_COPY_NAMESPACE, payload).hex
    note = f"{OTHER_VERSION} of {annotation.uid}"
    if annotation.provenance.author:
        note += f" ({annotation.provenance.author})"
    text = f"{note}: {annotation.text}" if annotation.text else note
    return replace(annotation, uid=uid, text=text)


def _merge_fields(
    base: Mapping[str, object], ours: Mapping[str, object], theirs: Mapping[str, object]
) -> tuple[dict[str, object], list[str], list[FieldConflict]]:
    merged: dict[str, object] = {}
    taken: list[str] = []
    conflicts: list[FieldConflict] = []
    for name, mine in ours.items():
        other = theirs.get(name, mine)
        before = base.get(name, mine)
        if name in UNION_FIELDS and isinstance(mine, tuple) and isinstance(other, tuple):
            united = tuple(dict.fromkeys([*mine, *other]))
            merged[name] = united
            if united != mine:
                taken.append(name)
        elif other in (mine, before):
            merged[name] = mine
        elif mine == before:
            merged[name] = other
            taken.append(name)
        else:
            merged[name] = mine
            conflicts.append(FieldConflict(name, mine, other))
    return merged, taken, conflicts


def merge(base: Version, ours: Version, theirs: Version) -> Merged:
    """Three-way merge of ``ours`` and ``theirs`` since their common ``base`` (module rules).

    The result keeps ours' drawing order; theirs' additions go after the annotation they
    follow in theirs' order (first when none), a conflict copy right after its original.
    """
    b, o, t = base.by_uid(), ours.by_uid(), theirs.by_uid()
    fields, fields_taken, field_conflicts = _merge_fields(base.fields, ours.fields, theirs.fields)
    kept: dict[str, Annotation] = {}
    copies: dict[str, Annotation] = {}
    taken: list[Change] = []
    conflicts: list[Conflict] = []
    for uid in dict.fromkeys([*o, *t, *b]):
        before, mine, other = b.get(uid), o.get(uid), t.get(uid)
        if mine == other or other == before:
            if mine is not None:
                kept[uid] = mine
        elif mine == before:  # changed there only
            if other is not None:
                kept[uid] = other
                kind = ChangeKind.ADDED if before is None else ChangeKind.CHANGED
            else:
                kind = ChangeKind.DELETED
            taken.append(Change(uid, kind))
        elif mine is None:  # deleted here, edited there: the edited one stays
            assert other is not None
            kept[uid] = other
            conflicts.append(Conflict(uid, ConflictKind.DELETED_HERE, describe(other)))
        elif other is None:  # edited here, deleted there
            kept[uid] = mine
            conflicts.append(Conflict(uid, ConflictKind.DELETED_THERE, describe(mine)))
        else:  # changed differently on both sides: theirs becomes a copy beside ours
            kept[uid] = mine
            copy = conflict_copy(other)
            if copy.uid not in o and copy.uid not in t:
                copies[uid] = copy
            both = ConflictKind.BOTH_ADDED if before is None else ConflictKind.BOTH_EDITED
            conflicts.append(Conflict(uid, both, describe(mine), copy.uid))
    order = _order(ours.annotations, theirs.annotations, kept)
    result: list[Annotation] = []
    for uid in order:
        result.append(kept[uid])
        if uid in copies:
            result.append(copies[uid])
    return Merged(
        Version(fields, tuple(result)),
        tuple(taken),
        tuple(conflicts),
        tuple(field_conflicts),
        tuple(fields_taken),
    )


def _order(
    ours: Sequence[Annotation], theirs: Sequence[Annotation], kept: Mapping[str, Annotation]
) -> list[str]:
    """Ours' order of the kept uids, with theirs' others inserted after their predecessor."""
    order = [a.uid for a in ours if a.uid in kept]
    placed = set(order)
    previous: str | None = None
    for a in theirs:
        if a.uid in kept and a.uid not in placed:
            at = order.index(previous) + 1 if previous is not None else 0
            order.insert(at, a.uid)
            placed.add(a.uid)
        if a.uid in placed:
            previous = a.uid
    return order
