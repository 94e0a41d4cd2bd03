"""The reliability suite (issue 20, deliverables 3 and 4): special files, forged DICOM, and
kill -9 of ``batch`` and of an annotating process, through the real command line.

CI runs a representative subset (about a minute and a half on 2 cores). The deep run, before
a release, runs the full cross product of forged elements and more kills:

    pytest tests/reliability --deep
    SPINEVIEWER_FUZZ_EXAMPLES=1 pytest tests/reliability

(``--deep`` is defined here, so it is accepted when ``tests/reliability`` is on the command
line.) Every test adds to the figures (:class:`Figures`: cases tried, tracebacks, hangs, peak
RSS of ``info``, edits lost per kill, studies lost or duplicated per batch kill); at the end
of the session they are written to ``reliability-figures.json`` in pytest's base temporary
folder and printed in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_figures import Figures, is_deep

FIGURES_FILE = "reliability-figures.json"
#: The user the commands run as where the suite runs as root (permissions do not bind root).
NOBODY = 65534

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


_FIGURES = pytest.StashKey[Figures]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deep",
        action="store_true",
        default=False,
        help="reliability suite: the full cross product of forged DICOM and more kill seeds",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_FIGURES] = Figures(deep=is_deep(config))


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> Figures:
    return pytestconfig.stash[_FIGURES]


@pytest.fixture(scope="session")
def deep(pytestconfig: pytest.Config) -> bool:
    return is_deep(pytestconfig)


def pytest_sessionfinish(session: pytest.Session) -> None:
    figures = session.config.stash.get(_FIGURES, None)
    if figures is None or not figures.calls + len(figures.edits_lost_per_kill):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    base = factory.getbasetemp() if factory is not None else Path.cwd()
    path = Path(base) / FIGURES_FILE
    path.write_text(json.dumps(asdict(figures) | {"line": figures.line()}, indent=2) + "\n")
    figures_path[0] = path


figures_path: list[Path | None] = [None]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, None)
    if figures is None or not figures.calls + len(figures.edits_lost_per_kill):
        return
    terminalreporter.write_sep("-", "reliability figures")
    terminalreporter.write_line(figures.line())
    if figures_path[0] is not None:
        terminalreporter.write_line(f"written to {figures_path[0]}")


@pytest.fixture
def unprivileged() -> Iterator[tuple[Path, list[str] | None]]:
    """A folder for the unreadable files, and the prefix that runs the commands as a user
    the permissions apply to: none for a normal user; ``setpriv`` to ``nobody`` for root
    (then the folder is outside pytest's owner-only temporary folder)."""
    prefix: list[str] | None = None
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: every file is readable")
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", "import spineviewer"],
            capture_output=True,
            timeout=60,
            cwd=tempfile.gettempdir(),
        )
        if probe.returncode != 0:  # e.g. a checkout under /root (0700): nobody cannot reach it
            pytest.skip(
                "running as root and nobody cannot run this checkout's interpreter: "
                + probe.stderr.decode(errors="replace").strip().splitlines()[-1:][0]
                if probe.stderr.strip()
                else "running as root and nobody cannot run this checkout's interpreter"
            )
    folder = Path(tempfile.mkdtemp(prefix="spineviewer-unreadable-"))
    try:
        folder.chmod(0o755)
        yield folder, prefix
    finally:
        for path in [folder, *folder.rglob("*")]:  # chmod back so the cleanup can go in
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
                for inner in path.iterdir():
                    if inner.is_dir() and not inner.is_symlink():
                        inner.chmod(0o755)
        shutil.rmtree(folder)
