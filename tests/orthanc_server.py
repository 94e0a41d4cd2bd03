"""A real Orthanc on 127.0.0.1 for the PACS tests: its configuration in a temporary folder,
free ports, our AE registered, the DICOMweb plugin, HTTP basic authentication; started as a
subprocess and stopped by its PID."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AE_TITLE = "ORTHANC"
USER, PASSWORD = "reader", "s3cret-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    return Path(ORTHANC).exists() and DICOMWEB_PLUGIN.exists()


@dataclass
class OrthancServer:
    """One running Orthanc; ``our_ae`` / ``our_port`` is registered as a modality (C-MOVE)."""

    folder: Path
    our_ae: str = "SPINEVIEWER"
    our_port: int = field(default_factory=free_port)
    dicom_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    def config(self) -> dict[str, object]:
        return {
            "Name": "spineviewer-test",
            "StorageDirectory": str(self.folder / "db"),
            "IndexDirectory": str(self.folder / "db"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": AE_TITLE,
            "DicomCheckCalledAet": True,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {USER: PASSWORD},
            "DicomModalities": {"spineviewer": [self.our_ae, "127.0.0.1", self.our_port]},
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "StudiesMetadata": "Full"},
            "StableAge": 1,
            "SaveJobs": False,
            "ConcurrentJobs": 2,
            "HttpTimeout": 30,
            "DicomScuTimeout": 10,
        }

    def start(self) -> OrthancServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "orthanc.json"
        config.write_text(json.dumps(self.config(), indent=2))
        log = (self.folder / "orthanc.log").open("wb")
        self.process = subprocess.Popen([ORTHANC, str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {(self.folder / 'orthanc.log').read_text()}")
            try:
                self.get("/system")
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise RuntimeError("Orthanc did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _request(self, method: str, path: str, data: bytes | None = None) -> bytes:
        request = urllib.request.Request(self.url + path, data=data, method=method)
        token = b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return bytes(response.read())

    def get(self, path: str) -> object:
        return json.loads(self._request("GET", path))

    def post_json(self, path: str, body: str) -> object:
        return json.loads(self._request("POST", path, body.encode()))

    def delete(self, path: str) -> None:
        self._request("DELETE", path)

    def upload(self, files: list[Path]) -> None:
        """Store files through Orthanc's REST API (independent of the code under test)."""
        for path in files:
            self._request("POST", "/instances", path.read_bytes())

    def delete_all(self) -> None:
        for study in self.get("/studies"):  # type: ignore[union-attr]
            self._request("DELETE", f"/studies/{study}")
