"""Text values decoded by the character set their data set names (Specific Character Set,
0008,0005): ISO_IR 100, UTF-8 (ISO_IR 192), Cyrillic, Greek, the ISO 2022 code extensions of
Japanese, Korean and Chinese, GB18030...

pydicom's own tables and escape-sequence handling do the decoding; the only shortcut is for
7-bit bytes without an escape, which every character set pydicom knows reads as ASCII. A
malformed byte sequence never raises: its bad bytes become replacement characters and the
rest of the value is kept.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from pydicom.charset import decode_bytes, default_encoding
from pydicom.dataset import Dataset
from pydicom.valuerep import TEXT_VR_DELIMS, PersonName
from pydicom.values import convert_PN

#: VRs whose values may use characters beyond the default repertoire (PS3.5 6.1.2.3).
CHARSET_VRS = frozenset({"SH", "LO", "UC", "ST", "LT", "UT", "PN"})
#: VRs holding one text in which a backslash is a character, not a value separator.
SINGLE_TEXT_VRS = frozenset({"ST", "LT", "UT"})
#: The ESC byte that starts an ISO 2022 escape sequence (a switch of character set).
ESC = 0x1B


def plain(raw: bytes) -> bool:
    """True when ``raw`` is 7-bit and has no escape sequence: latin-1 then decodes it exactly
    as pydicom would in every character set it supports."""
    return raw.isascii() and ESC not in raw


def encodings_of(ds: Dataset) -> list[str]:
    """The Python codecs of ``ds``'s Specific Character Set (an item without one inherits its
    parent's), as pydicom maps them; the default (ISO_IR 6, read as latin-1) when absent or
    unreadable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about misspelt or unknown terms
        try:
            found = ds._character_set
        except (LookupError, ValueError, TypeError):  # pydicom's RAISE validation mode
            return [default_encoding]
    if isinstance(found, str):
        return [found or default_encoding]
    return list(found) or [default_encoding]


def decode(raw: bytes, encodings: Sequence[str]) -> str:
    """``raw`` decoded with pydicom's :func:`~pydicom.charset.decode_bytes` (code extensions
    switched by escape sequences); replacement characters for malformed bytes, never an
    exception (also when pydicom is set to raise on invalid values)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns where it puts replacement characters
        try:
            return decode_bytes(raw, list(encodings), TEXT_VR_DELIMS)
        except (UnicodeError, LookupError):
            pass
    try:
        return raw.decode(encodings[0], errors="replace")
    except LookupError:
        return raw.decode(default_encoding, errors="replace")


def person_names(raw: bytes, encodings: Sequence[str]) -> list[str]:
    """The person names of a PN value as pydicom shows them (groups joined by ``=``:
    alphabetic, ideographic, phonetic; trailing empty groups left out), one per value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            names = convert_PN(raw, list(encodings))
            return [str(n) for n in ([names] if isinstance(names, PersonName) else names)]
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass  # pydicom's RAISE validation mode: decode here, bad bytes replaced
    return [_shown_name(v) for v in decode(raw.rstrip(b"\x00 "), encodings).split("\\")]


def _shown_name(value: str) -> str:
    """A decoded person name as :class:`~pydicom.valuerep.PersonName` shows it."""
    groups = value.split("=")
    while groups and not groups[-1]:
        groups.pop()
    return "=".join(groups)


def decode_value(ds: Dataset, raw: bytes, vr: str) -> str | list[str]:
    """A raw value of character-set VR ``vr`` as text, surrounding spaces and NULs removed:
    one ``str``, or a list of them for a value of several (backslash-separated) values."""
    if vr == "PN":
        if plain(raw):  # what pydicom gives for 7-bit names, without its round trip
            names = [_shown_name(v) for v in raw.rstrip(b"\x00 ").decode("latin-1").split("\\")]
        else:
            names = person_names(raw, encodings_of(ds))
        names = [n.strip() for n in names]
        return names if len(names) > 1 else names[0]
    text = raw.decode("latin-1") if plain(raw) else decode(raw, encodings_of(ds))
    text = text.strip("\x00 ")
    if not text or vr in SINGLE_TEXT_VRS:
        return text
    parts = [p.strip() for p in text.split("\\")]
    return parts if len(parts) > 1 else parts[0]
