"""Broken model packages made from the shipped ones (``onnx_models/``).

``manifest_texts`` edits a real manifest as parsed JSON (a key removed, an unknown key, a value
of the wrong type, a bad sha256, bad labels, a wrong input shape...) and then sometimes damages
the text itself (cut short, invalid UTF-8, a number too long for Python, nesting too deep for
the JSON parser). ``onnx_bytes`` damages a real ONNX file (cut, flipped, inserted bytes, empty,
another model's graph, random bytes). ``embed_manifest`` appends a manifest to an ONNX file as
``metadata_props``, the way a model carries its own manifest, without needing ``onnx``.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

MODELS_DIR = Path(__file__).resolve().parents[2] / "onnx_models"
#: Shipped packages: three YOLO detectors and a classifier.
PACKAGES = ("implants-ap", "vertebrae-ap", "vertebrae-sagittal", "disc-state")
METADATA_KEY = "spineviewer.manifest"

Path_ = tuple[str | int, ...]


@functools.cache
def package_bytes(name: str) -> tuple[bytes, str]:
    """(ONNX bytes, manifest text) of a shipped package."""
    return (MODELS_DIR / f"{name}.onnx").read_bytes(), (MODELS_DIR / f"{name}.json").read_text(
        "utf-8"
    )


def _paths(value: Any, here: Path_ = ()) -> list[Path_]:
    """Every path to a member or item below ``value`` (``value`` itself excluded)."""
    if not isinstance(value, dict | list):
        return []
    found: list[Path_] = []
    for key, member in value.items() if isinstance(value, dict) else enumerate(value):
        found.append((*here, key))
        found += _paths(member, (*here, key))
    return found


def _parent(doc: Any, path: Path_) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["", " ", "\n", "a\nb", "x" * 500, "#zzzzzz", "batch", "NCHW"]),
        st.text(max_size=12),
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
#: Targeted edits: (path, value) pairs that break one rule each.
TARGETED: tuple[tuple[Path_, Any], ...] = (
    (("sha256",), "0" * 63),
    (("sha256",), "A" * 64),
    (("sha256",), "g" * 64),
    (("sha256",), "0" * 64),
    (("labels",), []),
    (("labels", 0, "color"), "red"),
    (("labels", 0, "name"), ""),
    (("input", "shape"), [1, 3, 64]),
    (("input", "shape"), [1, 0, 64, 64]),
    (("input", "shape"), ["batch", "c", 64, 64]),
    (("input", "shape"), [1, 1, -5, 64]),
    (("input", "shape"), [1, 3, 10**30, 64]),
    (("input", "dtype"), "int64"),
    (("input", "channels"), "adjacent_slices"),
    (("preprocessing", "size"), [0, 64]),
    (("preprocessing", "std"), [0]),
    (("preprocessing", "mean"), [0.5, 0.5]),
    (("schema_version",), 2),
    (("schema_version",), True),
    (("task",), "regression"),
    (("min_onnxruntime",), "99.0"),
    (("outputs",), []),
    (("decoding",), {}),
    (("provenance", "evaluation", "metrics"), {"accuracy": "high"}),
    (("id",), "Not An Id"),
    (("version",), "1.0"),
)


@st.composite
def _json_edit(draw: st.DrawFn, doc: dict[str, Any]) -> str:
    kind = draw(st.sampled_from(["remove", "unknown", "wrong_type", "targeted", "targeted"]))
    if kind == "targeted":
        path, value = draw(st.sampled_from(TARGETED))
        try:
            _parent(doc, path)[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            return f"no {path}"
        return f"{path} = {value!r}"[:80]
    paths = _paths(doc)
    if kind == "unknown":
        objects = [()] + [p for p in paths if isinstance(_parent(doc, (*p, "")), dict)]
        where = draw(st.sampled_from(objects))
        _parent(doc, (*where, ""))[draw(st.text(min_size=1, max_size=8))] = 1
        return f"unknown key in {where}"
    path = draw(st.sampled_from(paths))
    parent = _parent(doc, path)
    if kind == "remove":
        del parent[path[-1]]
        return f"removed {path}"
    parent[path[-1]] = draw(JSON_VALUES)
    return f"{path} = {parent[path[-1]]!r}"[:80]


@st.composite
def _text_damage(draw: st.DrawFn, text: str) -> tuple[bytes, str]:
    data = text.encode("utf-8")
    kind = draw(
        st.sampled_from(["truncate", "flip", "bad_utf8", "bom", "huge_int", "deep", "empty"])
    )
    if kind == "truncate":
        at = draw(st.integers(0, len(data)))
        return data[:at], f"cut at {at}"
    if kind == "flip":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :], "flip"
    if kind == "bad_utf8":
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\xff\xfe" + data[at:], "invalid UTF-8"
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, "byte order mark"
    if kind == "huge_int":
        return data.replace(b'"opset": 17', b'"opset": ' + b"9" * 5000, 1), "5000-digit opset"
    if kind == "deep":
        depth = draw(st.sampled_from([1000, 100_000]))
        return b'{"schema_version": 1, "id": ' + b"[" * depth + b"]" * depth + b"}", "deep"
    return b"", "empty"


@st.composite
def manifest_texts(draw: st.DrawFn, original: str) -> tuple[bytes, tuple[str, ...]]:
    """A manifest with 1-3 JSON edits, or its text damaged, or both."""
    doc = json.loads(original)
    edits = [draw(_json_edit(doc)) for _ in range(draw(st.integers(0, 3)))]
    text = json.dumps(doc, indent=2, ensure_ascii=draw(st.booleans()))
    if not edits or draw(st.integers(0, 3)) == 0:
        data, what = draw(_text_damage(text))
        return data, (*edits, what)
    return text.encode("utf-8"), tuple(edits)


@st.composite
def onnx_bytes(draw: st.DrawFn, original: bytes) -> tuple[bytes, str]:
    """The ONNX file cut, flipped, grown, emptied, replaced by another graph or by noise."""
    kind = draw(
        st.sampled_from(["truncate", "flip", "flip", "insert", "empty", "other_graph", "noise"])
    )
    near_start = st.integers(0, min(4096, len(original) - 1))
    anywhere = st.integers(0, len(original) - 1)
    if kind == "truncate":
        at = draw(st.one_of(near_start, anywhere))
        return original[:at], f"cut at {at}"
    if kind in ("flip", "insert"):
        data = original
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.one_of(near_start, anywhere))
            if kind == "flip":
                data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
            else:
                data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        return data, kind
    if kind == "empty":
        return b"", "empty"
    if kind == "other_graph":
        other = draw(st.sampled_from(PACKAGES))
        return package_bytes(other)[0], f"graph of {other}"
    return draw(st.binary(min_size=1, max_size=256)), "noise"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def embed_manifest(onnx: bytes, manifest: bytes) -> bytes:
    """``onnx`` with a ``metadata_props`` entry (field 14) holding ``manifest``."""
    return onnx + _field(14, _field(1, METADATA_KEY.encode()) + _field(2, manifest))


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


@functools.cache
def bare_onnx(name: str) -> bytes:
    """A shipped ONNX file without the manifest it carries (the shipped files embed theirs)."""
    onnx = package_bytes(name)[0]
    key = _field(1, METADATA_KEY.encode())
    kept, pos = bytearray(), 0
    while pos < len(onnx):
        start = pos
        tag, pos = _read_varint(onnx, pos)
        if tag & 7 == 0:
            pos = _read_varint(onnx, pos)[1]
        elif tag & 7 == 2:
            length, pos = _read_varint(onnx, pos)
            pos += length
        else:
            pos += 8 if tag & 7 == 1 else 4
        if tag >> 3 != 14 or key not in onnx[start:pos]:
            kept += onnx[start:pos]
    return bytes(kept)
