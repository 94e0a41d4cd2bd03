"""Every output format the project writes, in one registry: its name, what a user reads, the
file suffix, what it needs, whether it is a DICOM object a PACS accepts, and its writer.

The report (``spineviewer report``, ``batch``, File > Export report), the annotation export
(``spineviewer annotations export``, the Annotations panel), PACS send (File > Send results to
PACS, ``batch --store``), the image export (``spineviewer export-images``) and the anonymised
study export (``spineviewer export-study``, a DICOMDIR folder or a zip) list their formats
from here: command-line choices and dialog checkboxes included. The registry needs no library
beyond the standard one (building the command line's parser stays fast); each writer is
imported from its module when a file is written.

A format belongs to one or more *families*, the tools that write it. Two of them write a
DICOM SR: the report's (``findings-sr``: the findings and the reviewed annotations, the AI's
proposals when nobody annotated the study) and the annotation export's (``annotations-sr``:
the annotations as they stand). Each keeps its old command-line spelling ``sr`` within its
own family.

Study writers take :class:`Sources` and return the files they wrote; the image formats are
written frame by frame from the viewer's rendering by their own writers
(:mod:`spineviewer.viewing.image_writers`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the layers below every user of the registry
    from spineviewer.ai.findings import Findings
    from spineviewer.dicom import Stack, Study
    from spineviewer.dicom.anonymise import Anonymiser

__all__ = [
    "FORMATS",
    "Family",
    "Need",
    "OutputFormat",
    "Sources",
    "choices",
    "defaults",
    "get",
    "names",
    "parse",
    "resolve",
    "sendable",
    "store_hint",
    "write",
]


class Family(StrEnum):
    """The tool that writes a format."""

    REPORT = "report"  # spineviewer report / batch, File > Export report, PACS send
    ANNOTATIONS = "annotations"  # spineviewer annotations export, the Annotations panel
    IMAGES = "images"  # spineviewer export-images, File > Export images
    SEND = "send"  # File > Send results to PACS: SR, Encapsulated PDF, KOS, GSPS (`batch --store`
    # sends every DICOM format of the report family)
    STUDY = "study"  # spineviewer export-study, File > Export anonymised study


class Need(StrEnum):
    """What a writer needs, in a reader's words."""

    REPORT = "the report (findings and their review)"
    STUDY = "the study's images"
    MARKS = "annotations, or the AI's findings as proposals"
    ANNOTATIONS = "the study's annotations"
    KEY_IMAGES = "the key images, drawn with their marks"
    VIEW = "a rendered view or series"


