"""The provider choice says why CUDA is not used: the check before the first CUDA session
(:mod:`spineviewer.ai.cuda_check`), the warning naming the missing library, and onnxruntime's
own errors no longer turned down to fatal. Real onnxruntime sessions on a shipped model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnxruntime
import pytest

from spineviewer.ai import sessions
from spineviewer.ai.cuda_check import (
    CPU,
    CUDA,
    CudaStatus,
    cuda_report,
    cuda_status,
    onnxruntime_report,
    pip_hint,
)
from spineviewer.ai.registry import load_entry
from spineviewer.ai.runtime import ModelSession, providers_for
from spineviewer.ai.sessions import SessionCache

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "onnx_models" / "disc-state.onnx"


@pytest.fixture(scope="module")
def status() -> CudaStatus:
    found = cuda_status()
    if found.available:
        pytest.skip("CUDA loads on this machine: the fallback cannot show here")
    return found


def test_the_status_agrees_with_the_doctors_full_check(status: CudaStatus) -> None:
    ort, module = onnxruntime_report()
    full = cuda_report(module, ort)
    assert full["available"] is False
    assert status.reason == full["reason"]
    assert status.missing_library == full["missing_library"]
    assert status.offered is (CUDA in onnxruntime.get_available_providers())
    assert cuda_status() is status  # checked once per process


def test_without_cuda_no_session_asks_onnxruntime_for_it(status: CudaStatus) -> None:
    assert providers_for("auto") == providers_for("cuda") == providers_for("cpu") == [CPU]
    with pytest.raises(ValueError, match="tpu"):
        providers_for("tpu")


def test_cuda_asked_for_names_the_missing_library_and_how_to_get_it(status: CudaStatus) -> None:
    cache = SessionCache("cuda", threads=1)
    session = cache.get(load_entry(MODEL))
    assert session.provider == CPU and cache.provider == "cpu"
    (notice,) = cache.notices
    assert notice.startswith(f"CUDA is not available ({status.reason}): models run on the CPU.")
    if status.missing_library:
        assert status.missing_library in notice
        assert status.hint and status.hint in notice
    cache.get(load_entry(ROOT / "onnx_models" / "vertebrae-ap.onnx"))
    assert len(cache.notices) == 1  # said once, not per model


def test_auto_warns_where_a_gpu_is_set_up_wrong(
    status: CudaStatus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workstation with an NVIDIA driver and onnxruntime-gpu whose cuDNN does not load: the
    status as the check would find it there, the real sessions of this machine."""
    broken = CudaStatus(
        available=False,
        offered=True,
        has_driver=True,
        reason="libcudnn.so.9 does not load (libcudnn.so.9: cannot open shared object file)",
        missing_library="libcudnn.so.9",
        hint=pip_hint("libcudnn.so.9", "12.8"),
    )
    monkeypatch.setattr(sessions, "cuda_status", lambda: broken)
    cache = SessionCache("auto", threads=1)
    assert cache.get(load_entry(MODEL)).provider == CPU
    (notice,) = cache.notices
    assert "libcudnn.so.9 does not load" in notice
    assert "pip install nvidia-cudnn-cu12 (or pip install 'spineviewer[cuda]'" in notice
    # no GPU at all: auto on the CPU is what auto means, no warning
    monkeypatch.setattr(sessions, "cuda_status", lambda: status)
    quiet = SessionCache("auto", threads=1)
    assert quiet.get(load_entry(MODEL)).provider == CPU
    if not status.has_driver:
        assert quiet.notices == []


def test_hints_name_the_cuda_extra() -> None:
    assert pip_hint("libcublasLt.so.12", "12.8") == (
        "pip install nvidia-cublas-cu12 (or pip install 'spineviewer[cuda]' for all of them)"
    )
    assert pip_hint("libsomething_else.so.3", "12.8").startswith("pip install 'spineviewer[cuda]'")


def test_onnxruntime_errors_are_not_turned_down_to_fatal(status: CudaStatus) -> None:
    """After a model session exists, onnxruntime still prints why a CUDA provider fails to load
    (a session that asks for it directly): SpineViewer no longer sets its default logger to
    fatal for the whole process."""
    if not status.offered:
        pytest.skip("a CPU-only onnxruntime has no CUDA provider to fail")
    code = (
        "import sys, onnxruntime\n"
        "from spineviewer.ai.registry import load_entry\n"
        "from spineviewer.ai.runtime import ModelSession\n"
        f"entry = load_entry({str(MODEL)!r})\n"
        "ModelSession(entry.onnx_path, entry.manifest, 'auto', 1)\n"
        "print('---', file=sys.stderr, flush=True)\n"
        f"s = onnxruntime.InferenceSession({str(MODEL)!r}, "
        "providers=['CUDAExecutionProvider', 'CPUExecutionProvider'])\n"
        "print(s.get_providers()[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    before, after = done.stderr.split("---", 1)
    assert done.stdout.strip() == CPU
    assert "Failed to load library" not in before  # our own session did not ask for CUDA
    assert "CUDAExecutionProvider" in after or "Failed to load" in after, after


def test_a_model_session_reports_what_runs(status: CudaStatus) -> None:
    entry = load_entry(MODEL)
    assert entry.manifest is not None
    session = ModelSession(MODEL, entry.manifest, "cuda", threads=1)
    assert session.provider == CPU
