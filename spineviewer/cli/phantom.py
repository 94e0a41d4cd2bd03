"""``spineviewer phantom OUT_DIR --kind KIND [--count N] [--seed S]``: synthetic studies.

Study ``i`` gets seed ``S + i`` and goes to ``OUT_DIR/<kind>-<seed:05d>/``. Vertebral
compression fractures: ``--fracture-rate R`` (chance per vertebra) and ``--fracture
LABEL:KIND[:GRADE]`` (e.g. ``L1:wedge:2``; repeatable). Lumbar MR only: ``--fov full|T10-L5|
L2-S1|T10-S1|L1-S1`` (the sagittal field of view: T11..S1 with the sacrum, no sacral body,
from below L1, T10 to below the sacrum, from above L1), ``--lumbar-vertebrae 5|6`` (6: an L6
above S1), ``--sagittal-contrast T2|T1|STIR`` (repeatable: one sagittal series each, in that
order; T2 alone by default), or ``--profile wide`` (every study drawn over clinical ranges:
field of view, lumbar count, contrasts, spacing, matrix, thickness, noise, bias, each disc's
degeneration and contour; see ``spineviewer.phantom.wide``). Spine X-ray only: ``--xr-geometry
TAGS[:CR|DX[:FACTOR]]`` writes a radiograph magnified by a known factor (drawn 1.08-1.30 unless
given) whose header tells it by TAGS: detector (ImagerPixelSpacing alone), ermf
(EstimatedRadiographicMagnificationFactor), distances (DistanceSourceToPatient and
-Detector), geometry or fiducial (PixelSpacing with that PixelSpacingCalibrationType), to
``OUT_DIR/spine-xr-<seed>-<tags>[-<modality>][-x<factor>]/`` with the true body heights in
its ground truth (see ``spineviewer.phantom.xr``); ``--profile wide`` writes wide-profile
radiographs (contrast, soft tissue, ribs, pelvis, bowel gas, detector processing, spacing,
field, curve and implants drawn per study) to ``OUT_DIR/spine-xr-<seed>-wide/`` (see
``spineviewer.phantom.xr_wide``). Lumbar CT only:
``--scoliosis COBB[:APEX[:left|right[:ROTATION]]]`` bends the spine into a lateral curve with
axial rotation (defaults: apex L2, convex left, 10 degrees) and writes
``OUT_DIR/lumbar-ct-<seed>-scoliosis/``, the curve in its ground truth (see
``spineviewer.phantom.ct_scoliosis``). Without these options a study is the one
generated before they existed. Synthetic data: not for clinical use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from spineviewer.cli.arguments import positive_int, seed_number

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.phantom import MrOptions
    from spineviewer.phantom.fractures import FractureRequest
    from spineviewer.phantom.scoliosis_bend import Scoliosis
    from spineviewer.phantom.truth import StudyGroundTruth
    from spineviewer.phantom.xr import XrGeometry

#: ``spineviewer.phantom.KINDS`` (a test keeps them equal).
PHANTOM_KINDS = ("lumbar-mr", "spine-xr", "lumbar-ct")
#: ``spineviewer.phantom`` ``SAGITTAL_FOVS``, ``LUMBAR_COUNTS`` and ``CONTRAST_NAMES`` (a test
#: keeps them equal; the package is imported only when a command runs).
FOVS = ("full", "T10-L5", "L2-S1", "T10-S1", "L1-S1")
LUMBAR_COUNTS = ("5", "6")
CONTRASTS = ("T2", "T1", "STIR")
#: ``spineviewer.phantom`` ``PROFILES`` (a test keeps them equal).
PROFILES = ("standard", "wide")
#: The lumbar MR options, as argparse ``dest`` names.
_MR_OPTIONS = ("profile", "fov", "lumbar_vertebrae", "sagittal_contrast")


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, got {value}")
    return value


def _named(choices: tuple[str, ...]) -> Callable[[str], str]:
    """An argparse type accepting one of ``choices`` in any letter case."""

    def parse(text: str) -> str:
        for choice in choices:
            if text.upper() == choice.upper():
                return choice
        raise argparse.ArgumentTypeError(f"choose one of {', '.join(choices)}, got {text!r}")

    return parse


def _fracture(text: str) -> FractureRequest:
    from spineviewer.phantom.fractures import parse_fracture

    try:
        return parse_fracture(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _xr_geometry(text: str) -> XrGeometry:
    from spineviewer.phantom.xr import XrGeometry

    try:
        return XrGeometry.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scoliosis(text: str) -> Scoliosis:
    from spineviewer.phantom.scoliosis_bend import Scoliosis

    try:
        return Scoliosis.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``phantom`` subcommand."""
    parser = subparsers.add_parser(
        "phantom",
        help="write synthetic spine studies with ground truth (not for clinical use)",
        description=__doc__,
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="output folder")
    parser.add_argument("--kind", required=True, choices=PHANTOM_KINDS, help="study kind")
    parser.add_argument("--count", type=positive_int, default=1, help="number of studies (1)")
    parser.add_argument("--seed", type=seed_number, default=0, help="seed of the first study (0)")
    parser.add_argument(
        "--fracture-rate",
        type=_rate,
        default=0.0,
        metavar="R",
        help="chance that each vertebra has a compression fracture (0; X-ray: crush only)",
    )
    parser.add_argument(
        "--fracture",
        type=_fracture,
        action="append",
        default=[],
        metavar="LABEL:KIND[:GRADE]",
        help="a fracture at one vertebra: wedge, crush or biconcave, Genant grade 1-3 (repeatable)",
    )
    mr = parser.add_argument_group("lumbar MR options (--kind lumbar-mr)")
    mr.add_argument(
        "--profile",
        type=_named(PROFILES),
        metavar="|".join(PROFILES),
        help="standard (the default) or wide: field of view, lumbar count, contrasts, pixel "
        "spacing, matrix, thickness, noise, bias and each disc's degeneration and contour drawn "
        "per study (not with --fov, --lumbar-vertebrae, --sagittal-contrast); with --kind "
        "spine-xr: wide-profile radiographs (spineviewer.phantom.xr_wide)",
    )
    mr.add_argument(
        "--fov",
        type=_named(FOVS),
        metavar="|".join(FOVS),
        help="sagittal field of view: full (T11..S1 and sacrum, the default), T10-L5 (no sacral "
        "body), L2-S1 (the image starts below L1), T10-S1, L1-S1 (starts above L1)",
    )
    mr.add_argument(
        "--lumbar-vertebrae",
        type=_named(LUMBAR_COUNTS),
        metavar="|".join(LUMBAR_COUNTS),
        help="lumbar vertebrae: 5 (the default) or 6 (transitional anatomy: L6 above S1)",
    )
    mr.add_argument(
        "--sagittal-contrast",
        type=_named(CONTRASTS),
        action="append",
        metavar="|".join(CONTRASTS),
        help="a sagittal series of this contrast (repeatable, in this order; T2 alone by default)",
    )
    xr = parser.add_argument_group("spine X-ray options (--kind spine-xr)")
    xr.add_argument(
        "--xr-geometry",
        type=_xr_geometry,
        metavar="TAGS[:CR|DX[:FACTOR]]",
        help="a magnified radiograph whose header tells the magnification by TAGS: detector, "
        "ermf, distances, geometry or fiducial; CR or DX (the seed's by default); the factor "
        "SID/SOD (1-2; drawn 1.08-1.30 by default)",
    )
    ct = parser.add_argument_group("lumbar CT options (--kind lumbar-ct)")
    ct.add_argument(
        "--scoliosis",
        type=_scoliosis,
        metavar="COBB[:APEX[:left|right[:ROTATION]]]",
        help="a lateral curve of COBB degrees (0-80) with its apex (L2), convex side (left) "
        "and apical axial rotation (10 degrees, 0-45)",
    )
    parser.set_defaults(func=run)


