"""``spineviewer doctor [--json] [--models DIR]``: what this machine gives SpineViewer, and why not.

It prints, one line each: Python, the platform, Qt (PySide6 and whether a platform plugin can
show a window here, decided without creating one: the environment, ``QT_QPA_PLATFORM``,
``DISPLAY`` / ``WAYLAND_DISPLAY``, and whether the plugin's shared library loads), onnxruntime
(version, package, the CUDA it was built for, its execution providers), CUDA (whether the
NVIDIA driver, the CUDA and cuDNN libraries and onnxruntime's CUDA provider library load; when
not, which library is missing and how to get it), the settings in force with where each came
from (:mod:`spineviewer.config`: default, the config file and its line, or the environment
variable), the model folders and the models found, and the annotation workspace.

CUDA is checked by :mod:`spineviewer.ai.cuda_check`, the check the model sessions make before
they ask onnxruntime for CUDA: ``onnxruntime.preload_dlls()`` (onnxruntime 1.21+), then the
driver and onnxruntime's CUDA provider library loaded with :mod:`ctypes`. On a machine
without a GPU the CUDA line says so, and why, in one line.

The exit status is 0 when the viewer and the CPU models can run (PySide6 and onnxruntime
import), 1 otherwise; no GPU is not a failure (the models run on the CPU).

No Qt and no heavy library is imported when this module is, and Qt is never imported into
this process: PySide6 and its platform plugins are checked in a child interpreter
(:data:`_QT_PROBE`); onnxruntime and the model registry are imported by :func:`diagnose`,
each inside its own try.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from spineviewer import config
from spineviewer.cli.screen import display_problem

CPU_PROVIDER = "CPUExecutionProvider"

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
    from spineviewer.ai.cuda_check import cuda_report, onnxruntime_report

    settings = config.load()
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
        "config": config_report(settings),
        "models": models_report(model_dirs or []),
        "workspace": workspace_report(settings),
    }
    report["ok"] = bool(qt["pyside6"] and ort["version"] and CPU_PROVIDER in ort["providers"])
    return report


def missing_library(message: str) -> str | None:
    """The library a dynamic loader's message names first (``libcudnn.so.9``), or None."""
    from spineviewer.ai.cuda_check import missing_library as named

    return named(message)


def pip_hint(library: str, cuda_version: str | None) -> str:
    """How to get a missing CUDA library (:func:`spineviewer.ai.cuda_check.pip_hint`)."""
    from spineviewer.ai.cuda_check import pip_hint as hint

    return hint(library, cuda_version)


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


def config_report(settings: config.Config) -> dict[str, Any]:
    """The config file and every setting in force with where it came from (secrets shown only
    as set or not set)."""
    return {
        "file": str(settings.file),
        "file_exists": settings.file.is_file(),
        "file_from": settings.file_source,
        "settings": settings.rows(),
        "problems": [str(p) for p in settings.problems],
    }


def workspace_report(settings: config.Config | None = None) -> dict[str, Any]:
    """The annotation workspace folder: where, from which setting, whether it can be written."""
    settings = settings or config.load()
    root = settings.workspace
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    return {
        "path": str(root),
        "exists": root.is_dir(),
        "writable": bool(existing and os.access(existing, os.W_OK)),
        "from": settings.sources["workspace"],
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
    from spineviewer.ai.cuda_check import summary_lines

    cuda, *hint = summary_lines(report["cuda"])
    lines.append(cuda)
    lines += [f"  hint: {line.removeprefix('To use the GPU: ')}" for line in hint]
    lines += _config_lines(report["config"])
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


def _config_lines(settings: dict[str, Any]) -> list[str]:
    state = "read" if settings["file_exists"] else "none there: defaults and environment"
    origin = "" if settings["file_from"] == "default" else f"; from {settings['file_from']}"
    lines = [f"Config: {settings['file']} ({state}{origin})"]
    lines += [f"  {row['name']} = {row['value']} ({row['source']})" for row in settings["settings"]]
    lines += [f"  problem: {problem}" for problem in settings["problems"]]
    return lines


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
