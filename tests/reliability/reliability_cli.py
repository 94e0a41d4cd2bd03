"""The real ``spineviewer`` command in a child process, bounded in time, with its peak RSS.

:func:`run_cli` starts ``python -m spineviewer ARGS`` in a session of its own, its output in
files (no pipe to fill). A call past its time limit is killed with its whole process group and
reported as a hang, never waited for.

The peak RSS: Linux keeps a process's high-water mark across ``execve``, so a command forked
from pytest (hundreds of MB) would report pytest's size. A small launcher (:data:`LAUNCHER`)
starts the command instead and reaps it with ``os.wait4``: the usage of that one child
(``RUSAGE_CHILDREN`` would be the high-water mark of every child so far).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TRACEBACK = "Traceback (most recent call last)"

#: ``python -c LAUNCHER RSS_FILE ARGS...``: ``spineviewer ARGS`` in a forked child (as
#: ``python -m spineviewer`` runs it: its exit status, its traceback if one escapes); writes the
#: child's peak RSS (KiB) to RSS_FILE and exits with its status (128 + N for a signal). A fork,
#: not an exec: a user dropped to by ``setpriv`` may not reach the interpreter's real path.
LAUNCHER = (
    "import os, runpy, sys\n"
    "if os.fork() == 0:\n"
    "    sys.argv = ['spineviewer', *sys.argv[2:]]\n"
    "    runpy.run_module('spineviewer', run_name='__main__', alter_sys=True)\n"
    "    sys.exit(0)\n"
    "_, status, usage = os.wait4(-1, 0)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(str(usage.ru_maxrss))\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)


@dataclass
class Run:
    """How one command went."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    #: peak resident set size of the child, in MiB
    peak_rss_mb: float
    hung: bool

    @property
    def traceback(self) -> bool:
        return TRACEBACK in self.stderr or TRACEBACK in self.stdout

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return (
            f"spineviewer {' '.join(self.args)} -> {self.returncode}"
            f"{' (HUNG)' if self.hung else ''}\n--- stdout\n{self.stdout[-3000:]}"
            f"\n--- stderr\n{self.stderr[-3000:]}"
        )


def child_env(workspace: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI call: its own annotation workspace and home, the CPU provider,
    Qt offscreen."""
    env = dict(os.environ)
    env.update(
        SPINEVIEWER_WORKSPACE=str(workspace),
        SPINEVIEWER_PROVIDER="cpu",
        QT_QPA_PLATFORM="offscreen",
        PYTHONFAULTHANDLER="1",
    )
    env.update(extra)
    return env


def run_cli(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout_s: float,
    prefix: list[str] | None = None,
) -> Run:
    """``spineviewer ARGS`` in ``cwd``; ``prefix`` goes before the interpreter (``setpriv``)."""
    logs = cwd / ".cli-logs"
    logs.mkdir(exist_ok=True)
    logs.chmod(0o777)  # the launcher writes here, also as another user (setpriv)
    stamp = f"{time.monotonic_ns()}"
    out_path, err_path = logs / f"{stamp}.out", logs / f"{stamp}.err"
    rss_path = logs / f"{stamp}.rss"
    command = [
        *(prefix or []), sys.executable, "-c", LAUNCHER, str(rss_path), *args,
    ]  # fmt: skip
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        hung = False
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() - started > timeout_s:
                hung = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
    seconds = time.monotonic() - started
    with contextlib.suppress(ProcessLookupError):  # what its children left goes with it
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        peak = int(rss_path.read_text()) / 1024  # KiB on Linux
    except (OSError, ValueError):
        peak = 0.0  # killed before the launcher could tell
    return Run(
        args,
        proc.returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        seconds,
        peak,
        hung,
    )
