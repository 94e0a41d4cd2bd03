"""One batch job = one study: analyse it, write its report set, and a manifest that says the set
is complete (no Qt in here; the PDF renderer starts its own offscreen Qt in the worker).

A study's outputs go to ``OUT/<study uid>/``, or when anonymised to ``OUT/study-<16 hex
digits>/``, a keyed hash of the StudyInstanceUID (the batch's anonymisation key): a study keeps
its folder when studies are added to or removed from the inputs. A StudyInstanceUID that is
not digits and dots (a stand-in made of patient attributes, a forged ``../..``) is never a
path: such a study's folder is ``study-`` and 16 hex digits of its hash (:func:`folder_name`).

Every file is written atomically, and ``manifest.json`` (the StudyInstanceUID the report
records, the anonymiser's mapping when anonymised, and every file with its size and SHA-256)
is written last. A folder without a valid manifest is incomplete, whatever else it holds, and
``--resume`` does it again; so is a folder whose manifest names another study
(:func:`finished`). A study done again leaves only its own files in its folder.

Failures come back as a result with the reason, never as an exception that would stop the
other studies; a study none of whose images can be read is ``unreadable``. The files the scan
could not read are kept (:class:`Plan`): each DICOM file is counted against its study, and
those of no readable study are summary rows of their own (:class:`Problem`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spineviewer.dicom.errors import SkippedFile
from spineviewer.dicom.sources import FileRef

__all__ = [
    "MANIFEST",
    "JobResult",
    "Plan",
    "Problem",
    "StudyJob",
    "Unreadable",
    "anonymised_folder",
    "complete",
    "finished",
    "folder_name",
    "run_job",
    "study_jobs",
]

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StudyJob:
    """What a worker needs: the study, its files, where and what to write."""

    study_uid: str
    refs: tuple[FileRef, ...]
    out_dir: Path
    formats: tuple[str, ...]
    anonymize: bool = False
    #: hex key of the batch's :class:`~spineviewer.dicom.anonymise.Anonymiser` (anonymize)
    anonymisation_key: str = ""
    #: keep annotation notes and free-text labels in anonymised outputs (never names)
    keep_annotation_text: bool = False
    institution: str = ""
    model_dirs: tuple[str, ...] = ()
    provider: str | None = None
    #: what reads the vertebrae (``detector`` / ``segmentation``; None: the setting)
    vertebrae: str | None = None
    label: str = ""
    #: onnxruntime threads per worker (None: the machine's cores; a pool shares them out)
    threads: int | None = None
    #: a PACS node (:mod:`spineviewer.pacs`) the DICOM outputs (the sendable formats) go to
    store_node: Any = None
    #: our AE for that (the configured one)
    local_ae: Any = None
    #: DICOM files of this study that the scan could not read (they are not in ``refs``)
    skipped: tuple[SkippedFile, ...] = ()

    @property
    def recorded_uid(self) -> str:
        """The StudyInstanceUID its report and manifest record: the anonymiser's mapping of
        :attr:`study_uid` when anonymised (the plain UID is never written there)."""
        if not self.anonymize:
            return self.study_uid
        from spineviewer.dicom.anonymise import Anonymiser

        return Anonymiser(bytes.fromhex(self.anonymisation_key)).uid(self.study_uid)


@dataclass
class JobResult:
    """How one study went (a row of the summary, :mod:`spineviewer.batch.summary`)."""

    study_uid: str
    #: "done", "failed", "skipped" or "unreadable" (:data:`~spineviewer.batch.summary.STATUSES`)
    status: str
    seconds: float = 0.0
    error: str = ""
    findings: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    #: how many warnings the analysis gave
    warnings: int = 0
    #: how many DICOM files of the study could not be read
    skipped_files: int = 0
    #: the files the worker could not read although the scan had read them (changed since)
    unread: tuple[SkippedFile, ...] = ()


@dataclass(frozen=True)
class Problem:
    """An input path that gave no study to run: a summary row of status ``unreadable``.

    An input holding no DICOM study at all, a folder that could not be listed, or one DICOM
    file of a study none of whose images could be read (one row per file, with the study
    its header named)."""

    path: str
    reason: str
    #: the StudyInstanceUID the file's header named (its folder name when anonymised), or ""
    study: str = ""
    #: DICOM files lost with it (1 for a DICOM file, 0 for a folder or an input)
    files: int = 0


@dataclass
class Plan:
    """What :func:`study_jobs` found under the inputs."""

    #: one per study with a readable image
    jobs: list[StudyJob]
    #: the summary rows of what gave no study (see :class:`Problem`)
    problems: list[Problem]
    #: every file or folder the scans did not read, with the reason (``skipped.csv``)
    skipped: list[SkippedFile]


class Unreadable(ValueError):
    """No image of the study could be read; ``skipped_files`` of its files were DICOM."""

    def __init__(
        self, message: str, skipped_files: int, unread: tuple[SkippedFile, ...] = ()
    ) -> None:
        super().__init__(message)
        self.skipped_files = skipped_files
        self.unread = unread


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def complete(folder: Path) -> dict[str, Any] | None:
    """The manifest of a complete report set in ``folder``, else None (missing, unreadable,
    or a listed file missing or changed)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        for entry in manifest["files"]:
            path = folder / entry["name"]
            if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return manifest  # type: ignore[no-any-return]


