"""Text values of the header layer decoded by the file's Specific Character Set (issue 22).

pydicom's character set test files (Latin-1, UTF-8, GB18030, Cyrillic, Greek, Arabic, Hebrew,
and the ISO 2022 code extensions of Japanese and Korean) are read by the header layer and
compared, value by value, with pydicom's own full decoding of the same element; a UTF-8
series description goes through the real scan and ``spineviewer info``; malformed bytes give
replacement characters, never a refused file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from conftest import SliceWriter
from pydicom import config
from pydicom.charset import python_encoding
from pydicom.data import get_charset_files
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from spineviewer.cli import main
from spineviewer.dicom import scan
from spineviewer.dicom.charsets import CHARSET_VRS, plain
from spineviewer.dicom.header import read_instance_frames, text_value
from spineviewer.dicom.sources import FileRef

DESCRIPTION = "Wirbelsäule T2 腰椎"

#: pydicom's character set test images, and the character set each one names.
CHARSET_IMAGES = {
    "chrArab.dcm": "ISO_IR 127",
    "chrFren.dcm": "ISO_IR 100",
    "chrFrenMulti.dcm": "ISO_IR 100",
    "chrGerm.dcm": "ISO_IR 100",
    "chrGreek.dcm": "ISO_IR 126",
    "chrH31.dcm": "\\ISO 2022 IR 87",
    "chrH32.dcm": "ISO 2022 IR 13\\ISO 2022 IR 87",
    "chrHbrw.dcm": "ISO_IR 138",
    "chrI2.dcm": "\\ISO 2022 IR 149",
    "chrJapMulti.dcm": "\\ISO 2022 IR 87",
    "chrJapMultiExplicitIR6.dcm": "ISO 2022 IR 6\\ISO 2022 IR 87",
    "chrKoreanMulti.dcm": "\\ISO 2022 IR 149",
    "chrRuss.dcm": "ISO_IR 144",
    "chrX1.dcm": "ISO_IR 192",
    "chrX2.dcm": "GB18030",
}
#: Files whose text sits in sequence items that inherit the top level's character set.
CHARSET_SEQUENCES = ("chrSQEncoding.dcm", "chrSQEncoding1.dcm")


def charset_file(name: str) -> Path:
    found = get_charset_files(name)
    assert found, f"pydicom charset test file {name} is not installed"
    return Path(found[0])


def shown(value: object) -> str:
    """pydicom's decoded value as the header layer gives it (values joined by a backslash)."""
    if isinstance(value, MultiValue | list):
        return "\\".join(str(v).strip() for v in value)
    return str(value).strip()


def compare_texts(raw: Dataset, full: Dataset) -> list[str]:
    """Check every text element of ``raw`` (read lazily: values still undecoded) against
    pydicom's decoding of ``full``; the non-ASCII values compared."""
    compared = []
    for elem in full:
        if elem.VR not in CHARSET_VRS or not elem.keyword:
            continue
        expected = shown(elem.value)
        assert text_value(raw, elem.keyword) == expected, elem.keyword
        if not expected.isascii():
            compared.append(expected)
    return compared


@pytest.mark.parametrize("name", sorted(CHARSET_IMAGES))
def test_text_values_match_pydicom_decoding(name: str) -> None:
    path = charset_file(name)
    charset = pydicom.dcmread(path, stop_before_pixels=True).SpecificCharacterSet
    assert shown(charset) == CHARSET_IMAGES[name]
    raw = pydicom.dcmread(path, stop_before_pixels=True)  # read lazily: nothing decoded yet
    non_ascii = compare_texts(raw, pydicom.dcmread(path))
    assert non_ascii, f"{name}: no non-ASCII text was compared"


@pytest.mark.parametrize("name", CHARSET_SEQUENCES)
def test_sequence_items_inherit_the_character_set(name: str) -> None:
    path = charset_file(name)
    raw, full = pydicom.dcmread(path), pydicom.dcmread(path)
    items = [
        (raw_item, full_item)
        for raw_elem, full_elem in zip(raw, full, strict=True)
        if full_elem.VR == "SQ"
        for raw_item, full_item in zip(raw_elem.value, full_elem.value, strict=True)
    ]
    assert items
    non_ascii = [
        text for raw_item, full_item in items for text in compare_texts(raw_item, full_item)
    ]
    assert "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう" in non_ascii


