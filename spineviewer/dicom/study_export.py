"""Anonymised export of whole studies: their images (and other DICOM objects handed in, such
as the annotations' SR, SEG, KOS and GSPS) into a folder with a DICOMDIR or into a zip of that
folder, through the PS3.15 Basic Profile of :mod:`spineviewer.dicom.anonymise`.

- **One UID map.** Every file goes through one :class:`~spineviewer.dicom.anonymise.Anonymiser`
  (one key): an original UID always becomes the same new UID, so series that shared a frame
  of reference still share one, and the references inside the SR, SEG, KOS and GSPS still
  resolve to the exported images. A UID of the exported studies (study, series, instance,
  frame of reference) that the profile's keyword list misses is replaced too, wherever it
  stands. The key is random and kept nowhere unless the caller passes its own anonymiser: an
  export cannot be linked back to its originals.
- **PS3.15 beyond the keyword table.** Overlay planes (group 60xx, which can hold burned-in
  text) and the file meta's application entity titles are removed. The Study ID (emptied by
  the profile) becomes the study's number in the export (``1``, ``2``...), which the DICOMDIR's
  STUDY record needs (type 1).
- **Burned-in text.** The profile cannot clean pixels. A study is refused (:class:`BurnedInRefused`,
  with the reason per series) when an image's BurnedInAnnotation is ``YES``, or when it is
  not ``NO`` and the image is of a kind that usually carries burned-in text:
  :data:`BURN_IN_MODALITIES` (ultrasound, secondary captures and other captured screens,
  photographs, endoscopy) or a Secondary Capture SOP class. The caller may confirm the export
  anyway (``burned_in_ok``).
- **Files.** The DICOMDIR and the file IDs are pydicom's :class:`~pydicom.fileset.FileSet`
  (``PT000000/ST000000/SE000000/IM000000``: upper-case, at most 8 characters, at most 8
  levels). Everything is written into a temporary folder beside the output and renamed at the
  end: a cancelled or failed export leaves nothing. Source files are only read.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.fileset import DIRECTORY_RECORDERS, FileSet, RecordNode

from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.dicom.header import Instance
from spineviewer.dicom.study_tree import Study

__all__ = [
    "BURN_IN_MODALITIES",
    "BurnedInRefused",
    "StudyExportCancelled",
    "StudyExportResult",
    "burned_in_reasons",
    "check_output",
    "export_studies",
    "study_instances",
]

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]

#: Modalities whose images usually carry burned-in text (refused unless BurnedInAnnotation
#: is NO or the user confirms), with what a user reads.
BURN_IN_MODALITIES: Mapping[str, str] = {
    "US": "ultrasound",
    "SC": "a secondary capture",
    "OT": "an 'other' capture",
    "XC": "an external-camera photograph",
    "ES": "endoscopy",
}
#: Secondary Capture SOP classes (a captured screen, whatever its modality says).
SECONDARY_CAPTURE_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.7",
        "1.2.840.10008.5.1.4.1.1.7.1",
        "1.2.840.10008.5.1.4.1.1.7.2",
        "1.2.840.10008.5.1.4.1.1.7.3",
        "1.2.840.10008.5.1.4.1.1.7.4",
    }
)
#: File meta attributes that name a network node (removed).
META_NAMES = ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle",
              "ReceivingApplicationEntityTitle", "PrivateInformationCreatorUID",
              "PrivateInformation")  # fmt: skip
ZIP_SUFFIX = ".zip"
#: The SR family's SOP classes start so; KOS is one of them, with its own directory record.
SR_CLASS_ROOT = "1.2.840.10008.5.1.4.1.1.88."
KOS_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
#: Attributes the profile removes that some IODs require (type 1: the SEG's Enhanced General
#: Equipment): replaced by this dummy when the file had them (the profile's D action).
DUMMY_REQUIRED = {"DeviceSerialNumber": "0"}


class StudyExportCancelled(Exception):
    """The export was cancelled; nothing was left behind."""


class BurnedInRefused(ValueError):
    """Studies whose pixels may hold burned-in text; :attr:`reasons` says which and why."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__(
            "refused, the pixels may show burned-in text the profile cannot remove: "
            + "; ".join(self.reasons)
        )


@dataclass
class StudyExportResult:
    """What an export wrote: the folder (with its DICOMDIR) or the zip, and what it holds."""

    path: Path
    studies: int = 0
    series: int = 0
    images: int = 0
    objects: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """``3 studies, 7 series, 120 images and 4 annotation objects``-like text."""
        extra = f" and {_count(self.objects, 'annotation object')}" if self.objects else ""
        counts = [_count(self.studies, "study", "studies"), _count(self.series, "series", "series")]
        return f"{', '.join(counts)}, {_count(self.images, 'image')}{extra}"


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def study_instances(study: Study) -> list[Instance]:
    """Each file of ``study`` once, in series and stack order."""
    found: dict[str, Instance] = {}
    for series in study.series:
        for stack in series.stacks:
            for frame in stack.frames:
                found.setdefault(str(frame.instance.ref), frame.instance)
    return list(found.values())


