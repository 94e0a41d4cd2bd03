"""The viewers compared: how each is started on a series folder from the command line, how
its slices are stepped with keys (``xdotool``), its version, and what it cannot do.

A viewer that cannot open the series is still run where it starts, and reported with the
reason (``known_limits`` says what was seen when the bench was written; the run's own
measurement decides).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

DEBIAN_PACKAGES = ["aeskulap", "imagej", "amide", "dicomscope", "xvfb", "xdotool",
                   "imagemagick", "x11-apps", "libxcb-xinerama0"]  # fmt: skip
#: napari's own environment: napari with a Qt binding, pydicom and a JPEG 2000 decoder for it.
NAPARI_PACKAGES = ["napari[pyqt5]", "pydicom", "pylibjpeg", "pylibjpeg-openjpeg"]


@dataclass
class Viewer:
    name: str
    #: The argv opening ``folder`` (its sorted ``files`` given too), or None when it cannot.
    argv: list[str] | None
    #: How a new user opens a series in it (what the command line does).
    how: str
    #: Keys (``xdotool key`` names, or ``wheel:N`` for mouse button N) for next and previous
    #: slice, and for the last slice (None: the next key pressed once per slice).
    next_key: str | None = None
    previous_key: str | None = None
    last_key: str | None = None
    version: str = "?"
    installed: bool = True
    known_limits: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    #: A window name (``xdotool search --name``) that must be shown before keys reach the
    #: viewer: a start-up splash may show the first image before the window that scrolls.
    ready_window: str | None = None


def _dpkg_version(package: str) -> str | None:
    if not shutil.which("dpkg-query"):
        return None
    done = subprocess.run(["dpkg-query", "-W", "-f", "${Status} ${Version}", package],
                          capture_output=True, text=True, check=False)  # fmt: skip
    words = done.stdout.split()
    if done.returncode != 0 or "installed" not in words[:3]:
        return None
    return words[-1]


def napari_python(cache: Path) -> Path:
    return cache / "napari-venv" / "bin" / "python"


def _napari_version(cache: Path) -> str | None:
    python = napari_python(cache)
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version as v; "
         "print(v('napari'), 'PyQt5', v('PyQt5'), 'pydicom', v('pydicom'))"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() or None


def spineviewer_version() -> str:
    from importlib.metadata import version

    try:
        return version("spineviewer")
    except Exception:  # not installed as a distribution
        return "unknown"


def viewers(folder: Path, cache: Path, workdir: Path) -> list[Viewer]:
    """Every viewer, set to open ``folder`` (``workdir``: a throw-away home for settings)."""
    files = [str(p) for p in sorted(folder.glob("*.dcm"))]
    out: list[Viewer] = []
    spine_env = {
        "SPINEVIEWER_WORKSPACE": str(workdir / "spineviewer-workspace"),
        "XDG_CONFIG_HOME": str(workdir / "spineviewer-config"),
        "QT_QPA_PLATFORM": "xcb",
    }
    out.append(Viewer(
        "spineviewer", [sys.executable, "-m", "spineviewer", "view", str(folder)],
        "spineviewer view FOLDER", "Down", "Up", "End", spineviewer_version(), env=spine_env,
        ready_window=r"^SpineViewer \(not for clinical use\)",  # the main window, not the splash
    ))  # fmt: skip
    version = _dpkg_version("aeskulap")
    out.append(Viewer(
        "aeskulap", ["aeskulap", *files], "aeskulap FILE... (every file of the series)",
        "wheel:5", "wheel:4", None, version or "not installed", version is not None,
        known_limits={"JPEG 2000": "no image shown for the JPEG 2000 files (Debian's build "
                      "reads them without a JPEG 2000 decoder)"},
    ))  # fmt: skip
    version = _dpkg_version("imagej")
    macro = f'run("Image Sequence...", "open=[{folder}/] sort");'
    out.append(Viewer(
        "imagej", ["imagej", "-e", macro],
        "imagej -e 'run(\"Image Sequence...\", \"open=[FOLDER/] sort\");' (a folder given "
        "as an argument is refused: 'Unsupported format or file not found')",
        "Right", "Left", None, version or "not installed", version is not None,
        known_limits={"JPEG 2000": "ImageJ's DICOM reader has no JPEG 2000 decoder"},
    ))  # fmt: skip
    version = _dpkg_version("amide")
    out.append(Viewer(
        "amide", ["amide", files[0]] if files else None,
        "amide FILE (imports the series of that file)", None, None, None,
        version or "not installed", version is not None,
        known_limits={"display": "imports the series into its study tree but shows no image "
                      "until the series is ticked by hand: none from the command line"},
    ))  # fmt: skip
    version = _dpkg_version("dicomscope")
    out.append(Viewer(
        "dicomscope", ["dicomscope", files[0]] if files else None,
        "dicomscope FILE", None, None, None, version or "not installed", version is not None,
        known_limits={"display": "ignores file arguments: starts on an empty study browser "
                      "(files are loaded through its own database dialog)"},
    ))  # fmt: skip
    version = _napari_version(cache)
    out.append(Viewer(
        "napari", [str(napari_python(cache)), str(HERE / "napari_dicom.py"), str(folder)],
        "python bench/peers/napari_dicom.py FOLDER (pydicom, np.stack, napari.Viewer)",
        "Right", "Left", None, version or "not installed", version is not None,
        env={"XDG_RUNTIME_DIR": str(workdir / "runtime")},
    ))  # fmt: skip
    return out


def setup(cache: Path) -> None:
    """Install the peers: the Debian packages (as root) and napari's virtual environment."""
    if os.geteuid() != 0:
        raise SystemExit("--setup installs Debian packages: run it as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *DEBIAN_PACKAGES],
                   check=True, env=env)  # fmt: skip
    venv = cache / "napari-venv"
    if not napari_python(cache).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(napari_python(cache)), "-m", "pip", "install", "-q", *NAPARI_PACKAGES],
                   check=True)  # fmt: skip
