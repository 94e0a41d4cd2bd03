"""DIMSE services with pynetdicom: C-ECHO, C-FIND (study and series level, Study Root),
C-GET and C-MOVE into a folder, C-STORE of files.

Every failure a user meets becomes a :class:`PacsError` that names the node and what to check:
nothing listening at the port, no answer within the timeout, the association rejected
because the called AE title is unknown, the PACS ending the association because it does not
know our AE title. Retrieves count what arrived against what the PACS said it sent; a partial
retrieve is reported as partial (:class:`RetrieveResult`).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom import uid as sc
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_context, build_role, evt
from pynetdicom.association import Association
from pynetdicom.pdu_primitives import A_ASSOCIATE

from spineviewer.pacs.errors import PacsCancelled, PacsError
from spineviewer.pacs.nodes import DimseNode, LocalAE
from spineviewer.pacs.query import (
    Cancelled,
    Progress,
    Query,
    RetrieveResult,
    SeriesMatch,
    StudyMatch,
    series_identifier,
)
from spineviewer.pacs.storage import InstanceWriter

__all__ = [
    "STORAGE_CLASSES",
    "StoreResult",
    "echo",
    "find_series",
    "find_studies",
    "retrieve",
    "store",
]

VERIFICATION = UID("1.2.840.10008.1.1")
STUDY_ROOT_FIND = UID("1.2.840.10008.5.1.4.1.2.2.1")
STUDY_ROOT_MOVE = UID("1.2.840.10008.5.1.4.1.2.2.2")
STUDY_ROOT_GET = UID("1.2.840.10008.5.1.4.1.2.2.3")

#: The storage SOP classes we take in a retrieve (C-GET roles, our C-MOVE destination).
STORAGE_CLASSES = (
    sc.CTImageStorage,
    sc.EnhancedCTImageStorage,
    sc.MRImageStorage,
    sc.EnhancedMRImageStorage,
    sc.ComputedRadiographyImageStorage,
    sc.DigitalXRayImageStorageForPresentation,
    sc.DigitalXRayImageStorageForProcessing,
    sc.SecondaryCaptureImageStorage,
    sc.MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    sc.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    sc.MultiFrameTrueColorSecondaryCaptureImageStorage,
    sc.XRayAngiographicImageStorage,
    sc.UltrasoundImageStorage,
    sc.NuclearMedicineImageStorage,
    sc.PositronEmissionTomographyImageStorage,
    sc.BasicTextSRStorage,
    sc.EnhancedSRStorage,
    sc.ComprehensiveSRStorage,
    sc.Comprehensive3DSRStorage,
    sc.KeyObjectSelectionDocumentStorage,
    sc.EncapsulatedPDFStorage,
    sc.SegmentationStorage,
    sc.GrayscaleSoftcopyPresentationStateStorage,
)

_REJECT_REASONS = {
    (1, 2): "does not support the DICOM application context",
    (1, 3): "does not recognise our AE title {local!r} (register it on the PACS)",
    (1, 7): "does not recognise the called AE title {called!r} (check the node's AE title)",
    (2, 2): "does not support the protocol version",
    (3, 1): "is congested (try again later)",
    (3, 2): "has reached its limit of associations (try again later)",
}


def _reachable(node: DimseNode) -> None:
    """A plain TCP connect first: it tells a wrong port from a host that never answers."""
    where = f"{node.host}:{node.port}"
    try:
        with socket.create_connection((node.host, node.port), timeout=node.timeout_s):
            return
    except ConnectionRefusedError as exc:
        raise PacsError(
            f"{node.label}: connection refused at {where}; nothing listens there "
            "(check the port, and that the PACS is running)"
        ) from exc
    except TimeoutError as exc:
        raise PacsError(
            f"{node.label}: no answer from {where} within {node.timeout_s:g} s "
            "(check the host, the network and firewalls)"
        ) from exc
    except OSError as exc:
        raise PacsError(f"{node.label}: cannot reach {where} ({exc.strerror or exc})") from exc


def _ae(local: LocalAE, node: DimseNode) -> AE:
    ae = AE(ae_title=local.ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = node.timeout_s
    ae.connection_timeout = node.timeout_s
    return ae


@contextlib.contextmanager
def _association(
    node: DimseNode,
    local: LocalAE,
    contexts: Sequence[Any],
    roles: Sequence[Any] = (),
    handlers: Sequence[tuple[Any, Callable[..., Any]]] = (),
) -> Iterator[Association]:
    """An established association with ``node`` (released on exit), or a clear PacsError."""
    _reachable(node)
    ae = _ae(local, node)
    ae.requested_contexts = list(contexts)
    rejection: dict[str, int] = {}

    def on_acse(event: Any) -> None:
        primitive = event.primitive
        if not isinstance(primitive, A_ASSOCIATE):  # (A-RELEASE has a result too)
            return
        if primitive.result not in (None, 0):
            rejection.update(
                result=int(primitive.result or 0),
                source=int(primitive.result_source or 0),
                diagnostic=int(primitive.diagnostic or 0),
            )

    def associate() -> Association:
        return ae.associate(
            node.host,
            node.port,
            ae_title=node.ae_title,
            ext_neg=list(roles) or None,
            evt_handlers=[(evt.EVT_ACSE_RECV, on_acse), *handlers],
        )

    assoc = associate()
    if not (assoc.is_established or assoc.is_rejected or rejection):
        # Neither accepted nor rejected: seen once under load, when the PACS closed the
        # connection right behind its A-ASSOCIATE-RJ and the socket's end was read first.
        # One more try before telling the user it failed.
        assoc = associate()
    if assoc.is_rejected or rejection:
        key = (rejection.get("source", 0), rejection.get("diagnostic", 0))
        reason = _REJECT_REASONS.get(key, "rejected the association ({})".format(
            ", ".join(f"{k} {v}" for k, v in rejection.items()) or "no reason given"
        ))  # fmt: skip
        raise PacsError(
            f"{node.label}: association rejected: the PACS "
            + reason.format(local=local.ae_title, called=node.ae_title)
        )
    if not assoc.is_established:
        raise PacsError(
            f"{node.label}: the association could not be established (aborted or timed out "
            f"after {node.timeout_s:g} s)"
        )
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def _aborted(node: DimseNode, local: LocalAE, service: str) -> PacsError:
    return PacsError(
        f"{node.label}: the PACS ended the association during {service}; it probably does not "
        f"accept our AE title {local.ae_title!r} for this service (register {local.ae_title} "
        "on the PACS, with our host and port)"
    )


def echo(node: DimseNode, local: LocalAE | None = None) -> None:
    """C-ECHO ("test connection"); raises PacsError with the reason when it fails."""
    local = local or LocalAE()
    with _association(node, local, [build_context(VERIFICATION)]) as assoc:
        status = assoc.send_c_echo()
        if assoc.is_aborted or not status:
            raise _aborted(node, local, "C-ECHO")
        if status.Status != 0:
            raise PacsError(f"{node.label}: C-ECHO answered status 0x{status.Status:04X}")


def _find(node: DimseNode, local: LocalAE, identifier: Dataset) -> list[Dataset]:
    model = STUDY_ROOT_FIND
    found = []
    with _association(node, local, [build_context(model)]) as assoc:
        for status, ds in assoc.send_c_find(identifier, model):
            if not status:
                raise _aborted(node, local, "C-FIND")
            if status.Status in (0xFF00, 0xFF01) and ds is not None:
                found.append(ds)
            elif status.Status != 0:
                comment = status.get("ErrorComment", "")
                raise PacsError(
                    f"{node.label}: C-FIND failed with status 0x{status.Status:04X} {comment}"
                )
    return found


def find_studies(node: DimseNode, query: Query, local: LocalAE | None = None) -> list[StudyMatch]:
    """C-FIND at STUDY level, newest first."""
    matches = [
        StudyMatch.from_dataset(ds) for ds in _find(node, local or LocalAE(), query.identifier())
    ]
    return sorted(matches, key=lambda m: (m.study_date, m.study_time), reverse=True)


def find_series(node: DimseNode, study_uid: str, local: LocalAE | None = None) -> list[SeriesMatch]:
    """C-FIND at SERIES level for one study, by series number."""
    found = _find(node, local or LocalAE(), series_identifier(study_uid))
    matches = [SeriesMatch.from_dataset(ds) for ds in found]
    return sorted(
        matches, key=lambda m: (int(m.number) if m.number.isdigit() else 1 << 30, m.series_uid)
    )


def _retrieve_identifier(study_uid: str, series_uid: str = "") -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES" if series_uid else "STUDY"
    ds.StudyInstanceUID = study_uid
    if series_uid:
        ds.SeriesInstanceUID = series_uid
    return ds


def _storage_contexts() -> list[Any]:
    syntaxes = None  # every transfer syntax pynetdicom knows: the PACS sends what it holds
    return [build_context(uid, syntaxes) for uid in STORAGE_CLASSES]


def _follow(
    responses: Iterable[tuple[Dataset, Dataset | None]],
    assoc: Association,
    node: DimseNode,
    local: LocalAE,
    service: str,
    writer: InstanceWriter,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> tuple[int | None, int]:
    """Walk the C-GET/C-MOVE responses: (expected, failed) from the PACS's counts."""
    expected: int | None = None
    failed = 0
    for status, _ in responses:
        if cancelled is not None and cancelled():
            assoc.abort()
            raise PacsCancelled(f"{service} from {node.label} cancelled")
        if not status:
            raise _aborted(node, local, service)
        counts = [int(status.get(k, 0) or 0) for k in (
            "NumberOfRemainingSuboperations", "NumberOfCompletedSuboperations",
            "NumberOfFailedSuboperations", "NumberOfWarningSuboperations",
        )]  # fmt: skip
        expected = sum(counts)
        failed = counts[2]
        if progress is not None:
            progress(writer.count, expected, f"{service}: {writer.count} of {expected} images")
        if status.Status not in (0xFF00, 0xFF01, 0x0000, 0xB000):
            comment = status.get("ErrorComment", "")
            writer.warnings.append(f"{service} ended with status 0x{status.Status:04X} {comment}")
    return expected, failed