def finished(job: StudyJob) -> dict[str, Any] | None:
    """The manifest of ``job``'s folder when it holds a complete report set of this very
    study (the StudyInstanceUID it records is :attr:`StudyJob.recorded_uid`), else None: a
    folder holding another study's set is done again, never trusted."""
    manifest = complete(job.out_dir)
    if manifest is None or manifest.get("study_uid") != job.recorded_uid:
        return None
    return manifest


def anonymised_folder(key: bytes, study_uid: str) -> str:
    """The folder (and summary label) of a study in an anonymised batch: ``study-`` and 16 hex
    digits of a hash of its StudyInstanceUID keyed with the batch's anonymisation key. It
    does not depend on the other studies, so it stays when the inputs change."""
    digest = hmac.new(key, b"batch-folder:" + study_uid.strip().encode(), hashlib.sha256)
    return f"study-{digest.hexdigest()[:16]}"


#: A StudyInstanceUID that can name its folder as it is.
_PLAIN_UID = re.compile(r"[0-9][0-9.]{0,127}")


def folder_name(study_uid: str) -> str:
    """The folder of a study in a batch that is not anonymised: its StudyInstanceUID when that
    is digits and dots, else ``study-`` and 16 hex digits of its SHA-256 (a UID from a header
    is never trusted as a path)."""
    if _PLAIN_UID.fullmatch(study_uid):
        return study_uid
    return f"study-{hashlib.sha256(study_uid.encode()).hexdigest()[:16]}"


def _brief(findings: Any) -> dict[str, Any]:
    """The findings in a few words: only what was found ("all normal" only of discs that were
    classified), and "nothing found" with the pipelines' reasons when nothing was."""
    brief: dict[str, Any] = {}
    if findings.vertebrae:
        brief["vertebrae"] = len(findings.vertebrae)
    doubts = [c.status for c in findings.labelling if c.status != "confident"]
    if doubts:  # the reader must confirm the level names before trusting the rest
        brief["labels"] = "need review" if "needs review" in doubts else "uncertain"
    if findings.discs:
        abnormal = [f"{d.level} {d.state}" for d in findings.discs if d.state != "normal"]
        brief["discs"] = f"{len(findings.discs)} ({', '.join(abnormal) or 'all normal'})"
    if findings.fractures:
        brief["fractures"] = " ".join(v.label for v in findings.fractures)
    if findings.implants:
        brief["implants"] = len(findings.implants)
    if findings.cobb is not None:
        brief["cobb_deg"] = round(findings.cobb.angle_deg, 1)
    if findings.classifications:
        brief["classified"] = " ".join(f"{c.model_id}={c.label}" for c in findings.classifications)
    if not brief:
        brief["nothing found"] = f"({_why_nothing(findings)})"
    return brief


def _why_nothing(findings: Any) -> str:
    """Each pipeline's first step that did not run, and why (as the findings summary says)."""
    reasons: dict[str, str] = {}
    for step in findings.steps:
        pipeline = step.name.split(":")[0]
        if step.status != "done" and pipeline not in reasons:
            reasons[pipeline] = f"{step.name}: {step.status}: {step.reason}"
    return " | ".join(reasons.values()) or "no step found anything"


_SESSIONS: dict[tuple[str | None, tuple[str, ...], str | None], Any] = {}


def _sessions(job: StudyJob) -> tuple[Any, Any]:
    """Models and sessions, loaded once per worker process."""
    from spineviewer.ai.pipelines.segmentation import chosen_models
    from spineviewer.ai.registry import find_models
    from spineviewer.ai.sessions import SessionCache

    key = (job.provider, job.model_dirs, job.vertebrae)
    if key not in _SESSIONS:
        entries = chosen_models(find_models(job.model_dirs), job.vertebrae)
        _SESSIONS[key] = (entries, SessionCache(job.provider, job.threads))
    return _SESSIONS[key]  # type: ignore[no-any-return]


