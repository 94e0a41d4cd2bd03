"""``spineviewer doctor [--json] [--models DIR]``: what this machine gives SpineViewer, and why not.

It prints, one line each: Python, the platform, Qt (PySide6 and whether a platform plugin can
show a window here, decided without creating one: the environment, ``QT_QPA_PLATFORM``,
``DISPLAY`` / ``WAYLAND_DISPLAY``, and whether the plugin's shared library loads), onnxruntime
(version, package, the CUDA it was built for, its execution providers), CUDA (whether the
NVIDIA driver, the CUDA and cuDNN libraries and onnxruntime's CUDA provider library load; when
not, which library is missing and how to get it), the model folders and the models found,
and the annotation workspace.

CUDA is checked the way onnxruntime will need it: ``onnxruntime.preload_dlls()`` (onnxruntime
1.21+) loads the CUDA and cuDNN libraries from NVIDIA's pip wheels or the system, and prints
(never raises) which failed; its output is captured and parsed. Then the driver (``libcuda``,
which no pip wheel provides) and onnxruntime's ``libonnxruntime_providers_cuda`` are loaded
with :mod:`ctypes`, whose error names the first library the dynamic loader could not find.

The exit status is 0 when the viewer and the CPU models can run (PySide6 and onnxruntime
import), 1 otherwise; no GPU is not a failure (the models run on the CPU).

No Qt and no heavy library is imported when this module is, and Qt is never imported into
this process: PySide6 and its platform plugins are checked in a child interpreter
(:data:`_QT_PROBE`); onnxruntime and the model registry are imported by :func:`diagnose`,
each inside its own try.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import io
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from spineviewer.cli.display import display_problem

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"

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
#: Shared library -> Debian/Ubuntu package, for the Qt platform plugins' usual gaps.
_DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``doctor`` subcommand."""
    parser = subparsers.add_parser(
        "doctor",
        help="what this machine gives SpineViewer: Python, Qt, onnxruntime, CUDA, models",
        description=(
            "Check Python, the Qt platform plugin, onnxruntime and its providers, whether the "
            "CUDA / cuDNN libraries load (and which one does not, with how to get it), the "
            "model folders and the annotation workspace. Creates no window."
        ),
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--models", type=Path, action="append", default=[], metavar="DIR", help="model folder"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the diagnosis; 0 when the viewer and CPU models can run here."""
    report = diagnose(args.models)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for line in text_lines(report):
            print(line)
    return 0 if report["ok"] else 1


# -- collecting --------------------------------------------------------------------------------


def diagnose(model_dirs: list[Path] | None = None) -> dict[str, Any]:
    """Everything ``doctor`` reports, as JSON-ready data (the ``--json`` output)."""
    from spineviewer import __version__

    qt = qt_report()
    ort, module = onnxruntime_report()
    report: dict[str, Any] = {
        "spineviewer": {"version": __version__},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "description": platform.platform(),
        },
        "qt": qt,
        "onnxruntime": ort,
        "cuda": cuda_report(module, ort),
        "models": models_report(model_dirs or []),
        "workspace": workspace_report(),
    }
    report["ok"] = bool(qt["pyside6"] and ort["version"] and CPU_PROVIDER in ort["providers"])
    return report


def missing_library(message: str) -> str | None:
    """The library a dynamic loader's message names first (``libcudnn.so.9``), or None."""
    found = _LIBRARY.search(message)
    return Path(found.group(1)).name if found else None


def _load(library: str) -> str | None:
    """None when ``library`` loads with ctypes, else the loader's message."""
    try:
        ctypes.CDLL(library)
    except OSError as exc:
        return str(exc)
    return None


#: Run in a child interpreter: PySide6's version, Qt's, and whether each platform plugin's
#: shared library loads (ctypes: what the dynamic loader says, no QApplication, no window).
_QT_PROBE = r"""
import ctypes, json, pathlib, sys
out = {}
try:
    import PySide6, PySide6.QtCore
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out)); sys.exit(0)
out["pyside6"] = str(getattr(PySide6, "__version__", "unknown"))
out["qt"] = str(PySide6.QtCore.qVersion())
root = pathlib.Path(PySide6.__file__).parent
folder = next((f for f in (root / "Qt" / "plugins" / "platforms", root / "plugins" / "platforms")
               if f.is_dir()), root / "Qt" / "plugins" / "platforms")
out["folder"] = str(folder)
out["files"] = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
name = sys.argv[1] if len(sys.argv) > 1 else ""
if name:
    out["load_error"] = None
    try:
        ctypes.CDLL(str(folder / name))
    except OSError as exc:
        out["load_error"] = str(exc)
print(json.dumps(out))
"""


