"""PACS nodes: DIMSE peers (AE title, host, port) and DICOMweb endpoints (base URL, auth, TLS),
with our own AE title and storage port; kept as JSON in one file so the CLI and the viewer share
them: the ``pacs_config`` setting of :mod:`spineviewer.config` (``SPINEVIEWER_PACS_CONFIG``,
the config file's ``pacs_config``, else ``pacs.json`` in the user config folder:
``~/.config/spineviewer/pacs.json`` on Linux). A file at that old Linux place is still read on
Windows and macOS when the new place has none, so no PACS nodes are lost by upgrading.

Passwords and tokens are not in that file: :func:`save_config` puts them in the system keyring
(:mod:`spineviewer.pacs.credentials`: service ``spineviewer-pacs``, user name the node's name)
and writes ``"password_in": "keyring"``. Where no keyring backend is usable they stay in the
file (readable by its owner only), as older versions kept them; such a file is read as it is and
its secrets move to the keyring on the next save that finds one. :func:`password_places` says
where each node's secret is kept."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from spineviewer import config as settings
from spineviewer.pacs import credentials
from spineviewer.pacs.errors import PacsError

__all__ = [
    "AUTH_KINDS",
    "DicomWebNode",
    "DimseNode",
    "LocalAE",
    "Node",
    "PacsConfig",
    "config_path",
    "load_config",
    "password_places",
    "save_config",
]

AUTH_KINDS = ("none", "basic", "bearer")
MAX_AE_TITLE = 16


def _check_ae(title: str, what: str) -> str:
    text = title.strip()
    if not text or len(text) > MAX_AE_TITLE or "\\" in text:
        raise PacsError(f"{what} {title!r}: an AE title has 1 to 16 characters, no backslash")
    return text


@dataclass(frozen=True)
class LocalAE:
    """Who we are on the network: our AE title and the port of our storage SCP (C-MOVE)."""

    ae_title: str = "SPINEVIEWER"
    port: int = 11113

    def __post_init__(self) -> None:
        object.__setattr__(self, "ae_title", _check_ae(self.ae_title, "our AE title"))


@dataclass(frozen=True)
class DimseNode:
    """A DICOM peer reached over DIMSE (C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE)."""

    name: str
    ae_title: str
    host: str
    port: int
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "ae_title", _check_ae(self.ae_title, f"node {self.name!r}:"))
        if not 0 < int(self.port) < 65536:
            raise PacsError(f"node {self.name!r}: port {self.port} is not between 1 and 65535")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.ae_title}@{self.host}:{self.port})"


@dataclass(frozen=True)
class DicomWebNode:
    """A DICOMweb endpoint (QIDO-RS, WADO-RS, STOW-RS)."""

    name: str
    url: str
    auth: str = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    #: False: no certificate check at all (test servers only; it wins over everything else).
    verify_tls: bool = True
    timeout_s: float = 30.0
    #: A CA bundle (PEM file) to trust for this node; it wins over ``REQUESTS_CA_BUNDLE`` /
    #: ``CURL_CA_BUNDLE``, which apply to nodes without one. "": the environment's or the
    #: system's certificates.
    ca_bundle: str = ""

    def __post_init__(self) -> None:
        if self.auth not in AUTH_KINDS:
            raise PacsError(f"node {self.name!r}: auth must be one of {', '.join(AUTH_KINDS)}")
        if not self.url.startswith(("http://", "https://")):
            raise PacsError(f"node {self.name!r}: {self.url!r} is not an http(s) URL")
        object.__setattr__(self, "url", self.url.rstrip("/"))

    @property
    def label(self) -> str:
        return f"{self.name} ({self.url})"

    @property
    def tls(self) -> str:
        """How this node's TLS certificate is checked, in words (for ``pacs nodes``)."""
        if not self.url.startswith("https://"):
            return "no TLS (http)" if self.verify_tls else "TLS verification OFF (http)"
        if not self.verify_tls:
            return "TLS verification OFF"
        return f"TLS verified with {self.ca_bundle}" if self.ca_bundle else "TLS verified"

    @property
    def verify(self) -> bool | str:
        """The ``verify`` of every request to this node: False when verification is off,
        else the node's CA bundle, else True (the environment's or the system's CAs)."""
        if not self.verify_tls:
            return False
        return self.ca_bundle or True


Node = DimseNode | DicomWebNode


