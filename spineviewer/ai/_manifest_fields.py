"""Strict reading of a parsed JSON document, one field at a time, with exact field paths.

Every reader takes the value and its path (``preprocessing.normalisation.window.width``,
``labels[2].color``) and raises :class:`FieldError` naming that path and the problem. The
manifest module turns a ``FieldError`` into a ``ManifestError`` that also names the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any


class FieldError(ValueError):
    """A field that breaks the rules: ``path`` (empty for the document itself) and ``problem``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


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


def _wrong(path: str, wanted: str, value: Any) -> FieldError:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return FieldError(path, f"must be {wanted}, not {json_type(value)} {shown}")


def join(path: str, key: str | int) -> str:
    """The path of a member (``key``) or list item (``int``) below ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


# -- single values -------------------------------------------------------------------------------


def text(value: Any, path: str, pattern: str | None = None, what: str = "") -> str:
    """A non-empty string, optionally matching ``pattern`` (described by ``what``)."""
    if not isinstance(value, str):
        raise _wrong(path, "a string", value)
    if not value.strip():
        raise FieldError(path, "must not be empty")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise FieldError(path, f"{value!r} is not {what or 'valid'}")
    return value


def integer(value: Any, path: str, minimum: int | None = None) -> int:
    """An integer (booleans and floats refused), at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(path, "an integer", value)
    if minimum is not None and value < minimum:
        raise FieldError(path, f"must be >= {minimum}")
    return value


def number(
    value: Any,
    path: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> float:
    """A number (booleans refused) within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(path, "a number", value)
    if gt is not None and not value > gt:
        raise FieldError(path, f"must be > {gt:g}")
    if ge is not None and not value >= ge:
        raise FieldError(path, f"must be >= {ge:g}")
    if le is not None and not value <= le:
        raise FieldError(path, f"must be <= {le:g}")
    return float(value)


def flag(value: Any, path: str) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise _wrong(path, "true or false", value)
    return value


def choice(value: Any, path: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise FieldError(path, f"{value!r} is not one of {', '.join(choices)}")
    return value


def array(value: Any, path: str, length: int | None = None, non_empty: bool = False) -> list[Any]:
    """A JSON array, of exactly ``length`` items when given."""
    if not isinstance(value, list):
        raise _wrong(path, "an array", value)
    if length is not None and len(value) != length:
        raise FieldError(path, f"must have {length} items, not {len(value)}")
    if non_empty and not value:
        raise FieldError(path, "must not be empty")
    return value


def texts(value: Any, path: str, non_empty: bool = True) -> tuple[str, ...]:
    """An array of non-empty strings."""
    items = array(value, path, non_empty=non_empty)
    return tuple(text(v, join(path, i)) for i, v in enumerate(items))


def numbers(
    value: Any, path: str, length: int | None = None, gt: float | None = None
) -> tuple[float, ...]:
    """An array of numbers (non-empty), each > ``gt`` when given."""
    items = array(value, path, length=length, non_empty=True)
    return tuple(number(v, join(path, i), gt=gt) for i, v in enumerate(items))


# -- objects -------------------------------------------------------------------------------------


class Fields:
    """One JSON object at ``path``, its keys checked against ``required`` + ``optional``.

    Unknown keys and missing required keys raise at construction; the accessors then read one
    member each with the readers above, so every error names the member's full path.
    """

    def __init__(
        self, value: Any, path: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> None:
        if not isinstance(value, dict):
            raise _wrong(path, "an object", value)
        self.data: dict[str, Any] = value
        self.path = path
        required = tuple(required)
        allowed = (*required, *optional)
        for key in value:
            if key not in allowed:
                raise FieldError(
                    join(path, str(key)), f"unknown key; allowed keys: {', '.join(allowed)}"
                )
        for key in required:
            if key not in value:
                raise FieldError(join(path, key), "missing required field")

    def has(self, key: str) -> bool:
        """Whether ``key`` is present and not null."""
        return self.data.get(key) is not None

    def at(self, key: str) -> tuple[Any, str]:
        """The raw member and its path."""
        return self.data.get(key), join(self.path, key)

    def text(self, key: str, pattern: str | None = None, what: str = "") -> str:
        return text(*self.at(key), pattern=pattern, what=what)

    def integer(self, key: str, minimum: int | None = None) -> int:
        return integer(*self.at(key), minimum=minimum)

    def number(
        self, key: str, *, gt: float | None = None, ge: float | None = None, le: float | None = None
    ) -> float:
        return number(*self.at(key), gt=gt, ge=ge, le=le)

    def flag(self, key: str) -> bool:
        return flag(*self.at(key))

    def choice(self, key: str, choices: Sequence[str], default: str | None = None) -> str:
        if default is not None and not self.has(key):
            return default
        return choice(*self.at(key), choices)

    def texts(self, key: str, non_empty: bool = True) -> tuple[str, ...]:
        if not non_empty and not self.has(key):
            return ()
        return texts(*self.at(key), non_empty=non_empty)

    def numbers(
        self, key: str, length: int | None = None, gt: float | None = None
    ) -> tuple[float, ...]:
        return numbers(*self.at(key), length=length, gt=gt)

    def child(self, key: str, required: Iterable[str], optional: Iterable[str] = ()) -> Fields:
        """The member ``key`` as an object with its own allowed keys."""
        return Fields(*self.at(key), required, optional)

    def items(self, key: str, non_empty: bool = True) -> list[tuple[Any, str]]:
        """The items of the array ``key`` with their paths."""
        value, path = self.at(key)
        return [(v, join(path, i)) for i, v in enumerate(array(value, path, non_empty=non_empty))]
