"""Reading a model's signature on a worker thread keeps onnxruntime's stdout banners out, and
leaves what other threads print alone (the viewer's model search runs on a worker while the
GUI thread prints)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from spineviewer.ai import onnx_file
from spineviewer.ai.onnx_file import read_onnx_signature

MODEL = Path(__file__).resolve().parents[2] / "onnx_models" / "disc-state.onnx"


@pytest.fixture(autouse=True)
def no_remembered_signatures(monkeypatch):
    """Each test opens its models afresh (signatures are remembered by content)."""
    monkeypatch.setattr(onnx_file, "_SIGNATURES", type(onnx_file._SIGNATURES)())


def test_other_threads_still_print_while_a_signature_is_read(monkeypatch, capsys):
    started, release = threading.Event(), threading.Event()
    real_session = onnx_file_session()

    def slow_session(*args, **kwargs):
        print("onnxruntime banner")  # what onnxruntime prints on its fallback path
        started.set()
        release.wait(10)
        return real_session(*args, **kwargs)

    monkeypatch.setattr("onnxruntime.InferenceSession", slow_session)
    worker = threading.Thread(target=read_onnx_signature, args=(MODEL,))
    worker.start()
    assert started.wait(10)
    print("painted window")  # this thread, while the worker is inside onnxruntime
    release.set()
    worker.join(10)
    out = capsys.readouterr().out
    assert "painted window" in out
    assert "onnxruntime banner" not in out
    assert not isinstance(sys.stdout, onnx_file._SilentThread)


def onnx_file_session():
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession


def test_a_signature_is_read_once_per_content(monkeypatch, tmp_path):
    opened: list[str] = []
    real_session = onnx_file_session()

    def counting_session(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real_session(path, *args, **kwargs)

    monkeypatch.setattr("onnxruntime.InferenceSession", counting_session)
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(MODEL.read_bytes())
    first = read_onnx_signature(MODEL)
    assert read_onnx_signature(MODEL) == first
    assert read_onnx_signature(copy) == first  # same bytes: not opened again
    assert opened == [MODEL.name]
    broken = bytearray(MODEL.read_bytes())
    broken[len(broken) // 2 :] = bytes(len(broken) - len(broken) // 2)  # same size, new bytes
    copy.write_bytes(bytes(broken))
    with pytest.raises(ValueError, match=r"copy\.onnx"):
        read_onnx_signature(copy)
    assert opened == [MODEL.name, "copy.onnx"]