def retrieve(
    node: DimseNode,
    study_uid: str,
    dest: str | Path,
    method: str = "get",
    local: LocalAE | None = None,
    series_uid: str = "",
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RetrieveResult:
    """Retrieve a study (or one series) into ``dest/<study uid>/`` by C-GET (``method`` "get",
    preferred: one association, no port to open) or C-MOVE to our storage SCP ("move")."""
    local = local or LocalAE()
    folder = Path(dest) / study_uid
    writer = InstanceWriter(folder)
    identifier = _retrieve_identifier(study_uid, series_uid)
    handlers: list[Any] = [(evt.EVT_C_STORE, writer.handle)]
    if method == "get":
        model = STUDY_ROOT_GET
        roles = [build_role(uid, scp_role=True) for uid in STORAGE_CLASSES]
        contexts = [build_context(model), *_storage_contexts()]
        with _association(node, local, contexts, roles, handlers) as assoc:
            expected, failed = _follow(assoc.send_c_get(identifier, model), assoc, node, local,
                                       "C-GET", writer, progress, cancelled)  # fmt: skip
    elif method == "move":
        model = STUDY_ROOT_MOVE
        scp = _ae(local, node)
        scp.supported_contexts = _storage_contexts()
        try:
            server = scp.start_server(("", local.port), block=False, evt_handlers=handlers)
        except OSError as exc:
            raise PacsError(
                f"cannot listen on port {local.port} for C-MOVE ({exc.strerror or exc}); "
                "choose another storage port or use C-GET"
            ) from exc
        try:
            with _association(node, local, [build_context(model)]) as assoc:
                responses = assoc.send_c_move(identifier, local.ae_title, model)
                expected, failed = _follow(responses, assoc, node, local, "C-MOVE", writer,
                                           progress, cancelled)  # fmt: skip
        finally:
            if server is not None:
                server.shutdown()
    else:
        raise PacsError(f"unknown DIMSE retrieve method {method!r} (get or move)")
    return writer.result(study_uid, expected, failed)


@dataclass(frozen=True)
class StoreResult:
    """What a C-STORE / STOW-RS of files did."""

    sent: int
    failed: tuple[str, ...] = ()

    def summary(self, node: str) -> str:
        text = f"{self.sent} instances sent to {node}"
        return text + (f"; {len(self.failed)} failed: {'; '.join(self.failed[:3])}"
                       if self.failed else "")  # fmt: skip


def store(
    node: DimseNode,
    files: Sequence[str | Path],
    local: LocalAE | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> StoreResult:
    """C-STORE ``files`` (SR, SEG, Encapsulated PDF, images) to ``node``."""
    local = local or LocalAE()
    datasets = []
    for path in files:
        try:
            datasets.append((Path(path), dcmread(path)))
        except Exception as exc:
            raise PacsError(f"{path}: not a DICOM file to send ({exc})") from exc
    contexts: dict[tuple[str, str], Any] = {}
    for _, ds in datasets:
        syntax = str(ds.file_meta.TransferSyntaxUID)
        key = (str(ds.SOPClassUID), syntax)
        contexts.setdefault(key, build_context(
            ds.SOPClassUID, [syntax, ExplicitVRLittleEndian, ImplicitVRLittleEndian]
        ))  # fmt: skip
    failed: list[str] = []
    sent = 0
    with _association(node, local, list(contexts.values())) as assoc:
        for number, (path, ds) in enumerate(datasets, start=1):
            if cancelled is not None and cancelled():
                raise PacsCancelled(f"C-STORE to {node.label} cancelled after {sent} instances")
            status = assoc.send_c_store(ds)
            if not status:
                raise _aborted(node, local, "C-STORE")
            if status.Status in (0x0000, 0xB000, 0xB007, 0xB006):
                sent += 1
            else:
                failed.append(f"{path.name}: status 0x{status.Status:04X}")
            if progress is not None:
                progress(number, len(datasets), f"C-STORE {number} of {len(datasets)}")
    return StoreResult(sent, tuple(failed))
