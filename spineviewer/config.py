"""SpineViewer's settings in one place: the defaults, then the user config file, then the
environment, each later layer winning.

Every setting (:data:`SETTINGS`) has a name (``workspace``), an environment variable
(``SPINEVIEWER_`` and the name in capitals: ``SPINEVIEWER_WORKSPACE``) and a default. The
user config file is TOML, ``config.toml`` in the user config folder (or the file named by
``SPINEVIEWER_CONFIG``), one ``name = value`` a line::

    workspace = "~/spine/workspace"     # a relative path is relative to this file's folder
    provider = "cuda"                   # auto, cuda or cpu
    model_dir = "/srv/spine-models"
    vertebrae = "segmentation"          # detector or segmentation (sagittal MR)

A config file that cannot be read, is not TOML, names a setting that does not exist or gives
a value of the wrong kind stops nothing: the problem (naming the file and, where there is one,
the line) is logged once per process as a warning of the ``spineviewer.config`` logger
(printed on stderr when nothing else handles it), kept in :attr:`Config.problems`, and the
values the file could not give come from the defaults and the environment. Secrets
(``pacs_password``, ``pacs_token``) are read from the environment only: a PACS node's secrets
live in the system keyring (:mod:`spineviewer.pacs.credentials`).

Per-user folders come from platformdirs (:func:`user_path`): the data folder (workspace,
user models), the config folder (this file, the PACS nodes) and the cache folder (the demo
study, the training phantoms). Before, SpineViewer built them by hand on every system as
Linux has them (``$XDG_DATA_HOME`` else ``~/.local/share``, ``$XDG_CONFIG_HOME`` else
``~/.config``, ``$XDG_CACHE_HOME`` else ``~/.cache``, each with ``spineviewer/``). On Linux
the two agree. On Windows and macOS a folder or file at the old place is still used when the
new place has none, so nobody loses a workspace, models or PACS nodes by upgrading.

Nothing is cached: :func:`load` reads the environment and the file each time it is called
(both are small), so a changed variable or file applies at once. This module imports nothing
of SpineViewer's layers and no heavy library (platformdirs and tomllib when first needed), so
any layer, the command line's parser included, may use it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

if TYPE_CHECKING:
    from platformdirs.api import PlatformDirsABC

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "PROVIDERS",
    "SETTINGS",
    "VERTEBRAE_METHODS",
    "Config",
    "Problem",
    "Setting",
    "config_file",
    "default_path",
    "load",
    "old_user_path",
    "platform_dirs",
    "user_path",
]

APP = "spineviewer"
ENV_PREFIX = "SPINEVIEWER_"
#: The environment variable naming the config file to read instead of the user's.
CONFIG_ENV = ENV_PREFIX + "CONFIG"
CONFIG_NAME = "config.toml"
#: onnxruntime provider choices: CUDA when it loads, then the CPU; CUDA asked for; the CPU.
PROVIDERS = ("auto", "cuda", "cpu")
#: What reads the vertebrae of a series both a detection and a segmentation model accept
#: (sagittal MR): the detector (the default), or the segmentation model's label map.
VERTEBRAE_METHODS = ("detector", "segmentation")
#: Environment values read as "no" for a flag (any other non-empty value is "yes").
_FALSE = frozenset({"0", "false", "no", "off"})

Folder = Literal["data", "config", "cache"]
Kind = Literal["path", "choice", "flag", "secret"]

log = logging.getLogger(__name__)


# -- per-user folders --------------------------------------------------------------------------


def platform_dirs() -> PlatformDirsABC:
    """This system's per-user folders for SpineViewer (platformdirs, no author folder)."""
    import platformdirs

    return platformdirs.PlatformDirs(APP, appauthor=False)


def _new_base(folder: Folder) -> Path:
    dirs = platform_dirs()
    bases = {
        "data": dirs.user_data_path,
        "config": dirs.user_config_path,
        "cache": dirs.user_cache_path,
    }
    return Path(bases[folder])


#: The folders SpineViewer built by hand before platformdirs, on every system.
_OLD_BASES: dict[Folder, tuple[str, str]] = {
    "data": ("XDG_DATA_HOME", ".local/share"),
    "config": ("XDG_CONFIG_HOME", ".config"),
    "cache": ("XDG_CACHE_HOME", ".cache"),
}