def _burned_in_flag(instance: Instance) -> str:
    with instance.ref.open() as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True, specific_tags=["BurnedInAnnotation"])
    return str(ds.get("BurnedInAnnotation", "")).strip().upper()


def burned_in_reasons(
    study: Study, cancelled: Cancelled | None = None, checked: Callable[[], None] | None = None
) -> list[str]:
    """Why ``study`` may show burned-in text (one line per series: its first file, the series
    and the reason); [] when none of its images may. ``checked()`` is called after each file."""
    reasons: list[str] = []
    for series in study.series:
        instances = study_instances(Study(study.uid, study.info, (series,)))
        flags = []
        for instance in instances:
            if cancelled is not None and cancelled():
                raise StudyExportCancelled("cancelled while checking for burned-in text")
            flags.append(_burned_in_flag(instance))
            if checked is not None:
                checked()
        where = f"{instances[0].ref}: series {series.number if series.number is not None else '-'}"
        yes = flags.count("YES")
        kind = BURN_IN_MODALITIES.get(series.modality.upper())
        if kind is None and any(i.sop_class_uid in SECONDARY_CAPTURE_CLASSES for i in instances):
            kind = "a secondary capture"
        if yes:
            reasons.append(f"{where}: BurnedInAnnotation is YES in {yes} of {len(flags)} images")
        elif kind is not None and flags.count("NO") < len(flags):
            reasons.append(
                f"{where} ({series.modality}) is {kind}, which usually shows burned-in text, "
                "and BurnedInAnnotation does not say NO"
            )
    return reasons


def check_output(out: Path, studies: Sequence[Study]) -> None:
    """ValueError when ``out`` cannot be the export: it exists (a folder that is not empty, or
    a file), or it lies in a folder of the source images (or they in it)."""
    if out.is_file() or out.is_symlink():
        raise ValueError(f"{out}: already exists; choose a new name")
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(f"{out}: the folder is not empty; choose a new or empty folder")
    target = out.expanduser().resolve()
    for study in studies:
        for instance in study_instances(study):
            source = instance.ref.path.resolve()
            if target.is_relative_to(source.parent) or source.is_relative_to(target):
                raise ValueError(
                    f"{out}: lies with the source images ({source.parent}); export elsewhere"
                )


def _walk(ds: Dataset) -> Iterator[Dataset]:
    yield ds
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _walk(item)


def _finish(ds: Dataset, anonymiser: Anonymiser, known: set[str], study_id: str) -> Dataset:
    """What the profile's table leaves: the exported studies' UIDs wherever they stand,
    overlay planes, the meta's node names; and a Study ID for the DICOMDIR."""
    for item in _walk(ds):
        for elem in list(item):
            if 0x6000 <= elem.tag.group <= 0x60FF and elem.tag.group % 2 == 0:
                del item[elem.tag]
            elif elem.VR == "UI" and elem.value:
                values = list(elem.value) if elem.VM > 1 else [elem.value]
                if any(str(v) in known for v in values):
                    mapped = [anonymiser.uid(str(v)) if str(v) in known else v for v in values]
                    elem.value = mapped if elem.VM > 1 else mapped[0]
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for keyword in META_NAMES:
            if keyword in meta:
                delattr(meta, keyword)
    ds.StudyID = study_id
    return ds


def _known_uids(study: Study) -> set[str]:
    known = {study.uid}
    for instance in study_instances(study):
        known |= {instance.sop_instance_uid, instance.series_uid, instance.study_uid}
        if instance.frame_of_reference_uid:
            known.add(instance.frame_of_reference_uid)
    return known - {""}


def _zip_folder(folder: Path, target: Path, cancelled: Cancelled) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if cancelled():
                raise StudyExportCancelled("cancelled while writing the zip")
            archive.write(path, path.relative_to(folder).as_posix())


