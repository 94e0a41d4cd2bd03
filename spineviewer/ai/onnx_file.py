"""The ONNX side of a model package: its digest, its signature, and whether it fits its manifest.

``file_sha256`` is the digest a manifest records. It is the ordinary sha256 of the file, except
that a top-level ``metadata_props`` entry keyed ``spineviewer.manifest`` is left out, so a model
can carry its own manifest (which cannot contain the digest of a file that contains it). For a
file without an embedded manifest it equals ``sha256sum``.

onnxruntime is imported only when a model is opened, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from spineviewer.ai.manifest_model import ModelManifest, TensorSpec

#: The ``metadata_props`` key of an embedded manifest.
METADATA_KEY = "spineviewer.manifest"

#: Manifest dtype names and the type strings onnxruntime reports.
ORT_DTYPES = {
    "float32": "tensor(float)",
    "float16": "tensor(float16)",
    "float64": "tensor(double)",
    "uint8": "tensor(uint8)",
    "int8": "tensor(int8)",
    "int32": "tensor(int32)",
    "int64": "tensor(int64)",
    "bool": "tensor(bool)",
}

_METADATA_FIELD = 14  # ModelProto.metadata_props
_LENGTH_DELIMITED = 2


# -- digest --------------------------------------------------------------------------------------


def _varint(buf: Any, pos: int) -> tuple[int, int]:
    result = shift = 0
    while shift < 64:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
    raise ValueError("varint too long")


def _fields(buf: Any, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Top-level protobuf fields in ``buf[start:end]``: (number, first byte, value start, end)."""
    found = []
    pos = start
    while pos < end:
        first = pos
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            _, pos = _varint(buf, pos)
            value = pos
        elif wire in (1, 5):
            value = pos
            pos += 8 if wire == 1 else 4
        elif wire == _LENGTH_DELIMITED:
            length, value = _varint(buf, pos)
            pos = value + length
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > end:
            raise ValueError("field runs past the end")
        found.append((number, first, value, pos))
    return found


def _embedded_manifest_spans(buf: Any) -> list[tuple[int, int]]:
    """Byte ranges of ``spineviewer.manifest`` metadata entries; [] if not a protobuf."""
    key = METADATA_KEY.encode()
    spans = []
    try:
        for number, first, value, end in _fields(buf, 0, len(buf)):
            if number != _METADATA_FIELD:
                continue
            entry = _fields(buf, value, end)
            if any(n == 1 and buf[v:e] == key for n, _, v, e in entry):
                spans.append((first, end))
    except ValueError:
        return []
    return spans


def embedded_manifest_size(path: str | Path) -> int:
    """The length in bytes of the longest ``spineviewer.manifest`` metadata value of the model
    at ``path`` (0 when there is none, or the file is not a protobuf), read without loading
    the file: only the field headers are touched, so it can be checked before onnxruntime
    copies the metadata into memory. OSError when the file cannot be read."""
    longest = 0
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return 0
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            try:
                for first, end in _embedded_manifest_spans(mm):
                    _, _, value, stop = _fields(mm, first, end)[0]
                    for number, _, start, field_end in _fields(mm, value, stop):
                        if number == 2:  # StringStringEntryProto.value
                            longest = max(longest, field_end - start)
            except (ValueError, IndexError):
                return 0
    return longest


def file_sha256(path: str | Path) -> str:
    """The model digest a manifest records (see the module docstring), as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return digest.hexdigest()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm, memoryview(mm) as view:
            pos = 0
            for start, end in _embedded_manifest_spans(mm):
                digest.update(view[pos:start])
                pos = end
            digest.update(view[pos:])
    return digest.hexdigest()


# -- signature -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnnxTensor:
    """A model input or output as onnxruntime reports it (dtype like ``tensor(float)``)."""

    name: str
    dtype: str
    shape: tuple[int | str | None, ...]


@dataclass(frozen=True)
class OnnxSignature:
    """What a model takes and returns, and its custom metadata."""

    inputs: tuple[OnnxTensor, ...]
    outputs: tuple[OnnxTensor, ...]
    metadata: dict[str, str]


class _SilentThread:
    """A stand-in for ``sys.stdout`` that drops what the thread that made it writes, and
    passes everything other threads write on to ``target``: ``sys.stdout`` is one for the
    whole process, and a plain ``redirect_stdout`` from a worker thread (the viewer's model
    search) swallowed what the GUI thread printed meanwhile."""

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._thread = threading.get_ident()

    def write(self, text: str) -> int:
        if threading.get_ident() == self._thread:
            return len(text)
        return self._target.write(text)

    def flush(self) -> None:
        if threading.get_ident() != self._thread:
            self._target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


#: Signatures of files already opened, by a digest of their whole content (metadata included).
_SIGNATURES: OrderedDict[bytes, OnnxSignature] = OrderedDict()
_SIGNATURES_LOCK = threading.Lock()
SIGNATURE_CACHE_SIZE = 64


def _content_key(path: str | Path) -> bytes | None:
    """A digest of every byte of ``path`` (None when it cannot be read: onnxruntime says why).
    Hashing releases the GIL; creating a session to read a signature holds it for tens of
    milliseconds, which the viewer's GUI thread felt on every Analyze."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return None
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return hashlib.blake2b(mm, digest_size=20).digest() + size.to_bytes(8, "little")
    except (OSError, ValueError):
        return None


