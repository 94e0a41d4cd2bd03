"""Problems with annotation files and the annotation workspace; messages name the file."""

from __future__ import annotations


class AnnotationFileError(ValueError):
    """An annotation file is malformed, truncated or from a newer SpineViewer.

    The message is ``"<source name>: <problem>"``, shown to the user as is.
    """

    def __init__(self, source_name: str, problem: str) -> None:
        super().__init__(f"{source_name}: {problem}")
        self.source_name = source_name
        self.problem = problem

    def __reduce__(self) -> tuple[type[AnnotationFileError], tuple[str, str]]:
        return type(self), (self.source_name, self.problem)


class WorkspaceError(Exception):
    """The annotation workspace cannot be used (placed inside the source images, newer index)."""
