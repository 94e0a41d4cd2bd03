"""User settings that outlive a session, with typed properties and safe defaults.

:class:`ViewerSettings` wraps a :class:`QSettings` (INI format, user scope, organisation and
application "SpineViewer"). Every getter validates what it reads: a missing, mistyped or
out-of-range value falls back to the default, so a hand-edited or stale settings file never
stops the viewer from starting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QWidget

from spineviewer import config

ORGANIZATION = "SpineViewer"
APPLICATION = "SpineViewer"

MAX_RECENT = 10
LAYOUTS: tuple[str, ...] = ("1x1", "1x2", "1x3", "2x2")
DEFAULT_LAYOUT = "1x2"
DEFAULT_CINE_FPS = 10.0
CINE_FPS_RANGE: tuple[float, float] = (1.0, 60.0)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _as_bool(value: object, default: bool) -> bool:
    """``value`` read back from QSettings as a bool (INI files give strings), else ``default``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return default


def _as_str_list(value: object) -> list[str]:
    """``value`` as a list of non-empty strings (a lone string is a one-item list)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _clamp_fps(fps: float) -> float:
    low, high = CINE_FPS_RANGE
    return min(max(fps, low), high)


def _dedupe(paths: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for path in paths:
        if path not in seen:
            seen.add(path)
            out.append(path)
    return out


class ViewerSettings:
    """Typed access to the viewer's persistent settings.

    Parameters
    ----------
    settings
        The store to use; tests pass ``QSettings(path, QSettings.Format.IniFormat)``. By default
        the per-user INI file of organisation and application "SpineViewer".
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        if settings is None:
            settings = QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
            )
        self._settings = settings

    @property
    def qsettings(self) -> QSettings:
        """The wrapped QSettings."""
        return self._settings

    def sync(self) -> None:
        """Write pending changes to disk now (Qt also does so on its own)."""
        self._settings.sync()

    # --- recent studies ----------------------------------------------------------------------
    @property
    def recent_studies(self) -> list[str]:
        """Recently opened studies (folders or files), most recent first, at most 10."""
        return _dedupe(_as_str_list(self._settings.value("recent/studies")))[:MAX_RECENT]

    @recent_studies.setter
    def recent_studies(self, paths: Iterable[str]) -> None:
        cleaned = _dedupe(str(p) for p in paths if str(p))[:MAX_RECENT]
        self._settings.setValue("recent/studies", cleaned)

    def add_recent(self, path: str | Path) -> None:
        """Put ``path`` first in the recent list (moving it if already there)."""
        text = str(path)
        if not text:
            return
        self.recent_studies = [text, *(p for p in self.recent_studies if p != text)]

    def existing_recent(self) -> list[str]:
        """The recent list without paths that no longer exist; the pruned list is stored."""
        recent = self.recent_studies
        existing = [p for p in recent if Path(p).exists()]
        if existing != recent:
            self.recent_studies = existing
        return existing

    def clear_recent(self) -> None:
        """Forget every recent study."""
        self.recent_studies = []

    # --- view options ------------------------------------------------------------------------
    @property
    def layout(self) -> str:
        """Viewport layout, one of :data:`LAYOUTS` (default ``"1x2"``)."""
        value = self._settings.value("view/layout")
        return value if isinstance(value, str) and value in LAYOUTS else DEFAULT_LAYOUT

    @layout.setter
    def layout(self, value: str) -> None:
        if value not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {value!r}")
        self._settings.setValue("view/layout", value)

    @property
    def cine_fps(self) -> float:
        """Cine speed in frames per second, clamped to 1-60 (default 10)."""
        value = self._settings.value("view/cine_fps")
        try:
            fps = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return DEFAULT_CINE_FPS
        return _clamp_fps(fps) if math.isfinite(fps) else DEFAULT_CINE_FPS

    @cine_fps.setter
    def cine_fps(self, value: float) -> None:
        fps = float(value)
        if not math.isfinite(fps):
            raise ValueError(f"cine_fps must be a finite number, not {value!r}")
        self._settings.setValue("view/cine_fps", _clamp_fps(fps))

    def _bool(self, key: str, default: bool) -> bool:
        return _as_bool(self._settings.value(key), default)

    def _set_bool(self, key: str, value: bool) -> None:
        self._settings.setValue(key, bool(value))

    @property
    def phi_free(self) -> bool:
        """Hide patient-identifying text in the viewports (default False)."""
        return self._bool("view/phi_free", False)

    @phi_free.setter
    def phi_free(self, value: bool) -> None:
        self._set_bool("view/phi_free", value)

    @property
    def corner_text(self) -> bool:
        """Show the corner annotations (default True)."""
        return self._bool("view/corner_text", True)

    @corner_text.setter
    def corner_text(self, value: bool) -> None:
        self._set_bool("view/corner_text", value)

    @property
    def crossref(self) -> bool:
        """Show cross-reference lines (default True)."""
        return self._bool("view/crossref", True)

    @crossref.setter
    def crossref(self, value: bool) -> None:
        self._set_bool("view/crossref", value)

    @property
    def crossref_all(self) -> bool:
        """Show the lines of every slice, not only the current one (default False)."""
        return self._bool("view/crossref_all", False)

    @crossref_all.setter
    def crossref_all(self, value: bool) -> None:
        self._set_bool("view/crossref_all", value)

    # --- AI --------------------------------------------------------------------------------------
    @property
    def ai_provider(self) -> str | None:
        """The onnxruntime provider chosen in the viewer (AI > Run models on): ``auto``,
        ``cuda`` or ``cpu``; None when none was chosen there, and then the ``provider``
        setting of :mod:`spineviewer.config` applies (``SPINEVIEWER_PROVIDER``, the config
        file, else ``auto``): :class:`~spineviewer.ai.sessions.SessionCache` reads it."""
        value = self._settings.value("ai/provider")
        return value if isinstance(value, str) and value in config.PROVIDERS else None

    @ai_provider.setter
    def ai_provider(self, value: str) -> None:
        if value not in config.PROVIDERS:
            raise ValueError(
                f"provider must be one of {', '.join(config.PROVIDERS)}, not {value!r}"
            )
        self._settings.setValue("ai/provider", value)

    @property
    def ai_provider_in_force(self) -> str:
        """The provider the next analysis asks for: the viewer's choice, else the config's."""
        return self.ai_provider or config.load().provider

    @property
    def model_dirs(self) -> list[str]:
        """Extra model folders searched before the user and bundled ones."""
        value = self._settings.value("ai/model_dirs")
        if isinstance(value, str):
            return [value] if value else []
        return [str(v) for v in value] if isinstance(value, list) else []

    @model_dirs.setter
    def model_dirs(self, folders: Iterable[str]) -> None:
        self._settings.setValue("ai/model_dirs", [str(f) for f in folders])

    # --- window geometry ---------------------------------------------------------------------
    def save_geometry(self, window: QWidget) -> None:
        """Remember ``window``'s size and position (and dock/toolbar state of a QMainWindow)."""
        self._settings.setValue("window/geometry", window.saveGeometry())
        if isinstance(window, QMainWindow):
            self._settings.setValue("window/state", window.saveState())

    def restore_geometry(self, window: QWidget) -> bool:
        """Restore what :meth:`save_geometry` stored; False when no usable geometry was stored."""
        geometry = self._settings.value("window/geometry")
        restored = isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)
        if isinstance(window, QMainWindow):
            state = self._settings.value("window/state")
            if isinstance(state, QByteArray):
                window.restoreState(state)
        return bool(restored)
