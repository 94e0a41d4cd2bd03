"""What onnxruntime can run on here: its build and providers, and whether CUDA loads; when it
does not, which library is missing and how to get it. No Qt, no torch.

CUDA is checked the way onnxruntime will need it: ``onnxruntime.preload_dlls()`` (onnxruntime
1.21+) loads the CUDA and cuDNN libraries from NVIDIA's pip wheels or the system, and prints
(never raises) which failed; what it prints is captured (for the calling thread only) and
parsed. Then the driver (``libcuda``, which no pip wheel provides) and onnxruntime's
``libonnxruntime_providers_cuda`` are loaded with :mod:`ctypes`, whose error names the first
library the dynamic loader could not find.

``spineviewer doctor`` prints :func:`cuda_report`; the model sessions
(:mod:`spineviewer.ai.runtime`, :mod:`spineviewer.ai.sessions`) ask :func:`cuda_status` (the
same check, once per process) before they ask onnxruntime for CUDA, so a machine where CUDA
does not load runs on the CPU with a warning that names the missing library, instead of
onnxruntime's stack of error lines or, worse, silence.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import io
import platform
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"

#: How to get every CUDA and cuDNN library onnxruntime-gpu needs at once (pyproject's extra).
CUDA_EXTRA = "pip install 'spineviewer[cuda]'"

#: A shared library's file name inside a loader message ("libcudnn.so.9: cannot open ...",
#: "Could not find module 'C:\\...\\cudnn64_9.dll' (or one of its dependencies)").
_LIBRARY = re.compile(r"([A-Za-z0-9_+-]+(?:\.so(?:\.[0-9]+)*|\.dll|\.dylib))")
#: What ``onnxruntime.preload_dlls`` prints for a library it could not load.
_PRELOAD_FAILURE = re.compile(r"Failed to load (\S+?):\s*(.*)")

#: Library name prefix -> pip distribution (``{cu}``: ``-cu12`` for CUDA 12, "" for CUDA 13),
#: the NVIDIA wheels onnxruntime-gpu's ``[cuda,cudnn]`` extras install.
_PIP_PACKAGES: tuple[tuple[str, str], ...] = (
    ("cudnn", "nvidia-cudnn-cu{major}"),
    ("cublas", "nvidia-cublas{cu}"),
    ("cudart", "nvidia-cuda-runtime{cu}"),
    ("cufft", "nvidia-cufft{cu}"),
    ("curand", "nvidia-curand{cu}"),
    ("nvrtc", "nvidia-cuda-nvrtc{cu}"),
    ("nvjitlink", "nvidia-nvjitlink{cu}"),
    ("cusparse", "nvidia-cusparse{cu}"),
    ("cusolver", "nvidia-cusolver{cu}"),
)


def missing_library(message: str) -> str | None:
    """The library a dynamic loader's message names first (``libcudnn.so.9``), or None."""
    found = _LIBRARY.search(message)
    return Path(found.group(1)).name if found else None


def load_error(library: str) -> str | None:
    """None when ``library`` loads with ctypes, else the loader's message."""
    try:
        ctypes.CDLL(library)
    except OSError as exc:
        return str(exc)
    return None


def pip_hint(library: str, cuda_version: str | None) -> str:
    """How to get a missing CUDA library: the NVIDIA pip wheel, or the driver."""
    if library.startswith(("libcuda.so", "nvcuda")):
        return (
            "on a machine with an NVIDIA GPU, install its driver (libcuda comes with the "
            "driver, not from pip) and check nvidia-smi"
        )
    major = (cuda_version or "12").split(".")[0]
    cu = f"-cu{major}" if major == "12" else ""
    for prefix, package in _PIP_PACKAGES:
        if prefix in library.lower():
            name = package.format(cu=cu, major=major)
            return f"pip install {name} (or {CUDA_EXTRA} for all of them)"
    return f"{CUDA_EXTRA} (NVIDIA's CUDA {major} and cuDNN wheels)"


def onnxruntime_report() -> tuple[dict[str, Any], Any]:
    """onnxruntime's version, package, build CUDA and providers; and the module (or None)."""
    out: dict[str, Any] = {
        "version": None,
        "package": None,
        "built_for_cuda": None,
        "providers": [],
        "has_preload_dlls": False,
        "error": None,
    }
    try:
        module = importlib.import_module("onnxruntime")
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out, None
    out["version"] = str(module.__version__)
    out["providers"] = list(module.get_available_providers())
    out["has_preload_dlls"] = callable(getattr(module, "preload_dlls", None))
    try:
        info = importlib.import_module("onnxruntime.capi.build_and_package_info")
        out["package"] = getattr(info, "package_name", None)
        out["built_for_cuda"] = getattr(info, "cuda_version", None) or None
    except Exception:  # an older or unusual build: the providers still say enough
        pass
    return out, module


def driver_library() -> str:
    """The NVIDIA driver's library, which only the driver installs."""
    return "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"


def _provider_library(module: Any) -> Path:
    capi = Path(module.__file__).parent / "capi"
    name = (
        "onnxruntime_providers_cuda.dll"
        if sys.platform == "win32"
        else "libonnxruntime_providers_cuda.so"
    )
    return capi / name


class _ThreadCapture:
    """A stand-in for ``sys.stdout`` that keeps what the thread that made it writes and passes
    on what other threads write (``sys.stdout`` is one for the whole process: the viewer's
    GUI thread may print while a worker loads the models)."""

    def __init__(self, target: TextIO) -> None:
        self.text = io.StringIO()
        self._target = target
        self._owner = threading.get_ident()

    def write(self, text: str) -> int:
        mine = threading.get_ident() == self._owner
        return (self.text if mine else self._target).write(text)

    def flush(self) -> None:
        self._target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


