"""A compact, CPU-independent reference of default phantom studies, and a tolerant comparison.

The generator renders with floating-point arithmetic whose last bits depend on the CPU and the
BLAS kernel (``OPENBLAS_CORETYPE=Prescott`` on one machine already writes ``-0`` instead of
``0`` into an ImageOrientationPatient), so byte digests of the files cannot say "this is still
the study of before". A :class:`StudySummary` keeps what can:

- the list of files, and every header element of every image (numbers compared to 1e-4, text
  exactly: UIDs, descriptions, names);
- the ground truth (floats to 2e-3, box corners to one pixel, everything else exactly);
- per image, the means of 16 x 16 pixel blocks, a few intensity statistics and a 16 x 16 patch
  of full-resolution pixels from the centre of every third image (another noise draw changes
  nearly every pixel of it);
- the voxel count of every value of a NIfTI label map.

Regenerate the stored reference (only for a deliberate change of the default studies) with
``.venv/bin/python -m tests.phantom.reference``.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataelem import DataElement
from pydicom.multival import MultiValue

#: The stored reference: default studies of today.
REFERENCE_FILE = Path(__file__).parent / "data" / "default_studies.npz"
#: (kind, seed) of the studies in the reference: the test fixtures and the demo study.
REFERENCE_STUDIES: tuple[tuple[str, int], ...] = (
    ("lumbar-mr", 7),
    ("lumbar-mr", 1),
    ("lumbar-ct", 11),
    ("spine-xr", 3),
)
BLOCK = 16
PATCH = 16
PATCH_EVERY = 3
_NUMERIC_VRS = {"DS", "IS", "FD", "FL", "US", "UL", "SS", "SL", "SV", "UV"}


def _plain(elem: DataElement) -> Any:
    """A header value as JSON: numbers for numeric VRs, text otherwise (lists when multiple)."""
    value = elem.value
    many = isinstance(value, (MultiValue, list, tuple))
    items = list(value) if many else [value]
    if elem.VR in _NUMERIC_VRS:
        out: list[Any] = [float(v) for v in items]
    elif isinstance(value, bytes):
        return value.hex()
    else:
        out = [str(v) for v in items]
    return out if many else out[0]


def _header(ds: pydicom.Dataset) -> dict[str, Any]:
    elements = [*ds.file_meta, *ds]
    return {e.keyword or str(e.tag): _plain(e) for e in elements if e.keyword != "PixelData"}


@dataclass
class StudySummary:
    """What the reference keeps of one study folder (see the module docstring)."""

    files: list[str]
    truth: dict[str, Any]
    headers: dict[str, dict[str, Any]]
    stats: dict[str, list[float]]
    thumbs: dict[str, NDArray[np.uint16]]
    patches: dict[str, NDArray[np.uint16]] = field(default_factory=dict)
    label_counts: dict[str, int] = field(default_factory=dict)


def _thumb(pixels: NDArray[Any]) -> NDArray[np.uint16]:
    rows, cols = (n // BLOCK * BLOCK for n in pixels.shape)
    blocks = pixels[:rows, :cols].astype(np.float64).reshape(rows // BLOCK, BLOCK, -1, BLOCK)
    return np.rint(blocks.mean(axis=(1, 3))).astype(np.uint16)


def summarise(folder: Path) -> StudySummary:
    """Read a study folder into a :class:`StudySummary`."""
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    images = [f for f in files if f.endswith(".dcm")]
    summary = StudySummary(
        files=files,
        truth=json.loads((folder / "ground_truth.json").read_text()),
        headers={},
        stats={},
        thumbs={},
    )
    for index, name in enumerate(images):
        ds = pydicom.dcmread(folder / name)
        pixels = ds.pixel_array
        summary.headers[name] = _header(ds)
        values = pixels.astype(np.float64)
        summary.stats[name] = [
            float(values.mean()),
            float(values.std()),
            *(float(q) for q in np.percentile(values, [1, 50, 99])),
        ]
        summary.thumbs[name] = _thumb(pixels)
        if index % PATCH_EVERY == 0:
            r, c = (n // 2 - PATCH // 2 for n in pixels.shape)
            summary.patches[name] = np.array(pixels[r : r + PATCH, c : c + PATCH], np.uint16)
    for name in files:
        if name.endswith(".nii.gz"):
            import SimpleITK as sitk

            labels = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / name)))
            values, counts = np.unique(labels, return_counts=True)
            summary.label_counts = {
                f"{name}:{int(v)}": int(n) for v, n in zip(values, counts, strict=True)
            }
    return summary


# -- the comparison -----------------------------------------------------------------------------

#: Box corners (pixels, voxels) may move by one; other integers are exact.
_BOX_KEYS = ("box_px", "voxel_box")
FLOAT_TOLERANCE = 2e-3
HEADER_TOLERANCE = 1e-4


def _compare_json(ref: Any, got: Any, path: str, out: list[str], box: bool = False) -> None:
    if isinstance(ref, dict) and isinstance(got, dict):
        for key in sorted(set(ref) | set(got)):
            if key not in got or key not in ref:
                out.append(f"{path}/{key}: only in {'reference' if key in ref else 'study'}")
            elif key == "truncated" and ref.get("box_px") != got.get("box_px"):
                continue  # a box moved by a pixel may touch the border or leave it
            else:
                _compare_json(ref[key], got[key], f"{path}/{key}", out, key in _BOX_KEYS)
        return
    if isinstance(ref, list) and isinstance(got, list):
        if len(ref) != len(got):
            out.append(f"{path}: {len(ref)} items in the reference, {len(got)} in the study")
            return
        for i, (a, b) in enumerate(zip(ref, got, strict=True)):
            _compare_json(a, b, f"{path}[{i}]", out, box)
        return
    numbers = (int, float)
    is_number = isinstance(ref, numbers) and isinstance(got, numbers)
    if is_number and not isinstance(ref, bool) and not isinstance(got, bool):
        if isinstance(ref, float) or isinstance(got, float):
            if abs(ref - got) > FLOAT_TOLERANCE:
                out.append(f"{path}: {ref} in the reference, {got} in the study")
            return
        if abs(ref - got) > (1 if box else 0):
            out.append(f"{path}: {ref} in the reference, {got} in the study")
        return
    if ref != got:
        out.append(f"{path}: {ref!r} in the reference, {got!r} in the study")


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= HEADER_TOLERANCE + 1e-6 * abs(a)
    return bool(a == b)


def _compare_header(ref: dict[str, Any], got: dict[str, Any], name: str, out: list[str]) -> None:
    for key in sorted(set(ref) | set(got)):
        if key not in ref or key not in got:
            out.append(f"{name} {key}: only in {'reference' if key in ref else 'study'}")
        elif not _same_value(ref[key], got[key]):
            out.append(f"{name} {key}: {ref[key]!r} in the reference, {got[key]!r} in the study")


def _compare_pixels(ref: StudySummary, got: StudySummary, name: str, out: list[str]) -> None:
    stats_ref, stats_got = np.array(ref.stats[name]), np.array(got.stats[name])
    scale = max(float(stats_ref[-1]), 1.0)  # the 99th percentile
    if np.any(np.abs(stats_ref - stats_got) > 1.0 + 0.002 * scale):
        out.append(f"{name}: statistics {stats_ref.round(1)} became {stats_got.round(1)}")
    a, b = ref.thumbs[name].astype(float), got.thumbs[name].astype(float)
    if a.shape != b.shape:
        out.append(f"{name}: {a.shape} blocks in the reference, {b.shape} in the study")
        return
    diff = np.abs(a - b)
    if diff.max() > 2.0 + 0.005 * scale or diff.mean() > 0.5 + 0.0005 * scale:
        out.append(f"{name}: block means differ by up to {diff.max():.1f} (mean {diff.mean():.2f})")
    if name in ref.patches:
        if name not in got.patches:
            out.append(f"{name}: no central patch")
            return
        changed = float(np.mean(np.abs(ref.patches[name].astype(int) - got.patches[name]) > 1))
        if changed > 0.02:
            out.append(f"{name}: {changed:.0%} of the central patch changed")


def compare(ref: StudySummary, got: StudySummary) -> list[str]:
    """The differences beyond tolerance between two summaries (empty when the same study)."""
    out: list[str] = []
    if ref.files != got.files:
        extra, missing = set(got.files) - set(ref.files), set(ref.files) - set(got.files)
        out.append(f"files: {sorted(missing)[:5]} missing, {sorted(extra)[:5]} extra")
    _compare_json(ref.truth, got.truth, "ground_truth", out)
    for name in sorted(set(ref.headers) & set(got.headers)):
        _compare_header(ref.headers[name], got.headers[name], name, out)
        _compare_pixels(ref, got, name, out)
    for key in sorted(set(ref.label_counts) | set(got.label_counts)):
        a, b = ref.label_counts.get(key, 0), got.label_counts.get(key, 0)
        if abs(a - b) > 2 + 0.005 * max(a, b):
            out.append(f"label map {key}: {a} voxels in the reference, {b} in the study")
    return out


# -- storage ------------------------------------------------------------------------------------


def _by_folder(images: dict[str, NDArray[np.uint16]]) -> dict[str, list[str]]:
    folders: dict[str, list[str]] = {}
    for name in sorted(images):
        folders.setdefault(name.rsplit("/", 1)[0], []).append(name)
    return folders


def _arrays(name: str, summary: StudySummary) -> Iterator[tuple[str, Any]]:
    """npz entries of one study: gzipped JSON, and the thumbs and patches stacked per folder."""
    stacks = {"thumb": summary.thumbs, "patch": summary.patches}
    order = {part: _by_folder(images) for part, images in stacks.items()}
    meta = {
        "files": summary.files,
        "truth": summary.truth,
        "headers": summary.headers,
        "stats": summary.stats,
        "label_counts": summary.label_counts,
        "order": order,
    }
    yield f"{name}|meta", np.frombuffer(gzip.compress(json.dumps(meta).encode()), np.uint8)
    for part, folders in order.items():
        for folder, images in folders.items():
            yield f"{name}|{part}|{folder}", np.stack([stacks[part][i] for i in images])


def save(summaries: dict[str, StudySummary], path: Path = REFERENCE_FILE) -> None:
    """Write summaries (by study folder name) to one compressed ``.npz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = dict(item for name, s in summaries.items() for item in _arrays(name, s))
    np.savez_compressed(path, **arrays)


