"""``spineviewer.config``: defaults < the user config file < the environment; a bad file
stops nothing and says where; per-user folders from platformdirs with the old Linux places
still read; the command line, the workspace, the model registry and the PACS nodes read it;
``spineviewer doctor`` shows each value and where it came from."""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from platformdirs.macos import MacOS

from spineviewer import config
from spineviewer.ai.registry import user_model_dir
from spineviewer.ai.sessions import chosen_provider
from spineviewer.annotations.store import default_root
from spineviewer.cli.demo import default_demo_dir
from spineviewer.pacs.nodes import config_path

ROOT = Path(__file__).resolve().parents[1]

#: Every SPINEVIEWER_* variable spineviewer/ read before this module, and its setting.
OLD_VARIABLES = {
    "SPINEVIEWER_WORKSPACE": "workspace",
    "SPINEVIEWER_PROVIDER": "provider",
    "SPINEVIEWER_PACS_CONFIG": "pacs_config",
    "SPINEVIEWER_PACS_PASSWORD": "pacs_password",
    "SPINEVIEWER_PACS_TOKEN": "pacs_token",
    "SPINEVIEWER_STARTUP_PROBE": "startup_probe",
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user of their own: HOME in tmp_path, no XDG folders, no SPINEVIEWER_* variables."""
    for name in list(os.environ):
        if name.startswith(("SPINEVIEWER_", "XDG_")):
            monkeypatch.delenv(name)
    user = tmp_path / "home"
    user.mkdir()
    monkeypatch.setenv("HOME", str(user))
    return user


def write_config(home: Path, text: str) -> Path:
    path = home / ".config" / "spineviewer" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


# -- precedence --------------------------------------------------------------------------------


def test_defaults_are_the_platform_folders(home: Path) -> None:
    settings = config.load()
    assert settings.file == home / ".config/spineviewer/config.toml"
    assert not settings.problems
    assert settings.workspace == home / ".local/share/spineviewer/workspace"
    assert settings.model_dir == home / ".local/share/spineviewer/models"
    assert settings.cache_dir == home / ".cache/spineviewer"
    assert settings.pacs_config == home / ".config/spineviewer/pacs.json"
    assert (settings.provider, settings.pacs_password, settings.startup_probe) == (
        "auto",
        "",
        False,
    )
    assert set(settings.sources.values()) == {"default"}
    # the layers that read it
    assert default_root() == settings.workspace
    assert user_model_dir() == settings.model_dir
    assert config_path() == settings.pacs_config
    assert default_demo_dir() == home / ".cache/spineviewer/demo"
    assert chosen_provider() == "auto"


def test_the_file_wins_over_the_defaults_and_the_environment_over_the_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        home,
        "# my settings\n"
        'workspace = "~/annotations"\n'
        'provider = "CPU"\n'
        "\n"
        'model_dir = "models"\n'
        "startup_probe = true\n",
    )
    settings = config.load()
    assert settings.workspace == home / "annotations"
    assert settings.provider == "cpu"
    assert settings.model_dir == path.parent / "models"  # relative to the file's folder
    assert settings.startup_probe is True
    assert settings.sources["workspace"] == f"{path}, line 2"
    assert settings.sources["provider"] == f"{path}, line 3"
    assert settings.sources["model_dir"] == f"{path}, line 5"
    assert settings.sources["cache_dir"] == "default"
    assert default_root() == home / "annotations"
    assert user_model_dir() == path.parent / "models"
    assert chosen_provider() == "cpu"

    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(home / "from-env"))
    monkeypatch.setenv("SPINEVIEWER_PROVIDER", "cuda")
    monkeypatch.setenv("SPINEVIEWER_STARTUP_PROBE", "0")
    settings = config.load()
    assert settings.workspace == home / "from-env"
    assert settings.provider == "cuda"
    assert settings.startup_probe is False
    assert settings.sources["workspace"] == "SPINEVIEWER_WORKSPACE"
    assert settings.sources["model_dir"] == f"{path}, line 5"  # not in the environment
    assert default_root() == home / "from-env"
    assert chosen_provider() == "cuda"
    assert chosen_provider("cpu") == "cpu"  # the caller's choice (--provider) over all


def test_every_old_variable_keeps_working(home: Path) -> None:
    env = {
        "SPINEVIEWER_WORKSPACE": str(home / "ws"),
        "SPINEVIEWER_PROVIDER": "cpu",
        "SPINEVIEWER_PACS_CONFIG": str(home / "nodes.json"),
        "SPINEVIEWER_PACS_PASSWORD": "pw",
        "SPINEVIEWER_PACS_TOKEN": "tok",
        "SPINEVIEWER_STARTUP_PROBE": "1",
    }
    settings = config.load(env)
    assert settings.values == {
        **settings.values,
        "workspace": home / "ws",
        "provider": "cpu",
        "pacs_config": home / "nodes.json",
        "pacs_password": "pw",
        "pacs_token": "tok",
        "startup_probe": True,
    }
    for variable, name in OLD_VARIABLES.items():
        assert config.SETTINGS[name].env == variable
        assert settings.sources[name] == variable
    # secrets are shown as set, never as their value
    rows = {row["name"]: row for row in settings.rows()}
    assert rows["pacs_password"]["value"] == "set" and rows["pacs_token"]["value"] == "set"
    assert "pw" not in json.dumps(settings.rows())


def test_an_empty_variable_is_unset(home: Path) -> None:
    settings = config.load({"SPINEVIEWER_WORKSPACE": "", "SPINEVIEWER_PROVIDER": ""})
    assert settings.sources["workspace"] == settings.sources["provider"] == "default"


def test_spineviewer_config_names_another_file(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "team.toml"
    other.write_text('provider = "cpu"\n', "utf-8")
    write_config(home, 'provider = "cuda"\n')
    settings = config.load({"SPINEVIEWER_CONFIG": str(other)})
    assert (settings.file, settings.file_source) == (other, "SPINEVIEWER_CONFIG")
    assert settings.provider == "cpu" and settings.sources["provider"] == f"{other}, line 1"


# -- a bad file --------------------------------------------------------------------------------


def test_a_file_that_is_not_toml_names_the_file_and_line_and_the_defaults_apply(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_config(home, 'provider = "cpu"\nworkspace = /no/quotes\n')
    with caplog.at_level(logging.WARNING, logger="spineviewer.config"):
        settings = config.load()
        config.load()  # logged once, not at every load
    (problem,) = settings.problems
    assert problem.where == f"{path}, line 2"
    assert "not valid TOML" in problem.message
    assert "defaults" in problem.message
    assert settings.provider == "auto" and set(settings.sources.values()) == {"default"}
    logged = [r.getMessage() for r in caplog.records if r.name == "spineviewer.config"]
    assert logged == [f"spineviewer: {path}, line 2: {problem.message}"]
    # the consumers run on the defaults
    assert default_root() == home / ".local/share/spineviewer/workspace"
    assert chosen_provider() == "auto"


def test_wrong_values_and_unknown_names_are_ignored_one_by_one(home: Path) -> None:
    path = write_config(
        home,
        'provider = "gpu"\n'
        "workspace = 3\n"
        'model_dir = "/srv/models"\n'
        'startup_probe = "yes"\n'
        'pacs_password = "secret"\n'
        "[pacs]\n"
        'host = "x"\n',
    )
    settings = config.load()
    problems = {p.where: p for p in settings.problems}
    assert set(problems) == {f"{path}, line {n}" for n in (1, 2, 4, 5, 6)}
    assert "provider 'gpu' is not one of auto, cuda, cpu" in problems[f"{path}, line 1"].message
    assert "workspace must be a non-empty string" in problems[f"{path}, line 2"].message
    assert "startup_probe must be true or false" in problems[f"{path}, line 4"].message
    assert "SPINEVIEWER_PACS_PASSWORD" in problems[f"{path}, line 5"].message
    assert "no setting is named 'pacs'" in problems[f"{path}, line 6"].message
    assert all(p.message.endswith("ignored") for p in settings.problems)
    # what was right is used, the rest is the default
    assert settings.model_dir == Path("/srv/models")
    assert settings.provider == "auto" and settings.pacs_password == ""
    assert settings.sources["workspace"] == "default"
    assert chosen_provider() == "auto"


@pytest.mark.parametrize(
    ("content", "why"),
    [(b'provider = "cpu"\n\xff\xfe\n', "cannot read"), (None, "cannot read")],
)
def test_an_unreadable_file_is_reported_and_skipped(
    home: Path, content: bytes | None, why: str
) -> None:
    path = home / ".config" / "spineviewer" / "config.toml"
    path.parent.mkdir(parents=True)
    if content is None:
        path.mkdir()  # a folder where the file should be
    else:
        path.write_bytes(content)
    settings = config.load()
    (problem,) = settings.problems
    assert problem.where == str(path) and why in problem.message
    assert settings.provider == "auto"


def test_a_wrong_provider_variable_is_an_error_where_the_provider_is_used(home: Path) -> None:
    settings = config.load({"SPINEVIEWER_PROVIDER": "tpu"})
    (problem,) = settings.problems
    assert (problem.where, problem.setting) == ("SPINEVIEWER_PROVIDER", "provider")
    assert settings.provider == "auto"  # the rest of the settings still load


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    """``spineviewer doctor`` as a user runs it, with this test's HOME and a workspace there."""
    env = {**os.environ, "SPINEVIEWER_WORKSPACE": os.path.expanduser("~/ws")}
    return subprocess.run(
        [sys.executable, "-m", "spineviewer", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
        cwd=ROOT,
    )


def test_doctor_shows_each_setting_and_where_it_came_from(home: Path) -> None:
    path = write_config(home, 'provider = "cpu"\n')
    done = doctor()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index(f"Config: {path} (read)")
    shown = lines[start + 1 : start + 1 + len(config.SETTINGS)]
    assert shown[:2] == [
        f"  workspace = {home / 'ws'} (SPINEVIEWER_WORKSPACE)",
        f"  provider = cpu ({path}, line 1)",
    ]
    assert f"  model_dir = {home / '.local/share/spineviewer/models'} (default)" in shown
    assert "  pacs_password = not set (default)" in shown
    assert "spineviewer: " not in done.stderr  # a good file: no warning


def test_the_command_line_runs_on_a_bad_file_and_says_where(home: Path) -> None:
    path = write_config(home, "provider = [\n")
    done = doctor("--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (problem,) = report["config"]["problems"]
    assert problem.startswith(f"{path}, line 1: not valid TOML")
    assert report["config"]["settings"][1] == {
        **report["config"]["settings"][1],
        "name": "provider",
        "value": "auto",
        "source": "default",
    }
    assert report["workspace"]["from"] == "SPINEVIEWER_WORKSPACE"
    assert f"spineviewer: {path}, line 1: not valid TOML" in done.stderr
    assert "Traceback" not in done.stderr


# -- old locations -----------------------------------------------------------------------------


@pytest.fixture
def mac(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """platformdirs as on macOS (its real rules; the folders differ from the old Linux ones)."""
    monkeypatch.setattr(config, "platform_dirs", lambda: MacOS("spineviewer", appauthor=False))
    return home / "Library" / "Application Support" / "spineviewer"


def test_new_places_where_nothing_was_kept_before(mac: Path, home: Path) -> None:
    assert default_root() == mac / "workspace"
    assert user_model_dir() == mac / "models"
    assert config_path() == mac / "pacs.json"
    assert config.load().file == mac / "config.toml"


def test_the_old_linux_places_are_still_read_when_they_exist(mac: Path, home: Path) -> None:
    old_workspace = home / ".local/share/spineviewer/workspace"
    old_models = home / ".local/share/spineviewer/models"
    old_nodes = home / ".config/spineviewer/pacs.json"
    for folder in (old_workspace, old_models):
        folder.mkdir(parents=True)
    old_nodes.parent.mkdir(parents=True)
    old_nodes.write_text('{"nodes": []}', "utf-8")
    assert default_root() == old_workspace
    assert user_model_dir() == old_models
    assert config_path() == old_nodes
    assert config.default_path("pacs_config") == old_nodes
    # something at the new place wins: the old one is only for not losing data
    (mac / "workspace").mkdir(parents=True)
    assert default_root() == mac / "workspace"
    assert user_model_dir() == old_models


def test_on_linux_the_old_and_new_places_are_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("platformdirs' Linux folders")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))
    assert config.user_path("data", "models") == config.old_user_path("data", "models")
    assert user_model_dir() == home / "xdg/spineviewer/models"


# -- nobody reads the environment behind the config's back -------------------------------------

#: Variables code outside spineviewer/config.py and gui/ may still read: Qt's own.
QT_VARIABLES = {"QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"}


def _environment_reads(path: Path) -> list[str]:
    """``os.environ.get(X)``, ``os.environ[X]``, ``os.getenv(X)``, ``environ.setdefault(X)``:
    the names read in ``path`` (``?`` for a name that is not a string literal)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            target = node.func
            on_environ = isinstance(target.value, ast.Attribute | ast.Name) and (
                getattr(target.value, "attr", None) == "environ"
                or getattr(target.value, "id", None) == "environ"
            )
            if (on_environ and target.attr in ("get", "setdefault")) or target.attr == "getenv":
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and getattr(node.value, "attr", None) == "environ":
            key = node.slice
        if key is not None:
            literal = isinstance(key, ast.Constant) and isinstance(key.value, str)
            found.append(key.value if literal else "?")  # type: ignore[union-attr]
    return found


def test_settings_are_read_only_through_the_config() -> None:
    package = ROOT / "spineviewer"
    offenders = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] == "gui" or relative.as_posix() == "config.py":
            continue
        names = [n for n in _environ_reads_or_empty(path) if n not in QT_VARIABLES]
        if names:
            offenders[relative.as_posix()] = names
    assert offenders == {}, "read these through spineviewer.config: " + repr(offenders)


def _environ_reads_or_empty(path: Path) -> list[str]:
    return _environment_reads(path) if "environ" in path.read_text("utf-8") else []


def test_the_environment_scan_sees_reads(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom os import environ\n"
        "a = os.environ.get('SPINEVIEWER_X')\nb = os.environ['HOME']\n"
        "c = os.getenv(NAME)\nd = environ.get('DISPLAY')\n",
        "utf-8",
    )
    assert sorted(_environment_reads(module)) == ["?", "DISPLAY", "HOME", "SPINEVIEWER_X"]
