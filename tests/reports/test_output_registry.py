"""The output-format registry (spineviewer.formats) is the only list of formats: no other
tuple of format names in the source, every command line's choices and every dialog's
checkboxes come from it, each study format round-trips through its writer on the demo
phantom, and an unknown format is answered with the valid ones."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from spineviewer import formats as registry
from spineviewer.ai.analysis import analyse_path
from spineviewer.annotations import AnnotationDocument, Status
from spineviewer.annotations.export import export_study
from spineviewer.annotations.gsps_read import read_gsps_for
from spineviewer.annotations.kos import read_kos
from spineviewer.annotations.proposals import proposals_from_findings
from spineviewer.cli import build_parser, main
from spineviewer.dicom import scan
from spineviewer.dicom.anonymise import Anonymiser
from spineviewer.formats import Family
from spineviewer.reports import build_report
from spineviewer.reports.writer import write_report_set

PACKAGE = Path(__file__).resolve().parents[2] / "spineviewer"
#: The image export's own lists (viewing/, cli/export_images.py), kept equal to the
#: registry's ``images`` family below until they read it.
IMAGE_EXPORT = ("viewing/image_writers.py", "cli/export_images.py")
SOP = {
    "findings-sr": "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
    "annotations-sr": "1.2.840.10008.5.1.4.1.1.88.34",
    "epdf": "1.2.840.10008.5.1.4.1.1.104.1",
    "seg": "1.2.840.10008.5.1.4.1.1.66.4",
    "kos": "1.2.840.10008.5.1.4.1.1.88.59",
    "gsps": "1.2.840.10008.5.1.4.1.1.11.1",
}


def _format_lists(path: Path) -> list[tuple[int, list[str]]]:
    """Literal tuples, lists, sets and dict keys made only of format names (two or more)."""
    words = {f.name for f in registry.FORMATS} | {f.alias for f in registry.FORMATS if f.alias}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = list(node.elts)
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        texts = [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
        if len(texts) >= 2 and len(texts) == len(items) and set(texts) <= words:
            found.append((node.lineno, texts))
    return found


def test_the_registry_is_the_only_list_of_formats() -> None:
    others = {
        path.relative_to(PACKAGE).as_posix(): lists
        for path in PACKAGE.rglob("*.py")
        if path.name != "formats.py" or path.parent != PACKAGE
        if (lists := _format_lists(path))
    }
    assert set(others) <= set(IMAGE_EXPORT), others
    assert _format_lists(PACKAGE / "formats.py") == []  # built by calls, not a name list


def test_the_scan_finds_a_list_of_format_names(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('FORMATS = ("sr", "seg", "coco")\nOTHER = ("a", "sr")\n')
    assert _format_lists(sample) == [(1, ["sr", "seg", "coco"])]


def test_the_image_export_lists_equal_the_registry() -> None:
    from spineviewer.cli.export_images import FORMATS
    from spineviewer.viewing.image_writers import IMAGE_FORMATS, SERIES_FORMATS

    images = registry.names(Family.IMAGES)
    assert tuple(FORMATS) == images
    assert (*IMAGE_FORMATS, *SERIES_FORMATS) == images


def _option(parser_args: list[str], dest: str):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in parser_args:
        parser = sub[name]
        actions = parser._subparsers._group_actions[0].choices if parser._subparsers else None
        sub = actions or sub
    return next(a for a in parser._actions if a.dest == dest)


def test_every_command_line_lists_the_registry() -> None:
    export = _option(["annotations", "export"], "formats")
    assert tuple(export.choices) == registry.choices(Family.ANNOTATIONS)
    assert export.default == list(registry.defaults(Family.ANNOTATIONS))
    assert "sr" in export.choices  # the old spelling
    images = _option(["export-images"], "format")
    assert tuple(images.choices) == registry.names(Family.IMAGES)
    for command in ("report", "batch"):
        option = _option([command], "format")
        assert option.default == ",".join(registry.defaults(Family.REPORT))
        for fmt in registry.of(Family.REPORT):
            assert fmt.name in option.help, (command, fmt.name)


def test_every_dialog_lists_the_registry(qapp) -> None:
    from spineviewer.gui.format_checks import FormatsDialog
    from spineviewer.gui.pacs_send import SEND_FORMATS

    assert registry.of(Family.SEND) == SEND_FORMATS
    assert set(SEND_FORMATS) <= set(registry.sendable(Family.REPORT))
    assert {f.name for f in registry.sendable(Family.REPORT)} == {
        "findings-sr", "epdf", "kos", "gsps",
    }  # fmt: skip
    dialog = FormatsDialog(None, Family.ANNOTATIONS, "Export annotations")
    labels = [box.text() for box in dialog.checks.values()]
    assert labels == [f.label for f in registry.of(Family.ANNOTATIONS)]
    assert dialog.formats() == ["sr", "seg", "coco"]  # the defaults, in the CLI spelling
    dialog.checks["gsps"].setChecked(True)
    assert [f.name for f in registry.parse(dialog.formats(), Family.ANNOTATIONS)] == [
        "annotations-sr", "seg", "coco", "gsps",
    ]  # fmt: skip


def test_the_old_sr_spelling_keeps_its_meaning_in_each_family() -> None:
    assert registry.resolve("sr", Family.REPORT).name == "findings-sr"
    assert registry.resolve("SR", Family.ANNOTATIONS).name == "annotations-sr"
    assert registry.get("findings-sr").writer != registry.get("annotations-sr").writer
    assert [f.name for f in registry.parse("json, sr,json", Family.REPORT)] == [
        "json", "findings-sr",
    ]  # fmt: skip


def test_an_unknown_format_is_answered_with_the_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError) as raised:
        registry.resolve("dicom", Family.REPORT)
    for name in registry.choices(Family.REPORT):
        assert name in str(raised.value)
    assert "coco" not in str(raised.value)  # another family's
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "o"), "--format", "png"]) == 2
    err = capsys.readouterr().err
    assert "unknown report format 'png'" in err and "findings-sr" in err and "gsps" in err
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--format", "x"]) == 2
    assert "choose from json, html, pdf" in capsys.readouterr().err
    with pytest.raises(ValueError, match="choose from annotations-sr, seg, coco, kos, gsps"):
        export_study(AnnotationDocument("1.2.3"), [], tmp_path / "o", ["pdf"])
    with pytest.raises(ValueError, match="unknown output format 'x'; choose from json"):
        registry.get("x")


def test_a_writer_says_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pdf needs the report"):
        registry.write(registry.get("pdf"), registry.Sources(tmp_path))
    with pytest.raises(ValueError, match="kos needs the study's images"):
        registry.write(registry.get("kos"), registry.Sources(tmp_path))
    with pytest.raises(ValueError, match="rendered view"):
        registry.write(registry.get("mp4"), registry.Sources(tmp_path))


@pytest.fixture(scope="module")
def reviewed_study(demo_study_dir: Path):
    """The demo study, its findings and a document of its proposals, half of them accepted."""
    study = scan(demo_study_dir).studies[0]
    (findings,) = analyse_path(demo_study_dir, provider="cpu")
    stacks = [st for series in study.series for st in series.stacks]
    proposals = proposals_from_findings(findings, stacks)
    marks = [replace(p, status=Status.ACCEPTED) if i % 2 else p for i, p in enumerate(proposals)]
    return study, findings, AnnotationDocument(study.uid, annotations=marks)


def _check(fmt: str, files: list[Path], study_uid: str) -> None:
    """Each file of ``fmt`` read back as what it claims to be."""
    assert files, fmt
    for path in files:
        assert path.is_file() and path.stat().st_size > 0, path
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".html":
            assert "NOT FOR CLINICAL USE" in path.read_text(encoding="utf-8")
        elif path.suffix == ".pdf":
            assert path.read_bytes()[:5] == b"%PDF-"
        elif path.suffix == ".dcm":
            ds = pydicom.dcmread(path)
            assert str(ds.SOPClassUID) == SOP[fmt] and ds.StudyInstanceUID == study_uid


@pytest.mark.parametrize("fmt", registry.names(Family.REPORT))
def test_each_report_format_round_trips_through_its_writer(
    reviewed_study, tmp_path: Path, fmt: str
) -> None:
    study, findings, document = reviewed_study
    report = build_report(study, findings, document)
    written = write_report_set(report, study, findings, document, tmp_path, [fmt])
    mine = [p for p in written if p.parent == tmp_path]
    suffix = registry.get(fmt).suffix
    assert mine and mine[-1].suffix == suffix
    _check(fmt, [p for p in mine if p.suffix == suffix], study.uid)
    if fmt == "kos":
        keys = read_kos(mine[0])
        on = {a.image.sop_instance_uid for a in document if a.status != Status.REJECTED}
        assert {k.sop_instance_uid for k in keys.images} == on
    if fmt == "gsps":
        state = read_gsps_for(mine[0], [s for se in study.series for s in se.stacks])
        assert {a.uid for a in state.annotations} == {
            a.uid for a in document if a.status == Status.ACCEPTED
        }


@pytest.mark.parametrize("fmt", registry.names(Family.ANNOTATIONS))
def test_each_annotation_format_round_trips_through_its_writer(
    reviewed_study, tmp_path: Path, fmt: str
) -> None:
    study, _, document = reviewed_study
    stacks = [st for series in study.series for st in series.stacks]
    result = export_study(document, stacks, tmp_path, [fmt])
    assert result.exported == len(document)
    _check(fmt, [p for p in result.files if p.suffix == ".dcm"] or result.files, study.uid)


def test_anonymised_kos_and_gsps_name_no_patient(reviewed_study, tmp_path: Path) -> None:
    study, findings, document = reviewed_study
    anonymiser = Anonymiser(b"k" * 32).for_patient(study.info.get("PatientID", ""))
    report = build_report(study, findings, document, anonymiser=anonymiser)
    written = write_report_set(
        report, study, findings, document, tmp_path, ["kos", "gsps"], anonymiser=anonymiser
    )
    assert [p.name for p in written] == ["key_images_kos.dcm", "presentation_state_gsps.dcm"]
    for path in written:
        ds = pydicom.dcmread(path)
        assert ds.StudyInstanceUID != study.uid
        assert str(ds.PatientName) != study.info.get("PatientName")
        assert study.info["PatientID"] not in str(ds.PatientID)
    assert not list(tmp_path.glob(".*partial*"))


def test_the_formats_page_lists_every_format() -> None:
    page = (PACKAGE.parent / "docs" / "formats.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`") for line in page.splitlines()
            if line.startswith("| `")}  # fmt: skip
    assert rows == {f.name for f in registry.FORMATS}
