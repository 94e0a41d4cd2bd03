"""One shape, one place: no module but the shape specs (spineviewer/annotations/shapes.py) and
the drawing tool (spineviewer/gui/annotate/tools.py) switches on an annotation's kind. The
others ask the kind's spec (``shape(kind).measure``, ``.filled``, ``.primitives(...)``).

A plain source scan: comparisons with a ``Kind`` member, membership in a tuple / set of them
or in ``FILLED``, tables keyed by them, ``match`` / ``case`` on them, or on a kind's value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import spineviewer

ROOT = Path(spineviewer.__file__).parent
#: Where a kind may be switched on: the specs and the tool that draws each kind.
ALLOWED = {"annotations/shapes.py", "gui/annotate/tools.py"}

_KIND = r"\bKind\.[A-Z_]+"
_VALUES = "|".join(
    ("rectangle", "ellipse", "polygon", "freehand", "point", "line", "angle", "cobb", "arrow")
)
PATTERNS = [
    re.compile(rf"(==|!=|\bis\b)\s*{_KIND}"),  # a.kind == Kind.LINE
    re.compile(rf"{_KIND}\s*(==|!=)"),  # Kind.LINE == a.kind
    re.compile(rf"\bin\s*[(\[{{]\s*{_KIND}"),  # a.kind in (Kind.RECTANGLE, ...)
    re.compile(rf"[(\[{{,]\s*{_KIND}\s*,\s*{_KIND}"),  # a tuple / set of kinds to test against
    re.compile(rf"(^|[{{,])\s*{_KIND}\s*:", re.MULTILINE),  # {Kind.COBB: ...}
    re.compile(rf"\bcase\s+{_KIND}"),  # match ...: case Kind.LINE
    re.compile(r"\bmatch\s+[\w.]*\bkind\b"),  # match a.kind:
    re.compile(r"\bin\s+FILLED\b"),  # a.kind in FILLED
    re.compile(r"\.kind\.value\s*(==|!=|\bin\b)"),  # a.kind.value == "cobb"
    re.compile(rf"\bkind\s*(==|!=)\s*[\"']({_VALUES})[\"']"),  # kind == "cobb"
]


def switches(source: str) -> list[str]:
    """The lines of ``source`` that switch on a shape kind."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        code = line.split("#", 1)[0]
        if any(p.search(code) for p in PATTERNS):
            found.append(f"{number}: {line.strip()}")
    return found


def _modules() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for path in sorted(ROOT.rglob("*.py"))
    }


def test_no_kind_switch_outside_the_shape_specs_and_the_tool() -> None:
    found = {
        name: hits
        for name, source in _modules().items()
        if name not in ALLOWED and (hits := switches(source))
    }
    assert found == {}, f"ask the kind's ShapeSpec (annotations/shapes.py) instead: {found}"


@pytest.mark.parametrize(
    "line",
    [
        "if annotation.kind == Kind.COBB:",
        "if Kind.LINE != a.kind:",
        "elif kind in (Kind.RECTANGLE, Kind.ELLIPSE):",
        "VERTEBRA_MARKS = (Kind.RECTANGLE, Kind.POLYGON, Kind.POINT)",
        "_NOUNS = {Kind.COBB: 'Cobb angle'}",
        "    Kind.LINE: 'Distance',",
        "    case Kind.POINT:",
        "match annotation.kind:",
        "if a.kind not in FILLED:",
        "if a.kind.value == 'cobb':",
        'if kind == "ellipse":',
    ],
)
def test_the_scan_sees_each_way_of_switching(line: str) -> None:
    assert switches(line)


@pytest.mark.parametrize(
    "line",
    [
        "mark = Annotation.create(Kind.POINT, ref, [rc], plane, label=level)",
        "made = self.annotation(key, Kind.POINT, _anchor(text, image), 'POINT')",
        "if shape(annotation.kind).measure == 'length':",
        "where = 'disc' if level.kind == 'disc' else 'body'",
        "if setting.kind == 'secret':",
        "# a.kind == Kind.COBB in a comment",
        "KIND_NAMES: dict[Kind, str] = {kind: spec.title for kind, spec in SHAPES.items()}",
    ],
)
def test_the_scan_leaves_other_uses_alone(line: str) -> None:
    assert not switches(line)
