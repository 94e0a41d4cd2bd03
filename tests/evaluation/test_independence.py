"""The evaluation package shares nothing with the training data: it imports neither
``spineviewer.phantom`` nor ``spineviewer.training`` (checked at run time, in the source, and by
the import-linter contract)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "spineviewer" / "evaluation"
FORBIDDEN = ("spineviewer.phantom", "spineviewer.training")
CONTRACT = "The evaluation generator and scorer share nothing with the training data"


def test_importing_every_module_loads_neither_phantom_nor_training() -> None:
    modules = sorted(
        f"spineviewer.evaluation.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r} + ['spineviewer.cli.evaluation']: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert len(modules) >= 10
    assert done.stdout.strip() == "[]"


def test_no_source_file_names_them() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.startswith(FORBIDDEN)], path.name


def test_the_import_contract_is_declared_and_kept() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert CONTRACT in text
    linter = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(linter).exists():
        pytest.skip("import-linter is not installed")
    done = subprocess.run(
        [linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    flat = " ".join(done.stdout.split())
    assert f"{CONTRACT} (no phantom, no training) KEPT" in flat, done.stdout[-2000:]