@pytest.fixture
def charset_study(tmp_path: Path) -> Path:
    """Every charset test image, its PatientName's encoded bytes copied unchanged into the
    SeriesDescription, StudyDescription and InstitutionName (LO) of the same file."""
    folder = tmp_path / "charsets"
    folder.mkdir()
    for name in CHARSET_IMAGES:
        ds = pydicom.dcmread(charset_file(name))
        lazy = pydicom.dcmread(charset_file(name), stop_before_pixels=True)
        encoded = lazy._dict[0x00100010].value  # the raw element, not yet decoded
        assert isinstance(encoded, bytes)
        for keyword in ("SeriesDescription", "StudyDescription", "InstitutionName"):
            ds[keyword] = pydicom.DataElement(keyword, "LO", encoded)
        ds.save_as(folder / name)
    return folder


def test_scanned_descriptions_match_pydicom_in_every_character_set(charset_study: Path) -> None:
    for path in sorted(charset_study.iterdir()):
        full = pydicom.dcmread(path)
        (frame,) = read_instance_frames(FileRef(path))
        instance = frame.instance
        assert instance.series_description == shown(full.SeriesDescription), path.name
        assert instance.study["StudyDescription"] == shown(full.StudyDescription), path.name
        assert instance.study["InstitutionName"] == shown(full.InstitutionName), path.name
        assert instance.study["PatientName"] == shown(full.PatientName), path.name
    # the decoding is not latin-1's: the Japanese name came out as pydicom reads it
    frame = read_instance_frames(FileRef(charset_study / "chrH31.dcm"))[0]
    assert frame.instance.series_description == "Yamada^Tarou=山田^太郎=やまだ^たろう"
    assert frame.instance.study["PatientName"] == "Yamada^Tarou=山田^太郎=やまだ^たろう"
    result = scan(charset_study)
    assert not result.skipped
    descriptions = {s.description for study in result.studies for s in study.series}
    assert {"Люкceмбypг", "Διονυσιος", "Wang^XiaoDong=王^小东=", "김희중"} <= descriptions