def old_user_path(folder: Folder, name: str = "") -> Path:
    """Where ``name`` was kept before platformdirs (``$XDG_..._HOME`` when absolute, else
    ``~/.local/share``, ``~/.config`` or ``~/.cache``, then ``spineviewer/name``)."""
    variable, fallback = _OLD_BASES[folder]
    xdg = os.environ.get(variable, "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / fallback
    return base / APP / name


def user_path(folder: Folder, name: str = "") -> Path:
    """``name`` in the per-user ``data``, ``config`` or ``cache`` folder (platformdirs).

    When nothing is there yet but something is at the old place (:func:`old_user_path`,
    which differs from platformdirs' on Windows and macOS), the old place is returned: a
    user's workspace, models and PACS nodes stay where they are."""
    new = _new_base(folder) / name
    if not new.exists():
        old = old_user_path(folder, name)
        if old != new and old.exists():
            return old
    return new


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    """The config file read: ``$SPINEVIEWER_CONFIG``, else ``config.toml`` in the user config
    folder (it need not exist)."""
    env = os.environ if environ is None else environ
    explicit = env.get(CONFIG_ENV, "")
    return Path(explicit).expanduser() if explicit else user_path("config", CONFIG_NAME)


# -- the settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: its name in the file, its kind, its default and what it is for."""

    name: str
    kind: Kind
    default: Callable[[], object]
    help: str
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        """Its environment variable: ``SPINEVIEWER_`` and the name in capitals."""
        return ENV_PREFIX + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "workspace",
            "path",
            lambda: user_path("data", "workspace"),
            "annotation workspace: documents, worklist, PACS retrieves",
        ),
        Setting(
            "provider",
            "choice",
            lambda: "auto",
            "onnxruntime provider: auto (CUDA when it loads, else the CPU), cuda or cpu",
            PROVIDERS,
        ),
        Setting("model_dir", "path", lambda: user_path("data", "models"), "user model folder"),
        Setting(
            "vertebrae",
            "choice",
            lambda: "detector",
            "what reads the vertebrae of a series a detector and a segmentation model both "
            "accept (sagittal MR): detector or segmentation",
            VERTEBRAE_METHODS,
        ),
        Setting(
            "cache_dir",
            "path",
            lambda: user_path("cache"),
            "cache: the demo study and the training phantoms",
        ),
        Setting(
            "pacs_config",
            "path",
            lambda: user_path("config", "pacs.json"),
            "PACS nodes file (shared by the command line and the viewer)",
        ),
        Setting(
            "pacs_password",
            "secret",
            lambda: "",
            "password of a DICOMweb endpoint given on the command line (--url)",
        ),
        Setting(
            "pacs_token",
            "secret",
            lambda: "",
            "bearer token of a DICOMweb endpoint given on the command line (--url)",
        ),
        Setting(
            "startup_probe",
            "flag",
            lambda: False,
            "print 'painted <what>' at the viewer's first paints (bench/bench_large.py)",
        ),
    )
}


def default_path(name: str) -> Path:
    """The default of the path setting ``name`` (what applies with no file and no variable)."""
    return cast(Path, SETTINGS[name].default())


@dataclass(frozen=True)
class Problem:
    """Something wrong in the config file or the environment, and where."""

    #: ``/home/me/.config/spineviewer/config.toml, line 3``, or ``SPINEVIEWER_PROVIDER``.
    where: str
    message: str
    #: The setting it concerns; None for the file as a whole or a name that is no setting.
    setting: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Config:
    """The settings in force, each with where it came from (:attr:`sources`)."""

    values: Mapping[str, object]
    #: Per setting: ``default``, the config file and line (``/path/config.toml, line 2``), or
    #: the environment variable (``SPINEVIEWER_WORKSPACE``).
    sources: Mapping[str, str]
    #: The config file read (it need not exist).
    file: Path
    problems: tuple[Problem, ...] = ()
    #: Where the file's name came from: ``default`` or ``SPINEVIEWER_CONFIG``.
    file_source: str = "default"

    @property
    def workspace(self) -> Path:
        return cast(Path, self.values["workspace"])

    @property
    def provider(self) -> str:
        return cast(str, self.values["provider"])

    @property
    def model_dir(self) -> Path:
        return cast(Path, self.values["model_dir"])

    @property
    def vertebrae(self) -> str:
        return cast(str, self.values["vertebrae"])

    @property
    def cache_dir(self) -> Path:
        return cast(Path, self.values["cache_dir"])

    @property
    def pacs_config(self) -> Path:
        return cast(Path, self.values["pacs_config"])

    @property
    def pacs_password(self) -> str:
        return cast(str, self.values["pacs_password"])

    @property
    def pacs_token(self) -> str:
        return cast(str, self.values["pacs_token"])

    @property
    def startup_probe(self) -> bool:
        return cast(bool, self.values["startup_probe"])

    def shown(self, name: str) -> str:
        """The value of ``name`` as ``doctor`` and Help > About show it (a secret only as
        ``set`` or ``not set``)."""
        value = self.values[name]
        if SETTINGS[name].kind == "secret":
            return "set" if value else "not set"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    def rows(self) -> list[dict[str, str]]:
        """One row per setting: name, shown value, source, environment variable, what it is."""
        return [
            {
                "name": s.name,
                "value": self.shown(s.name),
                "source": self.sources[s.name],
                "env": s.env,
                "help": s.help,
            }
            for s in SETTINGS.values()
        ]


# -- reading -----------------------------------------------------------------------------------