def export_studies(
    studies: Sequence[Study],
    out: str | os.PathLike[str],
    *,
    objects: Mapping[str, Sequence[Path]] | None = None,
    anonymiser: Anonymiser | None = None,
    burned_in_ok: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> StudyExportResult:
    """Export ``studies`` anonymised into the folder ``out`` (with a DICOMDIR) or, when it
    ends in ``.zip``, into a zip of that folder (see the module notes).

    ``objects`` are other DICOM files per study UID (the annotations' SR, SEG...), anonymised
    with the same UID map. ValueError for an output that cannot be used (see
    :func:`check_output`) or an unreadable file (named); :class:`BurnedInRefused` unless
    ``burned_in_ok``; :class:`StudyExportCancelled` when ``cancelled()`` turns true.
    """
    target = Path(out).expanduser()
    objects = objects or {}
    report = progress or (lambda done, total, text: None)
    stop = cancelled or (lambda: False)
    if not studies:
        raise ValueError("no study to export")
    check_output(target, studies)
    files = [study_instances(study) for study in studies]
    extra = sum(len(objects.get(study.uid, ())) for study in studies)
    total = sum(map(len, files)) * (1 if burned_in_ok else 2) + extra + 1
    done = 0
    if not burned_in_ok:

        def checked() -> None:
            nonlocal done
            done += 1
            report(done, total, "Checking for burned-in text")

        reasons = [r for study in studies for r in burned_in_reasons(study, stop, checked)]
        if reasons:
            raise BurnedInRefused(reasons)
    anonymiser = anonymiser or Anonymiser(secrets.token_bytes(32))
    result = StudyExportResult(target, studies=len(studies))
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    fileset = FileSet()
    try:
        for number, (study, instances) in enumerate(zip(studies, files, strict=True), start=1):
            patient = anonymiser.for_patient(study.info.get("PatientID", ""))
            known = _known_uids(study)
            sources: list[Instance | Path] = [*instances, *objects.get(study.uid, ())]
            for source in sources:
                if stop():
                    raise StudyExportCancelled(f"cancelled after {done} of {total} steps")
                ds = _read(source)
                kept = [k for k in DUMMY_REQUIRED if k in ds]
                ds = _finish(patient.dataset(ds), patient, known, str(number))
                for keyword in kept:
                    setattr(ds, keyword, DUMMY_REQUIRED[keyword])
                try:
                    _add(fileset, ds)
                except ValueError as exc:  # a record's type 1 attribute is empty
                    reason = str(exc).split(". See DICOM")[0]
                    raise ValueError(
                        f"{_name(source)}: cannot be listed in a DICOMDIR: {reason}"
                    ) from exc
                done += 1
                report(done, total, f"Anonymising study {number} of {len(studies)}")
            result.series += len(study.series)
            result.images += len(instances)
            result.objects += len(sources) - len(instances)
        if stop():
            raise StudyExportCancelled("cancelled before writing the DICOMDIR")
        report(done, total, "Writing the DICOMDIR")
        folder = work / "export"
        fileset.write(folder)
        if target.suffix.lower() == ZIP_SUFFIX:
            partial = work / "export.zip"
            _zip_folder(folder, partial, stop)
            partial.replace(target)
        else:
            folder.rename(target)
        report(total, total, "Exported")
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
        _discard_stage(fileset)


def _add(fileset: FileSet, ds: Dataset) -> None:
    """``ds`` added to the file set; an SR's or KOS's directory record holds only the root's
    HAS CONCEPT MOD items of its content (PS3.3 F.5.21, F.5.31), not the whole tree that
    pydicom's record copies (and dciodvfy then checks against evidence it does not hold)."""
    sop_class = str(ds.get("SOPClassUID", ""))
    if not sop_class.startswith(SR_CLASS_ROOT) or "ContentSequence" not in ds:
        fileset.add(ds)
        return
    leaf = "KEY OBJECT DOC" if sop_class == KOS_CLASS else "SR DOCUMENT"
    node: RecordNode | None = None
    for kind in ("PATIENT", "STUDY", "SERIES", leaf):
        record = DIRECTORY_RECORDERS[kind](ds)
        record.DirectoryRecordType = kind
        if kind == leaf:
            modifiers = [
                i for i in ds.ContentSequence if i.get("RelationshipType") == "HAS CONCEPT MOD"
            ]
            if modifiers:
                record.ContentSequence = modifiers
            else:
                del record.ContentSequence
            record.ReferencedSOPClassUIDInFile = ds.SOPClassUID
            record.ReferencedSOPInstanceUIDInFile = ds.SOPInstanceUID
            record.ReferencedTransferSyntaxUIDInFile = ds.file_meta.TransferSyntaxUID
        child = RecordNode(record)
        if node is not None:
            child.parent = node
        node = child
    assert node is not None
    fileset.add_custom(ds, node)


def _name(source: Instance | Path) -> str:
    return str(source.ref) if isinstance(source, Instance) else str(source)


def _read(source: Instance | Path) -> Dataset:
    """One file's dataset, pixels included; ValueError naming the file otherwise."""
    name = _name(source)
    try:
        if isinstance(source, Instance):
            with source.ref.open() as fh:
                return pydicom.dcmread(fh)
        return pydicom.dcmread(source)
    except Exception as exc:  # a file changed or damaged since the scan
        raise ValueError(f"{name}: cannot be read for the export: {exc}") from exc


def _discard_stage(fileset: FileSet) -> None:
    """Remove the FileSet's staging folder (copies of anonymised files) now, not at exit."""
    stage = getattr(fileset, "_stage", {}).get("t")
    if stage is not None:
        stage.cleanup()