def run_job(job: StudyJob) -> JobResult:
    """Analyse one study and write its report set; the result says how it went."""
    started = time.perf_counter()
    try:
        return _run(job, started)
    except Unreadable as exc:
        seconds = time.perf_counter() - started
        return JobResult(
            job.study_uid, "unreadable", seconds, str(exc),
            skipped_files=exc.skipped_files, unread=exc.unread,
        )  # fmt: skip
    except Exception as exc:  # one bad study must not stop the batch
        return JobResult(job.study_uid, "failed", time.perf_counter() - started, _reason(exc))


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, ValueError) else text


def _run(job: StudyJob, started: float) -> JobResult:
    from spineviewer.ai.analysis import analyse_study
    from spineviewer.annotations import Workspace
    from spineviewer.dicom.anonymise import Anonymiser
    from spineviewer.dicom.grouping import group_frames
    from spineviewer.dicom.scan import read_frames
    from spineviewer.reports import build_report
    from spineviewer.reports.writer import write_report_set

    skipped: list[SkippedFile] = list(job.skipped)
    studies = [s for s in group_frames(read_frames(job.refs, skipped)) if s.uid == job.study_uid]
    lost = sum(1 for s in skipped if s.dicom)
    unread = tuple(skipped[len(job.skipped) :])
    if not studies:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3]) or "no image"
        raise Unreadable(f"no readable image of this study ({reasons})", lost, unread)
    study = studies[0]
    entries, sessions = _sessions(job)
    findings = analyse_study(study, entries, sessions, skipped=skipped)
    with Workspace() as workspace:
        loaded = workspace.load(study.uid)
    document = loaded.document if loaded is not None else None
    anonymiser = None
    if job.anonymize:
        anonymiser = Anonymiser(bytes.fromhex(job.anonymisation_key)).for_patient(
            study.info.get("PatientID", "")
        )
    keep = job.keep_annotation_text
    report = build_report(
        study, findings, document, job.institution, anonymiser, keep_annotation_text=keep
    )
    folder = job.out_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # incomplete until the new one is written
    for stale in [*folder.glob(".*.partial*"), *folder.glob("images/.*.partial*")]:
        stale.unlink()  # left by a run that was killed while writing
    written = write_report_set(
        report,
        study,
        findings,
        document,
        folder,
        job.formats,
        anonymiser=anonymiser,
        keep_annotation_text=keep,
    )
    names = [p.relative_to(folder).as_posix() for p in written]
    inputs = {Path(ref.path) for ref in job.refs} | {Path(f.path) for f in job.skipped}
    _prune(folder, {*names, MANIFEST}, inputs)
    brief = _brief(findings)
    if job.store_node is not None:  # before the manifest: a failed send is redone on --resume
        brief["stored"] = _store(job, [p for p in written if p.suffix == ".dcm"])
    manifest = {
        "study_uid": report.study_uid,
        "label": job.label,
        "findings": brief,
        "warnings": len(findings.warnings),
        "skipped_files": lost,
        "files": [
            {"name": n, "size": (folder / n).stat().st_size, "sha256": _sha256(folder / n)}
            for n in names
        ],
    }
    partial = folder / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.replace(folder / MANIFEST)
    seconds = time.perf_counter() - started
    return JobResult(
        job.study_uid, "done", seconds, "", brief, names, len(findings.warnings), lost, unread
    )


def _prune(folder: Path, keep: set[str], inputs: Iterable[Path] = ()) -> None:
    """Remove the files of ``folder`` (and its sub-folders) that are not in ``keep``: a
    report set done again leaves nothing of an earlier one (another study's key images, a
    format not asked for this time) beside it. A folder that is a link is left alone, and so
    is the whole folder when it holds one of the study's ``inputs`` (an output folder that is
    an input folder: source files are never removed)."""
    if folder.is_symlink():
        return
    root = folder.resolve()
    if any(p.resolve().is_relative_to(root) for p in inputs):
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        name = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif name not in keep:
            path.unlink()