def test_utf8_description_through_scan_and_info(
    tmp_path: Path, write_ct_slice: SliceWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "utf8"
    for k in range(3):
        write_ct_slice(
            folder / f"im{k}.dcm",
            position=(0.0, 0.0, 2.0 * k),
            instance_number=k + 1,
            SpecificCharacterSet="ISO_IR 192",
            SeriesDescription=DESCRIPTION,
            StudyDescription="Lendenwirbelsäule ＭＲＴ",
            InstitutionName="Klinikum Süd",
            PatientName="Müller^Jörg=山田^太郎",
            AdmittingDiagnosesDescription=["Rückenschmerz", "腰痛"],
        )
    assert b"Wirbels\xc3\xa4ule T2 \xe8\x85\xb0\xe6\xa4\x8e" in (folder / "im0.dcm").read_bytes()
    result = scan(folder)
    (study,) = result.studies
    (series,) = study.series
    assert series.description == DESCRIPTION
    assert study.info["StudyDescription"] == "Lendenwirbelsäule ＭＲＴ"
    assert study.info["InstitutionName"] == "Klinikum Süd"
    assert study.info["PatientName"] == "Müller^Jörg=山田^太郎"
    raw = pydicom.dcmread(folder / "im0.dcm", stop_before_pixels=True)
    assert text_value(raw, "AdmittingDiagnosesDescription") == "Rückenschmerz\\腰痛"

    assert main(["info", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["studies"][0]["series"][0]["description"] == DESCRIPTION
    assert data["studies"][0]["PatientName"] == "Müller^Jörg=山田^太郎"
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert DESCRIPTION in out
    assert "Lendenwirbelsäule ＭＲＴ" in out
    assert "Ã" not in out  # no UTF-8 bytes read as latin-1

    done = _info_in_a_terminal(folder, "utf-8")
    assert DESCRIPTION.encode() in done.stdout


def test_multibyte_character_holding_a_backslash_byte_stays_whole(
    tmp_path: Path, write_ct_slice: SliceWriter
) -> None:
    """In GB18030, 乗 is 0x81 0x5C: the 0x5C is no value separator once decoded."""
    path = write_ct_slice(
        tmp_path / "gb.dcm", SpecificCharacterSet="GB18030", SeriesDescription="腰椎 乗 T2"
    )
    assert "乗".encode("gb18030") in path.read_bytes()
    (frame,) = read_instance_frames(FileRef(path))
    assert frame.instance.series_description == "腰椎 乗 T2"
    assert frame.instance.series_description == pydicom.dcmread(path).SeriesDescription


@pytest.mark.parametrize("mode", [config.WARN, config.RAISE])
def test_malformed_bytes_give_replacement_characters(
    tmp_path: Path,
    write_ct_slice: SliceWriter,
    monkeypatch: pytest.MonkeyPatch,
    mode: int,
) -> None:
    """Bad UTF-8: the value is kept with U+FFFD where the bytes were bad; a bad ISO 2022
    code extension: the value is kept, as pydicom reads it (also when pydicom is told to raise
    on invalid values)."""
    utf8 = write_ct_slice(
        tmp_path / "utf8.dcm",
        SpecificCharacterSet="ISO_IR 192",
        SeriesDescription=b"Wirbels\xc3ule \xff T2",
        StudyDescription=b"ok \xe8\x85",
        PatientName=b"M\xfcller^J=\xe5\xb1\xb1",
    )
    jis = write_ct_slice(
        tmp_path / "jis.dcm",
        sop_uid="1.2.826.0.1.3680043.8.498.4242.99",
        SpecificCharacterSet=["", "ISO 2022 IR 87"],
        SeriesDescription=b"T2 \x1b$B\x7f\x7f\x1b(B sag",
        SeriesInstanceUID="1.2.826.0.1.3680043.8.498.4242.2.99",
        PatientName=b"Yamada^Tarou=\x1b$B;3\x1b(B\x1b$B\xff\x1b(B",
    )
    monkeypatch.setattr(config.settings, "reading_validation_mode", mode)
    series = read_instance_frames(FileRef(utf8))[0].instance
    assert series.series_description == "Wirbels\ufffdule \ufffd T2"
    assert series.study["StudyDescription"] == "ok \ufffd"
    assert series.study["PatientName"] == "M\ufffdller^J=山"
    japanese = read_instance_frames(FileRef(jis))[0].instance
    assert japanese.series_description.startswith("T2 \x1b$B")
    assert japanese.series_description.endswith(" sag")
    assert japanese.study["PatientName"].startswith("Yamada^Tarou=")
    result = scan(tmp_path)
    assert not result.skipped
    (study,) = result.studies
    assert {s.description for s in study.series} == {
        "Wirbels\ufffdule \ufffd T2",
        japanese.series_description,
    }


def test_unknown_character_set_reads_as_the_default(
    tmp_path: Path, write_ct_slice: SliceWriter
) -> None:
    with pytest.warns(UserWarning, match="Unknown encoding 'ISO_IR 999'"):
        path = write_ct_slice(
            tmp_path / "unknown.dcm",
            SpecificCharacterSet="ISO_IR 999",
            SeriesDescription=b"Wirbels\xe4ule",
        )
    assert read_instance_frames(FileRef(path))[0].instance.series_description == "Wirbelsäule"


def test_info_text_output_survives_a_terminal_without_those_characters(
    tmp_path: Path, write_ct_slice: SliceWriter
) -> None:
    write_ct_slice(
        tmp_path / "im.dcm", SpecificCharacterSet="ISO_IR 192", SeriesDescription=DESCRIPTION
    )
    done = _info_in_a_terminal(tmp_path, "ascii")
    assert b"Wirbels\\xe4ule T2 \\u8170\\u690e" in done.stdout


def _info_in_a_terminal(folder: Path, encoding: str) -> subprocess.CompletedProcess[bytes]:
    """``spineviewer info FOLDER`` in a child whose terminal takes ``encoding``: exit 0, no
    traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "spineviewer", "info", str(folder)],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": encoding},
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    return done


def test_the_latin1_shortcut_is_exact_for_every_character_set_pydicom_knows() -> None:
    """7-bit bytes without ESC skip the character set lookup: every codec pydicom maps a
    DICOM term to reads them as ASCII (shift_jis included)."""
    seven_bit = bytes(b for b in range(128) if b != 0x1B)
    assert plain(seven_bit) and not plain(b"\x1b$B") and not plain(b"caf\xe9")
    for term, codec in python_encoding.items():
        assert seven_bit.decode(codec) == seven_bit.decode("latin-1"), term
