"""One batch job = one study: analyse it, write its report set, and a manifest that says the set
is complete (no Qt in here; the PDF renderer starts its own offscreen Qt in the worker).

A study's outputs go to ``OUT/<study uid>/`` (``OUT/study-NNN/`` when anonymised). Every file
is written atomically, and ``manifest.json`` (every file with its size and SHA-256) is written
last: a folder without a valid manifest is incomplete, whatever else it holds, and
``--resume`` does it again. Failures come back as a result with the reason, never as an
exception that would stop the other studies; a study none of whose images can be read is
``unreadable``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spineviewer.dicom.errors import SkippedFile
from spineviewer.dicom.sources import FileRef

__all__ = ["MANIFEST", "JobResult", "StudyJob", "Unreadable", "complete", "run_job"]

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
    institution: str = ""
    model_dirs: tuple[str, ...] = ()
    provider: str | None = None
    label: str = ""
    #: onnxruntime threads per worker (None: the machine's cores; a pool shares them out)
    threads: int | None = None
    #: a PACS node (:mod:`spineviewer.pacs`) the DICOM outputs (SR, Encapsulated PDF) go to
    store_node: Any = None
    #: our AE for that (the configured one)
    local_ae: Any = None
    #: DICOM files of this study that the scan could not read (they are not in ``refs``)
    skipped: tuple[SkippedFile, ...] = ()


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


class Unreadable(ValueError):
    """No image of the study could be read; ``skipped_files`` of its files were DICOM."""

    def __init__(self, message: str, skipped_files: int) -> None:
        super().__init__(message)
        self.skipped_files = skipped_files


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


_SESSIONS: dict[tuple[str | None, tuple[str, ...]], Any] = {}


def _sessions(job: StudyJob) -> tuple[Any, Any]:
    """Models and sessions, loaded once per worker process."""
    from spineviewer.ai.registry import find_models
    from spineviewer.ai.sessions import SessionCache

    key = (job.provider, job.model_dirs)
    if key not in _SESSIONS:
        _SESSIONS[key] = (find_models(job.model_dirs), SessionCache(job.provider, job.threads))
    return _SESSIONS[key]  # type: ignore[no-any-return]


def run_job(job: StudyJob) -> JobResult:
    """Analyse one study and write its report set; the result says how it went."""
    started = time.perf_counter()
    try:
        return _run(job, started)
    except Unreadable as exc:
        seconds = time.perf_counter() - started
        return JobResult(
            job.study_uid, "unreadable", seconds, str(exc), skipped_files=exc.skipped_files
        )
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
    if not studies:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3]) or "no image"
        raise Unreadable(f"no readable image of this study ({reasons})", lost)
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
    report = build_report(study, findings, document, job.institution, anonymiser)
    folder = job.out_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # incomplete until the new one is written
    for stale in [*folder.glob(".*.partial*"), *folder.glob("images/.*.partial*")]:
        stale.unlink()  # left by a run that was killed while writing
    written = write_report_set(
        report, study, findings, document, folder, job.formats, anonymiser=anonymiser
    )
    names = [p.relative_to(folder).as_posix() for p in written]
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
    return JobResult(job.study_uid, "done", seconds, "", brief, names, len(findings.warnings), lost)


def _store(job: StudyJob, files: list[Path]) -> str:
    """Send the study's DICOM outputs to the job's node; raises with the reason otherwise."""
    from spineviewer.pacs import PacsError, store

    if not files:
        raise ValueError("--store needs a DICOM output: add sr or epdf to --format")
    result = store(job.store_node, files, job.local_ae)
    if result.failed:
        raise PacsError(result.summary(job.store_node.label))
    return f"{result.sent} to {job.store_node.name}"


def study_jobs(
    inputs: Sequence[str | Path],
    out_dir: Path,
    formats: Sequence[str],
    **options: Any,
) -> tuple[list[StudyJob], list[tuple[str, str]]]:
    """One job per StudyInstanceUID found under ``inputs``, and the inputs that held none
    (path, reason). Each job knows the DICOM files of its study that the scan could not read
    (:func:`_owners`)."""
    from spineviewer.dicom import scan
    from spineviewer.dicom.anonymise import folder_key

    if options.get("anonymize"):  # one key for the whole batch, kept for --resume
        options = {**options, "anonymisation_key": folder_key(out_dir).hex()}
    refs: dict[str, list[FileRef]] = {}
    lost: dict[str, list[SkippedFile]] = {}
    problems: list[tuple[str, str]] = []
    for path in inputs:
        result = scan(path)
        if not result.studies:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in result.skipped[:3])
            problems.append((str(path), f"no readable DICOM study ({reasons or 'empty'})"))
        for skipped, uid in _owners(result).items():
            lost.setdefault(uid, []).append(skipped)
        for study in result.studies:
            bucket = refs.setdefault(study.uid, [])
            seen = set(bucket)
            for series in study.series:
                for stack in series.stacks:
                    for frame in stack.frames:
                        if frame.instance.ref not in seen:
                            seen.add(frame.instance.ref)
                            bucket.append(frame.instance.ref)
    jobs = []
    for number, (uid, files) in enumerate(sorted(refs.items()), start=1):
        anonymize = bool(options.get("anonymize"))
        name = f"study-{number:03d}" if anonymize else uid
        jobs.append(
            StudyJob(
                uid, tuple(files), out_dir / name, tuple(formats), label=name,
                skipped=tuple(lost.get(uid, ())), **options,
            )
        )  # fmt: skip
    return jobs, problems


def _owners(result: Any) -> dict[SkippedFile, str]:
    """The study each unreadable DICOM file of a scan belongs to: the one its header names,
    else the only study with images in the same folder, else the scan's only study. Files
    that are not DICOM, and those no study can be told for, are left out."""
    studies = {study.uid for study in result.studies}
    by_folder: dict[Path, set[str]] = {}
    for study in result.studies:
        for series in study.series:
            for stack in series.stacks:
                for frame in stack.frames:
                    by_folder.setdefault(Path(str(frame.instance.ref)).parent, set()).add(study.uid)
    owners = {}
    for skipped in result.skipped:
        if not skipped.dicom:
            continue
        near = by_folder.get(Path(skipped.path).parent, set())
        if skipped.study_uid in studies:
            owners[skipped] = skipped.study_uid
        elif len(near) == 1:
            owners[skipped] = next(iter(near))
        elif len(studies) == 1:
            owners[skipped] = next(iter(studies))
    return owners
