"""``spineviewer export-images STUDY --series N|--series-uid UID --out PATH [--format
png|jpeg|mp4|png-sequence] [--slice K] [--window C W] [--fps F] [--overlays] [--phi-free]``.

Writes a series' images as the viewer shows them (VOI window or VOI LUT, MONOCHROME1 inverted,
true aspect): one slice as PNG or JPEG, the whole series as an H.264 MP4 cine loop or a folder
of numbered PNGs. ``--overlays`` burns in the corner text; with ``--phi-free`` it names no
patient. Nothing half-written is left on failure (temporary name, renamed when complete).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spineviewer import formats as registry
from spineviewer.cli.analyze import print_not_read

if TYPE_CHECKING:
    from spineviewer.dicom import Series, Study

COMMAND = "export-images"
#: The image formats of the output-format registry (:mod:`spineviewer.formats`).
FORMATS = registry.names(registry.Family.IMAGES)
DEFAULT_FPS = 10.0


def _fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected frames per second, got {text!r}") from None
    if not 0.0 < value <= 120.0:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 120, got {value:g}")
    return value


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        COMMAND,
        help="write a series as PNG / JPEG images, a PNG sequence or an MP4 cine loop",
        description=(
            "Write the images of one series as the viewer shows them: one slice as PNG or "
            "JPEG, every slice as numbered PNGs in a folder, or an H.264 MP4 cine loop."
        ),
    )
    parser.add_argument("study", type=Path, help="study folder, zip, DICOMDIR or file")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--series", type=int, metavar="N", help="the series number (SeriesNumber)")
    which.add_argument("--series-uid", metavar="UID", help="the SeriesInstanceUID")
    parser.add_argument("--out", type=Path, required=True, help="output file (or folder)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the --out suffix (.png, .jpg, .mp4; none: png-sequence)",
    )
    parser.add_argument(
        "--slice", type=int, metavar="K", help="png / jpeg: image K (1-based; default: middle)"
    )
    parser.add_argument(
        "--window",
        nargs=2,
        type=float,
        metavar=("C", "W"),
        help="window centre and width (default: the image's own VOI)",
    )
    parser.add_argument(
        "--fps", type=_fps, default=DEFAULT_FPS, help=f"mp4 frame rate (default {DEFAULT_FPS:g})"
    )
    parser.add_argument("--overlays", action="store_true", help="burn in the corner text")
    parser.add_argument(
        "--phi-free",
        action="store_true",
        help="with --overlays: no patient name, ID, birth date, study date or institution",
    )
    parser.set_defaults(func=run)


def _fail(text: str) -> int:
    print(f"spineviewer {COMMAND}: {text}", file=sys.stderr)
    return 1


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    from spineviewer.viewing.image_writers import format_of

    return format_of(args.out) or "png-sequence"


def _find_series(studies: tuple[Study, ...], args: argparse.Namespace) -> tuple[Study, Series]:
    """The one series asked for; ValueError naming what there is otherwise."""
    found = [
        (study, series)
        for study in studies
        for series in study.series
        if (series.uid == args.series_uid if args.series_uid else series.number == args.series)
    ]
    if len(found) == 1:
        return found[0]
    wanted = f"series UID {args.series_uid}" if args.series_uid else f"series {args.series}"
    if found:
        raise ValueError(f"{wanted} is in {len(found)} studies; name it with --series-uid")
    there = ", ".join(
        f"{s.number if s.number is not None else '-'} ({s.description or s.modality})"
        for study in studies
        for s in study.series
    )
    raise ValueError(f"no {wanted}; series here: {there}")


def run(args: argparse.Namespace) -> int:
    from spineviewer.dicom import DicomLoadError, Window, scan
    from spineviewer.dicom.errors import printable
    from spineviewer.viewing.image_export import ExportLook, render_frames, render_slice
    from spineviewer.viewing.image_writers import (
        ExportCancelled,
        write_image,
        write_mp4,
        write_sequence,
    )
    from spineviewer.viewing.source import StackListSource

    fmt = _format(args)
    if not args.study.exists():
        return _fail(f"{args.study}: no such file or folder")
    try:
        window = Window(*args.window) if args.window else None
    except ValueError as exc:
        return _fail(f"--window: {exc}")
    result = scan(args.study)
    print_not_read(COMMAND, result.skipped)
    if not result.studies:
        return _fail(f"{args.study}: no DICOM study found")
    try:
        study, series = _find_series(result.studies, args)
    except ValueError as exc:
        return _fail(f"{args.study}: {exc}")
    source = StackListSource.from_stacks(series.stacks)
    look = ExportLook(window, overlays=args.overlays, phi_free=args.phi_free, study=study.info)
    count = len(source)
    try:
        if fmt in ("png", "jpeg"):
            index = count // 2 if args.slice is None else args.slice - 1
            if not 0 <= index < count:
                return _fail(f"{args.study}: --slice {args.slice}: series has {count} images")
            written = [write_image(args.out, render_slice(source, index, look), fmt)]
        elif fmt == "mp4":
            write_mp4(args.out, render_frames(source, look), count, args.fps)
            written = [args.out]
        else:
            written = write_sequence(args.out, render_frames(source, look), count)
    except DicomLoadError as exc:
        return _fail(f"{args.study}: series {series.number}: {printable(str(exc))}")
    except (OSError, ValueError, RuntimeError, ExportCancelled) as exc:
        return _fail(f"{args.out}: {printable(str(exc))}")
    print(args.out if fmt == "png-sequence" else written[0])
    if fmt == "png-sequence":
        print(f"{len(written)} images", file=sys.stderr)
    return 0
