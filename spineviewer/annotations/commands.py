"""Undoable edits of an :class:`AnnotationDocument`, and the one stack that runs them all.

Every change to a document goes through :meth:`UndoStack.push`, so undo/redo, repainting
and autosave see the same sequence. Annotations are immutable, so a command only swaps
values: :class:`AddAnnotations`, :class:`RemoveAnnotations`, :class:`ReplaceAnnotations`
(move, resize, vertex edit, relabel, accept, reject, shifting every level label: anything that
keeps the uid) and :class:`Compound` (several commands as one undo step). Commands check that
the document still holds what they expect and change nothing when it does not (ValueError /
KeyError).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from spineviewer.annotations.annotation import Annotation, Status
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.level_names import shift_mapping, shifted_label, step_name
from spineviewer.annotations.shapes import shape

#: Called after every change of the document: (the command, True when done/redone,
#: False when undone).
Listener = Callable[["Command", bool], None]


def describe(annotations: Sequence[Annotation]) -> str:
    """A short noun phrase for menu texts: "polygon", "3 points", "2 annotations"."""
    kinds = {a.kind for a in annotations}
    if len(kinds) != 1:
        return f"{len(annotations)} annotations"
    kind = kinds.pop()
    noun = shape(kind).name
    return noun if len(annotations) == 1 else f"{len(annotations)} {noun}s"


class Command(ABC):
    """One undoable edit. ``text`` names it in the Edit menu ("Move polygon")."""

    text: str

    @abstractmethod
    def redo(self, doc: AnnotationDocument) -> None:
        """Apply the edit (also the first time, from :meth:`UndoStack.push`)."""

    @abstractmethod
    def undo(self, doc: AnnotationDocument) -> None:
        """Revert the edit."""

    @property
    @abstractmethod
    def uids(self) -> frozenset[str]:
        """The annotations this command touches (to repaint only those)."""

    @property
    def is_empty(self) -> bool:
        """True when the command changes nothing (:meth:`UndoStack.push` ignores it)."""
        return not self.uids

    def merge_with(self, other: Command) -> bool:
        """Absorb ``other`` (already applied, pushed right after this one); True on success."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r}, {len(self.uids)} annotations)"


def _unique(annotations: Iterable[Annotation]) -> tuple[Annotation, ...]:
    items = tuple(annotations)
    if len({a.uid for a in items}) != len(items):
        raise ValueError("the same annotation appears twice in one command")
    return items


def _expect(doc: AnnotationDocument, annotations: Sequence[Annotation]) -> None:
    """Raise unless ``doc`` holds exactly these annotation values."""
    for a in annotations:
        current = doc.get(a.uid)
        if current is None:
            raise KeyError(f"annotation {a.uid} is not in the document")
        if current != a:
            raise ValueError(f"annotation {a.uid} changed since this command was made")


class AddAnnotations(Command):
    """New annotations, drawn on top of the others."""

    def __init__(self, annotations: Iterable[Annotation], text: str | None = None) -> None:
        self.annotations = _unique(annotations)
        self.text = text or f"Add {describe(self.annotations)}"

    @property
    def uids(self) -> frozenset[str]:
        return frozenset(a.uid for a in self.annotations)

    def redo(self, doc: AnnotationDocument) -> None:
        for a in self.annotations:
            if a.uid in doc:
                raise ValueError(f"annotation {a.uid} is already in the document")
            if a.image.study_uid != doc.study_uid:
                raise ValueError(f"annotation {a.uid} is on another study")
        for a in self.annotations:
            doc.add(a)

    def undo(self, doc: AnnotationDocument) -> None:
        _expect(doc, self.annotations)
        for a in self.annotations:
            doc.remove(a.uid)


class RemoveAnnotations(Command):
    """Deleted annotations; undo puts them back at their places in drawing order."""

    def __init__(self, annotations: Iterable[Annotation], text: str | None = None) -> None:
        self.annotations = _unique(annotations)
        self.text = text or f"Delete {describe(self.annotations)}"
        self._positions: list[tuple[int, Annotation]] = []

    @property
    def uids(self) -> frozenset[str]:
        return frozenset(a.uid for a in self.annotations)

    def redo(self, doc: AnnotationDocument) -> None:
        _expect(doc, self.annotations)
        self._positions = sorted(
            ((doc.index_of(a.uid), a) for a in self.annotations), key=lambda p: p[0]
        )
        for a in self.annotations:
            doc.remove(a.uid)

    def undo(self, doc: AnnotationDocument) -> None:
        for _, a in self._positions:
            if a.uid in doc:
                raise ValueError(f"annotation {a.uid} is already in the document")
        for position, a in self._positions:
            doc.add(a, position)


