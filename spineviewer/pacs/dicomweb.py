"""DICOMweb with dicomweb-client: QIDO-RS (studies, series), WADO-RS (a study into a folder),
STOW-RS (files). Authentication none / basic / bearer; TLS certificates verified unless the
node says otherwise (its ``verify_tls`` off, or its own CA bundle, win over the
``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` environment). HTTP failures become
:class:`PacsError` messages that say what to fix (wrong password or token, unreachable
server, untrusted certificate)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset

from spineviewer.pacs.dimse import StoreResult
from spineviewer.pacs.errors import PacsCancelled, PacsError
from spineviewer.pacs.nodes import DicomWebNode
from spineviewer.pacs.query import (
    Cancelled,
    Progress,
    Query,
    RetrieveResult,
    SeriesMatch,
    StudyMatch,
    newest_first,
)
from spineviewer.pacs.storage import InstanceWriter

__all__ = ["echo", "find_series", "find_studies", "retrieve", "store"]

STUDY_FIELDS = ("StudyDescription", "PatientBirthDate", "NumberOfStudyRelatedSeries",
                "NumberOfStudyRelatedInstances", "ModalitiesInStudy")  # fmt: skip
SERIES_FIELDS = ("SeriesDescription", "SeriesNumber", "Modality", "NumberOfSeriesRelatedInstances")


class _NotRetried(BaseException):
    """A network failure carried past dicomweb-client's retry loop, which retries *every*
    exception five times with 2 + 4 + 8 + 16 s of waiting between them: an untrusted
    certificate, a refused connection or a timeout would keep the user waiting 30 s and more
    for the error. Only the HTTP answers that loop is meant for (429, 503, ...) are retried;
    :func:`_errors` unwraps it."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class _Session(requests.Session):
    """A session whose every request has the node's timeout and certificate check.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` replace a *session's* ``verify``
    (even False); passed with each request, the node's choice wins: False when the user
    turned verification off, the node's CA bundle when it has one. With neither, the request
    says True and the environment's bundle applies as usual (proxies too)."""

    def __init__(self, timeout_s: float, verify: bool | str = True) -> None:
        super().__init__()
        self._timeout_s = timeout_s
        self.verify = verify

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout_s)
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        if isinstance(url, str) and "?" in url:
            # QIDO wildcards and PN separators are legal in a query string; some servers
            # (Orthanc's DICOMweb plugin 1.7) match on them only when sent unescaped
            path, query = url.split("?", 1)
            url = f"{path}?{query.replace('%2A', '*').replace('%5E', '^').replace('%3F', '?')}"
        try:
            return super().request(method, url, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _NotRetried(exc) from exc


def _client(node: DicomWebNode) -> Any:
    from dicomweb_client.api import DICOMwebClient

    session = _Session(node.timeout_s, node.verify)
    if node.auth == "basic":
        session.auth = (node.username, node.password)
    elif node.auth == "bearer":
        session.headers["Authorization"] = f"Bearer {node.token}"
    return DICOMwebClient(url=node.url, session=session)


@contextlib.contextmanager
def _errors(node: DicomWebNode, what: str) -> Iterator[None]:
    """HTTP and network failures as PacsError messages naming the node."""
    try:
        try:
            yield
        except _NotRetried as carried:
            raise carried.error from None
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else 0
        if code in (401, 403):
            how = {"none": "the server wants credentials: set basic or bearer authentication",
                   "basic": "check the user name and password",
                   "bearer": "check the token (it may have expired)"}[node.auth]  # fmt: skip
            raise PacsError(
                f"{node.label}: authentication failed for {what} (HTTP {code}); {how}"
            ) from exc
        if code == 404:
            raise PacsError(
                f"{node.label}: {what}: not found (HTTP 404); check the base URL"
            ) from exc
        raise PacsError(f"{node.label}: {what} failed (HTTP {code})") from exc
    except requests.exceptions.SSLError as exc:
        raise PacsError(
            f"{node.label}: the TLS certificate is not trusted ({exc}); install the CA "
            "certificate, or turn verification off for a test server only"
        ) from exc
    except requests.Timeout as exc:
        raise PacsError(f"{node.label}: no answer within {node.timeout_s:g} s ({what})") from exc
    except requests.ConnectionError as exc:
        raise PacsError(
            f"{node.label}: cannot connect ({what}); check the URL, that the server runs and "
            "the network"
        ) from exc


def echo(node: DicomWebNode) -> None:
    """ "Test connection": one QIDO-RS request that needs the credentials."""
    with _errors(node, "QIDO-RS"):
        _client(node).search_for_studies(limit=1)


def find_studies(node: DicomWebNode, query: Query) -> list[StudyMatch]:
    """QIDO-RS studies matching ``query``, newest first."""
    params = query.qido_params()
    fuzzy = "*" in query.patient_name or "?" in query.patient_name
    with _errors(node, "QIDO-RS"):
        found = _client(node).search_for_studies(
            search_filters=params, fields=list(STUDY_FIELDS), fuzzymatching=fuzzy or None
        )
    return newest_first([StudyMatch.from_dataset(Dataset.from_json(item)) for item in found])


def find_series(node: DicomWebNode, study_uid: str) -> list[SeriesMatch]:
    """QIDO-RS series of one study."""
    with _errors(node, "QIDO-RS"):
        found = _client(node).search_for_series(
            study_instance_uid=study_uid, fields=list(SERIES_FIELDS)
        )
    matches = []
    for item in found:
        ds = Dataset.from_json(item)
        ds.StudyInstanceUID = ds.get("StudyInstanceUID", study_uid) or study_uid
        matches.append(SeriesMatch.from_dataset(ds))
    return sorted(
        matches, key=lambda m: (int(m.number) if m.number.isdigit() else 1 << 30, m.series_uid)
    )


def retrieve(
    node: DicomWebNode,
    study_uid: str,
    dest: str | Path,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RetrieveResult:
    """WADO-RS of a study into ``dest/<study uid>/``, in the transfer syntax the server holds;
    the instance count from QIDO-RS says whether it came whole."""
    writer = InstanceWriter(Path(dest) / study_uid)
    client = _client(node)
    with _errors(node, "QIDO-RS"):
        expected = len(client.search_for_instances(study_instance_uid=study_uid,
                                                   fields=["SOPInstanceUID"]))  # fmt: skip
    with _errors(node, "WADO-RS"):
        for ds in client.iter_study(study_uid, media_types=(("application/dicom", "*"),)):
            if cancelled is not None and cancelled():
                raise PacsCancelled(f"WADO-RS from {node.label} cancelled")
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            writer.write(str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), buffer.getvalue())
            if progress is not None:
                progress(writer.count, expected, f"WADO-RS: {writer.count} of {expected} images")
    return writer.result(study_uid, expected)


def store(
    node: DicomWebNode,
    files: Sequence[str | Path],
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> StoreResult:
    """STOW-RS ``files`` to ``node`` (one request per file, so progress and cancel work)."""
    client = _client(node)
    failed: list[str] = []
    sent = 0
    for number, path in enumerate(files, start=1):
        if cancelled is not None and cancelled():
            raise PacsCancelled(f"STOW-RS to {node.label} cancelled after {sent} instances")
        try:
            ds = dcmread(path)
        except Exception as exc:
            raise PacsError(f"{path}: not a DICOM file to send ({exc})") from exc
        with _errors(node, "STOW-RS"):
            response = client.store_instances([ds])
        rejected = response.get("FailedSOPSequence") if response is not None else None
        if rejected:
            reason = rejected[0].get("FailureReason", "")
            failed.append(f"{Path(path).name}: failure reason {reason}")
        else:
            sent += 1
        if progress is not None:
            progress(number, len(files), f"STOW-RS {number} of {len(files)}")
    return StoreResult(sent, tuple(failed))