def qt_report() -> dict[str, Any]:
    """PySide6 and the Qt platform plugin this environment would use, checked in a child
    interpreter (this process stays Qt-free); creates no window."""
    out: dict[str, Any] = {
        "pyside6": None,
        "qt": None,
        "error": None,
        "plugin": _default_plugin(),
        "plugin_error": None,
        "plugins": [],
        "display_problem": display_problem(),
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM"),
        "DISPLAY": os.environ.get("DISPLAY"),
        "WAYLAND_DISPLAY": os.environ.get("WAYLAND_DISPLAY"),
        "hint": None,
    }
    probe = _run_qt_probe("")
    if probe.get("error"):
        out["error"] = probe["error"]
        out["hint"] = "pip install PySide6-Essentials (or ./bootstrap.sh demo)"
        return out
    out["pyside6"], out["qt"] = probe.get("pyside6"), probe.get("qt")
    plugins = {_plugin_name(Path(f)): f for f in probe.get("files", []) if _plugin_name(Path(f))}
    out["plugins"] = sorted(name for name in plugins if name)
    name = out["plugin"]
    if name is None:
        return out
    if name not in plugins:
        out["plugin_error"] = f"no '{name}' plugin in {probe.get('folder')}"
        return out
    error = _run_qt_probe(plugins[name]).get("load_error")
    if not error and name == "xcb":
        out["display_problem"] = out["display_problem"] or _x_server_problem()
    if error:
        out["plugin_error"] = error
        deb = _DEBIAN_PACKAGES.get(missing_library(error) or "")
        out["hint"] = (
            f"apt-get install {deb}"
            if deb
            else "install the system libraries Qt needs (./bootstrap.sh demo, as root, does)"
        )
    return out


def _x_server_problem() -> str | None:
    """Why a local ``DISPLAY=:N`` has no X server (its socket is missing); None otherwise."""
    found = re.fullmatch(r":(\d+)(?:\.\d+)?", os.environ.get("DISPLAY", ""))
    if found and sys.platform.startswith("linux"):
        socket = Path("/tmp/.X11-unix") / f"X{found.group(1)}"
        if not socket.exists():
            return f"no X server on DISPLAY={found.group(0)} ({socket} not found)"
    return None


def _run_qt_probe(plugin_file: str) -> dict[str, Any]:
    """:data:`_QT_PROBE`'s answer; ``error`` when the child failed or printed no answer."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _QT_PROBE, plugin_file],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"cannot run {sys.executable}: {exc}"}
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        why = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return {"error": f"the Qt check did not answer ({why[0]})"}
    return answer


def _plugin_name(path: Path) -> str | None:
    """``libqxcb.so`` -> ``xcb``, ``qwindows.dll`` -> ``windows``; None for other files."""
    found = re.fullmatch(r"(?:lib)?q(\w+)\.(?:so|dll|dylib)", path.name)
    return found.group(1) if found else None


def _default_plugin() -> str | None:
    """The platform plugin Qt would pick here (``QT_QPA_PLATFORM``, else by the OS and the
    display variables); None on Linux with no display at all."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "cocoa"
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return "wayland"
    if os.environ.get("DISPLAY"):
        return "xcb"
    return None


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


def _driver_library() -> str:
    return "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"


def _provider_library(module: Any) -> Path:
    capi = Path(module.__file__).parent / "capi"
    name = (
        "onnxruntime_providers_cuda.dll"
        if sys.platform == "win32"
        else "libonnxruntime_providers_cuda.so"
    )
    return capi / name


def _preload(module: Any) -> dict[str, Any]:
    """Call ``onnxruntime.preload_dlls()`` and parse what it printed."""
    out: dict[str, Any] = {"called": False, "failures": [], "output": "", "error": None}
    preload = getattr(module, "preload_dlls", None)
    if not callable(preload):
        out["error"] = f"onnxruntime {module.__version__} has no preload_dlls (1.21 or later has)"
        return out
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            preload()
        out["called"] = True
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["output"] = printed.getvalue().strip()
    for line in out["output"].splitlines():
        found = _PRELOAD_FAILURE.search(line)
        if found:
            lib = Path(found.group(1)).name
            out["failures"].append({"library": lib, "error": found.group(2).strip()})
    return out


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
            return f"pip install {name} (or pip install -e '.[cuda]' for all of them)"
    return (
        f"pip install nvidia-cudnn-cu{major} nvidia-cublas{cu} nvidia-cuda-runtime{cu} "
        "(or pip install -e '.[cuda]')"
    )