class ReplaceAnnotations(Command):
    """New values for existing annotations (same uids): ``before`` -> ``after``."""

    def __init__(
        self, before: Iterable[Annotation], after: Iterable[Annotation], text: str
    ) -> None:
        self.before = _unique(before)
        self.after = _unique(after)
        if [a.uid for a in self.before] != [a.uid for a in self.after]:
            raise ValueError("before and after must hold the same annotations in the same order")
        self.text = text

    @property
    def uids(self) -> frozenset[str]:
        return frozenset(a.uid for a in self.after)

    def redo(self, doc: AnnotationDocument) -> None:
        self._swap(doc, self.before, self.after)

    def undo(self, doc: AnnotationDocument) -> None:
        self._swap(doc, self.after, self.before)

    @staticmethod
    def _swap(
        doc: AnnotationDocument, old: Sequence[Annotation], new: Sequence[Annotation]
    ) -> None:
        _expect(doc, old)
        for a in new:
            doc.replace(a)

    def merge_with(self, other: Command) -> bool:
        """Merge the next step of the same edit (a drag): same text, same annotations, and
        ``other`` starts where this one ends."""
        if (
            not isinstance(other, ReplaceAnnotations)
            or other.text != self.text
            or other.before != self.after
        ):
            return False
        self.after = other.after
        return True


class Compound(Command):
    """Several commands as one undo step ("Accept all proposals", "Run model")."""

    def __init__(self, commands: Iterable[Command], text: str) -> None:
        self.commands = tuple(commands)
        self.text = text

    @property
    def uids(self) -> frozenset[str]:
        return frozenset().union(*(c.uids for c in self.commands))

    @property
    def is_empty(self) -> bool:
        return all(c.is_empty for c in self.commands)

    def redo(self, doc: AnnotationDocument) -> None:
        _run_all(doc, self.commands, forward=True)

    def undo(self, doc: AnnotationDocument) -> None:
        _run_all(doc, self.commands[::-1], forward=False)


def _run_all(doc: AnnotationDocument, commands: Sequence[Command], forward: bool) -> None:
    """Redo (or undo) ``commands`` in order; on failure revert those done and re-raise."""
    done: list[Command] = []
    try:
        for c in commands:
            c.redo(doc) if forward else c.undo(doc)
            done.append(c)
    except Exception:
        for c in reversed(done):
            c.undo(doc) if forward else c.redo(doc)
        raise