def load(path: Path = REFERENCE_FILE) -> dict[str, StudySummary]:
    """Read what :func:`save` wrote."""
    out: dict[str, StudySummary] = {}
    with np.load(path) as data:
        for key in data.files:
            if not key.endswith("|meta"):
                continue
            name = key.split("|")[0]
            meta = json.loads(gzip.decompress(data[key].tobytes()))
            stacks: dict[str, dict[str, NDArray[np.uint16]]] = {"thumb": {}, "patch": {}}
            for part, folders in meta["order"].items():
                for folder, images in folders.items():
                    stacks[part].update(zip(images, data[f"{name}|{part}|{folder}"], strict=True))
            out[name] = StudySummary(
                files=meta["files"],
                truth=meta["truth"],
                headers=meta["headers"],
                stats=meta["stats"],
                thumbs=stacks["thumb"],
                patches=stacks["patch"],
                label_counts=meta["label_counts"],
            )
    return out


def main() -> None:
    """Generate the reference studies and store their summaries (deliberate changes only)."""
    from spineviewer.phantom import generate, study_folder_name

    with tempfile.TemporaryDirectory() as tmp:
        summaries = {}
        for kind, seed in REFERENCE_STUDIES:
            generate(kind, tmp, seed)
            name = study_folder_name(kind, seed)
            summaries[name] = summarise(Path(tmp) / name)
    save(summaries)
    print(f"wrote {REFERENCE_FILE} ({REFERENCE_FILE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