def cuda_report(module: Any, ort: dict[str, Any]) -> dict[str, Any]:
    """Whether onnxruntime can run on CUDA here and, when not, why in one phrase."""
    out: dict[str, Any] = {
        "available": False,
        "reason": None,
        "driver": {"library": _driver_library(), "error": None},
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
    out["driver"]["error"] = _load(_driver_library())
    has_provider = CUDA_PROVIDER in ort["providers"]
    if not has_provider:
        package = ort.get("package") or "onnxruntime"
        why = [f"onnxruntime has no {CUDA_PROVIDER} ({package} is a CPU-only build)"]
        if out["driver"]["error"]:
            why.append(f"no NVIDIA driver: {_driver_library()} not found")
        out["reason"] = " / ".join(why)
        out["hint"] = "pip install onnxruntime-gpu in place of onnxruntime (x86_64 Linux, Windows)"
        return out
    preload = _preload(module)
    out["preload_dlls"] = preload
    provider = _provider_library(module)
    provider_error = _load(str(provider)) if provider.is_file() else f"{provider} not found"
    out["provider_library"] = {"path": str(provider), "error": provider_error}
    cuda = ort.get("built_for_cuda")
    if out["driver"]["error"]:
        out["missing_library"] = _driver_library()
        out["reason"] = f"no NVIDIA driver: {_driver_library()} not found"
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
    out["hint"] = pip_hint(out["missing_library"], cuda)
    return out


def models_report(dirs: list[Path]) -> dict[str, Any]:
    """The model folders searched (in order) and every model found, usable or not."""
    out: dict[str, Any] = {"folders": [], "models": [], "error": None}
    try:
        from spineviewer.ai.registry import find_models, model_dirs

        folders = model_dirs(dirs)
        entries = find_models(dirs)
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["folders"] = [{"path": str(f), "exists": f.is_dir()} for f in folders]
    for entry in entries:
        out["models"].append(
            {
                "id": entry.id,
                "version": entry.manifest.version if entry.manifest else None,
                "available": entry.available,
                "origin": entry.origin,
                "choice": entry.choice,
                "problems": list(entry.problems),
                "path": str(entry.onnx_path),
            }
        )
    return out


def workspace_report() -> dict[str, Any]:
    """The annotation workspace folder: where, from which setting, whether it can be written."""
    from spineviewer.annotations.store import ENV_WORKSPACE, default_root

    root = default_root()
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    return {
        "path": str(root),
        "exists": root.is_dir(),
        "writable": bool(existing and os.access(existing, os.W_OK)),
        "from": ENV_WORKSPACE if os.environ.get(ENV_WORKSPACE) else "default",
    }


# -- printing ----------------------------------------------------------------------------------


def text_lines(report: dict[str, Any]) -> list[str]:
    """The human-readable output, one topic a line (details indented below)."""
    py, plat, qt, ort = report["python"], report["platform"], report["qt"], report["onnxruntime"]
    lines = [
        f"SpineViewer {report['spineviewer']['version']}",
        f"Python: {py['version']} ({py['implementation']}, {py['executable']})",
        f"Platform: {plat['description']} ({plat['machine']})",
        _qt_line(qt),
    ]
    if qt["hint"]:
        lines.append(f"  hint: {qt['hint']}")
    lines.append(_onnxruntime_line(ort))
    lines.append(_cuda_line(report["cuda"]))
    if report["cuda"]["hint"]:
        lines.append(f"  hint: {report['cuda']['hint']}")
    lines += _model_lines(report["models"])
    ws = report["workspace"]
    state = "exists" if ws["exists"] else "not created yet"
    writable = "writable" if ws["writable"] else "NOT writable"
    lines.append(f"Workspace: {ws['path']} ({state}, {writable}; from {ws['from']})")
    return lines


def _qt_line(qt: dict[str, Any]) -> str:
    if not qt["pyside6"]:
        return f"Qt: PySide6 does not import ({qt['error']})"
    head = f"Qt: PySide6 {qt['pyside6']}, Qt {qt['qt']}"
    if qt["plugin"] is None:
        return f"{head}; platform plugin: none, {qt['display_problem']}, so no viewer window"
    if qt["plugin_error"]:
        return f"{head}; platform plugin {qt['plugin']}: does not load ({qt['plugin_error']})"
    note = f", {qt['display_problem']}" if qt["display_problem"] else ""
    return f"{head}; platform plugin {qt['plugin']}: loads{note}"


def _onnxruntime_line(ort: dict[str, Any]) -> str:
    if not ort["version"]:
        return f"onnxruntime: does not import ({ort['error']})"
    built = f", built for CUDA {ort['built_for_cuda']}" if ort["built_for_cuda"] else ""
    package = ort["package"] or "onnxruntime"
    return f"onnxruntime: {ort['version']} ({package}{built}); providers: " + ", ".join(
        ort["providers"]
    )


def _cuda_line(cuda: dict[str, Any]) -> str:
    if cuda["available"]:
        return "CUDA: available (driver, CUDA and cuDNN libraries and the CUDA provider load)"
    return f"CUDA: not available ({cuda['reason']}); the models run on the CPU"


def _model_lines(models: dict[str, Any]) -> list[str]:
    if models["error"]:
        return [f"Models: cannot list them ({models['error']})"]
    usable = sum(1 for m in models["models"] if m["available"])
    lines = [f"Models: {usable} usable of {len(models['models'])} found"]
    for folder in models["folders"]:
        missing = "" if folder["exists"] else " (no such folder)"
        lines.append(f"  folder: {folder['path']}{missing}")
    for model in models["models"]:
        name = " ".join(filter(None, (model["id"], model["version"])))
        if model["available"]:
            state = model["choice"] or "usable"
        else:
            state = model["choice"] if model["choice"] != "not usable" else ""
            state = state or "NOT USABLE: " + "; ".join(model["problems"])
        lines.append(f"  {name}: {state}")
    return lines