class UndoStack:
    """The undo history of one document; ``index`` commands are done, the rest can be redone.

    ``push`` runs a command and records it (dropping the redo history); listeners hear
    about every change. ``set_clean`` marks the current state (e.g. exported); ``limit``
    (0: none) caps the number of steps kept.
    """

    def __init__(self, document: AnnotationDocument, limit: int = 0) -> None:
        self._document = document
        self._commands: list[Command] = []
        self._index = 0
        self._clean: int | None = 0
        self._limit = limit
        self._listeners: list[Listener] = []
        self._macros: list[tuple[str, list[Command]]] = []

    @property
    def document(self) -> AnnotationDocument:
        return self._document

    # -- listeners --------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(command, done)`` after every change of the document."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener`` (no error when it is not subscribed)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, command: Command, done: bool) -> None:
        """Call every listener, then re-raise the first error any of them raised."""
        errors: list[Exception] = []
        for listener in list(self._listeners):
            try:
                listener(command, done)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    # -- editing ----------------------------------------------------------------------------------

    def push(self, command: Command, merge: bool = False) -> bool:
        """Run ``command`` and record it; False (nothing done) for an empty command.

        With ``merge`` the command may fold into the previous one (a drag's small moves
        become one undo step), unless the previous one is the clean state.
        """
        if command.is_empty:
            return False
        command.redo(self._document)
        if self._macros:
            children = self._macros[-1][1]
            if not (merge and children and children[-1].merge_with(command)):
                children.append(command)
        else:
            self._record(command, merge)
        self._notify(command, True)
        return True

    def _record(self, command: Command, merge: bool) -> None:
        del self._commands[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None
        top = self._commands[-1] if self._commands else None
        if merge and top is not None and self._clean != self._index and top.merge_with(command):
            return
        self._commands.append(command)
        self._index += 1
        if self._limit and len(self._commands) > self._limit:
            del self._commands[0]
            self._index -= 1
            if self._clean is not None:
                self._clean = self._clean - 1 if self._clean > 0 else None

    @contextmanager
    def macro(self, text: str) -> Iterator[None]:
        """Record the commands pushed inside the ``with`` block as one step named ``text``.

        Each runs (and is announced) at once; on an exception they are undone and the
        exception goes on.
        """
        self._macros.append((text, []))
        try:
            yield
        except BaseException:
            _, children = self._macros.pop()
            for c in reversed(children):
                c.undo(self._document)
                self._notify(c, False)
            raise
        _, children = self._macros.pop()
        if not children:
            return
        compound = children[0] if len(children) == 1 else Compound(children, text)
        compound.text = text
        if self._macros:
            self._macros[-1][1].append(compound)
        else:
            self._record(compound, merge=False)

    def undo(self) -> Command | None:
        """Undo the last done command; None when there is none."""
        self._check_no_macro()
        if not self.can_undo:
            return None
        command = self._commands[self._index - 1]
        command.undo(self._document)
        self._index -= 1
        self._notify(command, False)
        return command

    def redo(self) -> Command | None:
        """Redo the next undone command; None when there is none."""
        self._check_no_macro()
        if not self.can_redo:
            return None
        command = self._commands[self._index]
        command.redo(self._document)
        self._index += 1
        self._notify(command, True)
        return command

    def _check_no_macro(self) -> None:
        if self._macros:
            raise RuntimeError("cannot undo or redo inside a macro")

    def clear(self) -> None:
        """Forget the history (the document is unchanged); the current state is clean."""
        self._check_no_macro()
        self._commands.clear()
        self._index = 0
        self._clean = 0

    # -- state ------------------------------------------------------------------------------------

    @property
    def index(self) -> int:
        """Number of done commands (the position in the history)."""
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def undo_command(self) -> Command | None:
        return self._commands[self._index - 1] if self.can_undo else None

    @property
    def redo_command(self) -> Command | None:
        return self._commands[self._index] if self.can_redo else None

    @property
    def undo_text(self) -> str:
        """The Undo menu item: "Undo Move polygon" (just "Undo" when there is nothing)."""
        return f"Undo {self._commands[self._index - 1].text}" if self.can_undo else "Undo"

    @property
    def redo_text(self) -> str:
        """The Redo menu item: "Redo Move polygon" (just "Redo" when there is nothing)."""
        return f"Redo {self._commands[self._index].text}" if self.can_redo else "Redo"

    @property
    def clean_index(self) -> int | None:
        """The index marked clean; None when that state can no longer be reached."""
        return self._clean

    @property
    def is_clean(self) -> bool:
        return self._clean == self._index

    def set_clean(self) -> None:
        """Mark the current state as clean (saved, exported)."""
        self._clean = self._index


# -- commands made from the document's current values ---------------------------------------


def change(doc: AnnotationDocument, after: Iterable[Annotation], text: str) -> ReplaceAnnotations:
    """Replace annotations by new values with the same uids ("Move polygon", "Relabel")."""
    new = tuple(after)
    return ReplaceAnnotations([doc[a.uid] for a in new], new, text)


def delete(
    doc: AnnotationDocument, uids: Iterable[str], text: str | None = None
) -> RemoveAnnotations:
    """Delete the annotations ``uids`` (KeyError for an unknown uid)."""
    return RemoveAnnotations([doc[uid] for uid in uids], text)


def change_status(
    doc: AnnotationDocument, uids: Iterable[str], status: Status, verb: str
) -> ReplaceAnnotations:
    """Give ``uids`` the review ``status``; those already there are left out (maybe all:
    then the command is empty and :meth:`UndoStack.push` ignores it)."""
    status = Status(status)
    same = {status, Status.EDITED} if status == Status.ACCEPTED else {status}
    before = [a for a in (doc[uid] for uid in uids) if a.status not in same]
    return ReplaceAnnotations(
        before, [a.with_status(status) for a in before], f"{verb} {describe(before)}"
    )


def accept(doc: AnnotationDocument, uids: Iterable[str]) -> ReplaceAnnotations:
    """Accept proposals (or rejected marks); edited ones already count as accepted."""
    return change_status(doc, uids, Status.ACCEPTED, "Accept")


def reject(doc: AnnotationDocument, uids: Iterable[str]) -> ReplaceAnnotations:
    """Reject annotations (kept in the file, hidden from exports)."""
    return change_status(doc, uids, Status.REJECTED, "Reject")


def accept_all_proposals(doc: AnnotationDocument) -> ReplaceAnnotations:
    """Accept every pending proposal as one step."""
    command = accept(doc, [a.uid for a in doc.proposed()])
    command.text = "Accept all proposals"
    return command


def reject_all_proposals(doc: AnnotationDocument) -> ReplaceAnnotations:
    """Reject every pending proposal as one step."""
    command = reject(doc, [a.uid for a in doc.proposed()])
    command.text = "Reject all proposals"
    return command


def run_model(doc: AnnotationDocument, proposals: Iterable[Annotation], text: str) -> Compound:
    """New model proposals as one undo step; the proposals an earlier run of the same models
    left unreviewed go (accepted, edited and rejected ones stay: a person decided on them)."""
    new = tuple(proposals)
    models = {a.provenance.model_id for a in new}
    stale = [
        a.uid
        for a in doc
        if a.provenance.is_model and a.status == Status.PROPOSED and a.provenance.model_id in models
    ]
    return Compound([RemoveAnnotations([doc[u] for u in stale]), AddAnnotations(new)], text)


def shift_levels(doc: AnnotationDocument, step: int) -> ReplaceAnnotations:
    """Every vertebra label and disc level of the study one level up (``step`` -1: L3 -> L2)
    or down (+1), as one undo step; the rules are :func:`.levels.shift_mapping`'s (down, S1
    stays and L5 becomes L6). Rejected marks keep their names; proposals stay proposals.

    Raises :class:`~.levels.ShiftError` (a ValueError naming the label) when the labels cannot
    move that way; the document is unchanged then.
    """
    marks = [a for a in doc if a.label and a.status != Status.REJECTED]
    mapping = shift_mapping((a.label for a in marks), step)
    before = [a for a in marks if shifted_label(a.label, mapping) != a.label]
    after = [a.renamed(shifted_label(a.label, mapping)) for a in before]
    return ReplaceAnnotations(before, after, f"Shift labels {step_name(step)} one level")