#: ``preload_dlls`` prints what it loads; its output is captured one call at a time.
_PRELOAD_LOCK = threading.Lock()


def summary_lines(cuda: dict[str, Any]) -> list[str]:
    """What ``spineviewer doctor`` and Help > About say of a :func:`cuda_report`: one line, and
    how to get what is missing when CUDA does not load."""
    if cuda["available"]:
        return ["CUDA: available (driver, CUDA and cuDNN libraries and the CUDA provider load)"]
    lines = [f"CUDA: not available ({cuda['reason']}); the models run on the CPU"]
    return lines + ([f"To use the GPU: {cuda['hint']}"] if cuda.get("hint") else [])


def _preload(module: Any) -> dict[str, Any]:
    """Call ``onnxruntime.preload_dlls()`` and parse what it printed."""
    out: dict[str, Any] = {"called": False, "failures": [], "output": "", "error": None}
    preload = getattr(module, "preload_dlls", None)
    if not callable(preload):
        out["error"] = f"onnxruntime {module.__version__} has no preload_dlls (1.21 or later has)"
        return out
    capture = _ThreadCapture(sys.stdout)
    try:
        # sys.stdout is process-wide: one capture at a time, or an overlapping check could
        # leave it pointing at a finished capture
        with _PRELOAD_LOCK, contextlib.redirect_stdout(capture):
            preload()
        out["called"] = True
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["output"] = capture.text.getvalue().strip()
    for line in out["output"].splitlines():
        found = _PRELOAD_FAILURE.search(line)
        if found:
            lib = Path(found.group(1)).name
            out["failures"].append({"library": lib, "error": found.group(2).strip()})
    return out


def cuda_report(module: Any, ort: dict[str, Any], thorough: bool = True) -> dict[str, Any]:
    """Whether onnxruntime can run on CUDA here and, when not, why in one phrase, the missing
    library and how to get it (``module``, ``ort``: :func:`onnxruntime_report`).

    ``thorough=False`` stops at a missing driver (no GPU: nothing else can help, and
    ``preload_dlls`` takes a while); ``doctor`` checks everything."""
    out: dict[str, Any] = {
        "available": False,
        "reason": None,
        "driver": {"library": driver_library(), "error": None},
        "preload_dlls": None,
        "provider_library": None,
        "missing_library": None,
        "hint": None,
    }
    if module is None:
        out["reason"] = "onnxruntime does not import"
        return out
    if sys.platform not in ("linux", "win32"):
        out["reason"] = f"onnxruntime has no CUDA build for {platform.system()}"
        return out
    out["driver"]["error"] = load_error(driver_library())
    if CUDA not in ort["providers"]:
        package = ort.get("package") or "onnxruntime"
        why = [f"onnxruntime has no {CUDA} ({package} is a CPU-only build)"]
        if out["driver"]["error"]:
            why.append(f"no NVIDIA driver: {driver_library()} not found")
        out["reason"] = " / ".join(why)
        out["hint"] = "pip install onnxruntime-gpu in place of onnxruntime (x86_64 Linux, Windows)"
        return out
    no_driver = out["driver"]["error"] is not None
    preload: dict[str, Any] = {"failures": []}
    provider_error = None
    if thorough or not no_driver:
        preload = out["preload_dlls"] = _preload(module)
        provider = _provider_library(module)
        provider_error = (
            load_error(str(provider)) if provider.is_file() else f"{provider} not found"
        )
        out["provider_library"] = {"path": str(provider), "error": provider_error}
    if no_driver:
        out["missing_library"] = driver_library()
        out["reason"] = f"no NVIDIA driver: {driver_library()} not found"
    elif preload["failures"]:
        first = preload["failures"][0]
        out["missing_library"] = first["library"]
        out["reason"] = f"{first['library']} does not load ({first['error']})"
    elif provider_error:
        lib = missing_library(provider_error) or provider.name
        out["missing_library"] = lib
        out["reason"] = f"{provider.name} does not load: {lib} not found ({provider_error})"
    else:
        out["available"] = True
        return out
    out["hint"] = pip_hint(out["missing_library"], ort.get("built_for_cuda"))
    return out


@dataclass(frozen=True)
class CudaStatus:
    """:func:`cuda_report` in brief, for choosing a provider."""

    #: onnxruntime offers CUDA and its libraries load: ask it for CUDA.
    available: bool
    #: onnxruntime offers the CUDA provider (an onnxruntime-gpu build).
    offered: bool
    #: The NVIDIA driver loads (there is a GPU to use).
    has_driver: bool
    #: Why not, in one phrase (None when available).
    reason: str | None = None
    missing_library: str | None = None
    #: How to get the missing library.
    hint: str | None = None

    def warning(self) -> str:
        """The warning for a run that wanted CUDA and runs on the CPU."""
        how = f" To use the GPU: {self.hint}." if self.hint else ""
        return f"CUDA is not available ({self.reason}): models run on the CPU.{how}"


_STATUS: list[CudaStatus] = []
_STATUS_LOCK = threading.Lock()


def cuda_status() -> CudaStatus:
    """Whether CUDA loads here, checked once per process (the check preloads the CUDA and cuDNN
    libraries, as onnxruntime needs before a CUDA session)."""
    with _STATUS_LOCK:
        if not _STATUS:
            ort, module = onnxruntime_report()
            report = cuda_report(module, ort, thorough=False)
            checked = module is not None and sys.platform in ("linux", "win32")
            _STATUS.append(
                CudaStatus(
                    available=bool(report["available"]),
                    offered=CUDA in ort["providers"],
                    has_driver=checked and not report["driver"]["error"],
                    reason=report["reason"],
                    missing_library=report["missing_library"],
                    hint=report["hint"],
                )
            )
        return _STATUS[0]
