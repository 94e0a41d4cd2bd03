"""PACS access without Qt: DIMSE (pynetdicom) and DICOMweb (dicomweb-client) nodes, query,
retrieve into the workspace and store back (SR, SEG, Encapsulated PDF reports)."""

from spineviewer.pacs.dimse import StoreResult
from spineviewer.pacs.errors import PacsCancelled, PacsError
from spineviewer.pacs.nodes import (
    DicomWebNode,
    DimseNode,
    LocalAE,
    Node,
    PacsConfig,
    config_path,
    load_config,
    save_config,
)
from spineviewer.pacs.query import Query, RetrieveResult, SeriesMatch, StudyMatch
from spineviewer.pacs.service import (
    RETRIEVE_METHODS,
    echo,
    find_series,
    find_studies,
    retrieve,
    store,
)
from spineviewer.pacs.storage import retrieve_root

__all__ = [
    "RETRIEVE_METHODS",
    "DicomWebNode",
    "DimseNode",
    "LocalAE",
    "Node",
    "PacsCancelled",
    "PacsConfig",
    "PacsError",
    "Query",
    "RetrieveResult",
    "SeriesMatch",
    "StoreResult",
    "StudyMatch",
    "config_path",
    "echo",
    "find_series",
    "find_studies",
    "load_config",
    "retrieve",
    "retrieve_root",
    "save_config",
    "store",
]
