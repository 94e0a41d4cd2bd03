"""Reading a manifest: JSON text or a parsed document in, a checked document out, or a
:class:`ManifestError` naming the file, the field path and the problem.

The steps, in order:

1. ``schema_version``: the document must be an object whose version this SpineViewer reads
   (1 .. :data:`SCHEMA_VERSION`); it picks the schema, so it is read before anything else, and a
   newer manifest is refused as newer (not for its unknown keys).
2. The JSON Schema of that version (:mod:`spineviewer.ai.manifest_schema`): every type, range,
   pattern, unknown or missing key, and the task-dependent layout of ``decoding``.
3. The rules between fields that a schema cannot express (:func:`_check_consistency`; those of
   a sliding-window segmentation model in :mod:`spineviewer.ai.segmentation_rules`).
4. Older spellings become the current ones (``applies_to.sequence`` is ``contrast``) and null
   optional fields are left out, so :mod:`spineviewer.ai.manifest_model` builds its dataclasses
   from a document that needs no more checks.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from spineviewer.ai.manifest_schema import describe, field_path, json_type, schema_problem
from spineviewer.ai.segmentation_rules import sliding_window_problem

__all__ = [
    "MAX_INPUT_SIDE",
    "MAX_INPUT_VALUES",
    "MAX_MANIFEST_BYTES",
    "SCHEMA_VERSION",
    "ManifestError",
    "checked_document",
    "parse_json",
    "read_file",
    "too_large",
]

#: The manifest layout this SpineViewer reads and writes.
SCHEMA_VERSION = 1

#: The largest manifest read, as a file or embedded in a model (the shipped ones are ~4 KB):
#: a bigger one is refused unread, so a 1 GB "manifest" cannot make every model search slow.
MAX_MANIFEST_BYTES = 1024 * 1024

#: The largest model input side (``preprocessing.size``, the fixed H and W of ``input.shape``)
#: and the most values one input image may have (C x H x W, 256 MB as float32): a bigger one
#: would fail on memory when the model runs, so the manifest is refused when it is read.
MAX_INPUT_SIDE = 4096
MAX_INPUT_VALUES = 4 * MAX_INPUT_SIDE * MAX_INPUT_SIDE

#: A label name (it names findings, and may end up in file names and columns): the schema's
#: pattern, matched whole (a JSON Schema ``$`` in Python also matches before a final newline).
_LABEL_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
_LABEL_RULE = "letters, digits, '_', '-', and '.' not first; at most 64 characters"


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file, the field and the problem."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        where = f"{source}: {field}" if field else source
        super().__init__(_printable(f"{where}: {problem}"))
        self.source = source
        self.field = field
        self.problem = problem


def _printable(text: str) -> str:
    """``text`` on one line: line breaks and other control characters written as escapes
    (a key or value quoted from the file may hold them)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


