"""The figures the reliability suite records (see conftest.py), and the checks every CLI call
of the suite goes through (:func:`check_run`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

#: Set (to anything) for the deep run, as for the fuzz tests.
ENV_DEEP = "SPINEVIEWER_FUZZ_EXAMPLES"


def is_deep(config: Any) -> bool:
    """The deep run: ``--deep`` (tests/reliability/conftest.py) or $SPINEVIEWER_FUZZ_EXAMPLES."""
    return bool(config.getoption("--deep", default=False)) or bool(os.environ.get(ENV_DEEP))


@dataclass
class Figures:
    """What the suite measured, over every test that ran."""

    deep: bool = False
    #: bad inputs tried (one special file, or one forged file), per command call
    cases: int = 0
    calls: int = 0
    tracebacks: int = 0
    hangs: int = 0
    peak_rss_info_mb: float = 0.0
    peak_rss_any_mb: float = 0.0
    #: one entry per kill of an annotating process: edits reported done that are not on disk
    #: beyond the one in progress (0 or 1 allowed)
    edits_lost_per_kill: list[int] = field(default_factory=list)
    #: one entry per kill of batch: studies missing, or reported more than once, after resume
    batch_kills: list[dict[str, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add_run(self, command: str, run: Any, case: str) -> None:
        self.calls += 1
        self.tracebacks += int(run.traceback)
        self.hangs += int(run.hung)
        self.peak_rss_any_mb = max(self.peak_rss_any_mb, run.peak_rss_mb)
        if command == "info":
            self.peak_rss_info_mb = max(self.peak_rss_info_mb, run.peak_rss_mb)
        if run.traceback or run.hung:
            self.failures.append(f"{case}: {command}: {'hang' if run.hung else 'traceback'}")

    def line(self) -> str:
        lost = self.edits_lost_per_kill
        kills = self.batch_kills
        studies_lost = max((k["lost"] for k in kills), default=0)
        dup = max((k["duplicated"] for k in kills), default=0)
        return (
            f"reliability{' (deep)' if self.deep else ''}: {self.cases} bad inputs, "
            f"{self.calls} CLI calls, tracebacks {self.tracebacks}, hangs {self.hangs}, "
            f"peak RSS of info {self.peak_rss_info_mb:.0f} MB (any command "
            f"{self.peak_rss_any_mb:.0f} MB), annotating kills {len(lost)} "
            f"(edits lost per kill max {max(lost, default=0)}), batch kills {len(kills)} "
            f"(studies lost max {studies_lost}, duplicated max {dup})"
        )


def check_run(figures: Figures, case: str, command: str, run: Any) -> None:
    """Record ``run`` and fail on a hang or a traceback (the output shown)."""
    figures.add_run(command, run, case)
    assert not run.hung, f"{case}: hung\n{run.describe()}"
    assert not run.traceback, f"{case}: traceback\n{run.describe()}"