def _mr_options(args: argparse.Namespace) -> MrOptions | None:
    """The MR options asked for (``None`` when none was given); ValueError when misplaced."""
    from spineviewer.phantom import MrOptions

    given = [name for name in _MR_OPTIONS if getattr(args, name) is not None]
    if not given:
        return None
    if args.kind != "lumbar-mr":
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ValueError(f"{flags}: only for --kind lumbar-mr, not {args.kind}")
    profile = args.profile or "standard"
    if profile == "wide" and len(given) > 1:
        flags = ", ".join("--" + name.replace("_", "-") for name in given if name != "profile")
        raise ValueError(f"{flags}: the wide profile draws these per study; leave them out")
    return MrOptions(
        sagittal_fov=args.fov or "full",
        lumbar_vertebrae=int(args.lumbar_vertebrae or 5),
        sagittal_contrasts=tuple(args.sagittal_contrast or ("T2",)),
        profile=profile,
    )


def run(args: argparse.Namespace) -> int:
    """Generate the studies; print one line per study."""
    from spineviewer.phantom import generate, study_folder_name

    if args.kind == "spine-xr" and args.profile == "wide":
        return _run_wide_xr(args)
    try:
        mr_options = _mr_options(args)
    except ValueError as exc:
        print(f"spineviewer phantom: error: {exc}", file=sys.stderr)
        return 2
    if args.xr_geometry is not None:
        if args.kind != "spine-xr":
            print(
                f"spineviewer phantom: error: --xr-geometry: only for --kind spine-xr, not "
                f"{args.kind}",
                file=sys.stderr,
            )
            return 2
        return _run_magnified(args)
    if args.scoliosis is not None:
        return _run_scoliotic(args)
    for seed in range(args.seed, args.seed + args.count):
        try:
            truth = generate(
                args.kind,
                args.out_dir,
                seed,
                fracture_rate=args.fracture_rate,
                fractures=args.fracture,
                mr_options=mr_options,
            )
        except ValueError as exc:
            print(f"spineviewer phantom: error: {exc}", file=sys.stderr)
            return 2
        images = sum(s.number_of_images for s in truth.series)
        folder = Path(args.out_dir) / study_folder_name(args.kind, seed)
        broken = [
            f"{v.label} {v.fracture} grade {v.genant_grade}" for v in truth.vertebrae if v.fracture
        ]
        note = f"; fractures: {', '.join(broken)}" if broken else ""
        if mr_options is not None and not mr_options.is_default:
            shown = truth.mr_options
            contrasts = ", ".join(shown.sagittal_contrasts)
            profile = "wide profile: " if mr_options.profile == "wide" else ""
            note += (
                f"; {profile}sagittal {contrasts}, field of view {shown.sagittal_fov}, "
                f"{shown.lumbar_vertebrae} lumbar vertebrae"
            )
        print(f"{folder}: {len(truth.series)} series, {images} images (synthetic phantom){note}")
    return 0


