"""Writing, changing and clearing the impression of a study as one undoable edit.

:func:`set_impression` pushes a :class:`SetImpression` on the study's
:class:`~spineviewer.annotations.commands.UndoStack`, so Ctrl+Z / Ctrl+Y, the autosave and the
three-way merge of the workspace treat it like any other change.
"""

from __future__ import annotations

from spineviewer.annotations.commands import Command, UndoStack
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.impression import Impression, impression_text

__all__ = ["SetImpression", "set_impression"]


class SetImpression(Command):
    """The impression changed from ``before`` to ``after`` (either may be None)."""

    def __init__(self, before: Impression | None, after: Impression | None) -> None:
        self.before = before
        self.after = after
        self.text = "Edit the impression" if after is not None else "Clear the impression"

    @property
    def uids(self) -> frozenset[str]:
        """No annotation changes."""
        return frozenset()

    @property
    def is_empty(self) -> bool:
        return _text(self.before) == _text(self.after)

    def redo(self, doc: AnnotationDocument) -> None:
        self._swap(doc, self.before, self.after)

    def undo(self, doc: AnnotationDocument) -> None:
        self._swap(doc, self.after, self.before)

    @staticmethod
    def _swap(doc: AnnotationDocument, old: Impression | None, new: Impression | None) -> None:
        if doc.impression != old:
            raise ValueError("the impression changed meanwhile")
        doc.impression = new


def _text(impression: Impression | None) -> str:
    return impression.text if impression is not None else ""


def set_impression(stack: UndoStack, text: str, author: str | None = None) -> bool:
    """Make ``text`` the impression of ``stack``'s study (blank text clears it), written by
    ``author`` (default: the document's author) now: one undo step. False when the text is
    what it was (nothing pushed)."""
    doc = stack.document
    cleaned = impression_text(text)
    after = Impression(cleaned, doc.author if author is None else author) if cleaned else None
    return stack.push(SetImpression(doc.impression, after))