def load(environ: Mapping[str, str] | None = None) -> Config:
    """The settings in force: defaults < the config file < the environment (``environ``,
    default ``os.environ``). Never raises. The config file's problems are logged once and
    kept in the result; a variable that is no value of its setting (only
    ``SPINEVIEWER_PROVIDER`` and ``SPINEVIEWER_VERTEBRAE`` can be one) is kept in the
    result, not logged: it is an error where the setting is used
    (:func:`spineviewer.ai.sessions.chosen_provider`,
    :func:`spineviewer.ai.pipelines.segmentation.chosen_models`), and the value falls back to
    the file's or the default."""
    env = os.environ if environ is None else environ
    path = config_file(env)
    from_file, problems = _read_file(path)
    env_problems = []
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS.values():
        value, source = setting.default(), "default"
        if setting.name in from_file:
            raw, line = from_file[setting.name]
            where = f"{path}, line {line}" if line else str(path)
            parsed = _from_file(setting, raw, path)
            if isinstance(parsed, Problem):
                problems.append(Problem(where, f"{parsed.message}; ignored", setting.name))
            else:
                value, source = parsed, where
        raw_env = env.get(setting.env, "")
        if raw_env:
            parsed = _from_env(setting, raw_env)
            if isinstance(parsed, Problem):
                env_problems.append(Problem(setting.env, parsed.message, setting.name))
            else:
                value, source = parsed, setting.env
        values[setting.name] = value
        sources[setting.name] = source
    _report(problems)
    file_source = CONFIG_ENV if env.get(CONFIG_ENV) else "default"
    return Config(values, sources, path, (*problems, *env_problems), file_source)


def _bad(message: str) -> Problem:
    """A value's problem before its place is known (filled in by :func:`load`)."""
    return Problem("", message)


def _from_file(setting: Setting, raw: object, path: Path) -> object:
    """The file's value for ``setting``, or a :class:`Problem` saying why it is not one."""
    if setting.kind == "secret":
        return _bad(
            f"{setting.name} is not read from a file: set {setting.env}, or keep the node's "
            "secret in the keyring ('spineviewer pacs nodes')"
        )
    if setting.kind == "flag":
        if isinstance(raw, bool):
            return raw
        return _bad(f"{setting.name} must be true or false, not {raw!r}")
    if not isinstance(raw, str) or not raw.strip():
        return _bad(f"{setting.name} must be a non-empty string, not {raw!r}")
    if setting.kind == "choice":
        return _choice(setting, raw)
    folder = Path(raw).expanduser()
    return folder if folder.is_absolute() else path.parent / folder


def _from_env(setting: Setting, raw: str) -> object:
    """The environment's value for ``setting``, or a :class:`Problem`."""
    if setting.kind == "flag":
        return raw.strip().lower() not in _FALSE
    if setting.kind == "secret":
        return raw
    if setting.kind == "choice":
        return _choice(setting, raw)
    return Path(raw).expanduser()


def _choice(setting: Setting, raw: str) -> str | Problem:
    value = raw.strip().lower()
    if value in setting.choices:
        return value
    return _bad(f"{setting.name} {raw!r} is not one of {', '.join(setting.choices)}")


#: Where tomllib found a syntax error: "... (at line 3, column 9)", "(at end of document)".
_TOML_PLACE = re.compile(r"\s*\((?:at line (\d+), column \d+|at end of document)\)")


def _read_file(path: Path) -> tuple[dict[str, tuple[object, int | None]], list[Problem]]:
    """The file's settings (name -> (value, line)) and its problems; nothing for no file."""
    import tomllib

    using = "the defaults and the environment are used"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(str(path), f"cannot read the config file ({exc}); {using}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_PLACE.search(str(exc))
        line = (found.group(1) or len(text.splitlines()) or 1) if found else None
        where = f"{path}, line {line}" if line else str(path)
        why = _TOML_PLACE.sub("", str(exc))
        return {}, [Problem(where, f"not valid TOML ({why}); {using}")]
    lines = text.splitlines()
    found_values: dict[str, tuple[object, int | None]] = {}
    problems = []
    for name, value in data.items():
        line = _line_of(lines, name)
        if name in SETTINGS:
            found_values[name] = (value, line)
            continue
        where = f"{path}, line {line}" if line else str(path)
        known = ", ".join(SETTINGS)
        problems.append(
            Problem(where, f"no setting is named {name!r} (settings: {known}); ignored")
        )
    return found_values, problems


def _line_of(lines: list[str], name: str) -> int | None:
    """The line (from 1) where ``name`` is given as a key or opens a table."""
    quoted = re.escape(name)
    pattern = re.compile(rf"""\s*(?:(["']?){quoted}\1\s*=|\[+\s*(["']?){quoted}\2\s*[\].])""")
    return next((n for n, line in enumerate(lines, 1) if pattern.match(line)), None)


_REPORTED: set[str] = set()
_REPORTED_LOCK = threading.Lock()


def _report(problems: list[Problem]) -> None:
    """Log each problem once per process (load() runs often; the warning should not)."""
    for problem in problems:
        text = str(problem)
        with _REPORTED_LOCK:
            if text in _REPORTED:
                continue
            _REPORTED.add(text)
        log.warning("spineviewer: %s", text)