class _Invalid(Exception):
    """A field that breaks a rule: its path and the problem (the file is added by the caller)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem


# -- text and files ------------------------------------------------------------------------------


def too_large(size: int) -> str:
    """The problem of a manifest of ``size`` bytes, "" when it is small enough to read."""
    if size <= MAX_MANIFEST_BYTES:
        return ""
    return f"{size} bytes is too large for a manifest (at most {MAX_MANIFEST_BYTES}); not read"


def parse_json(text: str, source: str) -> Any:
    """The parsed JSON of ``text``; ManifestError when it is not JSON Python can hold or is
    longer than :data:`MAX_MANIFEST_BYTES`."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError(source, "", too_large(len(text.encode("utf-8", "replace"))))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise ManifestError(source, "", problem) from None
    except ValueError as exc:  # a number too long for int() (sys.get_int_max_str_digits)
        raise ManifestError(source, "", f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ManifestError(source, "", "not valid JSON: nested too deeply") from None


def read_file(path: Path) -> str:
    """The text of a manifest file; ManifestError naming the file when it cannot be read, is
    not a regular file (a FIFO would block) or is larger than :data:`MAX_MANIFEST_BYTES`
    (checked before reading, and the read stops there)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ManifestError(path.name, "", "not a regular file; not read")
        problem = too_large(info.st_size)
        if problem:
            raise ManifestError(path.name, "", problem)
        with open(path, "rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:  # grew since the stat
            raise ManifestError(path.name, "", f"more than {MAX_MANIFEST_BYTES} bytes; not read")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(path.name, "", f"cannot read the file ({exc})") from None


# -- the document --------------------------------------------------------------------------------


def checked_document(data: Any, source: str) -> dict[str, Any]:
    """``data`` checked against the schema of its version and the rules between fields, in
    the current spelling without null optional fields (``data`` itself is not changed)."""
    try:
        version = _schema_version(data)
        found = schema_problem(data, version)
        if found is not None:
            raise _Invalid(*found)
        _check_consistency(data)
    except _Invalid as exc:
        raise ManifestError(source, exc.path, exc.problem) from None
    except RecursionError:  # a value nested deeper than Python compares or prints
        raise ManifestError(source, "", "nested too deeply") from None
    return _current(data)


def _schema_version(data: Any) -> int:
    if not isinstance(data, dict):
        raise _Invalid("", f"must be a JSON object, not {json_type(data)}")
    if "schema_version" not in data:
        raise _Invalid("schema_version", "missing required field")
    version = data["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise _Invalid("schema_version", f"must be an integer, not {describe(version)}")
    if version < 1:
        raise _Invalid("schema_version", "must be >= 1")
    if version > SCHEMA_VERSION:
        raise _Invalid(
            "schema_version",
            f"{version} is newer than this SpineViewer understands ({SCHEMA_VERSION}); "
            "update SpineViewer to use this model",
        )
    return version


def _current(data: Any) -> Any:
    """A copy without null members, ``applies_to.sequence`` renamed ``contrast``."""
    if isinstance(data, dict):
        copy = {k: _current(v) for k, v in data.items() if v is not None}
        applies_to = copy.get("applies_to")
        if isinstance(applies_to, dict) and "sequence" in applies_to:
            applies_to["contrast"] = applies_to.pop("sequence")
        return copy
    if isinstance(data, list):
        return [_current(v) for v in data]
    return data


# -- rules between fields ------------------------------------------------------------------------


def _check_consistency(m: dict[str, Any]) -> None:
    """What the schema cannot say; ``m`` is valid against it."""
    percentile = m["preprocessing"]["normalisation"].get("percentile")
    if percentile and not percentile["high"] > percentile["low"]:
        where = "preprocessing.normalisation.percentile.high"
        raise _Invalid(where, f"must be > {percentile['low']:g}")
    _unique([o["name"] for o in m["outputs"]], "outputs")
    for i, label in enumerate(m["labels"]):
        if not _LABEL_NAME.fullmatch(label["name"]):
            problem = f"{_short(label['name'])} is not a label name ({_LABEL_RULE})"
            raise _Invalid(f"labels[{i}].name", problem)
    _unique([label["name"] for label in m["labels"]], "labels")
    window = m["preprocessing"].get("sliding_window")
    if window is None:
        _check_whole_image(m["input"], m["preprocessing"])
    _check_channels(m["input"], m["preprocessing"])
    outputs = {o["name"]: o for o in m["outputs"]}
    for role, name in m["decoding"]["tensors"].items():
        if name not in outputs:
            raise _Invalid(
                f"decoding.tensors.{role}", f"{name!r} is not an output ({', '.join(outputs)})"
            )
    _check_class_axis(m, outputs)
    if window is not None:
        found = sliding_window_problem(m, outputs)
        if found is not None:
            raise _Invalid(*found)
        where = "preprocessing.sliding_window.patch_size"
        _check_input_values(m["input"]["shape"][1], window["patch_size"], where)


def _unique(names: list[str], path: str) -> None:
    for i, name in enumerate(names):
        if name in names[:i]:
            raise _Invalid(f"{path}[{i}]", f"duplicate name {name!r}")


_CHANNEL_RULES = {
    "grey": (lambda count: count == 1, "exactly 1 channel"),
    "replicated_grey": (lambda count: count >= 2, "at least 2 channels"),
    "adjacent_slices": (lambda count: count % 2 == 1, "an odd number of channels"),
}


def _short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_whole_image(spec: dict[str, Any], pre: dict[str, Any]) -> None:
    """A whole-image model: NCHW, its input size against the fixed dims."""
    if spec["layout"] != "NCHW":
        raise _Invalid("input.layout", f"{spec['layout']} needs preprocessing.sliding_window")
    _check_input_values(spec["shape"][1], pre["size"], "input.shape")
    for i, (fixed, want) in enumerate(zip(spec["shape"][2:], pre["size"], strict=True)):
        if isinstance(fixed, int) and fixed != want:
            problem = f"{want} does not match input.shape[{i + 2}] = {fixed}"
            raise _Invalid(f"preprocessing.size[{i}]", problem)


def _check_input_values(count: int, size: list[int], where: str) -> None:
    """``count`` channels of ``size`` are at most :data:`MAX_INPUT_VALUES` values."""
    values = count * math.prod(size)
    if values > MAX_INPUT_VALUES:
        dims = " x ".join(str(v) for v in size)
        problem = (
            f"{count} channels x {dims} is {values} values, "
            f"more than a model input may have ({MAX_INPUT_VALUES})"
        )
        raise _Invalid(where, problem)


def _check_channels(spec: dict[str, Any], pre: dict[str, Any]) -> None:
    count = spec["shape"][1]
    fits, wanted = _CHANNEL_RULES[spec["channels"]]
    if not fits(count):
        problem = f"{spec['channels']} needs {wanted}; input.shape[1] is {count}"
        raise _Invalid("input.channels", problem)
    for key in ("mean", "std"):
        if key in pre and len(pre[key]) not in (1, count):
            problem = f"{len(pre[key])} values for {count} channels; give 1 or {count}"
            raise _Invalid(f"preprocessing.{key}", problem)


def _check_class_axis(m: dict[str, Any], outputs: dict[str, dict[str, Any]]) -> None:
    """The axis that counts classes (or YOLO row values) agrees with the labels."""
    d, task = m["decoding"], m["task"]
    classes = len(m["labels"])
    points = d.get("points", [])
    if task == "classification":
        _check_dim(outputs, d, "scores", -1, classes, f"{classes} labels")
    elif task == "segmentation":
        _check_dim(outputs, d, "masks", 1, classes, f"{classes} labels")
    elif d["style"] == "yolo":
        row = 4 + classes + 3 * len(points)
        spec = outputs[d["tensors"]["predictions"]]
        if len(spec["shape"]) != 3 or row not in spec["shape"][1:]:
            extra = f" + 3 x {len(points)} points" if points else ""
            raise _Invalid(
                "decoding.tensors.predictions",
                f"output {spec['name']!r} must have rank 3 with an axis of {row} "
                f"(4 box values + {classes} labels{extra}); its shape is {spec['shape']}",
            )
    elif task == "keypoints":
        _check_dim(outputs, d, "keypoints", 1, len(points), f"{len(points)} points")


def _check_dim(
    outputs: dict[str, dict[str, Any]],
    decoding: dict[str, Any],
    role: str,
    axis: int,
    want: int,
    what: str,
) -> None:
    spec = outputs[decoding["tensors"][role]]
    shape = spec["shape"]
    where = field_path(["decoding", "tensors", role])
    if not -len(shape) <= axis < len(shape):
        raise _Invalid(where, f"output {spec['name']!r} has too few dims")
    dim = shape[axis]
    if isinstance(dim, int) and dim != want:
        raise _Invalid(
            where, f"output {spec['name']!r} has {dim} on axis {axis}, but the manifest has {what}"
        )
