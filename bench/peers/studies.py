"""The bench's studies, generated once into a cache folder: a CT series of known grey values,
uncompressed and JPEG 2000 lossless, and the demo lumbar MR.

The CT (12 bits stored, unsigned, rescale intercept -1024, window centre 1024 HU / width 4096):
air 0 outside a body disc of stored 2048, a small insert of 4095 in every slice (so the slice
and the volume span the whole 12-bit range) and an inner disc of 1024 + 16 x (index mod 40):
one grey level (of 256) a slice, so each step shows, and darker than the body; on the last
slice alone the inner disc is body too. At the DICOM window, at the slice's or the volume's
minimum and maximum, or at the full 12-bit range, the body shows mid-grey
(:data:`~peers.capture.BODY_BAND`), and the last slice shows about a third more of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
from ct_files import ct_dataset
from pydicom.uid import JPEG2000Lossless, generate_uid

BODY_STORED = 2048
RAMP_START, RAMP_STEP, RAMP_PERIOD = 1024, 16, 40


def ct_pixels(index: int, slices: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Slice ``index`` of ``slices``: the values the module docstring describes."""
    yy, xx = np.mgrid[0:size, 0:size]
    radius2 = (yy - size / 2) ** 2 + (xx - size / 2) ** 2
    body = radius2 < (0.4 * size) ** 2
    inner = radius2 < (0.2 * size) ** 2
    insert = ((yy - 0.2 * size) ** 2 + (xx - size / 2) ** 2) < (0.03 * size) ** 2
    if index == slices - 1:
        inner_value = BODY_STORED
    else:
        inner_value = RAMP_START + RAMP_STEP * (index % RAMP_PERIOD)
    pixels = np.zeros((size, size), dtype=np.int32)
    pixels[body] = BODY_STORED
    pixels[inner] = inner_value
    pixels[body] += rng.integers(-4, 5, size=int(body.sum()))
    pixels[insert] = 4095
    return np.clip(pixels, 0, 4095).astype(np.uint16)


def write_ct(folder: Path, slices: int, size: int = 512, j2k: bool = False) -> None:
    """The CT series into ``folder`` (IM00001.dcm ... in slice order, z ascending)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(24)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    for k in range(slices):
        ds = ct_dataset(study, series, frame, ("BENCH^PEERS", "BENCHPEERS"))
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240101", "120000", "1", ""
        ds.ReferringPhysicianName, ds.PatientBirthDate, ds.PatientSex = "", "", "O"
        ds.SeriesDescription = "bench peers CT" + (" J2K" if j2k else "")
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImagePositionPatient = [-200.0, -200.0, -312.0 + 1.25 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SliceLocation = -312.0 + 1.25 * k
        ds.PixelSpacing = [0.78125, 0.78125]
        ds.SliceThickness = 1.25
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 1024, 4096
        pixels = ct_pixels(k, slices, size, rng)
        if j2k:
            ds.compress(JPEG2000Lossless, pixels, encoding_plugin="pylibjpeg")
        else:
            ds.PixelData = pixels.tobytes()
        ds.save_as(folder / f"IM{k + 1:05d}.dcm", enforce_file_format=True)


def ensure_studies(cache: Path, slices: int, log=print) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """The studies under ``cache``, generated when missing or made for another slice count:
    ``{"ct": folder, "ct_j2k": folder, "mr": the demo MR's sagittal T2 folder}``."""
    cache.mkdir(parents=True, exist_ok=True)
    stamp = cache / "studies.json"
    wanted = {"slices": slices, "version": 2}
    folders = {
        "ct": cache / f"ct-{slices}",
        "ct_j2k": cache / f"ct-{slices}-j2k",
        "mr": cache / "mr" / "lumbar-mr-00001" / "S01_sagittal_t2",
    }
    if (
        stamp.exists()
        and json.loads(stamp.read_text()) == wanted
        and all(f.is_dir() for f in folders.values())
    ):
        return folders
    started = time.perf_counter()
    for key, j2k in (("ct", False), ("ct_j2k", True)):
        for old in folders[key].glob("*.dcm"):
            old.unlink()
        log(f"writing {slices} CT slices{' (JPEG 2000 lossless)' if j2k else ''}")
        write_ct(folders[key], slices, j2k=j2k)
    if not folders["mr"].is_dir():
        log("generating the demo lumbar MR")
        subprocess.run(
            [sys.executable, "-m", "spineviewer", "phantom", str(cache / "mr"),
             "--kind", "lumbar-mr", "--count", "1", "--seed", "1"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    stamp.write_text(json.dumps(wanted))
    log(f"studies ready in {time.perf_counter() - started:.0f} s")
    return folders


def transfer_syntax(folder: Path) -> str:
    """The transfer syntax name of the first file of ``folder``."""
    first = sorted(folder.glob("*.dcm"))[0]
    return str(pydicom.dcmread(first, stop_before_pixels=True).file_meta.TransferSyntaxUID.name)
