"""No two modules of ``spineviewer`` share a name unless they do the same job (issue 23):
``errors.py`` (each package's own exceptions) and the second evaluation generator's modules
that mirror the training generator's on purpose (same job, no shared code: an import-linter
contract keeps them apart). A new clash fails here: name the module for what it holds."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import spineviewer

ROOT = Path(spineviewer.__file__).parent
#: Module names several packages may each have, and the packages that have them.
SAME_JOB: dict[str, set[str]] = {
    "__init__": set(),  # any package
    "errors": {"dicom", "annotations", "pacs"},
    **{
        name: {"phantom", "evaluation"}
        for name in ("anatomy", "discs", "study", "tissues", "truth")
    },
}


def test_module_names_are_unique_but_for_the_same_job() -> None:
    packages: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        packages[path.stem].add(str(path.parent.relative_to(ROOT)).replace("/", "."))
    clashes = {
        name: sorted(where)
        for name, where in packages.items()
        if len(where) > 1 and name != "__init__" and where != SAME_JOB.get(name)
    }
    assert clashes == {}, f"modules named alike in several packages: {clashes}"
