"""Shared by the fuzz tests: example counts, hypothesis settings, and the error checks.

Counts: each fuzz test runs ``weight x base`` examples. ``base`` is ``CI_EXAMPLES`` by default,
``DEEP_EXAMPLES`` under the hypothesis profile ``deep`` (``pytest tests/fuzz
--hypothesis-profile=deep``), or ``$SPINEVIEWER_FUZZ_EXAMPLES`` when set. The default run is
derandomized (the same cases every time, so CI is stable); ``deep`` and an explicit count draw
new cases on every run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

#: The DICOM test helpers (``sample_path``, ``tree_digest``) live beside the DICOM tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dicom"))

#: Examples per unit of weight in CI (all fuzz tests together: about 2,200 cases).
CI_EXAMPLES = 100
#: Examples per unit of weight under ``--hypothesis-profile=deep``.
DEEP_EXAMPLES = 1000
ENV_EXAMPLES = "SPINEVIEWER_FUZZ_EXAMPLES"

settings.register_profile("deep", max_examples=DEEP_EXAMPLES, deadline=None)

_T = TypeVar("_T", bound=Callable[..., Any])


def base_examples() -> int:
    """Examples per unit of weight for this run (see the module docstring)."""
    explicit = os.environ.get(ENV_EXAMPLES, "").strip()
    if explicit:
        return max(1, int(explicit))
    return DEEP_EXAMPLES if settings.get_current_profile_name() == "deep" else CI_EXAMPLES


def is_ci_run() -> bool:
    """True for the default run (no profile, no explicit count): derandomized."""
    return not os.environ.get(ENV_EXAMPLES) and settings.get_current_profile_name() != "deep"


def fuzz_settings(weight: float) -> Callable[[_T], _T]:
    """Hypothesis settings for a fuzz test worth ``weight`` units of examples."""
    return settings(
        max_examples=max(1, round(base_examples() * weight)),
        deadline=None,
        derandomize=is_ci_run(),
        database=None if is_ci_run() else settings.default.database,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def assert_names(message: str, *names: str | Path) -> None:
    """The error message names one of ``names`` (a path, or its base name)."""
    candidates = {str(n) for n in names} | {Path(n).name for n in names}
    assert any(c and c in message for c in candidates), (
        f"error does not name the file {[str(n) for n in names]}: {message!r}"
    )


def assert_one_line(message: str) -> None:
    """A reason shown to the user: non-empty, one line."""
    assert message.strip(), "empty reason"
    assert len(message.splitlines()) == 1, f"reason spans several lines: {message!r}"
