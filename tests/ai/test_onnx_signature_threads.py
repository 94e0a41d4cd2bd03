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