@dataclass
class Sources:
    """What the study writers write from. ``document`` is the study's
    :class:`spineviewer.annotations.AnnotationDocument` and ``report`` its
    :class:`spineviewer.reports.Report` (typed loosely: the registry sits below both).
    ``anonymiser`` de-identifies the DICOM outputs (the report's ``--anonymize``); writers add
    to ``skipped`` what they left out, and ``written`` keeps what each format wrote in this
    run (a format another one wraps, as the Encapsulated PDF wraps the PDF, is written once)."""

    out_dir: Path
    study: Study | None = None
    stacks: Sequence[Stack] = ()
    findings: Findings | None = None
    document: Any = None
    report: Any = None
    anonymiser: Anonymiser | None = None
    keep_annotation_text: bool = False
    skipped: list[str] = field(default_factory=list)
    written: dict[str, list[Path]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        if not self.stacks and self.study is not None:
            self.stacks = [st for series in self.study.series for st in series.stacks]


Writer = Callable[[Sources], list[Path]]


@dataclass(frozen=True)
class OutputFormat:
    """One format: ``writer`` is ``module:function``, imported when a file is written."""

    name: str
    label: str
    suffix: str
    needs: frozenset[Need]
    dicom: bool
    writer: str
    families: frozenset[Family]
    #: The old command-line spelling, accepted within the format's families.
    alias: str = ""
    #: The families that write it when no format is asked for.
    default_in: frozenset[Family] = frozenset()

    def load_writer(self) -> Callable[..., Any]:
        """The writer function (its module imported now)."""
        module, _, function = self.writer.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def _format(
    name: str,
    label: str,
    suffix: str,
    needs: Iterable[Need],
    writer: str,
    families: Iterable[Family],
    *,
    dicom: bool = False,
    alias: str = "",
    default: Iterable[Family] = (),
) -> OutputFormat:
    return OutputFormat(
        name, label, suffix, frozenset(needs), dicom, writer, frozenset(families), alias,
        frozenset(default),
    )  # fmt: skip


_R, _A, _I, _S = Family.REPORT, Family.ANNOTATIONS, Family.IMAGES, Family.SEND
_ST = Family.STUDY
_REPORTS = "spineviewer.reports.writer"
_EXPORT = "spineviewer.annotations.export"
_IMAGES = "spineviewer.viewing.image_writers"
_STUDY = "spineviewer.annotations.study_objects"

#: The registry, in the order tools list and write the formats.
FORMATS: tuple[OutputFormat, ...] = (
    _format("json", "JSON report", ".json", [Need.REPORT], f"{_REPORTS}:write_json", [_R],
            default=[_R]),
    _format("html", "HTML report", ".html", [Need.REPORT, Need.KEY_IMAGES],
            f"{_REPORTS}:write_html", [_R], default=[_R]),
    _format("pdf", "PDF report", ".pdf", [Need.REPORT, Need.KEY_IMAGES],
            f"{_REPORTS}:write_pdf", [_R], default=[_R]),
    _format("findings-sr", "DICOM SR of the findings and annotations", ".dcm",
            [Need.STUDY, Need.MARKS], f"{_REPORTS}:write_findings_sr", [_R, _S], dicom=True,
            alias="sr", default=[_S]),
    _format("epdf", "The PDF report as an Encapsulated PDF", ".dcm",
            [Need.REPORT, Need.KEY_IMAGES, Need.STUDY], f"{_REPORTS}:write_epdf", [_R, _S],
            dicom=True, default=[_S]),
    _format("annotations-sr", "DICOM SR of the annotations (TID 1500)", ".dcm",
            [Need.STUDY, Need.ANNOTATIONS], f"{_EXPORT}:write_annotations_sr", [_A], dicom=True,
            alias="sr", default=[_A]),
    _format("seg", "DICOM SEG of the filled shapes", ".dcm", [Need.STUDY, Need.ANNOTATIONS],
            f"{_EXPORT}:write_seg", [_A], dicom=True, default=[_A]),
    _format("coco", "COCO training set (JSON, labels, PNG images)", ".json",
            [Need.STUDY, Need.ANNOTATIONS], f"{_EXPORT}:write_coco", [_A], default=[_A]),
    _format("kos", "Key images as a DICOM Key Object Selection", ".dcm",
            [Need.STUDY, Need.MARKS], f"{_EXPORT}:write_kos", [_R, _A, _S], dicom=True,
            default=[_S]),
    _format("gsps", "Accepted marks and windows as a DICOM Presentation State", ".dcm",
            [Need.STUDY, Need.ANNOTATIONS], f"{_EXPORT}:write_gsps", [_R, _A, _S], dicom=True,
            default=[_S]),
    _format("png", "PNG image", ".png", [Need.VIEW], f"{_IMAGES}:write_image", [_I]),
    _format("jpeg", "JPEG image", ".jpg", [Need.VIEW], f"{_IMAGES}:write_image", [_I]),
    _format("mp4", "H.264 MP4 cine loop", ".mp4", [Need.VIEW], f"{_IMAGES}:write_mp4", [_I]),
    _format("png-sequence", "Numbered PNG images in a folder", "", [Need.VIEW],
            f"{_IMAGES}:write_sequence", [_I]),
    _format("dicomdir", "Anonymised study: a folder with a DICOMDIR", "", [Need.STUDY],
            f"{_STUDY}:write_dicomdir", [_ST], default=[_ST]),
    _format("zip", "Anonymised study: a zip of that folder", ".zip", [Need.STUDY],
            f"{_STUDY}:write_zip", [_ST]),
)  # fmt: skip

_BY_NAME = {f.name: f for f in FORMATS}


def get(name: str) -> OutputFormat:
    """The format called ``name`` (canonical name); ValueError names the valid ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown output format {name!r}; choose from {', '.join(_BY_NAME)}"
        ) from None


def of(family: Family) -> tuple[OutputFormat, ...]:
    """The formats of one family, in registry order."""
    return tuple(f for f in FORMATS if family in f.families)


def names(family: Family) -> tuple[str, ...]:
    """The canonical names of one family's formats."""
    return tuple(f.name for f in of(family))


def choices(family: Family) -> tuple[str, ...]:
    """What a command line of ``family`` accepts: the names, then the old spellings."""
    return names(family) + tuple(f.alias for f in of(family) if f.alias)


def defaults(family: Family) -> tuple[str, ...]:
    """What ``family`` writes when no format is asked for."""
    return tuple(f.name for f in of(family) if family in f.default_in)


def sendable(family: Family = Family.REPORT) -> tuple[OutputFormat, ...]:
    """The family's DICOM formats: what a PACS accepts."""
    return tuple(f for f in of(family) if f.dicom)


def store_hint(family: Family = Family.REPORT) -> str:
    """What to add to ``--format`` for ``--store``, in the family's spellings: ``add sr or epdf
    to --format (kos, gsps are DICOM too)``."""
    spelt = [f.alias or f.name for f in sendable(family)]
    first, rest = spelt[:2], spelt[2:]
    extra = f" ({', '.join(rest)} are DICOM too)" if rest else ""
    return f"add {' or '.join(first)} to --format{extra}"


def resolve(name: str, family: Family) -> OutputFormat:
    """The format ``name`` (or its old spelling) means in ``family``; ValueError says which
    names the family accepts."""
    key = name.strip().lower()
    for fmt in of(family):
        if key in (fmt.name, fmt.alias):
            return fmt
    raise ValueError(
        f"unknown {family.value} format {name!r}; choose from {', '.join(choices(family))}"
    )


def parse(names_: str | Sequence[str], family: Family) -> list[OutputFormat]:
    """The formats a comma-separated text (or a list) asks for, each once, in the order given."""
    items = names_.split(",") if isinstance(names_, str) else list(names_)
    out: list[OutputFormat] = []
    for item in items:
        if item.strip():
            fmt = resolve(item, family)
            if fmt not in out:
                out.append(fmt)
    return out


def write(fmt: OutputFormat, sources: Sources) -> list[Path]:
    """The files of ``fmt`` written from ``sources`` (once per run: a second call returns
    the first call's files). ValueError when a need is missing."""
    if fmt.name in sources.written:
        return sources.written[fmt.name]
    if Need.VIEW in fmt.needs:
        raise ValueError(f"{fmt.name} is written from a rendered view (spineviewer export-images)")
    if Need.REPORT in fmt.needs and sources.report is None:
        raise ValueError(f"{fmt.name} needs {Need.REPORT.value}")
    if Need.STUDY in fmt.needs and not sources.stacks:
        raise ValueError(f"{fmt.name} needs {Need.STUDY.value}")
    files: list[Path] = fmt.load_writer()(sources)
    sources.written[fmt.name] = files
    return files
