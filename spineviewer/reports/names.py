"""Person names and dates as a report shows them to a person (no Qt, no locale).

A DICOM person name (PN, PS3.5 section 6.2) is up to three component groups separated by
``=`` (alphabetic, ideographic, phonetic), each of up to five components separated by ``^``:
family name, given name, middle name, prefix, suffix. :func:`person_name` writes it the way a
list of patients reads, family name first::

    DOE^JOHN                      -> Doe, John
    DOE^JOHN^ALBERT^DR^JR         -> Doe, Dr John Albert, Jr
    DOE^JOHN^^DR                  -> Doe, Dr John
    van der Berg^Jan              -> van der Berg, Jan           (mixed case: as written)
    Yamada^Tarou=山田^太郎=やまだ^たろう -> Yamada, Tarou (山田 太郎)

Casing: only a component written ALL IN CAPITALS (the usual DICOM habit) is title-cased, word
by word (``O'BRIEN`` -> ``O'Brien``, ``SMITH-JONES`` -> ``Smith-Jones``, ``3RD`` -> ``3rd``); a
component with any lower-case letter is kept exactly as written. Particles are not guessed:
``VAN DER BERG`` becomes ``Van Der Berg`` (whether a particle is capitalised depends on the
country and the person; a name stored in mixed case keeps its own). Scripts without case
(Han, kana, Hangul, ...) are never changed. The suffix is kept as written (``III``, ``MD``,
``PhD``) except ``JR`` / ``SR``, which read ``Jr`` / ``Sr``.

Groups: the alphabetic group is shown; the ideographic group follows in parentheses, its
components joined by spaces in their own order (family name first, no comma, as such names are
written). The phonetic group is shown only when it is the only group there is. A value without
``^`` is one family name (``DOE`` -> ``Doe``; a user name such as ``reader`` stays as it is).

Dates (:func:`iso_date`) are ISO 8601, ``2024-01-31``: the same on every computer whatever its
locale, and unambiguous (``01/02/2024`` is January in one country and February in another).
"""

from __future__ import annotations

import re
from datetime import date, datetime

__all__ = ["iso_date", "person_name", "readable_time"]

#: A run of letters that starts a word (at the start, after a space, hyphen, apostrophe or
#: full stop): capitalised when a component is title-cased; other letter runs go lower-case.
_WORD_START = re.compile(r"(?:^|(?<=[\s\-'’.]))[^\W\d_]")
#: Suffixes that read better in title case; every other suffix is kept as written.
_TITLE_SUFFIXES = frozenset({"JR", "JR.", "SR", "SR."})


def _all_caps(text: str) -> bool:
    """True when ``text`` has cased letters and none of them is lower-case."""
    return text.upper() == text and text.lower() != text


def _title(text: str) -> str:
    """``text`` title-cased word by word when it is all capitals; else as written."""
    if not _all_caps(text):
        return text
    lower = text.lower()
    return _WORD_START.sub(lambda m: m[0].upper(), lower)


def _components(group: str) -> list[str]:
    """The five components of one group (missing ones empty), stripped of spaces."""
    parts = [p.strip() for p in group.split("^")]
    if len(parts) > 5:  # stray carets: whatever follows the fourth joins the suffix
        parts = [*parts[:4], " ".join(p for p in parts[4:] if p)]
    return (parts + [""] * 5)[:5]


def _alphabetic(group: str) -> str:
    """One group, family name first: ``Family, Prefix Given Middle, Suffix``."""
    family, given, middle, prefix, suffix = (" ".join(p.split()) for p in _components(group))
    first = " ".join(_title(p) for p in (prefix, given, middle) if p)
    if suffix.upper() in _TITLE_SUFFIXES:
        suffix = _title(suffix)
    name = ", ".join(p for p in (_title(family), first) if p)
    return f"{name}, {suffix}" if suffix and name else name or suffix


def _ideographic(group: str) -> str:
    """One group in its own order, components joined by spaces (prefix first, suffix last)."""
    family, given, middle, prefix, suffix = _components(group)
    return " ".join(p for p in (prefix, family, given, middle, suffix) if p)


def person_name(value: object) -> str:
    """The DICOM person name ``value`` (a ``PN`` string or pydicom ``PersonName``) for a
    person to read: ``DOE^JOHN`` -> ``Doe, John`` (rules in the module's docstring). Empty for
    an empty or blank value; never raises."""
    text = str(value or "").strip()
    if not text:
        return ""
    groups = ([*text.split("="), "", ""])[:3]
    alphabetic = _alphabetic(groups[0])
    ideographic = _ideographic(groups[1])
    if alphabetic and ideographic:
        return f"{alphabetic} ({ideographic})"
    return alphabetic or ideographic or _ideographic(groups[2])


def iso_date(value: object) -> str:
    """The DICOM date ``value`` (DA: ``20240131``; also the old ``2024.01.31`` and an already
    ISO ``2024-01-31``) as an ISO 8601 date, ``2024-01-31``: independent of the computer's
    locale and unambiguous, whatever country the reader is in. A value that is no valid date
    is returned as written (stripped): a report shows what the file says rather than nothing."""
    text = str(value or "").strip()
    digits = text.replace(".", "").replace("-", "")
    if len(digits) == 8 and digits.isdigit() and len(text) in (8, 10):
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()
        except ValueError:
            return text
    return text


def readable_time(value: str) -> str:
    """An ISO 8601 time stamp (``2024-01-31T09:05:00+00:00``) as ``2024-01-31 09:05:00 UTC``
    (``UTC+01:00`` for another offset); any other text as written."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    zone = moment.strftime("%z")
    return f"{text} UTC" if not offset else f"{text} UTC{zone[:3]}:{zone[3:]}"
