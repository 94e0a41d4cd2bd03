"""The manifest's JSON Schema, and its errors told the way people read them.

``resources/schemas/model-manifest-v{N}.schema.json`` is the definition of a manifest of schema
version N; this module loads it (from the source checkout or an installed wheel, through
:mod:`spineviewer.resources`) and validates a parsed document with ``jsonschema``, with two
changes to Draft 2020-12 that keep the rules of JSON rather than those of Python numbers: an
integer is an ``int`` (``17.0`` is not an opset), and NaN fails every bound.

:func:`schema_problem` picks one error of those jsonschema finds, the shallowest (an unknown
top-level key before a bad value deep inside), and words it as a field path and a problem:
``preprocessing.normalisation.window.width``, ``must be > 0``. A schema may word an error itself
with ``x-messages`` (keyword -> text, ``{value}``, ``{what}`` and ``{count}`` filled in).
``jsonschema`` is imported on first use: importing the AI package stays cheap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from spineviewer.resources import resource_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = ["describe", "field_path", "json_type", "schema", "schema_problem"]

#: JSON type names as an error message says them.
_WANTED = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "an array",
    "object": "an object",
    "null": "null",
}
#: The order errors at the same depth are told: unknown keys, missing keys, wrong types, values.
_FIRST = {"additionalProperties": 0, "required": 1, "type": 2}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def json_type(value: Any) -> str:
    """The JSON name of a Python value's type (``object``, ``array``, ``string``...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int too long for repr (sys.get_int_max_str_digits)
        return "(a very long number)"
    return text if len(text) <= 40 else text[:37] + "..."


def describe(value: Any) -> str:
    """A value as an error quotes it: ``string '17'``, ``boolean True``, ``null``."""
    return "null" if value is None else f"{json_type(value)} {_short(value)}"


def field_path(parts: Iterable[str | int]) -> str:
    """``preprocessing.std[1]`` from ``["preprocessing", "std", 1]``."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


@cache
def schema(version: int) -> dict[str, Any]:
    """The JSON Schema of manifests of ``version`` (a FileNotFoundError names where it looked)."""
    path = resource_path("schemas", f"model-manifest-v{version}.schema.json")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(version: int) -> Validator:
    from jsonschema import Draft202012Validator, validators

    base = Draft202012Validator

    def is_integer(_checker: Any, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def finite(keyword: str) -> Any:
        check = base.VALIDATORS[keyword]

        def bound(validator: Any, limit: Any, value: Any, subschema: Any) -> Iterator[Any]:
            if isinstance(value, float) and math.isnan(value):
                yield _error(f"{value!r} is not a number")
            else:
                yield from check(validator, limit, value, subschema)

        return bound

    kind = validators.extend(
        base,
        validators={keyword: finite(keyword) for keyword in _BOUNDS},
        type_checker=base.TYPE_CHECKER.redefine("integer", is_integer),
    )
    return kind(schema(version))  # type: ignore[no-any-return]


def _error(message: str) -> ValidationError:
    from jsonschema.exceptions import ValidationError

    return ValidationError(message)


def schema_problem(data: Any, version: int) -> tuple[str, str] | None:
    """The field path and problem of the first error of ``data`` against the schema of
    ``version`` (shallowest first), or None when it is valid."""
    errors = list(_validator(version).iter_errors(data))
    return _explain(_first(errors)) if errors else None


def _first(errors: list[ValidationError]) -> ValidationError:
    return min(errors, key=lambda e: (len(e.absolute_path), _FIRST.get(str(e.validator), 3)))


def _explain(error: ValidationError) -> tuple[str, str]:
    """``error`` as (field path, problem)."""
    keyword = str(error.validator)
    value = error.instance
    subschema = error.schema if isinstance(error.schema, dict) else {}
    custom = subschema.get("x-messages", {}).get(keyword)
    path: list[str | int] = list(error.absolute_path)
    if keyword == "anyOf":
        return _explain_any_of(error, custom)
    if keyword == "required":
        path.append(next(k for k in error.validator_value if k not in value))
        return field_path(path), custom or "missing required field"
    if keyword == "additionalProperties":
        allowed = list(subschema.get("properties", {}))
        path.append(next(k for k in value if k not in allowed))
        return field_path(path), f"unknown key; allowed keys: {', '.join(allowed)}"
    if keyword == "uniqueItems":
        index = next(i for i, item in enumerate(value) if item in value[:i])
        path.append(index)
        value = value[index]
        custom = custom or "duplicate {value}"
    if custom:
        return field_path(path), _fill(custom, value)
    return field_path(path), _problem(keyword, error.validator_value, value)


def _fill(template: str, value: Any) -> str:
    count = len(value) if isinstance(value, list | dict | str) else 0
    return template.format(value=_short(value), what=describe(value), count=count)


def _problem(keyword: str, rule: Any, value: Any) -> str:
    """The problem for ``keyword`` with its schema value ``rule`` failed by ``value``."""
    if keyword == "type":
        kinds = [rule] if isinstance(rule, str) else list(rule)
        return f"must be {' or '.join(_WANTED[k] for k in kinds)}, not {describe(value)}"
    if keyword == "enum":
        return f"{_short(value)} is not one of {', '.join(str(v) for v in rule)}"
    if keyword == "const":
        return f"must be {rule!r}"
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if keyword in bounds:
        return f"must be {bounds[keyword]} {rule:g}"
    if keyword in ("minItems", "minLength") and rule == 1:
        return "must not be empty"
    if keyword in ("minItems", "maxItems"):
        most = "at least" if keyword == "minItems" else "at most"
        return f"must have {most} {rule} items, not {len(value)}"
    if keyword == "pattern":
        return f"{_short(value)} is not valid"
    return f"breaks the rule {keyword}: {rule!r}"


def _explain_any_of(error: ValidationError, custom: str | None) -> tuple[str, str]:
    """An instance that fits none of ``anyOf``'s alternatives: the errors of the first
    alternative of its JSON type (a 0 where a dim is wanted: ``must be >= 1``), else a
    problem naming the types wanted."""
    by_alternative: dict[int, list[ValidationError]] = {}
    for inner in error.context or []:
        by_alternative.setdefault(int(inner.relative_schema_path[0]), []).append(inner)
    wanted: list[str] = []
    for _, inner_errors in sorted(by_alternative.items()):
        wrong_type = [e for e in inner_errors if e.validator == "type" and not e.relative_path]
        if not wrong_type:
            return _explain(_first(inner_errors))
        rule = wrong_type[0].validator_value
        wanted += [rule] if isinstance(rule, str) else list(rule)
    path = field_path(error.absolute_path)
    if custom:
        return path, _fill(custom, error.instance)
    kinds = [_WANTED[k] for k in dict.fromkeys(wanted)]
    either = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    return path, f"must be {either}, not {describe(error.instance)}"