def _store(job: StudyJob, files: list[Path]) -> str:
    """Send the study's DICOM outputs to the job's node; raises with the reason otherwise."""
    from spineviewer.pacs import PacsError, store

    if not files:
        from spineviewer import formats as registry

        raise ValueError(f"--store needs a DICOM output: {registry.store_hint()}")
    result = store(job.store_node, files, job.local_ae)
    if result.failed:
        raise PacsError(result.summary(job.store_node.label))
    return f"{result.sent} to {job.store_node.name}"


def study_jobs(
    inputs: Sequence[str | Path],
    out_dir: Path,
    formats: Sequence[str],
    **options: Any,
) -> Plan:
    """One job per StudyInstanceUID found under ``inputs``, what gave no study (see
    :class:`Problem`), and every file or folder the scans did not read. Each job knows the
    DICOM files of its study that the scan could not read (:func:`_sort_skipped`)."""
    from spineviewer.dicom import scan
    from spineviewer.dicom.anonymise import folder_key

    anonymize = bool(options.get("anonymize"))
    key = folder_key(out_dir) if anonymize else b""
    if anonymize:  # one key for the whole batch, kept for --resume
        options = {**options, "anonymisation_key": key.hex()}
    scans = [(path, scan(path)) for path in dict.fromkeys(map(str, inputs))]
    refs: dict[str, list[FileRef]] = {}
    for _, result in scans:
        for study in result.studies:
            bucket = refs.setdefault(study.uid, [])
            seen = set(bucket)
            for series in study.series:
                for stack in series.stacks:
                    for frame in stack.frames:
                        if frame.instance.ref not in seen:
                            seen.add(frame.instance.ref)
                            bucket.append(frame.instance.ref)

    def folder(uid: str) -> str:
        return anonymised_folder(key, uid) if anonymize else folder_name(uid)

    lost, orphans, skipped = _sort_skipped(scans, set(refs))
    problems = []
    for path, result in scans:
        mine = orphans.get(path, [])
        for s in mine:
            label = (folder(s.study_uid) if anonymize else s.study_uid) if s.study_uid else ""
            problems.append(Problem(s.path, s.reason, label, int(s.dicom)))
        if not result.studies and not mine:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in result.skipped[:3])
            problems.append(Problem(path, f"no readable DICOM study ({reasons or 'empty'})"))
    jobs = []
    for uid, files in sorted(refs.items()):
        name = folder(uid)
        jobs.append(
            StudyJob(
                uid, tuple(files), out_dir / name, tuple(formats), label=name,
                skipped=tuple(lost.get(uid, ())), **options,
            )
        )  # fmt: skip
    return Plan(jobs, problems, skipped)


def _sort_skipped(
    scans: Sequence[tuple[str, Any]], readable: set[str]
) -> tuple[dict[str, list[SkippedFile]], dict[str, list[SkippedFile]], list[SkippedFile]]:
    """The skipped files of every scan, once each: by the readable study they belong to, by
    input for those of no readable study (the orphans: a summary row each), and all of them.

    A DICOM file belongs to the study its header names when that study has a readable image
    under any input; a file whose header names no study belongs to the only study with
    images in its folder, else to its input's only study. A DICOM file whose header names a
    study with no readable image, or whose study cannot be told, is an orphan; so is a folder
    that could not be listed (a whole study may be in it). Files that are not DICOM are only
    listed."""
    by_folder: dict[Path, set[str]] = {}
    for _, result in scans:
        for study in result.studies:
            for series in study.series:
                for stack in series.stacks:
                    for frame in stack.frames:
                        by_folder.setdefault(Path(str(frame.instance.ref)).parent, set()).add(
                            study.uid
                        )
    owners: dict[str, list[SkippedFile]] = {}
    orphans: dict[str, list[SkippedFile]] = {}
    listed: dict[str, SkippedFile] = {}
    for path, result in scans:
        alone = {study.uid for study in result.studies}
        for skipped in result.skipped:
            if skipped.path in listed:  # the same file under two inputs
                continue
            listed[skipped.path] = skipped
            near = by_folder.get(Path(skipped.path).parent, set())
            if not skipped.dicom:
                if Path(skipped.path).is_dir():
                    orphans.setdefault(path, []).append(skipped)
            elif skipped.study_uid:
                if skipped.study_uid in readable:
                    owners.setdefault(skipped.study_uid, []).append(skipped)
                else:
                    orphans.setdefault(path, []).append(skipped)
            elif len(near) == 1:
                owners.setdefault(next(iter(near)), []).append(skipped)
            elif len(alone) == 1:
                owners.setdefault(next(iter(alone)), []).append(skipped)
            else:
                orphans.setdefault(path, []).append(skipped)
    return owners, orphans, list(listed.values())
