"""PACS node secrets in the system keyring (the ``keyring`` package): a node's password is kept
under service ``spineviewer-pacs`` with the node's name as user name, its bearer token under
``spineviewer-pacs-token``. A configuration file other than the default one
(``SPINEVIEWER_PACS_CONFIG``, an explicit path) appends its absolute path to both service names,
so two files with a node of the same name never share, nor delete, each other's entries.

In a node's JSON entry a secret kept in the keyring is the marker ``"password_in": "keyring"``
(``"token_in"``). No usable backend (keyring's ``fail`` or ``null`` one, or any error of a
backend) is not an error: the secret stays in the entry, in the private file, with the marker
saying why (``"password_in": "file (no keyring backend)"``). Messages and logs name the node
and the error's type, never a secret."""

from __future__ import annotations

import logging
from typing import Any

__all__ = [
    "KEYRING",
    "NO_BACKEND",
    "PASSWORD",
    "SERVICE",
    "TOKEN",
    "UNREADABLE",
    "delete",
    "get",
    "give_secrets",
    "keyring_entries",
    "put",
    "service_names",
    "take_secrets",
    "unread",
    "usable",
]

SERVICE = "spineviewer-pacs"
#: The secrets a node may have: its field name, and the suffix of its keyring service.
PASSWORD, TOKEN = "password", "token"
_SUFFIX = {PASSWORD: "", TOKEN: "-token"}
#: Where a secret is kept, as the entry's marker and as ``pacs nodes`` says it.
KEYRING = "keyring"
#: What :func:`get` says of an entry the keyring refused to read (a locked keyring).
UNREADABLE = "unreadable"
NO_BACKEND = "file (no keyring backend)"

log = logging.getLogger(__name__)


def service_names(scope: str = "") -> dict[str, str]:
    """The keyring service of each secret (``password``, ``token``); ``scope``: "" for the
    default configuration file, else the file's absolute path."""
    tail = f" {scope}" if scope else ""
    return {what: f"{SERVICE}{suffix}{tail}" for what, suffix in _SUFFIX.items()}


def _backend() -> Any | None:
    """keyring's backend, or None where there is none that keeps anything."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend plugin or keyring configuration
        log.warning("no system keyring (%s): PACS secrets stay in the file", type(exc).__name__)
        return None
    return None if isinstance(backend, fail.Keyring | null.Keyring) else backend


def usable() -> bool:
    """True when keyring has a backend that keeps secrets (not its ``fail`` or ``null`` one)."""
    return _backend() is not None


def put(service: str, name: str, secret: str) -> str:
    """Keep ``secret`` under (``service``, ``name``): :data:`KEYRING` when kept, else where
    the caller must keep it and why ("file (no keyring backend)", "file (keyring failed:
    KeyringLocked)")."""
    backend = _backend()
    if backend is None:
        return NO_BACKEND
    try:
        backend.set_password(service, name, secret)
    except Exception as exc:  # KeyringError, or whatever a third-party backend raises
        log.warning("PACS node %r: the keyring refused its secret (%s)", name, type(exc).__name__)
        return f"file (keyring failed: {type(exc).__name__})"
    return KEYRING


def get(service: str, name: str) -> tuple[str | None, str]:
    """(the secret under (``service``, ``name``) or None, "" or why it could not be read)."""
    backend = _backend()
    if backend is None:
        return None, "no keyring backend"
    try:
        return backend.get_password(service, name), ""
    except Exception as exc:  # KeyringError (locked, no backend), or a third-party error
        log.warning("PACS node %r: its secret cannot be read from the keyring (%s)", name,
                    type(exc).__name__)  # fmt: skip
        return None, f"{UNREADABLE}: {type(exc).__name__}"


def delete(service: str, name: str) -> None:
    """Forget the entry (``service``, ``name``); one that is not there, or a keyring that
    fails, is left as it is."""
    backend = _backend()
    if backend is None:
        return
    try:
        backend.delete_password(service, name)
    except Exception as exc:  # PasswordDeleteError: not there; or the keyring failed
        log.debug("PACS node %r: no keyring entry removed (%s)", name, type(exc).__name__)


def unread(place: str) -> bool:
    """Whether ``place`` (one of :func:`take_secrets`' words) is a keyring entry that could not
    be read: not known to be empty, so never to be deleted as a cleared secret."""
    return place.startswith(f"{KEYRING} ({UNREADABLE}")


def take_secrets(item: dict[str, Any], services: dict[str, str]) -> dict[str, str]:
    """A saved node entry's secrets from the keyring into the entry, its markers dropped;
    where each secret is kept, in words ("keyring", "keyring (entry missing)", "keyring
    (unreadable: KeyringLocked)", "file (no keyring backend)", "file (keyring failed: ...)",
    "file (moved to the keyring on the next save)")."""
    places: dict[str, str] = {}
    name = str(item.get("name", ""))
    for what in (PASSWORD, TOKEN):
        marker = item.pop(f"{what}_in", None)
        if marker == KEYRING:
            secret, problem = get(services[what], name)
            item[what] = secret or ""
            problem = problem or ("" if secret is not None else "entry missing")
            places[what] = f"{KEYRING} ({problem})" if problem else KEYRING
        elif item.get(what):
            if not usable():
                places[what] = NO_BACKEND
            elif isinstance(marker, str) and marker.startswith("file ("):
                places[what] = marker  # why the last save could not use the keyring
            else:  # a file of an older version: secrets in clear, no marker
                places[what] = "file (moved to the keyring on the next save)"
    return places


def give_secrets(entry: dict[str, Any], services: dict[str, str]) -> None:
    """A node entry about to be saved: each secret into the keyring and its marker into the
    entry; a secret the keyring cannot keep stays in the entry, the marker saying why."""
    for what in (PASSWORD, TOKEN):
        secret = entry.pop(what, "")
        if not secret:
            continue
        place = put(services[what], str(entry["name"]), secret)
        entry[f"{what}_in"] = place
        if place != KEYRING:
            entry[what] = secret


def keyring_entries(data: Any, services: dict[str, str]) -> set[tuple[str, str]]:
    """The (service, user name) keyring entries a configuration's JSON refers to."""
    entries = set()
    nodes = data.get("nodes") if isinstance(data, dict) else None
    for item in nodes if isinstance(nodes, list) else []:
        for what in (PASSWORD, TOKEN):
            if isinstance(item, dict) and item.get(f"{what}_in") == KEYRING:
                entries.add((services[what], str(item.get("name", ""))))
    return entries
