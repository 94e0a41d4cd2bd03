"""The one error type of ``spineviewer.pacs``: a message a user can act on."""

from __future__ import annotations

__all__ = ["PacsCancelled", "PacsError"]


class PacsError(Exception):
    """A PACS operation failed; the message names the node and what to check."""


class PacsCancelled(PacsError):
    """The caller cancelled the operation."""