def _run_scoliotic(args: argparse.Namespace) -> int:
    """``--kind lumbar-ct --scoliosis ...``: the scoliotic CTs; one line per study."""
    from spineviewer.phantom.ct_scoliosis import generate_scoliotic_ct, scoliotic_folder_name

    if args.kind != "lumbar-ct":
        print(
            f"spineviewer phantom: error: --scoliosis: only for --kind lumbar-ct, not {args.kind}",
            file=sys.stderr,
        )
        return 2

    def line(seed: int, truth: StudyGroundTruth) -> str:
        curve = truth.parameters["scoliosis"]
        images = sum(s.number_of_images for s in truth.series)
        return (
            f"{Path(args.out_dir) / scoliotic_folder_name(seed)}: {images} images, lumbar "
            f"scoliosis Cobb {curve['cobb_deg']:g} deg, apex {curve['apex']}, convex "
            f"{curve['convex']} (synthetic phantom)"
        )

    return _each_seed(args, generate_scoliotic_ct, args.scoliosis, line)


def _each_seed(
    args: argparse.Namespace,
    write: Callable[..., StudyGroundTruth],
    variant: object,
    line: Callable[[int, StudyGroundTruth], str],
) -> int:
    """``write(out_dir, seed, variant, fracture_rate=..., fractures=...)`` for every seed asked
    for, printing ``line(seed, truth)`` for each; 2 (the reason on stderr) at the first
    ValueError."""
    for seed in range(args.seed, args.seed + args.count):
        try:
            truth = write(
                args.out_dir,
                seed,
                variant,
                fracture_rate=args.fracture_rate,
                fractures=args.fracture,
            )
        except ValueError as exc:
            print(f"spineviewer phantom: error: {exc}", file=sys.stderr)
            return 2
        print(line(seed, truth))
    return 0


def _run_magnified(args: argparse.Namespace) -> int:
    """``--xr-geometry``: the magnified radiographs; one line per study."""
    from spineviewer.phantom.xr import generate_magnified_xr, magnified_folder_name

    geometry = args.xr_geometry

    def line(seed: int, truth: StudyGroundTruth) -> str:
        shown = truth.parameters["xr_geometry"]
        folder = Path(args.out_dir) / magnified_folder_name(seed, geometry)
        return (
            f"{folder}: {shown['modality']} radiograph magnified {shown['magnification']:.4f} "
            f"({shown['tags']}: lengths in {shown['spacing_unit']}; synthetic phantom)"
        )

    return _each_seed(args, generate_magnified_xr, geometry, line)


def _run_wide_xr(args: argparse.Namespace) -> int:
    """``--kind spine-xr --profile wide``: the wide radiographs; one line per study."""
    from spineviewer.phantom.xr_wide import generate_wide_xr, wide_folder_name

    other = [name for name in _MR_OPTIONS if name != "profile" and getattr(args, name)]
    other += ["xr_geometry"] if args.xr_geometry is not None else []
    other += ["fracture"] if args.fracture or args.fracture_rate else []
    if other:
        flags = ", ".join("--" + name.replace("_", "-") for name in other)
        print(f"spineviewer phantom: error: {flags}: not with --profile wide", file=sys.stderr)
        return 2
    for seed in range(args.seed, args.seed + args.count):
        truth = generate_wide_xr(args.out_dir, seed)
        wide = truth.parameters["wide"]
        seen = sum(1 for v in truth.vertebrae if v.views)
        print(
            f"{Path(args.out_dir) / wide_folder_name(seed)}: {wide['modality']} radiograph, "
            f"wide profile, field {wide['field']}, {seen} bodies in view, "
            f"{len(truth.implants)} implants (synthetic phantom)"
        )
    return 0