def read_onnx_signature(path: str | Path) -> OnnxSignature:
    """Open ``path`` with onnxruntime on the CPU; ValueError says why it cannot be loaded.

    A file read before (same content) is not opened again."""
    key = _content_key(path)
    with _SIGNATURES_LOCK:
        if key is not None and key in _SIGNATURES:
            _SIGNATURES.move_to_end(key)
            return _SIGNATURES[key]
    signature = _open_signature(path)
    if key is not None:
        with _SIGNATURES_LOCK:
            _SIGNATURES[key] = signature
            while len(_SIGNATURES) > SIGNATURE_CACHE_SIZE:
                _SIGNATURES.popitem(last=False)
    return signature


def _open_signature(path: str | Path) -> OnnxSignature:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4  # fatal only: its error lines would repeat our message
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        # On some errors onnxruntime prints a "falling back to CPU" banner to stdout, which
        # would land inside the JSON of ``spineviewer models ... --json``.
        with contextlib.redirect_stdout(_SilentThread(sys.stdout)):
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
    except Exception as exc:  # onnxruntime raises several unrelated types
        raise ValueError(f"onnxruntime cannot load {Path(path).name}: {_one_line(exc)}") from None

    def tensors(args: Sequence[Any]) -> tuple[OnnxTensor, ...]:
        return tuple(OnnxTensor(a.name, a.type, tuple(a.shape)) for a in args)

    try:
        meta = dict(session.get_modelmeta().custom_metadata_map)
    except UnicodeDecodeError as exc:  # metadata_props are protobuf strings, not always UTF-8
        problem = f"metadata is not valid UTF-8 ({_one_line(exc)})"
        raise ValueError(f"onnxruntime cannot read {Path(path).name}: {problem}") from None
    return OnnxSignature(tensors(session.get_inputs()), tensors(session.get_outputs()), meta)


def _one_line(exc: Exception, limit: int = 300) -> str:
    """onnxruntime's message (often several lines with a C++ source location) on one line."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- checks --------------------------------------------------------------------------------------


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def file_problems(manifest: ModelManifest, onnx_path: str | Path) -> list[str]:
    """The file exists and has the manifest's digest; onnxruntime is recent enough."""
    path = Path(onnx_path)
    try:
        digest = file_sha256(path)
    except OSError as exc:
        return [f"cannot read {path.name}: {exc.strerror or exc}"]
    problems = []
    if digest != manifest.sha256:
        problems.append(
            f"sha256 mismatch: {path.name} is {digest}, the manifest says {manifest.sha256} "
            "(the file was changed or the manifest belongs to another file)"
        )
    import onnxruntime as ort

    if _version_tuple(ort.__version__) < _version_tuple(manifest.min_onnxruntime):
        problems.append(
            f"needs onnxruntime >= {manifest.min_onnxruntime}, this is {ort.__version__}"
        )
    return problems


def signature_problems(manifest: ModelManifest, signature: OnnxSignature) -> list[str]:
    """Where the model's inputs and outputs disagree with the manifest."""
    problems = _tensor_problems("input", [manifest.input], signature.inputs)
    extra = [t.name for t in signature.inputs if t.name != manifest.input.name]
    if extra:
        problems.append(
            f"the model needs inputs the manifest does not feed: {', '.join(extra)} "
            f"(the runner feeds only {manifest.input.name!r})"
        )
    return problems + _tensor_problems("output", manifest.outputs, signature.outputs)


def _tensor_problems(
    kind: str, wanted: Sequence[TensorSpec], actual: Sequence[OnnxTensor]
) -> list[str]:
    by_name = {t.name: t for t in actual}
    problems = []
    for spec in wanted:
        found = by_name.get(spec.name)
        if found is None:
            names = ", ".join(by_name) or "none"
            problems.append(f"{kind} {spec.name!r} is not in the model (its {kind}s: {names})")
            continue
        where = f"{kind} {spec.name!r}"
        if found.dtype != ORT_DTYPES[spec.dtype]:
            problems.append(f"{where}: the model has {found.dtype}, the manifest {spec.dtype}")
        if len(found.shape) != len(spec.shape):
            problems.append(
                f"{where}: the model has rank {len(found.shape)}, the manifest {len(spec.shape)}"
            )
            continue
        for axis, (have, want) in enumerate(zip(found.shape, spec.shape, strict=True)):
            if _dims_clash(have, want, dynamic_ok=kind == "output"):
                problems.append(
                    f"{where}: axis {axis} is {have} in the model, {want} in the manifest"
                )
    return problems


def _dims_clash(have: Any, want: Any, dynamic_ok: bool) -> bool:
    """A fixed model dim that differs from the manifest's (or, for inputs, that it calls dynamic:
    the runner could feed other sizes)."""
    if not isinstance(have, int) or have <= 0:
        return False
    return have != want if isinstance(want, int) else not dynamic_ok


def check_onnx_file(manifest: ModelManifest, onnx_path: str | Path) -> list[str]:
    """Every reason ``onnx_path`` cannot serve ``manifest`` ([] when it can); never raises."""
    path = Path(onnx_path)
    if not path.is_file():
        return [f"{path.name} not found"]
    problems = file_problems(manifest, path)
    try:
        signature = read_onnx_signature(path)
    except ValueError as exc:
        return [*problems, str(exc)]
    return problems + signature_problems(manifest, signature)
