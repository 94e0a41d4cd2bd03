"""Every Markdown file the code, the README and ``bootstrap.sh`` name is in the repository.

A token ending in ``.md`` in a comment or docstring of ``spineviewer/`` or ``tests/`` (read
with :mod:`tokenize` and :mod:`ast`, so string data and code are not taken for prose), in
``README.md`` or in ``bootstrap.sh`` must name a file, resolved against the referring file's
folder or the repository root. A clone has the design documents in ``docs/``; nothing may
point at a document outside it (``../shared`` was such a place).

Names that are not references are on :data:`NOT_FILES`, each with why: placeholders
(``NAME.md``) and the names of files the code writes (``metrics.md``). A bare extension
(``.md``, ``NAME.onnx/.json/.md``) names no file and is not checked.
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Tokens ending in ``.md`` that name no file of the repository, and why.
NOT_FILES: dict[str, str] = {
    "NAME.md": "placeholder: a model package's card beside NAME.onnx",
    "metrics.md": "written by spineviewer.training.eval_report into a --report folder",
    "invariance.md": "written by `spineviewer evaluation invariance` into its --out folder",
}

#: A run of path characters ending in ``.md`` (not followed by more of a word).
_TOKEN = re.compile(r"[A-Za-z0-9_./~-]*\.md(?![A-Za-z0-9_])")


def md_tokens(text: str) -> list[str]:
    """The tokens ending in ``.md`` in ``text``, without bare extensions (``.md``,
    ``NAME.onnx/.json/.md``) and without trailing sentence dots."""
    found = []
    for token in _TOKEN.findall(text):
        if token.rsplit("/", 1)[-1] == ".md":
            continue
        found.append(token)
    return found


def _docstrings(source: str) -> Iterator[tuple[int, str]]:
    """Docstrings: every string standing alone as a statement (module, class and function
    docstrings, and the attribute docstrings after an assignment)."""
    for node in ast.walk(ast.parse(source)):
        value = node.value if isinstance(node, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield node.lineno, value.value


def python_prose(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and docstring of a Python file."""
    source = path.read_text("utf-8")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    yield from _docstrings(source)


def shell_prose(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every line of a shell script: its comments, messages and paths."""
    yield from enumerate(path.read_text("utf-8").splitlines(), 1)


def references() -> Iterator[tuple[Path, int, str]]:
    """(referring file, line, token) for every ``.md`` token this test checks."""
    files = sorted((ROOT / "spineviewer").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    for path in files:
        for line, text in python_prose(path):
            for token in md_tokens(text):
                yield path, line + text[: text.find(token)].count("\n"), token
    for path in (ROOT / "README.md", ROOT / "bootstrap.sh"):
        for line, text in shell_prose(path):
            for token in md_tokens(text):
                yield path, line, token


def resolves(referrer: Path, token: str) -> bool:
    """Whether ``token`` names a file beside ``referrer`` or under the repository root."""
    return any((base / token).is_file() for base in (referrer.parent, ROOT))


def test_every_md_reference_names_a_file_in_the_repository() -> None:
    found = list(references())
    broken = [
        f"{path.relative_to(ROOT)}:{line}: {token}"
        for path, line, token in found
        if token not in NOT_FILES and not resolves(path, token)
    ]
    assert not broken, "Markdown references to files not in the repository:\n" + "\n".join(broken)
    # the check saw the references it exists for
    names = {token for _, _, token in found}
    assert "docs/SPINE_PIPELINE.md" in names
    assert "docs/ARCHITECTURE.md" in names


def test_the_design_documents_are_in_the_repository() -> None:
    for name in ("ARCHITECTURE.md", "SPINE_PIPELINE.md", "CONVENTIONS.md", "TESTING.md"):
        text = (ROOT / "docs" / name).read_text("utf-8")
        assert text.startswith("# "), name
        assert "../shared" not in text, f"docs/{name} points outside the repository"


def test_nothing_points_at_the_design_folder_outside_the_repository() -> None:
    """``../shared`` (the workplace beside the checkout) may hold only optional test data: the
    real CT, named as such; never a document."""
    offenders = []
    for path in (ROOT / "README.md", ROOT / "bootstrap.sh"):
        for line, text in shell_prose(path):
            if "shared/design" in text or "shared/seeds" in text:
                offenders.append(f"{path.name}:{line}")
    for path in sorted((ROOT / "spineviewer").rglob("*.py")) + sorted(
        (ROOT / "tests").rglob("*.py")
    ):
        for line, text in python_prose(path):
            if "shared/design" in text or "shared/seeds" in text or "shared design" in text:
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("see docs/ARCHITECTURE.md.", ["docs/ARCHITECTURE.md"]),
        ("(SPINE_PIPELINE.md step 5)", ["SPINE_PIPELINE.md"]),
        ("NAME.onnx/.json/.md and the .md card", []),
        ("`docs/evaluation/README.md`,", ["docs/evaluation/README.md"]),
        ("a.mdx b.md5 c.markdown", []),
    ],
)
def test_tokens(text: str, tokens: list[str]) -> None:
    assert md_tokens(text) == tokens


def test_a_reference_to_a_missing_file_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        '"""Rules in DESIGN_NOTES.md."""\n\nX = "data.md"  # not prose\n# see ../notes/PLAN.md\n',
        "utf-8",
    )
    tokens = [token for _, text in python_prose(module) for token in md_tokens(text)]
    assert sorted(tokens) == ["../notes/PLAN.md", "DESIGN_NOTES.md"]
    assert not resolves(module, "DESIGN_NOTES.md")
    assert resolves(ROOT / "spineviewer" / "cli" / "doctor.py", "docs/TESTING.md")


#: A source path or a dotted name under the package, as the documents write them.
_SOURCE_PATH = re.compile(r"spineviewer/[A-Za-z0-9_/]+\.py")
_DOTTED = re.compile(r"spineviewer(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _names(dotted: str) -> bool:
    """Whether ``dotted`` is a module or a package, or a name (a function, a class) defined in
    the longest module it starts with."""
    parts = dotted.split(".")
    for cut in range(len(parts), 1, -1):
        base = ROOT.joinpath(*parts[:cut])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            if cut == len(parts):
                return True
            module = importlib.import_module(".".join(parts[:cut]))
            return hasattr(module, parts[cut])
    return False


def test_the_documents_name_only_modules_that_exist() -> None:
    """A module renamed or moved (issue 23 renamed a dozen) leaves no stale path in the
    README or ``docs/``; the changelog keeps the names of its day on purpose."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    stale = []
    for path in documents:
        text = path.read_text("utf-8")
        stale += [
            f"{path.name}: {p}" for p in _SOURCE_PATH.findall(text) if not (ROOT / p).is_file()
        ]
        stale += [f"{path.name}: {d}" for d in _DOTTED.findall(text) if not _names(d)]
    assert not stale, "documents name modules that do not exist:\n" + "\n".join(stale)
