"""``spineviewer doctor``: the real command with the real onnxruntime and PySide6 of this
environment, run as a user runs it (a child process), and the parts of its diagnosis that need
a broken machine checked on real loader messages."""

from __future__ import annotations

import ctypes
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import onnxruntime
import pytest

from spineviewer.cli.doctor import missing_library, pip_hint

ROOT = Path(__file__).resolve().parents[2]

JSON_KEYS = {
    "spineviewer",
    "config",
    "python",
    "platform",
    "qt",
    "onnxruntime",
    "cuda",
    "models",
    "workspace",
    "ok",
}


def _no_driver() -> str | None:
    """The loader's message when this machine has no NVIDIA driver; None when it has one."""
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        return str(exc)
    return None


def doctor(
    *args: str, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m spineviewer doctor ARGS`` with ``env`` changes (None: unset)."""
    environment = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        [sys.executable, "-m", "spineviewer", "doctor", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=180,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def headless_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    workspace = tmp_path_factory.mktemp("doctor") / "workspace"
    return {
        "DISPLAY": None,
        "WAYLAND_DISPLAY": None,
        "QT_QPA_PLATFORM": None,
        "SPINEVIEWER_WORKSPACE": str(workspace),
    }


@pytest.fixture(scope="module")
def report(headless_env: dict[str, str | None]) -> dict:
    done = doctor("--json", env=headless_env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def text(headless_env: dict[str, str | None]) -> list[str]:
    done = doctor(env=headless_env)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_json_keys_and_values_are_this_machines(report: dict, headless_env: dict) -> None:
    import PySide6

    assert set(report) == JSON_KEYS
    assert report["ok"] is True
    assert report["python"]["version"] == platform.python_version()
    assert report["platform"]["machine"] == platform.machine()
    assert report["qt"]["pyside6"] == PySide6.__version__
    assert report["qt"]["plugin"] is None  # no DISPLAY, no QT_QPA_PLATFORM
    assert "no display" in report["qt"]["display_problem"]
    assert {"offscreen", "xcb"} <= set(report["qt"]["plugins"])
    ort = report["onnxruntime"]
    assert ort["version"] == onnxruntime.__version__
    assert ort["providers"] == onnxruntime.get_available_providers()
    assert ort["has_preload_dlls"] is hasattr(onnxruntime, "preload_dlls")
    assert set(report["cuda"]) >= {"available", "reason", "missing_library", "hint", "driver"}
    ws = report["workspace"]
    assert ws == {
        "path": headless_env["SPINEVIEWER_WORKSPACE"],
        "exists": False,
        "writable": True,
        "from": "SPINEVIEWER_WORKSPACE",
    }


def test_the_shipped_models_are_listed_with_their_folder(report: dict) -> None:
    models = report["models"]
    folders = [f["path"] for f in models["folders"]]
    assert str(ROOT / "onnx_models") in folders
    ids = {m["id"] for m in models["models"] if m["available"]}
    assert {"disc-state", "vertebrae-sagittal", "vertebrae-ap"} <= ids
    shipped = [m for m in models["models"] if m["id"] == "disc-state"]
    assert shipped[0]["path"].endswith("disc-state.onnx")


def test_text_lines(text: list[str]) -> None:
    import PySide6

    assert text[0].startswith("SpineViewer ")
    assert text[1].startswith(f"Python: {platform.python_version()} ")
    assert text[2].startswith("Platform: ")
    assert text[3].startswith(f"Qt: PySide6 {PySide6.__version__}, Qt ")
    assert "platform plugin: none, no display" in text[3]
    providers = ", ".join(onnxruntime.get_available_providers())
    assert text[4].startswith(f"onnxruntime: {onnxruntime.__version__} (")
    assert text[4].endswith(f"providers: {providers}")
    cuda = [line for line in text if line.startswith("CUDA: ")]
    assert len(cuda) == 1
    models = next(line for line in text if line.startswith("Models: "))
    assert " usable of " in models
    assert any(line.strip().startswith("disc-state ") for line in text)
    assert text[-1].startswith("Workspace: ")
    assert "from SPINEVIEWER_WORKSPACE" in text[-1]


def test_without_a_gpu_it_says_so_in_one_line_and_why(report: dict, text: list[str]) -> None:
    message = _no_driver()
    if message is None:
        pytest.skip("this machine has an NVIDIA driver: the no-GPU line cannot show here")
    cuda = report["cuda"]
    line = next(line for line in text if line.startswith("CUDA: "))
    assert cuda["available"] is False
    assert cuda["driver"]["error"] == message
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        assert cuda["missing_library"] == "libcuda.so.1"
        assert line == (
            "CUDA: not available (no NVIDIA driver: libcuda.so.1 not found); "
            "the models run on the CPU"
        )
        if hasattr(onnxruntime, "preload_dlls"):
            assert cuda["preload_dlls"]["called"] is True
        # onnxruntime's own CUDA provider library names the same missing driver
        assert missing_library(cuda["provider_library"]["error"]) == "libcuda.so.1"
    else:
        assert line.startswith("CUDA: not available (onnxruntime has no CUDAExecutionProvider")
        assert "no NVIDIA driver: libcuda.so.1 not found" in line
    hint = text[text.index(line) + 1]
    assert hint.startswith("  hint: ")


def test_with_a_driver_it_says_available_or_names_the_missing_library(report: dict) -> None:
    if _no_driver() is not None:
        pytest.skip("no NVIDIA driver here (the no-GPU test covers this machine)")
    cuda = report["cuda"]
    assert cuda["available"] or (cuda["missing_library"] and cuda["hint"])


def test_missing_library_from_a_real_loader_message() -> None:
    name = "libcudnn_spineviewer_absent.so.9"
    with pytest.raises(OSError) as caught:
        ctypes.CDLL(name)
    assert missing_library(str(caught.value)) == name
    assert missing_library("no library named here") is None
    windows = "Could not find module 'C:\\nv\\bin\\cudnn64_9.dll' (or one of its dependencies)."
    assert missing_library(windows) == "cudnn64_9.dll"


@pytest.mark.parametrize(
    ("library", "cuda", "package"),
    [
        ("libcudnn.so.9", "12.8", "pip install nvidia-cudnn-cu12"),
        ("libcublasLt.so.12", "12.8", "pip install nvidia-cublas-cu12"),
        ("libcudart.so.12", "12.2", "pip install nvidia-cuda-runtime-cu12"),
        ("libcufft.so.11", "12.8", "pip install nvidia-cufft-cu12"),
        ("libcudnn_adv.so.9", "13.0", "pip install nvidia-cudnn-cu13"),
        ("libcublasLt.so.13", "13.0", "pip install nvidia-cublas "),
    ],
)
def test_hint_names_the_wheel(library: str, cuda: str, package: str) -> None:
    assert pip_hint(library, cuda).startswith(package)


def test_hint_for_the_driver_is_not_pip() -> None:
    hint = pip_hint("libcuda.so.1", "12.8")
    assert "driver" in hint
    assert "pip install" not in hint


def test_platform_plugin_chosen_by_qt_qpa_platform(headless_env: dict) -> None:
    env = {**headless_env, "QT_QPA_PLATFORM": "offscreen"}
    done = doctor("--json", env=env)
    qt = json.loads(done.stdout)["qt"]
    assert (qt["plugin"], qt["plugin_error"]) == ("offscreen", None)
    assert qt["display_problem"] == "QT_QPA_PLATFORM=offscreen shows no window"
    env["QT_QPA_PLATFORM"] = "nosuchplugin"
    qt = json.loads(doctor("--json", env=env).stdout)["qt"]
    assert qt["plugin"] == "nosuchplugin"
    assert qt["plugin_error"].startswith("no 'nosuchplugin' plugin in ")


def test_without_pyside6_it_says_so_and_fails(headless_env: dict, tmp_path: Path) -> None:
    """A PySide6 that does not import (a package of that name first on the path that raises
    ImportError, as a broken install does): the Qt line says so and the exit status is 1."""
    broken = tmp_path / "PySide6"
    broken.mkdir()
    (broken / "__init__.py").write_text(
        "raise ImportError('libQt6Core.so.6: cannot open shared object file')\n", "utf-8"
    )
    done = doctor(env={**headless_env, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 1, done.stdout + done.stderr
    qt_line = next(line for line in done.stdout.splitlines() if line.startswith("Qt: "))
    assert qt_line == (
        "Qt: PySide6 does not import (ImportError: libQt6Core.so.6: cannot open shared object file)"
    )
    assert "  hint: pip install PySide6-Essentials" in done.stdout


def test_importing_doctor_loads_no_qt_and_no_onnxruntime() -> None:
    code = (
        "import sys, spineviewer.cli.doctor; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'PySide6', 'shiboken6', 'pyqtgraph', 'onnxruntime', 'numpy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_running_doctor_keeps_qt_out_of_its_process() -> None:
    code = (
        "import contextlib, io, sys; from spineviewer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['doctor'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'shiboken6'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=180
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
