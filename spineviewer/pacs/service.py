"""One entry point per operation whatever the node speaks: DIMSE nodes go through
:mod:`~spineviewer.pacs.dimse`, DICOMweb ones through :mod:`~spineviewer.pacs.dicomweb`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spineviewer.pacs import dicomweb, dimse
from spineviewer.pacs.dimse import StoreResult
from spineviewer.pacs.errors import PacsError
from spineviewer.pacs.nodes import DimseNode, LocalAE, Node
from spineviewer.pacs.query import (
    Cancelled,
    Progress,
    Query,
    RetrieveResult,
    SeriesMatch,
    StudyMatch,
)

__all__ = ["RETRIEVE_METHODS", "echo", "find_series", "find_studies", "retrieve", "store"]

#: How a study can be retrieved: C-GET and C-MOVE (DIMSE nodes), WADO-RS (DICOMweb nodes).
RETRIEVE_METHODS = ("get", "move", "wado")


def echo(node: Node, local: LocalAE | None = None) -> None:
    """C-ECHO or a QIDO-RS request: returns when the node answers, else PacsError."""
    if isinstance(node, DimseNode):
        dimse.echo(node, local)
    else:
        dicomweb.echo(node)


def find_studies(node: Node, query: Query, local: LocalAE | None = None) -> list[StudyMatch]:
    if isinstance(node, DimseNode):
        return dimse.find_studies(node, query, local)
    return dicomweb.find_studies(node, query)


def find_series(node: Node, study_uid: str, local: LocalAE | None = None) -> list[SeriesMatch]:
    if isinstance(node, DimseNode):
        return dimse.find_series(node, study_uid, local)
    return dicomweb.find_series(node, study_uid)


def retrieve(
    node: Node,
    study_uid: str,
    dest: str | Path,
    method: str = "",
    local: LocalAE | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RetrieveResult:
    """The study into ``dest/<study uid>/``; ``method`` '' picks C-GET or WADO-RS."""
    if isinstance(node, DimseNode):
        chosen = method or "get"
        if chosen not in ("get", "move"):
            raise PacsError(f"{node.label} is a DIMSE node: retrieve by get or move, not {chosen}")
        return dimse.retrieve(node, study_uid, dest, chosen, local,
                              progress=progress, cancelled=cancelled)  # fmt: skip
    if method not in ("", "wado"):
        raise PacsError(f"{node.label} is a DICOMweb node: retrieve by wado, not {method}")
    return dicomweb.retrieve(node, study_uid, dest, progress, cancelled)


def store(
    node: Node,
    files: Sequence[str | Path],
    local: LocalAE | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> StoreResult:
    """C-STORE or STOW-RS of ``files``."""
    if isinstance(node, DimseNode):
        return dimse.store(node, files, local, progress, cancelled)
    return dicomweb.store(node, files, progress, cancelled)
