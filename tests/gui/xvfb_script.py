"""Running a test file as a script in a window on its own X server (Xvfb), as the real-display
tests do: the test process starts ``xvfb-run python FILE --out DIR ...``, the script drives the
window and captures the X server's framebuffer, the test reads what it wrote."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: The programs a real-display test needs (Xvfb and ImageMagick's ``import``).
MISSING = [tool for tool in ("Xvfb", "xvfb-run", "import") if shutil.which(tool) is None]


def run_on_xvfb(
    script: str,
    home: Path,
    screen: tuple[int, int],
    arguments: list[str],
    env: dict[str, str | None] | None = None,
    timeout: int = 300,
) -> None:
    """Run ``script`` with ``arguments`` under ``xvfb-run`` on a ``screen`` (width, height)
    with the user's settings and workspace kept under ``home`` (``env``: more variables; None
    removes one); the test fails with the script's output when it exits non-zero."""
    environment = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    environment["XDG_CONFIG_HOME"] = str(home / "config")
    environment["SPINEVIEWER_WORKSPACE"] = str(home / "workspace")
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {screen[0]}x{screen[1]}x24"]
    done = subprocess.run(
        [*command, sys.executable, script, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
