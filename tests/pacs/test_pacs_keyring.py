"""PACS node secrets in the system keyring (issue 20, defect 7): ``pacs.json`` holds no password
when a keyring backend works (``"password_in": "keyring"``), falls back to the 0600 file when
none does (keyring's fail / null backends, a backend that raises), reads and migrates old files
with clear passwords, deletes the entry of a node removed or renamed, and ``pacs nodes`` says
where each secret is kept. Every test sets its own backend (a real file keyring from
keyrings.alt under tmp_path, or keyring's fail backend): none touches the machine's keyring."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.compat import properties
from keyring.errors import KeyringLocked, PasswordSetError
from keyrings.alt.file import PlaintextKeyring

from spineviewer.cli import main
from spineviewer.pacs import (
    DicomWebNode,
    DimseNode,
    PacsConfig,
    PacsError,
    load_config,
    save_config,
)
from spineviewer.pacs.nodes import password_places

SECRET = "s3cret-Pa55"
TOKEN = "tok-9f8e7d"
URL = "https://pacs.example.org/dicom-web"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def no_system_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """keyring's fail backend unless a test sets another; the configuration under tmp_path
    (the default location, through XDG_CONFIG_HOME); the previous backend back afterwards."""
    before = keyring.get_keyring()
    monkeypatch.delenv("SPINEVIEWER_PACS_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    keyring.set_keyring(fail.Keyring())
    try:
        yield tmp_path / "config" / "spineviewer" / "pacs.json"
    finally:
        keyring.set_keyring(before)


@pytest.fixture
def config_file(no_system_keyring: Path) -> Path:
    return no_system_keyring


@pytest.fixture
def file_keyring(tmp_path: Path) -> PlaintextKeyring:
    """A real keyring backend (keyrings.alt's file one) whose file is under tmp_path."""
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    return backend


def _config() -> PacsConfig:
    return (
        PacsConfig()
        .with_node(DimseNode("main", "PACS", "pacs.example.org", 104))
        .with_node(DicomWebNode("web", URL, "basic", "reader", SECRET))
        .with_node(DicomWebNode("cloud", URL, "bearer", token=TOKEN))
    )


def _entries(path: Path) -> dict[str, dict]:
    return {n["name"]: n for n in json.loads(path.read_text())["nodes"]}


def test_saved_secrets_are_in_the_keyring_not_in_the_file(
    config_file: Path, file_keyring: PlaintextKeyring
) -> None:
    config = _config()
    assert save_config(config) == config_file
    text = config_file.read_text()
    assert SECRET not in text and TOKEN not in text
    entries = _entries(config_file)
    assert entries["web"]["password_in"] == "keyring" and "password" not in entries["web"]
    assert entries["cloud"]["token_in"] == "keyring" and "token" not in entries["cloud"]
    assert entries["web"]["username"] == "reader"  # only the secret moves
    assert "password_in" not in entries["main"]
    # the default configuration: service spineviewer-pacs, user name the node's name
    assert file_keyring.get_password("spineviewer-pacs", "web") == SECRET
    assert file_keyring.get_password("spineviewer-pacs-token", "cloud") == TOKEN
    assert load_config() == config
    assert load_config().node("web").password == SECRET
    assert load_config().node("cloud").token == TOKEN
    assert password_places() == {"web": {"password": "keyring"}, "cloud": {"token": "keyring"}}
    assert _mode(config_file) == 0o600


def test_another_configuration_file_has_its_own_keyring_entries(
    tmp_path: Path, config_file: Path, file_keyring: PlaintextKeyring
) -> None:
    other = tmp_path / "elsewhere" / "pacs.json"
    save_config(_config())
    save_config(PacsConfig().with_node(DicomWebNode("web", URL, "basic", "u", "other")), other)
    service = f"spineviewer-pacs {other.resolve()}"
    assert file_keyring.get_password(service, "web") == "other"
    assert load_config(other).node("web").password == "other"
    assert load_config().node("web").password == SECRET  # the default file's is untouched
    save_config(PacsConfig(), other)  # its node removed: only its own entry goes
    assert file_keyring.get_password(service, "web") is None
    assert file_keyring.get_password("spineviewer-pacs", "web") == SECRET


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring], ids=["fail", "null"])
def test_no_keyring_backend_keeps_the_secrets_in_the_private_file(
    config_file: Path, backend: type[KeyringBackend], capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(backend())  # null would silently drop them: it counts as none
    old = os.umask(0o022)  # the usual default: new files 0644
    try:
        save_config(_config())
    finally:
        os.umask(old)
    assert _mode(config_file) == 0o600
    entries = _entries(config_file)
    assert entries["web"]["password"] == SECRET
    assert entries["web"]["password_in"] == "file (no keyring backend)"
    assert entries["cloud"]["token"] == TOKEN
    assert load_config() == _config()
    assert password_places()["web"] == {"password": "file (no keyring backend)"}
    assert main(["pacs", "nodes"]) == 0
    out = capsys.readouterr().out
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    assert lines["web"].endswith("[password: file (no keyring backend)]")
    assert lines["cloud"].endswith("[token: file (no keyring backend)]")
    assert lines["main"].endswith("[password: none]")
    assert SECRET not in out and TOKEN not in out


class _Refusing(KeyringBackend):
    """A keyring that is there but refuses: locked for reading, errors on writing. Never
    chosen by keyring itself (a backend whose priority raises is not viable): only set here."""

    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 (a class property)
        raise RuntimeError("only for the test that sets it")

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("cannot store")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the collection is locked")


def test_a_keyring_that_fails_falls_back_to_the_file_and_says_why(
    config_file: Path, file_keyring: PlaintextKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="spineviewer.pacs")
    save_config(_config())  # in the file keyring
    keyring.set_keyring(_Refusing())
    loaded = load_config()  # unreadable: no crash, no password, said in the places
    assert loaded.node("web").password == "" and loaded.node("web").username == "reader"
    assert password_places()["web"] == {"password": "keyring (unreadable: KeyringLocked)"}
    save_config(_config())  # a set that raises: the file keeps it
    entries = _entries(config_file)
    assert entries["web"]["password"] == SECRET
    assert entries["web"]["password_in"] == "file (keyring failed: PasswordSetError)"
    assert password_places()["web"] == {"password": "file (keyring failed: PasswordSetError)"}
    assert load_config() == _config()
    assert "KeyringLocked" in caplog.text and "PasswordSetError" in caplog.text
    assert SECRET not in caplog.text and TOKEN not in caplog.text
    # the keyring works again: the next save moves the secrets there
    keyring.set_keyring(file_keyring)
    save_config(load_config())
    assert SECRET not in config_file.read_text()
    assert file_keyring.get_password("spineviewer-pacs", "web") == SECRET


def test_an_old_file_with_clear_passwords_is_read_and_migrated(
    config_file: Path, file_keyring: PlaintextKeyring
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(json.dumps(_config().to_json()))  # as older versions wrote it
    config_file.chmod(0o644)
    assert SECRET in config_file.read_text() and "password_in" not in config_file.read_text()
    loaded = load_config()
    assert loaded == _config() and loaded.node("web").password == SECRET
    assert _mode(config_file) == 0o600
    moved = "file (moved to the keyring on the next save)"
    assert password_places() == {"web": {"password": moved}, "cloud": {"token": moved}}
    assert file_keyring.get_password("spineviewer-pacs", "web") is None  # reading moves nothing
    save_config(loaded)
    assert SECRET not in config_file.read_text() and TOKEN not in config_file.read_text()
    assert file_keyring.get_password("spineviewer-pacs", "web") == SECRET
    assert file_keyring.get_password("spineviewer-pacs-token", "cloud") == TOKEN
    assert load_config() == _config()


def test_removing_renaming_or_clearing_a_node_deletes_its_keyring_entry(
    config_file: Path, file_keyring: PlaintextKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    def stored(service: str, name: str) -> str | None:
        return file_keyring.get_password(service, name)

    save_config(_config())
    web = _config().node("web")
    save_config(_config().without("web").with_node(replace(web, name="reader-web")))  # renamed
    assert stored("spineviewer-pacs", "web") is None
    assert stored("spineviewer-pacs", "reader-web") == SECRET
    assert load_config().node("reader-web").password == SECRET
    cleared = replace(_config().node("cloud"), auth="none", token="")
    save_config(load_config().with_node(cleared))  # the token cleared
    assert stored("spineviewer-pacs-token", "cloud") is None
    assert main(["pacs", "nodes", "--remove", "reader-web"]) == 0  # through the CLI
    assert stored("spineviewer-pacs", "reader-web") is None
    assert [n.name for n in load_config().nodes] == ["main", "cloud"]
    assert SECRET not in capsys.readouterr().err


def test_no_secret_in_repr_or_messages(config_file: Path) -> None:
    config = _config()
    assert SECRET not in repr(config) and TOKEN not in repr(config)
    with pytest.raises(PacsError) as raised:
        DicomWebNode("web", "ftp://pacs", "basic", "reader", SECRET)
    assert SECRET not in str(raised.value)
    config_file.parent.mkdir(parents=True)
    data = _config().to_json()
    data["nodes"][1]["auth"] = "digest"  # a file a newer or broken version wrote
    config_file.write_text(json.dumps(data))
    with pytest.raises(PacsError) as raised:
        load_config()
    assert SECRET not in str(raised.value) and TOKEN not in str(raised.value)


def _cli(
    tmp_path: Path, backend: str, *args: str, password: str = ""
) -> subprocess.CompletedProcess[str]:
    """``spineviewer pacs nodes ...`` in its own process, with ``backend`` as keyring's."""
    env = {
        **os.environ,
        "SPINEVIEWER_PACS_CONFIG": str(tmp_path / "cli" / "pacs.json"),
        "PYTHON_KEYRING_BACKEND": backend,
        "XDG_DATA_HOME": str(tmp_path / "data"),  # where keyrings.alt keeps its file
        "SPINEVIEWER_PACS_PASSWORD": password,
        "SPINEVIEWER_PACS_TOKEN": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "spineviewer", "pacs", "nodes", *args],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("backend", "place"),
    [
        ("keyrings.alt.file.PlaintextKeyring", "keyring"),
        ("keyring.backends.fail.Keyring", "file (no keyring backend)"),
    ],
)
def test_cli_nodes_says_where_each_password_is_kept(
    tmp_path: Path, backend: str, place: str
) -> None:
    _cli(tmp_path, backend, "--add", "web", "--url", URL, "--user", "reader", password=SECRET)
    _cli(tmp_path, backend, "--add", "main", "--aet", "PACS", "--host", "pacs", "--port", "104")
    _cli(tmp_path, backend, "--add", "anonymous", "--url", URL)
    saved = (tmp_path / "cli" / "pacs.json").read_text()
    assert (SECRET in saved) is (place != "keyring")
    assert _mode(tmp_path / "cli" / "pacs.json") == 0o600
    listing = _cli(tmp_path, backend)
    assert SECRET not in listing.stdout + listing.stderr
    lines = {line.split(":")[0]: line for line in listing.stdout.splitlines()}
    assert lines["web"] == f"web: DICOMweb web ({URL}) [TLS verified] [password: {place}]"
    assert lines["main"].endswith("[password: none]")
    assert lines["anonymous"].endswith("[TLS verified] [password: none]")
    listed = json.loads(_cli(tmp_path, backend, "--json").stdout)
    nodes = {n["name"]: n for n in listed["nodes"]}
    assert nodes["web"]["password_in"] == place and "password" not in nodes["web"]
    assert nodes["main"]["password_in"] == "none"
    assert SECRET not in json.dumps(listed)
    # the keyring the child processes used: its entry for web, gone with the node
    kept = PlaintextKeyring()
    kept.file_path = str(tmp_path / "data" / "python_keyring" / "keyring_pass.cfg")
    service = f"spineviewer-pacs {(tmp_path / 'cli' / 'pacs.json').resolve()}"
    assert kept.get_password(service, "web") == (SECRET if place == "keyring" else None)
    _cli(tmp_path, backend, "--remove", "web")
    assert kept.get_password(service, "web") is None


def test_a_secret_unread_at_load_survives_a_save_once_the_keyring_works(
    config_file: Path, file_keyring: PlaintextKeyring
) -> None:
    """The keyring is locked when the viewer reads the file, unlocked when it saves (a node
    added): the node it could not read keeps its keyring entry, it was never cleared."""
    save_config(_config())
    keyring.set_keyring(_Refusing())
    loaded = load_config()
    assert loaded.node("web").password == "" and ("web", "password") in loaded.unread
    keyring.set_keyring(file_keyring)
    save_config(loaded.with_node(DimseNode("other", "OTHER", "other.example.org", 104)))
    assert file_keyring.get_password("spineviewer-pacs", "web") == SECRET
    assert _entries(config_file)["web"]["password_in"] == "keyring"
    assert load_config().node("web").password == SECRET
    # a node whose secret was read and then cleared loses its entry, as before
    read = load_config()
    cleared = read.with_node(replace(read.node("web"), password=""))
    save_config(cleared)
    assert file_keyring.get_password("spineviewer-pacs", "web") is None