@dataclass(frozen=True)
class PacsConfig:
    """Our AE and the configured nodes, by name."""

    local: LocalAE = field(default_factory=LocalAE)
    nodes: tuple[Node, ...] = ()
    #: (node name, "password" or "token") whose keyring entry could not be read when the file
    #: was loaded (a locked keyring): saving keeps those entries instead of taking the empty
    #: secret for a cleared one.
    unread: frozenset[tuple[str, str]] = field(default=frozenset(), compare=False)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes) or "none configured"
        raise PacsError(f"no PACS node named {name!r} (known: {known})")

    def with_node(self, node: Node) -> PacsConfig:
        """This configuration with ``node`` added, or replacing the node of that name."""
        others = tuple(n for n in self.nodes if n.name != node.name)
        return replace(self, nodes=(*others, node))

    def without(self, name: str) -> PacsConfig:
        return replace(self, nodes=tuple(n for n in self.nodes if n.name != name))

    def to_json(self) -> dict[str, Any]:
        """Everything, secrets included (:func:`save_config` moves them to the keyring)."""
        nodes = [{"kind": "dimse" if isinstance(n, DimseNode) else "dicomweb", **asdict(n)}
                 for n in self.nodes]  # fmt: skip
        for entry in nodes:  # a file without a CA bundle stays readable by older versions
            if entry.get("ca_bundle") == "":
                del entry["ca_bundle"]
        return {"local": asdict(self.local), "nodes": nodes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PacsConfig:
        try:
            local = LocalAE(**data.get("local", {}))
            nodes: list[Node] = []
            for item in data.get("nodes", []):
                fields = {k: v for k, v in item.items() if k != "kind"}
                kind = item.get("kind")
                if kind == "dimse":
                    nodes.append(DimseNode(**fields))
                elif kind == "dicomweb":
                    nodes.append(DicomWebNode(**fields))
                else:
                    raise PacsError(f"node kind {kind!r} is neither 'dimse' nor 'dicomweb'")
        except TypeError as exc:
            raise PacsError(f"PACS configuration: {exc}") from exc
        return cls(local, tuple(nodes))


def _default_path() -> Path:
    return settings.default_path("pacs_config")


def config_path() -> Path:
    """Where the PACS configuration lives (the ``pacs_config`` setting)."""
    return settings.load().pacs_config


def _scope(target: Path) -> str:
    """The keyring scope of a configuration file: "" for the default one, else its path."""
    here = target.expanduser().resolve()
    return "" if here == _default_path().expanduser().resolve() else str(here)


def _services(data: dict[str, Any], target: Path) -> dict[str, str]:
    """The keyring services of a file's secrets: those of the scope it was saved with."""
    scope = data.get("keyring_scope")
    return credentials.service_names(scope if isinstance(scope, str) else _scope(target))


def _read(target: Path) -> tuple[PacsConfig, dict[str, dict[str, str]]]:
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return PacsConfig(), {}
    except (OSError, ValueError) as exc:
        raise PacsError(f"{target}: cannot read the PACS configuration ({exc})") from exc
    _tighten(target)
    if not isinstance(data, dict):
        raise PacsError(f"{target}: the PACS configuration is not a JSON object")
    services = _services(data, target)
    places = {}
    nodes = data.get("nodes", [])
    for item in nodes if isinstance(nodes, list) else []:
        if isinstance(item, dict) and item.get("kind") == "dicomweb":
            places[str(item.get("name", ""))] = credentials.take_secrets(item, services)
    unread = frozenset(
        (name, what)
        for name, where in places.items()
        for what, place in where.items()
        if credentials.unread(place)
    )
    try:
        return replace(PacsConfig.from_json(data), unread=unread), places
    except PacsError as exc:
        raise PacsError(f"{target}: {exc}") from exc


def load_config(path: Path | None = None) -> PacsConfig:
    """The saved configuration (an empty one when there is no file yet), secrets read from
    the keyring. A file others can read (written by an older version) is made readable by its
    owner only."""
    return _read(path or config_path())[0]


def password_places(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Where each saved node's secrets are kept, by node name, then by secret ("password",
    "token"; one that is not set is not there): "keyring", "keyring (entry missing)",
    "keyring (unreadable: KeyringLocked)", "file (no keyring backend)", "file (keyring failed:
    ...)" or "file (moved to the keyring on the next save)". No secret in it."""
    return _read(path or config_path())[1]


def _previous_entries(target: Path, services: dict[str, str]) -> set[tuple[str, str]]:
    """The keyring entries of the file about to be replaced that are under ``services`` (an
    entry of another scope, a copied or moved file's, may still be used there)."""
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict) or _services(data, target) != services:
        return set()
    return credentials.keyring_entries(data, services)


#: The configuration file's mode: it holds passwords and tokens where there is no keyring.
PRIVATE_MODE = 0o600


def _tighten(path: Path) -> None:
    """``path`` readable by its owner only, when it is not (and we may change it)."""
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_config(config: PacsConfig, path: Path | None = None) -> Path:
    """Write the configuration atomically, readable by its owner only: a new temporary file
    created 0600 (never one a crash left, whatever its mode), flushed to disk, renamed over the
    target. Passwords and tokens go to the system keyring first (in the file only where no
    keyring backend is usable); the keyring entries of nodes removed or renamed since the file
    was last saved, or whose secret was cleared, are deleted after the file is written."""
    target = path or config_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    scope = _scope(target)
    services = credentials.service_names(scope)
    previous = _previous_entries(target, services)
    data = config.to_json()
    for entry in data["nodes"]:
        credentials.give_secrets(entry, services)
        for what in (credentials.PASSWORD, credentials.TOKEN):
            if (entry["name"], what) in config.unread and not entry.get(f"{what}_in"):
                entry[f"{what}_in"] = credentials.KEYRING  # not read, not cleared: kept
    kept = credentials.keyring_entries(data, services)
    if kept:
        data["keyring_scope"] = scope
    # the fixed-name temporary file of older versions, left by a crash: never reused
    target.with_name(f".{target.name}.partial").unlink(missing_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if hasattr(os, "fchmod"):  # whatever the umask or the file system did
                os.fchmod(f.fileno(), PRIVATE_MODE)
            json.dump(data, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    for service, name in previous - kept:
        credentials.delete(service, name)
    return target
