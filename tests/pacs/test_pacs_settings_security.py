"""PACS settings (issue 20, item 7): ``pacs.json`` (passwords in clear) is written 0600 whatever
a crash left; the node's TLS choice (verification off, its own CA bundle) wins over
``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, against a real local HTTPS DICOMweb stub with a
self-signed certificate; ``pacs nodes`` says which nodes do not verify."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from spineviewer.cli import main
from spineviewer.pacs import DicomWebNode, PacsConfig, PacsError, echo, load_config, save_config

CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: new files 0644
    try:
        yield
    finally:
        os.umask(old)


def _config() -> PacsConfig:
    node = DicomWebNode("web", "https://pacs.example.org/dicom-web", "basic", "u", "s3cret")
    return PacsConfig().with_node(node)


def test_a_leftover_partial_file_never_makes_the_settings_readable(
    tmp_path: Path, open_umask: None
) -> None:
    target = tmp_path / "pacs.json"
    leftover = tmp_path / ".pacs.json.partial"  # what a crash of an older version left
    leftover.write_text("{}")
    leftover.chmod(0o644)
    assert save_config(_config(), target) == target
    assert _mode(target) == 0o600
    assert load_config(target).node("web").password == "s3cret"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pacs.json"]  # no temporary left


def test_settings_others_can_read_are_tightened(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "pacs.json"
    target.write_text(json.dumps(_config().to_json()))
    target.chmod(0o644)  # as an older version or a copy left it
    assert load_config(target).node("web").username == "u"
    assert _mode(target) == 0o600


# -- TLS against a real HTTPS server ------------------------------------------------------------


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA): (certificate, key)."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class _Qido(BaseHTTPRequestHandler):
    """QIDO-RS that finds nothing (enough for a connection test)."""

    def do_GET(self) -> None:
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(DICOMweb URL, the server's certificate, another CA's certificate)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the HTTPS test server")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = _certificate(folder, "spineviewer-test-server")
    other, _ = _certificate(folder, "some-other-ca")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Qido)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/dicom-web", cert, other
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_ca_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
@pytest.mark.parametrize("variable", CA_VARIABLES)
def test_verification_off_wins_over_the_environment(
    https_server, no_ca_environment: pytest.MonkeyPatch, variable: str
) -> None:
    url, _, other = https_server
    no_ca_environment.setenv(variable, str(other))  # a bundle that does not trust the server
    echo(DicomWebNode("test", url, verify_tls=False, timeout_s=5))


def test_the_nodes_ca_bundle_wins_over_the_environment(
    https_server, no_ca_environment: pytest.MonkeyPatch
) -> None:
    url, cert, other = https_server
    no_ca_environment.setenv("REQUESTS_CA_BUNDLE", str(other))
    echo(DicomWebNode("test", url, timeout_s=5, ca_bundle=str(cert)))
    started = time.monotonic()
    with pytest.raises(PacsError, match="not trusted"):  # verification is really on
        echo(DicomWebNode("test", url, timeout_s=5))
    # said at once: not after dicomweb-client's five tries and 30 s of back-off
    assert time.monotonic() - started < 10
    # a node that names no bundle still takes the environment's, as requests does
    no_ca_environment.setenv("REQUESTS_CA_BUNDLE", str(cert))
    echo(DicomWebNode("test", url, timeout_s=5))


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
def test_cli_no_verify_tls_and_nodes_listing(
    https_server, no_ca_environment: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    url, cert, other = https_server
    no_ca_environment.setenv("SPINEVIEWER_PACS_CONFIG", str(tmp_path / "pacs.json"))
    no_ca_environment.setenv("CURL_CA_BUNDLE", str(other))
    assert main(["pacs", "echo", "--url", url, "--no-verify-tls", "--timeout", "5"]) == 0
    assert main(["pacs", "echo", "--url", url, "--timeout", "5"]) == 1
    assert "not trusted" in capsys.readouterr().err
    assert main(["pacs", "nodes", "--add", "test-server", "--url", url, "--no-verify-tls"]) == 0
    assert main(["pacs", "nodes", "--add", "own-ca", "--url", url, "--ca-bundle", str(cert)]) == 0
    assert main(["pacs", "nodes", "--add", "plain", "--url", "https://pacs.example.org"]) == 0
    assert main(["pacs", "echo", "--node", "own-ca", "--timeout", "5"]) == 0
    assert main(["pacs", "echo", "--node", "test-server", "--timeout", "5"]) == 0
    capsys.readouterr()
    assert main(["pacs", "nodes"]) == 0
    lines = {line.split(":")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "TLS verification OFF" in lines["test-server"]
    assert f"TLS verified with {cert}" in lines["own-ca"]
    assert "[TLS verified]" in lines["plain"]
    assert main(["pacs", "nodes", "--json"]) == 0
    nodes = {n["name"]: n for n in json.loads(capsys.readouterr().out)["nodes"]}
    assert nodes["test-server"]["verify_tls"] is False
    assert nodes["test-server"]["tls"] == "TLS verification OFF"
    assert nodes["own-ca"]["ca_bundle"] == str(cert)
    assert _mode(tmp_path / "pacs.json") == 0o600
