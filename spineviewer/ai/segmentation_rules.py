"""The rules between fields of a sliding-window segmentation manifest that a schema cannot say.

:func:`sliding_window_problem` is called by :mod:`spineviewer.ai.manifest_reader` on a document
that fits the JSON Schema and has ``preprocessing.sliding_window``; it returns the first
problem as (field path, problem), or None. The layout itself is documented in
:mod:`spineviewer.ai.manifest`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["sliding_window_problem"]

_WHERE = "preprocessing.sliding_window"
#: Input channel layouts a patch can be given in (one grey volume, or it copied per channel).
_CHANNELS = ("grey", "replicated_grey")
_DTYPES = ("float32", "float16")


def sliding_window_problem(
    m: dict[str, Any], outputs: dict[str, dict[str, Any]]
) -> tuple[str, str] | None:
    """The first broken rule of ``m``'s sliding window as (field path, problem), else None."""
    for check in (_task, _input, _patch, _normalisation, _decoding, _postprocessing):
        found = check(m, outputs)
        if found is not None:
            return found
    return None


def _dims_name(dims: int) -> str:
    return "a 3D (NCDHW)" if dims == 3 else "a 2D (NCHW)"


def _task(m: dict[str, Any], _outputs: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    if m["task"] != "segmentation":
        return _WHERE, f"only for task segmentation, not {m['task']}"
    return None


def _input(m: dict[str, Any], _outputs: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    spec = m["input"]
    if spec["channels"] not in _CHANNELS:
        wanted = " or ".join(_CHANNELS)
        return "input.channels", f"{spec['channels']} is not read by sliding window; give {wanted}"
    if spec["dtype"] not in _DTYPES:
        return "input.dtype", f"{spec['dtype']} cannot hold normalised intensities; give float32"
    return None


def _patch(m: dict[str, Any], _outputs: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    window, shape = m["preprocessing"]["sliding_window"], m["input"]["shape"]
    dims = len(shape) - 2
    for key in ("spacing_mm", "patch_size"):
        if len(window[key]) != dims:
            problem = f"{len(window[key])} values for {_dims_name(dims)} input; give {dims}"
            return f"{_WHERE}.{key}", problem
    for i, (fixed, want) in enumerate(zip(shape[2:], window["patch_size"], strict=True)):
        if isinstance(fixed, int) and fixed != want:
            return (
                f"{_WHERE}.patch_size[{i}]",
                f"{want} does not match input.shape[{i + 2}] = {fixed}",
            )
    for i, axis in enumerate(window.get("mirror_axes") or ()):
        if axis >= dims:
            axes = ", ".join(str(a) for a in range(dims))
            problem = f"{axis} is not a patch axis of {_dims_name(dims)} input ({axes})"
            return f"{_WHERE}.mirror_axes[{i}]", problem
    batch, fixed = window.get("batch_size"), shape[0]
    if batch is not None and isinstance(fixed, int) and batch != fixed:
        return f"{_WHERE}.batch_size", f"{batch} does not match input.shape[0] = {fixed}"
    return None


def _normalisation(
    m: dict[str, Any], _outputs: dict[str, dict[str, Any]]
) -> tuple[str, str] | None:
    zscore = m["preprocessing"]["normalisation"].get("zscore")
    if zscore is None:
        return None
    where = "preprocessing.normalisation.zscore"
    given = [key for key in ("mean", "std") if zscore.get(key) is not None]
    if len(given) == 1:
        other = "std" if given == ["mean"] else "mean"
        problem = "give mean and std together, or neither (the series' own are used)"
        return f"{where}.{other}", problem
    clip = zscore.get("clip")
    if clip is not None and not clip[1] > clip[0]:
        return f"{where}.clip[1]", f"must be > {clip[0]:g}"
    return None


def _decoding(m: dict[str, Any], outputs: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    d = m["decoding"]
    if d["activation"] not in ("softmax", "sigmoid"):
        problem = (
            "must be softmax or sigmoid with sliding_window (the label map is argmax or threshold)"
        )
        return "decoding.activation", problem
    spec = outputs[d["tensors"]["masks"]]
    rank = len(m["input"]["shape"])
    where = "decoding.tensors.masks"
    if len(spec["shape"]) != rank:
        problem = (
            f"output {spec['name']!r} has rank {len(spec['shape'])}; "
            f"{_dims_name(rank - 2)} input needs rank {rank} (N, classes, patch axes)"
        )
        return where, problem
    patch = m["preprocessing"]["sliding_window"]["patch_size"]
    for axis, (dim, want) in enumerate(zip(spec["shape"][2:], patch, strict=True), start=2):
        if isinstance(dim, int) and dim != want:
            problem = f"output {spec['name']!r} has {dim} on axis {axis}, the patch {want}"
            return where, problem
    return None


def _postprocessing(
    m: dict[str, Any], _outputs: dict[str, dict[str, Any]]
) -> tuple[str, str] | None:
    """``postprocessing.spine_levels`` names classes the network has, and unique labels."""
    levels = (m.get("postprocessing") or {}).get("spine_levels")
    if levels is None:
        return None
    where = "postprocessing.spine_levels"
    if m["decoding"]["activation"] != "softmax":
        return where, "needs softmax (one class a voxel)"
    classes = [label["name"] for label in m["labels"]]
    named = [(key, levels[key]) for key in ("vertebra", "sacrum", "disc")]
    named += [(f"keep[{i}]", name) for i, name in enumerate(levels.get("keep") or ())]
    for key, name in named:
        if name not in classes:
            return f"{where}.{key}", f"{name!r} is not one of the labels ({', '.join(classes)})"
    names = [label["name"] for label in levels["labels"]]
    for i, name in enumerate(names):
        if name in names[:i]:
            return f"{where}.labels[{i}]", f"duplicate name {name!r}"
    return None
