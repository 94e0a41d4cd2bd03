"""PACS nodes: DIMSE peers (AE title, host, port) and DICOMweb endpoints (base URL, auth, TLS),
with our own AE title and storage port; kept as JSON in the user's config folder so the CLI
and the viewer share them (``$XDG_CONFIG_HOME/spineviewer/pacs.json``, or the file named by
``SPINEVIEWER_PACS_CONFIG``)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

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
    verify_tls: bool = True
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.auth not in AUTH_KINDS:
            raise PacsError(f"node {self.name!r}: auth must be one of {', '.join(AUTH_KINDS)}")
        if not self.url.startswith(("http://", "https://")):
            raise PacsError(f"node {self.name!r}: {self.url!r} is not an http(s) URL")
        object.__setattr__(self, "url", self.url.rstrip("/"))

    @property
    def label(self) -> str:
        return f"{self.name} ({self.url})"


Node = DimseNode | DicomWebNode


@dataclass(frozen=True)
class PacsConfig:
    """Our AE and the configured nodes, by name."""

    local: LocalAE = field(default_factory=LocalAE)
    nodes: tuple[Node, ...] = ()

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
        nodes = [{"kind": "dimse" if isinstance(n, DimseNode) else "dicomweb", **asdict(n)}
                 for n in self.nodes]  # fmt: skip
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


def config_path() -> Path:
    """Where the PACS configuration lives."""
    explicit = os.environ.get("SPINEVIEWER_PACS_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "spineviewer" / "pacs.json"


def load_config(path: Path | None = None) -> PacsConfig:
    """The saved configuration (an empty one when there is no file yet)."""
    target = path or config_path()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return PacsConfig()
    except (OSError, ValueError) as exc:
        raise PacsError(f"{target}: cannot read the PACS configuration ({exc})") from exc
    if not isinstance(data, dict):
        raise PacsError(f"{target}: the PACS configuration is not a JSON object")
    try:
        return PacsConfig.from_json(data)
    except PacsError as exc:
        raise PacsError(f"{target}: {exc}") from exc


def save_config(config: PacsConfig, path: Path | None = None) -> Path:
    """Write the configuration atomically, readable by its owner only (it may hold passwords)."""
    target = path or config_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(config.to_json(), f, indent=2)
        f.write("\n")
    partial.replace(target)
    return target
